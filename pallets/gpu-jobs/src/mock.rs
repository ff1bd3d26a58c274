//! A test runtime: `frame_system` with 32-byte account ids (so sr25519 keys and signatures are
//! real), `pallet_balances` (escrows are held there) and this pallet, with a provider source, a
//! service payment (10 % burned, 20 % to the treasury, the rest to the provider) and a usage
//! recorder kept in storage, so they roll back with transactions.

use crate::{
	self as pallet_gpu_jobs, outputs_root, BatchItem, GpuJobsParams, JobId, JobInput,
	PenaltyReason, ProviderSource, ResultClaim, ServiceKind, ServicePayment, UsageRecorder,
};
use codec::Encode;
use dsync_aivm_core::{bundled::DIGITS_64_128_64_10, Model};
use dsync_primitives::{
	offchain::DsyncAuthId,
	traits::{ModelId, PaymentSplit, UsageProof},
};
use frame_support::{
	derive_impl, parameter_types,
	storage::{types::ValueQuery, with_storage_layer},
	traits::{
		fungible::{self, InspectHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Hooks, Randomness,
	},
	BoundedVec,
};
use frame_system::{offchain::AppCrypto, EnsureRoot};
use sp_core::H256;
use sp_runtime::{
	generic::UncheckedExtrinsic, AccountId32, BuildStorage, DispatchError, DispatchResult,
	MultiSignature, MultiSigner, Perbill, Weight,
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
		GpuJobs: pallet_gpu_jobs,
	}
);

/// A client with plenty of funds.
pub const ALICE: AccountId = AccountId32::new([100; 32]);
/// A second client with plenty of funds.
pub const BOB: AccountId = AccountId32::new([101; 32]);
/// A client with little: [`POOR_BALANCE`].
pub const POOR: AccountId = AccountId32::new([102; 32]);
/// The treasury, which receives the treasury share of payments.
pub const TREASURY: AccountId = AccountId32::new([200; 32]);
/// The existential deposit.
pub const ED: Balance = 5;
/// The genesis balance of the clients.
pub const CLIENT_BALANCE: Balance = 10_000_000;
/// The genesis balance of [`POOR`].
pub const POOR_BALANCE: Balance = 1_000;
/// The genesis balance of the providers and the treasury.
pub const PROVIDER_BALANCE: Balance = 1_000;
/// The price floor of the digits model at genesis, per provider and item.
pub const FLOOR: Balance = 10;
/// The digits model's id at genesis.
pub const DIGITS: ModelId = 0;
/// The salt tests commit with.
pub const SALT: [u8; 32] = [3; 32];

/// The owner of provider node `i` (1..=99).
pub fn provider(i: u8) -> AccountId {
	AccountId32::new([i; 32])
}

/// The off-chain key account the standard providers register for `owner`: the owner's bytes
/// with the first byte replaced by 0xee.
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
// The mock provider source, payment and usage recorder.

/// A provider of the mock source.
#[derive(codec::Encode, codec::Decode, Clone, PartialEq, Eq, Debug)]
pub struct MockProvider {
	/// The node owner.
	pub owner: AccountId,
	/// Its off-chain key account.
	pub key: AccountId,
	/// Its Proof-of-Sync score.
	pub score: Perbill,
	/// The models it serves.
	pub models: Vec<ModelId>,
}

/// The providers, in registration order.
#[frame_support::storage_alias(verbatim)]
pub type MockProviders = StorageValue<MockStore, Vec<MockProvider>, ValueQuery>;

/// Every penalty, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockPenalties = StorageValue<MockStore, Vec<(AccountId, PenaltyReason)>, ValueQuery>;

/// Every usage record, in order.
#[frame_support::storage_alias(verbatim)]
pub type MockUsage =
	StorageValue<MockStore, Vec<(AccountId, AccountId, ServiceKind, u64)>, ValueQuery>;

/// The proof of every usage record, in order: `(provider, verified, burned)`.
#[frame_support::storage_alias(verbatim)]
pub type MockUsageProofs = StorageValue<MockStore, Vec<(AccountId, bool, u128)>, ValueQuery>;

/// The provider source of the tests.
pub struct MockSource;

impl MockSource {
	/// Add a provider.
	pub fn add(owner: &AccountId, key: AccountId, score: Perbill, models: Vec<ModelId>) {
		MockProviders::mutate(|all| {
			all.push(MockProvider { owner: owner.clone(), key, score, models })
		});
	}

	/// Change `owner`'s score.
	pub fn set_score(owner: &AccountId, score: Perbill) {
		MockProviders::mutate(|all| {
			for entry in all.iter_mut().filter(|entry| entry.owner == *owner) {
				entry.score = score;
			}
		});
	}

