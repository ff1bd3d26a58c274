//! The node's own Prometheus metrics (`dsync_*`), served with Substrate's on the node's
//! Prometheus endpoint (`--prometheus-port`, 9615 by default; off with `--no-prometheus`).
//!
//! Each subsystem keeps plain atomic counters on its hot path (the DNS server's [`DnsStats`],
//! the probe endpoint's [`ProbeStats`]); the collectors here read them when Prometheus scrapes,
//! so serving metrics costs the hot paths nothing.
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `dsync_dns_queries_total` | | DNS messages received (UDP and TCP), rate-limited ones included |
//! | `dsync_dns_responses_total` | `rcode` | responses made, by response code (`NOERROR`, `NXDOMAIN`, `REFUSED`, `FORMERR`, `SERVFAIL`, `NOTIMP`) |
//! | `dsync_dns_rate_limited_total` | `limit` | queries over a source's limit (`source`); UDP responses dropped (`rrl_dropped`) or sent truncated (`rrl_slipped`) by response rate limiting |
//! | `dsync_dns_cache_total` | `result` | name queries answered from memory (`hit`) or after a state read (`miss`) |
//! | `dsync_dns_dropped_total` | | queries dropped for load (state reads in flight) or malformed beyond an answer |
//! | `dsync_dns_truncated_total` | | UDP responses sent truncated (`TC`) for their size |
//! | `dsync_probe_responses_total` | `outcome` | the probe endpoint's responses: `answered_verifier`, `answered_anonymous`, `health`, and the refusals `bad_request`, `timeout`, `too_large`, `rate_limited`, `busy`, `no_key` |
//! | `dsync_gpu_jobs_total` | `stage` | the GPU-jobs off-chain worker: jobs `seen` (first inference attempt), inputs `fetched`, outputs `inferred` by `aivm`, commitments `committed` and reveals `revealed` (sent to the pool) |
//! | `dsync_gpu_failures_total` | `reason` | its failed inferences: `aivm_unreachable`, `batch_unreachable`, `out_of_time`, `status`, `too_large`, `wrong_shape`, `input_mismatch`, `invalid_url`, `unknown_model` |
//! | `dsync_gpu_stage_milliseconds_total` | `stage` | its time obtaining inputs (`fetch`) and inferring (`infer`) |
//! | `dsync_storage_uploads_total` | `result` | slot uploads `kept` (their root is the chain's) and `refused` (not offered to this node, wrong length or root, no room, busy, stalled) |
//! | `dsync_storage_bytes_total` | `direction` | slot bytes `received` in kept uploads and `served` in downloads |
//! | `dsync_storage_proofs_served_total` | | piece proofs served (to the node's own worker and to others) |
//! | `dsync_storage_slots_repaired_total` | | slots offered to this node that it rebuilt from the other providers' slots |
//! | `dsync_storage_slots_deleted_total` | | slots deleted because the finalised chain no longer gives them to this node |
//! | `dsync_storage_used_bytes` | | bytes kept (slots, their trees and uploads in progress) |
//! | `dsync_storage_capacity_bytes` | | `--storage-capacity` |
//! | `dsync_storage_slots` | | slots kept |
//! | `dsync_pos_probes_total` | | probe requests the Proof-of-Sync off-chain worker made (a verifier) |
//! | `dsync_pos_reports_total` | `phase` | its report commitments (`commit`) and reveals (`reveal`) sent to the pool |
//! | `dsync_pos_retrievals_total` | `result` | pieces it fetched from storage providers that verified against the chain (`passed`) or not (`failed`) |
//!
//! The off-chain workers run in the runtime, where there is no registry: they add to counters in
//! the node's persistent off-chain storage ([`dsync_primitives::worker_metrics`]), and the
//! collectors here read those keys at each scrape.

