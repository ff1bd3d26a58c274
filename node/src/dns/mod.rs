//! Authoritative DNS for the chain's top-level domain `dsync.`, over UDP and TCP.
//!
//! The server answers from finalised chain state only, through a [`ZoneSource`] (the node's
//! implementation, [`ChainZone`], reads the naming pallet at finalised blocks through a runtime
//! API and the state, and records the storage changes of new blocks). Every answer is of one
//! finalised block, the zone index's, which follows the latest one (see "Caches and the zone
//! index" below):
//!
//! - **Apex** `dsync.`: `SOA` (serial = the number of the block answers are of, `MNAME` =
//!   [`DnsConfig::ns_host`], `RNAME` = [`DnsConfig::soa_email`], `MINIMUM` =
//!   [`DnsConfig::negative_ttl`]) and `NS` ([`DnsConfig::ns_host`]); any other type is `NOERROR`
//!   without answers and with the `SOA` in the authority section (NODATA).
//! - **Names** under `dsync.`: the name's `A`, `AAAA`, `TXT`, `MX`, `SRV`, `NS` and `CNAME`
//!   records, with the name's time to live. A name that has a `CNAME` answers it for every other
//!   type, followed through the zone as authoritative servers do: the target's records of the
//!   type (or its own `CNAME`, up to 8; loops end; a target outside the zone is left to the
//!   resolver; a missing target makes the answer `NXDOMAIN`, RFC 6604). `MX`, `SRV` and `NS`
//!   answers carry the `A`/`AAAA` records of their targets in the zone in the additional section
//!   (dropped first, without `TC`, when the answer would not fit). Names followed that are not in
//!   the cache are read from state like the asked one (at most 8 more reads per answer). A name that does not exist (or has expired) is `NXDOMAIN`, a
//!   name without a record of the asked type is NODATA; both carry the `SOA` (negative caching, RFC
//!   2308). Names are matched without regard to ASCII case; a label that cannot exist under the
//!   naming rules (upper/lower case aside) is `NXDOMAIN` without reading state. `NS` records of a
//!   subname are answered as data: there are no referrals below a delegated subname.
//! - **`ANY`** queries are answered as RFC 8482 recommends: one RRset of the name (its CNAME,
//!   else the records of its first record's type; the `SOA` at the apex), NODATA for a name
//!   without records and `NXDOMAIN` for one that does not exist, never the whole name (no
//!   amplification); zone transfers (`AXFR`, `IXFR`) get `REFUSED`.
//!
//! Flags: `AA` on every answer from the zone (`NOERROR`, NODATA, `NXDOMAIN`), `RD` copied from the
//! query, `RA` never set. EDNS(0): a query with an `OPT` record gets one back, advertising
//! [`DnsConfig::max_udp_payload`]; a UDP answer may be as large as the client advertises, capped at
//! that value (512 bytes without EDNS). A larger answer is sent with `TC` and without records, so
//! the client retries over TCP, where answers are not truncated. A query with EDNS version above 0
//! gets `BADVERS`.
//!
//! Security properties:
//!
//! - **Authoritative only**: a query for a name outside `dsync.` (or of a class other than `IN`)
//!   gets `REFUSED`; the server never recurses nor forwards, so it cannot serve as an open
//!   resolver. Responses (`QR` set) are never answered, which rules out loops between servers.
//! - **Strict parsing**: exactly one question and opcode `QUERY` (else `FORMERR` / `NOTIMP`); a
//!   packet that does not parse gets `FORMERR` when its 12-byte header could be read and is dropped
//!   otherwise. Queries larger than [`MAX_QUERY_LEN`] are not read.
//! - **Rate-limited queries**: a token bucket per source address
//!   ([`DnsConfig::rate_limit_per_sec`], [`DnsConfig::burst`]; IPv6 sources by /64) over a table
//!   of at most [`MAX_TRACKED_SOURCES`] sources (least recently seen forgotten first, a new source
//!   never refused; see [`crate::limits`]). Beyond it UDP queries are dropped silently and TCP
//!   queries get `REFUSED`. Spoofed UDP sources each get their own bucket: this bounds what one
//!   real client costs, not what is reflected onto a spoofed one, hence:
//! - **Response rate limiting (RRL) over UDP**, as BIND and NSD do it (TCP cannot be spoofed and
//!   is not limited by it): every UDP response is accounted to the client's network (IPv4
//!   /[`RRL_IPV4_PREFIX_LEN`], IPv6 /[`RRL_IPV6_PREFIX_LEN`]) and a key: an answer (`NOERROR`
//!   with records, or truncated for size) by query name (ASCII case aside), class and type;
//!   NODATA by query name and class; every `NXDOMAIN` by the zone (one key per network, as BIND's
//!   `nxdomains-per-second`); every error (`REFUSED`, `FORMERR`, `NOTIMP`, `SERVFAIL`) one key per
//!   network. Each key allows [`DnsConfig::rrl_responses_per_sec`] responses a second, with
//!   bursts of as many; beyond it a response is dropped, except every [`DnsConfig::rrl_slip`]-th,
//!   sent as its header with `TC` set and its question only (no record, no `OPT`): never larger
//!   than the query, so a real client on a spoofed network retries over TCP. A flood spoofing a
//!   victim thus reflects at most the rate in full answers per key, the rest no larger than the
//!   queries. The keys live in a table of at most [`MAX_RRL_ENTRIES`] (least recently seen
//!   forgotten first, a forgotten key starting again with a full burst). Counted in the stats
//!   (`rrl_dropped`, `rrl_slipped`); 0 responses a second turns it off.
//! - **Fair TCP slots**: at most [`MAX_TCP_CONNECTIONS`] connections at once, at most
//!   [`MAX_TCP_CONNECTIONS_PER_SOURCE`] per source (IPv4 address or IPv6 /64). When every slot is
//!   taken, a new connection from a source holding fewer connections than the source holding the
//!   most closes that source's oldest connection and takes its slot; one from a source holding as
//!   many as the most is closed. Sources holding every slot, however many, cannot keep another
//!   source out. A connection is closed after [`TCP_IDLE_TIMEOUT`] without a complete query.
//! - **Finalised state only**: answers never depend on unfinalised blocks, so they cannot be rolled
//!   back by a fork.
//!
//! Caches and the zone index (`index::ZoneIndex`):
//!
//! - The **name set** holds the ids ([`dsync_primitives::naming::namehash`]) of every name stored
//!   in the naming pallet's `Names` map at the index's block, expired and stale ones included: a
//!   32-byte id in a hash set, about 40 to 75 bytes per name (under 75 MB for a million names;
//!   twice that while a new scan replaces the set). A query for a name whose id is not in it is `NXDOMAIN` at once, without reading state (and
//!   counted as a cache hit). It is built by a scan of the names ([`ZoneSource::name_ids`]), then
//!   kept up to date from the changes of each new finalised block ([`ZoneSource::changes`]).
//! - The **records cache** keeps what was read of names ([`ZoneSource::lookup`], at the index's
//!   block): the records decoded for DNS, or the name's absence (expired, stale subname), with the
//!   ids of the name and its ancestors. An entry holds across blocks until (a) a `Names`,
//!   `Records` or `Generations` entry of one of those ids changes (a parent released or
//!   re-registered makes its subnames stale), (b) for a name that resolves, the index's block
//!   passes the end of its registration's paid period ([`LiveName::expires`]), or (c) any other
//!   naming key (parameters, reserved labels, ...; not the registration commitments nor the
//!   primary names, which no answer reads) or the runtime code changes, which empties the cache;
//!   then the name is read again. A read is kept only if the index is still at the block
//!   it was made at when it ends. Failed reads (`SERVFAIL`) are not kept. At most
//!   [`DnsConfig::cache_entries`] entries (0 = none); a full cache is emptied. At most
//!   [`MAX_PENDING_LOOKUPS`] UDP queries wait for a state read at once; beyond it, UDP queries
//!   needing one are dropped.
//! - The **response cache** (`cache::BlockCache`) keeps whole UDP responses keyed by the query's
//!   bytes after its id: a repeated query is answered by copying the stored response and setting
//!   the query's id, without parsing or encoding. Only `NOERROR` answers from the zone to
//!   queries of at most 512 bytes are stored (`NXDOMAIN` is cheap from the name set, and a flood
//!   of random names would only churn the store). What a response depends on is all in
//!   the key (flags, question, EDNS record) and the block. It holds the entries of one block, at
//!   most [`DnsConfig::cache_entries`] of them: an entry is only read at the block it was stored
//!   at; storing at a newer block drops every entry of the older one; storing at an older block
//!   than the cache's is ignored, so a task that read the block just before it moved never takes
//!   the cache back; a full cache is emptied. Refilling it after a block reads no state for names
//!   that are not in the set or are in the records cache.
//!
//! Updates: when a query finds the latest finalised block past the index's, one update starts on
//! the blocking pool (never two at once). It applies the changes of the blocks in between (ids
//! added to or removed from the set, records entries of changed ids dropped, or the records cache
//! emptied for another naming change) or, when those are unknown, scans the names again and
//! empties the records cache; then it moves the index to the new block, holding the index's lock
//! only while it applies. Queries meanwhile answer from the index at its block: none waits for an
//! update. Before the first scan ends (it starts when the server is bound), and after a failed
//! scan (tried again at most once a second), there is no name set: names not in the records
//! cache are read from state at the latest finalised block, and the records cache holds the
//! reads of one block at a time, as the response cache does.
//!
//! Concurrency: a few UDP workers (one per core, 2 to 8), each a thread of the blocking pool,
//! share the socket, each looping blocking receive / answer / send (no async runtime on the hot
//! path; on Linux in batches, one `recvmmsg` for every queued query and one `sendmmsg` for their
//! answers, `mmsg`). Answers from memory are produced inline; a query whose name must be read is
//! handed to its own task, which reads state on the blocking pool and sends the answer, so a slow
//! read never holds a worker. Each TCP connection is a task answering its queries in order.
//! Dropping the [`DnsServer::serve`] future stops every task, and the UDP workers within 100 ms
//! (they look at a stop flag between queries and at least that often; an update in progress ends
//! on its own).
//!
//! Layout: `engine` answers a message (parsing, the apex, names, EDNS, truncation), `index` holds
//! the name set and the records cache and updates them, `records` decodes records, `cache` holds
//! the response cache, `transport` runs the UDP workers and the TCP connections, `rrl` limits UDP
//! responses, `tcp_slots` shares the TCP slots, `stats` counts, `chain` reads the zone from the
//! client.

