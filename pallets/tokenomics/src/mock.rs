//! A test runtime: `frame_system`, `pallet_balances` (the native currency), `pallet_assets`
//! (the stable asset), this pallet, and a constant-product pool behind [`BuybackPool`].

use crate::{
	self as pallet_tokenomics, BuybackParams, BuybackPool, ServiceRatesGenesis, SplitRates,
};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible, fungibles, tokens::Preservation, AsEnsureOriginWithArg, Hooks},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_runtime::{BuildStorage, DispatchError, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets,
		Tokenomics: pallet_tokenomics,
	}
);

/// The payer of most tests, and the owner of the stable asset.
pub const ALICE: u64 = 1;
/// A service provider.
pub const BOB: u64 = 2;
/// An account with little of anything.
pub const CHARLIE: u64 = 3;
/// An account that does not exist at genesis.
pub const DAVE: u64 = 4;
/// The block author.
pub const AUTHOR: u64 = 10;
/// The treasury account.
pub const TREASURY: u64 = 100;
/// The account holding the pool's reserves.
pub const POOL: u64 = 900;
/// The stable asset.
pub const STABLE: u32 = 1;
/// The existential deposit of the native currency.
pub const ED: u64 = 10;
/// Prices are stable base units per this much native.
pub const PRICE_UNIT: u64 = 1_000;
/// The pool's native reserve at genesis.
pub const POOL_NATIVE: u64 = 1_000_000_000;
/// The pool's stable reserve at genesis: the spot price is 10 stable per 1_000 native.
pub const POOL_STABLE: u64 = 10_000_000;
/// Alice's native balance at genesis.
pub const ALICE_NATIVE: u64 = 1_000_000_000_000;
/// Alice's stable balance at genesis.
pub const ALICE_STABLE: u64 = 1_000_000_000;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

parameter_types! {
	pub const ExistentialDeposit: u64 = ED;
}

/// The hold reason of the test runtime: a service's escrow, as GPU jobs hold it in the real
/// runtime, for [`ServicePayment::charge_held`](crate::ServicePayment::charge_held).
#[derive(
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum TestHold {
	/// A client's escrow.
	Escrow,
}

impl frame_support::traits::VariantCount for TestHold {
	const VARIANT_COUNT: u32 = 1;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type RuntimeHoldReason = TestHold;
}

#[derive_impl(pallet_assets::config_preludes::TestDefaultConfig)]
impl pallet_assets::Config for Test {
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<u64>>;
	type ForceOrigin = EnsureRoot<u64>;
	type Freezer = ();
	type Holder = ();
}

parameter_types! {
	pub const StableAssetId: u32 = STABLE;
	pub const TokenomicsPalletId: PalletId = PalletId(*b"dsy/tkno");
	pub const TreasuryAccountId: u64 = TREASURY;
	pub const MaxTolerance: Perbill = Perbill::from_percent(5);
	pub const PriceUnitAmount: u64 = PRICE_UNIT;
	/// The author of the current block; tests set `None` to see fees without an author.
	pub static BlockAuthorAccount: Option<u64> = Some(AUTHOR);
	/// Whether the pool exists.
	pub static PoolExists: bool = true;
	/// Whether every swap fails.
	pub static PoolFails: bool = false;
}

/// A constant-product pool without fee whose reserves are `POOL`'s native balance and stable
/// balance.
pub struct MockPool;

impl BuybackPool<u64, u64> for MockPool {
	fn reserves() -> Option<(u64, u64)> {
		if !PoolExists::get() {
			return None;
		}
		Some((
			<Balances as fungible::Inspect<u64>>::balance(&POOL),
			<Assets as fungibles::Inspect<u64>>::balance(STABLE, &POOL),
		))
	}

	fn swap_stable_for_native(
		who: &u64,
		stable_in: u64,
		min_native_out: u64,
	) -> Result<u64, DispatchError> {
		if PoolFails::get() {
			return Err(DispatchError::Other("mock pool failure"));
		}
		let (native, stable) = Self::reserves().ok_or(DispatchError::Other("no pool"))?;
		let out = quote(native, stable, stable_in);
		if out == 0 || out < min_native_out {
			return Err(DispatchError::Other("mock pool slippage"));
		}
		<Assets as fungibles::Mutate<u64>>::transfer(
			STABLE,
			who,
			&POOL,
			stable_in,
			Preservation::Expendable,
		)?;
		<Balances as fungible::Mutate<u64>>::transfer(&POOL, who, out, Preservation::Preserve)?;
		Ok(out)
	}
}

/// The native output of the mock pool for `stable_in` at reserves `native`, `stable`.
pub fn quote(native: u64, stable: u64, stable_in: u64) -> u64 {
	let out =
		u128::from(native) * u128::from(stable_in) / (u128::from(stable) + u128::from(stable_in));
	out as u64
}

/// Set the pool's reserves (minting or burning as needed, which changes the total issuance).
pub fn set_pool(native: u64, stable: u64) {
	<Balances as fungible::Mutate<u64>>::set_balance(&POOL, native);
	<Assets as fungibles::Mutate<u64>>::set_balance(STABLE, &POOL, stable);
}

/// Sets up the stable asset and the pool for the benchmarks run as tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64, u64> for MockBenchmarkHelper {
	fn create_stable() {
		if !<Assets as fungibles::Inspect<u64>>::asset_exists(STABLE) {
			<Assets as fungibles::Create<u64>>::create(STABLE, ALICE, true, 1)
				.expect("the stable asset does not exist yet; qed");
		}
	}

	fn fund_stable(who: &u64, amount: u64) {
		<Assets as fungibles::Mutate<u64>>::mint_into(STABLE, who, amount)
			.expect("minting a sufficient asset to any account works; qed");
	}

	fn setup_pool(native: u64, stable: u64) {
		set_pool(native, stable);
	}
}

