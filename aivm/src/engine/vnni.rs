//! The AVX-512 VNNI back-end.
//!
//! `vpdpbusd` multiplies 64 unsigned bytes by 64 signed bytes and adds each group of four
//! products to one of 16 `i32` lanes. The executor's activations are signed, so every layer
//! reads them shifted into `u8` (`x + 128`, a flip of the top bit) and its bias absorbs the
//! shift exactly: `b' = b - 128 · sum_i W[j][i]`. Hidden layers write their requantised
//! outputs already shifted, so the shift costs nothing between layers.
//!
//! Layout of a layer with `n` inputs and `m` outputs: inputs in groups of 4
//! (`groups = ceil(n / 4)`), outputs in blocks of 16 (`blocks = ceil(m / 16)`); the weights are
//! `[block][group][16 outputs][4 inputs]`, zero-padded, so one 64-byte load holds the weights
//! of 16 outputs for one group of 4 inputs. A tile of up to 4 output blocks and 4 items keeps
//! 16 accumulators in registers; the 4 inputs of a group of an item are broadcast to all lanes.
//!
//! Requantisation runs in 64-bit lanes: `vpmuldq` gives the exact `acc · M`, then the rounding
//! term, the arithmetic shift `vpsravq`, the zero point, ReLU and the saturating narrowing
//! `vpmovsqb`, which is exactly the reference's clamp to `[-128, 127]`.

use super::RequantLanes;
use core::arch::x86_64::*;
use dsync_aivm_core::{Activation, Dense, Model, Requant};

/// Output block width: the `i32` lanes of a 512-bit register.
const LANES: usize = 16;
/// Output blocks per tile.
const TILE_BLOCKS: usize = 4;
/// Items per tile.
const TILE_ITEMS: usize = 4;

/// One layer prepared for this back-end.
pub struct Layer {
	in_len: usize,
	out_len: usize,
	groups: usize,
	blocks: usize,
	/// `[block][group][16][4]` weights.
	weights: Vec<i8>,
	/// `blocks · 16` biases, corrected for the `u8` shift of the inputs.
	bias: Vec<i32>,
	/// Requantisation (hidden layers): per output, as 64-bit lanes.
	requant: Option<RequantLanes>,
	relu: bool,
}

/// The row stride, in bytes, of a layer's `u8` activations of width `width`.
fn stride(width: usize) -> usize {
	width.div_ceil(LANES) * LANES
}