mod cache;
mod chain;
mod engine;
mod index;
#[cfg(target_os = "linux")]
mod mmsg;
mod records;
mod rrl;
mod stats;
mod tcp_slots;
#[cfg(test)]
mod tests;
mod transport;

pub use chain::ChainZone;
pub use stats::{log_stats, DnsStats};

use dsync_primitives::naming::NameRecords;
use engine::Engine;
use rrl::ResponseRateLimiter;
use std::{
	collections::HashSet,
	io,
	net::{IpAddr, Ipv4Addr, SocketAddr},
	sync::{atomic::AtomicBool, Arc},
	time::Duration,
};
use tokio::{
	net::{TcpListener, UdpSocket},
	task::JoinSet,
};

/// Largest query read, over UDP or TCP, in bytes.
pub const MAX_QUERY_LEN: usize = 4096;
/// TCP connections served at once; further ones are closed when accepted.
pub const MAX_TCP_CONNECTIONS: usize = 256;
/// TCP connections one source (IPv4 address or IPv6 /64) may hold open at once.
pub const MAX_TCP_CONNECTIONS_PER_SOURCE: usize = 16;
/// Time a TCP client has to send its next query (or to read an answer) before it is closed.
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// UDP queries waiting for a state read at once; further uncached UDP queries are dropped.
pub const MAX_PENDING_LOOKUPS: usize = 4096;
/// Sources whose rate-limit buckets are tracked at once.
pub const MAX_TRACKED_SOURCES: usize = 65_536;
/// Response rate limiting keys (client network and response kind) tracked at once.
pub const MAX_RRL_ENTRIES: usize = 65_536;
/// Prefix length of the IPv4 client networks UDP responses are rate-limited by (BIND's and NSD's
/// default).
pub const RRL_IPV4_PREFIX_LEN: u32 = 24;
/// Prefix length of the IPv6 client networks UDP responses are rate-limited by (BIND's default;
/// a site commonly gets a /56 or a /48).
pub const RRL_IPV6_PREFIX_LEN: u32 = 56;

