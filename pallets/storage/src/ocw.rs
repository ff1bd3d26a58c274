//! The storage provider's off-chain worker: accept offered slots and prove held ones.
//!
//! It runs on every node after each imported block, and does something only where the node
//! keeps storage: the node writes its own storage endpoint's URL under
//! [`STORAGE_URL_KEY`](dsync_primitives::offchain::STORAGE_URL_KEY) (`--storage-dir`). For each
//! `dsyn` key in the keystore whose owner is a storage provider, it reads the provider's work
//! ([`Pallet::provider_work`]) and:
//!
//! - for a slot offered to it ([`SlotTask::Accept`]), asks the node for the proof of the
//!   offer's challenged piece, `GET {url}/dsync/storage/v1/slots/{order}/{slot}/proofs/{piece}`,
//!   and submits [`Pallet::accept_slot`]. The node answers only once the client's upload
//!   arrived and matched the slot's root; before that (`404`) the worker waits for a later
//!   block. A provider that never gets the bytes lets the offer expire, unpenalised.
//! - for a held slot due this epoch ([`SlotTask::Prove`]), asks for the proof of every
//!   challenged piece and submits [`Pallet::prove_slot`] for the epoch. A node that cannot prove
//!   a piece (the file is gone) submits nothing: the epoch is a miss, never a wrong proof.
//!
//! Each transaction is signed by the `dsyn` key ([`submit_signed`]: nonces that do not collide
//! with the other workers'), and not sent again for the same slot and task before
//! [`RESUBMIT_AFTER_BLOCKS`] blocks, the record kept in persistent local storage under
//! `b"dsync/storage/" ++ SCALE((key, order, slot))`. Every HTTP exchange ends within
//! [`HTTP_TIMEOUT_MS`]; the node's endpoint is loopback, so these are quick; nothing panics on
//! any answer (a malformed proof is logged and nothing is submitted).

use crate::{Call, Config, Pallet, StorageProviders, LOG_TARGET};
use codec::{Decode, Encode};
use dsync_primitives::{
	offchain::{
		http_get_local_until, local_storage_key, submit_signed, Observation, STORAGE_URL_KEY,
	},
	storage::{
		api::proof_path,
		pieces::{verify_piece, PieceProof},
		SlotTask, SlotWork,
	},
};
use frame_support::BoundedVec;
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::offchain::StorageKind;
use sp_runtime::{
	offchain::{storage::StorageValueRef, Duration},
	SaturatedConversion,
};

/// Blocks after which an acceptance or proof that is not on chain yet is sent again.
pub const RESUBMIT_AFTER_BLOCKS: u32 = 3;

/// How long one proof request to the node's own endpoint may take, in milliseconds.
pub const HTTP_TIMEOUT_MS: u64 = 2_000;

/// The longest proof answer read: a piece and 31 siblings, SCALE-encoded, with room to spare.
pub const MAX_PROOF_BYTES: usize = 2_048;

/// The prefix of the worker's records in persistent local storage.
pub const LOCAL_PREFIX: &[u8] = b"dsync/storage/";

/// What the worker sent last for one slot: the task (`0` accept, `1` prove), its epoch (0 for
/// an acceptance) and the block it was sent at.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sent {
	/// `0` an acceptance, `1` a proof.
	pub task: u8,
	/// The epoch proven (0 for an acceptance).
	pub epoch: u32,
	/// The block of the worker's run that sent it.
	pub block: u32,
}

/// The base URL of the node's storage endpoint, if the node keeps storage.
pub fn storage_url() -> Option<alloc::vec::Vec<u8>> {
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, STORAGE_URL_KEY)
		.filter(|url| !url.is_empty())
}

/// Why a proof could not be read from the node.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProofError {
	/// The node does not have the slot (not uploaded yet, or lost): `404`.
	NotHeld,
	/// Any other status.
	Status(u16),
	/// No answer in time.
	Unreachable,
	/// The answer is not a SCALE-encoded [`PieceProof`] (or is too long).
	Malformed,
	/// The proof does not verify against the slot's root: the node's copy is damaged.
	Invalid,
}

