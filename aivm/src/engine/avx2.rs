//! The AVX2 back-end.
//!
//! AVX2's byte multiply-add `vpmaddubsw` saturates its 16-bit pair sums (`255 · -128 · 2` does
//! not fit), so it cannot give the reference's exact sums. This back-end widens activations and
//! weights to `i16` and uses `vpmaddwd` (16 `i16` products summed in pairs into 8 `i32` lanes),
//! which is exact. Layout of a layer with `n` inputs and `m` outputs: inputs in pairs
//! (`pairs = ceil(n / 2)`), outputs in blocks of 8; weights `[block][pair][8 outputs][2 inputs]`
//! as `i16`, zero-padded. A tile of up to 4 output blocks and 2 items keeps 8 accumulators in
//! registers. The requantisation is the reference function in 64-bit lanes, 8 outputs at a
//! time: `vpmuldq` forms the exact `acc · multiplier` products of the even and the odd lanes,
//! and the arithmetic right shift AVX2 lacks for 64-bit lanes is a logical one of the value
//! with its sign bit flipped (`(x ^ 2^63) >>> s - 2^63 >>> s == x >> s` for `s <= 63`).

use super::RequantLanes;
use core::arch::x86_64::*;
use dsync_aivm_core::{Activation, Dense, Model, Requant};

/// Output block width: the `i32` lanes of a 256-bit register.
const LANES: usize = 8;
/// Output blocks per tile.
const TILE_BLOCKS: usize = 4;
/// Items per tile.
const TILE_ITEMS: usize = 2;

/// One layer prepared for this back-end.
pub struct Layer {
	in_len: usize,
	out_len: usize,
	pairs: usize,
	blocks: usize,
	/// `[block][pair][8][2]` weights.
	weights: Vec<i16>,
	/// `blocks · 8` biases.
	bias: Vec<i32>,
	requant: Option<RequantLanes>,
	activation: Activation,
}

/// The row stride, in `i16`, of activations of width `width`.
fn stride(width: usize) -> usize {
	width.div_ceil(LANES) * LANES
}

fn pack(dense: &Dense, requant: Option<&Requant>) -> Layer {
	let (n, m) = (dense.in_len, dense.out_len);
	let pairs = n.div_ceil(2);
	let blocks = m.div_ceil(LANES);
	let mut weights = vec![0i16; blocks * pairs * LANES * 2];
	let mut bias = vec![0i32; blocks * LANES];
	for (j, row) in dense.weights.chunks_exact(n).enumerate() {
		let (block, lane) = (j / LANES, j % LANES);
		for (i, w) in row.iter().enumerate() {
			weights[((block * pairs + i / 2) * LANES + lane) * 2 + i % 2] = i16::from(*w);
		}
	}
	bias[..m].copy_from_slice(&dense.bias);
	Layer {
		in_len: n,
		out_len: m,
		pairs,
		blocks,
		weights,
		bias,
		// Per block of 8 outputs, the even outputs' lanes (4) then the odd outputs'.
		requant: requant.map(|r| {
			RequantLanes::new(r, blocks * LANES, |j| {
				let (block, lane) = (j / LANES, j % LANES);
				block * LANES + (lane % 2) * (LANES / 2) + lane / 2
			})
		}),
		activation: dense.activation,
	}
}

/// The model's layers in this back-end's layout.
pub fn prepare(model: &Model) -> Vec<Layer> {
	let mut layers: Vec<Layer> =
		model.hidden_layers().iter().map(|h| pack(&h.dense, Some(&h.requant))).collect();
	layers.push(pack(model.output_layer(), None));
	layers
}

