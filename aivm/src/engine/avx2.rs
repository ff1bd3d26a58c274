//! The AVX2 back-end.
//!
//! AVX2's byte multiply-add `vpmaddubsw` saturates its 16-bit pair sums (`255 · -128 · 2` does
//! not fit), so it cannot give the reference's exact sums. This back-end widens activations and
//! weights to `i16` and uses `vpmaddwd` (16 `i16` products summed in pairs into 8 `i32` lanes),
//! which is exact. Layout of a layer with `n` inputs and `m` outputs: inputs in pairs
//! (`pairs = ceil(n / 2)`), outputs in blocks of 8; weights `[block][pair][8 outputs][2 inputs]`
//! as `i16`, zero-padded. A tile of up to 4 output blocks and 2 items keeps 8 accumulators in
//! registers. The requantisation is the reference function itself, per output.

use core::arch::x86_64::*;
use dsync_aivm_core::{requantize, Activation, Dense, Model, Requant};

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
	requant: Option<Requant>,
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
		requant: requant.cloned(),
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
	for b in 0..B {
		let at = (block + b) * LANES;
		let valid = (m - at).min(LANES);
		for (i, row) in acc.iter().enumerate() {
			let mut lanes = [0i32; LANES];
			_mm256_storeu_si256(lanes.as_mut_ptr().cast(), row[b]);
			match (&mut *target, &layer.requant) {
				(Target::Hidden(output), Some(requant)) => {
					let base = (item + i) * stride(m) + at;
					for (lane, value) in lanes.iter().enumerate().take(valid) {
						let j = at + lane;
						output[base + lane] = i16::from(requantize(
							*value,
							requant.multipliers[j],
							requant.shifts[j],
							requant.zero_point,
							layer.activation,
						));
					}
				},
				(Target::Logits(output), _) => {
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
