//! Every back-end of this CPU against the reference executor: random models of awkward shapes
//! with full-range inputs and extreme parameters, the digits model's reference vectors, and
//! determinism across batch sizes and thread counts.

use dsync_aivm::engine::{pseudo_random_inputs, Backend, Engine, EngineError};
use dsync_aivm_core::{
	batch_merkle_root, bundled, result_hash, Activation, Dense, HiddenLayer, Model, Requant,
	Scratch, BIAS_LIMIT,
};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn i8(&mut self) -> i8 {
		self.next() as i8
	}
}

fn dense(rng: &mut Rng, n: usize, m: usize, activation: Activation) -> Dense {
	// Mostly full-range weights, some rows all zero, and the extremes.
	let weights = (0..n * m)
		.map(|i| match rng.below(10) {
			0 => -128,
			1 => 127,
			2 if i % 7 == 0 => 0,
			_ => rng.i8(),
		})
		.collect();
	let bias = (0..m)
		.map(|_| match rng.below(6) {
			0 => BIAS_LIMIT,
			1 => -BIAS_LIMIT,
			_ => (rng.next() as i32) >> 8,
		})
		.collect();
	Dense { in_len: n, out_len: m, activation, weights, bias }
}

fn requant(rng: &mut Rng, m: usize) -> Requant {
	Requant {
		// Full-range multipliers saturate unless the shift is large; small ones keep values in
		// range at small shifts too, where the rounding term decides.
		multipliers: (0..m)
			.map(|_| match rng.below(6) {
				0 => 0,
				1 => i32::MAX,
				2 => 1 + rng.below(16) as i32,
				_ => (rng.next() >> 33) as i32,
			})
			.collect(),
		shifts: (0..m).map(|_| 1 + rng.below(62) as u8).collect(),
		zero_point: rng.i8(),
	}
}

/// A random model with hidden widths `widths[1..]` and input width `widths[0]`.
fn random_model(seed: u64, widths: &[usize], last_relu: bool) -> Model {
	let mut rng = Rng(seed | 1);
	let hidden: Vec<HiddenLayer> = widths
		.windows(2)
		.take(widths.len().saturating_sub(2))
		.map(|pair| {
			let activation = if rng.below(3) == 0 { Activation::None } else { Activation::Relu };
			HiddenLayer {
				dense: dense(&mut rng, pair[0], pair[1], activation),
				requant: requant(&mut rng, pair[1]),
			}
		})
		.collect();
	let n = widths[widths.len() - 2];
	let m = widths[widths.len() - 1];
	let activation = if last_relu { Activation::Relu } else { Activation::None };
	Model::new(hidden, dense(&mut rng, n, m, activation)).expect("valid random model")
}

fn reference(model: &Model, inputs: &[i8]) -> Vec<i32> {
	let batch = inputs.len() / model.input_len();
	let mut outputs = vec![0; batch * model.output_len()];
	let mut scratch = Scratch::for_model(model, 5);
	model.infer_batch(inputs, batch, &mut scratch, &mut outputs).unwrap();
	outputs
}

fn run(engine: &Engine, inputs: &[i8]) -> Vec<i32> {
	let batch = inputs.len() / engine.model().input_len();
	let mut outputs = vec![0; batch * engine.model().output_len()];
	engine.infer(inputs, &mut outputs).unwrap();
	outputs
}

#[test]
fn the_portable_back_end_is_always_there() {
	assert!(Backend::Portable.is_supported());
	assert!(Backend::supported().contains(&Backend::best()));
	assert_eq!(Backend::supported().last(), Some(&Backend::Portable));
	assert!(Backend::best_cpu().is_supported() && Backend::best_cpu() != Backend::Gpu);
	assert!(Backend::supported().iter().filter(|b| **b != Backend::Gpu).all(|b| {
		// The best CPU back-end comes first among the CPU ones.
		Backend::supported().iter().position(|c| *c == Backend::best_cpu())
			<= Backend::supported().iter().position(|c| c == b)
	}));
	for backend in [Backend::Gpu, Backend::Avx512Vnni, Backend::Avx2, Backend::Portable] {
		assert_eq!(backend.name().parse::<Backend>(), Ok(backend));
	}
	assert!("cuda".parse::<Backend>().is_err());
}

/// Without the `gpu` feature the GPU back-end is never offered, and asking for it says why.
#[cfg(not(feature = "gpu"))]
#[test]
fn without_the_gpu_feature_the_gpu_back_end_is_refused_clearly() {
	assert!(!Backend::Gpu.is_supported());
	assert!(!Backend::supported().contains(&Backend::Gpu));
	let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
	let error = Engine::new(model, Backend::Gpu, 1).err().expect("refused");
	assert_eq!(error, EngineError::Unsupported(Backend::Gpu));
	assert_eq!(error.to_string(), "this aivm was built without the `gpu` cargo feature");
}

