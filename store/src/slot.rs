//! A provider's copy of one slot: the slot's bytes in a file, and beside it the upper levels of
//! its piece tree, so that any challenged piece is proven in bounded memory.
//!
//! The piece tree ([`dsync_primitives::storage::pieces`]) has one leaf per 256-byte piece. The
//! tree file keeps its levels from [`GROUP_LEVEL`] up (one node per 16 pieces, 4 KiB of
//! the slot), each level's nodes one after another: 32 bytes per 4 KiB, about 1.6 % of the
//! slot with every level above. A proof reads the piece's 4 KiB group from the slot (its 16
//! leaves give the path's first four siblings) and one 32-byte sibling per level above from
//! the tree file.
//!
//! [`TreeWriter`] builds the tree file while the slot's bytes stream through it (an upload is
//! checked against the chain's root as it lands, without a second read).

use dsync_aivm_core::{batch_merkle_root, merkle_node, merkle_proof};
use dsync_primitives::storage::{
	pieces::{piece_count, piece_leaf, piece_len, slot_root_of, MAX_SLOT_BYTES},
	PieceProof, PIECE_SIZE,
};
use std::{
	fs::File,
	io::{self, Write},
	os::unix::fs::FileExt,
};

/// The lowest level kept in the tree file: nodes over 16 pieces.
pub const GROUP_LEVEL: u32 = 4;
/// Pieces under one node of [`GROUP_LEVEL`].
pub const GROUP_PIECES: u64 = 1 << GROUP_LEVEL;
/// Slot bytes under one node of [`GROUP_LEVEL`].
pub const GROUP_BYTES: usize = GROUP_PIECES as usize * PIECE_SIZE;

/// The widths of the tree file's levels for a slot of `len` bytes, from [`GROUP_LEVEL`] up to
/// the root (one node).
fn level_widths(len: u64) -> Vec<u64> {
	let mut width = piece_count(len).div_ceil(GROUP_PIECES).max(1);
	let mut widths = vec![width];
	while width > 1 {
		width = width.div_ceil(2);
		widths.push(width);
	}
	widths
}

/// The root of one group's bytes (at most [`GROUP_BYTES`]).
fn group_node(group: &[u8]) -> [u8; 32] {
	let leaves: Vec<[u8; 32]> = group.chunks(PIECE_SIZE).map(piece_leaf).collect();
	batch_merkle_root(&leaves)
}

/// Builds a slot's tree file from its bytes, written to it in order ([`Write`]).
pub struct TreeWriter<'a> {
	tree: &'a File,
	group: Vec<u8>,
	len: u64,
	level: Vec<u8>,
	level_written: u64,
}

impl<'a> TreeWriter<'a> {
	/// A writer of the tree into `tree` (truncated first).
	pub fn new(tree: &'a File) -> io::Result<Self> {
		tree.set_len(0)?;
		Ok(TreeWriter {
			tree,
			group: Vec::with_capacity(GROUP_BYTES),
			len: 0,
			level: Vec::new(),
			level_written: 0,
		})
	}

	/// The slot bytes seen so far.
	pub fn len(&self) -> u64 {
		self.len
	}

