//! The pallets benchmarked in this runtime (with the `runtime-benchmarks` feature).
//! `scripts/benchmark.sh` runs them and writes `weights.rs`. The helpers their benchmarks need
//! are part of the pallets' configs (`configs::benchmark_helpers`).

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_tokenomics, Tokenomics]
	[pallet_node_registry, NodeRegistry]
	[pallet_proof_of_sync, ProofOfSync]
	[pallet_gpu_jobs, GpuJobs]
	[pallet_naming, Naming]
	[pallet_storage, Storage]
);
