//! Reading UnixFS DAGs: dag-pb nodes and their UnixFS data decoded, paths resolved through
//! directories, a file's bytes (or a range of them) streamed from its leaves, and a sub-DAG
//! written as a CAR in depth-first order: what an IPFS gateway answers.
//!
//! Blocks come from a [`Blocks`] source (a CAR kept on disk, in the node). Every decoder is
//! strict about what it must read and bounded in what it allocates; nothing panics on any
//! input, and a DAG that does not hang together (a missing block, a leaf of the wrong size, a
//! cycle of links deeper than [`MAX_DEPTH`]) is an error.

use crate::car::{header, MAX_BLOCK_BYTES};
use dsync_primitives::storage::{
	cid::{read_varint, write_varint},
	Cid, Codec,
};
use std::{collections::HashSet, fmt, io};

/// The deepest DAG walked (directories in directories, file nodes over file nodes).
pub const MAX_DEPTH: usize = 64;

/// Where blocks come from.
pub trait Blocks {
	/// The bytes of block `cid`, `None` when the source does not have it.
	fn block(&self, cid: &Cid) -> io::Result<Option<Vec<u8>>>;
}

/// Why a DAG could not be read.
#[derive(Debug)]
pub enum DagError {
	/// Reading a block failed.
	Io(io::Error),
	/// A block the DAG links to is not in the source.
	Missing(Cid),
	/// A block is not valid dag-pb / UnixFS.
	Malformed(Cid, &'static str),
	/// A path segment names no entry of its directory.
	NotFound(String),
	/// A path goes through something that is not a directory.
	NotADirectory(String),
	/// The DAG is deeper than [`MAX_DEPTH`].
	TooDeep,
	/// A UnixFS kind the network does not serve (HAMT-sharded directories, symlinks, metadata).
	Unsupported(Cid, &'static str),
}

impl fmt::Display for DagError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			DagError::Io(error) => write!(f, "{error}"),
			DagError::Missing(cid) => write!(f, "block {cid} is missing"),
			DagError::Malformed(cid, why) => write!(f, "block {cid} is malformed: {why}"),
			DagError::NotFound(path) => write!(f, "no such path: {path}"),
			DagError::NotADirectory(path) => write!(f, "not a directory: {path}"),
			DagError::TooDeep => write!(f, "the DAG is deeper than {MAX_DEPTH} levels"),
			DagError::Unsupported(cid, what) => write!(f, "{cid} is a {what}, not served"),
		}
	}
}

impl std::error::Error for DagError {}

impl From<io::Error> for DagError {
	fn from(error: io::Error) -> Self {
		DagError::Io(error)
	}
}

/// One link of a dag-pb node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbLink {
	/// The child.
	pub cid: Cid,
	/// The entry name (empty for a file's chunks).
	pub name: Vec<u8>,
	/// The child's cumulative size.
	pub tsize: u64,
}

/// A decoded dag-pb node.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PbNode {
	/// The links, in order.
	pub links: Vec<PbLink>,
	/// The data (UnixFS), if any.
	pub data: Option<Vec<u8>>,
}

/// What a UnixFS node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnixFs {
	/// A file (or a chunk of one): inline bytes, then its children's sizes.
	File {
		/// Bytes held in the node itself.
		data: Vec<u8>,
		/// Bytes under each link, in order.
		blocksizes: Vec<u64>,
	},
	/// A plain directory.
	Directory,
	/// Another kind (its UnixFS type number).
	Other(u64),
}

struct Reader<'a> {
	bytes: &'a [u8],
}

impl<'a> Reader<'a> {
	fn varint(&mut self) -> Option<u64> {
		read_varint(&mut self.bytes).ok()
	}

	fn bytes(&mut self) -> Option<&'a [u8]> {
		let len = usize::try_from(self.varint()?).ok()?;
		let (head, rest) = (self.bytes.get(..len)?, self.bytes.get(len..)?);
		self.bytes = rest;
		Some(head)
	}

	/// Skips a field of `wire` type; `None` for a type protobuf does not have here.
	fn skip(&mut self, wire: u64) -> Option<()> {
		match wire {
			0 => self.varint().map(|_| ()),
			1 => {
				self.bytes = self.bytes.get(8..)?;
				Some(())
			},
			2 => self.bytes().map(|_| ()),
			5 => {
				self.bytes = self.bytes.get(4..)?;
				Some(())
			},
			_ => None,
		}
	}
}

