//! The model: its types, the strict `.aivm` v1 parser and the encoder.

use crate::{
	BIAS_LIMIT, HEADER_LEN, KIND_DENSE, LAYER_HEADER_LEN, MAGIC, MAX_LAYERS, MAX_SHIFT,
	MAX_WEIGHTS, MAX_WIDTH, MIN_SHIFT, OUTPUT_INT32, OUTPUT_INT8, VERSION,
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use scale_info::TypeInfo;

/// The function applied to a layer's outputs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Activation {
	/// The identity (code 0).
	None,
	/// Rectified linear unit (code 1): `max(v, z)` for an int8 output with zero point `z`,
	/// `max(acc, 0)` for an int32 output; in both cases `max(x, 0)` of the real value.
	Relu,
}

impl Activation {
	/// Its code in a file.
	pub const fn code(self) -> u8 {
		match self {
			Activation::None => 0,
			Activation::Relu => 1,
		}
	}

	/// The activation a code in a file stands for, if any.
	pub const fn from_code(code: u8) -> Option<Self> {
		match code {
			0 => Some(Activation::None),
			1 => Some(Activation::Relu),
			_ => None,
		}
	}
}

/// A fully connected layer: `acc[j] = bias[j] + sum_i weights[j * in_len + i] * x[i]`.
///
/// A plain description: [`Model::new`] and [`Model::parse`] check it; a [`Model`] holds only
/// checked layers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Dense {
	/// Inputs per item (`n`), `1..=MAX_WIDTH`.
	pub in_len: usize,
	/// Outputs per item (`m`), `1..=MAX_WIDTH`.
	pub out_len: usize,
	/// Applied to the outputs (after requantisation for an int8 output).
	pub activation: Activation,
	/// `m · n` weights, row-major `[m][n]`.
	pub weights: Vec<i8>,
	/// `m` biases in accumulator units, each within `±BIAS_LIMIT`.
	pub bias: Vec<i32>,
}

/// How a layer's `i32` accumulators become `i8` outputs (see [`crate::requantize`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Requant {
	/// One fixed-point multiplier per output, each `>= 0`.
	pub multipliers: Vec<i32>,
	/// One right shift per output, each in `MIN_SHIFT..=MAX_SHIFT`.
	pub shifts: Vec<u8>,
	/// The zero point of the outputs.
	pub zero_point: i8,
}

/// A hidden layer: a dense layer whose outputs are requantised to `i8`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HiddenLayer {
	/// The accumulation.
	pub dense: Dense,
	/// The requantisation of its outputs.
	pub requant: Requant,
}

/// What the on-chain model registry records about a model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct ModelInfo {
	/// The model's id: the Blake2-256 of its `.aivm` file.
	pub hash: [u8; 32],
	/// `i8` values per input item.
	pub input_len: u32,
	/// `i32` values per output item.
	pub output_len: u32,
}

