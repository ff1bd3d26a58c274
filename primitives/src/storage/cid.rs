//! Content identifiers as IPFS writes them.
//!
//! A CID names content by its hash: `<version><codec><multihash>`. DSYNC content is always
//! hashed with SHA2-256 and is either a raw block (multicodec `raw`, 0x55: a file's leaf, or a
//! whole file of at most one chunk) or a UnixFS node (multicodec `dag-pb`, 0x70: a file's inner
//! node or a directory). [`Cid`] holds exactly that: a [`Codec`] and a 32-byte digest, 33 bytes
//! in SCALE, the form the chain stores.
//!
//! Text forms:
//! - CIDv1, multibase base32 lower case (`b` prefix, RFC 4648 alphabet, no padding): what
//!   [`Cid`]'s `Display` writes (`bafkrei…` for raw, `bafybei…` for dag-pb), as kubo and the
//!   JavaScript importer do for CIDv1;
//! - CIDv1 in base58btc (`z` prefix) and base32 upper case (`B`), accepted by [`Cid::parse`];
//! - CIDv0 (`Qm…`: a bare base58btc SHA2-256 multihash, always dag-pb), what kubo printed
//!   before CIDv1 became its default, accepted by [`Cid::parse`] and equal to the CIDv1 of the
//!   same node. [`Cid::to_v0_string`] writes it back for dag-pb CIDs.

use alloc::{string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use scale_info::TypeInfo;

/// Multicodec of a raw block.
pub const MULTICODEC_RAW: u64 = 0x55;
/// Multicodec of a dag-pb (UnixFS) node.
pub const MULTICODEC_DAG_PB: u64 = 0x70;
/// Multihash code of SHA2-256.
pub const MULTIHASH_SHA2_256: u64 = 0x12;
/// The length of a SHA2-256 digest.
pub const DIGEST_LEN: usize = 32;
/// The longest binary CIDv1 this module writes or reads: version, codec, hash code and length
/// (one byte each) and the digest.
pub const MAX_CID_BYTES: usize = 4 + DIGEST_LEN;

/// What a CID's block is.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Codec {
	/// A raw block: the bytes themselves.
	Raw,
	/// A dag-pb node: a UnixFS file's inner node or a directory.
	DagPb,
}

impl Codec {
	/// The multicodec number.
	pub fn code(self) -> u64 {
		match self {
			Codec::Raw => MULTICODEC_RAW,
			Codec::DagPb => MULTICODEC_DAG_PB,
		}
	}
}

/// A content identifier: the codec of the block and the SHA2-256 digest of its bytes.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Cid {
	/// The block's codec.
	pub codec: Codec,
	/// SHA2-256 of the block's bytes.
	pub digest: [u8; DIGEST_LEN],
}

/// Why a CID could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CidError {
	/// Empty input.
	Empty,
	/// A multibase prefix other than `b`, `B` or `z` (or a CIDv0 not starting with `Qm`).
	UnsupportedMultibase,
	/// A character outside the multibase's alphabet.
	InvalidCharacter,
	/// A CID version other than 0 or 1.
	UnsupportedVersion,
	/// A codec other than raw and dag-pb.
	UnsupportedCodec,
	/// A hash function other than SHA2-256, or a digest length other than 32.
	UnsupportedHash,
	/// Bytes missing or left over.
	InvalidLength,
	/// A varint longer than 9 bytes or not minimally encoded.
	InvalidVarint,
}

impl fmt::Display for CidError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			CidError::Empty => "empty CID",
			CidError::UnsupportedMultibase =>
				"unsupported multibase (expected a CIDv1 in base32 `b…` or base58btc `z…`, or a CIDv0 `Qm…`)",
			CidError::InvalidCharacter => "a character outside the multibase alphabet",
			CidError::UnsupportedVersion => "unsupported CID version (0 and 1 only)",
			CidError::UnsupportedCodec => "unsupported codec (raw and dag-pb only)",
			CidError::UnsupportedHash => "unsupported hash (SHA2-256 only)",
			CidError::InvalidLength => "truncated CID or bytes after its end",
			CidError::InvalidVarint => "malformed varint",
		})
	}
}

impl Cid {
	/// The CID of a raw block.
	pub fn raw(bytes: &[u8]) -> Self {
		Cid { codec: Codec::Raw, digest: sp_crypto_hashing::sha2_256(bytes) }
	}

	/// The CID of an encoded dag-pb node.
	pub fn dag_pb(bytes: &[u8]) -> Self {
		Cid { codec: Codec::DagPb, digest: sp_crypto_hashing::sha2_256(bytes) }
	}

