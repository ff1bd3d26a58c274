//! Authoritative DNS for the chain's top-level domain `dsync.`, over UDP and TCP.
//!
//! The server answers from finalised chain state only, through a [`ZoneSource`] (the node's
//! implementation reads the naming pallet through a runtime API at the finalised block):
//!
//! - **Apex** `dsync.`: `SOA` (serial = the finalised block number, `MNAME` =
//!   [`DnsConfig::ns_host`], `RNAME` = [`DnsConfig::soa_email`], `MINIMUM` =
//!   [`DnsConfig::negative_ttl`]) and `NS` ([`DnsConfig::ns_host`]); any other type is `NOERROR`
//!   without answers and with the `SOA` in the authority section (NODATA).
//! - **Names** under `dsync.`: the name's `A`, `AAAA`, `TXT`, `MX`, `SRV`, `NS` and `CNAME`
//!   records, with the name's time to live. A name that has a `CNAME` answers it for every other
//!   type (the alias is not chased). A name that does not exist (or has expired) is `NXDOMAIN`, a
//!   name without a record of the asked type is NODATA; both carry the `SOA` (negative caching, RFC
//!   2308). Names are matched without regard to ASCII case; a label that cannot exist under the
//!   naming rules (upper/lower case aside) is `NXDOMAIN` without reading state. `NS` records of a
//!   subname are answered as data: there are no referrals below a delegated subname.
//! - **`ANY`** queries get `NOTIMP` (no amplification, RFC 8482 allows refusing them); zone
//!   transfers (`AXFR`, `IXFR`) get `REFUSED`.
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
//! - **Rate-limited**: a token bucket per source address ([`DnsConfig::rate_limit_per_sec`],
//!   [`DnsConfig::burst`]; IPv6 sources by /64) over a table of at most [`MAX_TRACKED_SOURCES`]
//!   sources (least recently seen forgotten first). Beyond it UDP queries are dropped silently and
//!   TCP queries get `REFUSED`. TCP connections are bounded ([`MAX_TCP_CONNECTIONS`], and
//!   [`MAX_TCP_CONNECTIONS_PER_SOURCE`] per source) and closed after [`TCP_IDLE_TIMEOUT`] without a
//!   complete query.
//! - **Finalised state only**: answers never depend on unfinalised blocks, so they cannot be rolled
//!   back by a fork.
//! - **Cache**: each name's records (or its absence) are kept per finalised block, so repeated
//!   queries do not read state again; the whole cache is dropped when the finalised block changes
//!   and when it holds [`DnsConfig::cache_entries`] names. Failed reads (`SERVFAIL`) are not
//!   cached. At most [`MAX_PENDING_LOOKUPS`] UDP queries wait for a state read at once; beyond it,
//!   uncached UDP queries are dropped.
//!
//! Concurrency: a few UDP workers (one per core, 2 to 8) share the socket, each looping
//! `recv_from` / answer / `send_to`. Cached answers are produced inline, without spawning;
//! a query whose name is not cached is handed to its own task, which reads state on the blocking
//! pool and sends the answer, so a slow read never holds a worker. Each TCP connection is a
//! task answering its queries in order. Dropping the [`DnsServer::serve`] future stops every task.

use std::{
	collections::HashMap,
	io,
	net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, PoisonError, RwLock,
	},
	time::{Duration, Instant},
};

use dsync_primitives::naming::{
	is_valid_host, is_valid_label, MAX_CHARACTER_STRING, MAX_NAME_LEN, TLD,
};
use hickory_proto::{
	op::{Edns, Header, Message, MessageType, Metadata, OpCode, Query, ResponseCode},
	rr::{
		rdata::{A, AAAA, CNAME, MX, NS, SOA, SRV, TXT},
		DNSClass, Name, RData, Record, RecordType,
	},
	serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream, UdpSocket},
	sync::{OwnedSemaphorePermit, Semaphore},
	task::JoinSet,
	time::timeout,
};

/// A name's live records, from finalised chain state.
pub use dsync_primitives::naming::{NameRecords, RecordKind};

/// Largest query read, over UDP or TCP, in bytes.
pub const MAX_QUERY_LEN: usize = 4096;
/// TCP connections served at once; further ones are closed when accepted.
pub const MAX_TCP_CONNECTIONS: usize = 256;
/// TCP connections one source (IPv4 address or IPv6 /64) may hold open at once.
pub const MAX_TCP_CONNECTIONS_PER_SOURCE: usize = 16;
/// Time a TCP client has to send its next query (or to read an answer) before it is closed.
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// UDP queries waiting for a state read at once; further uncached UDP queries are dropped.
pub const MAX_PENDING_LOOKUPS: usize = 256;
/// Sources whose rate-limit buckets are tracked at once.
pub const MAX_TRACKED_SOURCES: usize = 65_536;

const LOG_TARGET: &str = "dsync-dns";
/// Largest UDP answer to a query without EDNS (RFC 1035).
const PLAIN_UDP_PAYLOAD: usize = 512;
/// Largest message over TCP (the length prefix is 16 bits).
const MAX_TCP_MESSAGE: usize = u16::MAX as usize;
/// Default [`DnsConfig::max_udp_payload`]: the DNS flag day 2020 value, safe from fragmentation.
const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;
/// Most UDP workers sharing the socket.
const MAX_UDP_WORKERS: usize = 8;
/// Time to live of the apex `NS` record.
const APEX_NS_TTL: u32 = 3600;
/// `SOA` timers (seconds): secondaries are not used, the values are conventional.
const SOA_REFRESH: i32 = 3600;
const SOA_RETRY: i32 = 600;
const SOA_EXPIRE: i32 = 1_209_600;
/// Pause after a failed `recv_from` or `accept`, so a persistent error does not spin.
const RECEIVE_ERROR_BACKOFF: Duration = Duration::from_millis(10);
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

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
	/// Names cached for the current finalised block (default 65,536; 0 = no cache).
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
}

impl Default for DnsConfig {
	fn default() -> Self {
		Self {
			listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 53)),
			rate_limit_per_sec: 200,
			burst: 400,
			cache_entries: 65_536,
			max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
			ns_host: "ns1.dsync.".into(),
			soa_email: "hostmaster.dsync.".into(),
			negative_ttl: 60,
		}
	}
}

/// Where the zone's data comes from: finalised chain state in the node, a map in tests.
pub trait ZoneSource: Send + Sync + 'static {
	/// The finalised block the answers come from: (hash bytes, number). The cache is keyed by
	/// it.
	fn finalized(&self) -> ([u8; 32], u32);
	/// The live records of `name` (lower-case, e.g. "alice.dsync" or "www.alice.dsync", no
	/// trailing dot) at finalised block `at`: `Ok(None)` when the name does not exist or has
	/// expired (NXDOMAIN), `Ok(Some(records))` otherwise (possibly with no record of the asked
	/// type -> NOERROR/NODATA), `Err(())` on an internal failure (SERVFAIL).
	#[allow(clippy::result_unit_err)]
	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<NameRecords>, ()>;
}

/// Counters of a running server, shared by all its tasks.
#[derive(Debug, Default)]
pub struct DnsStats {
	queries: AtomicU64,
	answered: AtomicU64,
	nxdomain: AtomicU64,
	refused: AtomicU64,
	rate_limited: AtomicU64,
	truncated: AtomicU64,
	formerr: AtomicU64,
	servfail: AtomicU64,
	notimp: AtomicU64,
	dropped: AtomicU64,
	cache_hits: AtomicU64,
	cache_misses: AtomicU64,
}

/// The counters of [`DnsStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsStatsSnapshot {
	/// Messages received (UDP datagrams and TCP messages), rate-limited ones included.
	pub queries: u64,
	/// Responses sent, whatever their response code.
	pub answered: u64,
	/// `NXDOMAIN` responses.
	pub nxdomain: u64,
	/// `REFUSED` responses (names outside `dsync.`, other classes, zone transfers); TCP queries
	/// refused for the rate limit are counted in `rate_limited` only.
	pub refused: u64,
	/// Queries over a source's rate limit (dropped over UDP, `REFUSED` over TCP).
	pub rate_limited: u64,
	/// UDP responses sent truncated (`TC`).
	pub truncated: u64,
	/// `FORMERR` responses.
	pub formerr: u64,
	/// `SERVFAIL` responses (failed state reads).
	pub servfail: u64,
	/// `NOTIMP` responses (other opcodes, `ANY`).
	pub notimp: u64,
	/// Messages dropped without a response: unreadable headers, responses, UDP queries beyond
	/// [`MAX_PENDING_LOOKUPS`].
	pub dropped: u64,
	/// Name queries answered from the cache.
	pub cache_hits: u64,
	/// Name queries that read state.
	pub cache_misses: u64,
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
		}
	}
}

