//! The GPU back-end (cargo feature `gpu`): the model's layers as one WGSL compute shader run
//! through `wgpu` on Vulkan, bit-exact with the reference kernel.
//!
//! - **Data.** `i8` values travel packed four to a 32-bit word, each item's row zero-padded to
//!   whole words; weights likewise (`[out_len][in_words]`), so padding contributes nothing.
//! - **Kernel.** One invocation computes four consecutive outputs of one item: it sums
//!   sign-extended byte products in `i32` (exact: the format bounds the sums below `2^31`, see
//!   `dsync_aivm_core`) and adds the bias. A hidden layer requantises with the format's rule in
//!   64-bit arithmetic built from 32-bit halves (WGSL has no 64-bit integers) and writes the four
//!   `i8` packed into one word, the next layer's input; the last layer writes `i32` logits.
//! - **Batches** run in chunks whose largest buffer stays under 64 MiB (every device allows
//!   128 MiB storage bindings); all layers of a chunk are one submission.
//!
//! The adapter is chosen once per process: a discrete GPU, else an integrated or virtual one.
//! A software rasteriser (Mesa's lavapipe, adapter type `Cpu`) is used only when the
//! environment sets `AIVM_GPU_ALLOW_CPU=1`: that is how the tests check the shader bit for bit
//! on machines without a GPU. [`super::Engine::new`] checks the back-end against the reference
//! kernel before use, like every back-end.

use dsync_aivm_core::{Activation, Dense, Model, Requant, MAX_SHIFT, MIN_SHIFT};
use std::{
	future::Future,
	pin::pin,
	sync::{mpsc, Arc, OnceLock},
	task::{Context, Poll, Wake, Waker},
};
use wgpu::util::DeviceExt;

/// Invocations per workgroup.
const WORKGROUP: u32 = 64;

/// The most workgroups in one dimension of a dispatch.
const MAX_GROUPS_X: u32 = 65_535;

/// The largest buffer of a chunk, in bytes.
const CHUNK_BYTES: usize = 64 << 20;

/// The environment variable that lets the back-end run on a software (CPU) adapter.
pub const ALLOW_CPU_ENV: &str = "AIVM_GPU_ALLOW_CPU";

const SHADER: &str = r#"
struct Params {
	rows: u32,
	in_words: u32,
	out_len: u32,
	out_words: u32,
	hidden: u32,
	relu: u32,
	zero_point: i32,
	groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read> multipliers: array<i32>;
@group(0) @binding(4) var<storage, read> shifts: array<u32>;
@group(0) @binding(5) var<storage, read> inputs: array<u32>;
@group(0) @binding(6) var<storage, read_write> outputs: array<u32>;

fn dot4(a: u32, b: u32) -> i32 {
	let x = bitcast<i32>(a);
	let w = bitcast<i32>(b);
	return extractBits(x, 0u, 8u) * extractBits(w, 0u, 8u)
		+ extractBits(x, 8u, 8u) * extractBits(w, 8u, 8u)
		+ extractBits(x, 16u, 8u) * extractBits(w, 16u, 8u)
		+ extractBits(x, 24u, 8u) * extractBits(w, 24u, 8u);
}

// 64-bit integers as (low, high) words, two's complement.
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
	let a0 = a & 0xffffu;
	let a1 = a >> 16u;
	let b0 = b & 0xffffu;
	let b1 = b >> 16u;
	let ll = a0 * b0;
	let lh = a0 * b1;
	let hl = a1 * b0;
	let hh = a1 * b1;
	let mid = lh + hl;
	let mid_carry = select(0u, 0x10000u, mid < lh);
	let lo = ll + (mid << 16u);
	let lo_carry = select(0u, 1u, lo < ll);
	return vec2<u32>(lo, hh + (mid >> 16u) + mid_carry + lo_carry);
}