use crate::{
	dns::DnsStats,
	probe::{Outcome, ProbeStats},
	storage::StorageService,
};
use dsync_primitives::worker_metrics::{
	Counter, GPU_FAILURES, GPU_STAGES, GPU_STAGE_MILLIS, POS_PROBES, POS_REPORTS, POS_RETRIEVALS,
};
use sp_core::offchain::OffchainStorage;
use std::sync::Arc;
use substrate_prometheus_endpoint::{
	register, MetricSource, Opts, PrometheusError, Registry, SourcedCounter, SourcedGauge,
};

/// What one DNS metric family reads from the server's counters.
#[derive(Clone, Copy)]
enum DnsFamily {
	Queries,
	Responses,
	RateLimited,
	Cache,
	Dropped,
	Truncated,
}

/// A DNS metric family, read from the server's counters at each scrape.
#[derive(Clone)]
struct DnsSource {
	stats: Arc<DnsStats>,
	family: DnsFamily,
}

impl MetricSource for DnsSource {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		let s = self.stats.snapshot();
		match self.family {
			DnsFamily::Queries => set(&[], s.queries),
			DnsFamily::Responses => {
				let errors = s.nxdomain + s.refused + s.formerr + s.servfail + s.notimp;
				set(&["NOERROR"], s.answered.saturating_sub(errors));
				set(&["NXDOMAIN"], s.nxdomain);
				set(&["REFUSED"], s.refused);
				set(&["FORMERR"], s.formerr);
				set(&["SERVFAIL"], s.servfail);
				set(&["NOTIMP"], s.notimp);
			},
			DnsFamily::RateLimited => {
				set(&["source"], s.rate_limited);
				set(&["rrl_dropped"], s.rrl_dropped);
				set(&["rrl_slipped"], s.rrl_slipped);
			},
			DnsFamily::Cache => {
				set(&["hit"], s.cache_hits);
				set(&["miss"], s.cache_misses);
			},
			DnsFamily::Dropped => set(&[], s.dropped),
			DnsFamily::Truncated => set(&[], s.truncated),
		}
	}
}

/// Register the DNS server's metrics (see the module docs) in `registry`.
pub fn register_dns(stats: &Arc<DnsStats>, registry: &Registry) -> Result<(), PrometheusError> {
	let families: [(&str, &str, Option<&str>, DnsFamily); 6] = [
		(
			"dsync_dns_queries_total",
			"DNS messages received (UDP and TCP), rate-limited ones included",
			None,
			DnsFamily::Queries,
		),
		(
			"dsync_dns_responses_total",
			"DNS responses made, by response code",
			Some("rcode"),
			DnsFamily::Responses,
		),
		(
			"dsync_dns_rate_limited_total",
			"DNS queries over a source's limit, and UDP responses dropped or slipped by response rate limiting",
			Some("limit"),
			DnsFamily::RateLimited,
		),
		(
			"dsync_dns_cache_total",
			"DNS name queries answered from memory (hit) or after a state read (miss)",
			Some("result"),
			DnsFamily::Cache,
		),
		(
			"dsync_dns_dropped_total",
			"DNS queries dropped unanswered (too many state reads in flight, undecodable messages)",
			None,
			DnsFamily::Dropped,
		),
		(
			"dsync_dns_truncated_total",
			"DNS UDP responses sent truncated for their size",
			None,
			DnsFamily::Truncated,
		),
	];
	for (name, help, label, family) in families {
		let mut opts = Opts::new(name, help);
		if let Some(label) = label {
			opts = opts.variable_label(label);
		}
		let source = DnsSource { stats: Arc::clone(stats), family };
		register(SourcedCounter::new(&opts, source)?, registry)?;
	}
	Ok(())
}

/// What one storage metric family reads from the node's storage.
#[derive(Clone, Copy)]
enum StorageFamily {
	Uploads,
	Bytes,
	Proofs,
	Repaired,
	Deleted,
	Used,
	Capacity,
	Slots,
}

/// A storage metric family, read at each scrape.
#[derive(Clone)]
struct StorageSource {
	service: Arc<StorageService>,
	family: StorageFamily,
}

