//! A test runtime: `frame_system` with 32-byte account ids (so sr25519 keys and signatures are
//! real), `pallet_balances`, this pallet, and a small node registry kept in storage (so it rolls
//! back with transactions) that records status changes and scheduled slashes.

use crate::{
	self as pallet_proof_of_sync, Epoch, NodeRegistry, NodeRole, NodeStatus, NodeSummary, Phase,
	ProbeReport, ProofOfSyncParams, ServiceKind, SlashReason, UsageProof, VerificationPoints,
};
use codec::{Decode, Encode};
use dsync_primitives::{offchain::DsyncAuthId, traits::ModelId};
use frame_support::{
	derive_impl,
	dispatch::DispatchResultWithPostInfo,
	parameter_types,
	storage::types::ValueQuery,
	traits::{fungible, Contains, Hooks, Randomness},
	weights::Weight,
};
use frame_system::{offchain::AppCrypto, EnsureRoot};
use sp_core::{sr25519, H256};
use sp_runtime::{
	generic::UncheckedExtrinsic, AccountId32, BuildStorage, DispatchError, MultiSignature,
	MultiSigner, Perbill,
};

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids of the test runtime.
pub type AccountId = AccountId32;
/// Balances of the test runtime.
pub type Balance = u64;
/// The extrinsics the off-chain worker puts into the test pool: signed by the key account with
/// a real signature of `(call, nonce)`.
pub type Extrinsic = UncheckedExtrinsic<AccountId, RuntimeCall, MultiSignature, ()>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ProofOfSync: pallet_proof_of_sync,
	}
);

/// The treasury, which pays the rewards.
pub const TREASURY: AccountId = AccountId32::new([200; 32]);
/// The treasury's balance at genesis.
pub const TREASURY_BALANCE: Balance = 1_000_000_000;
/// Balance of every node owner at genesis.
pub const OWNER_BALANCE: Balance = 1_000;
/// The existential deposit.
pub const ED: Balance = 5;
/// The probe endpoint of the standard service nodes.
pub const ENDPOINT: &[u8] = b"http://node.example:9955";

/// The owner of service node `i` (1..=99).
pub fn service(i: u8) -> AccountId {
	AccountId32::new([i; 32])
}

/// The owner of validator node `i` (1..=99): accounts `[100 + i; 32]`.
pub fn validator(i: u8) -> AccountId {
	AccountId32::new([100u8.saturating_add(i); 32])
}

/// The off-chain key account the standard nodes register for `owner`: the owner's bytes with
/// the first byte replaced by 0xee.
pub fn key_of(owner: &AccountId) -> AccountId {
	let mut raw: [u8; 32] = *AsRef::<[u8; 32]>::as_ref(owner);
	raw[0] = 0xee;
	AccountId32::new(raw)
}

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
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
}

impl frame_system::offchain::SigningTypes for Test {
	type Public = MultiSigner;
	type Signature = MultiSignature;
}

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> frame_system::offchain::CreateSignedTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	fn create_signed_transaction<C: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: MultiSigner,
		account: AccountId,
		nonce: <Test as frame_system::Config>::Nonce,
	) -> Option<Extrinsic> {
		let signature = C::sign(&(&call, nonce).encode(), public)?;
		Some(Extrinsic::new_signed(call, account, signature, ()))
	}
}

// ---------------------------------------------------------------------------------------------
// The mock storage service: the retrieval check each provider gets, set by a test.

std::thread_local! {
	static RETRIEVAL_CHECKS: core::cell::RefCell<Vec<(AccountId, crate::RetrievalCheck)>> =
		const { core::cell::RefCell::new(Vec::new()) };
	static RETRIEVAL_SEEDS: core::cell::RefCell<Vec<[u8; 32]>> =
		const { core::cell::RefCell::new(Vec::new()) };
}

/// The storage service of the mock: a provider holds what [`MockStorage::hold`] gave it.
pub struct MockStorage;

