//! Commit-reveal, as GPU jobs, Proof of Sync and naming use it: one commitment function with
//! explicit domain separation, and one vocabulary for the errors of windows, keys and
//! assignment.
//!
//! # Commitments
//!
//! A party first submits `commitment(domain, payload)` ([`commitment`]), then, later, the
//! payload itself; the pallet recomputes the commitment and compares. The commitment is
//!
//! ```text
//! blake2_256(SCALE((domain.tag(), payload)))
//! ```
//!
//! with the tag a SCALE byte string (compact length, then the bytes) and the payload a pallet's
//! tuple, which always ends with a secret 32-byte salt (naming calls it the secret):
//!
//! | [`Domain`] | tag | payload |
//! |---|---|---|
//! | [`Domain::GpuJobResult`] | `dsync/gpu-result/v1` | `(job: u64, provider: AccountId, result: H256, salt: [u8; 32])` |
//! | [`Domain::SyncReport`] | `dsync/pos-report/v2` | `(epoch: u32, node: AccountId, verifier: AccountId, report: ProbeReport, salt: [u8; 32])` |
//! | [`Domain::NameRegistration`] | `dsync/name-registration/v1` | `(label: Vec<u8>, owner: AccountId, secret: [u8; 32])` |
//!
//! Because every domain has its own tag, bytes committed for one use can never be revealed as
//! another, even where two payloads happen to encode the same way. A new use gets a new
//! [`Domain`] variant; a changed payload gets a new tag version.
//!
//! Every payload names what it commits for (the job; the epoch and the target; the label) and
//! the committing party (the provider, the verifier, the owner), besides the secret: a
//! commitment opens only for the party that made it, for what it made it for. Without the
//! party, anyone could copy another's commitment and, once it is revealed, its payload and
//! salt, and be credited for work it never did; without the epoch, a verifier could replay its
//! own commitment of an earlier epoch. (The Proof-of-Sync payload was `(report, salt)` under
//! `dsync/pos-report/v1`, which allowed both.)
//!
//! # Error vocabulary
//!
//! Every pallet whose calls commit and reveal names the `Error` variants of these cases exactly
//! as [`CommitRevealError`] does, so a caller meets the same name for the same mistake in every
//! pallet (the pallets' tests check the names):
//!
//! | Error | Why | GPU jobs | Proof of Sync | Naming |
//! |---|---|---|---|---|
//! | `UnknownOffchainKey` | the signer is not the off-chain (`dsyn`) key of a registered node | yes | yes | (any account commits) |
//! | `NotAssigned` | the signer's node was not drawn for this job or target | yes | yes | (no assignment) |
//! | `NotInCommitWindow` | commitments are not accepted now | yes | yes | (any time) |
//! | `AlreadyCommitted` | this party already committed in this round | yes | yes | (several per account; `DuplicateCommitment`: the same hash twice) |
//! | `NotInRevealWindow` | reveals are not accepted now: not yet, or no longer | yes | yes | `CommitmentTooNew`, `CommitmentTooOld` |
//! | `NoCommitment` | there is no commitment to reveal | yes | yes | yes |
//! | `CommitmentMismatch` | the payload does not hash to the commitment | yes | yes | (`NoCommitment`: looked up by hash) |
//! | `AlreadyRevealed` | this party already revealed in this round | yes | yes | (the commitment is consumed) |
//!
//! Naming's window is the age of each commitment (`min_commitment_age..=max_commitment_age`),
//! not a phase of a round, and its callers are people for whom the two ends ask for different
//! remedies (wait, or commit again), so it keeps its two age errors; the workers of GPU jobs and
//! Proof of Sync check the windows themselves before they submit. Errors about the subject
//! itself name it (`UnknownJob`, `NoAssignment`): they are each pallet's own.

use codec::Encode;
use sp_core::H256;

/// What a commitment is for: each domain has its own tag, the first thing hashed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Domain {
	/// A GPU provider's result of a job: `(job, provider, result, salt)`, with `provider` the
	/// node owner's account.
	GpuJobResult,
	/// A Proof-of-Sync verifier's report on a target: `(epoch, node, verifier, report, salt)`,
	/// with `node` the target's owner and `verifier` the verifier's validator-node owner.
	SyncReport,
	/// A name registration: `(label, owner, secret)`.
	NameRegistration,
}

impl Domain {
	/// Every domain.
	pub const ALL: [Domain; 3] =
		[Domain::GpuJobResult, Domain::SyncReport, Domain::NameRegistration];

	/// The domain's tag: fixed ASCII bytes, versioned.
	pub const fn tag(self) -> &'static [u8] {
		match self {
			Domain::GpuJobResult => b"dsync/gpu-result/v1",
			Domain::SyncReport => b"dsync/pos-report/v2",
			Domain::NameRegistration => b"dsync/name-registration/v1",
		}
	}
}

/// The commitment to `payload` in `domain`: `blake2_256(SCALE((domain.tag(), payload)))`.
pub fn commitment<P: Encode + ?Sized>(domain: Domain, payload: &P) -> H256 {
	H256((domain.tag(), payload).using_encoded(sp_crypto_hashing::blake2_256))
}