	/// Every penalty so far.
	pub fn penalties() -> Vec<(AccountId, PenaltyReason)> {
		MockPenalties::get()
	}

	/// Every usage record so far.
	pub fn usage() -> Vec<(AccountId, AccountId, ServiceKind, u64)> {
		MockUsage::get()
	}

	/// The proof of every usage record so far, with its provider.
	pub fn usage_proofs() -> Vec<(AccountId, UsageProof)> {
		MockUsageProofs::get()
			.into_iter()
			.map(|(provider, verified, burned)| (provider, UsageProof { verified, burned }))
			.collect()
	}
}

impl ProviderSource<AccountId> for MockSource {
	fn eligible(model: ModelId, max: u32) -> Vec<(AccountId, Perbill)> {
		MockProviders::get()
			.into_iter()
			.filter(|entry| entry.models.contains(&model))
			.take(max as usize)
			.map(|entry| (entry.owner, entry.score))
			.collect()
	}

	fn eligible_overhead() -> Weight {
		Weight::zero()
	}

	fn owner_of_key(key: &AccountId) -> Option<AccountId> {
		MockProviders::get()
			.into_iter()
			.find(|entry| entry.key == *key)
			.map(|entry| entry.owner)
	}

	fn penalise(provider: &AccountId, reason: PenaltyReason) {
		MockPenalties::mutate(|all| all.push((provider.clone(), reason)));
	}
}

/// Usage goes to [`MockUsage`], its proof to [`MockUsageProofs`].
pub struct MockUsageRecorder;

impl UsageRecorder<AccountId> for MockUsageRecorder {
	fn record_usage(
		provider: &AccountId,
		client: &AccountId,
		kind: ServiceKind,
		units: u64,
		proof: UsageProof,
	) {
		MockUsage::mutate(|all| all.push((provider.clone(), client.clone(), kind, units)));
		MockUsageProofs::mutate(|all| all.push((provider.clone(), proof.verified, proof.burned)));
	}
}

parameter_types! {
	/// Whether every payment fails.
	pub static PaymentFails: bool = false;
}

/// The burn share of [`MockPayment`]: 10 %.
pub fn burn_share(amount: Balance) -> Balance {
	amount / 10
}

/// The treasury share of [`MockPayment`]: 20 %.
pub fn treasury_share(amount: Balance) -> Balance {
	amount / 5
}

/// The provider share of [`MockPayment`]: the rest.
pub fn provider_share(amount: Balance) -> Balance {
	amount - burn_share(amount) - treasury_share(amount)
}

/// Burns 10 %, pays 20 % to the treasury and the rest to the provider (the treasury without
/// one), all from the payer, keeping it alive; atomic.
pub struct MockPayment;

impl ServicePayment<AccountId, Balance> for MockPayment {
	type HoldReason = RuntimeHoldReason;

	fn charge_held(
		reason: &RuntimeHoldReason,
		payer: &AccountId,
		provider: Option<&AccountId>,
		amount: Balance,
		_kind: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError> {
		if PaymentFails::get() {
			return Err(DispatchError::Other("payments are refused"));
		}
		with_storage_layer(|| {
			let burned = burn_share(amount);
			let treasury = treasury_share(amount);
			let rest = provider_share(amount);
			<Balances as fungible::MutateHold<AccountId>>::burn_held(
				reason,
				payer,
				burned,
				Precision::Exact,
				Fortitude::Force,
			)?;
			let to = provider.unwrap_or(&TREASURY);
			for (dest, part) in [(&TREASURY, treasury), (to, rest)] {
				<Balances as fungible::MutateHold<AccountId>>::transfer_on_hold(
					reason,
					payer,
					dest,
					part,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
			Ok(match provider {
				Some(_) => PaymentSplit { burned, provider: rest, treasury },
				None => PaymentSplit { burned, provider: 0, treasury: treasury + rest },
			})
		})
	}

	fn charge(
		payer: &AccountId,
		provider: Option<&AccountId>,
		amount: Balance,
		_kind: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError> {
		if PaymentFails::get() {
			return Err(DispatchError::Other("payments are refused"));
		}
		with_storage_layer(|| {
			let burned = burn_share(amount);
			let treasury = treasury_share(amount);
			let rest = provider_share(amount);
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
			let to = provider.unwrap_or(&TREASURY);
			<Balances as fungible::Mutate<AccountId>>::transfer(
				payer,
				to,
				rest,
				Preservation::Preserve,
			)?;
			Ok(match provider {
				Some(_) => PaymentSplit { burned, provider: rest, treasury },
				None => PaymentSplit { burned, provider: 0, treasury: treasury + rest },
			})
		})
	}
}

/// Randomness from the subject and the block number.
pub struct MockRandomness;

parameter_types! {
	/// The VRF output of the current block, when a test sets one: the randomness then depends
	/// on it, as the runtime's does on each block's VRF output, which nobody knows before the
	/// block is authored.
	pub static MockVrf: Option<[u8; 32]> = None;
}

impl Randomness<H256, u64> for MockRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		let random = match MockVrf::get() {
			Some(vrf) => sp_io::hashing::blake2_256(&(subject, block, vrf).encode()),
			None => sp_io::hashing::blake2_256(&(subject, block).encode()),
		};
		(H256(random), block)
	}
}

/// Makes providers eligible for the benchmarks run as tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn register_provider(owner: &AccountId, key: &AccountId, model: ModelId) {
		MockSource::add(owner, key.clone(), Perbill::from_percent(80), vec![model]);
		let _ = <Balances as fungible::Mutate<AccountId>>::mint_into(owner, PROVIDER_BALANCE);
	}
}