impl MockStorage {
	/// From now on `provider` is asked for `check`.
	pub fn hold(provider: AccountId, check: crate::RetrievalCheck) {
		RETRIEVAL_CHECKS.with(|checks| checks.borrow_mut().push((provider, check)));
	}

	/// Nobody holds anything, no seed was asked with.
	pub fn reset() {
		RETRIEVAL_CHECKS.with(|checks| checks.borrow_mut().clear());
		RETRIEVAL_SEEDS.with(|seeds| seeds.borrow_mut().clear());
	}

	/// The seeds the pallet asked with so far.
	pub fn seeds() -> Vec<[u8; 32]> {
		RETRIEVAL_SEEDS.with(|seeds| seeds.borrow().clone())
	}
}

impl crate::StorageRetrieval<AccountId> for MockStorage {
	fn retrieval_check(provider: &AccountId, seed: &[u8; 32]) -> Option<crate::RetrievalCheck> {
		RETRIEVAL_SEEDS.with(|seeds| seeds.borrow_mut().push(*seed));
		RETRIEVAL_CHECKS.with(|checks| {
			checks
				.borrow()
				.iter()
				.find(|(holder, _)| holder == provider)
				.map(|(_, check)| *check)
		})
	}
}

// ---------------------------------------------------------------------------------------------
// The mock node registry.

/// A node of the mock registry.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct MockNode {
	/// The owner.
	pub owner: AccountId,
	/// The role.
	pub role: NodeRole,
	/// The status.
	pub status: NodeStatus,
	/// The off-chain key account.
	pub offchain_key: AccountId,
	/// The probe endpoint.
	pub endpoint: Vec<u8>,
	/// Capacity units.
	pub capacity_units: u64,
	/// The bond.
	pub bond: Balance,
}

/// A slash the pallet scheduled through the registry.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct ScheduledSlash {
	/// The slashed node.
	pub node: AccountId,
	/// The fraction of the bond.
	pub fraction: Perbill,
	/// Why.
	pub reason: SlashReason,
	/// The epoch it applies at.
	pub apply_at: u32,
}

/// The registered nodes, in registration order.
#[frame_support::storage_alias(verbatim)]
pub type MockNodes = StorageValue<MockRegistryStore, Vec<MockNode>, ValueQuery>;

/// Every slash scheduled, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockSlashes = StorageValue<MockRegistryStore, Vec<ScheduledSlash>, ValueQuery>;

/// Every status change made through `set_status`, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockStatusChanges =
	StorageValue<MockRegistryStore, Vec<(AccountId, NodeStatus)>, ValueQuery>;

/// Every `on_epoch_start` call, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockEpochStarts = StorageValue<MockRegistryStore, Vec<u32>, ValueQuery>;

/// Every era-points batch, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockEraPoints = StorageValue<MockRegistryStore, Vec<(AccountId, u32)>, ValueQuery>;

/// Validator-node owners that are not in the active validator set.
#[frame_support::storage_alias(verbatim)]
pub type InactiveValidators = StorageValue<MockRegistryStore, Vec<AccountId>, ValueQuery>;

/// The node registry of the tests.
pub struct MockRegistry;

impl MockRegistry {
	/// Register `node`.
	pub fn add(node: MockNode) {
		MockNodes::mutate(|nodes| nodes.push(node));
	}

	/// Register a service node of `owner` with key `key_of(owner)`, the standard endpoint and
	/// `capacity_units`, in `status`.
	pub fn add_service(owner: &AccountId, capacity_units: u64, status: NodeStatus) {
		Self::add(MockNode {
			owner: owner.clone(),
			role: NodeRole::Service,
			status,
			offchain_key: key_of(owner),
			endpoint: ENDPOINT.to_vec(),
			capacity_units,
			bond: 1_000,
		});
	}