fn bump(counter: &AtomicU64) {
	counter.fetch_add(1, Ordering::Relaxed);
}

/// A bound server, not serving yet: see [`DnsServer::serve`].
pub struct DnsServer {
	engine: Arc<Engine>,
	udp: UdpSocket,
	tcp: TcpListener,
	udp_addr: SocketAddr,
	tcp_addr: SocketAddr,
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
		let Self { engine, udp, tcp, udp_addr, tcp_addr } = self;
		log::info!(
			target: LOG_TARGET,
			"Authoritative DNS for `dsync.` listening on udp/{udp_addr} and tcp/{tcp_addr}",
		);
		let udp = Arc::new(udp);
		let mut tasks: JoinSet<()> = JoinSet::new();
		for _ in 0..udp_worker_count() {
			tasks.spawn(udp_worker(Arc::clone(&engine), Arc::clone(&udp)));
		}
		tasks.spawn(tcp_accept_loop(engine, tcp));
		while let Some(finished) = tasks.join_next().await {
			if let Err(error) = finished {
				log::error!(target: LOG_TARGET, "DNS server task failed: {error}");
				return Err(io::Error::other(format!("DNS server task failed: {error}")));
			}
		}
		Ok(())
	}
}

/// Bind UDP and TCP on `config.listen` without serving yet; tests bind port 0 and read the
/// ports from the handle.
pub async fn bind(config: DnsConfig, source: Arc<dyn ZoneSource>) -> io::Result<DnsServer> {
	let engine = Arc::new(Engine::new(&config, source)?);
	let udp = UdpSocket::bind(config.listen).await?;
	let udp_addr = udp.local_addr()?;
	let tcp = match TcpListener::bind(udp_addr).await {
		Ok(listener) => listener,
		// Port 0: the port UDP got may be taken for TCP; any port will do.
		Err(_) if config.listen.port() == 0 => TcpListener::bind(config.listen).await?,
		Err(error) => return Err(error),
	};
	let tcp_addr = tcp.local_addr()?;
	Ok(DnsServer { engine, udp, tcp, udp_addr, tcp_addr })
}

fn udp_worker_count() -> usize {
	std::thread::available_parallelism()
		.map_or(2, |cores| cores.get())
		.clamp(2, MAX_UDP_WORKERS)
}

/// One UDP worker: receive, answer cached names inline, hand uncached ones to a task.
async fn udp_worker(engine: Arc<Engine>, socket: Arc<UdpSocket>) {
	let mut buffer = vec![0u8; MAX_QUERY_LEN];
	let mut out = Vec::with_capacity(usize::from(engine.max_udp_payload));
	let mut key = String::with_capacity(MAX_NAME_LEN + 1);
	// Dropped with the worker, which aborts the lookups in flight.
	let mut lookups: JoinSet<()> = JoinSet::new();
	loop {
		while lookups.try_join_next().is_some() {}
		let (len, peer) = match socket.recv_from(&mut buffer).await {
			Ok(received) => received,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "UDP receive failed: {error}");
				if error.kind() != io::ErrorKind::ConnectionReset {
					tokio::time::sleep(RECEIVE_ERROR_BACKOFF).await;
				}
				continue;
			},
		};
		if !engine.admit(peer.ip()) {
			continue;
		}
		let Some(packet) = buffer.get(..len) else { continue };
		// The hot path: the same query bytes at the same finalised block get the same answer.
		let finalized = engine.source.finalized();
		let at = finalized.0;
		if engine.wire.reply(at, packet, &mut out) {
			bump(&engine.stats.cache_hits);
			bump(&engine.stats.answered);
			send_udp(&socket, &out, peer).await;
			continue;
		}
		match engine.handle(packet, Transport::Udp, finalized, &mut key, &mut out) {
			Step::Reply => {
				engine.wire.insert(at, packet, &out);
				send_udp(&socket, &out, peer).await
			},
			Step::Drop => {},
			Step::Lookup(pending) => match Arc::clone(&engine.lookup_slots).try_acquire_owned() {
				Ok(permit) => {
					let engine = Arc::clone(&engine);
					let socket = Arc::clone(&socket);
					lookups.spawn(async move {
						let mut out = Vec::with_capacity(PLAIN_UDP_PAYLOAD);
						if matches!(engine.complete(*pending, &mut out).await, Step::Reply) {
							send_udp(&socket, &out, peer).await;
						}
						drop(permit);
					});
				},
				Err(_) => {
					bump(&engine.stats.dropped);
					log::debug!(target: LOG_TARGET, "too many state reads in flight, dropped a query");
				},
			},
		}
	}
}

async fn send_udp(socket: &UdpSocket, packet: &[u8], peer: SocketAddr) {
	if let Err(error) = socket.send_to(packet, peer).await {
		log::debug!(target: LOG_TARGET, "cannot answer {peer} over UDP: {error}");
	}
}

/// Accept TCP connections within the bounds; each is served by its own task.
async fn tcp_accept_loop(engine: Arc<Engine>, listener: TcpListener) {
	let slots = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
	let peers = Arc::new(PeerConnections::default());
	// Dropped with the loop, which aborts the connections.
	let mut connections: JoinSet<()> = JoinSet::new();
	loop {
		while connections.try_join_next().is_some() {}
		let (stream, peer) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "TCP accept failed: {error}");
				tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
				continue;
			},
		};
		let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
			log::debug!(target: LOG_TARGET, "too many TCP connections, closed one from {peer}");
			continue;
		};
		let Some(slot) = peers.open(peer.ip(), permit) else {
			log::debug!(target: LOG_TARGET, "too many TCP connections from {peer}, closed one");
			continue;
		};
		let engine = Arc::clone(&engine);
		connections.spawn(async move {
			serve_tcp_connection(&engine, stream, peer).await;
			drop(slot);
		});
	}
}

/// Answer the length-prefixed queries of one connection, in order, until it closes, errs, idles
/// for [`TCP_IDLE_TIMEOUT`] or sends a query longer than [`MAX_QUERY_LEN`].
async fn serve_tcp_connection(engine: &Engine, mut stream: TcpStream, peer: SocketAddr) {
	// Answers go out in one write each; Nagle would only delay them.
	let _ = stream.set_nodelay(true);
	let mut buffer = vec![0u8; MAX_QUERY_LEN];
	let mut out = Vec::with_capacity(PLAIN_UDP_PAYLOAD);
	let mut frame = Vec::with_capacity(PLAIN_UDP_PAYLOAD + 2);
	let mut key = String::with_capacity(MAX_NAME_LEN + 1);
	loop {
		let mut prefix = [0u8; 2];
		if !matches!(timeout(TCP_IDLE_TIMEOUT, stream.read_exact(&mut prefix)).await, Ok(Ok(_))) {
			return;
		}
		let len = usize::from(u16::from_be_bytes(prefix));
		let Some(body) = buffer.get_mut(..len) else {
			log::debug!(target: LOG_TARGET, "{peer} sent a {len}-byte TCP query, closing");
			return;
		};
		if !matches!(timeout(TCP_IDLE_TIMEOUT, stream.read_exact(&mut *body)).await, Ok(Ok(_))) {
			return;
		}
		let packet: &[u8] = body;
		let step = if engine.admit(peer.ip()) {
			engine.handle(packet, Transport::Tcp, engine.source.finalized(), &mut key, &mut out)
		} else {
			engine.refuse(packet, &mut out)
		};
		let step = match step {
			Step::Lookup(pending) => engine.complete(*pending, &mut out).await,
			other => other,
		};
		if !matches!(step, Step::Reply) {
			continue;
		}
		let Ok(out_len) = u16::try_from(out.len()) else { continue };
		frame.clear();
		frame.extend_from_slice(&out_len.to_be_bytes());
		frame.extend_from_slice(&out);
		if !matches!(timeout(TCP_IDLE_TIMEOUT, stream.write_all(&frame)).await, Ok(Ok(()))) {
			return;
		}
	}
}

/// Open TCP connections per source.
#[derive(Default)]
struct PeerConnections {
	counts: Mutex<HashMap<IpAddr, usize>>,
}

/// A TCP connection's place in the bounds, given back when dropped.
struct ConnectionSlot {
	peers: Arc<PeerConnections>,
	source: IpAddr,
	_permit: OwnedSemaphorePermit,
}

