//! Tests: the digits model against the Python reference, determinism, the parser's rejections,
//! the arithmetic against an independent specification, and the Merkle tree.

#![allow(clippy::needless_range_loop, clippy::useless_vec)]

extern crate std;

use crate::{
	argmax, batch_merkle_root, batch_result_hashes,
	bundled::{DIGITS_64_128_64_10, DIGITS_64_128_64_10_HASH},
	dot_i8, logit, merkle_height, merkle_level, merkle_node, merkle_proof, requantize, result_hash,
	verify_merkle_proof, Activation, Dense, ExecError, HiddenLayer, Kernel, Model, ModelInfo,
	ParseError, Requant, Scratch, BIAS_LIMIT, EMPTY_MERKLE_ROOT, HEADER_LEN, KIND_DENSE,
	LAYER_HEADER_LEN, MAGIC, MAX_SHIFT, MAX_WEIGHTS, MERKLE_NODE_PREFIX, MIN_SHIFT, OUTPUT_INT32,
	OUTPUT_INT8, VERSION,
};
use alloc::{vec, vec::Vec};
use codec::{Decode, Encode, MaxEncodedLen};
use core::cell::RefCell;
use sp_crypto_hashing::blake2_256;

/// Written by `models/digits/train.py`: every test-split sample, its expected outputs and hashes.
const VECTORS: &[u8] = include_bytes!("../../../models/digits/digits-test-vectors.bin");

/// The size of the held-out test split, from `models/digits/MODEL.md`.
const TEST_SAMPLES: usize = 360;

/// Correct test-split predictions of the integer pipeline, from `models/digits/MODEL.md`
/// (97.50%).
const TEST_CORRECT: usize = 351;

/// The batch Merkle root of the test split's result hashes, from `models/digits/MODEL.md`.
const TEST_ROOT_HEX: &str = "7690bf431bbb7920ec62aa1e8635f1e1634560abc45a3ac75706fb1d1a16e656";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The parsed test-vector file (format in `train.py`, `write_vectors`).
struct Vectors {
	input_len: usize,
	output_len: usize,
	correct: usize,
	model_hash: [u8; 32],
	inputs: Vec<i8>,
	labels: Vec<u8>,
	outputs: Vec<i32>,
	hashes: Vec<[u8; 32]>,
	root: [u8; 32],
}

impl Vectors {
	fn count(&self) -> usize {
		self.labels.len()
	}
}

struct Cursor<'a> {
	bytes: &'a [u8],
	pos: usize,
}

impl<'a> Cursor<'a> {
	fn take(&mut self, n: usize) -> &'a [u8] {
		let chunk = &self.bytes[self.pos..self.pos + n];
		self.pos += n;
		chunk
	}

	fn u16(&mut self) -> u16 {
		u16::from_le_bytes(self.take(2).try_into().unwrap())
	}

	fn u32(&mut self) -> usize {
		u32::from_le_bytes(self.take(4).try_into().unwrap()) as usize
	}

	fn hash(&mut self) -> [u8; 32] {
		self.take(32).try_into().unwrap()
	}
}

fn vectors() -> Vectors {
	let mut c = Cursor { bytes: VECTORS, pos: 0 };
	assert_eq!(c.take(4), b"AIVT");
	assert_eq!(c.u16(), 1, "vector file version");
	assert_eq!(c.u16(), 0, "reserved");
	let count = c.u32();
	let input_len = c.u32();
	let output_len = c.u32();
	let correct = c.u32();
	let model_hash = c.hash();
	let mut v = Vectors {
		input_len,
		output_len,
		correct,
		model_hash,
		inputs: Vec::new(),
		labels: Vec::new(),
		outputs: Vec::new(),
		hashes: Vec::new(),
		root: [0; 32],
	};
	for _ in 0..count {
		v.inputs.extend(c.take(input_len).iter().map(|b| *b as i8));
		v.labels.push(c.take(1)[0]);
		for _ in 0..output_len {
			v.outputs.push(i32::from_le_bytes(c.take(4).try_into().unwrap()));
		}
		v.hashes.push(c.hash());
	}
	v.root = c.hash();
	assert_eq!(c.pos, VECTORS.len(), "vector file fully read");
	v
}

fn digits() -> Model {
	Model::parse(DIGITS_64_128_64_10).expect("the shipped model parses")
}

fn hex(bytes: &[u8]) -> alloc::string::String {
	crate::hex::encode(bytes)
}

/// A deterministic pseudo-random sequence (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
	fn next_u32(&mut self) -> u32 {
		self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		(self.0 >> 32) as u32
	}

	/// Uniform-ish in `lo..=hi`.
	fn range(&mut self, lo: i64, hi: i64) -> i64 {
		lo + (u64::from(self.next_u32()) % ((hi - lo + 1) as u64)) as i64
	}

	fn i8(&mut self) -> i8 {
		self.range(-128, 127) as i8
	}
}

/// A 3 → 4 → 5 → 2 model with both zero points and activations in use.
fn small_model() -> Model {
	let first = HiddenLayer {
		dense: Dense {
			in_len: 3,
			out_len: 4,
			activation: Activation::Relu,
			weights: vec![1, -2, 3, 4, 5, -6, -7, 8, 9, 10, 11, -12],
			bias: vec![100, -50, 0, 7],
		},
		requant: Requant {
			multipliers: vec![1 << 30, 1 << 29, 1_500_000_000, 1 << 30],
			shifts: vec![31, 32, 33, 30],
			zero_point: -128,
		},
	};
	let second = HiddenLayer {
		dense: Dense {
			in_len: 4,
			out_len: 5,
			activation: Activation::None,
			weights: vec![3, -1, 4, -1, 5, -9, 2, 6, -5, 3, 5, -8, 9, 7, -9, 3, 2, -3, 8, 4],
			bias: vec![-1000, 2000, 300, -40, 5],
		},
		requant: Requant {
			multipliers: vec![1_234_567_890, 1 << 30, 2_000_000_000, 1_111_111_111, 0],
			shifts: vec![36, 35, 38, 34, 31],
			zero_point: 3,
		},
	};
	let output = Dense {
		in_len: 5,
		out_len: 2,
		activation: Activation::None,
		weights: vec![1, 2, 3, 4, 5, -1, -2, -3, -4, -5],
		bias: vec![10, -10],
	};
	Model::new(vec![first, second], output).expect("valid small model")
}