const LOG_TARGET: &str = "dsync-dns";
/// Receive buffer asked for the UDP socket, in bytes (the kernel caps it at
/// `net.core.rmem_max`; raise that sysctl on a busy server).
const UDP_RECEIVE_BUFFER: usize = 8 << 20;
/// How often the server looks for a newly finalised block to move its zone index to: answers
/// trail finality by about this much plus the update's time.
const INDEX_POLL: Duration = Duration::from_millis(20);
/// Largest UDP answer to a query without EDNS (RFC 1035).
const PLAIN_UDP_PAYLOAD: usize = 512;
/// Default [`DnsConfig::max_udp_payload`]: the DNS flag day 2020 value, safe from fragmentation.
const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;

/// Settings of the DNS server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
	/// Address to serve on, UDP and TCP (default `0.0.0.0:53`). With port 0, TCP takes the port
	/// UDP was given when it is free.
	pub listen: SocketAddr,
	/// Queries per second from one source (IPv4 address or IPv6 /64); 0 = unlimited
	/// (default 200).
	pub rate_limit_per_sec: u32,
	/// Queries one source may send at once before the rate applies (default 400; at least 1).
	pub burst: u32,
	/// Response rate limiting: UDP responses a second to one client network (IPv4 /24, IPv6
	/// /56) for one key (the same answer, NODATA for the same name, any `NXDOMAIN`, any error;
	/// see the module docs), with bursts of as many; beyond it responses are dropped or slip
	/// ([`DnsConfig::rrl_slip`]). 0 = off (default 20: a caching resolver asks one name and type
	/// once per time to live, so 20 a second from one network is already generous, while a
	/// spoofed flood reflects at most 20 full answers a second per key onto its victim; between
	/// the 5 of BIND's documented example and NSD's default of 200).
	pub rrl_responses_per_sec: u32,
	/// Of the UDP responses over the rate, every how many is sent as a minimal truncated response
	/// (`TC`, question only, never larger than the query) so that a real client on the limited
	/// network retries over TCP; the others are dropped. 0 = drop them all, 1 = truncate them all
	/// (default 2, as BIND and NSD).
	pub rrl_slip: u32,
	/// Entries of each cache: names' records (kept across finalised blocks until a change) and
	/// UDP responses (for the current finalised block); default 65,536; 0 = no cache.
	pub cache_entries: usize,
	/// Largest UDP answer, whatever the client advertises over EDNS (default 1232; at least 512).
	pub max_udp_payload: u16,
	/// The name server advertised at the apex, `NS` and `SOA` `MNAME` (default `ns1.dsync.`).
	pub ns_host: String,
	/// The zone's contact, `SOA` `RNAME`, as a domain name (default `hostmaster.dsync.`; a
	/// `user@host` form is accepted and converted).
	pub soa_email: String,
	/// Time to live of negative answers (`NXDOMAIN`, NODATA): `SOA` `MINIMUM` and the `SOA`'s
	/// own time to live, in seconds (default 60).
	pub negative_ttl: u32,
	/// UDP worker threads sharing the socket; 0 = one per core (at most 8). On a machine whose
	/// cores are also the chain's, fewer workers leave more for everything else.
	pub udp_workers: usize,
	/// The addresses of website gateways: a name with a content hash and no A (AAAA) records is
	/// answered with the IPv4 (IPv6) ones (default none).
	pub website_addrs: Vec<IpAddr>,
}

