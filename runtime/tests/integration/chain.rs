//! A minimal block producer over `TestExternalities`.

use codec::Encode;
use dsync_primitives::{time::SLOT_DURATION, AccountId, Balance, Hash, Nonce};
use dsync_runtime::{
	genesis_config_presets, Babe, Executive, Header, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, SignedPayload, System, TimestampCall, TxExtension, UncheckedExtrinsic,
};
use frame_support::traits::fungible::Inspect;
use serde_json::Value;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	BABE_ENGINE_ID,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::{Digest, DigestItem},
	traits::Header as _,
	ApplyExtrinsicResult, BuildStorage, MultiAddress, MultiSignature,
};

/// Merge a JSON patch into a JSON value, as the node does with a preset over the default config.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The genesis config of preset `name`.
pub fn genesis_config(name: &str) -> RuntimeGenesisConfig {
	let patch = genesis_config_presets::get_preset(&name.into()).expect("preset exists");
	let patch: Value = serde_json::from_slice(&patch).expect("presets are valid JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	serde_json::from_value(config).expect("a preset patch fits the genesis config")
}

/// A chain under test.
pub struct TestChain {
	pub ext: sp_io::TestExternalities,
	parent_hash: Hash,
	slot: u64,
	/// Of the last block: how long its initialisation (every pallet's `on_initialize`) took, and
	/// the weight it declared for it (the block's weight right after initialisation: the base
	/// block weight and every hook's).
	pub last_initialization: (std::time::Duration, frame_support::weights::Weight),
}

/// First slot of every test chain (any value works; BABE's genesis slot is the first block's).
const FIRST_SLOT: u64 = 300_000_000;

impl TestChain {
	/// A chain at genesis of preset `name`, with block 1 already produced.
	pub fn new(name: &str) -> Self {
		Self::from_config(genesis_config(name))
	}

	/// A chain at genesis `config` (e.g. a preset with a changed field), with block 1 produced.
	pub fn from_config(config: RuntimeGenesisConfig) -> Self {
		let storage = config.build_storage().expect("genesis builds");
		let mut chain = Self {
			ext: sp_io::TestExternalities::new(storage),
			parent_hash: Hash::default(),
			slot: FIRST_SLOT - 1,
			last_initialization: Default::default(),
		};
		chain.next_block(vec![]);
		chain
	}

	/// Run `f` against the chain's state.
	pub fn execute<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// Produce the next block in the next slot, with `extrinsics` after the inherents.
	pub fn next_block(&mut self, extrinsics: Vec<UncheckedExtrinsic>) -> Vec<ApplyExtrinsicResult> {
		self.block_at_slot_offset(1, extrinsics)
	}

	/// Produce a block `slots` slots after the previous one (the slots between stay empty, as
	/// when validators are offline).
	pub fn block_at_slot_offset(
		&mut self,
		slots: u64,
		extrinsics: Vec<UncheckedExtrinsic>,
	) -> Vec<ApplyExtrinsicResult> {
		self.slot += slots;
		let slot = self.slot;
		let parent_hash = self.parent_hash;
		let (hash, results, initialization) = self.ext.execute_with(|| {
			let number = System::block_number() + 1;
			let authorities = Babe::authorities().len().max(1) as u64;
			let pre_digest = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
				authority_index: (slot % authorities) as u32,
				slot: slot.into(),
			});
			let digest =
				Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre_digest.encode())] };
			let header =
				Header::new(number, Default::default(), Default::default(), parent_hash, digest);
			let started = std::time::Instant::now();
			Executive::initialize_block(&header);
			let initialization = (started.elapsed(), System::block_weight().total());
			let timestamp =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(TimestampCall::set {
					now: slot * SLOT_DURATION,
				}));
			Executive::apply_extrinsic(timestamp)
				.expect("timestamp inherent is valid")
				.expect("timestamp inherent succeeds");
			Executive::inherents_applied();
			let results: Vec<_> = extrinsics.into_iter().map(Executive::apply_extrinsic).collect();
			let header = Executive::finalize_block();
			(header.hash(), results, initialization)
		});
		self.last_initialization = initialization;
		self.ext.commit_all().expect("committing the overlay works");
		self.parent_hash = hash;
		results
	}

	/// Produce blocks, each starting a new session (one epoch of slots apart), until the session
	/// index is `index`.
	pub fn run_to_session(&mut self, index: u32) {
		let epoch = dsync_runtime::configs::consensus::EPOCH_DURATION_IN_SLOTS;
		while self.execute(dsync_runtime::Session::current_index) < index {
			self.block_at_slot_offset(epoch, vec![]);
		}
	}

	/// Produce session-starting blocks until the active era is `era`.
	pub fn run_to_era(&mut self, era: u32) {
		let epoch = dsync_runtime::configs::consensus::EPOCH_DURATION_IN_SLOTS;
		let mut guard = 0;
		while self.execute(active_era) < era {
			self.block_at_slot_offset(epoch, vec![]);
			guard += 1;
			assert!(guard < 10_000, "era {era} never started");
		}
	}

	/// Events of the last block.
	pub fn events(&mut self) -> Vec<RuntimeEvent> {
		self.execute(|| System::events().into_iter().map(|r| r.event).collect())
	}
}

