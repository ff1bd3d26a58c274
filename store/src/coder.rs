//! Erasure coding of content over an order's slots, exactly as
//! [`dsync_primitives::storage::layout`] defines it (and the chain checks with
//! [`shard_len`]).
//!
//! The content is cut into segments of `data_shards` MiB (the last one shorter); each segment
//! into `data_shards` shards of 1 MiB (the last segment's shards `ceil(rest / data_shards)`
//! bytes rounded up to 64, zero padded), coded with Reed-Solomon (`reed-solomon-simd`: any
//! `data_shards` of the shards give the segment back) into `slots - data_shards` parity shards.
//! Slot `j` is shard `j` of every segment, one after another. With one data shard every slot
//! is a plain copy of the content (zero padded to 64 bytes).
//!
//! Encoding and decoding stream: memory is one segment's shards (`slots` MiB at most).

use dsync_primitives::storage::layout::{shard_len, SEGMENT_SHARD_BYTES, SHARD_ALIGN};
use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};
use std::{
	fmt,
	io::{self, Read, Write},
};

/// The most slots an order can have (the chain allows 16; the coder's own bound is higher).
pub const MAX_SLOTS: usize = 256;

/// Why content could not be coded or decoded.
#[derive(Debug)]
pub enum CodeError {
	/// No data shard, more data shards than slots, more than [`MAX_SLOTS`] slots, or an empty
	/// or too large content.
	BadLayout,
	/// Reading the content or a slot, or writing, failed.
	Io(io::Error),
	/// The content or a slot ended early: (what, the bytes missing).
	Short(&'static str),
	/// Fewer distinct slots than data shards were given, or a slot index out of range.
	NotEnoughSlots {
		/// Distinct slots given.
		given: usize,
		/// Slots needed.
		needed: usize,
	},
	/// The Reed-Solomon coder refused (should not happen with a valid layout).
	Coder(reed_solomon_simd::Error),
}

impl fmt::Display for CodeError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			CodeError::BadLayout => f.write_str(
				"invalid layout: 1 to slots data shards, at most 256 slots, a non-empty content",
			),
			CodeError::Io(error) => write!(f, "{error}"),
			CodeError::Short(what) => write!(f, "{what} is shorter than the layout says"),
			CodeError::NotEnoughSlots { given, needed } => {
				write!(f, "{given} distinct slots given, {needed} needed to rebuild the content")
			},
			CodeError::Coder(error) => write!(f, "Reed-Solomon: {error}"),
		}
	}
}

impl std::error::Error for CodeError {}

impl From<io::Error> for CodeError {
	fn from(error: io::Error) -> Self {
		CodeError::Io(error)
	}
}

/// How content of `size` bytes is spread over `slots` slots with `data_shards` data shards.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Layout {
	/// The content's bytes.
	pub size: u64,
	/// Data shards per segment.
	pub data_shards: usize,
	/// Slots (data then parity).
	pub slots: usize,
}

/// One segment: the content bytes it holds and the bytes of each of its shards.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Segment {
	content: u64,
	shard: u64,
}

impl Layout {
	/// A checked layout.
	pub fn new(size: u64, data_shards: usize, slots: usize) -> Result<Self, CodeError> {
		if size == 0 || data_shards == 0 || data_shards > slots || slots > MAX_SLOTS {
			return Err(CodeError::BadLayout);
		}
		shard_len(size, data_shards as u64).ok_or(CodeError::BadLayout)?;
		Ok(Layout { size, data_shards, slots })
	}

	/// The length of every slot.
	pub fn slot_len(&self) -> u64 {
		shard_len(self.size, self.data_shards as u64).unwrap_or(0)
	}

	fn segments(&self) -> impl Iterator<Item = Segment> {
		let k = self.data_shards as u64;
		let segment = k * SEGMENT_SHARD_BYTES;
		let full = self.size / segment;
		let rest = self.size % segment;
		let last = (rest > 0).then(|| Segment {
			content: rest,
			shard: rest.div_ceil(k).div_ceil(SHARD_ALIGN) * SHARD_ALIGN,
		});
		(0..full)
			.map(move |_| Segment { content: segment, shard: SEGMENT_SHARD_BYTES })
			.chain(last)
	}
}

fn read_exact_or(
	reader: &mut impl Read,
	buf: &mut [u8],
	what: &'static str,
) -> Result<(), CodeError> {
	reader.read_exact(buf).map_err(|e| {
		if e.kind() == io::ErrorKind::UnexpectedEof {
			CodeError::Short(what)
		} else {
			CodeError::Io(e)
		}
	})
}

