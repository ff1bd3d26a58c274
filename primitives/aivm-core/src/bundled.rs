//! The models shipped with the chain, as `.aivm` files with their ids.
//!
//! The files are the committed artefacts under `models/` at the repository root; the training
//! scripts next to them are their source of truth, and their `MODEL.md` records how each was
//! trained and measured. A constant that is not used adds nothing to a binary.

/// The 8×8 digits classifier: a 64-128-64-10 ReLU MLP trained on scikit-learn's digits set
/// (`models/digits/`). Input: the 64 pixels row by row, each 0..=16 as `i8`; output: 10 logits,
/// the class is their [`argmax`](crate::argmax). 97.50% accuracy (351 of 360) on the held-out
/// test split.
pub const DIGITS_64_128_64_10: &[u8] =
	include_bytes!("../../../models/digits/digits-64-128-64-10.aivm");

/// The id of [`DIGITS_64_128_64_10`]: the Blake2-256 of the file,
/// `0x9d164bfcc2ab301eceb6693bca7281b53acd2e06f40f01fd6c3daa907df7aa3e`.
pub const DIGITS_64_128_64_10_HASH: [u8; 32] = [
	0x9d, 0x16, 0x4b, 0xfc, 0xc2, 0xab, 0x30, 0x1e, 0xce, 0xb6, 0x69, 0x3b, 0xca, 0x72, 0x81, 0xb5,
	0x3a, 0xcd, 0x2e, 0x06, 0xf4, 0x0f, 0x01, 0xfd, 0x6c, 0x3d, 0xaa, 0x90, 0x7d, 0xf7, 0xaa, 0x3e,
];
