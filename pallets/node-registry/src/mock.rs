//! A test runtime: `frame_system` with 32-byte account ids (off-chain keys are real sr25519
//! public keys), `pallet_balances` (bonds are held there) and this pallet, whose slashes go to
//! a treasury account.

use crate::{
	self as pallet_node_registry, Declaration, DeclarationOf, GpuSpec, NodeRegistry,
	NodeRegistryParams, NodeRole, Resources, ServiceKind,
};
use frame_support::{
	derive_impl, ord_parameter_types, parameter_types,
	traits::{fungible, tokens::imbalance::ResolveTo, ConstU32},
	BoundedVec,
};
use frame_system::{EnsureRoot, EnsureSignedBy};
use sp_core::Pair;
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

/// The account type of the test runtime.
pub type AccountId = AccountId32;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_node_registry,
	}
);

/// An operator with plenty of funds.
pub const ALICE: AccountId = AccountId32::new([1; 32]);
/// A second operator with plenty of funds.
pub const BOB: AccountId = AccountId32::new([2; 32]);
/// A third operator with plenty of funds.
pub const CHARLIE: AccountId = AccountId32::new([3; 32]);
/// An operator with little: `DAVE_BALANCE`.
pub const DAVE: AccountId = AccountId32::new([4; 32]);
/// The account that receives slashed funds.
pub const TREASURY: AccountId = AccountId32::new([100; 32]);
/// The member of the appeal origin (`SlashCancelOrigin`).
pub const APPEALS: AccountId = AccountId32::new([99; 32]);

/// The existential deposit.
pub const ED: u64 = 10;
/// The genesis balance of the well-funded accounts.
pub const RICH: u64 = 1_000_000;
/// Dave's genesis balance.
pub const DAVE_BALANCE: u64 = 3_000;
/// The treasury's genesis balance.
pub const TREASURY_BALANCE: u64 = 1_000;

/// The base bond of the test genesis.
pub const BASE_BOND: u64 = 1_000;
/// The bond per capacity unit of the test genesis.
pub const BOND_PER_UNIT: u64 = 10;
/// The unbonding delay of the test genesis, in blocks.
pub const UNBONDING_DELAY: u64 = 10;

/// The capacity units of [`service_declaration`]: 8 cores + 32 GiB + 500 GiB / 100 +
/// 1000 Mbit/s / 100 + 2 GPUs * (4 + 24 GiB) = 8 + 32 + 5 + 10 + 56.
pub const SERVICE_UNITS: u64 = 111;
/// The minimum bond of [`service_declaration`].
pub const SERVICE_MIN_BOND: u64 = BASE_BOND + BOND_PER_UNIT * SERVICE_UNITS;
/// The capacity units of [`validator_declaration`]: 16 + 64 + 10 + 10.
pub const VALIDATOR_UNITS: u64 = 100;
/// The minimum bond of [`validator_declaration`].
pub const VALIDATOR_MIN_BOND: u64 = BASE_BOND + BOND_PER_UNIT * VALIDATOR_UNITS;

/// The most service nodes of the test runtime.
pub const MAX_SERVICE_NODES: u32 = 5;
/// The most validator nodes of the test runtime.
pub const MAX_VALIDATOR_NODES: u32 = 3;
/// The most slashes due per epoch of the test runtime.
pub const MAX_SLASHES_PER_EPOCH: u32 = 3;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<u64>;
}

parameter_types! {
	pub const ExistentialDeposit: u64 = ED;
	pub const TreasuryAccount: AccountId = TREASURY;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
}

ord_parameter_types! {
	pub const Appeals: AccountId = APPEALS;
}

impl pallet_node_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slashed = ResolveTo<TreasuryAccount, Balances>;
	type AdminOrigin = EnsureRoot<AccountId>;
	type SlashCancelOrigin = EnsureSignedBy<Appeals, AccountId>;
	type MaxServiceNodes = ConstU32<MAX_SERVICE_NODES>;
	type MaxValidatorNodes = ConstU32<MAX_VALIDATOR_NODES>;
	type MaxGpuKinds = ConstU32<8>;
	type MaxGpuModelLen = ConstU32<64>;
	type MaxModels = ConstU32<32>;
	type MaxEndpointLen = ConstU32<128>;
	type MaxSlashesPerEpoch = ConstU32<MAX_SLASHES_PER_EPOCH>;
	type WeightInfo = ();
	type KeyProof = sp_runtime::MultiSignature;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchKeys;
}

