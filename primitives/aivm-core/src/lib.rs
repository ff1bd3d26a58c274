//! # DSYNC deterministic inference core
//!
//! The model format, executor and result hashing that the DSYNC inference network agrees on.
//! Every computation is integer arithmetic with one exactly specified result, so:
//!
//! - the k providers of a job compute bit-identical outputs on any machine, and their results
//!   are compared by hash ([`result_hash`]);
//! - batches settle by the Merkle root of their items' hashes ([`batch_merkle_root`]), and one
//!   item can be proven against a root ([`merkle_proof`], [`verify_merkle_proof`]);
//! - the runtime itself re-executes one inference to settle a dispute: the crate is `no_std`,
//!   and the path [`Model::parse`] → [`Model::evaluate`] is a few hundred lines of safe code.
//!
//! ## Overview
//!
//! - [`Model`]: a parsed, validated `.aivm` model ([`Model::parse`], [`Model::new`],
//!   [`Model::to_bytes`]); its id is [`Model::hash`], the Blake2-256 of the file, and
//!   [`Model::info`] gives the [`ModelInfo`] the on-chain registry records.
//! - [`Model::infer`], [`Model::infer_batch`]: the executor over a contiguous
//!   `[batch][input_len]` buffer of `i8` into a `[batch][output_len]` buffer of `i32`, with a
//!   caller-provided [`Scratch`] (no allocation while running).
//! - [`Kernel`]: the boundary faster back-ends plug into ([`Model::infer_batch_with`]). The
//!   portable reference is [`ScalarKernel`] ([`dense_requant_scalar`], [`dense_logits_scalar`]);
//!   a SIMD or GPU kernel must give bit-identical results, which the test vectors check.
//! - [`result_hash`], [`batch_result_hashes`], [`batch_merkle_root`], [`merkle_proof`],
//!   [`verify_merkle_proof`]: result hashing.
//! - [`hex`]: lower-case hexadecimal, the one encoder and decoder of every DSYNC crate (model
//!   ids, hashes and roots travel as `0x` and 64 digits).
//! - [`bundled`]: the models shipped with the chain (the digits classifier) as `.aivm` bytes,
//!   with their ids.
//!
//! ## The `.aivm` v1 format
//!
//! All integers are little-endian; there is no padding and no alignment. A file is a header
//! followed by `L` layers and nothing else.
//!
//! ### Header (16 bytes)
//!
//! | offset | size | type | field | rule |
//! | --- | --- | --- | --- | --- |
//! | 0 | 4 | bytes | magic | `b"AIVM"` ([`MAGIC`]) |
//! | 4 | 2 | u16 | version | 1 ([`VERSION`]) |
//! | 6 | 2 | u16 | layer count `L` | `1..=16` ([`MAX_LAYERS`]) |
//! | 8 | 4 | u32 | input length | `1..=4096` ([`MAX_WIDTH`]); equals layer 0's `n` |
//! | 12 | 4 | u32 | output length | `1..=4096`; equals layer `L-1`'s `m` |
//!
//! ### Layer (offsets from the start of the layer)
//!
//! Each layer is fully connected (dense) with `n` inputs and `m` outputs:
//!
//! | offset | size | type | field | rule |
//! | --- | --- | --- | --- | --- |
//! | 0 | 1 | u8 | kind | 1 = dense (the only kind in v1) |
//! | 1 | 1 | u8 | activation | 0 = none, 1 = ReLU ([`Activation`]) |
//! | 2 | 1 | u8 | output | 0 = int8 (requantised) for layers `0..L-1`; 1 = int32 for layer `L-1` |
//! | 3 | 1 | i8 | output zero point `z` | any value for int8 output; 0 for int32 output |
//! | 4 | 4 | u32 | `n` | `1..=4096`; equals the previous layer's `m` (layer 0: the input length) |
//! | 8 | 4 | u32 | `m` | `1..=4096` |
//! | 12 | `m·n` | i8 | weights `W` | row-major `[m][n]`: `W[j][i]` at offset `12 + j·n + i` |
//! | `12 + m·n` | `4·m` | i32 | bias `b` | each in `[-2^30, 2^30]` ([`BIAS_LIMIT`]) |
//!
//! Int8-output layers continue with their requantisation parameters ([`Requant`]):
//!
//! | offset | size | type | field | rule |
//! | --- | --- | --- | --- | --- |
//! | `12 + m·n + 4·m` | `4·m` | i32 | multipliers `M` | each `>= 0` |
//! | `12 + m·n + 8·m` | `m` | u8 | shifts `s` | each in `1..=62` ([`MIN_SHIFT`], [`MAX_SHIFT`]) |
//!
//! A layer is `12 + m·n + 9·m` bytes with int8 output and `12 + m·n + 4·m` bytes with int32
//! output. The weights of all layers together are at most [`MAX_WEIGHTS`] (2^22). The file
//! ends exactly after the last layer: trailing bytes are an error, and so is every other
//! field outside its rule ([`ParseError`] names which). A valid file therefore has one
//! encoding: [`Model::to_bytes`] of a parsed file gives back the same bytes. A trailing
//! checksum is not part of the format: the model's id, the Blake2-256 of the whole file,
//! already identifies it.
//!
//! ### Arithmetic
//!
//! For one item `x` (`n` values of `i8`), output `j` of a layer is computed from the exact
//! integer accumulator
//!
//! ```text
//! acc[j] = b[j] + sum_i W[j][i] * x[i]
//! ```
//!
//! which always fits `i32`: `|W·x| <= 128·128 = 2^14` per term, at most 4096 = 2^12 terms, and
//! `|b| <= 2^30`, so `|acc| < 2^30 + 2^26`. Int32 accumulation therefore never overflows, in
//! any summation order, which is what lets SIMD kernels reorder the sum freely.
//!
//! - **Int8 output** (hidden layers), with per-output multiplier `M[j]` and shift `s[j]` and
//!   the layer's zero point `z` ([`requantize`]):
//!
//!   ```text
//!   p = acc[j] * M[j]                        exact in i64 (|p| < 2^62)
//!   r = floor((p + 2^(s[j]-1)) / 2^s[j])     arithmetic right shift: round half up (toward +inf)
//!   v = r + z
//!   v = max(v, z)                            only with ReLU
//!   y[j] = clamp(v, -128, 127)               saturate to i8
//!   ```
//!
//!   The real-valued multiplier this stands for is `M / 2^s`.
//! - **Int32 output** (the last layer): `y[j] = acc[j]`, or `max(acc[j], 0)` with ReLU. The
//!   model's outputs are these int32 logits; [`argmax`] picks the class (lowest index on ties).
//!
//! ### Quantisation conventions
//!
//! The executor sees integers only; the real-valued meaning lives in how a model was
//! quantised and is documented with each model (its `MODEL.md`):
//!
//! - **Inputs** are `i8` features. Their scale and zero point are the model's choice and are
//!   folded into the first layer's weights and bias, so the executor never subtracts an input
//!   zero point. (The digits model takes the pixel values 0..=16 unchanged.)
//! - **Weights** are symmetric (no zero point), with a scale per output neuron or per layer.
//! - **Hidden activations** have the zero point `z` of the layer that produces them; the next
//!   layer's bias absorbs it (`b' = b - z · sum_i W[j][i]`). With ReLU and `z = -128` the int8
//!   range holds 256 non-negative levels.
//! - **Logits** share one scale when the last layer has one weight scale, so their argmax is
//!   the class.
//!
//! ## Result hashing
//!
//! - One item: `result_hash(y) = blake2_256(y[0].to_le_bytes() ++ y[1].to_le_bytes() ++ ...)`.
//! - A batch: the leaves are the items' result hashes in batch order. A node is
//!   `blake2_256(0x01 ++ left ++ right)`; each level pairs nodes `(0, 1), (2, 3), ...`, and an
//!   odd last node is *promoted* unchanged to the next level (not duplicated, so `[a, b, c]` and
//!   `[a, b, c, c]` have different roots). The root of one leaf is that leaf; the root of no
//!   leaves is 32 zero bytes. A proof lists the siblings from the leaf upwards, skipping the
//!   levels where the node was promoted; verifying it needs the item's index and the number of
//!   items, so a proof cannot be replayed at another depth or position.
//!
//! ## Design choices
//!
//! - Integer-only arithmetic, with every range bounded by the parser, so no result depends on
//!   floating point, summation order, thread count, batch size or instruction set.
//! - The parser is strict and total: a corrupt file is rejected with a specific
//!   [`ParseError`], never a panic, and allocates no more than the file's own size.
//! - The executor never allocates: the caller owns the [`Scratch`] (one per thread), so a
//!   server runs batches in a hot loop and the runtime runs one item with a tiny one.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod bundled;
mod exec;
mod hash;
pub mod hex;
mod model;