fn neg64(v: vec2<u32>) -> vec2<u32> {
	let lo = ~v.x + 1u;
	return vec2<u32>(lo, ~v.y + select(0u, 1u, lo == 0u));
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
	let lo = a.x + b.x;
	return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// Arithmetic shift right by `s` in 1..=62.
fn sar64(v: vec2<u32>, s: u32) -> vec2<u32> {
	let hi = bitcast<i32>(v.y);
	if (s < 32u) {
		return vec2<u32>((v.x >> s) | (v.y << (32u - s)), bitcast<u32>(hi >> s));
	}
	return vec2<u32>(bitcast<u32>(hi >> (s - 32u)), bitcast<u32>(hi >> 31u));
}

// `dsync_aivm_core::requantize`: ((acc * m + 2^(s-1)) >> s) + zero point, ReLU, saturated.
fn requantize(acc: i32, multiplier: i32, raw_shift: u32) -> i32 {
	let s = clamp(raw_shift, MIN_SHIFTu, MAX_SHIFTu);
	var p = mul_wide(u32(abs(acc)), u32(multiplier));
	if (acc < 0) {
		p = neg64(p);
	}
	var r = vec2<u32>(0u, 0u);
	if (s - 1u < 32u) {
		r.x = 1u << (s - 1u);
	} else {
		r.y = 1u << (s - 33u);
	}
	let q = sar64(add64(p, r), s);
	let hi = bitcast<i32>(q.y);
	let lo = bitcast<i32>(q.x);
	// Beyond ±1024 every value saturates the same way, so the 64-bit value is narrowed to it.
	var v: i32;
	if (hi == 0 && lo >= 0) {
		v = min(lo, 1024);
	} else if (hi == -1 && lo < 0) {
		v = max(lo, -1024);
	} else if (hi < 0) {
		v = -1024;
	} else {
		v = 1024;
	}
	var out = v + params.zero_point;
	if (params.relu != 0u) {
		out = max(out, params.zero_point);
	}
	return clamp(out, -128, 127);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
	let index = (group.y * params.groups_x + group.x) * 64u + local;
	if (index >= params.rows * params.out_words) {
		return;
	}
	let row = index / params.out_words;
	let word = index % params.out_words;
	let x = row * params.in_words;
	var packed = 0u;
	for (var t = 0u; t < 4u; t++) {
		let j = word * 4u + t;
		if (j >= params.out_len) {
			break;
		}
		let w = j * params.in_words;
		var acc = bias[j];
		for (var k = 0u; k < params.in_words; k++) {
			acc += dot4(inputs[x + k], weights[w + k]);
		}
		if (params.hidden != 0u) {
			let v = requantize(acc, multipliers[j], shifts[j]);
			packed |= (bitcast<u32>(v) & 0xffu) << (8u * t);
		} else {
			if (params.relu != 0u) {
				acc = max(acc, 0);
			}
			outputs[row * params.out_len + j] = bitcast<u32>(acc);
		}
	}
	if (params.hidden != 0u) {
		outputs[row * params.out_words + word] = packed;
	}
}
"#;

/// The shader with the format's shift bounds filled in.
fn shader_source() -> String {
	SHADER
		.replace("MIN_SHIFTu", &format!("{MIN_SHIFT}u"))
		.replace("MAX_SHIFTu", &format!("{MAX_SHIFT}u"))
}

/// Run a future to completion on this thread (wgpu's native futures are ready at once or
/// woken from its own threads).
fn block_on<F: Future>(future: F) -> F::Output {
	struct Unpark(std::thread::Thread);
	impl Wake for Unpark {
		fn wake(self: Arc<Self>) {
			self.0.unpark();
		}
	}
	let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
	let mut context = Context::from_waker(&waker);
	let mut future = pin!(future);
	loop {
		match future.as_mut().poll(&mut context) {
			Poll::Ready(output) => return output,
			Poll::Pending => std::thread::park(),
		}
	}
}

/// The device the back-end runs on: chosen once per process.
struct Gpu {
	device: wgpu::Device,
	queue: wgpu::Queue,
	name: String,
}

/// The process's GPU, or why there is none.
fn gpu() -> Result<&'static Gpu, String> {
	static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
	GPU.get_or_init(open).as_ref().map_err(Clone::clone)
}