/// Codes `content` (exactly `layout.size` bytes) into one writer per slot.
pub fn encode<W: Write>(
	layout: &Layout,
	mut content: impl Read,
	slots: &mut [W],
) -> Result<(), CodeError> {
	if slots.len() != layout.slots {
		return Err(CodeError::BadLayout);
	}
	let k = layout.data_shards;
	let parity = layout.slots - k;
	let mut encoder: Option<ReedSolomonEncoder> = None;
	let mut buffer = Vec::new();
	for segment in layout.segments() {
		let shard = segment.shard as usize;
		buffer.clear();
		buffer.resize(shard * k, 0);
		read_exact_or(&mut content, &mut buffer[..segment.content as usize], "the content")?;
		if k == 1 {
			for slot in slots.iter_mut() {
				slot.write_all(&buffer)?;
			}
			continue;
		}
		for (j, data) in buffer.chunks_exact(shard).enumerate() {
			slots[j].write_all(data)?;
		}
		if parity == 0 {
			continue;
		}
		let encoder = match encoder.as_mut() {
			Some(encoder) => {
				encoder.reset(k, parity, shard).map_err(CodeError::Coder)?;
				encoder
			},
			None => {
				encoder.insert(ReedSolomonEncoder::new(k, parity, shard).map_err(CodeError::Coder)?)
			},
		};
		for data in buffer.chunks_exact(shard) {
			encoder.add_original_shard(data).map_err(CodeError::Coder)?;
		}
		let result = encoder.encode().map_err(CodeError::Coder)?;
		for (j, recovery) in result.recovery_iter().enumerate() {
			slots[k + j].write_all(recovery)?;
		}
	}
	for slot in slots.iter_mut() {
		slot.flush()?;
	}
	Ok(())
}