/// Built with `gpu`, the tests need a Vulkan device (on a machine without a GPU, Mesa's
/// lavapipe with `AIVM_GPU_ALLOW_CPU=1`): the GPU back-end is then offered first, and the
/// tests above check it bit for bit like every back-end. Here: the digits model on a batch of
/// 5,000 items, hashes included.
#[cfg(feature = "gpu")]
#[test]
fn the_gpu_back_end_is_found_and_bit_exact_on_a_large_batch() {
	assert!(
		Backend::Gpu.is_supported(),
		"no Vulkan GPU (without one: apt-get install mesa-vulkan-drivers, AIVM_GPU_ALLOW_CPU=1)"
	);
	assert_eq!(Backend::best(), Backend::Gpu);
	assert!(dsync_aivm::engine::gpu::device_name().is_some());
	let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
	let engine = Engine::new(model.clone(), Backend::Gpu, 0).unwrap();
	let inputs = pseudo_random_inputs(5_000 * 64, 77);
	let outputs = run(&engine, &inputs);
	let expected = reference(&model, &inputs);
	assert_eq!(outputs, expected);
	let root = |values: &[i32]| {
		let hashes: Vec<[u8; 32]> = values.chunks(10).map(result_hash).collect();
		batch_merkle_root(&hashes)
	};
	assert_eq!(root(&outputs), root(&expected));
}

#[test]
fn every_back_end_matches_the_reference_on_random_models() {
	let shapes: &[&[usize]] = &[
		&[1, 1],
		&[3, 5, 2],
		&[64, 128, 64, 10],
		&[17, 33, 15, 31, 7],
		&[130, 1, 19],
		&[5, 100, 3],
		&[256, 48, 16],
	];
	for backend in Backend::supported() {
		for (s, widths) in shapes.iter().enumerate() {
			for last_relu in [false, true] {
				let seed = 1000 + s as u64 * 2 + u64::from(last_relu);
				let model = random_model(seed, widths, last_relu);
				let engine = Engine::new(model.clone(), backend, 1)
					.unwrap_or_else(|e| panic!("{backend} on {widths:?}: {e}"));
				for batch in [1, 2, 5, 130, 300] {
					let inputs =
						pseudo_random_inputs(batch * model.input_len(), seed ^ batch as u64);
					assert_eq!(
						run(&engine, &inputs),
						reference(&model, &inputs),
						"{backend} on {widths:?}, batch {batch}"
					);
				}
			}
		}
	}
}

/// The digits model's test vectors: inputs, outputs, result hashes and the Merkle root,
/// written by `models/digits/train.py`.
struct Vectors {
	inputs: Vec<i8>,
	outputs: Vec<i32>,
	hashes: Vec<[u8; 32]>,
	root: [u8; 32],
}

fn digits_vectors() -> Vectors {
	let bytes = std::fs::read(concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../models/digits/digits-test-vectors.bin"
	))
	.unwrap();
	let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
	assert_eq!(&bytes[..4], b"AIVT");
	let (count, in_len, out_len) = (u32_at(8), u32_at(12), u32_at(16));
	let mut at = 24 + 32;
	let mut vectors =
		Vectors { inputs: Vec::new(), outputs: Vec::new(), hashes: Vec::new(), root: [0; 32] };
	for _ in 0..count {
		vectors.inputs.extend(bytes[at..at + in_len].iter().map(|b| *b as i8));
		at += in_len + 1;
		for _ in 0..out_len {
			vectors.outputs.push(i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
			at += 4;
		}
		vectors.hashes.push(bytes[at..at + 32].try_into().unwrap());
		at += 32;
	}
	vectors.root = bytes[at..at + 32].try_into().unwrap();
	assert_eq!(at + 32, bytes.len());
	vectors
}

#[test]
fn every_back_end_reproduces_the_digits_reference_vectors() {
	let vectors = digits_vectors();
	let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
	for backend in Backend::supported() {
		for threads in [1, 2, 3] {
			let engine = Engine::new(model.clone(), backend, threads).unwrap();
			let outputs = run(&engine, &vectors.inputs);
			assert_eq!(outputs, vectors.outputs, "{backend}, {threads} threads");
			let hashes: Vec<[u8; 32]> = outputs.chunks(10).map(result_hash).collect();
			assert_eq!(hashes, vectors.hashes);
			assert_eq!(batch_merkle_root(&hashes), vectors.root);
		}
	}
}

#[test]
fn results_do_not_depend_on_batch_size_or_threads() {
	let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
	let batch = 3000;
	let inputs = pseudo_random_inputs(batch * 64, 77);
	let expected = reference(&model, &inputs);
	for backend in Backend::supported() {
		for threads in [1, 2, 4] {
			let engine = Engine::new(model.clone(), backend, threads).unwrap();
			assert_eq!(run(&engine, &inputs), expected, "{backend}, {threads} threads, whole");
			// The same items in uneven slices give the same outputs.
			let mut at = 0;
			for size in [1, 127, 128, 129, 600, 1, 2014] {
				let slice = &inputs[at * 64..(at + size) * 64];
				assert_eq!(run(&engine, slice), expected[at * 10..(at + size) * 10]);
				at += size;
			}
			assert_eq!(at, batch);
		}
	}
}

#[test]
fn wrong_buffers_are_refused() {
	let model = Model::parse(bundled::DIGITS_64_128_64_10).unwrap();
	let engine = Engine::new(model, Backend::best(), 1).unwrap();
	let mut outputs = vec![0; 10];
	assert!(matches!(engine.infer(&[0; 63], &mut outputs), Err(EngineError::Shape { .. })));
	assert!(matches!(engine.infer(&[0; 128], &mut outputs), Err(EngineError::Shape { .. })));
	assert_eq!(engine.infer(&[], &mut []), Ok(()));
}
