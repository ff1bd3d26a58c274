//! Storage proofs: the Merkle tree over a slot's bytes and the check of one challenged piece.
//!
//! A *slot* is the bytes one provider keeps for an order (a copy of the content, or one coded
//! shard of it). They are cut into *pieces* of [`PIECE_SIZE`] bytes (the last one shorter); a
//! piece's leaf is `blake2_256(0x00 ++ piece)`, an inner node `blake2_256(0x01 ++ left ++
//! right)` (the batch tree of [`dsync_aivm_core::batch_merkle_root`]: pairs hashed, an odd last node
//! promoted). Leaves and inner nodes are hashed with different first bytes, so no piece can pass
//! for a node. The chain keeps each slot's root and length; a proof is the piece and its
//! siblings from the leaf up ([`PieceProof`]), and [`verify_piece`] needs the root, the length,
//! the index and the proof, nothing else: about `log2(pieces)` hashes (22 for 1 GiB).
//!
//! Which piece is challenged comes from [`challenged_piece`]: a hash of randomness the
//! provider could not know when it chose what to keep. A provider that lost a fraction `f` of
//! its pieces answers `c` independent challenges with probability `(1 - f)^c`: one challenge
//! catches a provider missing half its data half the time, ten challenges 99.9 % of the time.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
/// An inner node of the piece tree: `blake2_256(0x01 ++ left ++ right)`.
pub use dsync_aivm_core::merkle_node;
use dsync_aivm_core::{batch_merkle_root, merkle_proof, merkle_root_from_proof};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_crypto_hashing::blake2_256;
use sp_runtime::BoundedVec;

/// Bytes per piece (the last piece of a slot may be shorter).
pub const PIECE_SIZE: usize = 256;
/// The first byte of a leaf's preimage (an inner node's is `0x01`).
pub const PIECE_LEAF_PREFIX: u8 = 0x00;
/// The largest slot a proof can cover: 512 GiB (2^31 pieces, so a piece index fits the
/// runtime's 32-bit `usize`).
pub const MAX_SLOT_BYTES: u64 = 1 << 39;
/// The most siblings a proof holds: the height of the tree of [`MAX_SLOT_BYTES`].
pub const MAX_PROOF_DEPTH: u32 = 31;

/// The answer to one challenge: the piece's bytes and its siblings from the leaf up.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PieceProof {
	/// The piece's bytes: [`PIECE_SIZE`] of them unless it is the slot's last piece.
	pub piece: BoundedVec<u8, ConstU32<{ PIECE_SIZE as u32 }>>,
	/// The siblings on the way to the root, none for a level where the node is promoted.
	pub path: BoundedVec<[u8; 32], ConstU32<MAX_PROOF_DEPTH>>,
}

/// Why a piece proof was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PieceProofError {
	/// The slot is empty or longer than [`MAX_SLOT_BYTES`].
	InvalidSlotLength,
	/// The index is not a piece of the slot.
	IndexOutOfRange,
	/// The piece's length is not the length of that piece of the slot.
	WrongPieceLength,
	/// The path does not lead from the piece to the slot's root.
	RootMismatch,
}

/// The number of pieces of a slot of `len` bytes.
pub fn piece_count(len: u64) -> u64 {
	len.div_ceil(PIECE_SIZE as u64)
}

/// The byte length of piece `index` of a slot of `len` bytes, `None` out of range.
pub fn piece_len(len: u64, index: u64) -> Option<usize> {
	let start = index.checked_mul(PIECE_SIZE as u64)?;
	if start >= len {
		return None;
	}
	Some((len - start).min(PIECE_SIZE as u64) as usize)
}

/// The leaf of one piece.
pub fn piece_leaf(piece: &[u8]) -> [u8; 32] {
	let mut preimage = [0u8; PIECE_SIZE + 1];
	let len = piece.len().min(PIECE_SIZE);
	preimage[0] = PIECE_LEAF_PREFIX;
	preimage[1..=len].copy_from_slice(&piece[..len]);
	if piece.len() > PIECE_SIZE {
		// Only a caller's mistake gets here; such a leaf matches no root.
		let mut long = Vec::with_capacity(piece.len() + 1);
		long.push(PIECE_LEAF_PREFIX);
		long.extend_from_slice(piece);
		return blake2_256(&long);
	}
	blake2_256(&preimage[..=len])
}

/// The leaves of a slot's bytes.
pub fn slot_leaves(data: &[u8]) -> Vec<[u8; 32]> {
	data.chunks(PIECE_SIZE).map(piece_leaf).collect()
}

/// The first byte of a slot root's preimage.
pub const SLOT_ROOT_PREFIX: u8 = 0x02;