	/// Register a validator node of `owner` with key `key`, in `status`.
	pub fn add_validator(owner: &AccountId, key: AccountId, status: NodeStatus) {
		Self::add(MockNode {
			owner: owner.clone(),
			role: NodeRole::Validator,
			status,
			offchain_key: key,
			endpoint: ENDPOINT.to_vec(),
			capacity_units: 1,
			bond: 1_000,
		});
	}

	/// Change a field of `owner`'s node.
	pub fn update(owner: &AccountId, change: impl FnOnce(&mut MockNode)) {
		MockNodes::mutate(|nodes| {
			if let Some(node) = nodes.iter_mut().find(|node| &node.owner == owner) {
				change(node);
			}
		});
	}

	/// Remove `owner`'s node.
	pub fn remove(owner: &AccountId) {
		MockNodes::mutate(|nodes| nodes.retain(|node| &node.owner != owner));
	}

	/// The status of `owner`'s node.
	pub fn status(owner: &AccountId) -> Option<NodeStatus> {
		MockNodes::get()
			.into_iter()
			.find(|node| &node.owner == owner)
			.map(|node| node.status)
	}

	/// Every slash scheduled so far.
	pub fn slashes() -> Vec<ScheduledSlash> {
		MockSlashes::get()
	}

	/// Every status change so far.
	pub fn status_changes() -> Vec<(AccountId, NodeStatus)> {
		MockStatusChanges::get()
	}

	fn find(owner: &AccountId) -> Option<MockNode> {
		MockNodes::get().into_iter().find(|node| &node.owner == owner)
	}
}

impl NodeRegistry<AccountId, Balance> for MockRegistry {
	fn node(owner: &AccountId) -> Option<NodeSummary<AccountId, Balance>> {
		Self::find(owner).map(|node| NodeSummary {
			role: node.role,
			status: node.status,
			offchain_key: node.offchain_key,
			endpoint: node.endpoint,
			capacity_units: node.capacity_units,
			storage_gib: 0,
			bond: node.bond,
		})
	}

	fn node_of_key(key: &AccountId) -> Option<AccountId> {
		MockNodes::get()
			.into_iter()
			.find(|node| &node.offchain_key == key)
			.map(|node| node.owner)
	}

	fn probe_targets(max: u32) -> Vec<AccountId> {
		MockNodes::get()
			.into_iter()
			.filter(|node| {
				node.role == NodeRole::Service
					&& matches!(
						node.status,
						NodeStatus::Pending | NodeStatus::Active | NodeStatus::Suspended
					)
			})
			.take(max as usize)
			.map(|node| node.owner)
			.collect()
	}

	fn active_validator_nodes(max: u32) -> Vec<AccountId> {
		MockNodes::get()
			.into_iter()
			.filter(|node| node.role == NodeRole::Validator && node.status == NodeStatus::Active)
			.take(max as usize)
			.map(|node| node.owner)
			.collect()
	}

	/// The mock's service nodes declare no services: every active one provides every kind.
	fn providers(_kind: ServiceKind, max: u32) -> Vec<AccountId> {
		MockNodes::get()
			.into_iter()
			.filter(|node| node.role == NodeRole::Service && node.status == NodeStatus::Active)
			.take(max as usize)
			.map(|node| node.owner)
			.collect()
	}

	/// The mock's service nodes declare no models: every one serves every model.
	fn serves_model(owner: &AccountId, _model: ModelId) -> bool {
		Self::find(owner).is_some_and(|node| node.role == NodeRole::Service)
	}

	fn set_status(owner: &AccountId, status: NodeStatus) -> sp_runtime::DispatchResult {
		let node = Self::find(owner).ok_or(DispatchError::Other("NotRegistered"))?;
		if node.status == NodeStatus::Unbonding {
			return Err(DispatchError::Other("NodeUnbonding"));
		}
		if status == NodeStatus::Unbonding {
			return Err(DispatchError::Other("InvalidTransition"));
		}
		if node.status != status {
			Self::update(owner, |node| node.status = status);
			MockStatusChanges::mutate(|changes| changes.push((owner.clone(), status)));
		}
		Ok(())
	}

