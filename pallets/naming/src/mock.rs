//! The test runtime: `frame_system`, `pallet_balances` and the naming pallet, with a payment
//! that burns 10 % of what it charges and sends the rest to the treasury.

use crate::{self as pallet_naming, NameId, NamingParams};
use dsync_primitives::{
	naming::namehash,
	traits::{PaymentSplit, ServiceKind, ServicePayment},
};
use frame_support::{
	derive_impl, parameter_types,
	storage::with_storage_layer,
	traits::{
		fungible::{self, Inspect, InspectHold},
		tokens::{Fortitude, Precision, Preservation},
		ConstU32, Hooks,
	},
};
use frame_system::EnsureRoot;
use sp_runtime::{AccountId32, BuildStorage, DispatchError};

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids of the test runtime.
pub type AccountId = AccountId32;
/// Balances of the test runtime.
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Naming: pallet_naming,
	}
);

/// A user with plenty of funds.
pub const ALICE: AccountId = AccountId32::new([1; 32]);
/// A second user with plenty of funds.
pub const BOB: AccountId = AccountId32::new([2; 32]);
/// A third user with plenty of funds.
pub const CHARLIE: AccountId = AccountId32::new([3; 32]);
/// A user with little: [`POOR_BALANCE`].
pub const POOR: AccountId = AccountId32::new([4; 32]);
/// The treasury, which receives what is not burned.
pub const TREASURY: AccountId = AccountId32::new([100; 32]);
/// The existential deposit.
pub const ED: Balance = 5;
/// The genesis balance of the users.
pub const RICH: Balance = 1_000_000;
/// The genesis balance of [`POOR`].
pub const POOR_BALANCE: Balance = 150;
/// Blocks in a test year.
pub const YEAR: u64 = 100;
/// Blocks of the grace period.
pub const GRACE: u64 = 20;
/// Blocks over which the premium decays.
pub const PREMIUM_PERIOD: u64 = 10;
/// The premium at the end of the grace period.
pub const PREMIUM: Balance = 1_000;
/// Rent per year by label length 1, 2, 3, 4, 5+.
pub const RENTS: [Balance; 5] = [5_000, 2_000, 500, 200, 100];
/// The subname deposit.
pub const SUBNAME_DEPOSIT: Balance = 50;
/// The deposit per open commitment.
pub const COMMITMENT_DEPOSIT: Balance = 20;
/// The secret of the tests' commitments.
pub const SECRET: [u8; 32] = [7; 32];

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

