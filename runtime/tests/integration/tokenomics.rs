//! Tokenomics across pallets: fee burns through transaction payment, and buybacks through the
//! real DSYNC/USDd pool of `pallet-asset-conversion`.

use crate::chain::{fee_paid, free, signed, total_issuance, TestChain};
use dsync_primitives::currency::DSYNC;
use dsync_runtime::{
	constants::{TreasuryAccount, STABLE_ASSET_ID, USDD},
	genesis_config_presets::LOCAL_TESTNET,
	BalancesCall, Runtime, RuntimeCall, RuntimeEvent,
};
use frame_support::traits::fungible::NativeOrWithId;
use pallet_tokenomics::{
	BuybackBudget, BuybackTotals, Event as TokenomicsEvent, FeeSplit, SkipReason,
};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::MultiAddress;

type AssetKind = NativeOrWithId<u32>;
const STABLE: AssetKind = NativeOrWithId::WithId(STABLE_ASSET_ID);

/// DSYNC and USDd Alice puts in the pool: 1 USDd per DSYNC.
const POOL_NATIVE: u128 = 1_000_000 * DSYNC;
const POOL_STABLE: u128 = 1_000_000 * USDD;

fn stable_of(who: &dsync_primitives::AccountId) -> u128 {
	dsync_runtime::Assets::balance(STABLE_ASSET_ID, who)
}

fn tokenomics_events(chain: &mut TestChain) -> Vec<TokenomicsEvent<Runtime>> {
	chain
		.events()
		.into_iter()
		.filter_map(|e| match e {
			RuntimeEvent::Tokenomics(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Submit `call` from `who` in its own block and require success.
fn run(chain: &mut TestChain, who: Sr25519Keyring, call: RuntimeCall) {
	let xt = chain.execute(|| signed(who, call));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
}

/// Alice creates the DSYNC/USDd pool and funds it.
fn create_pool(chain: &mut TestChain) {
	run(
		chain,
		Alice,
		RuntimeCall::AssetConversion(pallet_asset_conversion::Call::create_pool {
			asset1: Box::new(NativeOrWithId::Native),
			asset2: Box::new(STABLE),
		}),
	);
	run(
		chain,
		Alice,
		RuntimeCall::AssetConversion(pallet_asset_conversion::Call::add_liquidity {
			asset1: Box::new(NativeOrWithId::Native),
			asset2: Box::new(STABLE),
			amount1_desired: POOL_NATIVE,
			amount2_desired: POOL_STABLE,
			amount1_min: POOL_NATIVE,
			amount2_min: POOL_STABLE,
			mint_to: Alice.to_account_id(),
		}),
	);
}

fn deposit_revenue(amount: u128) -> RuntimeCall {
	RuntimeCall::Tokenomics(pallet_tokenomics::Call::deposit_revenue { amount })
}

#[test]
fn a_transfer_fee_is_split_between_burn_treasury_and_author() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let treasury = TreasuryAccount::get();
	let (issuance_before, treasury_before, split) =
		chain.execute(|| (total_issuance(), free(&treasury), FeeSplit::<Runtime>::get()));
	assert!(!split.burn.is_zero(), "the genesis fee split burns a share");

	let transfer = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: MultiAddress::Id(Ferdie.to_account_id()),
		value: DSYNC,
	});
	run(&mut chain, Eve, transfer);
	let fee = fee_paid(&mut chain);
	let burned = split.burn.mul_floor(fee);
	let to_treasury = split.treasury.mul_floor(fee);

	chain.execute(|| {
		// Total issuance fell by exactly the burned share of the fee.
		assert_eq!(issuance_before - total_issuance(), burned);
		assert_eq!(free(&treasury) - treasury_before, to_treasury);
		let totals = pallet_tokenomics::FeeTotals::<Runtime>::get();
		assert_eq!(totals.fees, fee);
		assert_eq!(totals.burned, burned);
		assert_eq!(totals.to_treasury, to_treasury);
		assert_eq!(totals.to_authors, fee - burned - to_treasury);
		// The runtime API reports the same totals.
		assert_eq!(pallet_tokenomics::Pallet::<Runtime>::totals().fees, totals);
	});
}

#[test]
fn revenue_buys_dsync_back_through_the_pool_and_burns_it() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	create_pool(&mut chain);
	// Let the oracle observe the pool for a few blocks.
	for _ in 0..3 {
		chain.next_block(vec![]);
	}

	let revenue = 100_000 * USDD;
	let (issuance_before, fee_burns_before) =
		chain.execute(|| (total_issuance(), pallet_tokenomics::FeeTotals::<Runtime>::get().burned));
	run(&mut chain, Bob, deposit_revenue(revenue));
	let params = chain.execute(pallet_tokenomics::BuybackParameters::<Runtime>::get);
	let budget = params.revenue_share.mul_floor(revenue);

	// The first buyback may already run at the end of the deposit's own block.
	let count_executed = |chain: &mut TestChain| {
		tokenomics_events(chain)
			.iter()
			.filter(|e| matches!(e, TokenomicsEvent::BuybackExecuted { .. }))
			.count()
	};
	// Buybacks run at most every `min_interval` blocks, each spending at most the cap.
	let mut executed = count_executed(&mut chain);
	for _ in 0..(3 * params.min_interval) {
		chain.next_block(vec![]);
		executed += count_executed(&mut chain);
	}
	assert!(executed >= 2, "buybacks executed: {executed}");

	chain.execute(|| {
		let totals = BuybackTotals::<Runtime>::get();
		assert_eq!(totals.executed as usize, executed);
		assert_eq!(totals.budgeted, budget);
		assert!(totals.stable_spent <= executed as u128 * params.max_spend_per_block);
		assert_eq!(BuybackBudget::<Runtime>::get(), budget - totals.stable_spent);
		// About 1 DSYNC per USDd (minus the pool fee and price impact) was bought and burned.
		assert!(totals.native_bought > 0);
		assert_eq!(totals.native_burned, totals.native_bought);
		let per_usdd = totals.native_bought / (totals.stable_spent / USDD);
		assert!(per_usdd > 99 * DSYNC / 100 && per_usdd < DSYNC, "{per_usdd}");
		// Nothing else changed the supply but the burned share of the deposit's fee.
		let fee_burns = pallet_tokenomics::FeeTotals::<Runtime>::get().burned - fee_burns_before;
		assert_eq!(issuance_before - total_issuance(), totals.native_burned + fee_burns);
		// The pool received the stable the budget spent.
		let pool = pallet_asset_conversion::Pallet::<Runtime>::get_reserves(
			NativeOrWithId::Native,
			STABLE,
		)
		.expect("the pool exists");
		assert_eq!(pool.1, POOL_STABLE + totals.stable_spent);
		assert_eq!(pool.0, POOL_NATIVE - totals.native_bought);
	});
}