	/// Whether `bytes` are the block this CID names.
	pub fn matches(&self, bytes: &[u8]) -> bool {
		sp_crypto_hashing::sha2_256(bytes) == self.digest
	}

	/// The binary CIDv1: `0x01 <codec> 0x12 0x20 <digest>` (every varint one byte here).
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(MAX_CID_BYTES);
		write_varint(&mut out, 1);
		write_varint(&mut out, self.codec.code());
		write_varint(&mut out, MULTIHASH_SHA2_256);
		write_varint(&mut out, DIGEST_LEN as u64);
		out.extend_from_slice(&self.digest);
		out
	}

	/// Reads a binary CID: a CIDv1, or a CIDv0 (the 34-byte multihash alone).
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, CidError> {
		if bytes.is_empty() {
			return Err(CidError::Empty);
		}
		if bytes.len() == 2 + DIGEST_LEN && bytes[0] == 0x12 && bytes[1] == 0x20 {
			return Ok(Cid { codec: Codec::DagPb, digest: digest_of(&bytes[2..])? });
		}
		let mut rest = bytes;
		let version = read_varint(&mut rest)?;
		if version != 1 {
			return Err(CidError::UnsupportedVersion);
		}
		let codec = match read_varint(&mut rest)? {
			MULTICODEC_RAW => Codec::Raw,
			MULTICODEC_DAG_PB => Codec::DagPb,
			_ => return Err(CidError::UnsupportedCodec),
		};
		if read_varint(&mut rest)? != MULTIHASH_SHA2_256
			|| read_varint(&mut rest)? != DIGEST_LEN as u64
		{
			return Err(CidError::UnsupportedHash);
		}
		Ok(Cid { codec, digest: digest_of(rest)? })
	}

	/// Reads a CID in any accepted text form (see the module documentation). Surrounding
	/// whitespace is not accepted.
	pub fn parse(text: &str) -> Result<Self, CidError> {
		let bytes = text.as_bytes();
		match bytes.first() {
			None => Err(CidError::Empty),
			Some(b'Q') if bytes.len() == 46 && bytes.get(1) == Some(&b'm') => {
				let multihash = base58btc_decode(bytes)?;
				if multihash.len() != 2 + DIGEST_LEN || multihash[0] != 0x12 || multihash[1] != 0x20
				{
					return Err(CidError::UnsupportedHash);
				}
				Cid::from_bytes(&multihash)
			},
			Some(b'b') => Cid::from_v1_bytes(&base32_decode(&bytes[1..], false)?),
			Some(b'B') => Cid::from_v1_bytes(&base32_decode(&bytes[1..], true)?),
			Some(b'z') => Cid::from_v1_bytes(&base58btc_decode(&bytes[1..])?),
			Some(_) => Err(CidError::UnsupportedMultibase),
		}
	}

	fn from_v1_bytes(bytes: &[u8]) -> Result<Self, CidError> {
		// A multibase string always holds a CIDv1; a bare multihash there is malformed.
		if bytes.first() != Some(&1) {
			return Err(CidError::UnsupportedVersion);
		}
		Cid::from_bytes(bytes)
	}

	/// The CIDv0 text form (`Qm…`) of a dag-pb CID; `None` for a raw block (CIDv0 cannot name
	/// one).
	pub fn to_v0_string(&self) -> Option<String> {
		if self.codec != Codec::DagPb {
			return None;
		}
		let mut multihash = Vec::with_capacity(2 + DIGEST_LEN);
		multihash.extend_from_slice(&[0x12, 0x20]);
		multihash.extend_from_slice(&self.digest);
		Some(base58btc_encode(&multihash))
	}
}

impl fmt::Display for Cid {
	/// The CIDv1 in multibase base32, lower case.
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("b")?;
		f.write_str(&base32_encode(&self.to_bytes()))
	}
}

fn digest_of(bytes: &[u8]) -> Result<[u8; DIGEST_LEN], CidError> {
	bytes.try_into().map_err(|_| CidError::InvalidLength)
}

/// Appends an unsigned LEB128 varint (multiformats' and protobuf's varint).
pub fn write_varint(out: &mut Vec<u8>, mut value: u64) {
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}

