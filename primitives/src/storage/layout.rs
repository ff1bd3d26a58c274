//! How an order's content is spread over its slots: erasure-coded segments.
//!
//! The content (`size` bytes) is cut into *segments* of `data_shards * SEGMENT_SHARD_BYTES`
//! bytes (the last one shorter). Each segment is split into `data_shards` equal pieces (zero
//! padded to a multiple of [`SHARD_ALIGN`] bytes) and coded into `parity_shards` more of the
//! same length (Reed-Solomon: any `data_shards` of the `data_shards + parity_shards` give the
//! segment back). Slot `j` keeps shard `j` of every segment, one after the other, so every slot
//! has the same length, [`shard_len`], which the chain checks when an order is placed. With one
//! data shard the content is kept whole by every slot (plain copies).

/// The bytes of one shard of a full segment: 1 MiB.
pub const SEGMENT_SHARD_BYTES: u64 = 1 << 20;
/// Shards are padded to a multiple of this (the Reed-Solomon coder's unit).
pub const SHARD_ALIGN: u64 = 64;

/// The length of every slot of content of `size` bytes coded with `data_shards` data shards;
/// `None` for no data shard or an overflow.
pub fn shard_len(size: u64, data_shards: u64) -> Option<u64> {
	if data_shards == 0 {
		return None;
	}
	let segment = data_shards.checked_mul(SEGMENT_SHARD_BYTES)?;
	let full = size / segment;
	let rest = size % segment;
	let last = rest.div_ceil(data_shards).div_ceil(SHARD_ALIGN).checked_mul(SHARD_ALIGN)?;
	full.checked_mul(SEGMENT_SHARD_BYTES)?.checked_add(last)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn shard_lengths() {
		const MIB: u64 = SEGMENT_SHARD_BYTES;
		assert_eq!(shard_len(0, 1), Some(0));
		assert_eq!(shard_len(1, 1), Some(64));
		assert_eq!(shard_len(64, 1), Some(64));
		assert_eq!(shard_len(65, 1), Some(128));
		assert_eq!(shard_len(MIB, 1), Some(MIB));
		assert_eq!(shard_len(MIB + 1, 1), Some(MIB + 64));
		// Four data shards: a 4 MiB segment gives 1 MiB per slot.
		assert_eq!(shard_len(4 * MIB, 4), Some(MIB));
		assert_eq!(shard_len(4 * MIB + 4, 4), Some(MIB + 64));
		assert_eq!(shard_len(10 * MIB, 4), Some(2 * MIB + MIB / 2));
		assert_eq!(shard_len(1, 0), None);
		// The last shard rounds up past u64::MAX.
		assert_eq!(shard_len(u64::MAX, 1), None);
		assert_eq!(shard_len(u64::MAX - MIB, 1), Some(u64::MAX - MIB + 1));
		assert_eq!(shard_len(u64::MAX, u64::MAX), None);
		// Every slot together holds at least the content.
		for size in [1u64, 100, 4095, 4096, 5 * MIB + 3, 123_456_789] {
			for k in 1..=8 {
				let len = shard_len(size, k).unwrap();
				assert!(len * k >= size && len.is_multiple_of(64));
			}
		}
	}
}
