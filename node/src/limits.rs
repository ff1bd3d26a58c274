//! Per-source limits shared by the node's public endpoints (the DNS server and the Proof-of-Sync
//! probe endpoint): a token bucket per source ([`RateLimiter`]), open connections per source
//! ([`ConnectionLimiter`]), one bucket for a whole endpoint ([`TokenBucket`]) and the bound on
//! connections that have not sent their request yet ([`PendingConnections`]).
//!
//! A *source* ([`source_key`]) is an IPv4 address (IPv4-mapped IPv6 addresses included) or an
//! IPv6 /64: one host commonly holds a whole /64, so counting its addresses one by one would give
//! it 2⁶⁴ budgets.
//!
//! The rate limiter's buckets live in a bounded table of two generations of at most half the
//! bound each. A new source goes into the current generation; when that is full it becomes the
//! old generation (the previous old one is forgotten) and a new current generation starts; a
//! source found in the old generation is carried over to the current one with its bucket. So
//! recently seen sources keep their budgets, the least recently seen are forgotten first, and
//! the table being full never refuses a new source: a forgotten source only gets a fresh burst,
//! which whoever controls that many sources had anyway.
//!
//! [`PendingConnections`] follows the same rule for connections: when as many connections as it
//! holds are still waiting for their request, the oldest is closed to make room for the new one,
//! never the new one refused. Idle connections, however many sources open them, cannot keep out
//! a client that sends its request as soon as it is connected (a verifier): to push that
//! client's connection out before its request arrives, a flood would have to open as many new
//! connections as the bound within that client's round trip.

use std::{
	collections::{HashMap, VecDeque},
	hash::{BuildHasher, Hash},
	net::{IpAddr, Ipv6Addr},
	sync::{Arc, Mutex, PoisonError},
	time::Instant,
};
use tokio::task::AbortHandle;

/// The key a source is limited by: its IPv4 address (IPv4-mapped IPv6 included), or its IPv6
/// /64.
pub fn source_key(ip: IpAddr) -> IpAddr {
	match ip {
		IpAddr::V4(_) => ip,
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => IpAddr::V4(v4),
			None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
		},
	}
}

/// The state of one token bucket; its rate and size are the owner's.
#[derive(Clone, Copy)]
struct Bucket {
	tokens: f64,
	last: Instant,
}

impl Bucket {
	fn full(burst: f64, now: Instant) -> Self {
		Self { tokens: burst, last: now }
	}