/// Decodes a dag-pb node (`cid` names it in errors).
pub fn decode_pb(cid: &Cid, bytes: &[u8]) -> Result<PbNode, DagError> {
	let bad = |why| DagError::Malformed(*cid, why);
	let mut reader = Reader { bytes };
	let mut node = PbNode::default();
	while !reader.bytes.is_empty() {
		let key = reader.varint().ok_or(bad("bad field key"))?;
		match (key >> 3, key & 7) {
			(2, 2) => {
				let mut link = Reader { bytes: reader.bytes().ok_or(bad("bad link"))? };
				let (mut hash, mut name, mut tsize) = (None, Vec::new(), 0);
				while !link.bytes.is_empty() {
					let key = link.varint().ok_or(bad("bad link field"))?;
					match (key >> 3, key & 7) {
						(1, 2) => hash = Some(link.bytes().ok_or(bad("bad link hash"))?),
						(2, 2) => name = link.bytes().ok_or(bad("bad link name"))?.to_vec(),
						(3, 0) => tsize = link.varint().ok_or(bad("bad link size"))?,
						(_, wire) => link.skip(wire).ok_or(bad("bad link field"))?,
					}
				}
				let hash = hash.ok_or(bad("a link without a hash"))?;
				let child =
					Cid::from_bytes(hash).map_err(|_| bad("a link to an unsupported CID"))?;
				node.links.push(PbLink { cid: child, name, tsize });
			},
			(1, 2) => node.data = Some(reader.bytes().ok_or(bad("bad data"))?.to_vec()),
			(_, wire) => reader.skip(wire).ok_or(bad("bad field"))?,
		}
	}
	Ok(node)
}

/// Decodes a node's UnixFS data.
pub fn decode_unixfs(cid: &Cid, data: &[u8]) -> Result<UnixFs, DagError> {
	let bad = |why| DagError::Malformed(*cid, why);
	let mut reader = Reader { bytes: data };
	let (mut kind, mut inline, mut blocksizes) = (None, Vec::new(), Vec::new());
	while !reader.bytes.is_empty() {
		let key = reader.varint().ok_or(bad("bad UnixFS field"))?;
		match (key >> 3, key & 7) {
			(1, 0) => kind = Some(reader.varint().ok_or(bad("bad UnixFS type"))?),
			(2, 2) => inline = reader.bytes().ok_or(bad("bad UnixFS data"))?.to_vec(),
			(4, 0) => blocksizes.push(reader.varint().ok_or(bad("bad block size"))?),
			(4, 2) => {
				// Packed block sizes.
				let mut packed = Reader { bytes: reader.bytes().ok_or(bad("bad block sizes"))? };
				while !packed.bytes.is_empty() {
					blocksizes.push(packed.varint().ok_or(bad("bad block size"))?);
				}
			},
			(_, wire) => reader.skip(wire).ok_or(bad("bad UnixFS field"))?,
		}
	}
	Ok(match kind.ok_or(bad("no UnixFS type"))? {
		0 | 2 => UnixFs::File { data: inline, blocksizes },
		1 => UnixFs::Directory,
		other => UnixFs::Other(other),
	})
}

/// What a CID names, once read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
	/// A file of `size` bytes.
	File {
		/// Its bytes.
		size: u64,
	},
	/// A directory and its entries (name, child, cumulative size), sorted by name.
	Directory {
		/// The entries.
		entries: Vec<PbLink>,
	},
}

/// A DAG over a block source.
pub struct Dag<'a, B: Blocks> {
	blocks: &'a B,
}

fn other_kind(kind: u64) -> &'static str {
	match kind {
		3 => "UnixFS metadata node",
		4 => "symbolic link",
		5 => "HAMT-sharded directory",
		_ => "UnixFS node of an unknown type",
	}
}

impl<'a, B: Blocks> Dag<'a, B> {
	/// The DAG of `blocks`.
	pub fn new(blocks: &'a B) -> Self {
		Dag { blocks }
	}