/// Why a model file (or a set of layers) was rejected.
///
/// `layer` is the index of the offending layer from 0; `index` the offending output within it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
	/// The file ended inside a field; `offset` is where that field starts.
	Truncated {
		/// Offset of the field that did not fit.
		offset: usize,
	},
	/// The file does not start with [`MAGIC`](crate::MAGIC).
	BadMagic,
	/// The version is not [`VERSION`](crate::VERSION).
	UnsupportedVersion(u16),
	/// The layer count is 0 or above [`MAX_LAYERS`](crate::MAX_LAYERS).
	InvalidLayerCount(u16),
	/// The header's input length is 0 or above [`MAX_WIDTH`](crate::MAX_WIDTH).
	InvalidInputLength(u32),
	/// The header's output length is 0 or above [`MAX_WIDTH`](crate::MAX_WIDTH).
	InvalidOutputLength(u32),
	/// A layer's kind code is not a known kind (v1 knows only dense, code 1).
	UnknownLayerKind {
		/// The layer.
		layer: u16,
		/// The code found.
		kind: u8,
	},
	/// A layer's activation code is not 0 (none) or 1 (ReLU).
	UnknownActivation {
		/// The layer.
		layer: u16,
		/// The code found.
		activation: u8,
	},
	/// A layer's output code is not 0 (int8) or 1 (int32).
	UnknownOutputKind {
		/// The layer.
		layer: u16,
		/// The code found.
		output: u8,
	},
	/// A hidden layer does not requantise to int8, or the last layer is not int32.
	WrongOutputKind {
		/// The layer.
		layer: u16,
	},
	/// The last layer (int32 output) has a non-zero output zero point.
	UnusedZeroPoint {
		/// The layer.
		layer: u16,
	},
	/// A layer's input or output count is 0 or above [`MAX_WIDTH`](crate::MAX_WIDTH).
	InvalidWidth {
		/// The layer.
		layer: u16,
		/// The count found.
		width: u32,
	},
	/// A layer's input count is not the previous layer's output count (for layer 0: not the
	/// header's input length).
	ShapeMismatch {
		/// The layer.
		layer: u16,
		/// The input count the chain requires.
		expected: u32,
		/// The input count found.
		found: u32,
	},
	/// The last layer's output count is not the header's output length.
	OutputMismatch {
		/// The header's output length.
		expected: u32,
		/// The last layer's output count.
		found: u32,
	},
	/// The layers have more than [`MAX_WEIGHTS`](crate::MAX_WEIGHTS) weights together.
	TooManyWeights,
	/// A layer's weight, bias or requantisation array does not have the length its shape
	/// requires (only from [`Model::new`]: in a file the shape decides the lengths).
	ArrayLength {
		/// The layer.
		layer: u16,
	},
	/// A bias is outside `[-BIAS_LIMIT, BIAS_LIMIT]`.
	BiasOutOfRange {
		/// The layer.
		layer: u16,
		/// The output.
		index: u32,
	},
	/// A requantisation multiplier is negative.
	NegativeMultiplier {
		/// The layer.
		layer: u16,
		/// The output.
		index: u32,
	},
	/// A requantisation shift is outside `MIN_SHIFT..=MAX_SHIFT`.
	ShiftOutOfRange {
		/// The layer.
		layer: u16,
		/// The output.
		index: u32,
		/// The shift found.
		shift: u8,
	},
	/// Bytes follow the last layer.
	TrailingBytes {
		/// How many.
		extra: usize,
	},
}

impl fmt::Display for ParseError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ParseError::Truncated { offset } => write!(f, "file truncated at byte {offset}"),
			ParseError::BadMagic => write!(f, "not an .aivm file (bad magic)"),
			ParseError::UnsupportedVersion(v) => write!(f, "unsupported .aivm version {v}"),
			ParseError::InvalidLayerCount(n) => write!(f, "invalid layer count {n}"),
			ParseError::InvalidInputLength(n) => write!(f, "invalid input length {n}"),
			ParseError::InvalidOutputLength(n) => write!(f, "invalid output length {n}"),
			ParseError::UnknownLayerKind { layer, kind } => {
				write!(f, "layer {layer}: unknown layer kind {kind}")
			},
			ParseError::UnknownActivation { layer, activation } => {
				write!(f, "layer {layer}: unknown activation {activation}")
			},
			ParseError::UnknownOutputKind { layer, output } => {
				write!(f, "layer {layer}: unknown output kind {output}")
			},
			ParseError::WrongOutputKind { layer } => {
				write!(f, "layer {layer}: hidden layers must output int8 and the last layer int32")
			},
			ParseError::UnusedZeroPoint { layer } => {
				write!(f, "layer {layer}: an int32 output has no zero point")
			},
			ParseError::InvalidWidth { layer, width } => {
				write!(f, "layer {layer}: invalid width {width}")
			},
			ParseError::ShapeMismatch { layer, expected, found } => write!(
				f,
				"layer {layer}: takes {found} inputs, the previous layer gives {expected}"
			),
			ParseError::OutputMismatch { expected, found } => {
				write!(f, "the last layer gives {found} outputs, the header says {expected}")
			},
			ParseError::TooManyWeights => write!(f, "too many weights"),
			ParseError::ArrayLength { layer } => {
				write!(f, "layer {layer}: an array does not match the layer's shape")
			},
			ParseError::BiasOutOfRange { layer, index } => {
				write!(f, "layer {layer}: bias {index} out of range")
			},
			ParseError::NegativeMultiplier { layer, index } => {
				write!(f, "layer {layer}: multiplier {index} is negative")
			},
			ParseError::ShiftOutOfRange { layer, index, shift } => {
				write!(f, "layer {layer}: shift {index} is {shift}, out of range")
			},
			ParseError::TrailingBytes { extra } => write!(f, "{extra} bytes after the last layer"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

/// A validated model: the layers of an `.aivm` file and its id.
///
/// Every layer satisfies the rules of the format (see the crate documentation), which is what
/// makes the executor's arithmetic overflow-free. The layers are readable but not mutable.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Model {
	pub(crate) hidden: Vec<HiddenLayer>,
	pub(crate) output: Dense,
	pub(crate) input_len: usize,
	pub(crate) max_hidden_width: usize,
	weight_count: usize,
	hash: [u8; 32],
}

