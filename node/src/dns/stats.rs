//! The DNS server's counters, shared by all its tasks, and the loop that logs them for operators.

use super::LOG_TARGET;
use std::{
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};

/// Counters of a running server, shared by all its tasks.
#[derive(Debug, Default)]
pub struct DnsStats {
	pub(super) queries: AtomicU64,
	pub(super) answered: AtomicU64,
	pub(super) nxdomain: AtomicU64,
	pub(super) refused: AtomicU64,
	pub(super) rate_limited: AtomicU64,
	pub(super) truncated: AtomicU64,
	pub(super) formerr: AtomicU64,
	pub(super) servfail: AtomicU64,
	pub(super) notimp: AtomicU64,
	pub(super) dropped: AtomicU64,
	pub(super) cache_hits: AtomicU64,
	pub(super) cache_misses: AtomicU64,
	pub(super) rrl_dropped: AtomicU64,
	pub(super) rrl_slipped: AtomicU64,
}

/// The counters of [`DnsStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsStatsSnapshot {
	/// Messages received (UDP datagrams and TCP messages), rate-limited ones included.
	pub queries: u64,
	/// Responses made, whatever their response code; over UDP, response rate limiting may then
	/// drop one (`rrl_dropped`) or send it truncated (`rrl_slipped`).
	pub answered: u64,
	/// `NXDOMAIN` responses.
	pub nxdomain: u64,
	/// `REFUSED` responses (names outside `dsync.`, other classes, zone transfers); TCP queries
	/// refused for the rate limit are counted in `rate_limited` only.
	pub refused: u64,
	/// Queries over a source's rate limit (dropped over UDP, `REFUSED` over TCP).
	pub rate_limited: u64,
	/// UDP responses sent truncated (`TC`) for their size.
	pub truncated: u64,
	/// `FORMERR` responses.
	pub formerr: u64,
	/// `SERVFAIL` responses (failed state reads).
	pub servfail: u64,
	/// `NOTIMP` responses (opcodes other than `QUERY`).
	pub notimp: u64,
	/// Messages dropped without a response: unreadable headers, responses, UDP queries beyond
	/// [`super::MAX_PENDING_LOOKUPS`].
	pub dropped: u64,
	/// Name queries answered from the cache.
	pub cache_hits: u64,
	/// Name queries that read state.
	pub cache_misses: u64,
	/// UDP responses not sent: over the response rate limit of their client network and kind
	/// (see [`super::DnsConfig::rrl_responses_per_sec`]).
	pub rrl_dropped: u64,
	/// UDP responses over that limit sent as a minimal truncated response instead (question
	/// only, `TC`), every [`super::DnsConfig::rrl_slip`]-th one.
	pub rrl_slipped: u64,
}

impl DnsStats {
	/// The counters now.
	pub fn snapshot(&self) -> DnsStatsSnapshot {
		let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
		DnsStatsSnapshot {
			queries: load(&self.queries),
			answered: load(&self.answered),
			nxdomain: load(&self.nxdomain),
			refused: load(&self.refused),
			rate_limited: load(&self.rate_limited),
			truncated: load(&self.truncated),
			formerr: load(&self.formerr),
			servfail: load(&self.servfail),
			notimp: load(&self.notimp),
			dropped: load(&self.dropped),
			cache_hits: load(&self.cache_hits),
			cache_misses: load(&self.cache_misses),
			rrl_dropped: load(&self.rrl_dropped),
			rrl_slipped: load(&self.rrl_slipped),
		}
	}
}

#[cfg(test)]
impl DnsStats {
	/// Count one query answered `NXDOMAIN` from the cache (for the metrics' tests).
	pub(crate) fn count_for_tests(&self) {
		for counter in [&self.queries, &self.answered, &self.nxdomain, &self.cache_hits] {
			bump(counter);
		}
	}
}

/// Add one to `counter`.
pub(super) fn bump(counter: &AtomicU64) {
	counter.fetch_add(1, Ordering::Relaxed);
}

/// Log the counters of a running server every `period`, from the end of the first period on.
pub async fn log_stats(stats: Arc<DnsStats>, period: Duration) {
	let mut every = tokio::time::interval(period);
	every.tick().await;
	loop {
		every.tick().await;
		log::info!(target: LOG_TARGET, "DNS counters: {:?}", stats.snapshot());
	}
}
