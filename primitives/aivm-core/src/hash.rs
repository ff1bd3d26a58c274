//! Result hashing: one item's hash and the Merkle tree over a batch.

use alloc::vec::Vec;
use sp_crypto_hashing::blake2_256;

/// The first byte of an inner node's preimage. A leaf (a [`result_hash`]) hashes a multiple of
/// four bytes and a node 65, so the two can never be confused.
pub const MERKLE_NODE_PREFIX: u8 = 0x01;

/// The root of a batch with no items.
pub const EMPTY_MERKLE_ROOT: [u8; 32] = [0; 32];

/// Outputs up to this many are hashed from a stack buffer, without allocating.
const STACK_OUTPUTS: usize = 64;

/// The hash of one item's outputs: Blake2-256 of the outputs as little-endian `i32`.
///
/// Allocation-free for up to 64 outputs.
pub fn result_hash(outputs: &[i32]) -> [u8; 32] {
	let bytes = outputs.iter().flat_map(|v| v.to_le_bytes());
	if outputs.len() <= STACK_OUTPUTS {
		let mut buffer = [0u8; 4 * STACK_OUTPUTS];
		for (slot, byte) in buffer.iter_mut().zip(bytes) {
			*slot = byte;
		}
		// At most `4 * STACK_OUTPUTS`: in range.
		blake2_256(buffer.get(..outputs.len() * 4).unwrap_or_default())
	} else {
		blake2_256(&bytes.collect::<Vec<u8>>())
	}
}

/// The [`result_hash`] of every item of a batch: `outputs` is `[items][output_len]`; a partial
/// last item (or `output_len == 0`) gives no hash.
pub fn batch_result_hashes(outputs: &[i32], output_len: usize) -> Vec<[u8; 32]> {
	if output_len == 0 {
		return Vec::new();
	}
	outputs.chunks_exact(output_len).map(result_hash).collect()
}

/// An inner node of the batch tree: `blake2_256(0x01 ++ left ++ right)`.
pub fn merkle_node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
	let mut preimage = [0u8; 65];
	let (prefix, children) = preimage.split_at_mut(1);
	let (l, r) = children.split_at_mut(32);
	prefix.fill(MERKLE_NODE_PREFIX);
	l.copy_from_slice(left);
	r.copy_from_slice(right);
	blake2_256(&preimage)
}

/// Replaces `level` by the next level up: pairs hashed, an odd last node promoted.
fn reduce(level: &mut Vec<[u8; 32]>) {
	let mut write = 0;
	let mut read = 0;
	while read < level.len() {
		let node = match (level.get(read), level.get(read.saturating_add(1))) {
			(Some(left), Some(right)) => merkle_node(left, right),
			(Some(single), None) => *single,
			_ => break,
		};
		// `write <= read / 2`: the slot was already read.
		if let Some(slot) = level.get_mut(write) {
			*slot = node;
		}
		write += 1;
		read = read.saturating_add(2);
	}
	level.truncate(write);
}

/// The Merkle root of a batch's item hashes (see the crate documentation for the tree):
/// pairs hashed with [`merkle_node`], an odd last node promoted, one leaf is its own root, no
/// leaves give [`EMPTY_MERKLE_ROOT`].
pub fn batch_merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
	match leaves {
		[] => EMPTY_MERKLE_ROOT,
		[single] => *single,
		_ => {
			let mut level = leaves.to_vec();
			while level.len() > 1 {
				reduce(&mut level);
			}
			level.first().copied().unwrap_or(EMPTY_MERKLE_ROOT)
		},
	}
}

/// The number of levels above the leaves in the tree of `count` items: 0 for one item (or
/// none), `ceil(log2(count))` otherwise. Level `l` has `ceil(count / 2^l)` nodes.
pub fn merkle_height(count: usize) -> u32 {
	let mut height = 0;
	let mut width = count;
	while width > 1 {
		width = width.div_ceil(2);
		height += 1;
	}
	height
}

/// The nodes at `level` of the tree of `leaves` (level 0: the leaves themselves), in order.
/// Above the root's level it is the root alone; no leaves give no nodes.
///
/// Any aligned run of them (from a multiple of `2^d`, `2^d` long or up to the level's end)
/// has as its [`batch_merkle_root`] the node `d` levels up that covers it: this is what a
/// challenge between two results walks down.
pub fn merkle_level(leaves: &[[u8; 32]], level: u32) -> Vec<[u8; 32]> {
	let mut nodes = leaves.to_vec();
	for _ in 0..level {
		if nodes.len() <= 1 {
			break;
		}
		reduce(&mut nodes);
	}
	nodes
}

/// The proof that `leaves[index]` is in the tree of `leaves`: the siblings from the leaf up,
/// none for the levels where the node is promoted. `None` if `index` is out of range.
pub fn merkle_proof(leaves: &[[u8; 32]], index: usize) -> Option<Vec<[u8; 32]>> {
	if index >= leaves.len() {
		return None;
	}
	let mut proof = Vec::new();
	let mut level = leaves.to_vec();
	let mut position = index;
	while level.len() > 1 {
		if let Some(sibling) = level.get(position ^ 1) {
			proof.push(*sibling);
		}
		reduce(&mut level);
		position /= 2;
	}
	Some(proof)
}

/// Whether `proof` shows that `leaf` is item `index` of a batch of `count` items with root
/// `root`. The proof must have exactly the length the position requires.
pub fn verify_merkle_proof(
	root: &[u8; 32],
	leaf: &[u8; 32],
	index: usize,
	count: usize,
	proof: &[[u8; 32]],
) -> bool {
	merkle_root_from_proof(leaf, index, count, proof).is_some_and(|computed| computed == *root)
}

/// The root that `proof` leads to from `leaf` as item `index` of `count` items; `None` if
/// `index` is out of range or the proof has not exactly the length the position requires.
pub fn merkle_root_from_proof(
	leaf: &[u8; 32],
	index: usize,
	count: usize,
	proof: &[[u8; 32]],
) -> Option<[u8; 32]> {
	if index >= count {
		return None;
	}
	let mut node = *leaf;
	let mut position = index;
	let mut width = count;
	let mut siblings = proof.iter();
	while width > 1 {
		// The sibling exists unless this is the odd last node, which is promoted.
		if position ^ 1 < width {
			let sibling = siblings.next()?;
			node = if position.is_multiple_of(2) {
				merkle_node(&node, sibling)
			} else {
				merkle_node(sibling, &node)
			};
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none().then_some(node)
}