	/// Refill `rate` tokens per second since the last request, up to `burst`, then take one if
	/// there is one.
	fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
		let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
		self.tokens = (self.tokens + elapsed * rate).min(burst);
		self.last = now;
		if self.tokens >= 1.0 {
			self.tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// One token bucket for a whole endpoint, whatever the source.
pub struct TokenBucket {
	rate: f64,
	burst: f64,
	bucket: Bucket,
}

impl TokenBucket {
	/// `rate_per_sec` requests per second, with bursts of `burst` (at least 1); it starts full.
	pub fn new(rate_per_sec: u32, burst: u32) -> Self {
		let burst = f64::from(burst.max(1));
		Self { rate: f64::from(rate_per_sec), burst, bucket: Bucket::full(burst, Instant::now()) }
	}

	/// Whether one more request may go now (and take a token if so).
	pub fn take(&mut self) -> bool {
		self.bucket.take(self.rate, self.burst, Instant::now())
	}
}

/// Token buckets per source over a bounded table of two generations (see the module docs).
pub struct RateLimiter {
	rate: f64,
	burst: f64,
	buckets: Mutex<Generations<IpAddr, Bucket>>,
}

/// A table bounded to `2 × generation_len` entries that forgets the least recently seen ones a
/// generation at a time (see the module docs): used for the per-source buckets here and for the
/// DNS server's response-rate-limiting buckets.
pub struct Generations<K, V, S = std::collections::hash_map::RandomState> {
	current: HashMap<K, V, S>,
	previous: HashMap<K, V, S>,
	generation_len: usize,
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> Generations<K, V, S> {
	/// A table of at most `2 × generation_len` entries (at least one a generation).
	pub fn new(generation_len: usize) -> Self {
		Self {
			current: HashMap::default(),
			previous: HashMap::default(),
			generation_len: generation_len.max(1),
		}
	}

	/// The entry of `key`: the current generation's, else the old generation's (carried over),
	/// else `fresh()`. A full current generation becomes the old one first (the previous old one
	/// is forgotten; its table is reused, so no allocation).
	pub fn get_or_insert_with(&mut self, key: K, fresh: impl FnOnce() -> V) -> &mut V {
		if !self.current.contains_key(&key) {
			let carried = self.previous.remove(&key);
			if self.current.len() >= self.generation_len {
				std::mem::swap(&mut self.current, &mut self.previous);
				self.current.clear();
			}
			return self.current.entry(key).or_insert_with(|| carried.unwrap_or_else(fresh));
		}
		self.current.entry(key).or_insert_with(fresh)
	}

	/// Entries held, in both generations.
	#[cfg(test)]
	pub fn len(&self) -> usize {
		self.current.len() + self.previous.len()
	}
}

impl RateLimiter {
	/// `rate_per_sec` requests per second from one source (0 = unlimited), with bursts of
	/// `burst` (at least 1), tracking at most `max_sources` sources.
	pub fn new(rate_per_sec: u32, burst: u32, max_sources: usize) -> Self {
		Self {
			rate: f64::from(rate_per_sec),
			burst: f64::from(burst.max(1)),
			buckets: Mutex::new(Generations::new(max_sources / 2)),
		}
	}

	/// Whether `ip` may send one more request now (and take a token if so).
	pub fn allow(&self, ip: IpAddr) -> bool {
		self.allow_at(ip, Instant::now())
	}

	fn allow_at(&self, ip: IpAddr, now: Instant) -> bool {
		if self.rate <= 0.0 {
			return true;
		}
		let source = source_key(ip);
		let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
		buckets
			.get_or_insert_with(source, || Bucket::full(self.burst, now))
			.take(self.rate, self.burst, now)
	}
}

/// Open connections per source, at most `max_per_source` each. A source's entry goes with its
/// last connection, so the table only holds sources with open connections (as many as the
/// endpoint's own connection bound allows).
pub struct ConnectionLimiter {
	max_per_source: usize,
	counts: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection's place in its source's bound, given back when dropped.
pub struct ConnectionSlot {
	limiter: Arc<ConnectionLimiter>,
	source: IpAddr,
}

impl ConnectionLimiter {
	/// At most `max_per_source` connections open at once from one source.
	pub fn new(max_per_source: usize) -> Self {
		Self { max_per_source, counts: Mutex::new(HashMap::new()) }
	}

	/// A new connection from `ip`: its slot, or `None` when its source already holds
	/// `max_per_source` connections.
	pub fn open(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
		let source = source_key(ip);
		let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
		let count = counts.entry(source).or_insert(0);
		if *count >= self.max_per_source {
			return None;
		}
		*count += 1;
		Some(ConnectionSlot { limiter: Arc::clone(self), source })
	}
}

impl Drop for ConnectionSlot {
	fn drop(&mut self) {
		let mut counts = self.limiter.counts.lock().unwrap_or_else(PoisonError::into_inner);
		if let Some(count) = counts.get_mut(&self.source) {
			*count = count.saturating_sub(1);
			if *count == 0 {
				counts.remove(&self.source);
			}
		}
	}
}

/// Connections that have not sent their request yet, at most `max` at once; when full, the
/// oldest is closed to make room for a new one (see the module docs).
///
/// A connection's task takes its place with [`PendingConnections::admit`] before it is spawned,
/// gives its handle with [`PendingConnections::attach`] after, and gives its place back by
/// dropping the [`PendingSlot`] once its request is read (or when the task ends).
pub struct PendingConnections {
	max: usize,
	queue: Mutex<PendingQueue>,
}

#[derive(Default)]
struct PendingQueue {
	/// The id of the next connection.
	next: u64,
	/// The pending connections, oldest first, with the task serving each once attached.
	entries: VecDeque<(u64, Option<AbortHandle>)>,
}

impl PendingQueue {
	/// Where the connection `id` is: ids only grow from the back, so the queue is sorted and
	/// a lookup is a binary search, not a scan, on every connection of a flood.
	fn position(&self, id: u64) -> Result<usize, usize> {
		self.entries.binary_search_by_key(&id, |(entry, _)| *entry)
	}
}

/// A connection's place among the pending ones, given back when dropped.
pub struct PendingSlot {
	pool: Arc<PendingConnections>,
	id: u64,
}

impl PendingConnections {
	/// At most `max` (at least 1) connections waiting for their request at once.
	pub fn new(max: usize) -> Self {
		Self { max: max.max(1), queue: Mutex::new(PendingQueue::default()) }
	}

	/// A place for a new connection; when every place is taken, the oldest pending connection's
	/// task (if attached yet) is aborted, which closes that connection.
	pub fn admit(self: &Arc<Self>) -> PendingSlot {
		let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
		while queue.entries.len() >= self.max {
			if let Some((_, Some(task))) = queue.entries.pop_front() {
				task.abort();
			}
		}
		let id = queue.next;
		queue.next = queue.next.wrapping_add(1);
		queue.entries.push_back((id, None));
		PendingSlot { pool: Arc::clone(self), id }
	}

	/// The task serving the connection of `slot`, aborted if the connection is the oldest
	/// pending one when room is needed. Nothing when the slot was given back already.
	pub fn attach(&self, slot: u64, task: AbortHandle) {
		let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
		if let Ok(index) = queue.position(slot) {
			if let Some(entry) = queue.entries.get_mut(index) {
				entry.1 = Some(task);
			}
		}
	}
}

impl PendingSlot {
	/// The id to [`PendingConnections::attach`] the connection's task with.
	pub fn id(&self) -> u64 {
		self.id
	}
}

impl Drop for PendingSlot {
	fn drop(&mut self) {
		let mut queue = self.pool.queue.lock().unwrap_or_else(PoisonError::into_inner);
		if let Ok(index) = queue.position(self.id) {
			queue.entries.remove(index);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{net::Ipv4Addr, time::Duration};

	fn ip(last: u8) -> IpAddr {
		IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
	}

	fn v6(high: u16, low: u16) -> IpAddr {
		IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, high, 0, 0, 0, low))
	}

	#[test]
	fn ipv6_sources_are_grouped_by_64() {
		assert_eq!(source_key(v6(1, 1)), source_key(v6(1, 0xffff)));
		assert_ne!(source_key(v6(1, 1)), source_key(v6(2, 1)));
		assert_eq!(source_key(v6(1, 7)), v6(1, 0));
		let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
		assert_eq!(source_key(mapped), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
		assert_eq!(source_key(ip(1)), ip(1));

		// One /64 shares one bucket; another /64 has its own.
		let limiter = RateLimiter::new(1, 2, 16);
		let now = Instant::now();
		assert!(limiter.allow_at(v6(1, 1), now));
		assert!(limiter.allow_at(v6(1, 2), now));
		assert!(!limiter.allow_at(v6(1, 3), now));
		assert!(limiter.allow_at(v6(2, 1), now));
	}

	#[test]
	fn a_burst_is_followed_by_refusals_then_refills() {
		let limiter = RateLimiter::new(4, 2, 16);
		let start = Instant::now();
		assert!(limiter.allow_at(ip(1), start));
		assert!(limiter.allow_at(ip(1), start));
		assert!(!limiter.allow_at(ip(1), start));
		// Half a token after 125 ms, one after 250 ms.
		assert!(!limiter.allow_at(ip(1), start + Duration::from_millis(125)));
		assert!(limiter.allow_at(ip(1), start + Duration::from_millis(250)));
		assert!(!limiter.allow_at(ip(1), start + Duration::from_millis(250)));
		// A long pause refills the bucket to the burst, not beyond.
		let later = start + Duration::from_secs(10);
		assert!(limiter.allow_at(ip(1), later));
		assert!(limiter.allow_at(ip(1), later));
		assert!(!limiter.allow_at(ip(1), later));
	}

	#[test]
	fn a_full_table_still_admits_new_sources() {
		let limiter = RateLimiter::new(1, 1, 4);
		let now = Instant::now();
		for high in 0..=255u8 {
			for low in [1, 2] {
				let source = IpAddr::V4(Ipv4Addr::new(10, 1, high, low));
				assert!(limiter.allow_at(source, now), "a new source is admitted");
				assert!(!limiter.allow_at(source, now), "and has its own bucket");
			}
		}
		let buckets = limiter.buckets.lock().unwrap();
		assert!(buckets.len() <= 4);
	}

	#[test]
	fn eviction_keeps_recently_seen_sources() {
		let limiter = RateLimiter::new(1, 1, 4);
		let now = Instant::now();
		let (recent, idle) = (ip(1), ip(2));
		assert!(limiter.allow_at(recent, now));
		assert!(limiter.allow_at(idle, now));
		for last in 10..20 {
			assert!(limiter.allow_at(ip(last), now), "a new source is admitted");
			assert!(!limiter.allow_at(recent, now), "a recently seen source keeps its bucket");
		}
		assert!(limiter.allow_at(idle, now), "the idle source was forgotten: a new bucket");
	}

	#[test]
	fn the_rate_limiter_is_bounded() {
		let limiter = RateLimiter::new(1, 1, 4);
		let ip = |last: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, last));
		assert!(limiter.allow(ip(1)));
		assert!(!limiter.allow(ip(1)));
		for last in 2..=10 {
			assert!(limiter.allow(ip(last)));
		}
		let buckets = limiter.buckets.lock().unwrap();
		assert!(buckets.len() <= 4);
		drop(buckets);
		// One IPv6 /64 is one source.
		let v6 = |low: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, low));
		assert!(limiter.allow(v6(1)));
		assert!(!limiter.allow(v6(2)));
		assert!(RateLimiter::new(0, 0, 4).allow(ip(1)));
	}

	#[test]
	fn a_whole_endpoint_bucket_refuses_beyond_its_burst() {
		let mut bucket = TokenBucket::new(1, 3);
		assert!((0..3).all(|_| bucket.take()));
		assert!(!bucket.take());
	}

	#[test]
	fn connections_are_bounded_per_source_and_given_back() {
		let limiter = Arc::new(ConnectionLimiter::new(2));
		let first = limiter.open(v6(1, 1)).expect("a first connection");
		let _second = limiter.open(v6(1, 2)).expect("a second one from the same /64");
		assert!(limiter.open(v6(1, 3)).is_none(), "a third one from the same /64");
		assert!(limiter.open(v6(2, 1)).is_some(), "another /64 has its own bound");
		drop(first);
		assert!(limiter.open(v6(1, 3)).is_some(), "a closed connection gives its slot back");
		assert!(limiter.counts.lock().unwrap().get(&source_key(v6(2, 1))).is_none());
	}

	#[test]
	fn the_oldest_pending_connection_makes_room_for_a_new_one() {
		let pending = |pool: &PendingConnections| pool.queue.lock().unwrap().entries.len();
		let runtime = tokio::runtime::Runtime::new().unwrap();
		runtime.block_on(async {
			let pool = Arc::new(PendingConnections::new(2));
			let connect = || {
				let slot = pool.admit();
				let id = slot.id();
				let task = tokio::spawn(async move {
					let _slot = slot;
					std::future::pending::<()>().await
				});
				pool.attach(id, task.abort_handle());
				task
			};
			let (first, second) = (connect(), connect());
			assert_eq!(pending(&pool), 2);
			let third = connect();
			assert_eq!(pending(&pool), 2);
			assert!(first.await.unwrap_err().is_cancelled(), "the oldest was closed");
			assert!(!second.is_finished() && !third.is_finished());

			// A task that ends gives its place back: the next connection closes no one.
			second.abort();
			assert!(second.await.unwrap_err().is_cancelled());
			assert_eq!(pending(&pool), 1);
			let slot = pool.admit();
			assert_eq!(pending(&pool), 2);
			assert!(!third.is_finished(), "there was room: nobody was closed");
			// So does a connection whose request was read (its slot dropped).
			drop(slot);
			assert_eq!(pending(&pool), 1);
			third.abort();
		});
	}
}