impl PeerConnections {
	fn open(self: &Arc<Self>, ip: IpAddr, permit: OwnedSemaphorePermit) -> Option<ConnectionSlot> {
		let source = source_key(ip);
		let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
		let count = counts.entry(source).or_insert(0);
		if *count >= MAX_TCP_CONNECTIONS_PER_SOURCE {
			return None;
		}
		*count += 1;
		Some(ConnectionSlot { peers: Arc::clone(self), source, _permit: permit })
	}
}

impl Drop for ConnectionSlot {
	fn drop(&mut self) {
		let mut counts = self.peers.counts.lock().unwrap_or_else(PoisonError::into_inner);
		if let Some(count) = counts.get_mut(&self.source) {
			*count = count.saturating_sub(1);
			if *count == 0 {
				counts.remove(&self.source);
			}
		}
	}
}

/// The key a source is limited by: its IPv4 address (IPv4-mapped IPv6 included), or its IPv6
/// /64 (one host commonly has a whole /64).
fn source_key(ip: IpAddr) -> IpAddr {
	match ip {
		IpAddr::V4(_) => ip,
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => IpAddr::V4(v4),
			None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
		},
	}
}

/// Token buckets per source, over a bounded table: two generations of at most half the bound
/// each; a source seen again moves to the current generation, and when the current one is full
/// the previous one (the least recently seen sources) is forgotten.
struct RateLimiter {
	rate: f64,
	burst: f64,
	generation_len: usize,
	buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
	current: HashMap<IpAddr, Bucket>,
	previous: HashMap<IpAddr, Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
	tokens: f64,
	last: Instant,
}

impl RateLimiter {
	fn new(rate_per_sec: u32, burst: u32, max_sources: usize) -> Self {
		Self {
			rate: f64::from(rate_per_sec),
			burst: f64::from(burst.max(1)),
			generation_len: (max_sources / 2).max(1),
			buckets: Mutex::new(Buckets::default()),
		}
	}