/// The shared names of the commit-reveal errors (see the [module docs](crate::commit_reveal)).
/// Pallets do not return this type: each names its own `Error` variants after it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CommitRevealError {
	/// The signer is not the off-chain key of any registered node. Sign with the `dsyn` key
	/// registered for your node.
	UnknownOffchainKey,
	/// The signer's node is not assigned to (was not drawn for) this job or target.
	NotAssigned,
	/// The commit window is not open: commitments are no longer (or not yet) accepted.
	NotInCommitWindow,
	/// This party already committed in this round.
	AlreadyCommitted,
	/// The reveal window is not open: wait for it, or it is over.
	NotInRevealWindow,
	/// There is no commitment to reveal; commit first.
	NoCommitment,
	/// The revealed payload and salt do not hash to the commitment.
	CommitmentMismatch,
	/// This party already revealed in this round.
	AlreadyRevealed,
}

impl CommitRevealError {
	/// Every name, in the order of the table in the module docs.
	pub const ALL: [CommitRevealError; 8] = [
		CommitRevealError::UnknownOffchainKey,
		CommitRevealError::NotAssigned,
		CommitRevealError::NotInCommitWindow,
		CommitRevealError::AlreadyCommitted,
		CommitRevealError::NotInRevealWindow,
		CommitRevealError::NoCommitment,
		CommitRevealError::CommitmentMismatch,
		CommitRevealError::AlreadyRevealed,
	];

	/// The name, as a pallet's `Error` variant spells it (and as `<&'static str>::from(error)`
	/// gives it).
	pub const fn as_str(self) -> &'static str {
		match self {
			CommitRevealError::UnknownOffchainKey => "UnknownOffchainKey",
			CommitRevealError::NotAssigned => "NotAssigned",
			CommitRevealError::NotInCommitWindow => "NotInCommitWindow",
			CommitRevealError::AlreadyCommitted => "AlreadyCommitted",
			CommitRevealError::NotInRevealWindow => "NotInRevealWindow",
			CommitRevealError::NoCommitment => "NoCommitment",
			CommitRevealError::CommitmentMismatch => "CommitmentMismatch",
			CommitRevealError::AlreadyRevealed => "AlreadyRevealed",
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::collections::btree_set::BTreeSet;

	const PAYLOAD: (&[u8], [u8; 32], [u8; 32]) = (b"alice", [1u8; 32], [2u8; 32]);

	#[test]
	fn the_commitment_hashes_the_tag_then_the_payload() {
		let tag = Domain::NameRegistration.tag();
		let mut bytes = alloc::vec::Vec::new();
		// A SCALE byte string: compact length (26 < 64: one byte, `len << 2`), then the bytes.
		bytes.push(26 << 2);
		bytes.extend_from_slice(tag);
		bytes.push(5 << 2);
		bytes.extend_from_slice(b"alice");
		bytes.extend_from_slice(&[1u8; 32]);
		bytes.extend_from_slice(&[2u8; 32]);
		assert_eq!(tag.len(), 26);
		let commitment = commitment(Domain::NameRegistration, &PAYLOAD);
		assert_eq!(commitment, H256(sp_crypto_hashing::blake2_256(&bytes)));
		// A known vector, so an accidental change of the format shows.
		assert_eq!(
			crate::hex::encode(commitment.as_bytes()),
			"5f2a20dddc115269b509cfc773c99c4191ebe85c993f882990a154c2840dc11c"
		);
	}

	#[test]
	fn domains_have_distinct_tags_and_commitments() {
		let tags: BTreeSet<&[u8]> = Domain::ALL.iter().map(|domain| domain.tag()).collect();
		assert_eq!(tags.len(), Domain::ALL.len());
		let commitments: BTreeSet<H256> =
			Domain::ALL.iter().map(|domain| commitment(*domain, &PAYLOAD)).collect();
		assert_eq!(commitments.len(), Domain::ALL.len());
	}

	#[test]
	fn the_same_payload_differs_under_two_domains_and_from_its_bare_hash() {
		let job_result = (7u64, [1u8; 32], H256::repeat_byte(3), [4u8; 32]);
		let gpu = commitment(Domain::GpuJobResult, &job_result);
		assert_ne!(gpu, commitment(Domain::SyncReport, &job_result));
		assert_ne!(gpu, commitment(Domain::NameRegistration, &job_result));
		// Not the undomained hash of the payload either.
		assert_ne!(gpu, H256(sp_crypto_hashing::blake2_256(&job_result.encode())));
		// Any change of the payload changes the commitment.
		let other_salt = (7u64, [1u8; 32], H256::repeat_byte(3), [5u8; 32]);
		assert_ne!(gpu, commitment(Domain::GpuJobResult, &other_salt));
	}

	#[test]
	fn the_error_names_are_distinct_and_match_their_variants() {
		let names: BTreeSet<&str> =
			CommitRevealError::ALL.iter().map(|error| error.as_str()).collect();
		assert_eq!(names.len(), CommitRevealError::ALL.len());
		for error in CommitRevealError::ALL {
			assert_eq!(alloc::format!("{error:?}"), error.as_str());
		}
	}
}
