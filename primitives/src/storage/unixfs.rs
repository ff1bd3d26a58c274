//! UnixFS DAGs as IPFS builds them, so a file or directory gets the same CID here as in kubo
//! and the JavaScript importer (`ipfs-unixfs-importer`).
//!
//! The layout is the "unixfs-v1-2025" profile ([`Profile::STANDARD`]):
//! - a file is cut into chunks of 1 MiB; each chunk is a raw block (CIDv1, codec `raw`,
//!   SHA2-256);
//! - a file of at most one chunk is that raw block itself (its CID is the file's CID; the empty
//!   file is the empty raw block);
//! - otherwise the chunks are the leaves of a balanced tree: consecutive runs of at most 1,024
//!   nodes get a parent, level after level, until one node is left. Each parent is a dag-pb node
//!   whose links point at its children in order (empty name, `Tsize` = the child's cumulative
//!   block bytes) and whose data is a UnixFS `File` with the bytes under it (`filesize`) and
//!   each child's file bytes (`blocksizes`);
//! - a directory is one dag-pb node (UnixFS `Directory`, no data) linking to its entries
//!   sorted by name bytes; entries larger than the sharding threshold (a HAMT directory) are
//!   refused ([`UnixFsError::DirectoryTooLarge`]).
//!
//! [`FileBuilder`] streams a file in bounded memory (one chunk plus 48 bytes per chunk of the
//! file) and hands every block it makes to a sink, so the caller can store or upload it.

use super::cid::{write_varint, Cid, MAX_CID_BYTES};
use alloc::vec::Vec;
use core::fmt;

/// The chunking and layout parameters of a UnixFS import.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Profile {
	/// Bytes per leaf.
	pub chunk_size: u32,
	/// The most links of one inner node.
	pub max_links: u32,
}

impl Profile {
	/// The "unixfs-v1-2025" profile: 1 MiB raw leaves, balanced DAG of up to 1,024 links.
	pub const STANDARD: Profile = Profile { chunk_size: 1 << 20, max_links: 1024 };
	/// The largest chunk accepted: IPFS peers refuse blocks over 2 MiB; 1 MiB is the standard.
	pub const MAX_CHUNK_SIZE: u32 = 1 << 20;

	/// Whether the parameters make a DAG IPFS peers can exchange.
	pub fn check(&self) -> Result<(), UnixFsError> {
		if self.chunk_size == 0 || self.chunk_size > Self::MAX_CHUNK_SIZE {
			return Err(UnixFsError::InvalidChunkSize);
		}
		if self.max_links < 2 || self.max_links > 8192 {
			return Err(UnixFsError::InvalidMaxLinks);
		}
		Ok(())
	}
}

/// Why a DAG could not be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnixFsError {
	/// A chunk size of zero or above [`Profile::MAX_CHUNK_SIZE`].
	InvalidChunkSize,
	/// Fewer than 2 or more than 8,192 links per node.
	InvalidMaxLinks,
	/// An entry name that is empty, `.` or `..`, or holds `/` or NUL.
	InvalidName,
	/// Two entries with the same name.
	DuplicateName,
	/// A directory whose node would exceed [`DIRECTORY_SHARD_THRESHOLD`] bytes: IPFS would shard
	/// it (HAMT), which is not supported.
	DirectoryTooLarge,
}

impl fmt::Display for UnixFsError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			UnixFsError::InvalidChunkSize => "chunk size must be between 1 byte and 1 MiB",
			UnixFsError::InvalidMaxLinks => "links per node must be between 2 and 8192",
			UnixFsError::InvalidName =>
				"an entry name is empty, `.` or `..`, or contains `/` or a NUL byte",
			UnixFsError::DuplicateName => "two entries of a directory have the same name",
			UnixFsError::DirectoryTooLarge =>
				"directory too large: its node would exceed 256 KiB (sharded HAMT directories are not supported)",
		})
	}
}