	fn schedule_slash(
		owner: &AccountId,
		fraction: Perbill,
		reason: SlashReason,
		apply_at: u32,
	) -> Result<u32, DispatchError> {
		Self::find(owner).ok_or(DispatchError::Other("NotRegistered"))?;
		let id = MockSlashes::mutate(|slashes| {
			slashes.push(ScheduledSlash { node: owner.clone(), fraction, reason, apply_at });
			slashes.len() as u32 - 1
		});
		Ok(id)
	}

	fn on_epoch_start(epoch: u32) -> Weight {
		MockEpochStarts::mutate(|epochs| epochs.push(epoch));
		Weight::from_parts(1_000, 0)
	}
}

/// Every validator-node owner is active unless listed in [`InactiveValidators`].
pub struct MockActiveValidators;

impl Contains<AccountId> for MockActiveValidators {
	fn contains(who: &AccountId) -> bool {
		!InactiveValidators::get().contains(who)
	}
}

/// Randomness from the subject and the block number.
pub struct MockRandomness;

impl Randomness<H256, u64> for MockRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		(H256(sp_io::hashing::blake2_256(&(subject, block).encode())), block)
	}
}

/// Era points go to [`MockEraPoints`].
pub struct MockEraPointsRecorder;

impl VerificationPoints<AccountId> for MockEraPointsRecorder {
	fn reward(points: Vec<(AccountId, u32)>) {
		MockEraPoints::mutate(|all| all.extend(points));
	}
}

/// Registers nodes in the mock registry for the benchmarks run as tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn register_service_node(owner: &AccountId, key: &AccountId, status: NodeStatus) {
		MockRegistry::add(MockNode {
			owner: owner.clone(),
			role: NodeRole::Service,
			status,
			offchain_key: key.clone(),
			endpoint: ENDPOINT.to_vec(),
			capacity_units: 100,
			bond: 1_000,
		});
	}

	fn register_validator_node(owner: &AccountId, key: &AccountId) {
		MockRegistry::add_validator(owner, key.clone(), NodeStatus::Active);
	}
}

parameter_types! {
	pub const RewardSourceAccount: AccountId = TREASURY;
	pub const MaxProbeTargets: u32 = 1_000;
	pub const MaxVerifierCandidates: u32 = 64;
	pub const MaxVerifiers: u32 = 8;
	pub const MinEpochLength: u32 = 6;
	/// The shortest appeal window; tests raise it to see short deferrals refused.
	pub static MinAppealWindow: u32 = 0;
	/// Targets (or recipients) handled per block; tests lower it to see cursors span blocks.
	pub static NodesPerBlock: u32 = 50;
}

