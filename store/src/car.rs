//! Content as a CARv1 file: how it is uploaded, coded over slots and kept.
//!
//! A CAR ("content addressable archive", the IPLD transport format every IPFS implementation
//! reads) is a header naming the root CID, then each block as `varint(len) ++ CID ++ bytes`.
//! The network writes one root, a CIDv1 with SHA2-256 (so the header is always
//! [`HEADER_LEN`] bytes and can be written last, once the root is known), and every block once
//! (a file of repeated chunks has repeated leaves; the CAR keeps one). The blocks follow the
//! order the importer made them (leaves first, the root last): a CAR's block order is free,
//! and a gateway's CAR responses are written in their own order from the index.
//!
//! Reading ([`read_car`]) checks everything it can: the header, that each block's bytes hash to
//! its CID, that no block is larger than [`MAX_BLOCK_BYTES`], that the root is one of the
//! blocks, and nothing after the last block but zero padding (a slot's padding to 64 bytes).

use dsync_primitives::storage::{
	cid::{read_varint, write_varint},
	Cid,
};
use std::{
	collections::{HashMap, HashSet},
	fmt,
	io::{self, Read, Seek, SeekFrom, Write},
};

/// The length of the header of a CAR with one CIDv1 SHA2-256 root: the varint length (58)
/// and the DAG-CBOR map `{"roots": [CID], "version": 1}`.
pub const HEADER_LEN: usize = 59;

/// The largest block read (the network's blocks are at most a 1 MiB leaf or a 256 KiB
/// directory node; 2 MiB is also the largest block IPFS implementations exchange).
pub const MAX_BLOCK_BYTES: u64 = 2 << 20;

/// The header of a CAR whose root is `root`.
pub fn header(root: &Cid) -> [u8; HEADER_LEN] {
	let mut out = Vec::with_capacity(HEADER_LEN);
	out.push((HEADER_LEN - 1) as u8);
	// map(2)
	out.push(0xa2);
	// "roots": array(1) of tag 42 (CID) over bytes(37): a 0x00 prefix then the binary CID.
	out.push(0x65);
	out.extend_from_slice(b"roots");
	out.extend_from_slice(&[0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00]);
	out.extend_from_slice(&root.to_bytes());
	// "version": 1
	out.push(0x67);
	out.extend_from_slice(b"version");
	out.push(0x01);
	let mut header = [0u8; HEADER_LEN];
	header.copy_from_slice(&out);
	header
}

/// Writes a CAR block by block; the header is written by [`CarWriter::finish`].
pub struct CarWriter<W: Write + Seek> {
	out: W,
	seen: HashSet<[u8; 32]>,
	len: u64,
	error: Option<io::Error>,
}

impl<W: Write + Seek> CarWriter<W> {
	/// A writer at the start of `out`, which gets a placeholder header now.
	pub fn new(mut out: W) -> io::Result<Self> {
		out.write_all(&[0u8; HEADER_LEN])?;
		Ok(CarWriter { out, seen: HashSet::new(), len: HEADER_LEN as u64, error: None })
	}

	/// Adds a block, once: a block already written is skipped. The first write error is kept
	/// and returned by [`CarWriter::finish`] (the importer's sink cannot fail).
	pub fn block(&mut self, cid: &Cid, data: &[u8]) {
		if self.error.is_some() || !self.seen.insert(cid.digest) {
			return;
		}
		let cid_bytes = cid.to_bytes();
		let mut prefix = Vec::with_capacity(10);
		write_varint(&mut prefix, (cid_bytes.len() + data.len()) as u64);
		let written = self
			.out
			.write_all(&prefix)
			.and_then(|_| self.out.write_all(&cid_bytes))
			.and_then(|_| self.out.write_all(data));
		match written {
			Ok(()) => self.len += (prefix.len() + cid_bytes.len() + data.len()) as u64,
			Err(error) => self.error = Some(error),
		}
	}

	/// Writes the header naming `root` and returns the output and the CAR's length.
	pub fn finish(mut self, root: &Cid) -> io::Result<(W, u64)> {
		if let Some(error) = self.error {
			return Err(error);
		}
		self.out.flush()?;
		self.out.seek(SeekFrom::Start(0))?;
		self.out.write_all(&header(root))?;
		self.out.seek(SeekFrom::Start(self.len))?;
		self.out.flush()?;
		Ok((self.out, self.len))
	}
}

/// Where one block's bytes are in a CAR.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockAt {
	/// The offset of the block's bytes (after its CID).
	pub offset: u64,
	/// The block's length.
	pub len: u32,
}

/// A CAR read and checked: its root and where each block is.
#[derive(Clone, Debug)]
pub struct CarIndex {
	/// The root.
	pub root: Cid,
	/// Every block.
	pub blocks: HashMap<Cid, BlockAt>,
	/// The CAR's length without padding.
	pub len: u64,
}