fn pack(dense: &Dense, requant: Option<&Requant>) -> Layer {
	let (n, m) = (dense.in_len, dense.out_len);
	let groups = n.div_ceil(4);
	let blocks = m.div_ceil(LANES);
	let mut weights = vec![0i8; blocks * groups * LANES * 4];
	let mut bias = vec![0i32; blocks * LANES];
	for (j, (row, (b, given))) in
		dense.weights.chunks_exact(n).zip(bias.iter_mut().zip(&dense.bias)).enumerate()
	{
		let (block, lane) = (j / LANES, j % LANES);
		for (i, w) in row.iter().enumerate() {
			let at = ((block * groups + i / 4) * LANES + lane) * 4 + i % 4;
			weights[at] = *w;
		}
		let row_sum: i32 = row.iter().map(|w| i32::from(*w)).sum();
		*b = given.wrapping_sub(128 * row_sum);
	}
	let requant = requant.map(|r| RequantLanes::new(r, blocks * LANES, |j| j));
	Layer {
		in_len: n,
		out_len: m,
		groups,
		blocks,
		weights,
		bias,
		requant,
		relu: dense.activation == Activation::Relu,
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
/// The CPU supports AVX-512 F, BW and VNNI; `layers` were prepared from `model`; the buffers
/// hold whole items (checked by the caller).
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn run(model: &Model, layers: &[Layer], inputs: &[i8], outputs: &mut [i32]) {
	let rows = super::BLOCK_ROWS;
	let (in_len, out_len) = (model.input_len(), model.output_len());
	let widest = layers
		.iter()
		.map(|l| stride(l.out_len).max(stride(l.in_len)))
		.max()
		.unwrap_or(0);
	// Two activation buffers of `rows` rows, plus 64 bytes of slack for the last broadcast.
	let mut front = vec![0u8; rows * widest + 64];
	let mut back = vec![0u8; rows * widest + 64];
	let batch = inputs.len() / in_len;
	let mut start = 0;
	while start < batch {
		let count = rows.min(batch - start);
		// Stage the inputs as `u8 = i8 + 128`, rows of `stride(in_len)`.
		let in_stride = stride(in_len);
		for r in 0..count {
			let source = &inputs[(start + r) * in_len..(start + r + 1) * in_len];
			let target = &mut front[r * in_stride..r * in_stride + in_len];
			for (t, s) in target.iter_mut().zip(source) {
				*t = (*s as u8) ^ 0x80;
			}
		}
		let (last, hidden) = layers.split_last().expect("a model has an output layer; qed");
		for layer in hidden {
			layer_u8(layer, &front, &mut back, count);
			core::mem::swap(&mut front, &mut back);
		}
		let out = &mut outputs[start * out_len..(start + count) * out_len];
		layer_logits(last, &front, out, count);
		start += count;
	}
}

/// Calls `$tile::<B, I>($layer, $input, $output, block, item)` for every tile of up to
/// [`TILE_BLOCKS`] output blocks and [`TILE_ITEMS`] items of a layer over `$count` items, with
/// the tile size as constants so each tile's loops unroll into registers.
macro_rules! for_each_tile {
	($tile:ident, $layer:expr, $input:expr, $output:expr, $count:expr) => {{
		let (layer, count) = ($layer, $count);
		let mut block = 0;
		while block < layer.blocks {
			let tile_blocks = TILE_BLOCKS.min(layer.blocks - block);
			let mut item = 0;
			while item < count {
				let tile_items = TILE_ITEMS.min(count - item);
				macro_rules! call {
					($b:literal, $i:literal) => {
						$tile::<$b, $i>(layer, $input, $output, block, item)
					};
				}
				match (tile_blocks, tile_items) {
					(4, 4) => call!(4, 4),
					(4, 3) => call!(4, 3),
					(4, 2) => call!(4, 2),
					(4, _) => call!(4, 1),
					(3, 4) => call!(3, 4),
					(3, 3) => call!(3, 3),
					(3, 2) => call!(3, 2),
					(3, _) => call!(3, 1),
					(2, 4) => call!(2, 4),
					(2, 3) => call!(2, 3),
					(2, 2) => call!(2, 2),
					(2, _) => call!(2, 1),
					(_, 4) => call!(1, 4),
					(_, 3) => call!(1, 3),
					(_, 2) => call!(1, 2),
					(_, _) => call!(1, 1),
				}
				item += tile_items;
			}
			block += tile_blocks;
		}
	}};
}

/// A hidden layer over `count` items: `input` rows of `stride(in_len)` into `output` rows of
/// `stride(out_len)`, both `u8`-shifted.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn layer_u8(layer: &Layer, input: &[u8], output: &mut [u8], count: usize) {
	for_each_tile!(tile_u8, layer, input, &mut *output, count)
}

/// The last layer over `count` items into `i32` outputs of `out_len` per item.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn layer_logits(layer: &Layer, input: &[u8], output: &mut [i32], count: usize) {
	for_each_tile!(tile_logits, layer, input, &mut *output, count)
}