/// A random valid model: 1..=4 layers of width 1..=9.
fn random_model(rng: &mut Lcg) -> Model {
	let layers = rng.range(1, 4) as usize;
	let mut width = rng.range(1, 9) as usize;
	let mut hidden = Vec::new();
	let dense = |rng: &mut Lcg, in_len: usize, out_len: usize| Dense {
		in_len,
		out_len,
		activation: if rng.next_u32().is_multiple_of(2) {
			Activation::None
		} else {
			Activation::Relu
		},
		weights: (0..in_len * out_len).map(|_| rng.i8()).collect(),
		bias: (0..out_len)
			.map(|_| match rng.next_u32() % 8 {
				0 => rng.range(-(1 << 30), 1 << 30) as i32,
				1 => [-(1 << 30), 1 << 30][rng.next_u32() as usize % 2],
				_ => rng.range(-20_000, 20_000) as i32,
			})
			.collect(),
	};
	for _ in 1..layers {
		let out_len = rng.range(1, 9) as usize;
		let d = dense(&mut *rng, width, out_len);
		let requant = Requant {
			multipliers: (0..out_len)
				.map(|_| match rng.next_u32() % 8 {
					0 => 0,
					1 => i32::MAX,
					_ => rng.range(1 << 30, i64::from(i32::MAX)) as i32,
				})
				.collect(),
			shifts: (0..out_len)
				.map(|_| match rng.next_u32() % 8 {
					0 => MIN_SHIFT,
					1 => MAX_SHIFT,
					_ => rng.range(30, 46) as u8,
				})
				.collect(),
			zero_point: rng.i8(),
		};
		hidden.push(HiddenLayer { dense: d, requant });
		width = out_len;
	}
	let out_len = rng.range(1, 9) as usize;
	let output = dense(&mut *rng, width, out_len);
	Model::new(hidden, output).expect("random model is valid")
}

/// The format's arithmetic written independently: `i128`, division instead of shifts.
fn reference(model: &Model, x: &[i8]) -> Vec<i32> {
	fn accumulate(d: &Dense, h: &[i64], j: usize) -> i64 {
		let dot: i64 = (0..d.in_len).map(|i| i64::from(d.weights[j * d.in_len + i]) * h[i]).sum();
		i64::from(d.bias[j]) + dot
	}
	let mut h: Vec<i64> = x.iter().map(|v| i64::from(*v)).collect();
	for layer in model.hidden_layers() {
		let (d, rq) = (&layer.dense, &layer.requant);
		h = (0..d.out_len)
			.map(|j| {
				let acc = accumulate(d, &h, j);
				assert!(acc.abs() < 1 << 31, "accumulator inside i32");
				let p = i128::from(acc) * i128::from(rq.multipliers[j]);
				let divisor = 1i128 << rq.shifts[j];
				let rounded = (p + divisor / 2).div_euclid(divisor); // floor(p / 2^s + 1/2)
				let zp = i128::from(rq.zero_point);
				let mut v = rounded + zp;
				if d.activation == Activation::Relu {
					v = v.max(zp);
				}
				v.clamp(-128, 127) as i64
			})
			.collect();
	}
	let d = model.output_layer();
	(0..d.out_len)
		.map(|j| {
			let mut acc = accumulate(d, &h, j);
			if d.activation == Activation::Relu {
				acc = acc.max(0);
			}
			i32::try_from(acc).expect("logit inside i32")
		})
		.collect()
}

/// Byte offsets of each layer in `model.to_bytes()`.
fn layer_offsets(model: &Model) -> Vec<usize> {
	let mut offsets = Vec::new();
	let mut at = HEADER_LEN;
	for h in model.hidden_layers() {
		offsets.push(at);
		at += LAYER_HEADER_LEN + h.dense.in_len * h.dense.out_len + 9 * h.dense.out_len;
	}
	offsets.push(at);
	offsets
}

fn with(bytes: &[u8], offset: usize, patch: &[u8]) -> Vec<u8> {
	let mut b = bytes.to_vec();
	b[offset..offset + patch.len()].copy_from_slice(patch);
	b
}

fn header(count: u16, input: u32, output: u32) -> Vec<u8> {
	let mut b = MAGIC.to_vec();
	b.extend_from_slice(&VERSION.to_le_bytes());
	b.extend_from_slice(&count.to_le_bytes());
	b.extend_from_slice(&input.to_le_bytes());
	b.extend_from_slice(&output.to_le_bytes());
	b
}

fn layer_header(output: u8, zero_point: i8, in_len: u32, out_len: u32) -> Vec<u8> {
	let mut b = vec![KIND_DENSE, Activation::Relu.code(), output, zero_point as u8];
	b.extend_from_slice(&in_len.to_le_bytes());
	b.extend_from_slice(&out_len.to_le_bytes());
	b
}

// ---------------------------------------------------------------------------------------------
// The shipped digits model against the Python reference
// ---------------------------------------------------------------------------------------------

#[test]
fn digits_model_has_its_recorded_id_and_shape() {
	let model = digits();
	let v = vectors();
	assert_eq!(model.hash(), DIGITS_64_128_64_10_HASH);
	assert_eq!(model.hash(), blake2_256(DIGITS_64_128_64_10));
	assert_eq!(model.hash(), v.model_hash, "the vectors were made with this file");
	assert_eq!(
		model.info(),
		ModelInfo { hash: DIGITS_64_128_64_10_HASH, input_len: 64, output_len: 10 }
	);
	assert_eq!((v.input_len, v.output_len), (64, 10));
	assert_eq!(model.layer_count(), 3);
	assert_eq!(model.max_hidden_width(), 128);
	assert_eq!(model.weight_count(), 64 * 128 + 128 * 64 + 64 * 10);
	assert_eq!(model.encoded_len(), DIGITS_64_128_64_10.len());
	assert_eq!(model.to_bytes(), DIGITS_64_128_64_10, "the encoding is canonical");
	let hidden = model.hidden_layers();
	assert_eq!(hidden.len(), 2);
	assert!(hidden.iter().all(|h| h.requant.zero_point == -128));
	assert!(hidden.iter().all(|h| h.dense.activation == Activation::Relu));
	assert_eq!(model.output_layer().activation, Activation::None);
}