fn open() -> Result<Gpu, String> {
	let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
		backends: wgpu::Backends::VULKAN,
		..wgpu::InstanceDescriptor::new_without_display_handle()
	});
	let allow_cpu = std::env::var(ALLOW_CPU_ENV).is_ok_and(|v| v == "1");
	let rank = |kind: wgpu::DeviceType| match kind {
		wgpu::DeviceType::DiscreteGpu => Some(0),
		wgpu::DeviceType::IntegratedGpu => Some(1),
		wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => Some(2),
		wgpu::DeviceType::Cpu if allow_cpu => Some(3),
		wgpu::DeviceType::Cpu => None,
	};
	let adapter = block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN))
		.into_iter()
		.filter_map(|adapter| rank(adapter.get_info().device_type).map(|r| (r, adapter)))
		.min_by_key(|(r, _)| *r)
		.map(|(_, adapter)| adapter)
		.ok_or_else(|| {
			format!("no Vulkan GPU found (a software adapter needs {ALLOW_CPU_ENV}=1)")
		})?;
	let info = adapter.get_info();
	let (device, queue) = block_on(adapter.request_device(&wgpu::DeviceDescriptor {
		label: Some("aivm"),
		required_limits: wgpu::Limits::default(),
		..Default::default()
	}))
	.map_err(|e| format!("the GPU {} refused a device: {e}", info.name))?;
	Ok(Gpu { device, queue, name: format!("{} ({:?})", info.name, info.device_type) })
}

/// Whether this machine has a GPU the back-end may use.
pub fn is_available() -> bool {
	gpu().is_ok()
}

/// The name of the GPU in use, for logs.
pub fn device_name() -> Option<String> {
	gpu().ok().map(|gpu| gpu.name.clone())
}

/// Packs `values` (rows of `len`) into rows of `words` 32-bit words, zero-padded.
fn pack(values: &[i8], len: usize, words: usize) -> Vec<u32> {
	let rows = values.len().checked_div(len).unwrap_or(0);
	let mut packed = vec![0u32; rows * words];
	for (row, out) in values.chunks_exact(len.max(1)).zip(packed.chunks_exact_mut(words.max(1))) {
		for (word, bytes) in out.iter_mut().zip(row.chunks(4)) {
			let mut le = [0u8; 4];
			for (b, v) in le.iter_mut().zip(bytes) {
				*b = v.to_le_bytes()[0];
			}
			*word = u32::from_le_bytes(le);
		}
	}
	packed
}

fn words(len: usize) -> usize {
	len.div_ceil(4)
}

fn as_bytes<T: ToLeBytes>(values: &[T]) -> Vec<u8> {
	values.iter().flat_map(|v| v.le_bytes()).collect()
}

/// Little-endian bytes of the 32-bit values the buffers hold.
trait ToLeBytes {
	fn le_bytes(&self) -> [u8; 4];
}
impl ToLeBytes for u32 {
	fn le_bytes(&self) -> [u8; 4] {
		self.to_le_bytes()
	}
}
impl ToLeBytes for i32 {
	fn le_bytes(&self) -> [u8; 4] {
		self.to_le_bytes()
	}
}

/// One layer on the device.
struct Layer {
	in_words: u32,
	out_len: u32,
	hidden: bool,
	relu: bool,
	zero_point: i32,
	weights: wgpu::Buffer,
	bias: wgpu::Buffer,
	multipliers: wgpu::Buffer,
	shifts: wgpu::Buffer,
}