	/// Whether no byte was seen.
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}

	fn push_group(&mut self) -> io::Result<()> {
		let node = group_node(&self.group);
		self.group.clear();
		self.level.extend_from_slice(&node);
		if self.level.len() >= 1 << 16 {
			self.flush_level()?;
		}
		Ok(())
	}

	fn flush_level(&mut self) -> io::Result<()> {
		self.tree.write_all_at(&self.level, self.level_written)?;
		self.level_written += self.level.len() as u64;
		self.level.clear();
		Ok(())
	}

	/// Writes the levels above and returns the slot's root ([`slot_root_of`]); an empty or
	/// too long slot is an error.
	pub fn finish(mut self) -> io::Result<[u8; 32]> {
		if self.len == 0 || self.len > MAX_SLOT_BYTES {
			return Err(io::Error::new(io::ErrorKind::InvalidData, "slot empty or too long"));
		}
		if !self.group.is_empty() {
			self.push_group()?;
		}
		self.flush_level()?;
		let widths = level_widths(self.len);
		let mut start = 0u64;
		let mut chunk = vec![0u8; 1 << 16];
		for pair in widths.windows(2) {
			let (width, above) = (pair[0], pair[1]);
			let level_end = start + width * 32;
			let mut write_at = level_end;
			let mut read_at = start;
			while read_at < level_end {
				let n = (chunk.len() as u64).min(level_end - read_at) as usize;
				self.tree.read_exact_at(&mut chunk[..n], read_at)?;
				let mut next = Vec::with_capacity(n / 2 + 32);
				for nodes in chunk[..n].chunks(64) {
					let left: [u8; 32] = nodes[..32].try_into().unwrap_or([0; 32]);
					if nodes.len() == 64 {
						let right: [u8; 32] = nodes[32..].try_into().unwrap_or([0; 32]);
						next.extend_from_slice(&merkle_node(&left, &right));
					} else {
						next.extend_from_slice(&left);
					}
				}
				self.tree.write_all_at(&next, write_at)?;
				write_at += next.len() as u64;
				read_at += n as u64;
			}
			debug_assert_eq!(write_at, level_end + above * 32);
			start = level_end;
		}
		let mut root = [0u8; 32];
		self.tree.read_exact_at(&mut root, start)?;
		self.tree.sync_data()?;
		Ok(slot_root_of(self.len, &root))
	}
}

impl Write for TreeWriter<'_> {
	fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
		let written = data.len();
		self.len += written as u64;
		while !data.is_empty() {
			let take = (GROUP_BYTES - self.group.len()).min(data.len());
			self.group.extend_from_slice(&data[..take]);
			data = &data[take..];
			if self.group.len() == GROUP_BYTES {
				self.push_group()?;
			}
		}
		Ok(written)
	}

	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}

/// A slot kept on disk: its bytes and its tree file.
pub struct SlotFile {
	data: File,
	tree: File,
	len: u64,
	root: [u8; 32],
}

impl SlotFile {
	/// Opens a slot of `len` bytes whose tree file was written by [`TreeWriter`]; checks the
	/// files' lengths and reads the root.
	pub fn open(data: File, tree: File, len: u64) -> io::Result<Self> {
		let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
		if len == 0 || len > MAX_SLOT_BYTES || data.metadata()?.len() != len {
			return Err(invalid("the slot file does not have the slot's length"));
		}
		let nodes: u64 = level_widths(len).iter().sum();
		if tree.metadata()?.len() != nodes * 32 {
			return Err(invalid("the tree file does not fit the slot's length"));
		}
		let mut top = [0u8; 32];
		tree.read_exact_at(&mut top, (nodes - 1) * 32)?;
		Ok(SlotFile { data, tree, len, root: slot_root_of(len, &top) })
	}

	/// The slot's root.
	pub fn root(&self) -> [u8; 32] {
		self.root
	}

	/// The slot's length.
	pub fn len(&self) -> u64 {
		self.len
	}