/// The active era, 0 before the first.
pub fn active_era() -> u32 {
	pallet_staking::ActiveEra::<Runtime>::get().map(|e| e.index).unwrap_or(0)
}

/// The fee paid in the last block (by its first fee-paying transaction).
pub fn fee_paid(chain: &mut TestChain) -> Balance {
	chain
		.events()
		.into_iter()
		.find_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) => Some(actual_fee),
			_ => None,
		})
		.expect("a fee was paid")
}

/// The account of an sr25519 key (an off-chain key's account, as the registry names it).
pub fn account_of(key: &sp_core::sr25519::Pair) -> AccountId {
	AccountId::from(sp_core::Pair::public(key))
}

/// Free balance of `who`.
pub fn free(who: &AccountId) -> Balance {
	pallet_balances::Pallet::<Runtime>::balance(who)
}

/// Total issuance of DSYNC.
pub fn total_issuance() -> Balance {
	pallet_balances::Pallet::<Runtime>::total_issuance()
}

/// The transaction extensions of a transaction with `nonce` and `tip`.
pub fn tx_extension(nonce: Nonce, tip: Balance) -> TxExtension {
	dsync_runtime::tx_extension(nonce, tip)
}

/// A transaction of `call` signed by `signer` with its current nonce. Call inside `execute`.
pub fn signed(signer: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	let nonce = System::account_nonce(signer.to_account_id());
	signed_with(signer, call, nonce, 0)
}

/// A transaction of `call` signed by `signer` with an explicit nonce and tip.
pub fn signed_with(
	signer: Sr25519Keyring,
	call: RuntimeCall,
	nonce: Nonce,
	tip: Balance,
) -> UncheckedExtrinsic {
	let extension = tx_extension(nonce, tip);
	let payload =
		SignedPayload::new(call.clone(), extension.clone()).expect("extension is valid; qed");
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(signer.to_account_id()),
		MultiSignature::Sr25519(signature),
		extension,
	)
}

/// A transaction of `call` signed by the sr25519 key `pair` with an explicit nonce and no tip, for
/// signers that are not development accounts of the keyring (e.g. a node's off-chain `dsyn` key).
pub fn signed_by_pair(
	pair: &sp_core::sr25519::Pair,
	nonce: Nonce,
	call: RuntimeCall,
) -> UncheckedExtrinsic {
	use sp_core::Pair as _;
	let extension = tx_extension(nonce, 0);
	let payload =
		SignedPayload::new(call.clone(), extension.clone()).expect("extension is valid; qed");
	let signature = payload.using_encoded(|bytes| pair.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(AccountId::from(pair.public())),
		MultiSignature::Sr25519(signature),
		extension,
	)
}