impl MetricSource for StorageSource {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		use std::sync::atomic::Ordering::Relaxed;
		let stats = &self.service.stats;
		match self.family {
			StorageFamily::Uploads => {
				set(&["kept"], stats.uploads_kept.load(Relaxed));
				set(&["refused"], stats.uploads_refused.load(Relaxed));
			},
			StorageFamily::Bytes => {
				set(&["received"], stats.bytes_received.load(Relaxed));
				set(&["served"], stats.bytes_served.load(Relaxed));
			},
			StorageFamily::Proofs => set(&[], stats.proofs_served.load(Relaxed)),
			StorageFamily::Repaired => set(&[], stats.slots_repaired.load(Relaxed)),
			StorageFamily::Deleted => set(&[], stats.slots_deleted.load(Relaxed)),
			StorageFamily::Used => set(&[], self.service.used()),
			StorageFamily::Capacity => set(&[], self.service.capacity()),
			StorageFamily::Slots => set(&[], self.service.slots_kept() as u64),
		}
	}
}

/// Register the storage metrics (see the module docs) in `registry`.
pub fn register_storage(
	service: &Arc<StorageService>,
	registry: &Registry,
) -> Result<(), PrometheusError> {
	let source = |family| StorageSource { service: Arc::clone(service), family };
	let counters: [(&str, &str, Option<&str>, StorageFamily); 5] = [
		(
			"dsync_storage_uploads_total",
			"Slot uploads kept and refused",
			Some("result"),
			StorageFamily::Uploads,
		),
		(
			"dsync_storage_bytes_total",
			"Slot bytes received in kept uploads and served in downloads",
			Some("direction"),
			StorageFamily::Bytes,
		),
		("dsync_storage_proofs_served_total", "Piece proofs served", None, StorageFamily::Proofs),
		(
			"dsync_storage_slots_repaired_total",
			"Slots rebuilt from the other providers' slots",
			None,
			StorageFamily::Repaired,
		),
		(
			"dsync_storage_slots_deleted_total",
			"Slots deleted because the finalised chain no longer gives them to this node",
			None,
			StorageFamily::Deleted,
		),
	];
	for (name, help, label, family) in counters {
		let mut opts = Opts::new(name, help);
		if let Some(label) = label {
			opts = opts.variable_label(label);
		}
		register(SourcedCounter::new(&opts, source(family))?, registry)?;
	}
	let gauges: [(&str, &str, StorageFamily); 3] = [
		(
			"dsync_storage_used_bytes",
			"Bytes kept: slots, their trees and uploads in progress",
			StorageFamily::Used,
		),
		(
			"dsync_storage_capacity_bytes",
			"The storage capacity (--storage-capacity)",
			StorageFamily::Capacity,
		),
		("dsync_storage_slots", "Slots kept", StorageFamily::Slots),
	];
	for (name, help, family) in gauges {
		register(SourcedGauge::new(&Opts::new(name, help), source(family))?, registry)?;
	}
	Ok(())
}

/// The probe endpoint's responses by outcome, read at each scrape.
#[derive(Clone)]
struct ProbeSource(Arc<ProbeStats>);

impl MetricSource for ProbeSource {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		for outcome in Outcome::ALL {
			set(&[outcome.label()], self.0.get(outcome));
		}
	}
}

/// Register the probe endpoint's metric (see the module docs) in `registry`.
pub fn register_probe(stats: &Arc<ProbeStats>, registry: &Registry) -> Result<(), PrometheusError> {
	let opts = Opts::new(
		"dsync_probe_responses_total",
		"Responses of the Proof-of-Sync probe endpoint, by outcome",
	)
	.variable_label("outcome");
	register(SourcedCounter::new(&opts, ProbeSource(Arc::clone(stats)))?, registry)?;
	Ok(())
}

/// One family of the off-chain workers' counters, read from the node's persistent off-chain
/// storage at each scrape: `(label value, counter)` pairs, or one counter without a label.
#[derive(Clone)]
struct WorkerSource<S> {
	storage: S,
	counters: Counters,
	labelled: bool,
}