impl pallet_proof_of_sync::Config for Test {
	type Currency = Balances;
	type Registry = MockRegistry;
	type RewardSource = RewardSourceAccount;
	type IsActiveValidator = MockActiveValidators;
	type Storage = MockStorage;
	type Randomness = MockRandomness;
	type EraPoints = MockEraPointsRecorder;
	type AuthorityId = DsyncAuthId;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxProbeTargets = MaxProbeTargets;
	type MaxVerifierCandidates = MaxVerifierCandidates;
	type MaxVerifiers = MaxVerifiers;
	type NodesPerBlock = NodesPerBlock;
	type MinEpochLength = MinEpochLength;
	type MinAppealWindow = MinAppealWindow;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

// ---------------------------------------------------------------------------------------------
// Externalities.

/// The parameters of the tests: 10-block epochs (commit window 5 blocks, reveal window 5
/// blocks), 3 verifiers per node, α = 50 %, 2 warm-up epochs, activation at 70 %, misses below
/// 50 %, suspension after 2 misses and a slash 2 misses later (10 %), wrong answers slashed
/// 50 %, slashes deferred 2 epochs, latency 100..1_100 ms, lag 2..12 blocks, 1_000_000 per
/// epoch with 20 % for verifiers, idle nodes keep 50 % of their weight, declared capacity
/// credited in full (`unproven_capacity` unbounded, in every epoch: `unproven_epochs` at its
/// maximum; 10 usage units prove a unit), every verified unit rewardable (no burn cap).
pub fn test_params() -> ProofOfSyncParams<Balance> {
	ProofOfSyncParams {
		epoch_length: 10,
		verifiers_per_node: 3,
		ema_alpha: Perbill::from_percent(50),
		warmup_epochs: 2,
		activation_score: Perbill::from_percent(70),
		miss_quality: Perbill::from_percent(50),
		suspend_after_misses: 2,
		slash_after_misses: 2,
		miss_slash: Perbill::from_percent(10),
		wrong_answer_slash: Perbill::from_percent(50),
		slash_defer_epochs: 2,
		target_latency_ms: 100,
		max_latency_ms: 1_100,
		tolerated_lag: 2,
		max_lag: 12,
		epoch_reward: 1_000_000,
		verifier_share: Perbill::from_percent(20),
		idle_usage_weight: Perbill::from_percent(50),
		unproven_capacity: u64::MAX,
		usage_per_capacity_unit: 10,
		clip_latency_ms: 200,
		clip_lag: 3,
		reputation_penalty: Perbill::from_percent(10),
		reputation_recovery: Perbill::from_percent(5),
		min_reputation: Perbill::from_percent(50),
		verification_points: 20,
		burn_per_usage_unit: 0,
		unproven_epochs: u32::MAX,
	}
}

/// The proof of a delivery checked independently (agreeing providers, or a re-execution)
/// whose payment burned `burned`.
pub fn verified(burned: u128) -> UsageProof {
	UsageProof { verified: true, burned }
}

/// The proof of a delivery nobody but its provider checked (a job of one provider) whose
/// payment burned `burned`.
pub fn unverified(burned: u128) -> UsageProof {
	UsageProof { verified: false, burned }
}

/// A fully good report: available, challenge passed, 50 ms, no lag.
pub fn good_report() -> ProbeReport {
	ProbeReport { available: true, challenge_ok: true, latency_ms: 50, sync_lag: 0, evidence: None }
}

/// The report of a node that did not answer.
pub fn down_report() -> ProbeReport {
	ProbeReport {
		available: false,
		challenge_ok: false,
		latency_ms: 1_100,
		sync_lag: 12,
		evidence: None,
	}
}

/// Builds the test externalities.
pub struct ExtBuilder {
	params: ProofOfSyncParams<Balance>,
	nodes: Vec<MockNode>,
	treasury: Balance,
}

impl Default for ExtBuilder {
	/// Two active service nodes (capacity 10) and three active validator nodes.
	fn default() -> Self {
		Self::empty().services(2).validators(3)
	}
}

impl ExtBuilder {
	/// No node at all.
	pub fn empty() -> Self {
		Self { params: test_params(), nodes: Vec::new(), treasury: TREASURY_BALANCE }
	}

	/// Add active service nodes `service(1..=n)` of capacity 10 with keys `key_of(owner)`.
	pub fn services(mut self, n: u8) -> Self {
		for i in 1..=n {
			self = self.service_node(service(i), key_of(&service(i)), 10, NodeStatus::Active);
		}
		self
	}

	/// Add active validator nodes `validator(1..=n)` with keys `key_of(owner)`.
	pub fn validators(mut self, n: u8) -> Self {
		for i in 1..=n {
			self = self.validator_node(validator(i), key_of(&validator(i)));
		}
		self
	}

	/// Add one service node.
	pub fn service_node(
		mut self,
		owner: AccountId,
		key: AccountId,
		capacity_units: u64,
		status: NodeStatus,
	) -> Self {
		self.nodes.push(MockNode {
			owner,
			role: NodeRole::Service,
			status,
			offchain_key: key,
			endpoint: ENDPOINT.to_vec(),
			capacity_units,
			bond: 1_000,
		});
		self
	}