impl Layer {
	fn new(gpu: &Gpu, dense: &Dense, requant: Option<&Requant>) -> Layer {
		let storage = |label: &str, bytes: Vec<u8>| {
			// Bindings may not be empty.
			let bytes = if bytes.is_empty() { vec![0; 4] } else { bytes };
			gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
				label: Some(label),
				contents: &bytes,
				usage: wgpu::BufferUsages::STORAGE,
			})
		};
		let in_words = words(dense.in_len);
		let (multipliers, shifts, zero_point) = match requant {
			Some(r) => (
				r.multipliers.clone(),
				r.shifts.iter().map(|s| u32::from(*s)).collect(),
				i32::from(r.zero_point),
			),
			None => (Vec::new(), Vec::new(), 0),
		};
		Layer {
			in_words: u32::try_from(in_words).unwrap_or(u32::MAX),
			out_len: u32::try_from(dense.out_len).unwrap_or(u32::MAX),
			hidden: requant.is_some(),
			relu: dense.activation == Activation::Relu,
			zero_point,
			weights: storage("weights", as_bytes(&pack(&dense.weights, dense.in_len, in_words))),
			bias: storage("bias", as_bytes(&dense.bias)),
			multipliers: storage("multipliers", as_bytes(&multipliers)),
			shifts: storage("shifts", as_bytes::<u32>(&shifts)),
		}
	}

	/// Words per item of this layer's output buffer.
	fn out_words(&self) -> u32 {
		if self.hidden {
			self.out_len.div_ceil(4)
		} else {
			self.out_len
		}
	}
}

/// A model prepared on the GPU.
pub struct Prepared {
	gpu: &'static Gpu,
	pipeline: wgpu::ComputePipeline,
	layers: Vec<Layer>,
	input_len: usize,
	output_len: usize,
	/// Items per chunk.
	chunk_rows: usize,
}

/// Prepare `model` on the process's GPU.
pub fn prepare(model: &Model) -> Result<Prepared, String> {
	prepare_with(model, CHUNK_BYTES)
}

/// [`prepare`] with chunks whose largest buffer is at most `chunk_bytes` (at least one item).
fn prepare_with(model: &Model, chunk_bytes: usize) -> Result<Prepared, String> {
	let gpu = gpu()?;
	let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
		label: Some("aivm dense"),
		source: wgpu::ShaderSource::Wgsl(shader_source().into()),
	});
	let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
		label: Some("aivm dense"),
		layout: None,
		module: &module,
		entry_point: Some("main"),
		compilation_options: Default::default(),
		cache: None,
	});
	let mut layers: Vec<Layer> = model
		.hidden_layers()
		.iter()
		.map(|h| Layer::new(gpu, &h.dense, Some(&h.requant)))
		.collect();
	layers.push(Layer::new(gpu, model.output_layer(), None));
	let widest = layers
		.iter()
		.flat_map(|l| [l.in_words, l.out_words()])
		.max()
		.unwrap_or(1)
		.max(1) as usize;
	let chunk_rows = (chunk_bytes / (widest * 4)).max(1);
	Ok(Prepared {
		gpu,
		pipeline,
		layers,
		input_len: model.input_len(),
		output_len: model.output_len(),
		chunk_rows,
	})
}

impl Prepared {
	/// Runs `inputs` (`[batch][input_len]`) into `outputs` (`[batch][output_len]`); shapes are
	/// checked by the caller.
	pub fn run(&self, inputs: &[i8], outputs: &mut [i32]) -> Result<(), String> {
		let rows_in = inputs.chunks(self.chunk_rows * self.input_len.max(1));
		let rows_out = outputs.chunks_mut(self.chunk_rows * self.output_len.max(1));
		for (input, output) in rows_in.zip(rows_out) {
			self.run_chunk(input, output)?;
		}
		Ok(())
	}