/// Off-chain keys of the benchmarks: sr25519 pairs from the seed.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchKeys;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, sp_runtime::MultiSignature> for BenchKeys {
	fn key_with_proof(seed: u32, message: &[u8]) -> (AccountId, sp_runtime::MultiSignature) {
		use sp_core::Pair;
		let mut bytes = [7u8; 32];
		bytes[..4].copy_from_slice(&seed.to_le_bytes());
		let pair = sp_core::sr25519::Pair::from_seed(&bytes);
		(pair.public().into(), pair.sign(message).into())
	}
}

/// The parameters of the test genesis.
pub fn default_params() -> NodeRegistryParams<u64, u64> {
	NodeRegistryParams {
		base_bond: BASE_BOND,
		bond_per_capacity_unit: BOND_PER_UNIT,
		unbonding_delay: UNBONDING_DELAY,
	}
}

/// The account of the sr25519 public key derived from `seed`: a real off-chain key.
pub fn key(seed: u8) -> AccountId {
	sp_core::sr25519::Pair::from_seed(&[seed; 32]).public().into()
}

/// The proof that `owner` holds the off-chain key `key` (one of the [`key`] accounts): the
/// key's signature over `Registry::key_proof_message(owner)`.
pub fn proof(key: &AccountId, owner: &AccountId) -> sp_runtime::MultiSignature {
	use sp_core::Pair;
	let pair = (0..=u8::MAX)
		.map(|seed| sp_core::sr25519::Pair::from_seed(&[seed; 32]))
		.find(|pair| AccountId::from(pair.public()) == *key)
		.expect("a key of `key(seed)`");
	pair.sign(&Registry::key_proof_message(owner)).into()
}

/// An account with nothing, for filling lists (`index` distinguishes them).
pub fn filler(index: u8) -> AccountId {
	AccountId32::new([200u8.saturating_add(index); 32])
}

/// A bounded vector from `items`; panics when too long (tests only).
pub fn bounded<T, S: frame_support::traits::Get<u32>>(items: Vec<T>) -> BoundedVec<T, S> {
	BoundedVec::try_from(items).ok().expect("the test value fits its bound")
}

/// A GPU entry.
pub fn gpu(model: &[u8], count: u32, memory_mib: u64) -> GpuSpec<ConstU32<64>> {
	GpuSpec { model: bounded(model.to_vec()), count, memory_mib }
}

/// A GPU-inference service node: 8 cores, 32 GiB, 500 GiB of storage, 1 Gbit/s, two 24-GiB
/// GPUs, GPU inference and storage, models 1 and 2. [`SERVICE_UNITS`] capacity units.
pub fn service_declaration() -> DeclarationOf<Test> {
	Declaration {
		resources: Resources {
			cpu_cores: 8,
			memory_mib: 32 * 1024,
			storage_gib: 500,
			bandwidth_mbps: 1_000,
			gpus: bounded(vec![gpu(b"RTX 4090", 2, 24 * 1024)]),
		},
		services: bounded(vec![ServiceKind::GpuInference, ServiceKind::Storage]),
		models: bounded(vec![1, 2]),
		endpoint: bounded(b"https://node.example.org:9955/".to_vec()),
	}
}

/// A validator node: 16 cores, 64 GiB, 1000 GiB of storage, 1 Gbit/s, no GPU, no service.
/// [`VALIDATOR_UNITS`] capacity units.
pub fn validator_declaration() -> DeclarationOf<Test> {
	Declaration {
		resources: Resources {
			cpu_cores: 16,
			memory_mib: 64 * 1024,
			storage_gib: 1_000,
			bandwidth_mbps: 1_000,
			gpus: bounded(vec![]),
		},
		services: bounded(vec![]),
		models: bounded(vec![]),
		endpoint: bounded(b"http://10.0.0.1:9955".to_vec()),
	}
}

/// A naming-only service node with `cpu_cores` cores and nothing else (capacity `cpu_cores`).
pub fn small_declaration(cpu_cores: u32) -> DeclarationOf<Test> {
	Declaration {
		resources: Resources {
			cpu_cores,
			memory_mib: 1,
			storage_gib: 0,
			bandwidth_mbps: 0,
			gpus: bounded(vec![]),
		},
		services: bounded(vec![ServiceKind::Naming]),
		models: bounded(vec![]),
		endpoint: bounded(b"http://naming.example".to_vec()),
	}
}