#[test]
fn digits_outputs_and_hashes_match_the_python_reference() {
	let model = digits();
	let v = vectors();
	assert_eq!(v.count(), TEST_SAMPLES);
	let mut scratch = Scratch::for_model(&model, 1);
	let mut out = vec![0i32; 10];
	for i in 0..v.count() {
		let input = &v.inputs[i * 64..(i + 1) * 64];
		model.infer(input, &mut scratch, &mut out).unwrap();
		assert_eq!(out, &v.outputs[i * 10..(i + 1) * 10], "outputs of test sample {i}");
		assert_eq!(result_hash(&out), v.hashes[i], "result hash of test sample {i}");
		assert_eq!(model.evaluate(input).unwrap(), out);
	}
	assert_eq!(batch_result_hashes(&v.outputs, 10), v.hashes);
	assert_eq!(batch_merkle_root(&v.hashes), v.root);
	assert_eq!(hex(&v.root), TEST_ROOT_HEX);
}

#[test]
fn digits_accuracy_on_the_test_split_is_the_recorded_one() {
	let model = digits();
	let v = vectors();
	let mut scratch = Scratch::for_model(&model, 64);
	let mut out = vec![0i32; v.count() * 10];
	model.infer_batch(&v.inputs, v.count(), &mut scratch, &mut out).unwrap();
	let correct = out
		.chunks_exact(10)
		.zip(&v.labels)
		.filter(|(logits, label)| argmax(logits) == Some(usize::from(**label)))
		.count();
	assert_eq!(correct, v.correct, "as train.py recorded in the vector file");
	assert_eq!(correct, TEST_CORRECT, "as MODEL.md records");
	assert_eq!((correct * 10_000) / TEST_SAMPLES, 9750, "97.50%");
}

#[test]
fn results_do_not_depend_on_batch_size_or_block_size() {
	let model = digits();
	let v = vectors();
	for batch in [1, 7, 64, 300, TEST_SAMPLES] {
		for rows in [1, 3, 64, 300, 4096] {
			let mut scratch = Scratch::for_model(&model, rows);
			let mut outputs = vec![0i32; v.outputs.len()];
			let inputs = v.inputs.chunks(batch * 64);
			for (input, output) in inputs.zip(outputs.chunks_mut(batch * 10)) {
				model.infer_batch(input, input.len() / 64, &mut scratch, output).unwrap();
			}
			assert_eq!(outputs, v.outputs, "batch {batch}, block {rows}");
		}
	}
}

#[test]
fn results_do_not_depend_on_threads() {
	let model = digits();
	let v = vectors();
	let mut outputs = vec![0i32; v.outputs.len()];
	let per_thread = TEST_SAMPLES / 4;
	std::thread::scope(|s| {
		let chunks = v.inputs.chunks(per_thread * 64).zip(outputs.chunks_mut(per_thread * 10));
		for (input, output) in chunks {
			let model = &model;
			s.spawn(move || {
				let mut scratch = Scratch::for_model(model, 16);
				model.infer_batch(input, input.len() / 64, &mut scratch, output).unwrap();
			});
		}
	});
	assert_eq!(outputs, v.outputs);
}

/// A kernel that sums backwards and runs the items of a block in reverse order, and records
/// which layers it saw: another valid implementation of the boundary.
struct ReversedKernel {
	calls: RefCell<Vec<(usize, usize)>>,
}

impl Kernel for ReversedKernel {
	fn dense_requant(
		&self,
		index: usize,
		layer: &Dense,
		requant: &Requant,
		input: &[i8],
		output: &mut [i8],
	) {
		let rows = input.len() / layer.in_len;
		self.calls.borrow_mut().push((index, rows));
		for r in (0..rows).rev() {
			let x = &input[r * layer.in_len..(r + 1) * layer.in_len];
			for j in 0..layer.out_len {
				let w = &layer.weights[j * layer.in_len..(j + 1) * layer.in_len];
				let dot: i32 =
					w.iter().zip(x).rev().map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
				output[r * layer.out_len + j] = requantize(
					layer.bias[j] + dot,
					requant.multipliers[j],
					requant.shifts[j],
					requant.zero_point,
					layer.activation,
				);
			}
		}
	}

	fn dense_logits(&self, index: usize, layer: &Dense, input: &[i8], output: &mut [i32]) {
		let rows = input.len() / layer.in_len;
		self.calls.borrow_mut().push((index, rows));
		for r in (0..rows).rev() {
			let x = &input[r * layer.in_len..(r + 1) * layer.in_len];
			for j in 0..layer.out_len {
				let w = &layer.weights[j * layer.in_len..(j + 1) * layer.in_len];
				let dot: i32 =
					w.iter().zip(x).rev().map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
				output[r * layer.out_len + j] = logit(layer.bias[j] + dot, layer.activation);
			}
		}
	}
}

#[test]
fn another_kernel_plugs_in_and_gives_the_same_results() {
	let model = digits();
	let v = vectors();
	let kernel = ReversedKernel { calls: RefCell::new(Vec::new()) };
	let mut scratch = Scratch::for_model(&model, 100);
	let mut outputs = vec![0i32; v.outputs.len()];
	model
		.infer_batch_with(&kernel, &v.inputs, TEST_SAMPLES, &mut scratch, &mut outputs)
		.unwrap();
	assert_eq!(outputs, v.outputs);
	// Blocks of 100, 100, 100, 60; three layers each, indices 0, 1, 2 in order.
	let expected: Vec<(usize, usize)> = [100, 100, 100, 60]
		.iter()
		.flat_map(|rows| (0..3).map(move |layer| (layer, *rows)))
		.collect();
	assert_eq!(*kernel.calls.borrow(), expected);
}

#[test]
fn shipped_models_are_consistent() {
	assert_eq!(blake2_256(DIGITS_64_128_64_10), DIGITS_64_128_64_10_HASH);
	// As recorded in models/digits/MODEL.md.
	assert_eq!(
		hex(&DIGITS_64_128_64_10_HASH),
		"9d164bfcc2ab301eceb6693bca7281b53acd2e06f40f01fd6c3daa907df7aa3e"
	);
	assert_eq!(digits().info().hash, DIGITS_64_128_64_10_HASH);
}

// ---------------------------------------------------------------------------------------------
// The arithmetic
// ---------------------------------------------------------------------------------------------

