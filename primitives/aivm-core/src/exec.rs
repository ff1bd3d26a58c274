//! The executor: the integer arithmetic, the kernel boundary, batch execution.

use crate::{
	model::{Activation, Dense, Model, Requant},
	MAX_SHIFT, MIN_SHIFT,
};
use alloc::{vec, vec::Vec};
use core::fmt;

/// The dot product of `i8` vectors, accumulated in `i32` (over the shorter of the two).
///
/// Each product is at most `2^14` in magnitude, so with at most
/// [`MAX_WIDTH`](crate::MAX_WIDTH) terms the sum never leaves `i32`; the wrapping addition only
/// makes longer, unvalidated inputs panic-free.
#[inline]
pub fn dot_i8(weights: &[i8], input: &[i8]) -> i32 {
	weights
		.iter()
		.zip(input)
		.fold(0i32, |acc, (w, x)| acc.wrapping_add(i32::from(*w) * i32::from(*x)))
}

/// Requantises one `i32` accumulator to `i8`: the format's int8 output rule.
///
/// `p = acc * multiplier` (exact in `i64`), `r = (p + 2^(shift-1)) >> shift` (arithmetic shift:
/// round half up), `v = r + zero_point`, with ReLU `v = max(v, zero_point)`, then `v` saturated
/// to `[-128, 127]`. `shift` outside `MIN_SHIFT..=MAX_SHIFT` (which a [`Model`] never holds) is
/// clamped into it. No overflow for any arguments: `|p| <= 2^62` and the rounding term is at
/// most `2^61`.
#[inline]
pub fn requantize(
	acc: i32,
	multiplier: i32,
	shift: u8,
	zero_point: i8,
	activation: Activation,
) -> i8 {
	let shift = u32::from(shift.clamp(MIN_SHIFT, MAX_SHIFT));
	let product = i64::from(acc) * i64::from(multiplier);
	let rounded = (product + (1i64 << (shift - 1))) >> shift;
	let zero_point = i64::from(zero_point);
	let mut value = rounded + zero_point;
	if activation == Activation::Relu {
		value = value.max(zero_point);
	}
	// In range after the clamp, so the cast is exact.
	value.clamp(i64::from(i8::MIN), i64::from(i8::MAX)) as i8
}

/// The format's int32 output rule: the accumulator, or `max(acc, 0)` with ReLU.
#[inline]
pub fn logit(acc: i32, activation: Activation) -> i32 {
	match activation {
		Activation::None => acc,
		Activation::Relu => acc.max(0),
	}
}

/// The reference kernel of a hidden layer: `rows = input.len() / in_len` items of `in_len`
/// values each, into `rows · out_len` requantised outputs.
///
/// Items are independent: the result of an item does not depend on the others, on `rows` or on
/// how the batch was split. Slices shorter than the shapes require are processed as far as they
/// go (a [`Model`] never passes such slices); nothing panics.
pub fn dense_requant_scalar(layer: &Dense, requant: &Requant, input: &[i8], output: &mut [i8]) {
	if layer.in_len == 0 || layer.out_len == 0 {
		return;
	}
	for (x, y) in input.chunks_exact(layer.in_len).zip(output.chunks_exact_mut(layer.out_len)) {
		let rows = layer.weights.chunks_exact(layer.in_len).zip(&layer.bias);
		let params = requant.multipliers.iter().zip(&requant.shifts);
		for ((out, (w, bias)), (multiplier, shift)) in y.iter_mut().zip(rows).zip(params) {
			let acc = bias.wrapping_add(dot_i8(w, x));
			*out = requantize(acc, *multiplier, *shift, requant.zero_point, layer.activation);
		}
	}
}

/// The reference kernel of the last layer: like [`dense_requant_scalar`], into `i32` logits.
pub fn dense_logits_scalar(layer: &Dense, input: &[i8], output: &mut [i32]) {
	if layer.in_len == 0 || layer.out_len == 0 {
		return;
	}
	for (x, y) in input.chunks_exact(layer.in_len).zip(output.chunks_exact_mut(layer.out_len)) {
		let rows = layer.weights.chunks_exact(layer.in_len).zip(&layer.bias);
		for (out, (w, bias)) in y.iter_mut().zip(rows) {
			*out = logit(bias.wrapping_add(dot_i8(w, x)), layer.activation);
		}
	}
}