parameter_types! {
	pub const MaxModelBytes: u32 = 65_536;
	pub const MaxInlineInput: u32 = 4_096;
	pub const MaxReplication: u32 = 7;
	pub const MaxCandidates: u32 = 16;
	pub const MaxUrlLen: u32 = 256;
	/// Lowered by tests to see the bounds.
	pub static MaxOpenJobs: u32 = 50;
	/// Lowered by tests to see the cursor span blocks.
	pub static MaxJobsPerBlockSettled: u32 = 8;
	/// Lowered by tests to fill a block's queue.
	pub static MaxExpiriesPerBlock: u32 = 16;
	/// 0: most tests have the providers drawn when the job is posted; the tests of the
	/// deferred draw set the runtime's 2 ([`with_draw_delay`]).
	pub static DrawDelay: u32 = 0;
	pub const MaxDrawsPerBlock: u32 = 3;
}

/// Run `test` with providers drawn `delay` blocks after posting, as the runtime does.
pub fn with_draw_delay<R>(delay: u32, test: impl FnOnce() -> R) -> R {
	DrawDelay::set(delay);
	let result = test();
	DrawDelay::set(0);
	result
}

impl pallet_gpu_jobs::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = MockPayment;
	type Providers = MockSource;
	type Usage = MockUsageRecorder;
	type Randomness = MockRandomness;
	type AuthorityId = DsyncAuthId;
	type ModelOrigin = EnsureRoot<AccountId>;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxModelBytes = MaxModelBytes;
	type MaxInlineInput = MaxInlineInput;
	type MaxReplication = MaxReplication;
	type MaxCandidates = MaxCandidates;
	type MaxOpenJobs = MaxOpenJobs;
	type MaxJobsPerBlockSettled = MaxJobsPerBlockSettled;
	type MaxExpiriesPerBlock = MaxExpiriesPerBlock;
	type DrawDelay = DrawDelay;
	type MaxDrawsPerBlock = MaxDrawsPerBlock;
	type MaxUrlLen = MaxUrlLen;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

// ---------------------------------------------------------------------------------------------
// Externalities.

/// The parameters of the tests: deadlines 10..=1_000 blocks ahead, a 4-block reveal period and
/// a 10-block dispute period.
pub fn test_params() -> GpuJobsParams {
	GpuJobsParams {
		min_deadline: 10,
		max_deadline: 1_000,
		reveal_period: 4,
		dispute_period: 10,
		unavailable_forfeit: Perbill::from_percent(10),
	}
}

/// Builds the test externalities.
pub struct ExtBuilder {
	params: GpuJobsParams,
	providers: Vec<MockProvider>,
	models: Vec<(Vec<u8>, Balance)>,
}

impl Default for ExtBuilder {
	/// Five providers `provider(1..=5)` of the digits model with a full score, the digits model
	/// (id 0) at genesis with a floor of [`FLOOR`].
	fn default() -> Self {
		Self::empty().providers(5)
	}
}

impl ExtBuilder {
	/// The digits model and no provider.
	pub fn empty() -> Self {
		Self {
			params: test_params(),
			providers: Vec::new(),
			models: vec![(DIGITS_64_128_64_10.to_vec(), FLOOR)],
		}
	}

	/// Add providers `provider(1..=n)` of the digits model with keys `key_of(owner)` and a full
	/// score.
	pub fn providers(mut self, n: u8) -> Self {
		for i in 1..=n {
			self = self.provider(provider(i), key_of(&provider(i)), Perbill::one());
		}
		self
	}