/// Runs `inputs` (`[batch][input_len]`) into `outputs` (`[batch][output_len]`) on this thread.
///
/// # Safety
/// The CPU supports AVX2; `layers` were prepared from `model`; the buffers hold whole items.
#[target_feature(enable = "avx2")]
pub unsafe fn run(model: &Model, layers: &[Layer], inputs: &[i8], outputs: &mut [i32]) {
	let rows = super::BLOCK_ROWS;
	let (in_len, out_len) = (model.input_len(), model.output_len());
	let widest = layers
		.iter()
		.map(|l| stride(l.out_len).max(stride(l.in_len)))
		.max()
		.unwrap_or(0);
	let mut front = vec![0i16; rows * widest + 16];
	let mut back = vec![0i16; rows * widest + 16];
	let batch = inputs.len() / in_len;
	let mut start = 0;
	while start < batch {
		let count = rows.min(batch - start);
		let in_stride = stride(in_len);
		for r in 0..count {
			let source = &inputs[(start + r) * in_len..(start + r + 1) * in_len];
			for (t, s) in front[r * in_stride..r * in_stride + in_len].iter_mut().zip(source) {
				*t = i16::from(*s);
			}
		}
		let (last, hidden) = layers.split_last().expect("a model has an output layer; qed");
		for layer in hidden {
			run_layer(layer, &front, Target::Hidden(&mut back), count);
			core::mem::swap(&mut front, &mut back);
		}
		let out = &mut outputs[start * out_len..(start + count) * out_len];
		run_layer(last, &front, Target::Logits(out), count);
		start += count;
	}
}

