//! Saturating conversions between the integer types the pallets count with.
//!
//! Lengths of bounded collections are `usize` in memory and `u32` in storage, weights and
//! events; indices go the other way. Every such conversion in the runtime goes through one of
//! these functions: a value that does not fit becomes the largest value of the target type, so
//! no conversion panics and none wraps. (In the runtime the lengths are bounded by `u32`
//! constants and `usize` is at least 32 bits wide, so the saturation is a guard, not a path.)
//!
//! Conversions of the runtime's generic types (balances, block numbers) use
//! [`sp_runtime::SaturatedConversion`], which saturates the same way.

/// `value` as a `u32`; `u32::MAX` when it is larger.
pub fn usize_to_u32(value: usize) -> u32 {
	u32::try_from(value).unwrap_or(u32::MAX)
}

/// `value` as a `u64`; `u64::MAX` when it is larger (on no target the chain runs on).
pub fn usize_to_u64(value: usize) -> u64 {
	u64::try_from(value).unwrap_or(u64::MAX)
}

/// `value` as a `usize`; `usize::MAX` when it is larger (on no target the chain runs on: `usize`
/// has at least 32 bits there).
pub fn u32_to_usize(value: u32) -> usize {
	usize::try_from(value).unwrap_or(usize::MAX)
}

/// `value` as a `u32`; `u32::MAX` when it is larger.
pub fn u64_to_u32(value: u64) -> u32 {
	u32::try_from(value).unwrap_or(u32::MAX)
}

/// `value` as a `u8`; `u8::MAX` when it is larger.
pub fn u32_to_u8(value: u32) -> u8 {
	u8::try_from(value).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn values_that_fit_are_kept() {
		assert_eq!(usize_to_u32(0), 0);
		assert_eq!(usize_to_u32(4_096), 4_096);
		assert_eq!(usize_to_u64(7), 7);
		assert_eq!(u32_to_usize(u32::MAX), usize::try_from(u32::MAX).unwrap());
		assert_eq!(u64_to_u32(u64::from(u32::MAX)), u32::MAX);
		assert_eq!(u32_to_u8(255), 255);
	}

	#[test]
	fn values_that_do_not_fit_saturate() {
		assert_eq!(u64_to_u32(u64::from(u32::MAX) + 1), u32::MAX);
		assert_eq!(u64_to_u32(u64::MAX), u32::MAX);
		assert_eq!(u32_to_u8(256), u8::MAX);
		assert_eq!(u32_to_u8(u32::MAX), u8::MAX);
		#[cfg(target_pointer_width = "64")]
		assert_eq!(usize_to_u32(usize::MAX), u32::MAX);
	}
}