#[test]
fn a_buyback_right_after_a_large_swap_is_skipped() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	create_pool(&mut chain);
	for _ in 0..3 {
		chain.next_block(vec![]);
	}
	let (issuance_before, fee_burns_before) =
		chain.execute(|| (total_issuance(), pallet_tokenomics::FeeTotals::<Runtime>::get().burned));

	// In one block: revenue arrives, and Bob pumps the DSYNC price with a large swap (5 % of
	// the pool) just before the end of the block, where the buyback would run.
	let (deposit, pump) = chain.execute(|| {
		let deposit = signed(Bob, deposit_revenue(100_000 * USDD));
		let pump = crate::chain::signed_with(
			Bob,
			RuntimeCall::AssetConversion(
				pallet_asset_conversion::Call::swap_exact_tokens_for_tokens {
					path: vec![Box::new(STABLE), Box::new(NativeOrWithId::Native)],
					amount_in: 50_000 * USDD,
					amount_out_min: 1,
					send_to: Bob.to_account_id(),
					keep_alive: true,
				},
			),
			1,
			0,
		);
		(deposit, pump)
	});
	assert_eq!(chain.next_block(vec![deposit, pump]), vec![Ok(Ok(())), Ok(Ok(()))]);

	let events = tokenomics_events(&mut chain);
	assert!(
		events.iter().any(|e| matches!(
			e,
			TokenomicsEvent::BuybackSkipped { reason: SkipReason::PriceDeviation { .. } }
		)),
		"{events:?}"
	);
	assert!(!events.iter().any(|e| matches!(e, TokenomicsEvent::BuybackExecuted { .. })));
	chain.execute(|| {
		let totals = BuybackTotals::<Runtime>::get();
		assert_eq!(totals.executed, 0);
		assert_eq!(totals.stable_spent, 0);
		assert_eq!(BuybackBudget::<Runtime>::get(), 10_000 * USDD);
		// Only fee burns touched the supply; nothing was bought back.
		let fee_burns = pallet_tokenomics::FeeTotals::<Runtime>::get().burned;
		assert_eq!(issuance_before - total_issuance(), fee_burns - fee_burns_before);
		assert!(
			stable_of(&pallet_tokenomics::Pallet::<Runtime>::revenue_account()) >= 10_000 * USDD
		);
	});
}