	fn run_chunk(&self, inputs: &[i8], outputs: &mut [i32]) -> Result<(), String> {
		let device = &self.gpu.device;
		let rows = inputs.len() / self.input_len.max(1);
		let rows_u32 = u32::try_from(rows).map_err(|_| "chunk too large".to_string())?;
		let packed = pack(inputs, self.input_len, words(self.input_len));
		let mut current = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
			label: Some("inputs"),
			contents: &as_bytes(&packed),
			usage: wgpu::BufferUsages::STORAGE,
		});
		let mut encoder = device.create_command_encoder(&Default::default());
		let mut keep = Vec::new();
		for layer in &self.layers {
			let out_words = layer.out_words();
			let size = u64::from(rows_u32) * u64::from(out_words) * 4;
			let output = device.create_buffer(&wgpu::BufferDescriptor {
				label: Some("activations"),
				size: size.max(4),
				usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
				mapped_at_creation: false,
			});
			let invocations = rows_u32.saturating_mul(layer.out_len.div_ceil(4));
			let groups = invocations.div_ceil(WORKGROUP).max(1);
			let groups_x = groups.min(MAX_GROUPS_X);
			let groups_y = groups.div_ceil(groups_x);
			let params: [u32; 8] = [
				rows_u32,
				layer.in_words,
				layer.out_len,
				layer.out_len.div_ceil(4),
				u32::from(layer.hidden),
				u32::from(layer.relu),
				u32::from_le_bytes(layer.zero_point.to_le_bytes()),
				groups_x,
			];
			let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
				label: Some("params"),
				contents: &as_bytes(&params),
				usage: wgpu::BufferUsages::UNIFORM,
			});
			let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
				label: None,
				layout: &self.pipeline.get_bind_group_layout(0),
				entries: &[
					entry(0, &params),
					entry(1, &layer.weights),
					entry(2, &layer.bias),
					entry(3, &layer.multipliers),
					entry(4, &layer.shifts),
					entry(5, &current),
					entry(6, &output),
				],
			});
			{
				let mut pass = encoder.begin_compute_pass(&Default::default());
				pass.set_pipeline(&self.pipeline);
				pass.set_bind_group(0, &bind_group, &[]);
				pass.dispatch_workgroups(groups_x, groups_y, 1);
			}
			keep.push(params);
			keep.push(std::mem::replace(&mut current, output));
		}
		let bytes = (outputs.len() * 4) as u64;
		let staging = device.create_buffer(&wgpu::BufferDescriptor {
			label: Some("staging"),
			size: bytes.max(4),
			usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
			mapped_at_creation: false,
		});
		encoder.copy_buffer_to_buffer(&current, 0, &staging, 0, bytes.max(4));
		self.gpu.queue.submit([encoder.finish()]);
		let (sender, receiver) = mpsc::channel();
		staging.map_async(wgpu::MapMode::Read, .., move |result| {
			let _ = sender.send(result);
		});
		device
			.poll(wgpu::PollType::wait_indefinitely())
			.map_err(|e| format!("the GPU did not finish: {e}"))?;
		receiver
			.recv()
			.map_err(|_| "the GPU dropped the result".to_string())?
			.map_err(|e| format!("the result could not be read: {e}"))?;
		{
			let view = staging.get_mapped_range(..).map_err(|e| format!("{e}"))?;
			for (out, word) in outputs.iter_mut().zip(view.chunks_exact(4)) {
				*out = i32::from_le_bytes([word[0], word[1], word[2], word[3]]);
			}
		}
		staging.unmap();
		Ok(())
	}
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
	wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::engine::pseudo_random_inputs;
	use dsync_aivm_core::{bundled, Scratch};

	#[test]
	fn a_batch_split_into_many_chunks_matches_the_reference() {
		let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
		// 128 bytes per item in the widest buffer: 8 items per chunk, 13 chunks.
		let prepared =
			prepare_with(&model, 1024).expect("a GPU (or lavapipe with AIVM_GPU_ALLOW_CPU=1)");
		assert_eq!(prepared.chunk_rows, 8);
		let inputs = pseudo_random_inputs(100 * 64, 5);
		let mut outputs = vec![0; 100 * 10];
		prepared.run(&inputs, &mut outputs).unwrap();
		let mut expected = vec![0; 100 * 10];
		let mut scratch = Scratch::for_model(&model, 16);
		model.infer_batch(&inputs, 100, &mut scratch, &mut expected).unwrap();
		assert_eq!(outputs, expected);
	}

	#[test]
	fn packing_pads_rows_to_whole_words() {
		assert_eq!(pack(&[1, -1, 2, 3, 4], 5, 2), vec![0x0302_ff01, 0x0000_0004]);
		assert_eq!(pack(&[1, 2, 3, -128, 5, 6], 3, 1), vec![0x0003_0201, 0x0006_0580]);
		assert!(pack(&[], 3, 1).is_empty());
	}
}