/// Why a CAR was refused.
#[derive(Debug)]
pub enum CarError {
	/// Reading failed.
	Io(io::Error),
	/// The header is not the one-root CIDv1 header the network writes.
	BadHeader,
	/// The CAR ends inside a block (at this offset).
	Truncated(u64),
	/// A block's CID is malformed or of a kind the network does not keep (at this offset).
	BadCid(u64),
	/// A block is larger than [`MAX_BLOCK_BYTES`] (at this offset).
	BlockTooLarge(u64),
	/// A block's bytes do not hash to its CID.
	HashMismatch(Cid),
	/// The root is not among the blocks.
	MissingRoot(Cid),
	/// The root is not the expected one.
	WrongRoot {
		/// The CAR's root.
		found: Cid,
		/// The root expected.
		expected: Cid,
	},
}

impl fmt::Display for CarError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			CarError::Io(error) => write!(f, "reading the CAR: {error}"),
			CarError::BadHeader => {
				f.write_str("not a CARv1 with one CIDv1 SHA2-256 root (the header differs)")
			},
			CarError::Truncated(at) => write!(f, "the CAR ends inside the block at byte {at}"),
			CarError::BadCid(at) => write!(f, "malformed or unsupported CID at byte {at}"),
			CarError::BlockTooLarge(at) => {
				write!(f, "the block at byte {at} is larger than {MAX_BLOCK_BYTES} bytes")
			},
			CarError::HashMismatch(cid) => write!(f, "block {cid} does not hash to its CID"),
			CarError::MissingRoot(cid) => write!(f, "the root {cid} is not in the CAR"),
			CarError::WrongRoot { found, expected } => {
				write!(f, "the CAR's root is {found}, not {expected}")
			},
		}
	}
}

impl std::error::Error for CarError {}

impl From<io::Error> for CarError {
	fn from(error: io::Error) -> Self {
		CarError::Io(error)
	}
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
	let mut filled = 0;
	while filled < buf.len() {
		match reader.read(&mut buf[filled..]) {
			Ok(0) => break,
			Ok(n) => filled += n,
			Err(e) if e.kind() == io::ErrorKind::Interrupted => {},
			Err(e) => return Err(e),
		}
	}
	Ok(filled)
}

/// Reads a varint byte by byte; `None` at the end of the input.
fn read_varint_from(reader: &mut impl Read, at: u64) -> Result<Option<(u64, usize)>, CarError> {
	let mut bytes = Vec::with_capacity(9);
	loop {
		let mut byte = [0u8];
		if read_full(reader, &mut byte)? == 0 {
			return if bytes.is_empty() { Ok(None) } else { Err(CarError::Truncated(at)) };
		}
		bytes.push(byte[0]);
		if byte[0] & 0x80 == 0 || bytes.len() == 9 {
			break;
		}
	}
	let mut slice = bytes.as_slice();
	let value = read_varint(&mut slice).map_err(|_| CarError::BadCid(at))?;
	Ok(Some((value, bytes.len())))
}

/// Reads a whole CAR from `reader`, checking every block (see the module documentation);
/// zero bytes after the last block (padding) end it. When `expected` is given the root must be
/// it. Memory: one block and the index.
pub fn read_car(mut reader: impl Read, expected: Option<&Cid>) -> Result<CarIndex, CarError> {
	let mut head = [0u8; HEADER_LEN];
	if read_full(&mut reader, &mut head)? != HEADER_LEN {
		return Err(CarError::BadHeader);
	}
	let root = parse_header(&head).ok_or(CarError::BadHeader)?;
	if let Some(expected) = expected {
		if *expected != root {
			return Err(CarError::WrongRoot { found: root, expected: *expected });
		}
	}
	let mut blocks = HashMap::new();
	let mut at = HEADER_LEN as u64;
	let mut buffer = Vec::new();
	while let Some((len, varint_len)) = read_varint_from(&mut reader, at)? {
		if len == 0 {
			// Padding: every remaining byte must be zero.
			let mut rest = [0u8; 4096];
			loop {
				let n = read_full(&mut reader, &mut rest)?;
				if rest[..n].iter().any(|b| *b != 0) {
					return Err(CarError::BadCid(at));
				}
				if n < rest.len() {
					break;
				}
			}
			break;
		}
		if len > MAX_BLOCK_BYTES + 64 {
			return Err(CarError::BlockTooLarge(at));
		}
		buffer.resize(len as usize, 0);
		if read_full(&mut reader, &mut buffer)? != buffer.len() {
			return Err(CarError::Truncated(at));
		}
		let (cid, cid_len) = split_cid(&buffer).ok_or(CarError::BadCid(at))?;
		let data = &buffer[cid_len..];
		if data.len() as u64 > MAX_BLOCK_BYTES {
			return Err(CarError::BlockTooLarge(at));
		}
		if !cid.matches(data) {
			return Err(CarError::HashMismatch(cid));
		}
		let offset = at + varint_len as u64 + cid_len as u64;
		blocks.entry(cid).or_insert(BlockAt { offset, len: data.len() as u32 });
		at += varint_len as u64 + len;
	}
	if !blocks.contains_key(&root) {
		return Err(CarError::MissingRoot(root));
	}
	Ok(CarIndex { root, blocks, len: at })
}