	/// Whether `ip` may send one more query now (and take a token if so).
	fn allow(&self, ip: IpAddr) -> bool {
		if self.rate <= 0.0 {
			return true;
		}
		let source = source_key(ip);
		let now = Instant::now();
		let mut guard = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
		let buckets = &mut *guard;
		if !buckets.current.contains_key(&source) {
			let bucket = buckets
				.previous
				.remove(&source)
				.unwrap_or(Bucket { tokens: self.burst, last: now });
			if buckets.current.len() >= self.generation_len {
				buckets.previous = std::mem::take(&mut buckets.current);
			}
			buckets.current.insert(source, bucket);
		}
		let Some(bucket) = buckets.current.get_mut(&source) else { return true };
		let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
		bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
		bucket.last = now;
		if bucket.tokens >= 1.0 {
			bucket.tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// A name's records decoded for DNS, as cached.
#[derive(Debug)]
struct ZoneEntry {
	ttl: u32,
	records: Vec<RData>,
}

impl ZoneEntry {
	/// Decode the DNS records; values that do not decode and non-DNS kinds are skipped.
	fn decode(records: &NameRecords) -> Self {
		Self {
			ttl: records.ttl,
			records: records
				.records
				.iter()
				.filter_map(|(kind, value)| decode_record(kind, value))
				.collect(),
		}
	}
}

/// A name's state as cached: `None` when the name does not exist.
type Cached = Option<Arc<ZoneEntry>>;

/// One record value as DNS record data (see [`RecordKind`] for the encodings).
fn decode_record(kind: &RecordKind, value: &[u8]) -> Option<RData> {
	Some(match kind {
		RecordKind::A => RData::A(A::from(Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?))),
		RecordKind::Aaaa => {
			RData::AAAA(AAAA::from(Ipv6Addr::from(<[u8; 16]>::try_from(value).ok()?)))
		},
		RecordKind::Cname => RData::CNAME(CNAME(host_name(value)?)),
		RecordKind::Ns => RData::NS(NS(host_name(value)?)),
		RecordKind::Txt => {
			if value.len() > MAX_CHARACTER_STRING {
				return None;
			}
			RData::TXT(TXT::from_bytes(vec![value]))
		},
		RecordKind::Mx => RData::MX(MX::new(be_u16(value, 0)?, host_name(value.get(2..)?)?)),
		RecordKind::Srv => RData::SRV(SRV::new(
			be_u16(value, 0)?,
			be_u16(value, 2)?,
			be_u16(value, 4)?,
			host_name(value.get(6..)?)?,
		)),
		RecordKind::ContentHash | RecordKind::Address(_) | RecordKind::Text(_) => return None,
	})
}

fn be_u16(value: &[u8], at: usize) -> Option<u16> {
	Some(u16::from_be_bytes([*value.get(at)?, *value.get(at.checked_add(1)?)?]))
}

/// A record's target host, always absolute (a trailing dot is optional in the value).
fn host_name(value: &[u8]) -> Option<Name> {
	if !is_valid_host(value) {
		return None;
	}
	let mut name = Name::from_ascii(core::str::from_utf8(value).ok()?).ok()?;
	name.set_fqdn(true);
	Some(name)
}

/// Whole UDP responses per finalised block, keyed by the query's bytes after its id: a repeated
/// query is answered by copying the stored response and setting the query's id, without parsing
/// or encoding. Only answers from the zone (`NOERROR`, `NXDOMAIN`) to queries of at most
/// [`PLAIN_UDP_PAYLOAD`] bytes are stored; the store is dropped when the finalised block changes or when it is full. What a
/// response depends on is all in the key (flags, question, EDNS record) and the block.
struct WireCache {
	capacity: usize,
	state: RwLock<WireState>,
}

struct WireState {
	at: [u8; 32],
	responses: HashMap<Box<[u8]>, Box<[u8]>>,
}

impl WireCache {
	fn new(capacity: usize) -> Self {
		Self { capacity, state: RwLock::new(WireState { at: [0; 32], responses: HashMap::new() }) }
	}

	/// The key of a query: its bytes after the id, when it is a query worth storing.
	fn key(packet: &[u8]) -> Option<&[u8]> {
		let flags = *packet.get(2)?;
		if flags & 0x80 != 0 || packet.len() > PLAIN_UDP_PAYLOAD {
			return None;
		}
		packet.get(2..).filter(|rest| rest.len() >= 10)
	}

	/// Write the stored response to `packet` at block `at` to `out`; whether there was one.
	fn reply(&self, at: [u8; 32], packet: &[u8], out: &mut Vec<u8>) -> bool {
		let Some(key) = Self::key(packet) else { return false };
		let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
		if state.at != at {
			return false;
		}
		let Some(response) = state.responses.get(key) else { return false };
		out.clear();
		out.extend_from_slice(packet.get(..2).unwrap_or_default());
		out.extend_from_slice(response);
		true
	}

	/// Store `response` (with its id) to `packet` at block `at`; a newer block drops the rest.
	fn insert(&self, at: [u8; 32], packet: &[u8], response: &[u8]) {
		let (Some(key), Some(body)) = (Self::key(packet), response.get(2..)) else { return };
		// Only answers from the zone (NOERROR, NXDOMAIN): error responses to malformed or
		// foreign queries are cheap to make and would only churn the store.
		let rcode = response.get(3).map(|flags| flags & 0x0f);
		if self.capacity == 0 || !matches!(rcode, Some(0) | Some(3)) {
			return;
		}
		let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
		if state.at != at {
			state.responses.clear();
			state.at = at;
		}
		if state.responses.len() >= self.capacity {
			state.responses.clear();
		}
		state.responses.insert(key.into(), body.into());
	}
}

/// Names' states per finalised block.
struct ZoneCache {
	capacity: usize,
	state: RwLock<CacheState>,
}

struct CacheState {
	/// The finalised block the entries are for.
	at: [u8; 32],
	number: u32,
	entries: HashMap<String, Cached>,
}

impl ZoneCache {
	fn new(capacity: usize) -> Self {
		Self {
			capacity,
			state: RwLock::new(CacheState { at: [0; 32], number: 0, entries: HashMap::new() }),
		}
	}

	/// The cached state of `key` at block `at`; `None` when not cached. A newer finalised block
	/// drops every entry.
	fn get(&self, at: [u8; 32], number: u32, key: &str) -> Option<Cached> {
		{
			let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
			if state.at == at {
				return state.entries.get(key).cloned();
			}
			if number < state.number {
				// A reader that saw an older block than another one: bypass the cache.
				return None;
			}
		}
		let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
		if state.at != at && number >= state.number {
			state.entries = HashMap::new();
			state.at = at;
			state.number = number;
		}
		None
	}

	/// Remember the state of `key` at block `at`, unless the cache has moved to another block.
	fn insert(&self, at: [u8; 32], key: String, value: Cached) {
		if self.capacity == 0 {
			return;
		}
		let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
		if state.at != at {
			return;
		}
		if state.entries.len() >= self.capacity {
			state.entries.clear();
		}
		state.entries.insert(key, value);
	}
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
	Udp,
	Tcp,
}

/// What to do after handling a message.
enum Step {
	/// Send the response written to the output buffer.
	Reply,
	/// Send nothing.
	Drop,
	/// The name is not cached: read it from state, then answer ([`Engine::complete`]).
	Lookup(Box<Pending>),
}

/// A well-formed query in the zone.
struct Request {
	/// The query's header.
	metadata: Metadata,
	query: Query,
	/// Whether the query had an `OPT` record.
	edns: bool,
	/// Largest response for the query's transport and EDNS payload size.
	limit: usize,
}

/// A query waiting for a state read.
struct Pending {
	request: Request,
	at: [u8; 32],
	number: u32,
	key: String,
}

/// Where a query name stands with respect to the zone.
enum ZoneName {
	/// Not `dsync.` nor under it.
	Outside,
	/// `dsync.` itself.
	Apex,
	/// Under `dsync.` but with a label no name can have.
	Invalid,
	/// A name that may exist; its lookup key was written.
	Name,
}

/// Classify `name`, writing its lower-case lookup key (`www.alice.dsync`) to `key` when it is a
/// possible name.
fn classify(name: &Name, key: &mut String) -> ZoneName {
	let mut labels = name.iter();
	match labels.next_back() {
		Some(last) if last.eq_ignore_ascii_case(TLD) => {},
		_ => return ZoneName::Outside,
	}
	if labels.len() == 0 {
		return ZoneName::Apex;
	}
	key.clear();
	for label in labels {
		if !label.is_ascii() {
			return ZoneName::Invalid;
		}
		let start = key.len();
		key.extend(label.iter().map(|byte| char::from(byte.to_ascii_lowercase())));
		if !is_valid_label(key.as_bytes().get(start..).unwrap_or_default()) {
			return ZoneName::Invalid;
		}
		key.push('.');
	}
	key.extend(TLD.iter().map(|byte| char::from(*byte)));
	ZoneName::Name
}

/// The transport-independent server: parsing, answers, cache, limits, counters.
struct Engine {
	source: Arc<dyn ZoneSource>,
	cache: ZoneCache,
	/// Whole UDP responses by query bytes, for the current finalised block.
	wire: WireCache,
	limiter: RateLimiter,
	stats: Arc<DnsStats>,
	lookup_slots: Arc<Semaphore>,
	apex: Name,
	ns_host: Name,
	soa_email: Name,
	negative_ttl: u32,
	max_udp_payload: u16,
	/// The `OPT` record of responses to EDNS queries.
	edns: Edns,
}

impl Engine {
	fn new(config: &DnsConfig, source: Arc<dyn ZoneSource>) -> io::Result<Self> {
		let tld = String::from_utf8_lossy(TLD);
		let apex = config_name("zone apex", &format!("{tld}."))?;
		let ns_host = config_name("name server host", &config.ns_host)?;
		let soa_email = config_name("SOA contact", &config.soa_email.replacen('@', ".", 1))?;
		let max_udp_payload = config.max_udp_payload.max(PLAIN_UDP_PAYLOAD as u16);
		let mut edns = Edns::new();
		edns.set_max_payload(max_udp_payload);
		edns.set_version(0);
		Ok(Self {
			source,
			cache: ZoneCache::new(config.cache_entries),
			wire: WireCache::new(config.cache_entries),
			limiter: RateLimiter::new(config.rate_limit_per_sec, config.burst, MAX_TRACKED_SOURCES),
			stats: Arc::new(DnsStats::default()),
			lookup_slots: Arc::new(Semaphore::new(MAX_PENDING_LOOKUPS)),
			apex,
			ns_host,
			soa_email,
			negative_ttl: config.negative_ttl,
			max_udp_payload,
			edns,
		})
	}

	/// Count a received message and check its source's rate limit.
	fn admit(&self, peer: IpAddr) -> bool {
		bump(&self.stats.queries);
		if self.limiter.allow(peer) {
			true
		} else {
			bump(&self.stats.rate_limited);
			false
		}
	}

	/// Handle one received message against the finalised block `(at, number)` the caller read;
	/// a response, if any, is written to `out`. `key` is scratch space for the lookup key.
	fn handle(
		&self,
		packet: &[u8],
		transport: Transport,
		(at, number): ([u8; 32], u32),
		key: &mut String,
		out: &mut Vec<u8>,
	) -> Step {
		let Ok(header) = Header::read(&mut BinDecoder::new(packet)) else {
			bump(&self.stats.dropped);
			return Step::Drop;
		};
		if header.metadata.message_type != MessageType::Query {
			bump(&self.stats.dropped);
			return Step::Drop;
		}
		if header.metadata.op_code != OpCode::Query {
			bump(&self.stats.notimp);
			return self.header_reply(&header.metadata, ResponseCode::NotImp, out);
		}
		if header.counts.queries != 1 {
			bump(&self.stats.formerr);
			return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
		}
		let mut message = match Message::from_vec(packet) {
			Ok(message) => message,
			Err(error) => {
				log::trace!(target: LOG_TARGET, "malformed query: {error}");
				bump(&self.stats.formerr);
				return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
			},
		};
		let Some(query) = message.queries.pop() else {
			bump(&self.stats.formerr);
			return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
		};
		let edns = message.edns.take();
		let limit = match (transport, &edns) {
			(Transport::Tcp, _) => MAX_TCP_MESSAGE,
			(Transport::Udp, None) => PLAIN_UDP_PAYLOAD,
			(Transport::Udp, Some(edns)) => {
				usize::from(edns.max_payload().min(self.max_udp_payload)).max(PLAIN_UDP_PAYLOAD)
			},
		};
		let request = Request { metadata: message.metadata, query, edns: edns.is_some(), limit };
		if edns.as_ref().is_some_and(|edns| edns.version() > 0) {
			return self.error(request, ResponseCode::BADVERS, out);
		}

		let zone_name = classify(request.query.name(), key);
		if matches!(zone_name, ZoneName::Outside) || request.query.query_class() != DNSClass::IN {
			return self.error(request, ResponseCode::Refused, out);
		}
		match request.query.query_type() {
			RecordType::ANY => return self.error(request, ResponseCode::NotImp, out),
			RecordType::AXFR | RecordType::IXFR => {
				return self.error(request, ResponseCode::Refused, out)
			},
			RecordType::OPT => return self.error(request, ResponseCode::FormErr, out),
			_ => {},
		}

		match zone_name {
			ZoneName::Apex => self.answer_apex(request, number, out),
			ZoneName::Name => match self.cache.get(at, number, key) {
				Some(cached) => {
					bump(&self.stats.cache_hits);
					self.answer_name(request, number, Ok(cached), out)
				},
				None => {
					bump(&self.stats.cache_misses);
					Step::Lookup(Box::new(Pending { request, at, number, key: key.clone() }))
				},
			},
			ZoneName::Invalid | ZoneName::Outside => {
				self.answer_name(request, number, Ok(None), out)
			},
		}
	}

	/// A `REFUSED` response to a message over its source's rate limit (TCP).
	fn refuse(&self, packet: &[u8], out: &mut Vec<u8>) -> Step {
		match Header::read(&mut BinDecoder::new(packet)) {
			Ok(header) if header.metadata.message_type == MessageType::Query => {
				self.header_reply(&header.metadata, ResponseCode::Refused, out)
			},
			_ => Step::Drop,
		}
	}

	/// Read a name from state (on the blocking pool), cache it and answer.
	async fn complete(&self, pending: Pending, out: &mut Vec<u8>) -> Step {
		let Pending { request, at, number, key } = pending;
		let state = self.lookup(at, key).await;
		self.answer_name(request, number, state, out)
	}

	async fn lookup(&self, at: [u8; 32], key: String) -> Result<Cached, ()> {
		let source = Arc::clone(&self.source);
		let read = tokio::task::spawn_blocking(move || {
			let found = source.lookup(at, &key);
			(key, found)
		});
		let (key, found) = match read.await {
			Ok(read) => read,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "state read failed: {error}");
				return Err(());
			},
		};
		let cached = match found {
			Ok(records) => records.map(|records| Arc::new(ZoneEntry::decode(&records))),
			Err(()) => {
				log::debug!(target: LOG_TARGET, "cannot read `{key}` from state");
				return Err(());
			},
		};
		self.cache.insert(at, key, cached.clone());
		Ok(cached)
	}

