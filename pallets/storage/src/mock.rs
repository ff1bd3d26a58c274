//! A test runtime: `frame_system`, `pallet_balances` (escrows are held there) and this pallet,
//! with storage providers, a service payment (10 % burned, 20 % to the treasury, the rest to the
//! provider), a usage recorder and penalties kept in storage (so they roll back with
//! transactions), and helpers that build real slots and proofs.

use crate::{
	self as pallet_storage, EpochIndex, OrderId, SlotIndex, SlotSpec, StorageParams,
	StoragePenalty, StorageProviders,
};
use codec::Encode;
use dsync_primitives::{
	storage::{
		layout::shard_len,
		pieces::{prove_piece, slot_leaves, slot_root, PieceProof},
		Cid,
	},
	traits::{PaymentSplit, ServiceKind, ServicePayment, UsageProof, UsageRecorder},
};
use frame_support::{
	derive_impl, parameter_types,
	storage::with_storage_layer,
	traits::{
		fungible,
		tokens::{Fortitude, Precision, Restriction},
		Hooks, Randomness,
	},
	BoundedVec,
};
use frame_system::offchain::AppCrypto;
use frame_system::EnsureRoot;
use sp_core::H256;
use sp_runtime::{
	generic::UncheckedExtrinsic, AccountId32, BuildStorage, DispatchError, MultiSignature,
	MultiSigner, Perbill,
};

type Block = frame_system::mocking::MockBlock<Test>;

/// The extrinsics the off-chain worker puts into the test pool: signed by the key account with
/// a real signature of `(call, nonce)`.
pub type Extrinsic = UncheckedExtrinsic<AccountId, RuntimeCall, MultiSignature, ()>;

/// Account ids of the test runtime.
pub type AccountId = AccountId32;
/// Balances of the test runtime.
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Storage: pallet_storage,
	}
);

/// A client with plenty of funds.
pub const ALICE: AccountId = AccountId32::new([100; 32]);
/// A second client.
pub const BOB: AccountId = AccountId32::new([101; 32]);
/// The treasury.
pub const TREASURY: AccountId = AccountId32::new([200; 32]);
/// The existential deposit.
pub const ED: Balance = 5;
/// A client's starting balance.
pub const CLIENT_BALANCE: Balance = 10_000_000;
/// A provider's starting balance.
pub const PROVIDER_BALANCE: Balance = 1_000;

/// Provider `n` (owner account).
pub fn provider(n: u8) -> AccountId {
	AccountId32::new([n; 32])
}

/// Provider `n`'s node key.
pub fn key_of(n: u8) -> AccountId {
	AccountId32::new([n.wrapping_add(50); 32])
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
	type Balance = Balance;
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
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

/// One mock storage provider.
#[derive(Clone, Encode, codec::Decode, PartialEq, Eq, Debug)]
pub struct MockProvider {
	/// Its owner.
	pub owner: AccountId,
	/// Declared capacity in bytes.
	pub capacity: u64,
	/// Its score.
	pub score: Perbill,
	/// Whether it is active.
	pub active: bool,
}

parameter_types! {
	/// The providers, in registration order.
	pub storage ProviderList: Vec<MockProvider> = Vec::new();
	/// Node keys besides [`key_of`]: (key, owner), for the off-chain worker's keystore key.
	pub storage ExtraKeys: Vec<(AccountId, AccountId)> = Vec::new();
	/// Every penalty given, in order.
	pub storage Penalties: Vec<(AccountId, StoragePenalty)> = Vec::new();
	/// Every usage recorded: (provider, client, units, burned).
	pub storage Usage: Vec<(AccountId, AccountId, u64, u128)> = Vec::new();
	/// Whether payments fail (a currency refusing the transfer).
	pub storage PaymentFails: bool = false;
	/// A VRF output the tests can change, so draws can differ.
	pub storage MockVrf: [u8; 32] = [0; 32];
}

/// The providers as the pallet sees them.
pub struct MockProviders;
impl StorageProviders<AccountId> for MockProviders {
	fn candidates() -> Vec<AccountId> {
		ProviderList::get().into_iter().filter(|p| p.active).map(|p| p.owner).collect()
	}
	fn offer(who: &AccountId) -> Option<(u64, Perbill)> {
		ProviderList::get()
			.into_iter()
			.find(|p| &p.owner == who && p.active)
			.map(|p| (p.capacity, p.score))
	}
	fn owner_of_key(key: &AccountId) -> Option<AccountId> {
		if let Some((_, owner)) = ExtraKeys::get().into_iter().find(|(k, _)| k == key) {
			return Some(owner);
		}
		ProviderList::get().into_iter().map(|p| p.owner).find(|owner| {
			let bytes: &[u8] = owner.as_ref();
			key_of(bytes[0]) == *key
		})
	}
	fn endpoint(provider: &AccountId) -> Vec<u8> {
		let bytes: &[u8] = provider.as_ref();
		alloc::format!("http://provider-{}.test", bytes[0]).into_bytes()
	}
	fn penalise(provider: &AccountId, penalty: StoragePenalty) {
		let mut all = Penalties::get();
		all.push((provider.clone(), penalty));
		Penalties::set(&all);
	}
}

/// 10 % burned, 20 % to the treasury, the rest to the provider.
pub struct MockPayment;
/// The burn of a payment.
pub fn burn_share(amount: Balance) -> Balance {
	amount / 10
}
/// The treasury's share.
pub fn treasury_share(amount: Balance) -> Balance {
	amount / 5
}
impl ServicePayment<AccountId, Balance> for MockPayment {
	type HoldReason = RuntimeHoldReason;
	fn charge(
		_: &AccountId,
		_: Option<&AccountId>,
		_: Balance,
		_: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError> {
		Err(DispatchError::Other("the storage pallet charges held funds only"))
	}
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
			let rest = amount - burned - treasury;
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
			Ok(PaymentSplit { burned, provider: rest, treasury })
		})
	}
}