/// Rebuilds the content from slots `(index, reader)`: the first `data_shards` distinct ones
/// are read (data slots preferred), the rest ignored; writes exactly `layout.size` bytes.
pub fn decode<R: Read>(
	layout: &Layout,
	slots: Vec<(usize, R)>,
	mut out: impl Write,
) -> Result<(), CodeError> {
	let k = layout.data_shards;
	let mut chosen: Vec<(usize, R)> = Vec::with_capacity(k);
	let mut sorted = slots;
	sorted.sort_by_key(|(index, _)| *index);
	for (index, reader) in sorted {
		if index >= layout.slots {
			return Err(CodeError::NotEnoughSlots { given: 0, needed: k });
		}
		if chosen.len() < k && chosen.last().is_none_or(|(last, _)| *last != index) {
			chosen.push((index, reader));
		}
	}
	if chosen.len() < k {
		return Err(CodeError::NotEnoughSlots { given: chosen.len(), needed: k });
	}
	let parity = layout.slots - k;
	let all_data = chosen.iter().all(|(index, _)| *index < k);
	let mut decoder: Option<ReedSolomonDecoder> = None;
	let mut shards: Vec<Vec<u8>> = vec![Vec::new(); k];
	let mut segment_bytes = Vec::new();
	for segment in layout.segments() {
		let shard = segment.shard as usize;
		for ((_, reader), buffer) in chosen.iter_mut().zip(shards.iter_mut()) {
			buffer.resize(shard, 0);
			read_exact_or(reader, buffer, "a slot")?;
		}
		segment_bytes.clear();
		if k == 1 || all_data {
			for buffer in &shards {
				segment_bytes.extend_from_slice(buffer);
			}
		} else {
			let decoder = match decoder.as_mut() {
				Some(decoder) => {
					decoder.reset(k, parity, shard).map_err(CodeError::Coder)?;
					decoder
				},
				None => decoder
					.insert(ReedSolomonDecoder::new(k, parity, shard).map_err(CodeError::Coder)?),
			};
			for ((index, _), buffer) in chosen.iter().zip(&shards) {
				if *index < k {
					decoder.add_original_shard(*index, buffer).map_err(CodeError::Coder)?;
				} else {
					decoder.add_recovery_shard(*index - k, buffer).map_err(CodeError::Coder)?;
				}
			}
			let result = decoder.decode().map_err(CodeError::Coder)?;
			for j in 0..k {
				let data = match chosen.iter().position(|(index, _)| *index == j) {
					Some(at) => shards[at].as_slice(),
					None => result
						.restored_original(j)
						.ok_or(CodeError::NotEnoughSlots { given: chosen.len(), needed: k })?,
				};
				segment_bytes.extend_from_slice(data);
			}
		}
		out.write_all(&segment_bytes[..segment.content as usize])?;
	}
	out.flush()?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::io::Cursor;

	fn content(size: usize) -> Vec<u8> {
		let mut state = 0x9e37_79b9_7f4a_7c15u64;
		(0..size)
			.map(|_| {
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				state as u8
			})
			.collect()
	}

	fn encode_all(layout: &Layout, data: &[u8]) -> Vec<Vec<u8>> {
		let mut slots = vec![Vec::new(); layout.slots];
		encode(layout, Cursor::new(data), &mut slots).unwrap();
		slots
	}

	fn decode_from(
		layout: &Layout,
		slots: &[Vec<u8>],
		which: &[usize],
	) -> Result<Vec<u8>, CodeError> {
		let mut out = Vec::new();
		let readers = which.iter().map(|&j| (j, Cursor::new(slots[j].as_slice()))).collect();
		decode(layout, readers, &mut out)?;
		Ok(out)
	}

	#[test]
	fn every_slot_has_the_length_the_chain_checks() {
		const MIB: usize = 1 << 20;
		for (size, k, n) in
			[(1, 1, 2), (100, 2, 3), (MIB, 4, 6), (4 * MIB + 5, 4, 6), (9 * MIB + 77, 3, 5)]
		{
			let layout = Layout::new(size as u64, k, n).unwrap();
			let slots = encode_all(&layout, &content(size));
			for slot in &slots {
				assert_eq!(slot.len() as u64, shard_len(size as u64, k as u64).unwrap());
			}
		}
	}

	#[test]
	fn any_data_shards_slots_give_the_content_back() {
		const MIB: usize = 1 << 20;
		// Two full segments (4 MiB each) and a short one, 4 data + 3 parity.
		let size = 8 * MIB + 12_345;
		let data = content(size);
		let layout = Layout::new(size as u64, 4, 7).unwrap();
		let slots = encode_all(&layout, &data);
		for which in [vec![0, 1, 2, 3], vec![3, 4, 5, 6], vec![0, 2, 4, 6], vec![6, 5, 1, 0, 2]] {
			assert_eq!(decode_from(&layout, &slots, &which).unwrap(), data, "slots {which:?}");
		}
		// Three slots are not enough; repeating one does not count twice.
		assert!(matches!(
			decode_from(&layout, &slots, &[0, 1, 6]),
			Err(CodeError::NotEnoughSlots { given: 3, needed: 4 })
		));
		assert!(matches!(
			decode_from(&layout, &slots, &[0, 1, 1, 6]),
			Err(CodeError::NotEnoughSlots { given: 3, needed: 4 })
		));
		// A slot index the layout does not have.
		let readers: Vec<(usize, Cursor<&[u8]>)> =
			vec![(0, Cursor::new(&slots[0])), (9, Cursor::new(&slots[1]))];
		assert!(matches!(
			decode(&layout, readers, Vec::new()),
			Err(CodeError::NotEnoughSlots { .. })
		));
	}

	#[test]
	fn one_data_shard_makes_plain_copies() {
		let data = content(1000);
		let layout = Layout::new(1000, 1, 3).unwrap();
		let slots = encode_all(&layout, &data);
		for slot in &slots {
			assert_eq!(&slot[..1000], data.as_slice());
			assert!(slot[1000..].iter().all(|b| *b == 0));
			assert_eq!(slot.len(), 1024);
		}
		assert_eq!(decode_from(&layout, &slots, &[2]).unwrap(), data);
	}

	#[test]
	fn bad_layouts_and_short_inputs_are_errors() {
		assert!(matches!(Layout::new(0, 1, 1), Err(CodeError::BadLayout)));
		assert!(matches!(Layout::new(1, 0, 1), Err(CodeError::BadLayout)));
		assert!(matches!(Layout::new(1, 3, 2), Err(CodeError::BadLayout)));
		assert!(matches!(Layout::new(1, 1, 257), Err(CodeError::BadLayout)));
		assert!(matches!(Layout::new(u64::MAX, 1, 1), Err(CodeError::BadLayout)));
		let layout = Layout::new(5000, 2, 3).unwrap();
		let mut slots = vec![Vec::new(); 3];
		assert!(matches!(
			encode(&layout, Cursor::new(vec![1u8; 4999]), &mut slots),
			Err(CodeError::Short("the content"))
		));
		let slots = encode_all(&layout, &content(5000));
		let cut: Vec<Vec<u8>> = slots.iter().map(|s| s[..s.len() - 1].to_vec()).collect();
		assert!(matches!(decode_from(&layout, &cut, &[1, 2]), Err(CodeError::Short("a slot"))));
	}
}