impl Model {
	/// Parses and validates an `.aivm` v1 file.
	///
	/// Total: any byte string gives a model or a specific error, without panicking, and the
	/// allocations are bounded by the length of `bytes`.
	pub fn parse(bytes: &[u8]) -> Result<Model, ParseError> {
		let mut reader = Reader { bytes, pos: 0 };
		if reader.array::<4>()? != MAGIC {
			return Err(ParseError::BadMagic);
		}
		let version = reader.u16()?;
		if version != VERSION {
			return Err(ParseError::UnsupportedVersion(version));
		}
		let layer_count = reader.u16()?;
		if layer_count == 0 || usize::from(layer_count) > MAX_LAYERS {
			return Err(ParseError::InvalidLayerCount(layer_count));
		}
		let input_len = reader.u32()?;
		let input = width(input_len).ok_or(ParseError::InvalidInputLength(input_len))?;
		let output_len = reader.u32()?;
		let output = width(output_len).ok_or(ParseError::InvalidOutputLength(output_len))?;

		let last = layer_count.saturating_sub(1);
		let mut weight_count = 0usize;
		let mut previous = input;
		let mut hidden = Vec::with_capacity(usize::from(last));
		for layer in 0..last {
			let (dense, zero_point) =
				read_dense(&mut reader, layer, previous, None, &mut weight_count)?;
			let multipliers = read_i32s(&mut reader, dense.out_len)?;
			let shifts = reader.take(dense.out_len)?.to_vec();
			let requant = Requant { multipliers, shifts, zero_point };
			check_requant(layer, &requant, dense.out_len)?;
			previous = dense.out_len;
			hidden.push(HiddenLayer { dense, requant });
		}
		let (output_layer, _) =
			read_dense(&mut reader, last, previous, Some(output), &mut weight_count)?;
		if reader.pos != bytes.len() {
			return Err(ParseError::TrailingBytes {
				extra: bytes.len().saturating_sub(reader.pos),
			});
		}
		Ok(Model::assemble(
			hidden,
			output_layer,
			weight_count,
			sp_crypto_hashing::blake2_256(bytes),
		))
	}