	/// The answer for the apex: `SOA`, `NS`, or NODATA.
	fn answer_apex(&self, request: Request, serial: u32, out: &mut Vec<u8>) -> Step {
		let owner = request.query.name().clone();
		let (answers, authorities) = match request.query.query_type() {
			RecordType::SOA => (vec![self.soa_record(owner, serial)], Vec::new()),
			RecordType::NS => (
				vec![Record::from_rdata(owner, APEX_NS_TTL, RData::NS(NS(self.ns_host.clone())))],
				Vec::new(),
			),
			_ => (Vec::new(), vec![self.soa_record(self.apex.clone(), serial)]),
		};
		self.respond(request, ResponseCode::NoError, true, answers, authorities, out)
	}

	/// The answer for a name under the apex from its state.
	fn answer_name(
		&self,
		request: Request,
		serial: u32,
		state: Result<Cached, ()>,
		out: &mut Vec<u8>,
	) -> Step {
		let entry = match state {
			Err(()) => return self.error(request, ResponseCode::ServFail, out),
			Ok(None) => {
				let soa = self.soa_record(self.apex.clone(), serial);
				return self.respond(
					request,
					ResponseCode::NXDomain,
					true,
					Vec::new(),
					vec![soa],
					out,
				);
			},
			Ok(Some(entry)) => entry,
		};
		let qtype = request.query.query_type();
		let owner = request.query.name();
		let record = |data: &RData| Record::from_rdata(owner.clone(), entry.ttl, data.clone());
		let cname = entry.records.iter().find(|data| matches!(data, RData::CNAME(_)));
		let answers: Vec<Record> = match cname {
			Some(cname) if qtype != RecordType::CNAME => vec![record(cname)],
			_ => entry
				.records
				.iter()
				.filter(|data| data.record_type() == qtype)
				.map(record)
				.collect(),
		};
		let authorities = if answers.is_empty() {
			vec![self.soa_record(self.apex.clone(), serial)]
		} else {
			Vec::new()
		};
		self.respond(request, ResponseCode::NoError, true, answers, authorities, out)
	}

	/// The zone's `SOA` record under `owner`.
	fn soa_record(&self, owner: Name, serial: u32) -> Record {
		let soa = SOA::new(
			self.ns_host.clone(),
			self.soa_email.clone(),
			serial,
			SOA_REFRESH,
			SOA_RETRY,
			SOA_EXPIRE,
			self.negative_ttl,
		);
		Record::from_rdata(owner, self.negative_ttl, RData::SOA(soa))
	}

	/// Write the response to a well-formed query.
	fn respond(
		&self,
		request: Request,
		response_code: ResponseCode,
		authoritative: bool,
		answers: Vec<Record>,
		authorities: Vec<Record>,
		out: &mut Vec<u8>,
	) -> Step {
		self.count(response_code);
		let mut message =
			Message::new(request.metadata.id, MessageType::Response, request.metadata.op_code);
		message.metadata = Metadata::response_from_request(&request.metadata);
		message.metadata.authoritative = authoritative;
		message.metadata.response_code = response_code;
		message.queries.push(request.query);
		message.answers = answers;
		message.authorities = authorities;
		if request.edns {
			message.edns = Some(self.edns.clone());
		}
		self.encode(message, request.limit, out)
	}

	/// Write a non-authoritative response without records to a well-formed query.
	fn error(&self, request: Request, response_code: ResponseCode, out: &mut Vec<u8>) -> Step {
		self.respond(request, response_code, false, Vec::new(), Vec::new(), out)
	}

	/// Write a response with the header only (the query could not be read, or is not a query we
	/// answer).
	fn header_reply(
		&self,
		query: &Metadata,
		response_code: ResponseCode,
		out: &mut Vec<u8>,
	) -> Step {
		let mut message = Message::new(query.id, MessageType::Response, query.op_code);
		message.metadata = Metadata::response_from_request(query);
		message.metadata.response_code = response_code;
		self.encode(message, PLAIN_UDP_PAYLOAD, out)
	}

	fn count(&self, response_code: ResponseCode) {
		let counter = match response_code {
			ResponseCode::NXDomain => &self.stats.nxdomain,
			ResponseCode::Refused => &self.stats.refused,
			ResponseCode::FormErr => &self.stats.formerr,
			ResponseCode::ServFail => &self.stats.servfail,
			ResponseCode::NotImp => &self.stats.notimp,
			_ => return,
		};
		bump(counter);
	}

	/// Encode `message` to `out` within `limit` bytes: over it, again with `TC` and without
	/// records; if it cannot be encoded, as `SERVFAIL` without records.
	fn encode(&self, mut message: Message, limit: usize, out: &mut Vec<u8>) -> Step {
		let encoded = emit(&message, out);
		if encoded && out.len() <= limit {
			bump(&self.stats.answered);
			return Step::Reply;
		}
		if encoded {
			bump(&self.stats.truncated);
			message.metadata.truncation = true;
		} else {
			log::warn!(target: LOG_TARGET, "cannot encode a response: {message}");
			bump(&self.stats.servfail);
			message.metadata.response_code = ResponseCode::ServFail;
			message.metadata.authoritative = false;
		}
		message.answers.clear();
		message.authorities.clear();
		message.additionals.clear();
		if emit(&message, out) && out.len() <= limit {
			bump(&self.stats.answered);
			Step::Reply
		} else {
			bump(&self.stats.dropped);
			Step::Drop
		}
	}
}

/// Encode `message` to `out` (cleared first); whether it could be.
fn emit(message: &Message, out: &mut Vec<u8>) -> bool {
	out.clear();
	let mut encoder = BinEncoder::new(out);
	message.emit(&mut encoder).is_ok()
}