/// The boundary between the executor and the arithmetic: one dense layer over a block of items.
///
/// [`Model::infer_batch_with`] calls it layer by layer on blocks of up to
/// [`Scratch::rows`] items, always with checked layers and exact slices:
/// `input.len() == rows · layer.in_len` and `output.len() == rows · layer.out_len` with
/// `rows >= 1`. `index` is the layer's position in the model (0 first; the last layer has index
/// `hidden_layers().len()`), so a kernel may keep per-layer prepared data (packed weights, row
/// sums) built from the model beforehand.
///
/// **Contract**: the outputs must be bit-identical to [`ScalarKernel`]'s for every valid model
/// and every input. Integer sums cannot overflow (see the crate documentation), so any
/// summation order is allowed; the requantisation must follow [`requantize`] exactly.
pub trait Kernel {
	/// A hidden layer: accumulate, requantise to `i8`, activate.
	fn dense_requant(
		&self,
		index: usize,
		layer: &Dense,
		requant: &Requant,
		input: &[i8],
		output: &mut [i8],
	);

	/// The last layer: accumulate, activate, into `i32`.
	fn dense_logits(&self, index: usize, layer: &Dense, input: &[i8], output: &mut [i32]);
}

/// The portable reference kernel: plain Rust, in the runtime and wherever nothing faster is.
#[derive(Clone, Copy, Default, Debug)]
pub struct ScalarKernel;

impl Kernel for ScalarKernel {
	fn dense_requant(
		&self,
		_index: usize,
		layer: &Dense,
		requant: &Requant,
		input: &[i8],
		output: &mut [i8],
	) {
		dense_requant_scalar(layer, requant, input, output)
	}

	fn dense_logits(&self, _index: usize, layer: &Dense, input: &[i8], output: &mut [i32]) {
		dense_logits_scalar(layer, input, output)
	}
}

/// Working memory of the executor: two `i8` buffers of `rows × width`, for the hidden layers'
/// outputs of one block of items.
///
/// Allocate one per thread, once ([`Scratch::for_model`]); the executor then runs without
/// allocating. `rows` is the block size: the executor runs each layer over `rows` items
/// before the next layer, so a larger block reuses each layer's weights across more items.
/// Results do not depend on it.
#[derive(Clone, Debug)]
pub struct Scratch {
	front: Vec<i8>,
	back: Vec<i8>,
	rows: usize,
}

impl Scratch {
	/// Scratch for blocks of `rows` items (at least 1) through hidden layers of at most `width`
	/// outputs.
	pub fn new(width: usize, rows: usize) -> Scratch {
		let rows = rows.max(1);
		let len = width.saturating_mul(rows);
		Scratch { front: vec![0; len], back: vec![0; len], rows }
	}

	/// Scratch that fits `model`, for blocks of `rows` items (at least 1).
	pub fn for_model(model: &Model, rows: usize) -> Scratch {
		Scratch::new(model.max_hidden_width(), rows)
	}

	/// The block size, in items.
	pub fn rows(&self) -> usize {
		self.rows
	}

	/// Whether this scratch is large enough for `model`.
	pub fn fits(&self, model: &Model) -> bool {
		self.rows
			.checked_mul(model.max_hidden_width())
			.is_some_and(|len| self.front.len() >= len && self.back.len() >= len)
	}
}

/// Why an inference did not run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExecError {
	/// The input buffer is not `batch × input_len` long.
	InputLength {
		/// The length required.
		expected: usize,
		/// The length given.
		found: usize,
	},
	/// The output buffer is not `batch × output_len` long.
	OutputLength {
		/// The length required.
		expected: usize,
		/// The length given.
		found: usize,
	},
	/// `batch × input_len` or `batch × output_len` does not fit `usize`.
	BatchTooLarge,
	/// The scratch was made for a model with narrower hidden layers
	/// (use [`Scratch::for_model`]).
	ScratchTooSmall,
}