	/// Builds a model from its layers, checking every rule a file must satisfy.
	///
	/// Its id is the hash of [`Model::to_bytes`], so `Model::parse(&model.to_bytes())` gives
	/// the same model back.
	pub fn new(hidden: Vec<HiddenLayer>, output: Dense) -> Result<Model, ParseError> {
		let count = hidden.len().saturating_add(1);
		if count > MAX_LAYERS {
			return Err(ParseError::InvalidLayerCount(u16::try_from(count).unwrap_or(u16::MAX)));
		}
		let input = hidden.first().map_or(output.in_len, |h| h.dense.in_len);
		let mut previous = width_of(input).ok_or(ParseError::InvalidInputLength(to_u32(input)))?;
		let mut weight_count = 0usize;
		for (layer, h) in (0u16..).zip(&hidden) {
			check_dense(layer, &h.dense, previous, &mut weight_count)?;
			check_requant(layer, &h.requant, h.dense.out_len)?;
			previous = h.dense.out_len;
		}
		let last = u16::try_from(hidden.len()).unwrap_or(u16::MAX);
		check_dense(last, &output, previous, &mut weight_count)?;
		let mut model = Model::assemble(hidden, output, weight_count, [0; 32]);
		model.hash = sp_crypto_hashing::blake2_256(&model.to_bytes());
		Ok(model)
	}

	fn assemble(
		hidden: Vec<HiddenLayer>,
		output: Dense,
		weight_count: usize,
		hash: [u8; 32],
	) -> Model {
		let input_len = hidden.first().map_or(output.in_len, |h| h.dense.in_len);
		let max_hidden_width = hidden.iter().map(|h| h.dense.out_len).max().unwrap_or(0);
		Model { hidden, output, input_len, max_hidden_width, weight_count, hash }
	}

	/// The model's id: the Blake2-256 of its `.aivm` file.
	pub fn hash(&self) -> [u8; 32] {
		self.hash
	}

	/// What the on-chain registry records about the model.
	pub fn info(&self) -> ModelInfo {
		ModelInfo {
			hash: self.hash,
			input_len: to_u32(self.input_len),
			output_len: to_u32(self.output.out_len),
		}
	}

	/// `i8` values per input item.
	pub fn input_len(&self) -> usize {
		self.input_len
	}

	/// `i32` values per output item.
	pub fn output_len(&self) -> usize {
		self.output.out_len
	}

	/// The hidden layers (int8 outputs), in order.
	pub fn hidden_layers(&self) -> &[HiddenLayer] {
		&self.hidden
	}

	/// The last layer (int32 outputs).
	pub fn output_layer(&self) -> &Dense {
		&self.output
	}

	/// The number of layers, the last included.
	pub fn layer_count(&self) -> usize {
		self.hidden.len().saturating_add(1)
	}

	/// The widest hidden layer's output count: the [`Scratch`](crate::Scratch) width per item
	/// (0 for a single-layer model).
	pub fn max_hidden_width(&self) -> usize {
		self.max_hidden_width
	}

	/// The number of weights of all layers (multiply-accumulates per inference).
	pub fn weight_count(&self) -> usize {
		self.weight_count
	}

	/// The length of the model's file.
	pub fn encoded_len(&self) -> usize {
		let hidden = self.hidden.iter().fold(0usize, |len, h| {
			len.saturating_add(dense_len(&h.dense))
				.saturating_add(h.dense.out_len.saturating_mul(5))
		});
		HEADER_LEN.saturating_add(hidden).saturating_add(dense_len(&self.output))
	}

	/// The model's `.aivm` v1 file.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(self.encoded_len());
		out.extend_from_slice(&MAGIC);
		out.extend_from_slice(&VERSION.to_le_bytes());
		let layers = u16::try_from(self.layer_count()).unwrap_or(u16::MAX);
		out.extend_from_slice(&layers.to_le_bytes());
		out.extend_from_slice(&to_u32(self.input_len).to_le_bytes());
		out.extend_from_slice(&to_u32(self.output.out_len).to_le_bytes());
		for h in &self.hidden {
			write_dense(&mut out, &h.dense, OUTPUT_INT8, h.requant.zero_point);
			out.extend(h.requant.multipliers.iter().flat_map(|m| m.to_le_bytes()));
			out.extend_from_slice(&h.requant.shifts);
		}
		write_dense(&mut out, &self.output, OUTPUT_INT32, 0);
		out
	}
}