/// Read a host name from the configuration.
fn config_name(what: &str, text: &str) -> io::Result<Name> {
	let mut name = Name::from_ascii(text).map_err(|error| {
		io::Error::new(io::ErrorKind::InvalidInput, format!("invalid DNS {what} `{text}`: {error}"))
	})?;
	name.set_fqdn(true);
	Ok(name)
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::atomic::AtomicUsize;

	const TTL: u32 = 300;
	const NEGATIVE_TTL: u32 = 45;
	const BIG_TXT_RECORDS: usize = 20;

	/// A zone in a map, counting its reads.
	struct FakeZone {
		names: HashMap<String, NameRecords>,
		finalized: Mutex<([u8; 32], u32)>,
		lookups: AtomicUsize,
	}

	impl FakeZone {
		fn new() -> Arc<Self> {
			let mut names = HashMap::new();
			names.insert(
				"alice.dsync".to_string(),
				NameRecords {
					ttl: TTL,
					records: vec![
						(RecordKind::A, vec![192, 0, 2, 1]),
						(RecordKind::A, vec![192, 0, 2, 2]),
						// Malformed values are skipped.
						(RecordKind::A, vec![1, 2, 3]),
						(
							RecordKind::Aaaa,
							Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets().to_vec(),
						),
						(RecordKind::Txt, b"v=spf1 -all".to_vec()),
						(
							RecordKind::Mx,
							[&10u16.to_be_bytes()[..], &b"mail.example.org"[..]].concat(),
						),
						(RecordKind::Mx, vec![0]),
						(
							RecordKind::Srv,
							[
								&1u16.to_be_bytes()[..],
								&2u16.to_be_bytes()[..],
								&443u16.to_be_bytes()[..],
								&b"svc.alice.dsync."[..],
							]
							.concat(),
						),
						(RecordKind::Cname, b"not a host".to_vec()),
						(RecordKind::ContentHash, vec![1, 2, 3]),
						(RecordKind::Address(60), vec![4, 5, 6]),
					],
				},
			);
			names.insert(
				"www.alice.dsync".to_string(),
				NameRecords {
					ttl: 120,
					records: vec![(RecordKind::Cname, b"alice.dsync.".to_vec())],
				},
			);
			names.insert(
				"bare.dsync".to_string(),
				NameRecords { ttl: TTL, records: vec![(RecordKind::ContentHash, vec![9; 32])] },
			);
			names.insert(
				"big.dsync".to_string(),
				NameRecords {
					ttl: TTL,
					records: (0..BIG_TXT_RECORDS)
						.map(|i| (RecordKind::Txt, vec![b'a' + i as u8; 100]))
						.collect(),
				},
			);
			Arc::new(Self {
				names,
				finalized: Mutex::new(([1; 32], 10)),
				lookups: AtomicUsize::new(0),
			})
		}

		fn lookups(&self) -> usize {
			self.lookups.load(Ordering::SeqCst)
		}

		fn finalize(&self, hash: [u8; 32], number: u32) {
			*self.finalized.lock().unwrap() = (hash, number);
		}
	}

	impl ZoneSource for FakeZone {
		fn finalized(&self) -> ([u8; 32], u32) {
			*self.finalized.lock().unwrap()
		}

		fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<NameRecords>, ()> {
			self.lookups.fetch_add(1, Ordering::SeqCst);
			assert_eq!(at, self.finalized().0, "reads at the finalised block");
			if name == "broken.dsync" {
				return Err(());
			}
			Ok(self.names.get(name).cloned())
		}
	}

	fn config() -> DnsConfig {
		DnsConfig {
			listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
			rate_limit_per_sec: 0,
			negative_ttl: NEGATIVE_TTL,
			..DnsConfig::default()
		}
	}

	struct Running {
		udp: SocketAddr,
		tcp: SocketAddr,
		stats: Arc<DnsStats>,
		task: tokio::task::JoinHandle<io::Result<()>>,
	}

	impl Drop for Running {
		fn drop(&mut self) {
			self.task.abort();
		}
	}

	async fn start(zone: &Arc<FakeZone>, config: DnsConfig) -> Running {
		let source: Arc<dyn ZoneSource> = zone.clone();
		let server = bind(config, source).await.expect("binds");
		let (udp, tcp, stats) = (server.udp_addr(), server.tcp_addr(), server.stats());
		assert_ne!(udp.port(), 0);
		assert_ne!(tcp.port(), 0);
		Running { udp, tcp, stats, task: tokio::spawn(server.serve()) }
	}

	fn query(id: u16, name: &str, qtype: RecordType) -> Message {
		let mut message = Message::new(id, MessageType::Query, OpCode::Query);
		message.metadata.recursion_desired = true;
		message.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
		message
	}

	fn with_edns(mut message: Message, payload: u16, version: u8) -> Message {
		let mut edns = Edns::new();
		edns.set_max_payload(payload);
		edns.set_version(version);
		message.set_edns(edns);
		message
	}

	/// Send one datagram from a fresh socket; the answer, if one comes within half a second.
	async fn udp_raw(server: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
		let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
		socket.send_to(packet, server).await.unwrap();
		let mut buffer = vec![0; 65_535];
		let (len, _) = timeout(Duration::from_millis(500), socket.recv_from(&mut buffer))
			.await
			.ok()?
			.unwrap();
		buffer.truncate(len);
		Some(buffer)
	}

	async fn udp(server: SocketAddr, message: &Message) -> Message {
		let answer = udp_raw(server, &message.to_vec().unwrap())
			.await
			.unwrap_or_else(|| panic!("no answer to query {}", message.metadata.id));
		Message::from_vec(&answer).unwrap()
	}

	async fn tcp(stream: &mut TcpStream, message: &Message) -> Message {
		let bytes = message.to_vec().unwrap();
		let mut frame = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
		frame.extend_from_slice(&bytes);
		stream.write_all(&frame).await.unwrap();
		let mut prefix = [0; 2];
		stream.read_exact(&mut prefix).await.unwrap();
		let mut body = vec![0; usize::from(u16::from_be_bytes(prefix))];
		stream.read_exact(&mut body).await.unwrap();
		Message::from_vec(&body).unwrap()
	}

	fn name(text: &str) -> Name {
		Name::from_ascii(text).unwrap()
	}

	fn assert_answer(response: &Message, id: u16, code: ResponseCode) {
		assert_eq!(response.metadata.id, id);
		assert_eq!(response.metadata.message_type, MessageType::Response);
		// By number: BADVERS and BADSIG share code 16 (hickory decodes it as BADSIG).
		assert_eq!(u16::from(response.metadata.response_code), u16::from(code));
		assert!(response.metadata.recursion_desired, "RD is copied");
		assert!(!response.metadata.recursion_available, "RA is never set");
	}

	fn assert_soa_authority(response: &Message, serial: u32) {
		assert_eq!(response.authorities.len(), 1);
		let record = &response.authorities[0];
		assert_eq!(record.name, name("dsync."));
		assert_eq!(record.ttl, NEGATIVE_TTL);
		let RData::SOA(soa) = &record.data else { panic!("an SOA: {record}") };
		assert_eq!(soa.serial, serial);
		assert_eq!(soa.minimum, NEGATIVE_TTL);
		assert_eq!(soa.mname, name("ns1.dsync."));
		assert_eq!(soa.rname, name("hostmaster.dsync."));
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn answers_each_record_kind_with_its_ttl() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;

		let response = udp(server.udp, &query(1, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 1, ResponseCode::NoError);
		assert!(response.metadata.authoritative);
		assert_eq!(response.queries.len(), 1);
		assert_eq!(response.queries[0].name(), &name("alice.dsync."));
		let addresses: Vec<Ipv4Addr> = response
			.answers
			.iter()
			.map(|record| match &record.data {
				RData::A(a) => a.0,
				other => panic!("an A record: {other:?}"),
			})
			.collect();
		assert_eq!(addresses, vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)]);
		assert!(response.answers.iter().all(|record| record.ttl == TTL));
		assert!(response.answers.iter().all(|record| record.name == name("alice.dsync.")));
		assert!(response.edns.is_none(), "no OPT without one in the query");

		let response = udp(server.udp, &query(2, "alice.dsync.", RecordType::AAAA)).await;
		assert_answer(&response, 2, ResponseCode::NoError);
		let [record] = &response.answers[..] else { panic!("one AAAA: {response}") };
		assert_eq!(record.ttl, TTL);
		let RData::AAAA(aaaa) = &record.data else { panic!("an AAAA: {record}") };
		assert_eq!(aaaa.0, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));

		let response = udp(server.udp, &query(3, "alice.dsync.", RecordType::TXT)).await;
		let [record] = &response.answers[..] else { panic!("one TXT: {response}") };
		let RData::TXT(txt) = &record.data else { panic!("a TXT: {record}") };
		assert_eq!(
			txt.txt_data.iter().map(|s| s.to_vec()).collect::<Vec<_>>(),
			vec![b"v=spf1 -all".to_vec()]
		);

		let response = udp(server.udp, &query(4, "alice.dsync.", RecordType::MX)).await;
		let [record] = &response.answers[..] else { panic!("one MX: {response}") };
		let RData::MX(mx) = &record.data else { panic!("an MX: {record}") };
		assert_eq!(mx.preference, 10);
		assert_eq!(mx.exchange, name("mail.example.org."));

		let response = udp(server.udp, &query(5, "alice.dsync.", RecordType::SRV)).await;
		let [record] = &response.answers[..] else { panic!("one SRV: {response}") };
		let RData::SRV(srv) = &record.data else { panic!("an SRV: {record}") };
		assert_eq!((srv.priority, srv.weight, srv.port), (1, 2, 443));
		assert_eq!(srv.target, name("svc.alice.dsync."));

		// The malformed CNAME value was skipped: no CNAME at alice.
		let response = udp(server.udp, &query(6, "alice.dsync.", RecordType::CNAME)).await;
		assert_answer(&response, 6, ResponseCode::NoError);
		assert!(response.answers.is_empty());
		assert_soa_authority(&response, 10);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_cname_answers_every_other_type() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		for (id, qtype) in [(1, RecordType::A), (2, RecordType::TXT), (3, RecordType::CNAME)] {
			let response = udp(server.udp, &query(id, "www.alice.dsync.", qtype)).await;
			assert_answer(&response, id, ResponseCode::NoError);
			assert!(response.metadata.authoritative);
			let [record] = &response.answers[..] else { panic!("one CNAME: {response}") };
			assert_eq!(record.ttl, 120);
			let RData::CNAME(cname) = &record.data else { panic!("a CNAME: {record}") };
			assert_eq!(cname.0, name("alice.dsync."));
		}
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn missing_names_and_types_carry_the_soa() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;

		let response = udp(server.udp, &query(1, "nobody.dsync.", RecordType::A)).await;
		assert_answer(&response, 1, ResponseCode::NXDomain);
		assert!(response.metadata.authoritative);
		assert!(response.answers.is_empty());
		assert_soa_authority(&response, 10);

		let response = udp(server.udp, &query(2, "bare.dsync.", RecordType::A)).await;
		assert_answer(&response, 2, ResponseCode::NoError);
		assert!(response.metadata.authoritative);
		assert!(response.answers.is_empty());
		assert_soa_authority(&response, 10);

		// Labels no name can have: NXDOMAIN without reading state.
		let lookups = zone.lookups();
		for (id, text) in [(3, "al_ice.dsync."), (4, "*.alice.dsync."), (5, "ab--c.dsync.")] {
			let response = udp(server.udp, &query(id, text, RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::NXDomain);
			assert_soa_authority(&response, 10);
		}
		assert_eq!(zone.lookups(), lookups);

		// A failed read is SERVFAIL and is not cached.
		for id in [6, 7] {
			let response = udp(server.udp, &query(id, "broken.dsync.", RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::ServFail);
			assert!(!response.metadata.authoritative);
		}
		assert_eq!(zone.lookups(), lookups + 2);
		let stats = server.stats.snapshot();
		assert_eq!(stats.nxdomain, 4);
		assert_eq!(stats.servfail, 2);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn names_are_case_insensitive() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		let response = udp(server.udp, &query(1, "ALICE.DSync.", RecordType::A)).await;
		assert_answer(&response, 1, ResponseCode::NoError);
		assert_eq!(response.answers.len(), 2);
		assert_eq!(response.queries[0].name().to_ascii(), "ALICE.DSync.", "the question is echoed");
		// Same key: read once.
		let response = udp(server.udp, &query(2, "alice.dsync.", RecordType::A)).await;
		assert_eq!(response.answers.len(), 2);
		assert_eq!(zone.lookups(), 1);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn the_apex_has_soa_and_ns() {
		let zone = FakeZone::new();
		zone.finalize([7; 32], 1234);
		let server = start(&zone, config()).await;

		let response = udp(server.udp, &query(1, "dsync.", RecordType::SOA)).await;
		assert_answer(&response, 1, ResponseCode::NoError);
		assert!(response.metadata.authoritative);
		let [record] = &response.answers[..] else { panic!("one SOA: {response}") };
		let RData::SOA(soa) = &record.data else { panic!("an SOA: {record}") };
		assert_eq!(soa.serial, 1234);
		assert_eq!(soa.mname, name("ns1.dsync."));
		assert_eq!(soa.rname, name("hostmaster.dsync."));
		assert_eq!(soa.minimum, NEGATIVE_TTL);

		let response = udp(server.udp, &query(2, "DSYNC.", RecordType::NS)).await;
		assert_answer(&response, 2, ResponseCode::NoError);
		let [record] = &response.answers[..] else { panic!("one NS: {response}") };
		let RData::NS(ns) = &record.data else { panic!("an NS: {record}") };
		assert_eq!(ns.0, name("ns1.dsync."));

		let response = udp(server.udp, &query(3, "dsync.", RecordType::A)).await;
		assert_answer(&response, 3, ResponseCode::NoError);
		assert!(response.answers.is_empty());
		assert_soa_authority(&response, 1234);
		assert_eq!(zone.lookups(), 0, "the apex is not read from state");
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn other_zones_classes_and_types_are_refused() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		for (id, text) in
			[(1, "example.com."), (2, "dsync.com."), (3, "."), (4, "alice.dsync.org.")]
		{
			let response = udp(server.udp, &query(id, text, RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::Refused);
			assert!(!response.metadata.authoritative);
			assert!(response.answers.is_empty() && response.authorities.is_empty());
		}

		let mut chaos = query(5, "alice.dsync.", RecordType::TXT);
		chaos.queries[0].set_query_class(DNSClass::CH);
		assert_answer(&udp(server.udp, &chaos).await, 5, ResponseCode::Refused);

		let response = udp(server.udp, &query(6, "alice.dsync.", RecordType::ANY)).await;
		assert_answer(&response, 6, ResponseCode::NotImp);
		let response = udp(server.udp, &query(7, "dsync.", RecordType::AXFR)).await;
		assert_answer(&response, 7, ResponseCode::Refused);

		assert_eq!(zone.lookups(), 0);
		assert_eq!(server.stats.snapshot().refused, 6);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn malformed_messages_get_formerr_or_nothing() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;

		// Shorter than a header: dropped.
		assert_eq!(udp_raw(server.udp, &[0x12, 0x34, 0x01]).await, None);
		assert_eq!(udp_raw(server.udp, &[]).await, None);

		// A header announcing a question, then garbage: FORMERR with the id.
		let garbage = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff];
		let response = Message::from_vec(&udp_raw(server.udp, &garbage).await.unwrap()).unwrap();
		assert_answer(&response, 0x1234, ResponseCode::FormErr);
		assert!(response.queries.is_empty());

		// Two questions: FORMERR.
		let mut two = query(2, "alice.dsync.", RecordType::A);
		two.add_query(Query::query(name("bob.dsync."), RecordType::A));
		assert_answer(&udp(server.udp, &two).await, 2, ResponseCode::FormErr);

		// No question: FORMERR.
		let mut none = Message::new(3, MessageType::Query, OpCode::Query);
		none.metadata.recursion_desired = true;
		assert_answer(&udp(server.udp, &none).await, 3, ResponseCode::FormErr);

		// A response is never answered.
		let mut response = query(4, "alice.dsync.", RecordType::A);
		response.metadata.message_type = MessageType::Response;
		assert_eq!(udp_raw(server.udp, &response.to_vec().unwrap()).await, None);

		// Other opcodes: NOTIMP.
		let mut notify = query(5, "alice.dsync.", RecordType::SOA);
		notify.metadata.op_code = OpCode::Notify;
		assert_answer(&udp(server.udp, &notify).await, 5, ResponseCode::NotImp);

		// EDNS versions above 0: BADVERS, with an OPT record.
		let response =
			udp(server.udp, &with_edns(query(6, "alice.dsync.", RecordType::A), 1232, 1)).await;
		assert_answer(&response, 6, ResponseCode::BADVERS);
		assert!(response.edns.is_some());

		// Random bytes, then truncations of a valid query: no crash.
		let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
		let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
		let mut next = move || {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			seed
		};
		for _ in 0..300 {
			let len = (next() % 200) as usize;
			let packet: Vec<u8> = (0..len).map(|_| next() as u8).collect();
			socket.send_to(&packet, server.udp).await.unwrap();
		}
		let valid = with_edns(query(7, "alice.dsync.", RecordType::MX), 1232, 0).to_vec().unwrap();
		let mut prefix = valid.as_slice();
		while let Some((_, shorter)) = prefix.split_last() {
			prefix = shorter;
			socket.send_to(prefix, server.udp).await.unwrap();
		}

		// Still serving, over UDP and TCP.
		let response = udp(server.udp, &query(8, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 8, ResponseCode::NoError);
		let mut stream = TcpStream::connect(server.tcp).await.unwrap();
		stream.write_all(&[0, 3, 1, 2, 3]).await.unwrap();
		let response = tcp(&mut stream, &query(9, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 9, ResponseCode::NoError);
		assert!(server.stats.snapshot().formerr >= 3);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn tcp_answers_several_queries_per_connection() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		let mut stream = TcpStream::connect(server.tcp).await.unwrap();
		let response = tcp(&mut stream, &query(1, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 1, ResponseCode::NoError);
		assert_eq!(response.answers.len(), 2);
		let response = tcp(&mut stream, &query(2, "nobody.dsync.", RecordType::A)).await;
		assert_answer(&response, 2, ResponseCode::NXDomain);
		let response = tcp(&mut stream, &query(3, "example.com.", RecordType::A)).await;
		assert_answer(&response, 3, ResponseCode::Refused);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn large_answers_are_truncated_over_udp_and_whole_over_tcp() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;

		// Without EDNS: 512 bytes at most.
		let raw = udp_raw(server.udp, &query(1, "big.dsync.", RecordType::TXT).to_vec().unwrap())
			.await
			.unwrap();
		assert!(raw.len() <= 512);
		let response = Message::from_vec(&raw).unwrap();
		assert_answer(&response, 1, ResponseCode::NoError);
		assert!(response.metadata.truncation);
		assert!(response.answers.is_empty());
		assert_eq!(response.queries.len(), 1);

		// The client's EDNS size is capped at the server's.
		let message = with_edns(query(2, "big.dsync.", RecordType::TXT), 4096, 0);
		let raw = udp_raw(server.udp, &message.to_vec().unwrap()).await.unwrap();
		assert!(raw.len() <= usize::from(DEFAULT_MAX_UDP_PAYLOAD));
		let response = Message::from_vec(&raw).unwrap();
		assert!(response.metadata.truncation);
		assert!(response.answers.is_empty());
		let edns = response.edns.expect("an OPT record");
		assert_eq!(edns.max_payload(), DEFAULT_MAX_UDP_PAYLOAD);

		// A small answer is not truncated.
		let raw = udp_raw(server.udp, &query(3, "alice.dsync.", RecordType::A).to_vec().unwrap())
			.await
			.unwrap();
		assert!(!Message::from_vec(&raw).unwrap().metadata.truncation);

		// Over TCP: everything.
		let mut stream = TcpStream::connect(server.tcp).await.unwrap();
		let response = tcp(&mut stream, &query(4, "big.dsync.", RecordType::TXT)).await;
		assert_answer(&response, 4, ResponseCode::NoError);
		assert!(!response.metadata.truncation);
		assert_eq!(response.answers.len(), BIG_TXT_RECORDS);
		assert_eq!(server.stats.snapshot().truncated, 2);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn edns_answers_fit_the_advertised_size() {
		let zone = FakeZone::new();
		let mut records = zone.names.clone();
		records.insert(
			"mid.dsync".to_string(),
			NameRecords {
				ttl: TTL,
				records: (0..8).map(|i| (RecordKind::Txt, vec![b'a' + i; 100])).collect(),
			},
		);
		let zone = Arc::new(FakeZone {
			names: records,
			finalized: Mutex::new(([1; 32], 10)),
			lookups: AtomicUsize::new(0),
		});
		let server = start(&zone, config()).await;
		// About 950 bytes: over 512, under 1232.
		let plain = udp(server.udp, &query(1, "mid.dsync.", RecordType::TXT)).await;
		assert!(plain.metadata.truncation);
		let response =
			udp(server.udp, &with_edns(query(2, "mid.dsync.", RecordType::TXT), 1232, 0)).await;
		assert!(!response.metadata.truncation);
		assert_eq!(response.answers.len(), 8);
		assert!(response.edns.is_some());
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn queries_beyond_the_burst_are_dropped() {
		let zone = FakeZone::new();
		let server = start(&zone, DnsConfig { rate_limit_per_sec: 1, burst: 2, ..config() }).await;
		let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
		for id in 1..=5 {
			let packet = query(id, "alice.dsync.", RecordType::A).to_vec().unwrap();
			socket.send_to(&packet, server.udp).await.unwrap();
		}
		let mut buffer = vec![0; 4096];
		let mut answers = 0;
		while let Ok(Ok(_)) =
			timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await
		{
			answers += 1;
		}
		assert_eq!(answers, 2);
		let stats = server.stats.snapshot();
		assert_eq!(stats.rate_limited, 3);
		assert_eq!(stats.queries, 5);

		// Over TCP the query beyond the limit is refused.
		let zone = FakeZone::new();
		let server = start(&zone, DnsConfig { rate_limit_per_sec: 1, burst: 1, ..config() }).await;
		let mut stream = TcpStream::connect(server.tcp).await.unwrap();
		let response = tcp(&mut stream, &query(1, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 1, ResponseCode::NoError);
		let response = tcp(&mut stream, &query(2, "alice.dsync.", RecordType::A)).await;
		assert_answer(&response, 2, ResponseCode::Refused);
		assert_eq!(server.stats.snapshot().rate_limited, 1);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn state_is_read_once_per_name_and_finalised_block() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		for id in [1, 2] {
			let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::A)).await;
			assert_eq!(response.answers.len(), 2);
		}
		// Another type of the same name and an absent name.
		udp(server.udp, &query(3, "alice.dsync.", RecordType::TXT)).await;
		for id in [4, 5] {
			let response = udp(server.udp, &query(id, "nobody.dsync.", RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::NXDomain);
		}
		assert_eq!(zone.lookups(), 2);
		let stats = server.stats.snapshot();
		assert_eq!((stats.cache_hits, stats.cache_misses), (3, 2));

		// A new finalised block: read again, once.
		zone.finalize([2; 32], 11);
		for id in [6, 7] {
			let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::A)).await;
			assert_eq!(response.answers.len(), 2);
		}
		assert_eq!(zone.lookups(), 3);
		let response = udp(server.udp, &query(8, "nobody.dsync.", RecordType::A)).await;
		assert_soa_authority(&response, 11);
		assert_eq!(zone.lookups(), 4);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn repeated_queries_are_answered_from_stored_responses() {
		let zone = FakeZone::new();
		let server = start(&zone, config()).await;
		let mut first = None;
		for id in 1..=5u16 {
			let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::NoError);
			let answers: Vec<_> = response.answers.iter().map(|r| r.data.clone()).collect();
			assert_eq!(answers.len(), 2);
			assert_eq!(*first.get_or_insert(answers.clone()), answers);
		}
		// Another spelling is another key; its question is echoed as asked.
		let response = udp(server.udp, &query(9, "ALICE.dsync.", RecordType::A)).await;
		assert_eq!(response.queries[0].name().to_ascii(), "ALICE.dsync.");
		assert_eq!(response.answers.len(), 2);
		assert_eq!(zone.lookups(), 1);
		// Stored negative answers carry the serial of their block, and a new block drops them.
		for id in 10..=12 {
			let response = udp(server.udp, &query(id, "nobody.dsync.", RecordType::A)).await;
			assert_soa_authority(&response, 10);
		}
		zone.finalize([3; 32], 12);
		for id in 13..=15 {
			let response = udp(server.udp, &query(id, "nobody.dsync.", RecordType::A)).await;
			assert_answer(&response, id, ResponseCode::NXDomain);
			assert_soa_authority(&response, 12);
		}
	}

	#[test]
	fn record_values_decode_or_are_skipped() {
		fn decode(kind: RecordKind, value: &[u8]) -> Option<RData> {
			decode_record(&kind, value)
		}
		assert_eq!(
			decode(RecordKind::A, &[10, 0, 0, 1]),
			Some(RData::A(A::from(Ipv4Addr::new(10, 0, 0, 1))))
		);
		assert_eq!(decode(RecordKind::A, &[10, 0, 0]), None);
		assert_eq!(decode(RecordKind::Aaaa, &[0; 15]), None);
		assert_eq!(
			decode(RecordKind::Cname, b"bob.dsync"),
			Some(RData::CNAME(CNAME(name("bob.dsync."))))
		);
		assert_eq!(decode(RecordKind::Cname, b"bob..dsync"), None);
		assert_eq!(decode(RecordKind::Ns, b"ns\\.x"), None);
		assert_eq!(decode(RecordKind::Txt, &[b'x'; 256]), None);
		assert!(decode(RecordKind::Txt, &[b'x'; 255]).is_some());
		assert_eq!(decode(RecordKind::Mx, &[0, 1]), None);
		assert_eq!(decode(RecordKind::Srv, &[0, 1, 0, 2, 0]), None);
		assert_eq!(decode(RecordKind::ContentHash, &[1]), None);
	}

	#[test]
	fn names_are_classified() {
		let mut key = String::new();
		assert!(matches!(classify(&name("dsync."), &mut key), ZoneName::Apex));
		assert!(matches!(classify(&name("WWW.Alice.DSYNC."), &mut key), ZoneName::Name));
		assert_eq!(key, "www.alice.dsync");
		assert!(matches!(classify(&name("dsync.com."), &mut key), ZoneName::Outside));
		assert!(matches!(classify(&Name::root(), &mut key), ZoneName::Outside));
		assert!(matches!(classify(&name("a_b.dsync."), &mut key), ZoneName::Invalid));
		// A label holding a dot must not alias two labels.
		let dotted = Name::from_labels(vec![&b"www.alice"[..], &b"dsync"[..]]).unwrap();
		assert!(matches!(classify(&dotted, &mut key), ZoneName::Invalid));
		let unicode = Name::from_labels(vec!["é".as_bytes(), &b"dsync"[..]]).unwrap();
		assert!(matches!(classify(&unicode, &mut key), ZoneName::Invalid));
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
		assert!(buckets.current.len() + buckets.previous.len() <= 4);
		drop(buckets);
		// One IPv6 /64 is one source.
		let v6 = |low: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, low));
		assert!(limiter.allow(v6(1)));
		assert!(!limiter.allow(v6(2)));
		assert!(RateLimiter::new(0, 0, 4).allow(ip(1)));
	}
}