	/// The bytes of `cid`, checked against it.
	pub fn block(&self, cid: &Cid) -> Result<Vec<u8>, DagError> {
		let bytes = self.blocks.block(cid)?.ok_or(DagError::Missing(*cid))?;
		if bytes.len() as u64 > MAX_BLOCK_BYTES || !cid.matches(&bytes) {
			return Err(DagError::Malformed(*cid, "its bytes do not hash to its CID"));
		}
		Ok(bytes)
	}

	fn node(&self, cid: &Cid) -> Result<(PbNode, UnixFs), DagError> {
		let bytes = self.block(cid)?;
		let node = decode_pb(cid, &bytes)?;
		let data = node.data.as_deref().ok_or(DagError::Malformed(*cid, "no UnixFS data"))?;
		let unixfs = decode_unixfs(cid, data)?;
		Ok((node, unixfs))
	}

	/// What `cid` is: a file with its size, or a directory with its entries.
	pub fn entry(&self, cid: &Cid) -> Result<Entry, DagError> {
		if cid.codec == Codec::Raw {
			return Ok(Entry::File { size: self.block(cid)?.len() as u64 });
		}
		let (node, unixfs) = self.node(cid)?;
		match unixfs {
			UnixFs::File { data, blocksizes } => {
				if blocksizes.len() != node.links.len() {
					return Err(DagError::Malformed(*cid, "block sizes do not match the links"));
				}
				let size = blocksizes.iter().fold(data.len() as u64, |s, b| s.saturating_add(*b));
				Ok(Entry::File { size })
			},
			UnixFs::Directory => Ok(Entry::Directory { entries: node.links }),
			UnixFs::Other(kind) => Err(DagError::Unsupported(*cid, other_kind(kind))),
		}
	}

	/// The CID at `path` (segments separated by `/`, empty ones ignored) under `root`.
	pub fn resolve(&self, root: &Cid, path: &str) -> Result<Cid, DagError> {
		let mut at = *root;
		let mut walked = String::new();
		for (depth, segment) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
			if depth >= MAX_DEPTH {
				return Err(DagError::TooDeep);
			}
			let Entry::Directory { entries } = self.entry(&at)? else {
				return Err(DagError::NotADirectory(format!("/{walked}")));
			};
			walked.push_str(segment);
			at = entries
				.iter()
				.find(|e| e.name == segment.as_bytes())
				.map(|e| e.cid)
				.ok_or_else(|| DagError::NotFound(format!("/{walked}")))?;
			walked.push('/');
		}
		Ok(at)
	}

	/// Writes bytes `start..end` of the file `cid` to `out`.
	pub fn read_file(
		&self,
		cid: &Cid,
		start: u64,
		end: u64,
		out: &mut dyn io::Write,
	) -> Result<(), DagError> {
		self.read_range(cid, start, end, out, 0)
	}

	fn read_range(
		&self,
		cid: &Cid,
		start: u64,
		end: u64,
		out: &mut dyn io::Write,
		depth: usize,
	) -> Result<(), DagError> {
		if depth > MAX_DEPTH {
			return Err(DagError::TooDeep);
		}
		if start >= end {
			return Ok(());
		}
		if cid.codec == Codec::Raw {
			let bytes = self.block(cid)?;
			let (s, e) =
				(start.min(bytes.len() as u64) as usize, end.min(bytes.len() as u64) as usize);
			out.write_all(&bytes[s..e])?;
			return Ok(());
		}
		let (node, unixfs) = self.node(cid)?;
		let UnixFs::File { data, blocksizes } = unixfs else {
			return Err(DagError::Malformed(*cid, "not a file"));
		};
		if blocksizes.len() != node.links.len() {
			return Err(DagError::Malformed(*cid, "block sizes do not match the links"));
		}
		let mut offset = 0u64;
		let inline_end = data.len() as u64;
		if start < inline_end {
			out.write_all(&data[start as usize..end.min(inline_end) as usize])?;
		}
		offset += inline_end;
		for (link, size) in node.links.iter().zip(&blocksizes) {
			let (child_start, child_end) = (offset, offset.saturating_add(*size));
			if child_end > start && child_start < end {
				self.read_range(
					&link.cid,
					start.saturating_sub(child_start),
					end.min(child_end) - child_start,
					out,
					depth + 1,
				)?;
			}
			offset = child_end;
			if offset >= end {
				break;
			}
		}
		Ok(())
	}

	/// Writes the sub-DAG of `root` as a CAR (root first, depth first, each block once).
	pub fn write_car(&self, root: &Cid, out: &mut dyn io::Write) -> Result<(), DagError> {
		out.write_all(&header(root))?;
		self.write_car_blocks(root, out)
	}

	/// Writes the block sections of the sub-DAG of `root` (root first, depth first, each block
	/// once), without a CAR header: streamed, one block in memory at a time.
	pub fn write_car_blocks(&self, root: &Cid, out: &mut dyn io::Write) -> Result<(), DagError> {
		let mut seen = HashSet::new();
		let mut stack = vec![(*root, 0usize)];
		while let Some((cid, depth)) = stack.pop() {
			if depth > MAX_DEPTH {
				return Err(DagError::TooDeep);
			}
			if !seen.insert(cid) {
				continue;
			}
			let bytes = self.block(&cid)?;
			write_block(out, &cid, &bytes)?;
			if cid.codec == Codec::DagPb {
				let node = decode_pb(&cid, &bytes)?;
				for link in node.links.iter().rev() {
					stack.push((link.cid, depth + 1));
				}
			}
		}
		Ok(())
	}
}