/// A node as its parent links to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Link {
	/// The node's CID.
	pub cid: Cid,
	/// Cumulative size: the bytes of every block of the sub-DAG (dag-pb's `Tsize`).
	pub tsize: u64,
	/// The file bytes under the node (0 for a directory).
	pub filesize: u64,
}

/// Receives every block a builder makes: its CID and its bytes.
pub type BlockSink<'a> = &'a mut dyn FnMut(&Cid, &[u8]);

/// Builds a file's DAG from its bytes, streamed.
pub struct FileBuilder {
	profile: Profile,
	chunk: Vec<u8>,
	leaves: Vec<Link>,
}

impl FileBuilder {
	/// A builder with `profile` (checked).
	pub fn new(profile: Profile) -> Result<Self, UnixFsError> {
		profile.check()?;
		Ok(FileBuilder { profile, chunk: Vec::new(), leaves: Vec::new() })
	}

	/// Adds the next bytes of the file; every completed leaf goes to `sink`.
	pub fn write(&mut self, mut data: &[u8], sink: BlockSink) {
		let chunk_size = self.profile.chunk_size as usize;
		while !data.is_empty() {
			let take = (chunk_size - self.chunk.len()).min(data.len());
			self.chunk.extend_from_slice(&data[..take]);
			data = &data[take..];
			if self.chunk.len() == chunk_size {
				self.emit_leaf(sink);
			}
		}
	}

	fn emit_leaf(&mut self, sink: BlockSink) {
		let cid = Cid::raw(&self.chunk);
		sink(&cid, &self.chunk);
		let len = self.chunk.len() as u64;
		self.leaves.push(Link { cid, tsize: len, filesize: len });
		self.chunk.clear();
	}

	/// Ends the file: its last leaf and every inner node go to `sink`; returns the root.
	pub fn finish(mut self, sink: BlockSink) -> Link {
		// The last partial chunk, or the one (empty) chunk of an empty file.
		if !self.chunk.is_empty() || self.leaves.is_empty() {
			self.emit_leaf(sink);
		}
		let mut level = self.leaves;
		let max_links = self.profile.max_links as usize;
		// A file of one chunk is its raw leaf.
		if level.len() == 1 {
			return level[0];
		}
		loop {
			level = level.chunks(max_links).map(|children| file_node(children, sink)).collect();
			if level.len() == 1 {
				return level[0];
			}
		}
	}
}

/// The CID of `data` as a file (the whole DAG built in memory, blocks dropped).
pub fn file_cid(data: &[u8], profile: Profile) -> Result<Link, UnixFsError> {
	let mut builder = FileBuilder::new(profile)?;
	let mut sink = |_: &Cid, _: &[u8]| {};
	builder.write(data, &mut sink);
	Ok(builder.finish(&mut sink))
}

/// UnixFS `Data.Type` values.
const UNIXFS_DIRECTORY: u64 = 1;
const UNIXFS_FILE: u64 = 2;

fn write_bytes_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
	out.push(tag);
	write_varint(out, bytes.len() as u64);
	out.extend_from_slice(bytes);
}

/// One `PBLink`: `Hash` (1), `Name` (2, always written, possibly empty), `Tsize` (3).
fn encode_link(out: &mut Vec<u8>, link: &Link, name: &[u8]) {
	let mut encoded = Vec::with_capacity(MAX_CID_BYTES + name.len() + 16);
	write_bytes_field(&mut encoded, 0x0a, &link.cid.to_bytes());
	write_bytes_field(&mut encoded, 0x12, name);
	encoded.push(0x18);
	write_varint(&mut encoded, link.tsize);
	// `PBNode.Links` is field 2; dag-pb writes the links before the data.
	write_bytes_field(out, 0x12, &encoded);
}

/// Hashes and sinks a finished dag-pb node; returns its link.
fn finish_node(bytes: Vec<u8>, children_tsize: u64, filesize: u64, sink: BlockSink) -> Link {
	let cid = Cid::dag_pb(&bytes);
	sink(&cid, &bytes);
	Link { cid, tsize: (bytes.len() as u64).saturating_add(children_tsize), filesize }
}