impl pallet_tokenomics::Config for Test {
	type Balance = u64;
	type Currency = Balances;
	type Assets = Assets;
	type StableAsset = StableAssetId;
	type PalletId = TokenomicsPalletId;
	type TreasuryAccount = TreasuryAccountId;
	type BlockAuthor = BlockAuthorAccount;
	type Pool = MockPool;
	type AdminOrigin = EnsureRoot<u64>;
	type MaxOracleTolerance = MaxTolerance;
	type PriceUnit = PriceUnitAmount;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// The service rates of the default test genesis.
pub fn default_service_rates() -> ServiceRatesGenesis {
	ServiceRatesGenesis {
		gpu_inference: SplitRates::new(Perbill::from_percent(20), Perbill::from_percent(10)),
		naming: SplitRates::new(Perbill::from_percent(50), Perbill::zero()),
		storage: SplitRates::new(Perbill::from_percent(10), Perbill::from_percent(20)),
		other: SplitRates::default(),
	}
}

/// The fee split of the default test genesis: 50 % burned, 20 % treasury, 30 % author.
pub fn default_fee_split() -> SplitRates {
	SplitRates::new(Perbill::from_percent(50), Perbill::from_percent(20))
}

/// The buyback parameters of the default test genesis: enabled, 10 % of revenue, 10_000 stable
/// per block, every block, 2 % tolerance, 10 % smoothing, minimum reserves a tenth of the
/// genesis pool's.
pub fn default_buyback() -> BuybackParams<u64> {
	BuybackParams {
		enabled: true,
		revenue_share: Perbill::from_percent(10),
		max_spend_per_block: 10_000,
		min_interval: 1,
		oracle_tolerance: Perbill::from_percent(2),
		oracle_smoothing: Perbill::from_percent(10),
		min_native_reserve: POOL_NATIVE / 10,
		min_stable_reserve: POOL_STABLE / 10,
	}
}

/// Builds the test externalities.
pub struct ExtBuilder {
	service_rates: ServiceRatesGenesis,
	fee_split: SplitRates,
	buyback: BuybackParams<u64>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			service_rates: default_service_rates(),
			fee_split: default_fee_split(),
			buyback: default_buyback(),
		}
	}
}

impl ExtBuilder {
	/// Use these service rates.
	pub fn service_rates(mut self, service_rates: ServiceRatesGenesis) -> Self {
		self.service_rates = service_rates;
		self
	}

	/// Use this fee split.
	pub fn fee_split(mut self, fee_split: SplitRates) -> Self {
		self.fee_split = fee_split;
		self
	}

	/// Use these buyback parameters.
	pub fn buyback(mut self, buyback: BuybackParams<u64>) -> Self {
		self.buyback = buyback;
		self
	}

	/// The externalities at block 1, after `on_initialize` (so the oracle holds the genesis
	/// pool's spot price).
	pub fn build(self) -> sp_io::TestExternalities {
		BlockAuthorAccount::set(Some(AUTHOR));
		PoolExists::set(true);
		PoolFails::set(false);

		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, ALICE_NATIVE),
				(BOB, 1_000),
				(CHARLIE, 100),
				(AUTHOR, 1_000),
				(TREASURY, 1_000),
				(POOL, POOL_NATIVE),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_assets::GenesisConfig::<Test> {
			assets: vec![(STABLE, ALICE, true, 1)],
			accounts: vec![
				(STABLE, ALICE, ALICE_STABLE),
				(STABLE, POOL, POOL_STABLE),
				(STABLE, CHARLIE, 5),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_tokenomics::GenesisConfig::<Test> {
			service_rates: self.service_rates,
			fee_split: self.fee_split,
			buyback: self.buyback,
		}
		.assimilate_storage(&mut storage)
		.unwrap();

		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			Tokenomics::on_initialize(1);
		});
		ext
	}

	/// Build, run `test`, then check the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Tokenomics::do_try_state().expect("the invariants hold after every test");
		});
	}
}

/// The externalities the benchmarks run in as tests.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}

/// End the current block (`on_idle` with unlimited weight) and start the next one
/// (`on_initialize`).
pub fn next_block() {
	let now = System::block_number();
	Tokenomics::on_idle(now, Weight::MAX);
	let next = now + 1;
	System::set_block_number(next);
	Tokenomics::on_initialize(next);
}

/// Run blocks until block `n` has started.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		next_block();
	}
}

/// The events of this pallet so far, oldest first.
pub fn tokenomics_events() -> Vec<pallet_tokenomics::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Tokenomics(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The last event of this pallet.
pub fn last_event() -> pallet_tokenomics::Event<Test> {
	tokenomics_events()
		.pop()
		.expect("an event of the tokenomics pallet was emitted")
}

/// The total issuance of the native currency.
pub fn issuance() -> u64 {
	<Balances as fungible::Inspect<u64>>::total_issuance()
}

/// The native balance of `who`.
pub fn native(who: u64) -> u64 {
	<Balances as fungible::Inspect<u64>>::balance(&who)
}

/// What `who` holds in escrow.
pub fn escrowed(who: u64) -> u64 {
	<Balances as fungible::InspectHold<u64>>::balance_on_hold(&TestHold::Escrow, &who)
}

/// The stable balance of `who`.
pub fn stable(who: u64) -> u64 {
	<Assets as fungibles::Inspect<u64>>::balance(STABLE, &who)
}
