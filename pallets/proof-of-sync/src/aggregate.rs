//! Aggregation of one target's revealed reports: a strict-majority verdict on each flag, the
//! median of each measurement, the quality of the aggregate (none when a tie decides nothing),
//! and the judgement of each report against it: confirmed (reputation, credits and era points),
//! excused, or clipped (reputation lost).
//!
//! Why a report that saw the target worse than the majority is excused rather than clipped: the
//! target chooses what each verifier sees. It can refuse, garble, delay or serve a stale head to
//! any one verifier and answer the others well, so a lone "down" (or slow, or lagging) report is
//! what an honest verifier reports when the target singles it out. Clipping it would let the
//! target wear down an honest verifier's reputation epoch after epoch at no cost to itself. A
//! report that claims the target was *better* than a strict majority saw it is clipped: that is
//! what a verifier lying for the target reports, and a target that answers only a minority of its
//! verifiers to have them clipped fails its own epoch by the majority (a miss, suspension,
//! slashes).

use crate::{
	BalanceOf, Config, Credits, EpochTotals, Event, Pallet, ProbeReport, ProofOfSyncParams,
	Reputation, Scores,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use sp_runtime::{traits::Saturating, Perbill};

/// Whether `count` of `total` is a strict majority: more than half (`count > total - count`).
pub fn is_strict_majority(count: usize, total: usize) -> bool {
	count > total.saturating_sub(count)
}

/// The verdict of the revealed reports on one flag (`available`, `challenge_ok`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
	/// A strict majority of the reports say yes.
	Yes,
	/// A strict majority of the reports say no.
	No,
	/// As many reports say yes as no (or there is no report): nothing is decided.
	Tie,
}

impl Verdict {
	/// The verdict when `yes` of `total` reports say yes.
	pub fn of(yes: usize, total: usize) -> Self {
		if is_strict_majority(yes, total) {
			Verdict::Yes
		} else if is_strict_majority(total.saturating_sub(yes), total) {
			Verdict::No
		} else {
			Verdict::Tie
		}
	}

	/// Whether a report's `flag` agrees with the verdict (a tie has nothing to disagree with).
	pub fn agrees(self, flag: bool) -> bool {
		match self {
			Verdict::Yes => flag,
			Verdict::No => !flag,
			Verdict::Tie => true,
		}
	}

	/// Whether a report's `flag` is out-voted in the target's favour: it says yes where a strict
	/// majority said no.
	pub fn outvotes_in_favour(self, flag: bool) -> bool {
		flag && self == Verdict::No
	}
}

/// How one revealed report fares against the aggregate of its target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Judgement {
	/// It agrees with everything the aggregate decided (each decided flag, and when the target
	/// was up, each measurement within its clip threshold of the median): its verifier gains
	/// `reputation_recovery`, one credit and `verification_points` era points.
	Confirmed,
	/// Not confirmed, but no strict majority contradicts it in the target's favour: it saw the
	/// target worse than the majority did, its measurements are far from a median no strict
	/// majority backs, or the reports tied. Neither credited nor clipped.
	Excused,
	/// A strict majority of the reports saw the target clearly worse than it claims (available
	/// or passed where they saw it not; faster or less behind by more than `clip_latency_ms` or
	/// `clip_lag`): its verifier loses `reputation_penalty`.
	Clipped,
}

/// The aggregate of the revealed reports of one target: a verdict on each flag by strict
/// majority, and the measurements of the reports that saw the target pass.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Aggregate {
	/// The verdict on `available`, over every revealed report.
	pub available: Verdict,
	/// The verdict on `challenge_ok`, over every revealed report.
	pub challenge_ok: Verdict,
	/// The latencies of the passing reports ([`ProbeReport::passed`]), ascending.
	pub latencies: Vec<u32>,
	/// The lags of the passing reports, ascending.
	pub lags: Vec<u32>,
}