/// The proof of `piece` of slot `slot` of order `order` from the node's endpoint at `base`.
pub fn fetch_proof(
	base: &[u8],
	order: u64,
	slot: u8,
	piece: u64,
) -> Result<PieceProof, ProofError> {
	let mut url = alloc::string::String::from_utf8_lossy(base).into_owned();
	while url.ends_with('/') {
		url.pop();
	}
	url.push_str(&proof_path(order, slot, piece));
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_TIMEOUT_MS));
	match http_get_local_until(&url, MAX_PROOF_BYTES, deadline) {
		Observation::Response { status: 200, body, .. } => {
			if body.len() > MAX_PROOF_BYTES {
				return Err(ProofError::Malformed);
			}
			PieceProof::decode(&mut body.as_slice()).map_err(|_| ProofError::Malformed)
		},
		Observation::Response { status: 404, .. } => Err(ProofError::NotHeld),
		Observation::Response { status, .. } => Err(ProofError::Status(status)),
		Observation::Unreachable | Observation::Refused => Err(ProofError::Unreachable),
	}
}

impl<T: Config> Pallet<T> {
	/// The worker's run at block `now` (see the module documentation).
	pub(crate) fn run_offchain_worker(now: BlockNumberFor<T>) {
		let Some(base) = storage_url() else { return };
		let block: u32 = now.saturated_into();
		for account in Signer::<T, T::AuthorityId>::keystore_accounts() {
			let Some(provider) = T::Providers::owner_of_key(&account.id) else { continue };
			for work in Self::provider_work(&provider) {
				let (task, epoch) = match &work.task {
					SlotTask::Accept { .. } => (0u8, 0u32),
					SlotTask::Prove { epoch, .. } => (1, *epoch),
					SlotTask::Keep => continue,
				};
				let key = local_storage_key(LOCAL_PREFIX, &(&account.id, work.order, work.slot));
				let record = StorageValueRef::persistent(&key);
				if let Ok(Some(sent)) = record.get::<Sent>() {
					if sent.task == task
						&& sent.epoch == epoch
						&& block < sent.block.saturating_add(RESUBMIT_AFTER_BLOCKS)
					{
						continue;
					}
				}
				let call = match Self::answer(&base, &work) {
					Ok(call) => call,
					Err(ProofError::NotHeld) => continue,
					Err(error) => {
						log::warn!(
							target: LOG_TARGET,
							"slot {} of order {}: no proof from the node ({error:?})",
							work.slot,
							work.order
						);
						continue;
					},
				};
				if Self::submit(&account, call) {
					record.set(&Sent { task, epoch, block });
				}
			}
		}
	}

	/// The call answering `work`'s task, with the proofs read from the node at `base`, each
	/// checked against the slot's root first: a node whose copy is damaged sends nothing (an
	/// epoch missed) rather than a proof the chain would take for a fault.
	fn answer(base: &[u8], work: &SlotWork) -> Result<Call<T>, ProofError> {
		let (order, slot) = (work.order, work.slot);
		let checked = |piece: u64| -> Result<PieceProof, ProofError> {
			let proof = fetch_proof(base, order, slot, piece)?;
			verify_piece(&work.root, work.len, piece, &proof).map_err(|_| ProofError::Invalid)?;
			Ok(proof)
		};
		match &work.task {
			SlotTask::Accept { challenge, .. } => {
				let proof = checked(*challenge)?;
				Ok(Call::accept_slot { order, slot, proof })
			},
			SlotTask::Prove { epoch, challenges } => {
				let mut proofs = alloc::vec::Vec::with_capacity(challenges.len());
				for piece in challenges {
					proofs.push(checked(*piece)?);
				}
				let proofs = BoundedVec::try_from(proofs).map_err(|_| ProofError::Malformed)?;
				Ok(Call::prove_slot { order, slot, epoch: *epoch, proofs })
			},
			SlotTask::Keep => Err(ProofError::NotHeld),
		}
	}

	fn submit(account: &Account<T>, call: Call<T>) -> bool {
		match submit_signed::<T, T::AuthorityId, Call<T>>(account, call) {
			Ok(()) => true,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "storage transaction not submitted: {error:?}");
				false
			},
		}
	}
}