impl Default for DnsConfig {
	fn default() -> Self {
		Self {
			listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 53)),
			rate_limit_per_sec: 200,
			burst: 400,
			rrl_responses_per_sec: 20,
			rrl_slip: 2,
			cache_entries: 65_536,
			max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
			ns_host: "ns1.dsync.".into(),
			soa_email: "hostmaster.dsync.".into(),
			negative_ttl: 60,
			udp_workers: 0,
			website_addrs: Vec::new(),
		}
	}
}

/// Where the zone's data comes from: finalised chain state in the node ([`ChainZone`]), blocks of
/// names in memory in tests. Blocks are `(hash bytes, number)`. Every method but
/// [`ZoneSource::finalized`] may block (the server calls them on the blocking pool).
pub trait ZoneSource: Send + Sync + 'static {
	/// The latest finalised block.
	fn finalized(&self) -> ([u8; 32], u32);
	/// The live records of `name` (lower-case, e.g. "alice.dsync" or "www.alice.dsync", no
	/// trailing dot) at finalised block `at`: `Ok(None)` when the name does not exist, has expired
	/// or is a stale subname (NXDOMAIN), `Ok(Some(live))` otherwise (possibly with no record of
	/// the asked type -> NOERROR/NODATA), `Err(())` on an internal failure (SERVFAIL).
	#[allow(clippy::result_unit_err)]
	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<LiveName>, ()>;
	/// The naming storage changes of the blocks after `from` up to `to` (a later finalised block,
	/// on the same chain): [`Changes::Known`] when every one of them is known,
	/// [`Changes::Unknown`] otherwise (the default).
	fn changes(&self, _from: ([u8; 32], u32), _to: ([u8; 32], u32)) -> Changes {
		Changes::Unknown
	}
	/// The ids ([`dsync_primitives::naming::namehash`]) of every name stored at block `at`,
	/// expired and stale ones included; `Err(())` when they cannot all be read. The default is
	/// `Err(())`: without a name set, every name is read from state.
	#[allow(clippy::result_unit_err)]
	fn name_ids(&self, _at: [u8; 32]) -> Result<HashSet<[u8; 32]>, ()> {
		Err(())
	}
}