/// A slot's root: `blake2_256(0x02 ++ len as u64 LE ++ tree root)`. The length is bound in, so
/// a proof made for one length never verifies for another (the bare tree of 5 leaves has the
/// same root as a tree of 6 whose last pair hashes to the fifth leaf).
pub fn slot_root_of(len: u64, tree_root: &[u8; 32]) -> [u8; 32] {
	let mut preimage = [0u8; 41];
	preimage[0] = SLOT_ROOT_PREFIX;
	preimage[1..9].copy_from_slice(&len.to_le_bytes());
	preimage[9..].copy_from_slice(tree_root);
	blake2_256(&preimage)
}

/// The root of a slot's bytes.
pub fn slot_root(data: &[u8]) -> [u8; 32] {
	slot_root_of(data.len() as u64, &batch_merkle_root(&slot_leaves(data)))
}

/// The proof of piece `index` of `data`; `None` out of range.
pub fn prove_piece(data: &[u8], leaves: &[[u8; 32]], index: u64) -> Option<PieceProof> {
	let position = usize::try_from(index).ok()?;
	let len = piece_len(data.len() as u64, index)?;
	let start = position.checked_mul(PIECE_SIZE)?;
	let path = merkle_proof(leaves, position)?;
	Some(PieceProof {
		piece: BoundedVec::truncate_from(data.get(start..start + len)?.to_vec()),
		path: BoundedVec::truncate_from(path),
	})
}

/// Whether `proof` shows that its piece is piece `index` of the slot of `len` bytes and root
/// `root`. Cost: one leaf hash and at most [`MAX_PROOF_DEPTH`] node hashes.
pub fn verify_piece(
	root: &[u8; 32],
	len: u64,
	index: u64,
	proof: &PieceProof,
) -> Result<(), PieceProofError> {
	if len == 0 || len > MAX_SLOT_BYTES {
		return Err(PieceProofError::InvalidSlotLength);
	}
	let expected = piece_len(len, index).ok_or(PieceProofError::IndexOutOfRange)?;
	if proof.piece.len() != expected {
		return Err(PieceProofError::WrongPieceLength);
	}
	let count =
		usize::try_from(piece_count(len)).map_err(|_| PieceProofError::InvalidSlotLength)?;
	let position = usize::try_from(index).map_err(|_| PieceProofError::IndexOutOfRange)?;
	let leaf = piece_leaf(&proof.piece);
	// The tree root the path leads to, then the length bound in: the root must match both.
	let tree_root = merkle_root_from_proof(&leaf, position, count, &proof.path)
		.ok_or(PieceProofError::RootMismatch)?;
	if slot_root_of(len, &tree_root) == *root {
		Ok(())
	} else {
		Err(PieceProofError::RootMismatch)
	}
}