/// Reads an unsigned varint from the front of `input`, advancing it. At most nine bytes
/// (multiformats' limit: 63 bits), minimally encoded.
pub fn read_varint(input: &mut &[u8]) -> Result<u64, CidError> {
	let mut value: u64 = 0;
	for (i, byte) in input.iter().enumerate().take(9) {
		value |= u64::from(byte & 0x7f) << (7 * i);
		if byte & 0x80 == 0 {
			if i > 0 && *byte == 0 {
				return Err(CidError::InvalidVarint);
			}
			*input = &input[i + 1..];
			return Ok(value);
		}
	}
	Err(if input.len() < 9 { CidError::InvalidLength } else { CidError::InvalidVarint })
}

const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const BASE58_BTC: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// RFC 4648 base32, lower case, no padding.
pub fn base32_encode(bytes: &[u8]) -> String {
	let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
	let mut buffer: u32 = 0;
	let mut bits = 0;
	for byte in bytes {
		buffer = (buffer << 8) | u32::from(*byte);
		bits += 8;
		while bits >= 5 {
			bits -= 5;
			out.push(char::from(BASE32_LOWER[((buffer >> bits) & 31) as usize]));
		}
	}
	if bits > 0 {
		out.push(char::from(BASE32_LOWER[((buffer << (5 - bits)) & 31) as usize]));
	}
	out
}

fn base32_decode(text: &[u8], upper: bool) -> Result<Vec<u8>, CidError> {
	let mut out = Vec::with_capacity(text.len() * 5 / 8);
	let mut buffer: u32 = 0;
	let mut bits = 0;
	if upper && text.iter().any(|c| c.is_ascii_lowercase()) {
		return Err(CidError::InvalidCharacter);
	}
	for c in text {
		let c = if upper { c.to_ascii_lowercase() } else { *c };
		let value = match c {
			b'a'..=b'z' => c - b'a',
			b'2'..=b'7' => c - b'2' + 26,
			_ => return Err(CidError::InvalidCharacter),
		};
		buffer = ((buffer << 5) | u32::from(value)) & 0xfff;
		bits += 5;
		if bits >= 8 {
			bits -= 8;
			out.push((buffer >> bits) as u8);
		}
	}
	// Leftover bits must be padding zeros (a canonical encoding).
	if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
		return Err(CidError::InvalidLength);
	}
	Ok(out)
}

/// Bitcoin's base58 (multibase `z`, and the whole of a CIDv0).
pub fn base58btc_encode(bytes: &[u8]) -> String {
	let zeros = bytes.iter().take_while(|b| **b == 0).count();
	// Base-58 digits, least significant first.
	let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
	for byte in &bytes[zeros..] {
		let mut carry = u32::from(*byte);
		for digit in digits.iter_mut() {
			carry += u32::from(*digit) << 8;
			*digit = (carry % 58) as u8;
			carry /= 58;
		}
		while carry > 0 {
			digits.push((carry % 58) as u8);
			carry /= 58;
		}
	}
	let mut out = String::with_capacity(zeros + digits.len());
	out.extend(core::iter::repeat_n('1', zeros));
	out.extend(digits.iter().rev().map(|d| char::from(BASE58_BTC[usize::from(*d)])));
	out
}

