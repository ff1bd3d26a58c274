//! The chain under fuzzing: real blocks through `Executive` over `TestExternalities`, one block
//! open at a time (initialised, timestamp inherent applied) into which actions apply their
//! transactions one by one; closing a block finalises it and checks every invariant.

use crate::{invariants, stats};
use codec::Encode;
use dsync_primitives::{time::SLOT_DURATION, AccountId, Hash, Nonce};
use dsync_runtime::{
	Babe, Executive, Header, Runtime, RuntimeCall, SignedPayload, System, TimestampCall,
	TxExtension, UncheckedExtrinsic,
};
use frame_support::dispatch::GetDispatchInfo;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	BABE_ENGINE_ID,
};
use sp_core::{sr25519, Pair as _};
use sp_runtime::{
	generic::{Digest, DigestItem},
	traits::Header as _,
	ApplyExtrinsicResult, MultiAddress, MultiSignature,
};
use std::time::{Duration, Instant};

/// First slot of the chain (any value works; BABE's genesis slot is the first block's).
const FIRST_SLOT: u64 = 300_000_000;

/// How often a call whose first run took longer than its weight allows is timed again (in a
/// storage layer rolled back afterwards) before it counts as over its weight: the least of the
/// runs is taken, so a preemption of the fuzzing process is not a finding.
const RETIMES: usize = 2;

/// A chain with an open block.
pub struct Chain {
	pub ext: sp_io::TestExternalities,
	parent_hash: Hash,
	slot: u64,
}

impl Chain {
	/// A chain over `ext`, whose last block is `parent_hash` at `slot` (none open yet).
	pub fn new(ext: sp_io::TestExternalities, parent_hash: Hash, slot: u64) -> Self {
		Self { ext, parent_hash, slot }
	}

	/// A chain at genesis `ext`, no block open.
	pub fn at_genesis(ext: sp_io::TestExternalities) -> Self {
		Self::new(ext, Hash::default(), FIRST_SLOT - 1)
	}

	/// The last closed block's hash and slot (to restart a chain from a snapshot).
	pub fn head(&self) -> (Hash, u64) {
		(self.parent_hash, self.slot)
	}

	/// Run `f` against the chain's state.
	pub fn execute<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// Open the next block, `slots` slots after the last one.
	pub fn open(&mut self, slots: u64) {
		self.slot += slots.max(1);
		let slot = self.slot;
		let parent_hash = self.parent_hash;
		let started = Instant::now();
		self.ext.execute_with(|| {
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
			Executive::initialize_block(&header);
			let timestamp =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(TimestampCall::set {
					now: slot * SLOT_DURATION,
				}));
			let applied = Executive::apply_extrinsic(timestamp);
			assert!(matches!(applied, Ok(Ok(()))), "the timestamp inherent failed: {applied:?}");
			Executive::inherents_applied();
		});
		stats::phase("open", started.elapsed());
	}

	/// Finalise the open block, check every invariant on the state it left, and commit it.
	/// `last`: the input's last block (see [`invariants::check_all`]).
	pub fn close(&mut self, last: bool) {
		let started = Instant::now();
		let hash = self.ext.execute_with(|| {
			let header = Executive::finalize_block();
			stats::phase("finalize", started.elapsed());
			let checks = Instant::now();
			invariants::check_all(header.number, last);
			stats::phase("invariants", checks.elapsed());
			header.hash()
		});
		let commit = Instant::now();
		self.ext.commit_all().expect("committing the overlay works");
		stats::phase("commit", commit.elapsed());
		self.parent_hash = hash;
		stats::block();
	}

	/// Apply `xt` in the open block: the transaction pool's validation first (it must not
	/// panic), then the block's application, timed against the weight the transaction declared.
	pub fn apply(&mut self, xt: UncheckedExtrinsic) -> ApplyExtrinsicResult {
		self.ext.execute_with(|| {
			let started = Instant::now();
			let _ = Executive::validate_transaction(
				sp_runtime::transaction_validity::TransactionSource::External,
				xt.clone(),
				System::parent_hash(),
			);
			stats::phase("validate", started.elapsed());
			let started = Instant::now();
			let result = apply_timed(xt);
			stats::phase("apply", started.elapsed());
			result
		})
	}
}

/// The longest time `xt` may take: its declared weight (call and transaction extensions, plus
/// the base weight of an extrinsic of its class), scaled by [`crate::time_factor`].
fn allowed(xt: &UncheckedExtrinsic) -> Duration {
	let info = xt.get_dispatch_info();
	let base = <Runtime as frame_system::Config>::BlockWeights::get()
		.get(info.class)
		.base_extrinsic;
	let picos = info.total_weight().saturating_add(base).ref_time();
	Duration::from_nanos(((picos / 1_000) as f64 * crate::time_factor()) as u64)
}

/// Apply `xt` and check its execution time against its weight.
fn apply_timed(xt: UncheckedExtrinsic) -> ApplyExtrinsicResult {
	let limit = allowed(&xt);
	let call = xt.function.clone();
	sp_io::storage::start_transaction();
	let started = Instant::now();
	let result = Executive::apply_extrinsic(xt.clone());
	let mut took = started.elapsed();
	// Only included transactions are weighed; invalid ones never enter a block.
	if result.is_err() || took <= limit {
		sp_io::storage::commit_transaction();
		stats::applied(&call, &result, took, limit);
		return result;
	}
	sp_io::storage::rollback_transaction();
	for _ in 0..RETIMES {
		sp_io::storage::start_transaction();
		let started = Instant::now();
		let _ = Executive::apply_extrinsic(xt.clone());
		took = took.min(started.elapsed());
		sp_io::storage::rollback_transaction();
	}
	let result = Executive::apply_extrinsic(xt);
	stats::applied(&call, &result, took, limit);
	if took > limit {
		stats::over_weight(&call, took, limit);
	}
	result
}

/// The transaction extensions of a transaction with `nonce`, no tip.
fn tx_extension(nonce: Nonce) -> TxExtension {
	dsync_runtime::tx_extension(nonce, 0)
}

/// A transaction of `call` signed by `pair` with its current nonce. Call inside `execute`.
pub fn signed(pair: &sr25519::Pair, call: RuntimeCall) -> UncheckedExtrinsic {
	let who = AccountId::from(pair.public());
	let extension = tx_extension(System::account_nonce(&who));
	let payload =
		SignedPayload::new(call.clone(), extension.clone()).expect("the extension is valid");
	let signature = payload.using_encoded(|bytes| pair.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(who),
		MultiSignature::Sr25519(signature),
		extension,
	)
}
