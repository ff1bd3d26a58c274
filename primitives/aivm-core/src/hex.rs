//! Lower-case hexadecimal: the one hex encoder and decoder of the chain's crates.
//!
//! Probe URLs carry the challenge seed as 64 hex digits (`dsync_primitives::probe::probe_url`),
//! the GPU-jobs worker names a model as `0x` and 64 hex digits in the `aivm` URL, `aivm` answers
//! with model ids, result hashes and Merkle roots in the same form, and the node prints keys in
//! hex. Encoding is always lower case; decoding accepts either case.
//!
//! It lives in the inference core, the one crate below every other that writes hex: the
//! `0x`-prefixed model ids, result hashes and Merkle roots are part of `aivm`'s API, which the
//! inference server (`aivm`) and the GPU-jobs worker both speak; `dsync-primitives` re-exports it
//! as `dsync_primitives::hex`.

use alloc::{string::String, vec::Vec};

/// The lower-case hex digit of the low four bits of `nibble`.
pub const fn digit(nibble: u8) -> u8 {
	let nibble = nibble & 0x0f;
	if nibble < 10 {
		b'0' + nibble
	} else {
		b'a' + (nibble - 10)
	}
}

/// The value of the hex digit `digit` (`0-9`, `a-f` or `A-F`); `None` for any other byte.
pub const fn value(digit: u8) -> Option<u8> {
	match digit {
		b'0'..=b'9' => Some(digit - b'0'),
		b'a'..=b'f' => Some(digit - b'a' + 10),
		b'A'..=b'F' => Some(digit - b'A' + 10),
		_ => None,
	}
}

/// Append the lower-case hex of `bytes` to `out`: two digits per byte, high nibble first.
pub fn extend(out: &mut Vec<u8>, bytes: &[u8]) {
	out.reserve(bytes.len().saturating_mul(2));
	for byte in bytes {
		out.push(digit(byte >> 4));
		out.push(digit(*byte));
	}
}

/// The lower-case hex of `bytes`, without prefix.
pub fn encode(bytes: &[u8]) -> String {
	let mut out = String::with_capacity(bytes.len().saturating_mul(2));
	push_str(&mut out, bytes);
	out
}

/// `0x` and the lower-case hex of `bytes`.
pub fn encode_0x(bytes: &[u8]) -> String {
	let mut out = String::with_capacity(bytes.len().saturating_mul(2).saturating_add(2));
	out.push_str("0x");
	push_str(&mut out, bytes);
	out
}

/// Exactly `2 * N` hex digits (either case, no prefix) as `N` bytes; `None` for any other length
/// or a byte that is not a hex digit.
pub fn decode_array<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
	if hex.len() != N.checked_mul(2)? {
		return None;
	}
	let mut out = [0u8; N];
	for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
		let [high, low] = pair else { return None };
		*byte = (value(*high)? << 4) | value(*low)?;
	}
	Some(out)
}

fn push_str(out: &mut String, bytes: &[u8]) {
	for byte in bytes {
		out.push(char::from(digit(byte >> 4)));
		out.push(char::from(digit(*byte)));
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn encodes_lower_case_with_and_without_prefix() {
		assert_eq!(encode(&[]), "");
		assert_eq!(encode(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
		assert_eq!(encode_0x(&[0x00, 0x0f, 0xff]), "0x000fff");
		assert_eq!(encode_0x(&[]), "0x");
		let mut out = b"seed/".to_vec();
		extend(&mut out, &[0x12, 0xab]);
		assert_eq!(out, b"seed/12ab".to_vec());
	}

	#[test]
	fn every_byte_round_trips_in_either_case() {
		let bytes: [u8; 256] = core::array::from_fn(|i| u8::try_from(i).unwrap());
		let hex = encode(&bytes);
		assert_eq!(decode_array::<256>(hex.as_bytes()), Some(bytes));
		assert_eq!(decode_array::<256>(hex.to_uppercase().as_bytes()), Some(bytes));
		for nibble in 0..16u8 {
			assert_eq!(value(digit(nibble)), Some(nibble));
		}
	}

	#[test]
	fn decoding_needs_exactly_the_digits_of_the_array() {
		assert_eq!(decode_array::<2>(b"0aFf"), Some([0x0a, 0xff]));
		assert_eq!(decode_array::<2>(b"0aF"), None);
		assert_eq!(decode_array::<2>(b"0aFf0"), None);
		assert_eq!(decode_array::<2>(b"0x0a"), None);
		assert_eq!(decode_array::<2>(b"0g00"), None);
		assert_eq!(decode_array::<0>(b""), Some([]));
		assert_eq!(value(b' '), None);
	}
}