fn file_node(children: &[Link], sink: BlockSink) -> Link {
	let filesize = children.iter().fold(0u64, |sum, c| sum.saturating_add(c.filesize));
	let mut data = Vec::with_capacity(16 + 10 * children.len());
	data.push(0x08);
	write_varint(&mut data, UNIXFS_FILE);
	data.push(0x18);
	write_varint(&mut data, filesize);
	for child in children {
		data.push(0x20);
		write_varint(&mut data, child.filesize);
	}
	let mut node = Vec::with_capacity(children.len() * (MAX_CID_BYTES + 16) + data.len() + 8);
	for child in children {
		encode_link(&mut node, child, &[]);
	}
	write_bytes_field(&mut node, 0x0a, &data);
	let children_tsize = children.iter().fold(0u64, |sum, c| sum.saturating_add(c.tsize));
	finish_node(node, children_tsize, filesize, sink)
}

/// A directory whose encoded node is larger than this is sharded into a HAMT by IPFS (the
/// JavaScript importer's `shardSplitThresholdBytes` with the profile's `block-bytes` estimate:
/// the exact size of the directory's block).
pub const DIRECTORY_SHARD_THRESHOLD: usize = 256 * 1024;

/// Whether `name` can be a directory entry.
pub fn valid_entry_name(name: &[u8]) -> bool {
	!name.is_empty() && name != b"." && name != b".." && !name.iter().any(|b| *b == b'/' || *b == 0)
}