/// The root named by a header, if it is the network's header.
fn parse_header(head: &[u8; HEADER_LEN]) -> Option<Cid> {
	let cid = Cid::from_bytes(head.get(14..50)?).ok()?;
	(header(&cid) == *head).then_some(cid)
}

/// A block's CID (CIDv1 only, as the network writes) and its length in bytes.
fn split_cid(block: &[u8]) -> Option<(Cid, usize)> {
	const CID_LEN: usize = 36;
	let cid = Cid::from_bytes(block.get(..CID_LEN)?).ok()?;
	(block.first() == Some(&1)).then_some((cid, CID_LEN))
}

#[cfg(test)]
mod tests {
	use super::*;
	use dsync_primitives::storage::{FileBuilder, Profile};
	use std::io::Cursor;

	fn car_of(data: &[u8], profile: Profile) -> (Cid, Vec<u8>) {
		let mut writer = CarWriter::new(Cursor::new(Vec::new())).unwrap();
		let mut builder = FileBuilder::new(profile).unwrap();
		builder.write(data, &mut |cid, block| writer.block(cid, block));
		let link = builder.finish(&mut |cid, block| writer.block(cid, block));
		let (out, len) = writer.finish(&link.cid).unwrap();
		let bytes = out.into_inner();
		assert_eq!(bytes.len() as u64, len);
		(link.cid, bytes)
	}

	#[test]
	fn the_header_is_dag_cbor_with_one_root() {
		let cid = Cid::raw(b"hello");
		let head = header(&cid);
		assert_eq!(head[0], 58);
		assert_eq!(&head[3..8], b"roots");
		assert_eq!(&head[51..58], b"version");
		assert_eq!(parse_header(&head), Some(cid));
	}

	#[test]
	fn a_car_round_trips_and_repeated_blocks_are_kept_once() {
		let profile = Profile { chunk_size: 1024, max_links: 4 };
		// 16 identical chunks then 3 distinct: 4 distinct leaves... and a few inner nodes.
		let mut data = vec![7u8; 16 * 1024];
		data.extend((0..3 * 1024).map(|i| (i % 251) as u8));
		let (root, bytes) = car_of(&data, profile);
		let index = read_car(Cursor::new(&bytes), Some(&root)).unwrap();
		assert_eq!(index.root, root);
		assert_eq!(index.len, bytes.len() as u64);
		// One leaf of sevens, three others; every block's bytes are where the index says.
		let raw = index.blocks.keys().filter(|c| c.codec == dsync_primitives::storage::Codec::Raw);
		assert_eq!(raw.count(), 4);
		for (cid, at) in &index.blocks {
			let start = at.offset as usize;
			assert!(cid.matches(&bytes[start..start + at.len as usize]));
		}
		// Zero padding is accepted, anything else after the blocks is not.
		let mut padded = bytes.clone();
		padded.extend_from_slice(&[0u8; 40]);
		assert_eq!(read_car(Cursor::new(&padded), None).unwrap().len, bytes.len() as u64);
		padded.push(1);
		assert!(matches!(read_car(Cursor::new(&padded), None), Err(CarError::BadCid(_))));
	}

	#[test]
	fn bad_cars_are_refused_with_the_reason() {
		let (root, bytes) = car_of(&vec![1u8; 3000], Profile { chunk_size: 1024, max_links: 4 });
		let other = Cid::raw(b"other");
		assert!(matches!(
			read_car(Cursor::new(&bytes), Some(&other)),
			Err(CarError::WrongRoot { found, expected }) if found == root && expected == other
		));
		assert!(matches!(read_car(Cursor::new(&bytes[..30]), None), Err(CarError::BadHeader)));
		let mut header_changed = bytes.clone();
		header_changed[4] = b'R';
		assert!(matches!(read_car(Cursor::new(&header_changed), None), Err(CarError::BadHeader)));
		assert!(matches!(
			read_car(Cursor::new(&bytes[..bytes.len() - 1]), None),
			Err(CarError::Truncated(_))
		));
		let mut flipped = bytes.clone();
		let last = flipped.len() - 1;
		flipped[last] ^= 1;
		assert!(matches!(read_car(Cursor::new(&flipped), None), Err(CarError::HashMismatch(_))));
		// A CAR of the header alone lacks its root.
		assert!(matches!(
			read_car(Cursor::new(&header(&root)), None),
			Err(CarError::MissingRoot(r)) if r == root
		));
		// A block length beyond the limit is refused before anything is allocated.
		let mut huge = header(&root).to_vec();
		write_varint(&mut huge, 1 << 40);
		assert!(matches!(read_car(Cursor::new(&huge), None), Err(CarError::BlockTooLarge(_))));
	}
}