/// A cursor over the file that never reads past its end.
struct Reader<'a> {
	bytes: &'a [u8],
	pos: usize,
}

impl<'a> Reader<'a> {
	fn take(&mut self, len: usize) -> Result<&'a [u8], ParseError> {
		let truncated = ParseError::Truncated { offset: self.pos };
		let end = self.pos.checked_add(len).ok_or(truncated)?;
		let chunk = self.bytes.get(self.pos..end).ok_or(truncated)?;
		self.pos = end;
		Ok(chunk)
	}

	fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
		let offset = self.pos;
		self.take(N)?.try_into().map_err(|_| ParseError::Truncated { offset })
	}

	fn u8(&mut self) -> Result<u8, ParseError> {
		Ok(u8::from_le_bytes(self.array()?))
	}

	fn u16(&mut self) -> Result<u16, ParseError> {
		Ok(u16::from_le_bytes(self.array()?))
	}

	fn u32(&mut self) -> Result<u32, ParseError> {
		Ok(u32::from_le_bytes(self.array()?))
	}
}

/// A width from a file, if in `1..=MAX_WIDTH`.
fn width(value: u32) -> Option<usize> {
	usize::try_from(value).ok().and_then(width_of)
}

/// `value` if in `1..=MAX_WIDTH`.
fn width_of(value: usize) -> Option<usize> {
	(1..=MAX_WIDTH).contains(&value).then_some(value)
}

/// A count known to be at most `MAX_WIDTH` (or `MAX_LAYERS`) as `u32`.
fn to_u32(value: usize) -> u32 {
	u32::try_from(value).unwrap_or(u32::MAX)
}

/// Adds a layer's weights to the running total, within `MAX_WEIGHTS`.
fn add_weights(total: &mut usize, in_len: usize, out_len: usize) -> Result<usize, ParseError> {
	let count = in_len.checked_mul(out_len).ok_or(ParseError::TooManyWeights)?;
	*total = total
		.checked_add(count)
		.filter(|t| *t <= MAX_WEIGHTS)
		.ok_or(ParseError::TooManyWeights)?;
	Ok(count)
}

/// Reads one layer up to its bias. `output` is `Some(header output length)` for the last layer.
/// Returns the layer and its output zero point.
fn read_dense(
	reader: &mut Reader<'_>,
	layer: u16,
	previous: usize,
	output: Option<usize>,
	weight_count: &mut usize,
) -> Result<(Dense, i8), ParseError> {
	let kind = reader.u8()?;
	let activation = reader.u8()?;
	let output_kind = reader.u8()?;
	let zero_point = i8::from_le_bytes(reader.array()?);
	let in_raw = reader.u32()?;
	let out_raw = reader.u32()?;

	if kind != KIND_DENSE {
		return Err(ParseError::UnknownLayerKind { layer, kind });
	}
	let activation = Activation::from_code(activation)
		.ok_or(ParseError::UnknownActivation { layer, activation })?;
	if output_kind != OUTPUT_INT8 && output_kind != OUTPUT_INT32 {
		return Err(ParseError::UnknownOutputKind { layer, output: output_kind });
	}
	let expected_kind = if output.is_some() { OUTPUT_INT32 } else { OUTPUT_INT8 };
	if output_kind != expected_kind {
		return Err(ParseError::WrongOutputKind { layer });
	}
	if output.is_some() && zero_point != 0 {
		return Err(ParseError::UnusedZeroPoint { layer });
	}
	let in_len = width(in_raw).ok_or(ParseError::InvalidWidth { layer, width: in_raw })?;
	let out_len = width(out_raw).ok_or(ParseError::InvalidWidth { layer, width: out_raw })?;
	if in_len != previous {
		return Err(ParseError::ShapeMismatch { layer, expected: to_u32(previous), found: in_raw });
	}
	if let Some(expected) = output {
		if out_len != expected {
			return Err(ParseError::OutputMismatch { expected: to_u32(expected), found: out_raw });
		}
	}
	let count = add_weights(weight_count, in_len, out_len)?;

	let weights = reader.take(count)?.iter().map(|b| i8::from_le_bytes([*b])).collect();
	let bias = read_i32s(reader, out_len)?;
	check_bias(layer, &bias)?;
	Ok((Dense { in_len, out_len, activation, weights, bias }, zero_point))
}

