//! Counters the off-chain workers keep for the node's Prometheus endpoint.
//!
//! The workers run in the runtime (Wasm), where there is no metrics registry. They add to `u64`
//! counters (SCALE, little-endian) in the node's persistent off-chain storage, one key per
//! counter ([`Counter::key`]: `b"dsync::metrics::" ++ name`), and the node reads those keys
//! whenever Prometheus scrapes (`node/src/metrics.rs`, `register_workers`), so the families and
//! labels below are the whole contract between the two.
//!
//! | family (node) | label | counters |
//! | --- | --- | --- |
//! | `dsync_gpu_jobs_total` | `stage` | [`GPU_STAGES`]: `seen` (a job's first inference attempt), `fetched` (its input obtained: inline, or the batch downloaded and checked), `inferred` (outputs computed by `aivm`), `committed`, `revealed` (transactions the pool accepted, resubmissions included) |
//! | `dsync_gpu_failures_total` | `reason` | [`GPU_FAILURES`]: why an inference failed |
//! | `dsync_gpu_stage_milliseconds_total` | `stage` | [`GPU_STAGE_MILLIS`]: time spent obtaining inputs (`fetch`) and inferring (`infer`); divide by the `fetched` / `inferred` counts for the mean |
//! | `dsync_pos_probes_total` | | [`POS_PROBES`]: probe requests a verifier made |
//! | `dsync_pos_reports_total` | `phase` | [`POS_REPORTS`]: report commitments and reveals the pool accepted |
//! | `dsync_pos_retrievals_total` | `result` | [`POS_RETRIEVALS`]: pieces a verifier fetched from storage providers, by whether they verified (`passed`) or not (`failed`) |
//!
//! Counting is a compare-and-set of the counter's key: when two worker runs add to the same
//! counter at the same instant one count is lost. These counters are for operators'
//! dashboards and alerts, never for payments or penalties.

use alloc::vec::Vec;

/// The prefix of every counter's key in persistent off-chain storage.
pub const PREFIX: &[u8] = b"dsync::metrics::";

/// One counter of an off-chain worker, named by the rest of its key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Counter(pub &'static str);

impl Counter {
	/// The counter's key in persistent off-chain storage: [`PREFIX`] then the name.
	pub fn key(self) -> Vec<u8> {
		let mut key = PREFIX.to_vec();
		key.extend_from_slice(self.0.as_bytes());
		key
	}

	/// Add `amount` to the counter (saturating). Needs the off-chain worker's externalities.
	pub fn add(self, amount: u64) {
		use sp_runtime::offchain::storage::{StorageRetrievalError, StorageValueRef};
		let key = self.key();
		let _ = StorageValueRef::persistent(&key).mutate(
			|current: Result<Option<u64>, StorageRetrievalError>| {
				Ok::<_, ()>(current.ok().flatten().unwrap_or(0).saturating_add(amount))
			},
		);
	}

	/// Add one to the counter.
	pub fn inc(self) {
		self.add(1)
	}
}

/// The GPU worker's stages, by the `stage` label of `dsync_gpu_jobs_total`.
pub const GPU_STAGES: [(&str, Counter); 5] = [
	("seen", GPU_SEEN),
	("fetched", GPU_FETCHED),
	("inferred", GPU_INFERRED),
	("committed", GPU_COMMITTED),
	("revealed", GPU_REVEALED),
];
/// A job's first inference attempt by this node.
pub const GPU_SEEN: Counter = Counter("gpu/seen");
/// A job's input obtained (inline, or the batch downloaded and checked against its hash).
pub const GPU_FETCHED: Counter = Counter("gpu/fetched");
/// A job's outputs computed by the `aivm` server.
pub const GPU_INFERRED: Counter = Counter("gpu/inferred");
/// A `commit_result` the transaction pool accepted.
pub const GPU_COMMITTED: Counter = Counter("gpu/committed");
/// A `reveal_result` the transaction pool accepted.
pub const GPU_REVEALED: Counter = Counter("gpu/revealed");

/// Milliseconds spent per stage, by the `stage` label of `dsync_gpu_stage_milliseconds_total`.
pub const GPU_STAGE_MILLIS: [(&str, Counter); 2] =
	[("fetch", GPU_FETCH_MILLIS), ("infer", GPU_INFER_MILLIS)];