#[cfg(test)]
mod tests;

pub use exec::{
	argmax, dense_logits_scalar, dense_requant_scalar, dot_i8, logit, requantize, ExecError,
	Kernel, ScalarKernel, Scratch,
};
pub use hash::{
	batch_merkle_root, batch_result_hashes, merkle_height, merkle_level, merkle_node, merkle_proof,
	merkle_root_from_proof, result_hash, verify_merkle_proof, EMPTY_MERKLE_ROOT,
	MERKLE_NODE_PREFIX,
};
pub use model::{Activation, Dense, HiddenLayer, Model, ModelInfo, ParseError, Requant};

/// The first four bytes of every `.aivm` file.
pub const MAGIC: [u8; 4] = *b"AIVM";

/// The format version this crate reads and writes.
pub const VERSION: u16 = 1;

/// The most layers a model may have.
pub const MAX_LAYERS: usize = 16;

/// The most inputs or outputs a layer may have (and so the longest model input or output).
///
/// Together with [`BIAS_LIMIT`] it keeps every accumulator inside `i32`.
pub const MAX_WIDTH: usize = 4096;

/// The most weights all layers of a model may have together (4 MiB of `i8`).
///
/// Bounds the work of one inference, which the runtime may have to re-execute.
pub const MAX_WEIGHTS: usize = 1 << 22;

/// The largest magnitude of a bias: every bias is in `[-BIAS_LIMIT, BIAS_LIMIT]`.
pub const BIAS_LIMIT: i32 = 1 << 30;

/// The smallest requantisation shift.
pub const MIN_SHIFT: u8 = 1;

/// The largest requantisation shift.
pub const MAX_SHIFT: u8 = 62;

/// The length of the file header.
pub const HEADER_LEN: usize = 16;

/// The length of a layer's header (before its weights).
pub const LAYER_HEADER_LEN: usize = 12;

/// The layer kind code of a dense layer.
pub const KIND_DENSE: u8 = 1;

/// The output code of a layer requantised to `i8` (every layer but the last).
pub const OUTPUT_INT8: u8 = 0;

/// The output code of a layer that emits its `i32` accumulators (the last layer).
pub const OUTPUT_INT32: u8 = 1;