/// A name that resolves, as [`ZoneSource::lookup`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveName {
	/// Its records, with their time to live.
	pub records: NameRecords,
	/// The last block it resolves in without a storage change: the last paid block of its
	/// registration (a subname's is its top-level ancestor's). Below the block read at (e.g. 0):
	/// unknown, the answer is then not kept.
	pub expires: u32,
}

/// The naming storage changes between two finalised blocks ([`ZoneSource::changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
	/// Every block on the way is known: their changes, oldest first (a key changed in several
	/// blocks appears once per block).
	Known(Vec<NameChange>),
	/// Some block on the way is not known: the names must be scanned again.
	Unknown,
}

/// A change of naming storage that can change an answer. The pallet's maps by name id (`Names`,
/// `Records`, `Generations`) decide a name's answer, its ancestors' entries included (a subname
/// of a released or re-registered parent is stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameChange {
	/// The `Names` entry of a name id was written (`exists`) or removed.
	Name {
		/// The name's id.
		id: [u8; 32],
		/// Whether the entry is there after the change.
		exists: bool,
	},
	/// Another entry keyed by a name id (`Records`, `Generations`) was written or removed.
	Data {
		/// The name's id.
		id: [u8; 32],
	},
	/// Any other key that can change an answer (the parameters, the reserved labels, the
	/// pallet's storage version, keys it may gain) or the runtime code.
	Other,
}

/// A bound server, not serving yet: see [`DnsServer::serve`].
pub struct DnsServer {
	engine: Arc<Engine>,
	rrl: Arc<ResponseRateLimiter>,
	udp: UdpSocket,
	tcp: TcpListener,
	udp_addr: SocketAddr,
	tcp_addr: SocketAddr,
	/// [`DnsConfig::udp_workers`].
	udp_workers: usize,
}

impl DnsServer {
	/// The address the UDP socket is bound to.
	pub fn udp_addr(&self) -> SocketAddr {
		self.udp_addr
	}

	/// The address the TCP listener is bound to.
	pub fn tcp_addr(&self) -> SocketAddr {
		self.tcp_addr
	}