	/// Add one active validator node.
	pub fn validator_node(mut self, owner: AccountId, key: AccountId) -> Self {
		self.nodes.push(MockNode {
			owner,
			role: NodeRole::Validator,
			status: NodeStatus::Active,
			offchain_key: key,
			endpoint: ENDPOINT.to_vec(),
			capacity_units: 1,
			bond: 1_000,
		});
		self
	}

	/// Change the parameters.
	pub fn with_params(mut self, change: impl FnOnce(&mut ProofOfSyncParams<Balance>)) -> Self {
		change(&mut self.params);
		self
	}

	/// The treasury's balance at genesis.
	pub fn treasury(mut self, balance: Balance) -> Self {
		self.treasury = balance;
		self
	}

	/// The externalities at block 1, after `on_initialize` (epoch 1 started, verifiers not
	/// drawn yet).
	pub fn build(self) -> sp_io::TestExternalities {
		NodesPerBlock::set(50);
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances: Vec<(AccountId, Balance)> =
			self.nodes.iter().map(|node| (node.owner.clone(), OWNER_BALANCE)).collect();
		balances.push((TREASURY, self.treasury));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_proof_of_sync::GenesisConfig::<Test> { parameters: self.params }
			.assimilate_storage(&mut storage)
			.unwrap();

		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			MockNodes::put(self.nodes);
			System::set_block_number(1);
			ProofOfSync::on_initialize(1);
		});
		ext
	}

	/// Build, run `test`, then check the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			ProofOfSync::do_try_state().expect("the invariants hold after every test");
		});
	}
}

/// The externalities the benchmarks run in as tests: no node, a keystore for the node keys the
/// benchmarks generate.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	let mut ext = ExtBuilder::empty().build();
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext
}

// ---------------------------------------------------------------------------------------------
// Driving blocks and epochs.

/// Start the next block (`on_initialize`).
pub fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	ProofOfSync::on_initialize(next);
}

/// Run blocks until block `n` has started.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		next_block();
	}
}

/// The current phase.
pub fn phase() -> Phase {
	Epoch::<Test>::get().phase
}

/// The current epoch index.
pub fn epoch_index() -> u32 {
	Epoch::<Test>::get().index
}

/// The start block of the current epoch.
pub fn epoch_start() -> u64 {
	Epoch::<Test>::get().start
}

/// Run blocks until verifiers are drawn for every target (phase `Collecting`).
pub fn run_to_collecting() {
	for _ in 0..1_000 {
		if phase() == Phase::Collecting {
			return;
		}
		next_block();
	}
	panic!("the epoch never reached Collecting");
}

/// Run to the first block of the reveal window of the current epoch.
pub fn run_to_reveal_window() {
	run_to_collecting();
	let params = crate::Params::<Test>::get();
	run_to_block(epoch_start() + u64::from(params.half_length()));
}

/// Run until the current epoch is closed (phase `Starting`).
pub fn run_to_epoch_end() {
	let index = epoch_index();
	for _ in 0..1_000 {
		if phase() == Phase::Starting && epoch_index() == index {
			return;
		}
		next_block();
	}
	panic!("the epoch never closed");
}

/// The salt verifiers use in tests: derived from the verifier and the node.
pub fn salt_of(verifier: &AccountId, node: &AccountId) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(verifier, node).encode())
}

/// The commitment of `verifier` to `report` on `node` in the current epoch, with the salt
/// [`salt_of`] ([`ProbeReport::commitment`]).
pub fn commitment_of(verifier: &AccountId, node: &AccountId, report: &ProbeReport) -> H256 {
	report.commitment(epoch_index(), node, verifier, &salt_of(verifier, node))
}

/// Commit `report` of `verifier` (a validator-node owner with key `key_of(verifier)`) on
/// `node`.
pub fn commit(
	verifier: &AccountId,
	node: &AccountId,
	report: &ProbeReport,
) -> DispatchResultWithPostInfo {
	ProofOfSync::commit_report(
		RuntimeOrigin::signed(key_of(verifier)),
		node.clone(),
		commitment_of(verifier, node, report),
	)
}