/// Records usage in storage.
pub struct MockUsage;
impl UsageRecorder<AccountId> for MockUsage {
	fn record_usage(
		provider: &AccountId,
		client: &AccountId,
		kind: ServiceKind,
		units: u64,
		proof: UsageProof,
	) {
		assert_eq!(kind, ServiceKind::Storage);
		assert!(proof.verified);
		let mut all = Usage::get();
		all.push((provider.clone(), client.clone(), units, proof.burned));
		Usage::set(&all);
	}
}

/// Randomness from the block number, the subject and [`MockVrf`].
pub struct MockRandomness;
impl Randomness<H256, u64> for MockRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		(H256(sp_io::hashing::blake2_256(&(subject, block, MockVrf::get()).encode())), block)
	}
}

parameter_types! {
	pub const DrawDelay: u64 = 2;
	pub const MaxSlots: u32 = 8;
	pub const MaxOffersPerSlot: u32 = 3;
	pub const MaxProvidersPerOrder: u32 = 24;
	pub const MaxChallenges: u32 = 4;
	pub static MaxOpenOrders: u32 = 20;
	pub const MaxDrawAttempts: u32 = 16;
	pub static MaxTasksPerBlock: u32 = 64;
	pub static AgendaWeight: frame_support::weights::Weight = frame_support::weights::Weight::from_parts(1_000_000_000_000, u64::MAX);
}

impl pallet_storage::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = MockPayment;
	type Providers = MockProviders;
	type Usage = MockUsage;
	type Randomness = MockRandomness;
	type AuthorityId = dsync_primitives::offchain::DsyncAuthId;
	type AdminOrigin = EnsureRoot<AccountId>;
	type DrawDelay = DrawDelay;
	type MaxSlots = MaxSlots;
	type MaxOffersPerSlot = MaxOffersPerSlot;
	type MaxProvidersPerOrder = MaxProvidersPerOrder;
	type MaxChallenges = MaxChallenges;
	type MaxOpenOrders = MaxOpenOrders;
	type MaxDrawAttempts = MaxDrawAttempts;
	type MaxTasksPerBlock = MaxTasksPerBlock;
	type AgendaWeight = AgendaWeight;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// Makes providers for the benchmarks run as tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::traits::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn register_provider(owner: &AccountId, _key: &AccountId, capacity: u64) {
		let mut all = ProviderList::get();
		all.push(MockProvider {
			owner: owner.clone(),
			capacity,
			score: Perbill::from_percent(80),
			active: true,
		});
		ProviderList::set(&all);
		let _ = <Balances as fungible::Mutate<AccountId>>::mint_into(owner, PROVIDER_BALANCE);
	}
}

/// The test parameters: 10-block epochs, 1 data shard allowed (copies), at least one parity
/// slot, up to 8 slots, terms of 1 to 100 epochs, a price floor of 10, 5 blocks to accept, 3
/// offers per slot, 2 challenges per epoch, 2 misses tolerated.
pub fn test_params() -> StorageParams<Balance, u64> {
	StorageParams {
		epoch_length: 10,
		min_data_shards: 1,
		min_parity_shards: 1,
		max_slots: 8,
		max_order_bytes: 1 << 20,
		min_duration: 1,
		max_duration: 100,
		min_price: 10,
		accept_window: 5,
		max_offers: 3,
		challenges: 2,
		max_missed_epochs: 2,
	}
}