	/// The server's counters; they stay readable after [`DnsServer::serve`] took the server.
	pub fn stats(&self) -> Arc<DnsStats> {
		Arc::clone(&self.engine.stats)
	}

	/// Serve UDP and TCP until the future is dropped (which stops every task of the server).
	/// It only returns if a task of the server panicked.
	pub async fn serve(self) -> io::Result<()> {
		let Self { engine, rrl, udp, tcp, udp_addr, tcp_addr, udp_workers } = self;
		log::info!(
			target: LOG_TARGET,
			"Authoritative DNS for `dsync.` listening on udp/{udp_addr} and tcp/{tcp_addr}",
		);
		// The UDP workers block on the socket in threads of their own; they stop when this
		// future is dropped (the guard sets the flag they look at between queries).
		let udp = udp.into_std()?;
		udp.set_nonblocking(false)?;
		udp.set_read_timeout(Some(transport::UDP_STOP_POLL))?;
		let udp = Arc::new(udp);
		let stop = Arc::new(AtomicBool::new(false));
		let _stop_workers = StopOnDrop(Arc::clone(&stop));
		let runtime = tokio::runtime::Handle::current();
		let mut tasks: JoinSet<()> = JoinSet::new();
		for _ in 0..transport::udp_worker_count(udp_workers) {
			let (engine, udp, rrl) = (Arc::clone(&engine), Arc::clone(&udp), Arc::clone(&rrl));
			let (runtime, stop) = (runtime.clone(), Arc::clone(&stop));
			tasks.spawn_blocking(move || transport::udp_worker(engine, udp, rrl, runtime, stop));
		}
		// Follow finality: move the zone index to each newly finalised block.
		let follower = Arc::clone(&engine);
		tasks.spawn(async move {
			let mut ticks = tokio::time::interval(INDEX_POLL);
			ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
			loop {
				ticks.tick().await;
				follower.source.follow();
			}
		});
		tasks.spawn(transport::tcp_accept_loop(engine, tcp));
		while let Some(finished) = tasks.join_next().await {
			if let Err(error) = finished {
				log::error!(target: LOG_TARGET, "DNS server task failed: {error}");
				return Err(io::Error::other(format!("DNS server task failed: {error}")));
			}
		}
		Ok(())
	}
}

/// Sets the flag the UDP worker threads stop at when [`DnsServer::serve`] ends or is dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
	fn drop(&mut self) {
		self.0.store(true, std::sync::atomic::Ordering::Relaxed);
	}
}

/// Bind UDP and TCP on `config.listen` without serving yet; tests bind port 0 and read the
/// ports from the handle.
pub async fn bind(config: DnsConfig, source: Arc<dyn ZoneSource>) -> io::Result<DnsServer> {
	let engine = Arc::new(Engine::new(&config, source)?);
	let rrl = Arc::new(ResponseRateLimiter::new(config.rrl_responses_per_sec, config.rrl_slip));
	let udp = UdpSocket::bind(config.listen).await?;
	// A deep receive queue rides out the moments the node's own work (block import, finality)
	// takes both cores: with the default (~200 KiB, about 2,000 queries), a 20 ms stall at
	// 100,000 queries a second overflows it. The kernel caps the size at `net.core.rmem_max`.
	if let Err(error) = socket2::SockRef::from(&udp).set_recv_buffer_size(UDP_RECEIVE_BUFFER) {
		log::debug!(target: LOG_TARGET, "cannot size the UDP receive buffer: {error}");
	}
	let udp_addr = udp.local_addr()?;
	let tcp = match TcpListener::bind(udp_addr).await {
		Ok(listener) => listener,
		// Port 0: the port UDP got may be taken for TCP; any port will do.
		Err(_) if config.listen.port() == 0 => TcpListener::bind(config.listen).await?,
		Err(error) => return Err(error),
	};
	let tcp_addr = tcp.local_addr()?;
	Ok(DnsServer { engine, rrl, udp, tcp, udp_addr, tcp_addr, udp_workers: config.udp_workers })
}