/// Reads `count` little-endian `i32`s.
fn read_i32s(reader: &mut Reader<'_>, count: usize) -> Result<Vec<i32>, ParseError> {
	let len = count.checked_mul(4).ok_or(ParseError::Truncated { offset: reader.pos })?;
	let bytes = reader.take(len)?;
	Ok(bytes
		.chunks_exact(4)
		.map(|c| i32::from_le_bytes(c.try_into().unwrap_or_default()))
		.collect())
}

fn check_bias(layer: u16, bias: &[i32]) -> Result<(), ParseError> {
	match bias.iter().position(|b| !(-BIAS_LIMIT..=BIAS_LIMIT).contains(b)) {
		Some(index) => Err(ParseError::BiasOutOfRange { layer, index: to_u32(index) }),
		None => Ok(()),
	}
}

fn check_requant(layer: u16, requant: &Requant, out_len: usize) -> Result<(), ParseError> {
	if requant.multipliers.len() != out_len || requant.shifts.len() != out_len {
		return Err(ParseError::ArrayLength { layer });
	}
	if let Some(index) = requant.multipliers.iter().position(|m| *m < 0) {
		return Err(ParseError::NegativeMultiplier { layer, index: to_u32(index) });
	}
	let mut shifts = requant.shifts.iter().enumerate();
	if let Some((index, shift)) = shifts.find(|(_, s)| !(MIN_SHIFT..=MAX_SHIFT).contains(*s)) {
		return Err(ParseError::ShiftOutOfRange { layer, index: to_u32(index), shift: *shift });
	}
	Ok(())
}

/// The checks of [`read_dense`] for a layer built in memory.
fn check_dense(
	layer: u16,
	dense: &Dense,
	previous: usize,
	weight_count: &mut usize,
) -> Result<(), ParseError> {
	let in_len = width_of(dense.in_len)
		.ok_or(ParseError::InvalidWidth { layer, width: to_u32(dense.in_len) })?;
	let out_len = width_of(dense.out_len)
		.ok_or(ParseError::InvalidWidth { layer, width: to_u32(dense.out_len) })?;
	if in_len != previous {
		return Err(ParseError::ShapeMismatch {
			layer,
			expected: to_u32(previous),
			found: to_u32(in_len),
		});
	}
	let count = add_weights(weight_count, in_len, out_len)?;
	if dense.weights.len() != count || dense.bias.len() != out_len {
		return Err(ParseError::ArrayLength { layer });
	}
	check_bias(layer, &dense.bias)
}

/// The encoded length of a layer up to and including its bias.
fn dense_len(dense: &Dense) -> usize {
	LAYER_HEADER_LEN
		.saturating_add(dense.weights.len())
		.saturating_add(dense.bias.len().saturating_mul(4))
}

fn write_dense(out: &mut Vec<u8>, dense: &Dense, output_kind: u8, zero_point: i8) {
	out.push(KIND_DENSE);
	out.push(dense.activation.code());
	out.push(output_kind);
	out.extend_from_slice(&zero_point.to_le_bytes());
	out.extend_from_slice(&to_u32(dense.in_len).to_le_bytes());
	out.extend_from_slice(&to_u32(dense.out_len).to_le_bytes());
	out.extend(dense.weights.iter().flat_map(|w| w.to_le_bytes()));
	out.extend(dense.bias.iter().flat_map(|b| b.to_le_bytes()));
}