impl<S: OffchainStorage + 'static> MetricSource for WorkerSource<S> {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		for (label, counter) in self.counters {
			let value = self
				.storage
				.get(sp_core::offchain::STORAGE_PREFIX, &counter.key())
				.and_then(|bytes| <u64 as codec::Decode>::decode(&mut &bytes[..]).ok())
				.unwrap_or(0);
			if self.labelled {
				set(&[*label], value);
			} else {
				set(&[], value);
			}
		}
	}
}

/// A family's counters: `(label value, counter)` pairs.
type Counters = &'static [(&'static str, Counter)];

/// `dsync_pos_probes_total` has no label: its one counter.
static POS_PROBES_ONLY: [(&str, Counter); 1] = [("", POS_PROBES)];

/// Register the off-chain workers' metrics (see the module docs) in `registry`, read from
/// `storage`, the node's persistent off-chain storage.
pub fn register_workers<S: OffchainStorage + 'static>(
	storage: S,
	registry: &Registry,
) -> Result<(), PrometheusError> {
	let families: [(&str, &str, Option<&str>, Counters); 6] = [
		(
			"dsync_gpu_jobs_total",
			"GPU jobs through the off-chain worker's stages: seen, input fetched, inferred, commitment and reveal sent",
			Some("stage"),
			&GPU_STAGES,
		),
		(
			"dsync_gpu_failures_total",
			"Failed inferences of the GPU-jobs off-chain worker, by reason",
			Some("reason"),
			&GPU_FAILURES,
		),
		(
			"dsync_gpu_stage_milliseconds_total",
			"Milliseconds the GPU-jobs off-chain worker spent obtaining inputs (fetch) and inferring (infer)",
			Some("stage"),
			&GPU_STAGE_MILLIS,
		),
		(
			"dsync_pos_probes_total",
			"Probe requests made by the Proof-of-Sync off-chain worker",
			None,
			&POS_PROBES_ONLY,
		),
		(
			"dsync_pos_reports_total",
			"Proof-of-Sync report commitments and reveals sent by the off-chain worker",
			Some("phase"),
			&POS_REPORTS,
		),
		(
			"dsync_pos_retrievals_total",
			"Pieces the Proof-of-Sync off-chain worker fetched from storage providers, by result",
			Some("result"),
			&POS_RETRIEVALS,
		),
	];
	for (name, help, label, counters) in families {
		let mut opts = Opts::new(name, help);
		if let Some(label) = label {
			opts = opts.variable_label(label);
		}
		let source = WorkerSource { storage: storage.clone(), counters, labelled: label.is_some() };
		register(SourcedCounter::new(&opts, source)?, registry)?;
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use substrate_prometheus_endpoint::prometheus::{Encoder, TextEncoder};

	fn text(registry: &Registry) -> String {
		let mut out = Vec::new();
		TextEncoder::new().encode(&registry.gather(), &mut out).unwrap();
		String::from_utf8(out).unwrap()
	}

	/// The exposition reads the counters at scrape time: a count made after registration shows.
	#[test]
	fn metrics_follow_the_counters() {
		let registry = Registry::new();
		let dns = Arc::new(DnsStats::default());
		let probe = Arc::new(ProbeStats::default());
		register_dns(&dns, &registry).unwrap();
		register_probe(&probe, &registry).unwrap();
		// Registering twice is refused (the same names), as Prometheus requires.
		assert!(register_probe(&probe, &registry).is_err());

		let before = text(&registry);
		assert!(before.contains("dsync_dns_queries_total 0"), "{before}");
		assert!(before.contains("dsync_probe_responses_total{outcome=\"health\"} 0"), "{before}");

		dns.count_for_tests();
		probe.count(Outcome::RateLimited);
		let after = text(&registry);
		assert!(after.contains("dsync_dns_queries_total 1"), "{after}");
		assert!(after.contains("dsync_dns_responses_total{rcode=\"NXDOMAIN\"} 1"), "{after}");
		assert!(after.contains("dsync_dns_responses_total{rcode=\"NOERROR\"} 0"), "{after}");
		assert!(after.contains("dsync_dns_cache_total{result=\"hit\"} 1"), "{after}");
		assert!(
			after.contains("dsync_probe_responses_total{outcome=\"rate_limited\"} 1"),
			"{after}"
		);
		assert!(after.contains("# TYPE dsync_dns_responses_total counter"), "{after}");
	}

	/// Off-chain storage shared by its clones, as the node's database is.
	#[derive(Clone, Default)]
	struct SharedStorage(Arc<std::sync::Mutex<sp_core::offchain::storage::InMemOffchainStorage>>);

	impl OffchainStorage for SharedStorage {
		fn set(&mut self, prefix: &[u8], key: &[u8], value: &[u8]) {
			self.0.lock().unwrap().set(prefix, key, value)
		}
		fn remove(&mut self, prefix: &[u8], key: &[u8]) {
			self.0.lock().unwrap().remove(prefix, key)
		}
		fn get(&self, prefix: &[u8], key: &[u8]) -> Option<Vec<u8>> {
			self.0.lock().unwrap().get(prefix, key)
		}
		fn compare_and_set(
			&mut self,
			prefix: &[u8],
			key: &[u8],
			old_value: Option<&[u8]>,
			new_value: &[u8],
		) -> bool {
			self.0.lock().unwrap().compare_and_set(prefix, key, old_value, new_value)
		}
	}

	/// The workers' counters are read from off-chain storage at each scrape; missing ones read 0.
	#[test]
	fn worker_metrics_read_the_off_chain_counters() {
		use dsync_primitives::worker_metrics::{
			GPU_FETCH_MILLIS, GPU_INFERRED, POS_COMMITTED, POS_RETRIEVAL_FAILED,
		};
		use sp_core::offchain::STORAGE_PREFIX;
		let registry = Registry::new();
		let mut storage = SharedStorage::default();
		register_workers(storage.clone(), &registry).unwrap();
		let before = text(&registry);
		assert!(before.contains("dsync_gpu_jobs_total{stage=\"inferred\"} 0"), "{before}");
		assert!(before.contains("dsync_pos_probes_total 0"), "{before}");
		assert!(
			before.contains("dsync_gpu_failures_total{reason=\"aivm_unreachable\"} 0"),
			"{before}"
		);

		let put = |storage: &mut SharedStorage, counter: Counter, value: u64| {
			storage.set(STORAGE_PREFIX, &counter.key(), &codec::Encode::encode(&value));
		};
		put(&mut storage, GPU_INFERRED, 3);
		put(&mut storage, GPU_FETCH_MILLIS, 1_250);
		put(&mut storage, POS_PROBES, 7);
		put(&mut storage, POS_COMMITTED, 2);
		put(&mut storage, POS_RETRIEVAL_FAILED, 4);
		let after = text(&registry);
		assert!(after.contains("dsync_gpu_jobs_total{stage=\"inferred\"} 3"), "{after}");
		assert!(after.contains("dsync_gpu_jobs_total{stage=\"seen\"} 0"), "{after}");
		assert!(
			after.contains("dsync_gpu_stage_milliseconds_total{stage=\"fetch\"} 1250"),
			"{after}"
		);
		assert!(after.contains("dsync_pos_probes_total 7"), "{after}");
		assert!(after.contains("dsync_pos_reports_total{phase=\"commit\"} 2"), "{after}");
		assert!(after.contains("dsync_pos_reports_total{phase=\"reveal\"} 0"), "{after}");
		assert!(after.contains("dsync_pos_retrievals_total{result=\"failed\"} 4"), "{after}");
		assert!(after.contains("dsync_pos_retrievals_total{result=\"passed\"} 0"), "{after}");
		// Another value than a u64 reads as 0 rather than failing the scrape.
		storage.set(STORAGE_PREFIX, &POS_PROBES.key(), b"x");
		assert!(text(&registry).contains("dsync_pos_probes_total 0"));
	}
}