#[test]
fn random_models_follow_the_specification() {
	let mut rng = Lcg(0x5eed);
	for _ in 0..300 {
		let model = random_model(&mut rng);
		let batch = rng.range(1, 20) as usize;
		let inputs: Vec<i8> = (0..batch * model.input_len()).map(|_| rng.i8()).collect();
		let mut scratch = Scratch::for_model(&model, rng.range(1, 8) as usize);
		let mut outputs = vec![0i32; batch * model.output_len()];
		model.infer_batch(&inputs, batch, &mut scratch, &mut outputs).unwrap();
		for (x, y) in inputs.chunks(model.input_len()).zip(outputs.chunks(model.output_len())) {
			assert_eq!(y.to_vec(), reference(&model, x));
		}
		let reparsed = Model::parse(&model.to_bytes()).unwrap();
		assert_eq!(reparsed, model);
	}
}

#[test]
fn small_model_follows_the_specification() {
	let model = small_model();
	let mut rng = Lcg(7);
	for _ in 0..500 {
		let x: Vec<i8> = (0..3).map(|_| rng.i8()).collect();
		assert_eq!(model.evaluate(&x).unwrap(), reference(&model, &x));
	}
}

#[test]
fn requantize_rounds_half_up_and_saturates() {
	use Activation::{None as Id, Relu};
	let half = 1 << 30; // with shift 31: multiplier 0.5
	assert_eq!(requantize(1, half, 31, 0, Id), 1); // 0.5 -> 1
	assert_eq!(requantize(-1, half, 31, 0, Id), 0); // -0.5 -> 0
	assert_eq!(requantize(3, half, 31, 0, Id), 2); // 1.5 -> 2
	assert_eq!(requantize(-3, half, 31, 0, Id), -1); // -1.5 -> -1
	assert_eq!(requantize(5, half, 32, 0, Id), 1); // 1.25 -> 1
	assert_eq!(requantize(-5, half, 32, 0, Id), -1); // -1.25 -> -1
	assert_eq!(requantize(7, half, 32, 0, Id), 2); // 1.75 -> 2
	assert_eq!(requantize(-7, half, 32, 0, Id), -2); // -1.75 -> -2
	assert_eq!(requantize(1000, half, 30, 0, Id), 127);
	assert_eq!(requantize(-1000, half, 30, 0, Id), -128);
	assert_eq!(requantize(100, half, 30, -128, Id), -28);
	assert_eq!(requantize(300, half, 30, -128, Id), 127);
	assert_eq!(requantize(-100, half, 30, 0, Relu), 0);
	assert_eq!(requantize(-100, half, 30, -128, Relu), -128);
	assert_eq!(requantize(-5, half, 30, 10, Relu), 10);
	assert_eq!(requantize(5, half, 30, 10, Relu), 15);
	assert_eq!(requantize(5, 0, 30, 10, Id), 10);
	// Extremes: no overflow, and out-of-range shifts clamp into 1..=62.
	assert_eq!(requantize(i32::MAX, i32::MAX, 62, 0, Id), 1);
	assert_eq!(requantize(i32::MAX, i32::MAX, 255, 0, Id), 1);
	assert_eq!(requantize(i32::MIN, i32::MIN, 0, 0, Id), 127);
	assert_eq!(requantize(i32::MIN, i32::MAX, 1, 127, Id), -128);
	assert_eq!(logit(-5, Id), -5);
	assert_eq!(logit(-5, Relu), 0);
	assert_eq!(logit(i32::MIN, Relu), 0);
}