/// The accumulators of a tile: `B` output blocks from `block`, `I` items from `item`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn accumulate<const B: usize, const I: usize>(
	layer: &Layer,
	input: &[u8],
	block: usize,
	item: usize,
) -> [[__m512i; B]; I] {
	let in_stride = stride(layer.in_len);
	let mut acc = [[_mm512_setzero_si512(); B]; I];
	for b in 0..B {
		let bias = _mm512_loadu_si512(layer.bias.as_ptr().add((block + b) * LANES).cast());
		for row in acc.iter_mut() {
			row[b] = bias;
		}
	}
	let group_bytes = LANES * 4;
	let weights = layer.weights.as_ptr();
	let block_bytes = layer.groups * group_bytes;
	let x = input.as_ptr().add(item * in_stride);
	for g in 0..layer.groups {
		let mut w = [_mm512_setzero_si512(); B];
		for (b, w) in w.iter_mut().enumerate() {
			*w =
				_mm512_loadu_si512(weights.add((block + b) * block_bytes + g * group_bytes).cast());
		}
		for (i, row) in acc.iter_mut().enumerate() {
			let xi = _mm512_set1_epi32(core::ptr::read_unaligned(
				x.add(i * in_stride + g * 4).cast::<i32>(),
			));
			for (a, w) in row.iter_mut().zip(w.iter()) {
				*a = _mm512_dpbusd_epi32(*a, xi, *w);
			}
		}
	}
	acc
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn tile_u8<const B: usize, const I: usize>(
	layer: &Layer,
	input: &[u8],
	output: &mut [u8],
	block: usize,
	item: usize,
) {
	let acc = accumulate::<B, I>(layer, input, block, item);
	let Some(requant) = &layer.requant else { return };
	let out_stride = stride(layer.out_len);
	let zero_point = _mm512_set1_epi64(requant.zero_point);
	let flip = _mm_set1_epi8(i8::MIN);
	for b in 0..B {
		let at = (block + b) * LANES;
		let lo = Lanes::load(requant, at);
		let hi = Lanes::load(requant, at + 8);
		for (i, row) in acc.iter().enumerate() {
			let a = row[b];
			let a_lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(a));
			let a_hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(a));
			let bytes = _mm_unpacklo_epi64(
				requantize8(a_lo, &lo, zero_point, layer.relu),
				requantize8(a_hi, &hi, zero_point, layer.relu),
			);
			let bytes = _mm_xor_si128(bytes, flip);
			let target = output.as_mut_ptr().add((item + i) * out_stride + at);
			_mm_storeu_si128(target.cast(), bytes);
		}
	}
}

/// The requantisation parameters of 8 outputs, as 64-bit lanes.
struct Lanes {
	multipliers: __m512i,
	rounding: __m512i,
	shifts: __m512i,
}

impl Lanes {
	#[target_feature(enable = "avx512f")]
	#[inline]
	unsafe fn load(requant: &RequantLanes, at: usize) -> Lanes {
		Lanes {
			multipliers: _mm512_loadu_si512(requant.multipliers.as_ptr().add(at).cast()),
			rounding: _mm512_loadu_si512(requant.rounding.as_ptr().add(at).cast()),
			shifts: _mm512_loadu_si512(requant.shifts.as_ptr().add(at).cast()),
		}
	}
}

/// The reference requantisation of 8 accumulators (sign-extended to 64 bits), saturated to
/// `i8` in the low 8 bytes.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn requantize8(acc: __m512i, lanes: &Lanes, zero_point: __m512i, relu: bool) -> __m128i {
	// `vpmuldq` multiplies the low 32 bits of each lane as signed: exact for i32 × i32.
	let product = _mm512_mul_epi32(acc, lanes.multipliers);
	let rounded = _mm512_srav_epi64(_mm512_add_epi64(product, lanes.rounding), lanes.shifts);
	let mut value = _mm512_add_epi64(rounded, zero_point);
	if relu {
		value = _mm512_max_epi64(value, zero_point);
	}
	_mm512_cvtsepi64_epi8(value)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn tile_logits<const B: usize, const I: usize>(
	layer: &Layer,
	input: &[u8],
	output: &mut [i32],
	block: usize,
	item: usize,
) {
	let acc = accumulate::<B, I>(layer, input, block, item);
	let zero = _mm512_setzero_si512();
	let m = layer.out_len;
	for b in 0..B {
		let at = (block + b) * LANES;
		let valid = (m - at).min(LANES);
		let mask: __mmask16 = if valid == LANES { u16::MAX } else { (1u16 << valid) - 1 };
		for (i, row) in acc.iter().enumerate() {
			let mut v = row[b];
			if layer.relu {
				v = _mm512_max_epi32(v, zero);
			}
			_mm512_mask_storeu_epi32(output.as_mut_ptr().add((item + i) * m + at).cast(), mask, v);
		}
	}
}