/// Where a layer's outputs go.
enum Target<'a> {
	/// Requantised, as `i16` rows of `stride(out_len)`.
	Hidden(&'a mut [i16]),
	/// `i32` rows of exactly `out_len`.
	Logits(&'a mut [i32]),
}

#[target_feature(enable = "avx2")]
unsafe fn run_layer(layer: &Layer, input: &[i16], mut target: Target<'_>, count: usize) {
	let mut block = 0;
	while block < layer.blocks {
		let tile_blocks = TILE_BLOCKS.min(layer.blocks - block);
		let mut item = 0;
		while item < count {
			let tile_items = TILE_ITEMS.min(count - item);
			macro_rules! tile {
				($b:literal, $i:literal) => {{
					let acc = accumulate::<$b, $i>(layer, input, block, item);
					store(layer, &acc, &mut target, block, item)
				}};
			}
			match (tile_blocks, tile_items) {
				(4, 2) => tile!(4, 2),
				(4, _) => tile!(4, 1),
				(3, 2) => tile!(3, 2),
				(3, _) => tile!(3, 1),
				(2, 2) => tile!(2, 2),
				(2, _) => tile!(2, 1),
				(_, 2) => tile!(1, 2),
				(_, _) => tile!(1, 1),
			}
			item += tile_items;
		}
		block += tile_blocks;
	}
}

#[target_feature(enable = "avx2")]
#[inline]
unsafe fn accumulate<const B: usize, const I: usize>(
	layer: &Layer,
	input: &[i16],
	block: usize,
	item: usize,
) -> [[__m256i; B]; I] {
	let in_stride = stride(layer.in_len);
	let mut acc = [[_mm256_setzero_si256(); B]; I];
	for b in 0..B {
		let bias = _mm256_loadu_si256(layer.bias.as_ptr().add((block + b) * LANES).cast());
		for row in acc.iter_mut() {
			row[b] = bias;
		}
	}
	let pair_len = LANES * 2;
	let block_len = layer.pairs * pair_len;
	let weights = layer.weights.as_ptr();
	let x = input.as_ptr().add(item * in_stride);
	for p in 0..layer.pairs {
		let mut w = [_mm256_setzero_si256(); B];
		for (b, w) in w.iter_mut().enumerate() {
			*w = _mm256_loadu_si256(weights.add((block + b) * block_len + p * pair_len).cast());
		}
		for (i, row) in acc.iter_mut().enumerate() {
			let xi = _mm256_set1_epi32(core::ptr::read_unaligned(
				x.add(i * in_stride + p * 2).cast::<i32>(),
			));
			for (a, w) in row.iter_mut().zip(w.iter()) {
				*a = _mm256_add_epi32(*a, _mm256_madd_epi16(xi, *w));
			}
		}
	}
	acc
}

#[target_feature(enable = "avx2")]
#[inline]
unsafe fn store<const B: usize, const I: usize>(
	layer: &Layer,
	acc: &[[__m256i; B]; I],
	target: &mut Target<'_>,
	block: usize,
	item: usize,
) {
	let m = layer.out_len;
	let relu = layer.activation == Activation::Relu;
	for b in 0..B {
		let at = (block + b) * LANES;
		let valid = (m - at).min(LANES);
		for (i, row) in acc.iter().enumerate() {
			match (&mut *target, &layer.requant) {
				(Target::Hidden(output), Some(requant)) => {
					// All 8 lanes: the row stride is a multiple of 8 and the next layer's
					// weights for padding lanes are zero.
					let base = (item + i) * stride(m) + at;
					let values = requantize8(row[b], requant, at, relu);
					_mm_storeu_si128(output.as_mut_ptr().add(base).cast(), values);
				},
				(Target::Logits(output), _) => {
					let mut lanes = [0i32; LANES];
					_mm256_storeu_si256(lanes.as_mut_ptr().cast(), row[b]);
					let base = (item + i) * m + at;
					for (lane, value) in lanes.iter().enumerate().take(valid) {
						output[base + lane] = dsync_aivm_core::logit(*value, layer.activation);
					}
				},
				(Target::Hidden(_), None) => {},
			}
		}
	}
}

/// The reference requantisation (`dsync_aivm_core::requantize`) of the 8 accumulators `acc`
/// of outputs `at..at + 8`, as 8 `i16` (each in `-128..=127`).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn requantize8(acc: __m256i, requant: &RequantLanes, at: usize, relu: bool) -> __m128i {
	let sign = _mm256_set1_epi64x(i64::MIN);
	let zero_point = _mm256_set1_epi64x(requant.zero_point);
	let low = _mm256_set1_epi64x(i64::from(i8::MIN));
	let high = _mm256_set1_epi64x(i64::from(i8::MAX));
	let half = |values: &[i64], parity: usize| {
		_mm256_loadu_si256(values.as_ptr().add(at + parity * (LANES / 2)).cast())
	};
	// `vpmuldq` multiplies the low (signed) 32 bits of each 64-bit lane: the even outputs as
	// they are, the odd ones moved down.
	let sources = [acc, _mm256_srli_epi64::<32>(acc)];
	let mut results = [_mm256_setzero_si256(); 2];
	for (parity, (source, result)) in sources.iter().zip(results.iter_mut()).enumerate() {
		let product = _mm256_mul_epi32(*source, half(&requant.multipliers, parity));
		let rounded = _mm256_add_epi64(product, half(&requant.rounding, parity));
		let shift = half(&requant.shifts, parity);
		let shifted = _mm256_sub_epi64(
			_mm256_srlv_epi64(_mm256_xor_si256(rounded, sign), shift),
			_mm256_srlv_epi64(sign, shift),
		);
		let mut value = _mm256_add_epi64(shifted, zero_point);
		if relu {
			value = _mm256_blendv_epi8(value, zero_point, _mm256_cmpgt_epi64(zero_point, value));
		}
		value = _mm256_blendv_epi8(value, low, _mm256_cmpgt_epi64(low, value));
		value = _mm256_blendv_epi8(value, high, _mm256_cmpgt_epi64(value, high));
		*result = value;
	}
	// Even results in the even 32-bit lanes, odd ones in the odd lanes: outputs 0..8 in order.
	let merged = _mm256_blend_epi32::<0b1010_1010>(results[0], _mm256_slli_epi64::<32>(results[1]));
	// To `i16`: `vpackssdw` works per 128-bit half, so gather the halves' low quadwords.
	let packed = _mm256_packs_epi32(merged, merged);
	_mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(packed))
}
