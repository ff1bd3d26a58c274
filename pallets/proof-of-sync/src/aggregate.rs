//! Aggregation of one target's revealed reports: the lower median of each metric, the quality of
//! the aggregate, and the clipping of the reports that deviate from it (the verifiers'
//! reputation, credits and era points).

use crate::{
	BalanceOf, Config, Credits, EpochTotals, Event, Pallet, ProbeReport, ProofOfSyncParams,
	Reputation, Scores,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use sp_runtime::{traits::Saturating, Perbill};

/// The lower medians of the revealed reports of one target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Medians {
	/// Lower median of `available` (as 0/1).
	pub available: bool,
	/// Lower median of `challenge_ok` (as 0/1).
	pub challenge_ok: bool,
	/// Lower median of `latency_ms`.
	pub latency_ms: u32,
	/// Lower median of `sync_lag`.
	pub sync_lag: u32,
}

impl Medians {
	/// The lower medians of `reports` (all zero / false for no report).
	pub fn of<'a>(reports: impl Iterator<Item = &'a ProbeReport> + Clone) -> Self {
		let available = reports.clone().map(|report| u32::from(report.available)).collect();
		let challenge_ok = reports.clone().map(|report| u32::from(report.challenge_ok)).collect();
		let latency_ms = reports.clone().map(|report| report.latency_ms).collect();
		let sync_lag = reports.map(|report| report.sync_lag).collect();
		Self {
			available: lower_median(available) == 1,
			challenge_ok: lower_median(challenge_ok) == 1,
			latency_ms: lower_median(latency_ms),
			sync_lag: lower_median(sync_lag),
		}
	}

	/// Whether `report` deviates from the medians: a different `available` or `challenge_ok`,
	/// or a latency (lag) further than `clip_latency_ms` (`clip_lag`) from the median.
	pub fn deviates<Balance>(
		&self,
		report: &ProbeReport,
		params: &ProofOfSyncParams<Balance>,
	) -> bool {
		report.available != self.available
			|| report.challenge_ok != self.challenge_ok
			|| report.latency_ms.abs_diff(self.latency_ms) > params.clip_latency_ms
			|| report.sync_lag.abs_diff(self.sync_lag) > params.clip_lag
	}

	/// The quality of the aggregated report: zero unless available and the challenge passed,
	/// otherwise the product of the latency and lag factors.
	pub fn quality<Balance>(&self, params: &ProofOfSyncParams<Balance>) -> Perbill {
		if !self.available || !self.challenge_ok {
			return Perbill::zero();
		}
		linear_factor(self.latency_ms, params.target_latency_ms, params.max_latency_ms)
			.saturating_mul(linear_factor(self.sync_lag, params.tolerated_lag, params.max_lag))
	}
}

/// The lower median of `values`: `sorted[(len - 1) / 2]`; 0 for no value.
pub fn lower_median(mut values: Vec<u32>) -> u32 {
	values.sort_unstable();
	values.get(values.len().saturating_sub(1) / 2).copied().unwrap_or_default()
}

/// 100 % for `value <= full_until`, 0 for `value >= zero_from`, and
/// `(zero_from - value) / (zero_from - full_until)` (rounded down) between.
pub fn linear_factor(value: u32, full_until: u32, zero_from: u32) -> Perbill {
	if value <= full_until {
		Perbill::one()
	} else if value >= zero_from {
		Perbill::zero()
	} else {
		Perbill::from_rational(
			zero_from.saturating_sub(value),
			zero_from.saturating_sub(full_until),
		)
	}
}

impl<T: Config> Pallet<T> {
	/// Judge the verifiers of `node` by the `medians` of their `revealed` reports: a deviating
	/// report is clipped (its verifier loses `reputation_penalty`); an honest one earns
	/// `reputation_recovery`, one credit, `verification_points` era points (added to `points`)
	/// and resets its verifier's absence count.
	pub(crate) fn judge_verifiers(
		epoch: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		revealed: &[(T::AccountId, ProbeReport)],
		medians: &Medians,
		totals: &mut EpochTotals<BalanceOf<T>>,
		points: &mut BTreeMap<T::AccountId, u32>,
	) {
		for (verifier, report) in revealed {
			if medians.deviates(report, params) {
				Reputation::<T>::mutate(verifier, |reputation| {
					*reputation = reputation.saturating_sub(params.reputation_penalty)
				});
				Self::deposit_event(Event::VerifierClipped {
					epoch,
					node: node.clone(),
					verifier: verifier.clone(),
				});
			} else {
				Reputation::<T>::mutate(verifier, |reputation| {
					*reputation = reputation.saturating_add(params.reputation_recovery)
				});
				Credits::<T>::mutate(verifier, |credits| credits.saturating_inc());
				totals.total_credits.saturating_inc();
				let entry = points.entry(verifier.clone()).or_default();
				*entry = entry.saturating_add(params.verification_points);
				Scores::<T>::mutate_exists(verifier, |record| {
					if let Some(record) = record {
						record.misses = 0;
					}
				});
			}
		}
	}
}
