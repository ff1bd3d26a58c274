//! Genesis of each preset.

use crate::chain::{active_era, free, total_issuance, TestChain};
use dsync_primitives::currency::{DSYNC, GENESIS_TOTAL_ISSUANCE};
use dsync_runtime::{
	genesis_config_presets::{
		endowed_accounts, preset_names, DEVELOPMENT, DEV_ACCOUNT_ENDOWMENT, LOCAL_TESTNET,
		NOMINATOR_BOND, REVENUE_ACCOUNT_ENDOWMENT, STABLE_ENDOWMENT, TREASURY_ENDOWMENT,
		VALIDATOR_BOND,
	},
	Runtime, Session, System,
};
use frame_support::traits::fungible::Inspect;
use sp_keyring::Sr25519Keyring::*;

#[test]
fn the_runtime_offers_both_presets_and_nothing_else() {
	let names: Vec<String> = preset_names()
		.into_iter()
		.map(|p| String::from_utf8(p.into()).unwrap())
		.collect();
	assert_eq!(names, vec![DEVELOPMENT.to_string(), LOCAL_TESTNET.to_string()]);
	assert!(dsync_runtime::genesis_config_presets::get_preset(&"mainnet".into()).is_none());
}

#[test]
fn development_genesis_builds_with_alice_validating() {
	let mut chain = TestChain::new(DEVELOPMENT);
	chain.execute(|| {
		assert_eq!(total_issuance(), GENESIS_TOTAL_ISSUANCE);
		assert_eq!(total_issuance(), 1_000_000_000 * DSYNC);
		for account in endowed_accounts() {
			assert_eq!(
				<pallet_balances::Pallet<Runtime> as Inspect<_>>::total_balance(&account),
				DEV_ACCOUNT_ENDOWMENT,
			);
		}
		// The rest of the supply: the treasury and the tokenomics revenue account.
		let treasury = dsync_runtime::constants::TreasuryAccount::get();
		assert_eq!(free(&treasury), TREASURY_ENDOWMENT);
		assert_eq!(
			free(&pallet_tokenomics::Pallet::<Runtime>::revenue_account()),
			REVENUE_ACCOUNT_ENDOWMENT
		);
		// The stable revenue asset exists, with Alice's and Bob's USDd.
		use frame_support::traits::fungibles::Inspect as _;
		let stable = dsync_runtime::constants::STABLE_ASSET_ID;
		assert!(dsync_runtime::Assets::asset_exists(stable));
		assert_eq!(dsync_runtime::Assets::balance(stable, Alice.to_account_id()), STABLE_ENDOWMENT);
		assert_eq!(dsync_runtime::Assets::balance(stable, Bob.to_account_id()), STABLE_ENDOWMENT);
		assert_eq!(Session::validators(), vec![Alice.to_account_id()]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Alice.to_account_id()));
		let ledger = pallet_staking::Ledger::<Runtime>::get(Alice.to_account_id()).unwrap();
		assert_eq!(ledger.active, VALIDATOR_BOND);
		assert_eq!(pallet_staking::Invulnerables::<Runtime>::get(), vec![Alice.to_account_id()]);
		assert_eq!(System::block_number(), 1);
		assert_eq!(active_era(), 0);
	});
	// Blocks keep coming.
	for _ in 0..5 {
		chain.next_block(vec![]);
	}
	chain.execute(|| assert_eq!(System::block_number(), 6));
}

#[test]
fn local_testnet_genesis_builds_with_four_validators_and_two_nominators() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	chain.execute(|| {
		assert_eq!(total_issuance(), GENESIS_TOTAL_ISSUANCE);
		let validators: Vec<_> =
			[Alice, Bob, Charlie, Dave].iter().map(|k| k.to_account_id()).collect();
		assert_eq!(Session::validators(), validators);
		assert_eq!(dsync_runtime::Babe::authorities().len(), 4);
		assert_eq!(dsync_runtime::Grandpa::grandpa_authorities().len(), 4);
		assert!(pallet_staking::Invulnerables::<Runtime>::get().is_empty());
		for nominator in [Eve, Ferdie] {
			let n = pallet_staking::Nominators::<Runtime>::get(nominator.to_account_id()).unwrap();
			assert_eq!(n.targets.into_inner(), validators);
			let ledger = pallet_staking::Ledger::<Runtime>::get(nominator.to_account_id()).unwrap();
			assert_eq!(ledger.active, NOMINATOR_BOND);
			// Bonded funds are held, not spendable.
			assert_eq!(free(&nominator.to_account_id()), DEV_ACCOUNT_ENDOWMENT - NOMINATOR_BOND);
		}
		// All stake is bonded in ledgers: four validators and two nominators.
		let bonded: u128 = pallet_staking::Ledger::<Runtime>::iter().map(|(_, l)| l.active).sum();
		assert_eq!(bonded, 4 * VALIDATOR_BOND + 2 * NOMINATOR_BOND);
		assert_eq!(pallet_staking::Validators::<Runtime>::count(), 4);
	});
}
