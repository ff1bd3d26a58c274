//! The fast executor: the model's layers packed once for a SIMD back-end chosen at run time,
//! blocks of items run through all layers, batches split over all cores.
//!
//! Every back-end computes exactly the arithmetic of `dsync_aivm_core` (the reference
//! [`ScalarKernel`](dsync_aivm_core::ScalarKernel)): integer sums cannot overflow in any order
//! and the requantisation is the format's, so outputs and result hashes are bit-identical on
//! every path, every batch size and every thread count. The tests check that on random models
//! and on the digits model's reference vectors; [`Engine::new`] also checks the chosen
//! back-end against the reference before the engine is used.
//!
//! | back-end | when | how |
//! | --- | --- | --- |
//! | [`Backend::Avx512Vnni`] | x86-64 with AVX-512 F/BW/VNNI | `vpdpbusd`: 64 u8×i8 products per instruction, activations kept as `u8 = i8 + 128` (the bias absorbs the shift), requantisation in 64-bit lanes |
//! | [`Backend::Avx2`] | x86-64 with AVX2 | `vpmaddwd` on 16-bit operands (exact, unlike the saturating `vpmaddubsw`), requantisation in 64-bit lanes (8 outputs at a time) |
//! | [`Backend::Portable`] | anywhere | the reference kernel of `dsync_aivm_core` |
//! | [`Backend::Gpu`] | built with the cargo feature `gpu`, on a machine with a Vulkan GPU | one WGSL compute shader through `wgpu`: packed `i8` dot products, the requantisation in 64-bit arithmetic from 32-bit halves (see `gpu.rs`) |

use dsync_aivm_core::{Model, Scratch};
use std::{fmt, str::FromStr};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(feature = "gpu")]
pub mod gpu;
#[cfg(target_arch = "x86_64")]
mod vnni;

/// A hidden layer's requantisation as the SIMD back-ends load it: per output, the multiplier,
/// the rounding term `2^(shift - 1)` and the shift (clamped to the format's range, as the
/// reference does) as 64-bit lanes, zero-padded to `padded` outputs (multiplier 0, shift 1).
#[cfg(target_arch = "x86_64")]
struct RequantLanes {
	multipliers: Vec<i64>,
	rounding: Vec<i64>,
	shifts: Vec<i64>,
	zero_point: i64,
}

#[cfg(target_arch = "x86_64")]
impl RequantLanes {
	/// The lanes of `r`, output `j` at position `position(j)` (each below `padded`).
	fn new(r: &dsync_aivm_core::Requant, padded: usize, position: impl Fn(usize) -> usize) -> Self {
		let mut multipliers = vec![0i64; padded];
		let mut rounding = vec![0i64; padded];
		let mut shifts = vec![1i64; padded];
		for (j, (multiplier, shift)) in r.multipliers.iter().zip(&r.shifts).enumerate() {
			let at = position(j);
			let shift =
				u32::from((*shift).clamp(dsync_aivm_core::MIN_SHIFT, dsync_aivm_core::MAX_SHIFT));
			multipliers[at] = i64::from(*multiplier);
			rounding[at] = 1i64 << (shift - 1);
			shifts[at] = i64::from(shift);
		}
		Self { multipliers, rounding, shifts, zero_point: i64::from(r.zero_point) }
	}
}

/// Items run through all layers together: big enough to reuse each layer's weights from L1,
/// small enough that the activations stay in L1/L2.
pub const BLOCK_ROWS: usize = 128;

/// Batches below this many items per thread run on the calling thread alone.
pub const MIN_ITEMS_PER_THREAD: usize = 256;

/// The instruction set an [`Engine`] computes with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
	/// AVX-512 VNNI (`vpdpbusd`).
	Avx512Vnni,
	/// AVX2 (`vpmaddwd`).
	Avx2,
	/// Plain Rust: the reference kernel.
	Portable,
	/// A Vulkan GPU through `wgpu` (cargo feature `gpu`).
	Gpu,
}