/// Reveal `report` of `verifier` on `node` (committed with [`commit`]).
pub fn reveal(
	verifier: &AccountId,
	node: &AccountId,
	report: &ProbeReport,
) -> DispatchResultWithPostInfo {
	ProofOfSync::reveal_report(
		RuntimeOrigin::signed(key_of(verifier)),
		node.clone(),
		report.clone(),
		salt_of(verifier, node),
	)
}

/// The verifiers drawn for `node` this epoch.
pub fn drawn(node: &AccountId) -> Vec<AccountId> {
	crate::Assignments::<Test>::get(node)
		.map(|assignment| assignment.slots.iter().map(|slot| slot.verifier.clone()).collect())
		.unwrap_or_default()
}

/// Play the current epoch from the commit window on: every `(verifier, node, report)` is
/// committed, then revealed in the reveal window; then run until the epoch closes. Verifiers
/// drawn but not listed stay absent.
pub fn play_epoch(reports: &[(AccountId, AccountId, ProbeReport)]) {
	run_to_collecting();
	for (verifier, node, report) in reports {
		commit(verifier, node, report).expect("the commitment is accepted");
	}
	run_to_reveal_window();
	for (verifier, node, report) in reports {
		reveal(verifier, node, report).expect("the report is revealed");
	}
	run_to_epoch_end();
}

/// Run blocks until the current epoch's tally ended (phase `Paying`): the reward weights and
/// the totals of the epoch can be read.
pub fn run_to_paying() {
	for _ in 0..1_000 {
		if matches!(phase(), Phase::Paying { .. }) {
			return;
		}
		next_block();
	}
	panic!("the tally never ended");
}

/// Play the current epoch with every drawn verifier reporting [`good_report`]; once the tally
/// ended, read the reward weights of `nodes` (0 for none), then run the epoch to its end.
pub fn reward_weights_of_epoch(nodes: &[AccountId]) -> Vec<u128> {
	run_to_collecting();
	let reports = all_report(|_| good_report());
	for (verifier, node, report) in &reports {
		commit(verifier, node, report).expect("the commitment is accepted");
	}
	run_to_reveal_window();
	for (verifier, node, report) in &reports {
		reveal(verifier, node, report).expect("the report is revealed");
	}
	run_to_paying();
	let weights = nodes
		.iter()
		.map(|node| crate::RewardWeights::<Test>::get(node).unwrap_or(0))
		.collect();
	run_to_epoch_end();
	weights
}

/// Every drawn verifier of every target reports `report_for(node)`.
pub fn all_report(
	report_for: impl Fn(&AccountId) -> ProbeReport,
) -> Vec<(AccountId, AccountId, ProbeReport)> {
	let mut reports = Vec::new();
	for node in crate::Targets::<Test>::get() {
		for verifier in drawn(&node) {
			reports.push((verifier, node.clone(), report_for(&node)));
		}
	}
	reports
}

/// Play the current epoch with every drawn verifier reporting `report_for(node)`.
pub fn play_epoch_with(report_for: impl Fn(&AccountId) -> ProbeReport) {
	run_to_collecting();
	let reports = all_report(report_for);
	play_epoch(&reports);
}

/// The events of this pallet so far, oldest first.
pub fn pos_events() -> Vec<pallet_proof_of_sync::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::ProofOfSync(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The last event of this pallet.
pub fn last_event() -> pallet_proof_of_sync::Event<Test> {
	pos_events().pop().expect("an event of the proof-of-sync pallet was emitted")
}

/// The free balance of `who`.
pub fn free(who: &AccountId) -> Balance {
	<Balances as fungible::Inspect<AccountId>>::balance(who)
}

/// An sr25519 key pair from a seed byte.
pub fn pair(seed: u8) -> sr25519::Pair {
	<sr25519::Pair as sp_core::Pair>::from_seed(&[seed; 32])
}