fn base58btc_decode(text: &[u8]) -> Result<Vec<u8>, CidError> {
	// CIDs are short; anything longer than a few CIDs is refused before the quadratic loop.
	if text.len() > 128 {
		return Err(CidError::InvalidLength);
	}
	let zeros = text.iter().take_while(|c| **c == b'1').count();
	// Bytes, least significant first.
	let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
	for c in &text[zeros..] {
		let value = BASE58_BTC.iter().position(|a| a == c).ok_or(CidError::InvalidCharacter)?;
		let mut carry = value as u32;
		for byte in bytes.iter_mut() {
			carry += u32::from(*byte) * 58;
			*byte = carry as u8;
			carry >>= 8;
		}
		while carry > 0 {
			bytes.push(carry as u8);
			carry >>= 8;
		}
	}
	let mut out = alloc::vec![0u8; zeros];
	out.extend(bytes.iter().rev());
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::string::ToString;

	#[test]
	fn the_empty_raw_block_has_the_well_known_cid() {
		// The CID every IPFS implementation gives the empty raw block.
		let cid = Cid::raw(&[]);
		assert_eq!(cid.to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
		assert_eq!(Cid::parse(&cid.to_string()), Ok(cid));
		assert_eq!(cid.to_v0_string(), None);
	}

	#[test]
	fn cid_v0_and_v1_of_a_node_are_the_same_cid() {
		// The empty UnixFS directory (dag-pb bytes 0a 02 08 01): kubo's well-known CIDv0.
		let cid = Cid::dag_pb(&[0x0a, 0x02, 0x08, 0x01]);
		let v0 = cid.to_v0_string().unwrap();
		assert_eq!(v0, "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
		assert_eq!(cid.to_string(), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
		assert_eq!(Cid::parse(&v0), Ok(cid));
		assert_eq!(Cid::parse(&cid.to_string()), Ok(cid));
		// Base58btc and upper-case base32 CIDv1 name the same content.
		let z = alloc::format!("z{}", base58btc_encode(&cid.to_bytes()));
		assert_eq!(Cid::parse(&z), Ok(cid));
		let upper = alloc::format!("B{}", base32_encode(&cid.to_bytes()).to_ascii_uppercase());
		assert_eq!(Cid::parse(&upper), Ok(cid));
	}

	#[test]
	fn bad_cids_are_refused_with_the_reason() {
		let good = Cid::raw(b"a").to_string();
		assert_eq!(Cid::parse(""), Err(CidError::Empty));
		assert_eq!(Cid::parse(&good[..good.len() - 1]), Err(CidError::InvalidLength));
		assert_eq!(Cid::parse(&alloc::format!("{good}a")), Err(CidError::InvalidLength));
		assert_eq!(Cid::parse(&good.replace('a', "1")), Err(CidError::InvalidCharacter));
		assert_eq!(
			Cid::parse(&alloc::format!("f{}", &good[1..])),
			Err(CidError::UnsupportedMultibase)
		);
		assert_eq!(Cid::parse(&alloc::format!(" {good}")), Err(CidError::UnsupportedMultibase));
		// Other versions, codecs, hashes.
		let mut bytes = Cid::raw(b"a").to_bytes();
		bytes[0] = 2;
		assert_eq!(Cid::from_bytes(&bytes), Err(CidError::UnsupportedVersion));
		let mut bytes = Cid::raw(b"a").to_bytes();
		bytes[1] = 0x71; // dag-cbor
		assert_eq!(Cid::from_bytes(&bytes), Err(CidError::UnsupportedCodec));
		let mut bytes = Cid::raw(b"a").to_bytes();
		bytes[2] = 0x13; // sha2-512
		assert_eq!(Cid::from_bytes(&bytes), Err(CidError::UnsupportedHash));
		let mut bytes = Cid::raw(b"a").to_bytes();
		bytes[3] = 0x14;
		assert_eq!(Cid::from_bytes(&bytes), Err(CidError::UnsupportedHash));
		// A non-minimal varint (0x81 0x00 = 1) is refused.
		let mut bytes = alloc::vec![0x81, 0x00];
		bytes.extend_from_slice(&Cid::raw(b"a").to_bytes()[1..]);
		assert_eq!(Cid::from_bytes(&bytes), Err(CidError::InvalidVarint));
		// A CIDv0 that is not a SHA2-256 multihash, and a too long base58 string.
		assert_eq!(
			Cid::parse(&alloc::format!("Qm{}", "1".repeat(44))),
			Err(CidError::UnsupportedHash)
		);
		assert_eq!(
			Cid::parse(&alloc::format!("z{}", "2".repeat(200))),
			Err(CidError::InvalidLength)
		);
	}

	#[test]
	fn varints_round_trip() {
		for value in [0u64, 1, 127, 128, 255, 300, 16_383, 16_384, 1 << 40, (1 << 63) - 1] {
			let mut out = Vec::new();
			write_varint(&mut out, value);
			let mut input = &out[..];
			assert_eq!(read_varint(&mut input), Ok(value));
			assert!(input.is_empty());
		}
		assert_eq!(read_varint(&mut &[0x80u8][..]), Err(CidError::InvalidLength));
		assert_eq!(read_varint(&mut &[0xffu8; 10][..]), Err(CidError::InvalidVarint));
	}

	#[test]
	fn base_encodings_round_trip_random_bytes() {
		let mut state = 0x2545_f491_4f6c_dd1du64;
		for len in 0..80 {
			let bytes: Vec<u8> = (0..len)
				.map(|i| {
					state ^= state << 13;
					state ^= state >> 7;
					state ^= state << 17;
					if i < 2 && len % 3 == 0 {
						0
					} else {
						state as u8
					}
				})
				.collect();
			let b32 = base32_encode(&bytes);
			assert_eq!(base32_decode(b32.as_bytes(), false).unwrap(), bytes);
			let b58 = base58btc_encode(&bytes);
			assert_eq!(base58btc_decode(b58.as_bytes()).unwrap(), bytes);
		}
	}
}