impl Aggregate {
	/// The aggregate of `reports`. A report that did not pass measured nothing (it carries
	/// `max_latency_ms` and `max_lag` in place of measurements), so only passing reports count
	/// toward the medians.
	pub fn of<'a>(reports: impl IntoIterator<Item = &'a ProbeReport>) -> Self {
		let (mut total, mut available, mut challenge_ok) = (0usize, 0usize, 0usize);
		let (mut latencies, mut lags) = (Vec::new(), Vec::new());
		for report in reports {
			total.saturating_inc();
			if report.available {
				available.saturating_inc();
			}
			if report.challenge_ok {
				challenge_ok.saturating_inc();
			}
			if report.passed() {
				latencies.push(report.latency_ms);
				lags.push(report.sync_lag);
			}
		}
		latencies.sort_unstable();
		lags.sort_unstable();
		Self {
			available: Verdict::of(available, total),
			challenge_ok: Verdict::of(challenge_ok, total),
			latencies,
			lags,
		}
	}

	/// The median latency of the passing reports ([`median`]); `None` without one.
	pub fn latency_ms(&self) -> Option<u32> {
		median(&self.latencies)
	}

	/// The median lag of the passing reports ([`median`]); `None` without one.
	pub fn sync_lag(&self) -> Option<u32> {
		median(&self.lags)
	}

	/// Whether the target was up: strict majorities say it was available and passed the
	/// challenge.
	pub fn up(&self) -> bool {
		self.available == Verdict::Yes && self.challenge_ok == Verdict::Yes
	}

	/// Whether the reports decide the epoch: no tie on `available`, nor on `challenge_ok` of an
	/// available target.
	pub fn decides(&self) -> bool {
		!matches!(
			(self.available, self.challenge_ok),
			(Verdict::Tie, _) | (Verdict::Yes, Verdict::Tie)
		)
	}

	/// The quality of the epoch, or `None` when the reports decide nothing ([`Self::decides`]):
	///
	/// - a strict majority saw it unavailable, or available but failing the challenge: zero;
	/// - strict majorities saw it available and passing: the product of the latency and lag
	///   factors of the medians;
	/// - a tie on `available`, or on `challenge_ok` of an available target: `None`, no decision
	///   (the target is neither scored nor rewarded, as without reports).
	pub fn quality<Balance>(&self, params: &ProofOfSyncParams<Balance>) -> Option<Perbill> {
		match (self.available, self.challenge_ok) {
			(Verdict::No, _) | (Verdict::Yes, Verdict::No) => Some(Perbill::zero()),
			(Verdict::Yes, Verdict::Yes) => {
				// Two strict majorities share a report, so a passing report exists; `None`
				// otherwise only for want of a measurement.
				let latency = self.latency_ms()?;
				let lag = self.sync_lag()?;
				Some(
					linear_factor(latency, params.target_latency_ms, params.max_latency_ms)
						.saturating_mul(linear_factor(lag, params.tolerated_lag, params.max_lag)),
				)
			},
			(Verdict::Tie, _) | (Verdict::Yes, Verdict::Tie) => None,
		}
	}

	/// Judge `report` (one of the reports aggregated) against the aggregate:
	///
	/// 1. the reports decided nothing (a tie): [`Judgement::Excused`], nobody is clipped;
	/// 2. it says available (or passed) where a strict majority said not:
	///    [`Judgement::Clipped`];
	/// 3. it says unavailable (or failed) where a strict majority said available (passed):
	///    [`Judgement::Excused`], the target may have refused it alone;
	/// 4. the target was down and the report agrees: [`Judgement::Confirmed`];
	/// 5. the target was up (so the report passed): a strict majority of the passing reports
	///    measured a latency more than `clip_latency_ms` above its latency, or a lag more than
	///    `clip_lag` above its lag: [`Judgement::Clipped`]; both within their thresholds of the
	///    medians: [`Judgement::Confirmed`]; otherwise [`Judgement::Excused`].
	pub fn judge<Balance>(
		&self,
		report: &ProbeReport,
		params: &ProofOfSyncParams<Balance>,
	) -> Judgement {
		if !self.decides() {
			return Judgement::Excused;
		}
		if self.available.outvotes_in_favour(report.available)
			|| self.challenge_ok.outvotes_in_favour(report.challenge_ok)
		{
			return Judgement::Clipped;
		}
		if !self.available.agrees(report.available)
			|| !self.challenge_ok.agrees(report.challenge_ok)
		{
			return Judgement::Excused;
		}
		if !self.up() {
			return Judgement::Confirmed;
		}

		let measured = self.latencies.len();
		let latency_limit = report.latency_ms.saturating_add(params.clip_latency_ms);
		let slower = self.latencies.iter().filter(|latency| **latency > latency_limit).count();
		let lag_limit = report.sync_lag.saturating_add(params.clip_lag);
		let behind = self.lags.iter().filter(|lag| **lag > lag_limit).count();
		if is_strict_majority(slower, measured) || is_strict_majority(behind, measured) {
			return Judgement::Clipped;
		}
		let near = |value: u32, median: Option<u32>, clip: u32| {
			median.is_some_and(|median| value.abs_diff(median) <= clip)
		};
		if near(report.latency_ms, self.latency_ms(), params.clip_latency_ms)
			&& near(report.sync_lag, self.sync_lag(), params.clip_lag)
		{
			Judgement::Confirmed
		} else {
			Judgement::Excused
		}
	}
}

