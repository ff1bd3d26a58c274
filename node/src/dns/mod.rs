//! Authoritative DNS for the chain's top-level domain `dsync.`, over UDP and TCP.
//!
//! The server answers from finalised chain state only, through a [`ZoneSource`] (the node's
//! implementation, [`ChainZone`], reads the naming pallet through a runtime API at the finalised
//! block):
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
//!   sources (least recently seen forgotten first, a new source never refused; see
//!   [`crate::limits`]). Beyond it UDP queries are dropped silently and TCP queries get `REFUSED`.
//!   TCP connections are bounded ([`MAX_TCP_CONNECTIONS`], and [`MAX_TCP_CONNECTIONS_PER_SOURCE`]
//!   per source) and closed after [`TCP_IDLE_TIMEOUT`] without a complete query.
//! - **Finalised state only**: answers never depend on unfinalised blocks, so they cannot be rolled
//!   back by a fork.
//!
//! Caches: one block-scoped cache type (`cache::BlockCache`) is used twice.
//!
//! - The **zone cache** keeps each name's records, decoded for DNS (or the name's absence), so
//!   repeated queries for a name do not read state again. Failed reads (`SERVFAIL`) are not cached.
//!   At most [`MAX_PENDING_LOOKUPS`] UDP queries wait for a state read at once; beyond it, uncached
//!   UDP queries are dropped.
//! - The **response cache** keeps whole UDP responses keyed by the query's bytes after its id: a
//!   repeated query is answered by copying the stored response and setting the query's id, without
//!   parsing or encoding. Only answers from the zone (`NOERROR`, `NXDOMAIN`) to queries of at most
//!   512 bytes are stored. What a response depends on is all in the key (flags, question, EDNS
//!   record) and the block.
//!
//! Both hold the entries of one finalised block, at most [`DnsConfig::cache_entries`] of them: an
//! entry is only read at the block it was stored at; storing at a newer block drops every entry
//! of the older one; storing at an older block than the cache's is ignored, so a task that read
//! the finalised block just before it moved never takes the cache back; a full cache is emptied.
//!
//! Concurrency: a few UDP workers (one per core, 2 to 8) share the socket, each looping
//! `recv_from` / answer / `send_to`. Cached answers are produced inline, without spawning;
//! a query whose name is not cached is handed to its own task, which reads state on the blocking
//! pool and sends the answer, so a slow read never holds a worker. Each TCP connection is a
//! task answering its queries in order. Dropping the [`DnsServer::serve`] future stops every task.
//!
//! Layout: `engine` answers a message (parsing, the apex, names, EDNS, truncation), `records`
//! decodes records, `cache` holds the caches, `transport` runs the UDP workers and the TCP
//! connections, `stats` counts, `chain` reads the zone from the client.

mod cache;
mod chain;
mod engine;
mod records;
mod stats;
#[cfg(test)]
mod tests;
mod transport;

pub use chain::ChainZone;
pub use stats::log_stats;

use dsync_primitives::naming::NameRecords;
use engine::Engine;
use stats::DnsStats;
use std::{
	io,
	net::{Ipv4Addr, SocketAddr},
	sync::Arc,
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
pub const MAX_PENDING_LOOKUPS: usize = 256;
/// Sources whose rate-limit buckets are tracked at once.
pub const MAX_TRACKED_SOURCES: usize = 65_536;

const LOG_TARGET: &str = "dsync-dns";
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
	/// Entries of each cache (names, UDP responses) for the current finalised block (default
	/// 65,536; 0 = no cache).
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
	/// The finalised block the answers come from: (hash bytes, number). The caches are keyed by
	/// it.
	fn finalized(&self) -> ([u8; 32], u32);
	/// The live records of `name` (lower-case, e.g. "alice.dsync" or "www.alice.dsync", no
	/// trailing dot) at finalised block `at`: `Ok(None)` when the name does not exist or has
	/// expired (NXDOMAIN), `Ok(Some(records))` otherwise (possibly with no record of the asked
	/// type -> NOERROR/NODATA), `Err(())` on an internal failure (SERVFAIL).
	#[allow(clippy::result_unit_err)]
	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<NameRecords>, ()>;
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
		for _ in 0..transport::udp_worker_count() {
			tasks.spawn(transport::udp_worker(Arc::clone(&engine), Arc::clone(&udp)));
		}
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