#[test]
fn requantize_matches_the_specification_on_random_values() {
	let mut rng = Lcg(42);
	for _ in 0..100_000 {
		let acc = rng.range(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
		let acc = if rng.next_u32().is_multiple_of(2) { acc >> (rng.next_u32() % 31) } else { acc };
		let multiplier = rng.range(0, i64::from(i32::MAX)) as i32;
		let shift = rng.range(1, 62) as u8;
		let zero_point = rng.i8();
		let relu = rng.next_u32().is_multiple_of(2);
		let activation = if relu { Activation::Relu } else { Activation::None };
		let p = i128::from(acc) * i128::from(multiplier);
		let d = 1i128 << shift;
		let mut v = (p + d / 2).div_euclid(d) + i128::from(zero_point);
		if relu {
			v = v.max(i128::from(zero_point));
		}
		let expected = v.clamp(-128, 127) as i8;
		assert_eq!(requantize(acc, multiplier, shift, zero_point, activation), expected);
	}
}

#[test]
fn argmax_takes_the_lowest_index_on_ties() {
	assert_eq!(argmax(&[]), None);
	assert_eq!(argmax(&[5]), Some(0));
	assert_eq!(argmax(&[1, 3, 3, 2]), Some(1));
	assert_eq!(argmax(&[-5, -5]), Some(0));
	assert_eq!(argmax(&[i32::MIN, i32::MIN, i32::MIN]), Some(0));
	assert_eq!(argmax(&[0, 0, 7, 0, 7]), Some(2));
	assert_eq!(argmax(&[i32::MIN, i32::MAX, i32::MAX]), Some(1));
}

#[test]
fn dot_product_accumulates_exactly() {
	assert_eq!(dot_i8(&[-128; 4096], &[-128; 4096]), 4096 * 16384);
	assert_eq!(dot_i8(&[127; 4096], &[-128; 4096]), -4096 * 16256);
	assert_eq!(dot_i8(&[1, 2, 3], &[4, 5]), 14, "over the shorter slice");
	assert_eq!(dot_i8(&[], &[]), 0);
}

// ---------------------------------------------------------------------------------------------
// Execution errors and edge cases
// ---------------------------------------------------------------------------------------------

#[test]
fn buffers_of_the_wrong_size_are_rejected() {
	let model = digits();
	let mut scratch = Scratch::for_model(&model, 4);
	let mut out = vec![0i32; 20];
	assert_eq!(
		model.infer_batch(&[0; 127], 2, &mut scratch, &mut out),
		Err(ExecError::InputLength { expected: 128, found: 127 })
	);
	assert_eq!(
		model.infer_batch(&[0; 128], 2, &mut scratch, &mut out[..19]),
		Err(ExecError::OutputLength { expected: 20, found: 19 })
	);
	assert_eq!(
		model.infer_batch(&[], usize::MAX, &mut scratch, &mut out),
		Err(ExecError::BatchTooLarge)
	);
	assert_eq!(
		model.infer(&[0; 65], &mut scratch, &mut out[..10]),
		Err(ExecError::InputLength { expected: 64, found: 65 })
	);
	assert_eq!(model.evaluate(&[0; 63]), Err(ExecError::InputLength { expected: 64, found: 63 }));
	// Scratch made for a narrower model.
	let mut narrow = Scratch::for_model(&small_model(), 4);
	assert!(!narrow.fits(&model));
	assert_eq!(
		model.infer_batch(&[0; 128], 2, &mut narrow, &mut out),
		Err(ExecError::ScratchTooSmall)
	);
	// An empty batch is fine.
	assert_eq!(model.infer_batch(&[], 0, &mut scratch, &mut []), Ok(()));
	assert!(scratch.fits(&model));
	assert_eq!(scratch.rows(), 4);
	assert_eq!(Scratch::new(8, 0).rows(), 1);
}

#[test]
fn a_single_layer_model_needs_no_scratch() {
	let output = Dense {
		in_len: 2,
		out_len: 3,
		activation: Activation::Relu,
		weights: vec![1, 2, 3, 4, -5, -6],
		bias: vec![0, -100, 1 << 30],
	};
	let model = Model::new(Vec::new(), output).unwrap();
	assert_eq!(model.max_hidden_width(), 0);
	assert_eq!(model.layer_count(), 1);
	let bytes = model.to_bytes();
	assert_eq!(bytes.len(), model.encoded_len());
	assert_eq!(bytes.len(), HEADER_LEN + LAYER_HEADER_LEN + 6 + 12);
	assert_eq!(Model::parse(&bytes).unwrap(), model);
	let mut scratch = Scratch::new(0, 5);
	let mut out = [0i32; 6];
	model.infer_batch(&[10, 20, -1, -1], 2, &mut scratch, &mut out).unwrap();
	assert_eq!(out, [50, 10, (1 << 30) - 170, 0, 0, (1 << 30) + 11]);
}

#[test]
fn model_info_is_scale_encoded_in_40_bytes() {
	let info = digits().info();
	let encoded = info.encode();
	assert_eq!(encoded.len(), 40);
	assert_eq!(ModelInfo::max_encoded_len(), 40);
	assert_eq!(&encoded[..32], &DIGITS_64_128_64_10_HASH);
	assert_eq!(ModelInfo::decode(&mut &encoded[..]).unwrap(), info);
}

// ---------------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------------

#[test]
fn small_model_round_trips() {
	let model = small_model();
	let bytes = model.to_bytes();
	assert_eq!(bytes.len(), model.encoded_len());
	assert_eq!(bytes.len(), 16 + (12 + 12 + 36) + (12 + 20 + 45) + (12 + 10 + 8));
	let parsed = Model::parse(&bytes).unwrap();
	assert_eq!(parsed, model);
	assert_eq!(parsed.hash(), blake2_256(&bytes));
	assert_eq!(parsed.info(), ModelInfo { hash: blake2_256(&bytes), input_len: 3, output_len: 2 });
	assert_eq!(layer_offsets(&model), vec![16, 76, 153]);
}

#[test]
fn every_strict_prefix_is_truncated() {
	let bytes = small_model().to_bytes();
	for len in 0..bytes.len() {
		assert!(
			matches!(Model::parse(&bytes[..len]), Err(ParseError::Truncated { .. })),
			"prefix of {len} bytes: {:?}",
			Model::parse(&bytes[..len])
		);
	}
	let digits = DIGITS_64_128_64_10;
	for len in (0..200)
		.chain((200..digits.len()).step_by(97))
		.chain(digits.len() - 9..digits.len())
	{
		assert!(
			matches!(Model::parse(&digits[..len]), Err(ParseError::Truncated { .. })),
			"digits prefix of {len} bytes"
		);
	}
	assert_eq!(Model::parse(&[]), Err(ParseError::Truncated { offset: 0 }));
	assert_eq!(Model::parse(b"AIVM\x01"), Err(ParseError::Truncated { offset: 4 }));
	assert_eq!(
		Model::parse(&bytes[..bytes.len() - 1]),
		Err(ParseError::Truncated { offset: bytes.len() - 8 }),
		"the last bias does not fit"
	);
}

#[test]
fn trailing_bytes_are_rejected() {
	let mut bytes = small_model().to_bytes();
	bytes.push(0);
	assert_eq!(Model::parse(&bytes), Err(ParseError::TrailingBytes { extra: 1 }));
	let mut digits = DIGITS_64_128_64_10.to_vec();
	digits.extend_from_slice(&[0; 32]);
	assert_eq!(Model::parse(&digits), Err(ParseError::TrailingBytes { extra: 32 }));
}

#[test]
fn bad_header_fields_are_rejected() {
	let b = small_model().to_bytes();
	assert_eq!(Model::parse(&with(&b, 0, b"AIVX")), Err(ParseError::BadMagic));
	assert_eq!(Model::parse(&with(&b, 0, b"MVIA")), Err(ParseError::BadMagic));
	for version in [0u16, 2, u16::MAX] {
		assert_eq!(
			Model::parse(&with(&b, 4, &version.to_le_bytes())),
			Err(ParseError::UnsupportedVersion(version))
		);
	}
	for count in [0u16, 17, u16::MAX] {
		assert_eq!(
			Model::parse(&with(&b, 6, &count.to_le_bytes())),
			Err(ParseError::InvalidLayerCount(count))
		);
	}
	for input in [0u32, 4097, u32::MAX] {
		assert_eq!(
			Model::parse(&with(&b, 8, &input.to_le_bytes())),
			Err(ParseError::InvalidInputLength(input))
		);
	}
	for output in [0u32, 4097, u32::MAX] {
		assert_eq!(
			Model::parse(&with(&b, 12, &output.to_le_bytes())),
			Err(ParseError::InvalidOutputLength(output))
		);
	}
	// Fewer layers than the file holds: the rest is trailing; the (new) last layer is int8.
	assert_eq!(
		Model::parse(&with(&b, 6, &2u16.to_le_bytes())),
		Err(ParseError::WrongOutputKind { layer: 1 })
	);
	// More layers than the file holds.
	assert_eq!(
		Model::parse(&with(&b, 6, &4u16.to_le_bytes())),
		Err(ParseError::WrongOutputKind { layer: 2 })
	);
}

#[test]
fn inconsistent_shapes_are_rejected() {
	let model = small_model();
	let b = model.to_bytes();
	let at = layer_offsets(&model);
	// Header input length disagrees with layer 0.
	assert_eq!(
		Model::parse(&with(&b, 8, &5u32.to_le_bytes())),
		Err(ParseError::ShapeMismatch { layer: 0, expected: 5, found: 3 })
	);
	// Header output length disagrees with the last layer.
	assert_eq!(
		Model::parse(&with(&b, 12, &3u32.to_le_bytes())),
		Err(ParseError::OutputMismatch { expected: 3, found: 2 })
	);
	// Layer 1 takes 6 inputs, layer 0 gives 4.
	assert_eq!(
		Model::parse(&with(&b, at[1] + 4, &6u32.to_le_bytes())),
		Err(ParseError::ShapeMismatch { layer: 1, expected: 4, found: 6 })
	);
	// Layer 2 takes 4 inputs, layer 1 gives 5.
	assert_eq!(
		Model::parse(&with(&b, at[2] + 4, &4u32.to_le_bytes())),
		Err(ParseError::ShapeMismatch { layer: 2, expected: 5, found: 4 })
	);
	// Layer 0 gives 5 outputs: its arrays are then read with the wrong lengths, and layer 1's
	// header lands in the middle of layer 0's data.
	assert!(Model::parse(&with(&b, at[0] + 8, &5u32.to_le_bytes())).is_err());
}

#[test]
fn oversized_dimensions_are_rejected() {
	let model = small_model();
	let b = model.to_bytes();
	let at = layer_offsets(&model);
	for width in [0u32, 4097, u32::MAX] {
		assert_eq!(
			Model::parse(&with(&b, at[0] + 8, &width.to_le_bytes())),
			Err(ParseError::InvalidWidth { layer: 0, width })
		);
		assert_eq!(
			Model::parse(&with(&b, at[1] + 4, &width.to_le_bytes())),
			Err(ParseError::InvalidWidth { layer: 1, width })
		);
	}
	// 4096 × 2048 weights in the first layer alone: more than MAX_WEIGHTS, rejected before
	// anything is read or allocated.
	let mut big = header(2, 4096, 10);
	big.extend(layer_header(OUTPUT_INT8, 0, 4096, 2048));
	assert_eq!(Model::parse(&big), Err(ParseError::TooManyWeights));
	// 4096 × 1024 = MAX_WEIGHTS exactly in the first layer; one more layer goes over.
	let mut over = header(2, 4096, 1);
	over.extend(layer_header(OUTPUT_INT8, 0, 4096, 1024));
	over.extend(vec![0u8; 4096 * 1024 + 8 * 1024]); // weights, bias, multipliers
	over.extend(vec![MIN_SHIFT; 1024]);
	over.extend(layer_header(OUTPUT_INT32, 0, 1024, 1));
	assert_eq!(Model::parse(&over), Err(ParseError::TooManyWeights));
	// 4096 × 4096 is within MAX_WIDTH but not MAX_WEIGHTS; 4096 × 1024 is the largest layer.
	let mut wide = header(1, 4096, 4096);
	wide.extend(layer_header(OUTPUT_INT32, 0, 4096, 4096));
	assert_eq!(Model::parse(&wide), Err(ParseError::TooManyWeights), "16 Mi weights");
	let mut widest = header(1, 4096, 1024);
	widest.extend(layer_header(OUTPUT_INT32, 0, 4096, 1024));
	widest.extend(vec![0u8; 4096 * 1024 + 4 * 1024]);
	let model = Model::parse(&widest).unwrap();
	assert_eq!(model.weight_count(), MAX_WEIGHTS);
	assert_eq!(model.to_bytes(), widest);
}

#[test]
fn bad_layer_fields_are_rejected() {
	let model = small_model();
	let b = model.to_bytes();
	let at = layer_offsets(&model);
	for kind in [0u8, 2, 255] {
		assert_eq!(
			Model::parse(&with(&b, at[1], &[kind])),
			Err(ParseError::UnknownLayerKind { layer: 1, kind })
		);
	}
	for activation in [2u8, 255] {
		assert_eq!(
			Model::parse(&with(&b, at[2] + 1, &[activation])),
			Err(ParseError::UnknownActivation { layer: 2, activation })
		);
	}
	for output in [2u8, 255] {
		assert_eq!(
			Model::parse(&with(&b, at[0] + 2, &[output])),
			Err(ParseError::UnknownOutputKind { layer: 0, output })
		);
	}
	assert_eq!(
		Model::parse(&with(&b, at[0] + 2, &[OUTPUT_INT32])),
		Err(ParseError::WrongOutputKind { layer: 0 })
	);
	assert_eq!(
		Model::parse(&with(&b, at[2] + 2, &[OUTPUT_INT8])),
		Err(ParseError::WrongOutputKind { layer: 2 })
	);
	assert_eq!(
		Model::parse(&with(&b, at[2] + 3, &[1])),
		Err(ParseError::UnusedZeroPoint { layer: 2 })
	);
	// Any zero point is fine on an int8 output.
	assert!(Model::parse(&with(&b, at[0] + 3, &[127])).is_ok());
	assert!(Model::parse(&with(&b, at[1] + 3, &[0x80])).is_ok());
}

#[test]
fn out_of_range_values_are_rejected() {
	let model = small_model();
	let b = model.to_bytes();
	let at = layer_offsets(&model);
	// Layer 0 (3 → 4): bias at +24, multipliers at +40, shifts at +56.
	let bias = at[0] + LAYER_HEADER_LEN + 12;
	let multipliers = bias + 16;
	let shifts = multipliers + 16;
	for value in [BIAS_LIMIT + 1, -BIAS_LIMIT - 1, i32::MAX, i32::MIN] {
		assert_eq!(
			Model::parse(&with(&b, bias + 8, &value.to_le_bytes())),
			Err(ParseError::BiasOutOfRange { layer: 0, index: 2 })
		);
	}
	for value in [BIAS_LIMIT, -BIAS_LIMIT] {
		assert!(Model::parse(&with(&b, bias + 8, &value.to_le_bytes())).is_ok());
	}
	// The last layer's bias (5 → 2): after its 10 weights.
	assert_eq!(
		Model::parse(&with(&b, at[2] + LAYER_HEADER_LEN + 10 + 4, &i32::MIN.to_le_bytes())),
		Err(ParseError::BiasOutOfRange { layer: 2, index: 1 })
	);
	for value in [-1i32, i32::MIN] {
		assert_eq!(
			Model::parse(&with(&b, multipliers + 12, &value.to_le_bytes())),
			Err(ParseError::NegativeMultiplier { layer: 0, index: 3 })
		);
	}
	assert!(Model::parse(&with(&b, multipliers, &i32::MAX.to_le_bytes())).is_ok());
	assert!(Model::parse(&with(&b, multipliers, &0i32.to_le_bytes())).is_ok());
	for shift in [0u8, 63, 255] {
		assert_eq!(
			Model::parse(&with(&b, shifts + 1, &[shift])),
			Err(ParseError::ShiftOutOfRange { layer: 0, index: 1, shift })
		);
	}
	for shift in [MIN_SHIFT, MAX_SHIFT] {
		assert!(Model::parse(&with(&b, shifts + 1, &[shift])).is_ok());
	}
}

#[test]
fn model_new_checks_the_same_rules() {
	let model = small_model();
	let hidden = model.hidden_layers().to_vec();
	let output = model.output_layer().clone();

	let mut h = hidden.clone();
	h[0].dense.weights.pop();
	assert_eq!(Model::new(h, output.clone()), Err(ParseError::ArrayLength { layer: 0 }));
	let mut h = hidden.clone();
	h[1].requant.shifts.push(31);
	assert_eq!(Model::new(h, output.clone()), Err(ParseError::ArrayLength { layer: 1 }));
	let mut h = hidden.clone();
	h[1].requant.shifts[4] = 0;
	assert_eq!(
		Model::new(h, output.clone()),
		Err(ParseError::ShiftOutOfRange { layer: 1, index: 4, shift: 0 })
	);
	let mut h = hidden.clone();
	h[0].requant.multipliers[0] = -7;
	assert_eq!(
		Model::new(h, output.clone()),
		Err(ParseError::NegativeMultiplier { layer: 0, index: 0 })
	);
	let mut o = output.clone();
	o.bias[0] = BIAS_LIMIT + 1;
	assert_eq!(
		Model::new(hidden.clone(), o),
		Err(ParseError::BiasOutOfRange { layer: 2, index: 0 })
	);
	let mut o = output.clone();
	o.in_len = 4;
	o.weights.truncate(8);
	assert_eq!(
		Model::new(hidden.clone(), o),
		Err(ParseError::ShapeMismatch { layer: 2, expected: 5, found: 4 })
	);
	let mut o = output.clone();
	o.out_len = 0;
	assert_eq!(Model::new(hidden.clone(), o), Err(ParseError::InvalidWidth { layer: 2, width: 0 }));
	let mut h = hidden.clone();
	h[0].dense.in_len = 0;
	assert_eq!(Model::new(h, output.clone()), Err(ParseError::InvalidInputLength(0)));
	let many = vec![hidden[1].clone(); 16]; // 5 → 5 is not 4 → 5, but the count fails first
	assert_eq!(Model::new(many, output.clone()), Err(ParseError::InvalidLayerCount(17)));
	assert_eq!(Model::new(hidden, output).unwrap(), model);
}

#[test]
fn corrupted_files_never_panic_and_accepted_ones_are_canonical() {
	let mut rng = Lcg(2024);
	let sources = [small_model().to_bytes(), DIGITS_64_128_64_10.to_vec()];
	for source in &sources {
		for _ in 0..2_000 {
			let mut bytes = source.clone();
			let flips = rng.range(1, 4);
			for _ in 0..flips {
				// Mostly the headers, where the structure is.
				let limit = if rng.next_u32().is_multiple_of(2) {
					bytes.len().min(64)
				} else {
					bytes.len()
				};
				let at = rng.range(0, limit as i64 - 1) as usize;
				bytes[at] = rng.next_u32() as u8;
			}
			match rng.next_u32() % 4 {
				0 => bytes.truncate(rng.range(0, bytes.len() as i64) as usize),
				1 => bytes.push(rng.next_u32() as u8),
				_ => {},
			}
			if let Ok(model) = Model::parse(&bytes) {
				assert_eq!(model.to_bytes(), bytes);
				assert_eq!(model.hash(), blake2_256(&bytes));
				let input = vec![1i8; model.input_len()];
				assert_eq!(model.evaluate(&input).unwrap(), reference(&model, &input));
			}
		}
	}
	for len in 0..300 {
		let garbage: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
		assert!(Model::parse(&garbage).is_err());
		let mut framed = header(1, 2, 2);
		framed.extend(&garbage);
		let _ = Model::parse(&framed);
	}
}

// ---------------------------------------------------------------------------------------------
// Result hashing and the Merkle tree
// ---------------------------------------------------------------------------------------------

#[test]
fn result_hash_is_blake2_of_little_endian_outputs() {
	for len in [0usize, 1, 10, 63, 64, 65, 300] {
		let outputs: Vec<i32> =
			(0..len as i32).map(|i| i.wrapping_mul(0x0101_0101).wrapping_sub(7)).collect();
		let bytes: Vec<u8> = outputs.iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(result_hash(&outputs), blake2_256(&bytes), "{len} outputs");
	}
	assert_eq!(result_hash(&[1]), blake2_256(&[1, 0, 0, 0]));
	assert_eq!(result_hash(&[-2]), blake2_256(&[0xfe, 0xff, 0xff, 0xff]));
	assert_eq!(
		batch_result_hashes(&[1, 2, 3, 4, 5], 2),
		vec![result_hash(&[1, 2]), result_hash(&[3, 4])]
	);
	assert!(batch_result_hashes(&[1, 2], 0).is_empty());
}

fn leaves(count: usize) -> Vec<[u8; 32]> {
	(0..count)
		.map(|i| blake2_256(&(i as u64 + 1000 * count as u64).to_le_bytes()))
		.collect()
}

/// The tree built the obvious way, one new vector per level.
fn naive_root(leaves: &[[u8; 32]]) -> [u8; 32] {
	if leaves.is_empty() {
		return [0; 32];
	}
	let mut level = leaves.to_vec();
	while level.len() > 1 {
		level = level
			.chunks(2)
			.map(|pair| if pair.len() == 2 { merkle_node(&pair[0], &pair[1]) } else { pair[0] })
			.collect();
	}
	level[0]
}

#[test]
fn merkle_root_promotes_the_odd_node() {
	let l = leaves(4);
	let (a, b, c, d) = (l[0], l[1], l[2], l[3]);
	let mut preimage = vec![MERKLE_NODE_PREFIX];
	preimage.extend_from_slice(&a);
	preimage.extend_from_slice(&b);
	assert_eq!(merkle_node(&a, &b), blake2_256(&preimage));
	assert_eq!(batch_merkle_root(&[]), EMPTY_MERKLE_ROOT);
	assert_eq!(batch_merkle_root(&[a]), a);
	assert_eq!(batch_merkle_root(&[a, b]), merkle_node(&a, &b));
	assert_eq!(batch_merkle_root(&[a, b, c]), merkle_node(&merkle_node(&a, &b), &c));
	assert_eq!(
		batch_merkle_root(&[a, b, c, d]),
		merkle_node(&merkle_node(&a, &b), &merkle_node(&c, &d))
	);
	assert_ne!(batch_merkle_root(&[a, b, c]), batch_merkle_root(&[a, b, c, c]));
	assert_ne!(batch_merkle_root(&[a, b]), batch_merkle_root(&[b, a]));
	let five = [a, b, c, d, a];
	assert_eq!(
		batch_merkle_root(&five),
		merkle_node(&merkle_node(&merkle_node(&a, &b), &merkle_node(&c, &d)), &a)
	);
	for count in 0..=70 {
		assert_eq!(batch_merkle_root(&leaves(count)), naive_root(&leaves(count)), "{count}");
	}
}

#[test]
fn merkle_levels_cover_aligned_runs_of_nodes() {
	assert_eq!(merkle_height(0), 0);
	assert_eq!(merkle_height(1), 0);
	assert_eq!(merkle_height(2), 1);
	assert_eq!(merkle_height(3), 2);
	assert_eq!(merkle_height(16_384), 14);
	assert_eq!(merkle_height(16_385), 15);
	assert!(merkle_level(&[], 3).is_empty());
	for count in 1..=40usize {
		let l = leaves(count);
		let height = merkle_height(count);
		assert_eq!(merkle_level(&l, 0), l);
		assert_eq!(merkle_level(&l, height), vec![batch_merkle_root(&l)], "{count}");
		assert_eq!(merkle_level(&l, height + 2), vec![batch_merkle_root(&l)], "{count}");
		for level in 0..=height {
			let nodes = merkle_level(&l, level);
			assert_eq!(nodes.len(), count.div_ceil(1 << level), "{count}/{level}");
			// Every aligned run of 2^d nodes (or up to the end) hashes to the node d levels up.
			for d in 0..=(height - level) {
				let above = merkle_level(&l, level + d);
				for (position, node) in above.iter().enumerate() {
					let start = position << d;
					let end = ((position + 1) << d).min(nodes.len());
					assert_eq!(batch_merkle_root(&nodes[start..end]), *node, "{count}/{level}/{d}");
				}
			}
		}
	}
}

#[test]
fn merkle_proofs_round_trip_for_every_item_of_every_size() {
	for count in 1..=40 {
		let l = leaves(count);
		let root = batch_merkle_root(&l);
		for index in 0..count {
			let proof = merkle_proof(&l, index).unwrap();
			assert!(verify_merkle_proof(&root, &l[index], index, count, &proof), "{count}/{index}");
			// Another item's hash, or this one at another position, does not verify.
			if count > 1 {
				let other = l[(index + 1) % count];
				assert!(!verify_merkle_proof(&root, &other, index, count, &proof));
			}
			for wrong in 0..count + 1 {
				if wrong != index {
					assert!(!verify_merkle_proof(&root, &l[index], wrong, count, &proof));
				}
			}
			// A tampered, shortened or lengthened proof does not verify.
			if let Some(first) = proof.first() {
				let mut tampered = proof.clone();
				tampered[0] = {
					let mut t = *first;
					t[0] ^= 1;
					t
				};
				assert!(!verify_merkle_proof(&root, &l[index], index, count, &tampered));
				assert!(!verify_merkle_proof(
					&root,
					&l[index],
					index,
					count,
					&proof[..proof.len() - 1]
				));
			}
			let mut longer = proof.clone();
			longer.push(l[index]);
			assert!(!verify_merkle_proof(&root, &l[index], index, count, &longer));
			let mut wrong_root = root;
			wrong_root[31] ^= 0x80;
			assert!(!verify_merkle_proof(&wrong_root, &l[index], index, count, &proof));
		}
		assert_eq!(merkle_proof(&l, count), None);
	}
	assert_eq!(merkle_proof(&[], 0), None);
	assert!(!verify_merkle_proof(&EMPTY_MERKLE_ROOT, &[0; 32], 0, 0, &[]));
	// One leaf: its own root, an empty proof.
	let one = leaves(1);
	assert_eq!(merkle_proof(&one, 0), Some(Vec::new()));
	assert!(verify_merkle_proof(&one[0], &one[0], 0, 1, &[]));
	// Proof lengths: [a, b, c] → 2, 2, 1 (c is promoted at the first level).
	let three = leaves(3);
	let lengths: Vec<usize> = (0..3).map(|i| merkle_proof(&three, i).unwrap().len()).collect();
	assert_eq!(lengths, vec![2, 2, 1]);
}

#[test]
fn one_digits_item_is_checked_against_the_batch_root() {
	// The dispute path: the chain holds the batch root; one item is re-executed and its hash
	// proven against the root.
	let v = vectors();
	let model = digits();
	let index = 123;
	let proof = merkle_proof(&v.hashes, index).unwrap();
	let outputs = model.evaluate(&v.inputs[index * 64..(index + 1) * 64]).unwrap();
	assert!(verify_merkle_proof(&v.root, &result_hash(&outputs), index, TEST_SAMPLES, &proof));
	let mut wrong = outputs.clone();
	wrong[0] += 1;
	assert!(!verify_merkle_proof(&v.root, &result_hash(&wrong), index, TEST_SAMPLES, &proof));
}