/// The median of the ascending `sorted`: the middle value of an odd count, the mean of the two
/// middle values of an even count (rounded down), `None` for no value.
///
/// With an even count the two middle values share the decision, so one outlier among four
/// reports moves nothing (both middle values are others'), and of two reports neither decides
/// alone (the lower median would let the more favourable of the two decide).
pub fn median(sorted: &[u32]) -> Option<u32> {
	let upper_index = sorted.len() / 2;
	let upper = *sorted.get(upper_index)?;
	if sorted.len() % 2 == 1 {
		return Some(upper);
	}
	let lower = *sorted.get(upper_index.checked_sub(1)?)?;
	Some(lower.saturating_add(upper.saturating_sub(lower) / 2))
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
	/// Judge the verifiers of `node` by the `aggregate` of their `revealed` reports
	/// ([`Aggregate::judge`]): a clipped report costs its verifier `reputation_penalty`
	/// ([`Event::VerifierClipped`]); a confirmed one earns `reputation_recovery`, one credit and
	/// `verification_points` era points (added to `points`); an excused one neither. A report
	/// that is not clipped resets its verifier's absence count: the verifier showed up.
	pub(crate) fn judge_verifiers(
		epoch: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		revealed: &[(T::AccountId, ProbeReport)],
		aggregate: &Aggregate,
		totals: &mut EpochTotals<BalanceOf<T>>,
		points: &mut BTreeMap<T::AccountId, u32>,
	) {
		for (verifier, report) in revealed {
			match aggregate.judge(report, params) {
				Judgement::Clipped => {
					Reputation::<T>::mutate(verifier, |reputation| {
						*reputation = reputation.saturating_sub(params.reputation_penalty)
					});
					Self::deposit_event(Event::VerifierClipped {
						epoch,
						node: node.clone(),
						verifier: verifier.clone(),
					});
				},
				Judgement::Excused => Self::reset_absences(verifier),
				Judgement::Confirmed => {
					Reputation::<T>::mutate(verifier, |reputation| {
						*reputation = reputation.saturating_add(params.reputation_recovery)
					});
					Credits::<T>::mutate(verifier, |credits| credits.saturating_inc());
					totals.total_credits.saturating_inc();
					let entry = points.entry(verifier.clone()).or_default();
					*entry = entry.saturating_add(params.verification_points);
					Self::reset_absences(verifier);
				},
			}
		}
	}

	/// `verifier` revealed a report: its absences in a row start again from zero.
	fn reset_absences(verifier: &T::AccountId) {
		Scores::<T>::mutate_exists(verifier, |record| {
			if let Some(record) = record {
				record.misses = 0;
			}
		});
	}
}