/// Milliseconds spent obtaining inputs.
pub const GPU_FETCH_MILLIS: Counter = Counter("gpu/ms/fetch");
/// Milliseconds spent in inference requests to the `aivm` server.
pub const GPU_INFER_MILLIS: Counter = Counter("gpu/ms/infer");

/// Why an inference failed, by the `reason` label of `dsync_gpu_failures_total` (the GPU-jobs
/// pallet's `InferenceError`, one label per variant).
pub const GPU_FAILURES: [(&str, Counter); 9] = [
	("unknown_model", Counter("gpu/failed/unknown_model")),
	("invalid_url", Counter("gpu/failed/invalid_url")),
	("aivm_unreachable", Counter("gpu/failed/aivm_unreachable")),
	("batch_unreachable", Counter("gpu/failed/batch_unreachable")),
	("out_of_time", Counter("gpu/failed/out_of_time")),
	("status", Counter("gpu/failed/status")),
	("too_large", Counter("gpu/failed/too_large")),
	("wrong_shape", Counter("gpu/failed/wrong_shape")),
	("input_mismatch", Counter("gpu/failed/input_mismatch")),
];

/// The counter of the failure labelled `reason` ([`GPU_FAILURES`]).
pub fn gpu_failure(reason: &str) -> Option<Counter> {
	GPU_FAILURES
		.iter()
		.find(|(label, _)| *label == reason)
		.map(|(_, counter)| *counter)
}

/// Probe requests a Proof-of-Sync verifier made (`dsync_pos_probes_total`).
pub const POS_PROBES: Counter = Counter("pos/probes");
/// Reports by the `phase` label of `dsync_pos_reports_total`.
pub const POS_REPORTS: [(&str, Counter); 2] = [("commit", POS_COMMITTED), ("reveal", POS_REVEALED)];
/// A `commit_report` the transaction pool accepted.
pub const POS_COMMITTED: Counter = Counter("pos/committed");
/// A `reveal_report` the transaction pool accepted.
pub const POS_REVEALED: Counter = Counter("pos/revealed");

/// Retrieval checks by the `result` label of `dsync_pos_retrievals_total`.
pub const POS_RETRIEVALS: [(&str, Counter); 2] =
	[("passed", POS_RETRIEVAL_PASSED), ("failed", POS_RETRIEVAL_FAILED)];
/// A piece fetched from a storage provider that verified against its slot's root.
pub const POS_RETRIEVAL_PASSED: Counter = Counter("pos/retrieval/passed");
/// A piece fetch from a storage provider that failed, or whose answer did not verify.
pub const POS_RETRIEVAL_FAILED: Counter = Counter("pos/retrieval/failed");

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::offchain::{testing::TestOffchainExt, OffchainDbExt, OffchainWorkerExt};

	#[test]
	fn counters_add_up_under_their_keys() {
		let (offchain, state) = TestOffchainExt::new();
		let mut ext = sp_io::TestExternalities::default();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.execute_with(|| {
			GPU_SEEN.inc();
			GPU_SEEN.add(2);
			GPU_FETCH_MILLIS.add(u64::MAX);
			GPU_FETCH_MILLIS.add(5);
		});
		let stored = |counter: Counter| {
			state
				.read()
				.persistent_storage
				.get(&counter.key())
				.map(|bytes| <u64 as codec::Decode>::decode(&mut &bytes[..]).unwrap())
		};
		assert_eq!(GPU_SEEN.key(), b"dsync::metrics::gpu/seen".to_vec());
		assert_eq!(stored(GPU_SEEN), Some(3));
		assert_eq!(stored(GPU_FETCH_MILLIS), Some(u64::MAX), "saturates");
		assert_eq!(stored(GPU_REVEALED), None);
	}

	#[test]
	fn every_label_and_key_is_distinct() {
		let mut keys: Vec<Vec<u8>> = GPU_STAGES
			.iter()
			.chain(&GPU_STAGE_MILLIS)
			.chain(&GPU_FAILURES)
			.chain(&POS_REPORTS)
			.chain(&POS_RETRIEVALS)
			.map(|(_, counter)| counter.key())
			.collect();
		keys.push(POS_PROBES.key());
		let count = keys.len();
		keys.sort();
		keys.dedup();
		assert_eq!(keys.len(), count);
		assert_eq!(gpu_failure("status"), Some(Counter("gpu/failed/status")));
		assert_eq!(gpu_failure("nothing"), None);
	}
}