	/// Add one provider of the digits model.
	pub fn provider(mut self, owner: AccountId, key: AccountId, score: Perbill) -> Self {
		self.providers.push(MockProvider { owner, key, score, models: vec![DIGITS] });
		self
	}

	/// The externalities at block 1, after `on_initialize`.
	pub fn build(self) -> sp_io::TestExternalities {
		MaxOpenJobs::set(50);
		MaxJobsPerBlockSettled::set(8);
		MaxExpiriesPerBlock::set(16);
		PaymentFails::set(false);
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances: Vec<(AccountId, Balance)> = self
			.providers
			.iter()
			.map(|entry| (entry.owner.clone(), PROVIDER_BALANCE))
			.collect();
		balances.extend([
			(ALICE, CLIENT_BALANCE),
			(BOB, CLIENT_BALANCE),
			(POOR, POOR_BALANCE),
			(TREASURY, PROVIDER_BALANCE),
		]);
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_gpu_jobs::GenesisConfig::<Test> { parameters: self.params, models: self.models }
			.assimilate_storage(&mut storage)
			.unwrap();

		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			MockProviders::put(self.providers);
			System::set_block_number(1);
			GpuJobs::on_initialize(1);
		});
		ext
	}

	/// Build, run `test`, then check the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			GpuJobs::do_try_state().expect("the invariants hold after every test");
		});
	}
}

/// The externalities the benchmarks run in as tests: no provider, and the providers drawn two
/// blocks after posting, as in the runtime (each test runs on its own thread, whose
/// [`DrawDelay`] this sets).
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> sp_io::TestExternalities {
	DrawDelay::set(2);
	ExtBuilder::empty().build()
}

// ---------------------------------------------------------------------------------------------
// Driving blocks.

/// Start the next block (`on_initialize`).
pub fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	GpuJobs::on_initialize(next);
}

/// Run blocks until block `n` has started, checking the invariants at each.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		next_block();
		GpuJobs::do_try_state().expect("the invariants hold at every block");
	}
}

/// The current block.
pub fn now() -> u64 {
	System::block_number()
}

// ---------------------------------------------------------------------------------------------
// Models, inputs and results.

/// The parsed digits model.
pub fn digits() -> Model {
	Model::parse(DIGITS_64_128_64_10).expect("the shipped model parses")
}

/// `n` digit-like items of 64 values in `0..=16`, different for every `seed`.
pub fn digit_items(n: usize, seed: u8) -> Vec<i8> {
	(0..n * 64).map(|i| ((i * 7 + usize::from(seed) * 13) % 17) as i8).collect()
}

/// The outputs of the digits model on `items` (a whole number of items).
pub fn digit_outputs(items: &[i8]) -> Vec<i32> {
	let model = digits();
	items
		.chunks_exact(64)
		.flat_map(|item| model.evaluate(item).expect("a 64-value item"))
		.collect()
}

/// The true result of the digits model on `items`.
pub fn digit_result(items: &[i8]) -> H256 {
	outputs_root(&digit_outputs(items), 10)
}

/// An inline input.
pub fn inline(values: Vec<i8>) -> JobInput<MaxInlineInput, MaxUrlLen> {
	JobInput::Inline(BoundedVec::try_from(values).expect("within MaxInlineInput"))
}

/// A batch input of `items` items with root `inputs_hash` at `url`.
pub fn batch(items: u32, inputs_hash: H256, url: &str) -> JobInput<MaxInlineInput, MaxUrlLen> {
	JobInput::Batch {
		items,
		inputs_hash,
		url: BoundedVec::try_from(url.as_bytes().to_vec()).expect("within MaxUrlLen"),
	}
}

/// `client` posts `input` on the digits model with replication `k` and price `price`, deadline
/// 20 blocks ahead; returns the job id.
pub fn post(
	client: &AccountId,
	input: JobInput<MaxInlineInput, MaxUrlLen>,
	k: u8,
	price: Balance,
) -> JobId {
	let id = crate::NextJobId::<Test>::get();
	GpuJobs::post_job(RuntimeOrigin::signed(client.clone()), DIGITS, input, k, price, now() + 20)
		.expect("the job is posted");
	id
}

/// The providers of job `id`, in draw order.
pub fn providers_of(id: JobId) -> Vec<AccountId> {
	crate::Jobs::<Test>::get(id)
		.expect("the job is open")
		.providers
		.iter()
		.map(|slot| slot.who.clone())
		.collect()
}