impl Backend {
	/// Its name in flags, metrics and logs.
	pub const fn name(self) -> &'static str {
		match self {
			Backend::Avx512Vnni => "avx512-vnni",
			Backend::Avx2 => "avx2",
			Backend::Portable => "portable",
			Backend::Gpu => "gpu",
		}
	}

	/// Whether this machine can run it.
	pub fn is_supported(self) -> bool {
		match self {
			#[cfg(target_arch = "x86_64")]
			Backend::Avx512Vnni => {
				std::is_x86_feature_detected!("avx512f")
					&& std::is_x86_feature_detected!("avx512bw")
					&& std::is_x86_feature_detected!("avx512vnni")
			},
			#[cfg(target_arch = "x86_64")]
			Backend::Avx2 => std::is_x86_feature_detected!("avx2"),
			#[cfg(not(target_arch = "x86_64"))]
			Backend::Avx512Vnni | Backend::Avx2 => false,
			Backend::Portable => true,
			#[cfg(feature = "gpu")]
			Backend::Gpu => gpu::is_available(),
			#[cfg(not(feature = "gpu"))]
			Backend::Gpu => false,
		}
	}

	/// The fastest back-end this machine supports: a GPU (when built with `gpu`), then the
	/// widest SIMD.
	pub fn best() -> Backend {
		[Backend::Gpu, Backend::Avx512Vnni, Backend::Avx2]
			.into_iter()
			.find(|b| b.is_supported())
			.unwrap_or(Backend::Portable)
	}

	/// The fastest CPU back-end of this machine (what `auto` falls back to when the GPU fails
	/// its self-check).
	pub fn best_cpu() -> Backend {
		[Backend::Avx512Vnni, Backend::Avx2]
			.into_iter()
			.find(|b| b.is_supported())
			.unwrap_or(Backend::Portable)
	}

	/// Every back-end this machine supports, fastest first.
	pub fn supported() -> Vec<Backend> {
		[Backend::Gpu, Backend::Avx512Vnni, Backend::Avx2, Backend::Portable]
			.into_iter()
			.filter(|b| b.is_supported())
			.collect()
	}
}

impl fmt::Display for Backend {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.name())
	}
}

impl FromStr for Backend {
	type Err = String;
	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"avx512-vnni" => Ok(Backend::Avx512Vnni),
			"avx2" => Ok(Backend::Avx2),
			"portable" => Ok(Backend::Portable),
			"gpu" => Ok(Backend::Gpu),
			other => Err(format!("unknown back-end `{other}` (gpu, avx512-vnni, avx2, portable)")),
		}
	}
}

/// Why an [`Engine`] could not be made or could not run.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum EngineError {
	/// The back-end needs instructions (or a GPU, or the `gpu` feature) this machine or build
	/// does not have.
	Unsupported(Backend),
	/// The GPU failed to prepare the model or to run a batch.
	Gpu(String),
	/// The back-end disagreed with the reference kernel on the self-check (a bug: never
	/// serve from it).
	SelfCheckFailed(Backend),
	/// The inputs are not `batch × input_len` values or the outputs not `batch × output_len`.
	Shape {
		/// The length required.
		expected: usize,
		/// The length given.
		found: usize,
	},
}

impl fmt::Display for EngineError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			EngineError::Unsupported(Backend::Gpu) if cfg!(feature = "gpu") => {
				write!(f, "no usable GPU for the gpu back-end")
			},
			EngineError::Unsupported(Backend::Gpu) => {
				write!(f, "this aivm was built without the `gpu` cargo feature")
			},
			EngineError::Unsupported(b) => write!(f, "this CPU cannot run the {b} back-end"),
			EngineError::Gpu(e) => write!(f, "GPU: {e}"),
			EngineError::SelfCheckFailed(b) => {
				write!(f, "the {b} back-end disagrees with the reference kernel")
			},
			EngineError::Shape { expected, found } => {
				write!(f, "buffer holds {found} values, the batch needs {expected}")
			},
		}
	}
}

impl std::error::Error for EngineError {}

/// One layer prepared for a back-end.
enum Prepared {
	#[cfg(target_arch = "x86_64")]
	Vnni(Vec<vnni::Layer>),
	#[cfg(target_arch = "x86_64")]
	Avx2(Vec<avx2::Layer>),
	#[cfg(feature = "gpu")]
	Gpu(gpu::Prepared),
	Portable,
}

/// A model prepared for one back-end, ready to run batches on all cores.
pub struct Engine {
	model: Model,
	backend: Backend,
	prepared: Prepared,
	threads: usize,
}

impl Engine {
	/// Prepares `model` for `backend`, with `threads` worker threads for large batches
	/// (0: all cores), and checks the back-end against the reference on pseudo-random inputs.
	pub fn new(model: Model, backend: Backend, threads: usize) -> Result<Engine, EngineError> {
		if !backend.is_supported() {
			return Err(EngineError::Unsupported(backend));
		}
		let prepared = match backend {
			#[cfg(target_arch = "x86_64")]
			Backend::Avx512Vnni => Prepared::Vnni(vnni::prepare(&model)),
			#[cfg(target_arch = "x86_64")]
			Backend::Avx2 => Prepared::Avx2(avx2::prepare(&model)),
			#[cfg(feature = "gpu")]
			Backend::Gpu => Prepared::Gpu(gpu::prepare(&model).map_err(EngineError::Gpu)?),
			_ => Prepared::Portable,
		};
		let threads = if threads == 0 {
			std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
		} else {
			threads
		};
		let engine = Engine { model, backend, prepared, threads };
		engine.self_check()?;
		Ok(engine)
	}

