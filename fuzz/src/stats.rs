//! Counters of a fuzzing run: calls per pallet (included, succeeded, failed, invalid), blocks,
//! inputs, and each call's worst time against its weight. `DSYNC_FUZZ_STATS=<file>` writes them
//! as JSON every few seconds (and at the end of a replay); `benchmarks/fuzz.md` records them.

use dsync_runtime::RuntimeCall;
use sp_runtime::ApplyExtrinsicResult;
use std::{
	collections::BTreeMap,
	sync::{Mutex, PoisonError},
	time::{Duration, Instant},
};

#[derive(Default)]
struct Counts {
	inputs: u64,
	blocks: u64,
	/// Per pallet: included and succeeded, included and failed, invalid (not included).
	calls: BTreeMap<&'static str, [u64; 3]>,
	/// Per call (`Pallet::call`): the worst time / allowed time, in per mille, and its time.
	worst: BTreeMap<String, (u64, Duration)>,
	/// Calls that took longer than their weight allows (after retiming).
	over_weight: Vec<String>,
	last_write: Option<Instant>,
	/// Time spent per phase of a block (open, finalize, try_state, invariants, commit).
	phases: BTreeMap<&'static str, Duration>,
}

static COUNTS: Mutex<Option<Counts>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Counts) -> R) -> R {
	let mut guard = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
	f(guard.get_or_insert_with(Counts::default))
}

/// The pallet and call names of `call`, looking through `Sudo::sudo` (a `Utility` batch counts
/// as `Utility`).
fn names(call: &RuntimeCall) -> (&'static str, String) {
	let call = match call {
		RuntimeCall::Sudo(pallet_sudo::Call::sudo { call }) => call,
		other => other,
	};
	let metadata = frame_support::traits::GetCallMetadata::get_call_metadata(call);
	(metadata.pallet_name, format!("{}::{}", metadata.pallet_name, metadata.function_name))
}

pub fn input() {
	with(|c| c.inputs += 1);
	maybe_write(false);
}

/// Add `took` to the time spent in `phase`.
pub fn phase(phase: &'static str, took: Duration) {
	with(|c| *c.phases.entry(phase).or_default() += took);
}

pub fn block() {
	with(|c| c.blocks += 1);
}

pub fn applied(call: &RuntimeCall, result: &ApplyExtrinsicResult, took: Duration, limit: Duration) {
	let (pallet, name) = names(call);
	with(|c| {
		let slot = match result {
			Ok(Ok(_)) => 0,
			Ok(Err(_)) => 1,
			Err(_) => 2,
		};
		c.calls.entry(pallet).or_default()[slot] += 1;
		if result.is_ok() && !limit.is_zero() {
			let ratio = (took.as_nanos() * 1000 / limit.as_nanos()) as u64;
			let worst = c.worst.entry(name).or_insert((0, took));
			if ratio > worst.0 {
				*worst = (ratio, took);
			}
		}
	});
}

pub fn over_weight(call: &RuntimeCall, took: Duration, limit: Duration) {
	let (_, name) = names(call);
	let what = format!("{name} took {took:?}, its weight allows {limit:?}");
	with(|c| {
		if c.over_weight.len() < 100 {
			c.over_weight.push(what.clone());
		}
	});
	if crate::time_checks_fail() {
		panic!("over its weight: {what}");
	}
}

/// The counters as JSON.
pub fn json() -> String {
	with(|c| {
		let calls: serde_json::Map<String, serde_json::Value> = c
			.calls
			.iter()
			.map(|(pallet, [ok, failed, invalid])| {
				(
					pallet.to_string(),
					serde_json::json!({ "succeeded": ok, "failed": failed, "invalid": invalid }),
				)
			})
			.collect();
		let worst: serde_json::Map<String, serde_json::Value> = c
			.worst
			.iter()
			.map(|(name, (ratio, took))| {
				(
					name.clone(),
					serde_json::json!({
						"worst_time_per_mille_of_weight": ratio,
						"worst_time_us": took.as_micros() as u64,
					}),
				)
			})
			.collect();
		serde_json::to_string_pretty(&serde_json::json!({
			"inputs": c.inputs,
			"blocks": c.blocks,
			"calls": calls,
			"worst_time_against_weight": worst,
			"over_weight": c.over_weight,
			"block_phases_ms": c.phases.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v.as_millis() as u64))).collect::<serde_json::Map<_, _>>(),
		}))
		.unwrap_or_default()
	})
}

/// Write the counters to `DSYNC_FUZZ_STATS` (every 10 s, or now when `force`).
pub fn maybe_write(force: bool) {
	let Ok(path) = std::env::var("DSYNC_FUZZ_STATS") else { return };
	let due = with(|c| {
		// Every input of a short run (a replay), then every 10 s.
		let due = force
			|| c.inputs <= 1_000
			|| c.last_write.is_none_or(|at| at.elapsed() > Duration::from_secs(10));
		if due {
			c.last_write = Some(Instant::now());
		}
		due
	});
	if due {
		let _ = std::fs::write(path, json());
	}
}