/// A directory node over `entries` (name, link), in any order: sorted by name bytes, encoded,
/// sunk; returns its link.
pub fn directory(entries: &mut [(Vec<u8>, Link)], sink: BlockSink) -> Result<Link, UnixFsError> {
	if entries.iter().any(|(name, _)| !valid_entry_name(name)) {
		return Err(UnixFsError::InvalidName);
	}
	entries.sort_by(|a, b| a.0.cmp(&b.0));
	if entries.windows(2).any(|pair| pair[0].0 == pair[1].0) {
		return Err(UnixFsError::DuplicateName);
	}
	let mut node = Vec::new();
	for (name, link) in entries.iter() {
		encode_link(&mut node, link, name);
		if node.len() > DIRECTORY_SHARD_THRESHOLD {
			return Err(UnixFsError::DirectoryTooLarge);
		}
	}
	let mut data = Vec::with_capacity(2);
	data.push(0x08);
	write_varint(&mut data, UNIXFS_DIRECTORY);
	write_bytes_field(&mut node, 0x0a, &data);
	if node.len() > DIRECTORY_SHARD_THRESHOLD {
		return Err(UnixFsError::DirectoryTooLarge);
	}
	let children_tsize = entries.iter().fold(0u64, |sum, (_, l)| sum.saturating_add(l.tsize));
	Ok(finish_node(node, children_tsize, 0, sink))
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::{string::ToString, vec};

	fn small() -> Profile {
		Profile { chunk_size: 1024, max_links: 4 }
	}

	#[test]
	fn a_file_of_one_chunk_is_its_raw_block() {
		for len in [0usize, 1, 1000, 1024] {
			let data = vec![7u8; len];
			let link = file_cid(&data, small()).unwrap();
			assert_eq!(link.cid, Cid::raw(&data));
			assert_eq!((link.tsize, link.filesize), (len as u64, len as u64));
		}
		assert_eq!(
			file_cid(&[], Profile::STANDARD).unwrap().cid.to_string(),
			"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
		);
	}

	#[test]
	fn streaming_in_any_pieces_gives_the_same_dag_and_blocks() {
		let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
		let mut whole_blocks = Vec::new();
		let mut builder = FileBuilder::new(small()).unwrap();
		builder
			.write(&data, &mut |cid: &Cid, bytes: &[u8]| whole_blocks.push((*cid, bytes.to_vec())));
		let whole = builder
			.finish(&mut |cid: &Cid, bytes: &[u8]| whole_blocks.push((*cid, bytes.to_vec())));
		for step in [1usize, 7, 1023, 1025, 4096] {
			let mut blocks = Vec::new();
			let mut builder = FileBuilder::new(small()).unwrap();
			for piece in data.chunks(step) {
				builder.write(piece, &mut |cid: &Cid, bytes: &[u8]| {
					blocks.push((*cid, bytes.to_vec()))
				});
			}
			let root =
				builder.finish(&mut |cid: &Cid, bytes: &[u8]| blocks.push((*cid, bytes.to_vec())));
			assert_eq!(root, whole);
			assert_eq!(blocks, whole_blocks);
		}
		// 20 leaves of at most 4 links: 5 parents, then 2, then the root.
		assert_eq!(whole_blocks.len(), 20 + 5 + 2 + 1);
		// Every block is named by its hash, and the cumulative size counts every byte once.
		assert!(whole_blocks.iter().all(|(cid, bytes)| cid.matches(bytes)));
		let all: u64 = whole_blocks.iter().map(|(_, b)| b.len() as u64).sum();
		assert_eq!(whole.tsize, all);
		assert_eq!(whole.filesize, 20_000);
		assert_eq!(whole.cid.codec, super::super::cid::Codec::DagPb);
	}

	#[test]
	fn bad_profiles_and_directories_are_refused() {
		assert_eq!(
			FileBuilder::new(Profile { chunk_size: 0, max_links: 4 }).err(),
			Some(UnixFsError::InvalidChunkSize)
		);
		assert_eq!(
			FileBuilder::new(Profile { chunk_size: (1 << 20) + 1, max_links: 4 }).err(),
			Some(UnixFsError::InvalidChunkSize)
		);
		assert_eq!(
			FileBuilder::new(Profile { chunk_size: 1, max_links: 1 }).err(),
			Some(UnixFsError::InvalidMaxLinks)
		);
		let link = file_cid(b"x", small()).unwrap();
		let mut sink = |_: &Cid, _: &[u8]| {};
		for bad in [&b""[..], b".", b"..", b"a/b", b"a\0"] {
			assert_eq!(
				directory(&mut [(bad.to_vec(), link)], &mut sink),
				Err(UnixFsError::InvalidName)
			);
		}
		assert_eq!(
			directory(&mut [(b"a".to_vec(), link), (b"a".to_vec(), link)], &mut sink),
			Err(UnixFsError::DuplicateName)
		);
		// A directory node of at most the sharding threshold: flat; one byte of name more, past
		// it: refused. The last name's length is searched so the node ends at the threshold.
		let entry = |i: usize, len: usize| {
			let mut name = alloc::format!("{i:06}").into_bytes();
			name.resize(len, b'x');
			(name, link)
		};
		let node_len = |entries: &mut Vec<(Vec<u8>, Link)>| {
			directory(entries, &mut |_: &Cid, _: &[u8]| {})
				.map(|dir| dir.tsize - entries.len() as u64)
		};
		let mut entries: Vec<_> = (0..250).map(|i| entry(i, 1000)).collect();
		let mut last = 1;
		loop {
			let mut trial = entries.clone();
			trial.push(entry(999_999, last + 1));
			if node_len(&mut trial).is_err() {
				break;
			}
			last += 1;
		}
		entries.push(entry(999_999, last));
		let at = node_len(&mut entries.clone()).unwrap();
		assert!(
			at <= DIRECTORY_SHARD_THRESHOLD as u64 && at + 4 > DIRECTORY_SHARD_THRESHOLD as u64,
			"{at}"
		);
		entries.pop();
		entries.push(entry(999_999, last + 1));
		assert_eq!(directory(&mut entries, &mut sink), Err(UnixFsError::DirectoryTooLarge));
	}

	#[test]
	fn the_empty_directory_is_the_well_known_one() {
		let link = directory(&mut [], &mut |_: &Cid, _: &[u8]| {}).unwrap();
		assert_eq!(
			link.cid.to_string(),
			"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
		);
		assert_eq!(link.tsize, 4);
	}
}