	/// [`Engine::new`] with the fastest back-end of this machine and all cores.
	pub fn best(model: Model) -> Result<Engine, EngineError> {
		Engine::new(model, Backend::best(), 0)
	}

	/// The model.
	pub fn model(&self) -> &Model {
		&self.model
	}

	/// The back-end.
	pub fn backend(&self) -> Backend {
		self.backend
	}

	/// The worker threads of a large batch.
	pub fn threads(&self) -> usize {
		self.threads
	}

	/// Runs `inputs` (`[batch][input_len]` `i8`) into `outputs` (`[batch][output_len]` `i32`),
	/// splitting large batches over the engine's threads.
	pub fn infer(&self, inputs: &[i8], outputs: &mut [i32]) -> Result<(), EngineError> {
		let (in_len, out_len) = (self.model.input_len(), self.model.output_len());
		let batch = inputs.len() / in_len;
		if inputs.len() != batch * in_len {
			return Err(EngineError::Shape { expected: (batch + 1) * in_len, found: inputs.len() });
		}
		if outputs.len() != batch * out_len {
			return Err(EngineError::Shape { expected: batch * out_len, found: outputs.len() });
		}
		#[cfg(feature = "gpu")]
		if let Prepared::Gpu(prepared) = &self.prepared {
			// The device runs the whole batch.
			return prepared.run(inputs, outputs).map_err(EngineError::Gpu);
		}
		let threads = self.threads.min(batch / MIN_ITEMS_PER_THREAD).max(1);
		if threads == 1 {
			self.infer_on_this_thread(inputs, outputs);
			return Ok(());
		}
		let per_thread = batch.div_ceil(threads);
		std::thread::scope(|scope| {
			let mut chunks =
				inputs.chunks(per_thread * in_len).zip(outputs.chunks_mut(per_thread * out_len));
			let first = chunks.next();
			for (input, output) in chunks {
				scope.spawn(move || self.infer_on_this_thread(input, output));
			}
			if let Some((input, output)) = first {
				self.infer_on_this_thread(input, output);
			}
		});
		Ok(())
	}

	/// Runs a whole batch on the calling thread (shapes already checked).
	pub(crate) fn infer_on_this_thread(&self, inputs: &[i8], outputs: &mut [i32]) {
		match &self.prepared {
			#[cfg(target_arch = "x86_64")]
			// SAFETY: the engine was only built with this back-end after `is_supported`.
			Prepared::Vnni(layers) => unsafe { vnni::run(&self.model, layers, inputs, outputs) },
			#[cfg(target_arch = "x86_64")]
			// SAFETY: as above.
			Prepared::Avx2(layers) => unsafe { avx2::run(&self.model, layers, inputs, outputs) },
			#[cfg(feature = "gpu")]
			Prepared::Gpu(prepared) => {
				if let Err(error) = prepared.run(inputs, outputs) {
					log::error!("the GPU failed a batch: {error}");
					outputs.fill(0);
				}
			},
			Prepared::Portable => {
				let batch = inputs.len() / self.model.input_len();
				let mut scratch = Scratch::for_model(&self.model, BLOCK_ROWS);
				// Shapes were checked by the caller, so this cannot fail.
				let _ = self.model.infer_batch(inputs, batch, &mut scratch, outputs);
			},
		}
	}

	/// Compares the back-end with the reference kernel on 97 pseudo-random items (full-range
	/// inputs, so every requantisation branch and saturation is exercised).
	fn self_check(&self) -> Result<(), EngineError> {
		let (in_len, out_len) = (self.model.input_len(), self.model.output_len());
		let batch = 97;
		let inputs = pseudo_random_inputs(batch * in_len, 0x5eed);
		let mut expected = vec![0; batch * out_len];
		let mut scratch = Scratch::for_model(&self.model, 7);
		let reference = self.model.infer_batch(&inputs, batch, &mut scratch, &mut expected);
		let mut found = vec![0; batch * out_len];
		self.infer(&inputs, &mut found)?;
		if reference.is_err() || found != expected {
			return Err(EngineError::SelfCheckFailed(self.backend));
		}
		Ok(())
	}
}

/// `len` deterministic pseudo-random `i8` (xorshift), for self-checks and benchmarks.
pub fn pseudo_random_inputs(len: usize, seed: u64) -> Vec<i8> {
	let mut state = seed | 1;
	(0..len)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			(state >> 32) as i8
		})
		.collect()
}