	/// Whether the slot is empty (never: [`SlotFile::open`] refuses it).
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}

	/// Reads `buf.len()` bytes of the slot from `offset`.
	pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
		self.data.read_exact_at(buf, offset)
	}

	/// The bytes of piece `index`; `None` out of range.
	pub fn piece(&self, index: u64) -> io::Result<Option<Vec<u8>>> {
		let Some(len) = piece_len(self.len, index) else { return Ok(None) };
		let mut piece = vec![0u8; len];
		self.data.read_exact_at(&mut piece, index * PIECE_SIZE as u64)?;
		Ok(Some(piece))
	}

	/// The proof of piece `index`; `None` out of range.
	pub fn prove(&self, index: u64) -> io::Result<Option<PieceProof>> {
		let Some(piece_bytes) = piece_len(self.len, index) else { return Ok(None) };
		let group = index / GROUP_PIECES;
		let group_start = group * GROUP_BYTES as u64;
		let group_len = (self.len - group_start).min(GROUP_BYTES as u64) as usize;
		let mut bytes = vec![0u8; group_len];
		self.data.read_exact_at(&mut bytes, group_start)?;
		let leaves: Vec<[u8; 32]> = bytes.chunks(PIECE_SIZE).map(piece_leaf).collect();
		let within = (index % GROUP_PIECES) as usize;
		let mut path = merkle_proof(&leaves, within).unwrap_or_default();
		let mut level_start = 0u64;
		let mut position = group;
		for width in level_widths(self.len) {
			if width == 1 {
				break;
			}
			let sibling = position ^ 1;
			if sibling < width {
				let mut node = [0u8; 32];
				self.tree.read_exact_at(&mut node, (level_start + sibling) * 32)?;
				path.push(node);
			}
			level_start += width;
			position /= 2;
		}
		let offset = within * PIECE_SIZE;
		Ok(Some(PieceProof {
			piece: bytes[offset..offset + piece_bytes].to_vec().try_into().map_err(|_| {
				io::Error::new(io::ErrorKind::InvalidData, "piece longer than a piece")
			})?,
			path: path
				.try_into()
				.map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "proof too deep"))?,
		}))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use dsync_primitives::storage::pieces::{slot_root, verify_piece};

	fn temp_file(name: &str) -> (std::path::PathBuf, File) {
		let dir = std::env::temp_dir().join(format!("dsync-store-slot-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let path = dir.join(name);
		let file = File::options()
			.read(true)
			.write(true)
			.create(true)
			.truncate(true)
			.open(&path)
			.unwrap();
		(path, file)
	}

	fn bytes(len: usize, seed: u8) -> Vec<u8> {
		(0..len)
			.map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
			.collect()
	}

	fn slot_of(len: usize, name: &str) -> (Vec<u8>, SlotFile, [u8; 32]) {
		let content = bytes(len, len as u8);
		let (_, mut data) = temp_file(&format!("{name}.bin"));
		data.write_all(&content).unwrap();
		let (_, tree) = temp_file(&format!("{name}.tree"));
		let mut writer = TreeWriter::new(&tree).unwrap();
		// Written in uneven pieces, as an upload arrives.
		for chunk in content.chunks(1000) {
			writer.write_all(chunk).unwrap();
		}
		let root = writer.finish().unwrap();
		let slot = SlotFile::open(data, tree, len as u64).unwrap();
		(content, slot, root)
	}

	#[test]
	fn the_streamed_tree_has_the_chain_root_and_every_proof_verifies() {
		// One piece, one short piece, exactly a group, a group and a bit, odd numbers of groups,
		// and enough groups for several levels above the group level.
		for len in [1usize, 255, 256, 4096, 4097, 3 * 4096 + 17, 5 * 4096, 33 * 4096 + 256, 200_000]
		{
			let (content, slot, root) = slot_of(len, &format!("s{len}"));
			assert_eq!(root, slot_root(&content), "len {len}");
			assert_eq!(slot.root(), root);
			let pieces = piece_count(len as u64);
			let step = (pieces / 40).max(1);
			for index in (0..pieces).step_by(step as usize).chain([pieces - 1]) {
				let proof = slot.prove(index).unwrap().unwrap();
				assert_eq!(
					verify_piece(&root, len as u64, index, &proof),
					Ok(()),
					"len {len} piece {index}"
				);
				assert_eq!(slot.piece(index).unwrap().unwrap(), proof.piece.to_vec());
			}
			assert!(slot.prove(pieces).unwrap().is_none());
			assert!(slot.piece(pieces).unwrap().is_none());
		}
	}

	#[test]
	fn files_that_do_not_fit_the_length_are_refused() {
		let (_, slot, _) = slot_of(10_000, "fit");
		let SlotFile { data, tree, .. } = slot;
		let data2 = data.try_clone().unwrap();
		let tree2 = tree.try_clone().unwrap();
		assert!(SlotFile::open(data, tree, 9_999).is_err());
		assert!(SlotFile::open(data2, tree2, 0).is_err());
		let (_, tree) = temp_file("empty.tree");
		assert!(TreeWriter::new(&tree).unwrap().finish().is_err());
	}
}