/// Builds the test externalities.
pub struct ExtBuilder {
	params: NodeRegistryParams<u64, u64>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { params: default_params() }
	}
}

impl ExtBuilder {
	/// Use these genesis parameters.
	pub fn params(mut self, params: NodeRegistryParams<u64, u64>) -> Self {
		self.params = params;
		self
	}

	/// The externalities at block 1, epoch 0.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances = vec![
			(ALICE, RICH),
			(BOB, RICH),
			(CHARLIE, RICH),
			(DAVE, DAVE_BALANCE),
			(TREASURY, TREASURY_BALANCE),
		];
		balances.extend((0..20).map(|index| (filler(index), RICH)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_node_registry::GenesisConfig::<Test> { parameters: self.params }
			.assimilate_storage(&mut storage)
			.unwrap();

		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Build, run `test`, then check the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Registry::do_try_state().expect("the invariants hold after every test");
		});
	}
}

/// The externalities the benchmarks run in as tests.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}

/// Register `who` as a service node with [`service_declaration`], key `key(seed)` and `bond`.
pub fn register_service(who: &AccountId, seed: u8, bond: u64) {
	Registry::register(
		RuntimeOrigin::signed(who.clone()),
		NodeRole::Service,
		service_declaration(),
		key(seed),
		proof(&key(seed), &who.clone()),
		bond,
	)
	.expect("the service node registers");
}

/// Register `who` as a validator node with [`validator_declaration`], key `key(seed)` and
/// `bond`.
pub fn register_validator(who: &AccountId, seed: u8, bond: u64) {
	Registry::register(
		RuntimeOrigin::signed(who.clone()),
		NodeRole::Validator,
		validator_declaration(),
		key(seed),
		proof(&key(seed), &who.clone()),
		bond,
	)
	.expect("the validator node registers");
}

/// The providers of `kind` ([`NodeRegistry::providers`]), all of them.
pub fn providers(kind: ServiceKind) -> Vec<AccountId> {
	<Registry as NodeRegistry<AccountId, u64>>::providers(kind, u32::MAX)
}

/// The GPU providers that serve `model`, at most `max`, in the order of the provider index: what
/// the runtime's GPU-jobs glue asks of the registry ([`NodeRegistry::providers`] of
/// `GpuInference`, filtered by [`NodeRegistry::serves_model`]).
pub fn gpu_providers(model: crate::ModelId, max: u32) -> Vec<AccountId> {
	let max = usize::try_from(max).unwrap_or(usize::MAX);
	providers(ServiceKind::GpuInference)
		.into_iter()
		.filter(|owner| <Registry as NodeRegistry<AccountId, u64>>::serves_model(owner, model))
		.take(max)
		.collect()
}

/// Start Proof-of-Sync epoch `epoch` (what Proof of Sync does at its epoch start).
pub fn start_epoch(epoch: u32) {
	// Proof of Sync starts every epoch in turn; so do the tests.
	let first = crate::CurrentEpoch::<Test>::get().saturating_add(1).min(epoch);
	for index in first..=epoch {
		let _ = <Registry as NodeRegistry<AccountId, u64>>::on_epoch_start(index);
	}
}

/// Move to block `n`.
pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}

/// The events of this pallet so far, oldest first.
pub fn registry_events() -> Vec<pallet_node_registry::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Registry(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The last event of this pallet.
pub fn last_event() -> pallet_node_registry::Event<Test> {
	registry_events().pop().expect("an event of the registry was emitted")
}

/// Forget the events so far.
pub fn clear_events() {
	System::reset_events();
}

/// The free balance of `who`.
pub fn free(who: &AccountId) -> u64 {
	<Balances as fungible::Inspect<AccountId>>::balance(who)
}

/// The balance of `who` on hold for bonds.
pub fn held(who: &AccountId) -> u64 {
	<Balances as fungible::InspectHold<AccountId>>::balance_on_hold(
		&crate::HoldReason::Bond.into(),
		who,
	)
}

/// The total issuance.
pub fn issuance() -> u64 {
	<Balances as fungible::Inspect<AccountId>>::total_issuance()
}