impl fmt::Display for ExecError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ExecError::InputLength { expected, found } => {
				write!(f, "input has {found} values, the batch needs {expected}")
			},
			ExecError::OutputLength { expected, found } => {
				write!(f, "output has room for {found} values, the batch needs {expected}")
			},
			ExecError::BatchTooLarge => write!(f, "batch too large"),
			ExecError::ScratchTooSmall => write!(f, "scratch too small for the model"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ExecError {}

impl Model {
	/// Runs one item: `input` has [`Model::input_len`] values, `output` gets
	/// [`Model::output_len`] logits.
	pub fn infer(
		&self,
		input: &[i8],
		scratch: &mut Scratch,
		output: &mut [i32],
	) -> Result<(), ExecError> {
		self.infer_batch(input, 1, scratch, output)
	}

	/// Runs `batch` items with the [`ScalarKernel`]: `inputs` is `[batch][input_len]`, `outputs`
	/// gets `[batch][output_len]`, both contiguous and row-major.
	///
	/// Every item's outputs are the same whatever `batch` and the scratch's block size.
	pub fn infer_batch(
		&self,
		inputs: &[i8],
		batch: usize,
		scratch: &mut Scratch,
		outputs: &mut [i32],
	) -> Result<(), ExecError> {
		self.infer_batch_with(&ScalarKernel, inputs, batch, scratch, outputs)
	}

	/// [`Model::infer_batch`] with another [`Kernel`]. Checks the buffers, then runs the items
	/// in blocks of [`Scratch::rows`], all layers of a block before the next block. No
	/// allocation.
	pub fn infer_batch_with<K: Kernel + ?Sized>(
		&self,
		kernel: &K,
		inputs: &[i8],
		batch: usize,
		scratch: &mut Scratch,
		outputs: &mut [i32],
	) -> Result<(), ExecError> {
		let expected = batch.checked_mul(self.input_len).ok_or(ExecError::BatchTooLarge)?;
		if inputs.len() != expected {
			return Err(ExecError::InputLength { expected, found: inputs.len() });
		}
		let expected = batch.checked_mul(self.output_len()).ok_or(ExecError::BatchTooLarge)?;
		if outputs.len() != expected {
			return Err(ExecError::OutputLength { expected, found: outputs.len() });
		}
		if !scratch.fits(self) {
			return Err(ExecError::ScratchTooSmall);
		}
		// Both at least 1: `rows >= 1` and the lengths are `1..=MAX_WIDTH`.
		let in_step = scratch.rows.saturating_mul(self.input_len).max(1);
		let out_step = scratch.rows.saturating_mul(self.output_len()).max(1);
		for (input, output) in inputs.chunks(in_step).zip(outputs.chunks_mut(out_step)) {
			self.run_block(kernel, input, scratch, output)?;
		}
		Ok(())
	}

	/// Runs one item and returns its logits, allocating its own scratch: the short path for
	/// the runtime's re-execution of a disputed inference.
	pub fn evaluate(&self, input: &[i8]) -> Result<Vec<i32>, ExecError> {
		let mut scratch = Scratch::for_model(self, 1);
		let mut output = vec![0; self.output_len()];
		self.infer(input, &mut scratch, &mut output)?;
		Ok(output)
	}

	/// All layers over one block: `input` holds whole items, at most `scratch.rows` of them;
	/// `output` has room for exactly their logits.
	fn run_block<K: Kernel + ?Sized>(
		&self,
		kernel: &K,
		input: &[i8],
		scratch: &mut Scratch,
		output: &mut [i32],
	) -> Result<(), ExecError> {
		let rows = input.len().checked_div(self.input_len).unwrap_or(0);
		let mut current: &mut [i8] = &mut scratch.front;
		let mut next: &mut [i8] = &mut scratch.back;
		// `current[..current_len]` holds the previous hidden layer's outputs.
		let mut current_len = 0;
		for (index, layer) in self.hidden.iter().enumerate() {
			let len = rows.saturating_mul(layer.dense.out_len);
			let source: &[i8] =
				if index == 0 { input } else { current.get(..current_len).unwrap_or(&[]) };
			let target = next.get_mut(..len).ok_or(ExecError::ScratchTooSmall)?;
			kernel.dense_requant(index, &layer.dense, &layer.requant, source, target);
			core::mem::swap(&mut current, &mut next);
			current_len = len;
		}
		let source: &[i8] =
			if self.hidden.is_empty() { input } else { current.get(..current_len).unwrap_or(&[]) };
		kernel.dense_logits(self.hidden.len(), &self.output, source, output);
		Ok(())
	}
}

/// The index of the largest value, the lowest index among equal largest values; `None` for an
/// empty slice.
pub fn argmax(values: &[i32]) -> Option<usize> {
	let mut best: Option<(usize, i32)> = None;
	for (index, value) in values.iter().enumerate() {
		match best {
			Some((_, top)) if *value <= top => {},
			_ => best = Some((index, *value)),
		}
	}
	best.map(|(index, _)| index)
}