/// Writes one CAR block section.
pub fn write_block(out: &mut dyn io::Write, cid: &Cid, bytes: &[u8]) -> io::Result<()> {
	let cid_bytes = cid.to_bytes();
	let mut prefix = Vec::with_capacity(10);
	write_varint(&mut prefix, (cid_bytes.len() + bytes.len()) as u64);
	out.write_all(&prefix)?;
	out.write_all(&cid_bytes)?;
	out.write_all(bytes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::car::{read_car, CarWriter};
	use dsync_primitives::storage::{unixfs::directory, FileBuilder, Link, Profile};
	use std::{collections::HashMap, io::Cursor};

	#[derive(Default)]
	struct Memory(HashMap<Cid, Vec<u8>>);

	impl Blocks for Memory {
		fn block(&self, cid: &Cid) -> io::Result<Option<Vec<u8>>> {
			Ok(self.0.get(cid).cloned())
		}
	}

	const SMALL: Profile = Profile { chunk_size: 1024, max_links: 4 };

	fn file(blocks: &mut Memory, data: &[u8]) -> Link {
		let mut builder = FileBuilder::new(SMALL).unwrap();
		let mut sink = |cid: &Cid, bytes: &[u8]| {
			blocks.0.insert(*cid, bytes.to_vec());
		};
		builder.write(data, &mut sink);
		builder.finish(&mut sink)
	}

	/// Bytes with no repeated chunk (xorshift), so no two leaves are alike.
	fn content(len: usize, seed: u32) -> Vec<u8> {
		let mut x = 0x9e37_79b9u32 ^ seed;
		(0..len)
			.map(|_| {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				x as u8
			})
			.collect()
	}

	/// A site: index.html, img/logo.png (3 levels of 1 KiB chunks), an empty file.
	fn site(blocks: &mut Memory) -> (Link, Vec<u8>, Vec<u8>) {
		let index = b"<html>hello</html>".to_vec();
		let logo = content(20_000, 7);
		let index_link = file(blocks, &index);
		let logo_link = file(blocks, &logo);
		let empty_link = file(blocks, b"");
		let mut sink = |cid: &Cid, bytes: &[u8]| {
			blocks.0.insert(*cid, bytes.to_vec());
		};
		let img = directory(&mut [(b"logo.png".to_vec(), logo_link)], &mut sink).unwrap();
		let root = directory(
			&mut [
				(b"index.html".to_vec(), index_link),
				(b"img".to_vec(), img),
				(b"empty".to_vec(), empty_link),
			],
			&mut sink,
		)
		.unwrap();
		(root, index, logo)
	}

	#[test]
	fn paths_resolve_and_files_read_whole_or_in_ranges() {
		let mut blocks = Memory::default();
		let (root, index, logo) = site(&mut blocks);
		let dag = Dag::new(&blocks);
		let logo_cid = dag.resolve(&root.cid, "/img/logo.png").unwrap();
		assert_eq!(dag.entry(&logo_cid).unwrap(), Entry::File { size: logo.len() as u64 });
		let mut out = Vec::new();
		dag.read_file(&logo_cid, 0, logo.len() as u64, &mut out).unwrap();
		assert_eq!(out, logo);
		for (start, end) in
			[(0u64, 1u64), (1000, 1030), (1023, 1025), (4095, 9000), (19_999, 20_000), (5, 5)]
		{
			let mut out = Vec::new();
			dag.read_file(&logo_cid, start, end, &mut out).unwrap();
			assert_eq!(out, logo[start as usize..end as usize], "{start}..{end}");
		}
		let index_cid = dag.resolve(&root.cid, "index.html").unwrap();
		let mut out = Vec::new();
		dag.read_file(&index_cid, 0, 100, &mut out).unwrap();
		assert_eq!(out, index);
		assert!(
			matches!(dag.entry(&root.cid).unwrap(), Entry::Directory { entries } if entries.len() == 3)
		);
		assert_eq!(
			dag.entry(&dag.resolve(&root.cid, "empty").unwrap()).unwrap(),
			Entry::File { size: 0 }
		);
		assert!(
			matches!(dag.resolve(&root.cid, "img/nope.png"), Err(DagError::NotFound(p)) if p == "/img/nope.png")
		);
		assert!(
			matches!(dag.resolve(&root.cid, "index.html/x"), Err(DagError::NotADirectory(p)) if p == "/index.html/")
		);
	}

	#[test]
	fn a_sub_dag_is_written_as_a_car_with_every_block_once() {
		let mut blocks = Memory::default();
		let (root, _, logo) = site(&mut blocks);
		let dag = Dag::new(&blocks);
		let mut car = Vec::new();
		dag.write_car(&root.cid, &mut car).unwrap();
		let index = read_car(Cursor::new(&car), Some(&root.cid)).unwrap();
		assert_eq!(index.blocks.len(), blocks.0.len());
		// A sub-DAG: only the logo's blocks, the file's root first.
		let logo_cid = dag.resolve(&root.cid, "img/logo.png").unwrap();
		let mut car = Vec::new();
		dag.write_car(&logo_cid, &mut car).unwrap();
		let index = read_car(Cursor::new(&car), Some(&logo_cid)).unwrap();
		let first = index.blocks.values().map(|at| at.offset).min().unwrap();
		assert_eq!(index.blocks[&logo_cid].offset, first);
		// 20 leaves under 5 + 2 + 1 nodes of at most 4 links.
		assert_eq!(index.blocks.len(), logo.len().div_ceil(1024) + 8);
	}

	#[test]
	fn missing_and_malformed_blocks_are_errors() {
		let mut blocks = Memory::default();
		let (root, _, _) = site(&mut blocks);
		let logo_leaf = {
			let dag = Dag::new(&blocks);
			let logo = dag.resolve(&root.cid, "img/logo.png").unwrap();
			let node = decode_pb(&logo, &blocks.0[&logo]).unwrap();
			node.links[0].cid
		};
		let mut broken = Memory(blocks.0.clone());
		broken.0.remove(&logo_leaf);
		let dag = Dag::new(&broken);
		let logo = dag.resolve(&root.cid, "img/logo.png").unwrap();
		assert!(
			matches!(dag.read_file(&logo, 0, 10, &mut Vec::new()), Err(DagError::Missing(c)) if c == logo_leaf)
		);
		assert!(matches!(dag.write_car(&root.cid, &mut Vec::new()), Err(DagError::Missing(_))));
		// A block whose bytes were swapped is refused.
		let mut swapped = Memory(blocks.0.clone());
		swapped.0.insert(root.cid, b"not the directory".to_vec());
		assert!(matches!(Dag::new(&swapped).entry(&root.cid), Err(DagError::Malformed(..))));
		// Garbage as dag-pb and as UnixFS.
		let cid = Cid::dag_pb(b"x");
		for garbage in
			[&[0x12u8, 0x05][..], &[0x0a, 0x01][..], &[0xff][..], &[0x12, 0x02, 0x18, 0x01][..]]
		{
			assert!(decode_pb(&cid, garbage).is_err(), "{garbage:?}");
		}
		assert!(decode_unixfs(&cid, &[0x10, 0x01]).is_err());
		assert_eq!(decode_unixfs(&cid, &[0x08, 0x05]).unwrap(), UnixFs::Other(5));
		let _ = CarWriter::new(Cursor::new(Vec::new())).unwrap();
	}
}