/// The piece a challenge asks for: `blake2_256("dsync/storage/challenge" ++ seed ++ slot ++
/// round)` as a little-endian integer, modulo the slot's piece count (0 for an empty slot). The
/// seed is randomness drawn after the slot was filled; `slot` names the slot (its SCALE
/// encoding) and `round` separates the challenges drawn from one seed.
pub fn challenged_piece(seed: &[u8; 32], slot: &[u8], round: u32, len: u64) -> u64 {
	let count = piece_count(len);
	if count == 0 {
		return 0;
	}
	let mut preimage = Vec::with_capacity(23 + 32 + slot.len() + 4);
	preimage.extend_from_slice(b"dsync/storage/challenge");
	preimage.extend_from_slice(seed);
	preimage.extend_from_slice(slot);
	preimage.extend_from_slice(&round.to_le_bytes());
	let hash = blake2_256(&preimage);
	let mut wide = [0u8; 16];
	wide.copy_from_slice(&hash[..16]);
	// 128 bits modulo at most 2^32: the bias is below 2^-96.
	(u128::from_le_bytes(wide) % u128::from(count)) as u64
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	fn data(len: usize) -> Vec<u8> {
		(0..len).map(|i| (i * 7 % 253) as u8).collect()
	}

	#[test]
	fn every_piece_of_every_shape_proves_and_nothing_else_does() {
		for len in [1usize, 255, 256, 257, 512, 1000, 256 * 5, 256 * 8 + 3, 256 * 33] {
			let bytes = data(len);
			let leaves = slot_leaves(&bytes);
			let root = slot_root(&bytes);
			let count = piece_count(len as u64);
			assert_eq!(leaves.len() as u64, count);
			for index in 0..count {
				let proof = prove_piece(&bytes, &leaves, index).unwrap();
				assert_eq!(verify_piece(&root, len as u64, index, &proof), Ok(()), "{len}/{index}");
				// The same proof for another index, another length, another root: refused.
				if count > 1 {
					let other = (index + 1) % count;
					assert!(verify_piece(&root, len as u64, other, &proof).is_err());
				}
				assert!(verify_piece(&root, len as u64 + 256, index, &proof).is_err());
				assert_eq!(
					verify_piece(&[1; 32], len as u64, index, &proof),
					Err(PieceProofError::RootMismatch)
				);
			}
			assert!(prove_piece(&bytes, &leaves, count).is_none());
			let any = prove_piece(&bytes, &leaves, 0).unwrap();
			assert_eq!(
				verify_piece(&root, len as u64, count, &any),
				Err(PieceProofError::IndexOutOfRange)
			);
		}
	}

	#[test]
	fn forged_proofs_are_refused() {
		let bytes = data(256 * 9 + 17);
		let len = bytes.len() as u64;
		let leaves = slot_leaves(&bytes);
		let root = slot_root(&bytes);
		let good = prove_piece(&bytes, &leaves, 4).unwrap();
		// A wrong piece (one bit).
		let mut wrong = good.clone();
		wrong.piece[3] ^= 1;
		assert_eq!(verify_piece(&root, len, 4, &wrong), Err(PieceProofError::RootMismatch));
		// A truncated or lengthened path.
		let mut short = good.clone();
		short.path.pop();
		assert_eq!(verify_piece(&root, len, 4, &short), Err(PieceProofError::RootMismatch));
		let mut long = good.clone();
		long.path.try_push([0; 32]).unwrap();
		assert_eq!(verify_piece(&root, len, 4, &long), Err(PieceProofError::RootMismatch));
		// A truncated piece, and the last (short) piece padded to full size.
		let mut cut = good.clone();
		cut.piece.pop();
		assert_eq!(verify_piece(&root, len, 4, &cut), Err(PieceProofError::WrongPieceLength));
		let mut last = prove_piece(&bytes, &leaves, 9).unwrap();
		assert_eq!(last.piece.len(), 17);
		assert_eq!(verify_piece(&root, len, 9, &last), Ok(()));
		last.piece = BoundedVec::truncate_from(vec![0u8; PIECE_SIZE]);
		assert_eq!(verify_piece(&root, len, 9, &last), Err(PieceProofError::WrongPieceLength));
		// An inner node offered as a piece: leaves and nodes are hashed apart, so a 64-byte
		// "piece" made of two children never matches the parent as a leaf.
		let two = data(512);
		let two_leaves = slot_leaves(&two);
		let two_root = slot_root(&two);
		let mut node_as_piece = [0u8; 64];
		node_as_piece[..32].copy_from_slice(&two_leaves[0]);
		node_as_piece[32..].copy_from_slice(&two_leaves[1]);
		let forged = PieceProof {
			piece: BoundedVec::truncate_from(node_as_piece.to_vec()),
			path: BoundedVec::new(),
		};
		assert!(verify_piece(&two_root, 64, 0, &forged).is_err());
		// Empty and oversized slots.
		assert_eq!(verify_piece(&root, 0, 0, &good), Err(PieceProofError::InvalidSlotLength));
		assert_eq!(
			verify_piece(&root, MAX_SLOT_BYTES + 1, 0, &good),
			Err(PieceProofError::InvalidSlotLength)
		);
	}

	#[test]
	fn challenges_cover_the_slot_and_depend_on_every_input() {
		let len = 256 * 1000 + 1;
		let mut seen = vec![false; 1001];
		for round in 0..20_000u32 {
			let index = challenged_piece(&[9; 32], b"slot", round, len);
			assert!(index < 1001);
			seen[index as usize] = true;
		}
		assert!(seen.iter().all(|s| *s), "20,000 draws reach every one of 1,001 pieces");
		let base = challenged_piece(&[1; 32], b"slot", 0, 1 << 30);
		assert_ne!(base, challenged_piece(&[2; 32], b"slot", 0, 1 << 30));
		assert_ne!(base, challenged_piece(&[1; 32], b"slou", 0, 1 << 30));
		assert_ne!(base, challenged_piece(&[1; 32], b"slot", 1, 1 << 30));
		assert_eq!(challenged_piece(&[1; 32], b"slot", 0, 0), 0);
	}

	#[test]
	fn a_provider_that_lost_data_is_caught_at_the_stated_rate() {
		// A provider keeps 70 % of its pieces (lost 30 %); over many seeds, three challenges
		// find a lost piece with probability 1 - 0.7^3 = 65.7 %.
		let len = 256 * 4096;
		let kept = |index: u64| index % 10 < 7;
		let trials = 4000u32;
		let mut caught = 0;
		for trial in 0..trials {
			let seed = blake2_256(&trial.to_le_bytes());
			if (0..3).any(|round| !kept(challenged_piece(&seed, b"slot", round, len))) {
				caught += 1;
			}
		}
		let rate = f64::from(caught) / f64::from(trials);
		assert!((rate - 0.657).abs() < 0.03, "detection rate {rate}");
	}
}