/// `owner` (a standard provider) commits to `result` on job `id` with [`SALT`].
pub fn commit(owner: &AccountId, id: JobId, result: H256) -> DispatchResult {
	GpuJobs::commit_result(
		RuntimeOrigin::signed(key_of(owner)),
		id,
		crate::commitment_of(id, owner, &result, &SALT),
	)
	.map(|_| ())
	.map_err(|error| error.error)
}

/// `owner` reveals `result` on job `id` with [`SALT`].
pub fn reveal(owner: &AccountId, id: JobId, result: H256) -> DispatchResult {
	GpuJobs::reveal_result(RuntimeOrigin::signed(key_of(owner)), id, result, SALT)
		.map(|_| ())
		.map_err(|error| error.error)
}

/// Every `(provider, result)` commits, then reveals (in the same block when all providers
/// commit, otherwise after the commit deadline).
pub fn play(id: JobId, results: &[(AccountId, H256)]) {
	for (owner, result) in results {
		commit(owner, id, *result).expect("the commitment is accepted");
	}
	let job = crate::Jobs::<Test>::get(id).expect("the job is open");
	if !job.all_committed() {
		run_to_block(job.commit_deadline);
	}
	for (owner, result) in results {
		reveal(owner, id, *result).expect("the result is revealed");
	}
}

/// The off-chain key of the first provider of job `id` that revealed `result`: only a
/// provider of a result may challenge with it. Bob's account when none did (for the refusals
/// that come before that check).
pub fn backer(id: JobId, result: H256) -> AccountId {
	crate::Jobs::<Test>::get(id)
		.and_then(|job| {
			job.providers
				.iter()
				.find(|slot| slot.result == Some(result))
				.map(|slot| key_of(&slot.who))
		})
		.unwrap_or(BOB)
}

/// A resolution claim without proof (for one-item jobs) or with one.
pub fn claim(root: H256, leaf: H256, proof: Vec<[u8; 32]>) -> ResultClaim {
	ResultClaim {
		root,
		leaf,
		proof: BoundedVec::try_from(proof.into_iter().map(H256).collect::<Vec<_>>())
			.expect("a short proof"),
	}
}

/// A batch item with its input proof.
pub fn batch_item(input: Vec<i8>, proof: Vec<[u8; 32]>) -> BatchItem {
	BatchItem {
		input: BoundedVec::try_from(input).expect("a short item"),
		proof: BoundedVec::try_from(proof.into_iter().map(H256).collect::<Vec<_>>())
			.expect("a short proof"),
	}
}

/// Item `index` of the batch of digit `inputs` (64 values an item), with its Merkle proof
/// against the batch's inputs hash ([`crate::inputs_root`]).
pub fn proven_item(inputs: &[i8], index: usize) -> BatchItem {
	let leaves: Vec<[u8; 32]> = inputs.chunks(64).map(crate::input_leaf).collect();
	let start = index * 64;
	batch_item(
		inputs[start..start + 64].to_vec(),
		dsync_aivm_core::merkle_proof(&leaves, index).expect("an item of the batch"),
	)
}

/// Bob (anyone may) re-executes item `item` of job `id` with `batch` and `claims`; a
/// successful re-execution is free: the loser pays through its penalty.
pub fn resolve(
	id: JobId,
	item: u32,
	batch: Option<BatchItem>,
	claims: Vec<ResultClaim>,
) -> DispatchResult {
	let info = GpuJobs::resolve_by_execution(
		RuntimeOrigin::signed(BOB),
		id,
		item,
		batch,
		BoundedVec::try_from(claims).expect("at most MaxReplication claims"),
	)
	.map_err(|error| error.error)?;
	assert_eq!(info.pays_fee, frame_support::dispatch::Pays::No);
	Ok(())
}

/// The events of this pallet so far, oldest first.
pub fn events() -> Vec<pallet_gpu_jobs::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::GpuJobs(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The last event of this pallet.
pub fn last_event() -> pallet_gpu_jobs::Event<Test> {
	events().pop().expect("an event of the gpu-jobs pallet was emitted")
}

/// The free balance of `who`.
pub fn free(who: &AccountId) -> Balance {
	<Balances as fungible::Inspect<AccountId>>::balance(who)
}

/// The balance `who` holds in escrow.
pub fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&crate::HoldReason::Escrow.into(), who)
}

/// The total issuance.
pub fn issuance() -> Balance {
	<Balances as fungible::Inspect<AccountId>>::total_issuance()
}

/// Run blocks until job `id`'s dispute end has started: the end of its challenge window, where
/// a concluded job is paid.
pub fn run_to_dispute_end(id: JobId) {
	let end = crate::Jobs::<Test>::get(id).expect("the job is open").dispute_end;
	run_to_block(end);
}