/// Builds the test externalities.
pub struct ExtBuilder {
	providers: u8,
	params: Option<StorageParams<Balance, u64>>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder { providers: 5, params: Some(test_params()) }
	}
}

impl ExtBuilder {
	/// `n` providers (accounts 1..=n), each with 1 MiB of capacity and a score of 80 %.
	pub fn providers(mut self, n: u8) -> Self {
		self.providers = n;
		self
	}
	/// No parameters at genesis.
	pub fn unconfigured(mut self) -> Self {
		self.params = None;
		self
	}
	/// The externalities.
	pub fn build(self) -> sp_io::TestExternalities {
		MaxOpenOrders::set(20);
		MaxTasksPerBlock::set(64);
		AgendaWeight::set(frame_support::weights::Weight::from_parts(1_000_000_000_000, u64::MAX));
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances: Vec<(AccountId, Balance)> =
			(1..=self.providers).map(|n| (provider(n), PROVIDER_BALANCE)).collect();
		balances.extend([
			(ALICE, CLIENT_BALANCE),
			(BOB, CLIENT_BALANCE),
			(TREASURY, PROVIDER_BALANCE),
		]);
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_storage::GenesisConfig::<Test> { parameters: self.params }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let providers = self.providers;
		ext.execute_with(|| {
			ProviderList::set(
				&(1..=providers)
					.map(|n| MockProvider {
						owner: provider(n),
						capacity: 1 << 20,
						score: Perbill::from_percent(80),
						active: true,
					})
					.collect(),
			);
			System::set_block_number(1);
			Storage::on_initialize(1);
		});
		ext
	}
	/// Runs `test`, then checks every invariant.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Storage::do_try_state().expect("the invariants hold after every test");
		});
	}
}

/// Starts the next block (`on_initialize`), checking the invariants.
pub fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	Storage::on_initialize(next);
	Storage::do_try_state().expect("the invariants hold at every block");
}

/// Runs blocks until `n`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		next_block();
	}
}

/// Content of `size` bytes (deterministic).
pub fn content(size: usize) -> Vec<u8> {
	(0..size).map(|i| (i * 31 % 251) as u8).collect()
}

/// The bytes slot `j` keeps for content of `size` with `data` data shards. A stand-in for the
/// coder: the pallet checks lengths and roots, not the coding, so each slot's bytes only need to
/// be distinct and of the shard length (and no two pieces alike: 251 is prime, so the pattern
/// never repeats with the 256-byte pieces).
pub fn slot_bytes(size: usize, data: u8, j: usize) -> Vec<u8> {
	let len = shard_len(size as u64, u64::from(data)).unwrap() as usize;
	(0..len).map(|i| ((i * 7 + j * 13) % 251) as u8).collect()
}

/// The slot specs of content of `size` in `slots` slots of which `data` are data.
pub fn specs(size: usize, data: u8, slots: usize) -> BoundedVec<SlotSpec, MaxSlots> {
	(0..slots)
		.map(|j| {
			let bytes = slot_bytes(size, data, j);
			SlotSpec { root: slot_root(&bytes), len: bytes.len() as u64 }
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

/// The CID of content of `size`.
pub fn cid_of(size: usize) -> Cid {
	Cid::raw(&content(size))
}

/// The proof of piece `index` of slot `j`'s bytes.
pub fn piece_proof(size: usize, data: u8, j: usize, index: u64) -> PieceProof {
	let bytes = slot_bytes(size, data, j);
	prove_piece(&bytes, &slot_leaves(&bytes), index).unwrap()
}

/// Proofs of the current epoch's challenges of slot `j` of order `id`.
pub fn epoch_proofs(
	id: OrderId,
	j: SlotIndex,
	epoch: EpochIndex,
	size: usize,
	data: u8,
) -> BoundedVec<PieceProof, MaxChallenges> {
	Storage::challenges(id, j, epoch)
		.unwrap()
		.into_iter()
		.map(|index| piece_proof(size, data, usize::from(j), index))
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

/// The events of this pallet so far.
pub fn storage_events() -> Vec<pallet_storage::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Storage(event) => Some(event),
			_ => None,
		})
		.collect()
}