parameter_types! {
	pub const ExistentialDeposit: Balance = ED;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Burns 10 % of every charge and sends the rest to [`TREASURY`], all or nothing.
pub struct MockPayment;

impl ServicePayment<AccountId, Balance> for MockPayment {
	type HoldReason = RuntimeHoldReason;

	fn charge_held(
		_reason: &RuntimeHoldReason,
		_payer: &AccountId,
		_provider: Option<&AccountId>,
		_amount: Balance,
		_kind: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError> {
		// Naming escrows nothing.
		Err(DispatchError::Other("naming escrows nothing"))
	}

	fn charge(
		payer: &AccountId,
		provider: Option<&AccountId>,
		amount: Balance,
		_kind: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError> {
		assert!(provider.is_none(), "the chain renders naming");
		with_storage_layer(|| {
			let burned = amount / 10;
			let treasury = amount - burned;
			<Balances as fungible::Mutate<AccountId>>::burn_from(
				payer,
				burned,
				Preservation::Preserve,
				Precision::Exact,
				Fortitude::Polite,
			)?;
			<Balances as fungible::Mutate<AccountId>>::transfer(
				payer,
				&TREASURY,
				treasury,
				Preservation::Preserve,
			)?;
			Ok(PaymentSplit { burned, treasury, provider: 0 })
		})
	}
}

impl pallet_naming::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = MockPayment;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxRecords = ConstU32<6>;
	type MaxRecordLen = ConstU32<64>;
	type MaxCommitments = ConstU32<2>;
	type MaxDepth = ConstU32<4>;
	type MinTtl = ConstU32<30>;
	type MaxTtl = ConstU32<86_400>;
	type WeightInfo = ();
}

/// The test parameters: commitments usable from 2 to 10 blocks, 100-block years, 20 blocks of
/// grace, a premium of 1_000 decaying over 10 blocks, rents [`RENTS`], 5 years at most, a
/// subname deposit of 50 and a commitment deposit of 20.
pub fn test_params() -> NamingParams<Balance, u64> {
	NamingParams {
		min_commitment_age: 2,
		max_commitment_age: 10,
		year_length: YEAR,
		grace_period: GRACE,
		premium_start: PREMIUM,
		premium_period: PREMIUM_PERIOD,
		rent_per_year: RENTS,
		max_years: 5,
		subname_deposit: SUBNAME_DEPOSIT,
		commitment_deposit: COMMITMENT_DEPOSIT,
	}
}

/// Builds the test externalities: rich users, the test parameters, `ns1` reserved.
pub struct ExtBuilder;

impl ExtBuilder {
	/// The externalities at block 1.
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, RICH),
				(BOB, RICH),
				(CHARLIE, RICH),
				(POOR, POOR_BALANCE),
				(TREASURY, ED),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_naming::GenesisConfig::<Test> {
			parameters: Some(test_params()),
			reserved: vec![b"ns1".to_vec()],
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Run `test`, then check the invariants, and that no test account holds a deposit the
	/// state does not record (the converse `do_try_state` cannot check).
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			Naming::do_try_state().expect("invariants hold");
			for who in [ALICE, BOB, CHARLIE, POOR, TREASURY] {
				assert_deposits_recorded(&who);
			}
		});
	}
}

/// Move to block `n`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Naming::on_initialize(next);
	}
}

/// The id of a full name such as `alice.dsync`.
pub fn id(name: &str) -> NameId {
	namehash(name.as_bytes()).expect("a valid test name")
}

/// `who` commits to `label` for `owner`, waits the minimum age and registers it for `years`.
pub fn register(who: &AccountId, label: &str, owner: &AccountId, years: u32) {
	let commitment = Naming::commitment_of(label.as_bytes(), owner, &SECRET);
	Naming::commit(RuntimeOrigin::signed(who.clone()), commitment).unwrap();
	run_to_block(System::block_number() + 2);
	Naming::register(
		RuntimeOrigin::signed(who.clone()),
		label.as_bytes().to_vec(),
		owner.clone(),
		SECRET,
		years,
	)
	.unwrap();
}

/// The free balance of `who`.
pub fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

/// What `who` holds as subname deposits.
pub fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Naming(pallet_naming::HoldReason::SubnameDeposit),
		who,
	)
}

/// What `who` holds as commitment deposits.
pub fn committed(who: &AccountId) -> Balance {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Naming(pallet_naming::HoldReason::CommitmentDeposit),
		who,
	)
}

/// `who` holds exactly the deposits of the subnames it paid for and of its commitments.
pub fn assert_deposits_recorded(who: &AccountId) {
	let subnames: Balance = pallet_naming::Names::<Test>::iter_values()
		.filter(|info| info.depositor == *who)
		.map(|info| info.deposit)
		.sum();
	assert_eq!(held(who), subnames, "subname deposits of {who:?}");
	let commitments: Balance =
		pallet_naming::Commitments::<Test>::get(who).iter().map(|c| c.deposit).sum();
	assert_eq!(committed(who), commitments, "commitment deposits of {who:?}");
}

/// The events of the naming pallet so far.
pub fn naming_events() -> Vec<pallet_naming::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Naming(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The last naming event.
pub fn last_event() -> pallet_naming::Event<Test> {
	naming_events().pop().expect("an event")
}
