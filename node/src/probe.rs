//! The service-node side of Proof of Sync: a small HTTP endpoint that answers verifiers' probes.
//!
//! A verifier's off-chain worker sends `GET /dsync/probe/{seed as 64 hex digits}`; the node
//! answers `200 OK` with the SCALE encoding of a [`SignedProbeAnswer`]: its best and finalised
//! block, the echoed seed, the result of the compute challenge and an sr25519 signature by the
//! node's registered off-chain key (key type `dsyn`, from the node keystore). The protocol is
//! defined in [`dsync_primitives::probe`].
//!
//! The endpoint is off unless `--probe-listen-addr` is given. It answers only
//! `GET /dsync/probe/{seed}` (and `GET /dsync/health`); anything else gets a 4xx status and the
//! connection is closed. Requests are bounded ([`MAX_REQUEST_BYTES`] of head, [`REQUEST_TIMEOUT`]
//! to send it). An answer costs a signature and one digits inference (the compute challenge), so
//! anonymous requests are limited; the verifiers, who say who they are, are answered from a
//! budget of their own, which no flood of anonymous requests can drain.
//!
//! # Verifiers first
//!
//! Verifiers sign their probes ([`dsync_primitives::probe_auth`]: the headers `X-Dsync-Key`,
//! `X-Dsync-Block` and `X-Dsync-Signature`). A probe is *authenticated* when, checked in this
//! order, the cheap checks first ([`admit_verifier`]):
//!
//! 1. the three headers are there, once each, and well formed;
//! 2. the block is within [`MAX_BLOCK_DISTANCE`](probe_auth::MAX_BLOCK_DISTANCE) blocks of the
//!    node's best block;
//! 3. the key is a verifier's: the off-chain key of an `Active` validator node, as the runtime API
//!    `ProbeKeysApi::verifier_keys` tells at the best block, read again at most every
//!    [`VERIFIER_KEYS_REFRESH`] (whatever the requests, unknown keys included, the node calls the
//!    runtime no more often);
//! 4. that key was not answered at that block yet: a key's budget is one answer per block
//!    number, so a copy of a verifier's request (a replay) is never answered from it twice;
//! 5. the source still has signature checks left ([`SIGNATURE_CHECKS_PER_SOURCE`] a second):
//!    checking a signature is the one costly step, and whoever knows a verifier's public key
//!    can send garbage signatures with it;
//! 6. the signature verifies for this node's key, that block and the seed of the URL.
//!
//! An authenticated probe is answered at once: it neither waits for nor takes anything from the
//! anonymous limits below, so they can be full without keeping a verifier out. Any other request
//! (no headers, an unknown key, a stale block, a replay, a wrong signature) is anonymous and goes
//! through them, so a bad authentication costs its sender's budget like any request.
//!
//! # Anonymous limits
//!
//! - Every source (an IPv4 address or an IPv6 /64) has its own budget, checked first: at most
//!   [`MAX_CONNECTIONS_PER_PEER`] connections at once
//!   ([`MAX_CONNECTIONS_PER_PEER_WITH_STORAGE`] on a node serving storage; beyond: `503`) and `--probe-peer-rate-limit`
//!   answers per second, with bursts of the same size (beyond: `429`). The budgets of at most
//!   [`MAX_TRACKED_PEERS`] sources are tracked; the least recently seen are forgotten first, and
//!   a new source is never refused for want of room (see [`crate::limits`]).
//! - The node's budget: a token bucket of `--probe-rate-limit` answers per second, with bursts
//!   of the same size (beyond: `429`), and at most `--probe-max-connections` anonymous probes
//!   answered at once (beyond: `503`), so flooding the endpoint cannot take the node's CPU from
//!   block import.
//! - Connections that have not sent their request yet: at most [`MAX_PENDING_CONNECTIONS`]; when
//!   full, the oldest is closed to make room, never the new one refused
//!   ([`PendingConnections`]), so idle connections from many sources cannot keep a verifier,
//!   which sends its request as soon as it is connected, from being read.
//!
//! A verifier's worker takes `429` and `503` for "busy", not "down": it reports nothing and
//! probes again at its next block (`pallets/proof-of-sync/src/ocw.rs`).

use std::{
	collections::{BTreeSet, HashMap},
	net::{IpAddr, SocketAddr},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, MutexGuard, PoisonError,
	},
	time::{Duration, Instant},
};

use crate::{
	cli::ProbeParams,
	limits::{ConnectionLimiter, PendingConnections, PendingSlot, RateLimiter, TokenBucket},
};
use codec::Encode;
use dsync_primitives::{
	hex,
	probe::{compute_challenge, parse_seed, ProbeAnswer, SignedProbeAnswer, KEY_TYPE, PROBE_PATH},
	probe_auth::{self, ProbeAuth, BLOCK_HEADER, KEY_HEADER, SIGNATURE_HEADER},
	BlockNumber,
};
use sp_core::{sr25519, H256};
use sp_keystore::KeystorePtr;
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
	sync::Semaphore,
};

/// Largest request head accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 2048;
/// Time a client has to send its request head.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections one source (IPv4 address or IPv6 /64) may hold open at once.
pub const MAX_CONNECTIONS_PER_PEER: usize = 2;
/// The same on a node that also serves storage and the gateway on this address: a browser
/// loading a site opens several connections, a client uploads while a gateway downloads.
/// Probe answers keep their own per-source rate limits.
pub const MAX_CONNECTIONS_PER_PEER_WITH_STORAGE: usize = 16;
/// Sources whose rate budgets are tracked at once (the least recently seen are forgotten first).
pub const MAX_TRACKED_PEERS: usize = 4096;
/// Connections that have not sent their request yet, at most; when full, the oldest is closed
/// to make room for a new one.
pub const MAX_PENDING_CONNECTIONS: usize = 1024;
/// How long the verifiers' keys read from the chain are used before they are read again.
pub const VERIFIER_KEYS_REFRESH: Duration = Duration::from_secs(6);
/// The most verifier keys kept (the chain has at most its `MaxValidatorNodes`, 100).
pub const MAX_VERIFIER_KEYS: usize = 4096;
/// Signature checks of authenticated probes per second from one source (IPv6: one /64), with
/// bursts of the same size; beyond them a probe is anonymous. A verifier sends one probe per
/// block and key.
pub const SIGNATURE_CHECKS_PER_SOURCE: u32 = 4;

const LOG_TARGET: &str = "dsync::probe";

/// The node's view of the chain that a probe answer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHeads {
	/// Best block number.
	pub best_number: BlockNumber,
	/// Best block hash.
	pub best_hash: H256,
	/// Last finalised block number.
	pub finalized_number: BlockNumber,
	/// Last finalised block hash.
	pub finalized_hash: H256,
}

/// Where the endpoint reads the chain heads from (the client, in the node).
pub type HeadsProvider = Arc<dyn Fn() -> ChainHeads + Send + Sync>;

/// Where the endpoint reads the verifiers' `dsyn` keys from: in the node, the runtime API
/// `ProbeKeysApi::verifier_keys` at the best block. An error keeps the keys read before.
pub type VerifierKeysProvider = Arc<dyn Fn() -> Result<Vec<[u8; 32]>, String> + Send + Sync>;

/// How the endpoint answered a connection: the `outcome` label of the
/// `dsync_probe_responses_total` metric (see [`ProbeStats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// A signed answer to a verifier's authenticated probe (`200`).
	AnsweredVerifier,
	/// A signed answer to an anonymous probe (`200`).
	AnsweredAnonymous,
	/// `GET /health` (`200`).
	Health,
	/// Not a probe: a malformed request, another path or method (`400`, `404`, `405`).
	BadRequest,
	/// The request head did not arrive within [`REQUEST_TIMEOUT`] (`408`).
	Timeout,
	/// The request head exceeded [`MAX_REQUEST_BYTES`] (`431`).
	TooLarge,
	/// An anonymous probe over its source's or the node's budget (`429`).
	RateLimited,
	/// Refused for load: the source's connections, or the anonymous probes answered at once
	/// (`503`).
	Busy,
	/// The node could not sign an answer (no or several `dsyn` keys, `503`).
	NoKey,
}

impl Outcome {
	/// Every outcome, in [`ProbeStats`]'s order.
	pub const ALL: [Outcome; 9] = [
		Outcome::AnsweredVerifier,
		Outcome::AnsweredAnonymous,
		Outcome::Health,
		Outcome::BadRequest,
		Outcome::Timeout,
		Outcome::TooLarge,
		Outcome::RateLimited,
		Outcome::Busy,
		Outcome::NoKey,
	];

	/// Its label value.
	pub fn label(self) -> &'static str {
		match self {
			Outcome::AnsweredVerifier => "answered_verifier",
			Outcome::AnsweredAnonymous => "answered_anonymous",
			Outcome::Health => "health",
			Outcome::BadRequest => "bad_request",
			Outcome::Timeout => "timeout",
			Outcome::TooLarge => "too_large",
			Outcome::RateLimited => "rate_limited",
			Outcome::Busy => "busy",
			Outcome::NoKey => "no_key",
		}
	}
}

/// The endpoint's responses by [`Outcome`], for the node's Prometheus metrics
/// (`crate::metrics`).
#[derive(Debug, Default)]
pub struct ProbeStats {
	counts: [AtomicU64; Outcome::ALL.len()],
}

impl ProbeStats {
	/// Count one response with `outcome`.
	pub(crate) fn count(&self, outcome: Outcome) {
		self.counts[outcome as usize].fetch_add(1, Ordering::Relaxed);
	}

	/// The responses with `outcome` so far.
	pub fn get(&self, outcome: Outcome) -> u64 {
		self.counts[outcome as usize].load(Ordering::Relaxed)
	}
}

/// Everything a request needs.
struct Shared {
	/// The storage endpoints served on the same address, when the node keeps storage.
	storage: Option<Arc<crate::storage::StorageService>>,
	keystore: KeystorePtr,
	key: Option<sr25519::Public>,
	heads: HeadsProvider,
	/// The node's anonymous budget, whatever the source.
	bucket: Mutex<TokenBucket>,
	/// Each source's anonymous budget.
	peers: RateLimiter,
	/// Anonymous probes answered at once.
	answering: Semaphore,
	/// Each source's signature checks.
	signature_checks: RateLimiter,
	/// The verifiers' keys and the blocks each was answered at.
	verifiers: Verifiers,
	stats: Arc<ProbeStats>,
}

/// The verifiers' keys, read from the chain at most every [`VERIFIER_KEYS_REFRESH`], with the
/// blocks each key was answered at (within
/// [`MAX_BLOCK_DISTANCE`](probe_auth::MAX_BLOCK_DISTANCE) of the best block).
struct Verifiers {
	provider: VerifierKeysProvider,
	state: Mutex<VerifierKeys>,
}

#[derive(Default)]
struct VerifierKeys {
	/// Each verifier key, with the blocks of the authenticated probes answered for it.
	answered: HashMap<[u8; 32], BTreeSet<BlockNumber>>,
	/// When the keys were last read.
	read_at: Option<Instant>,
}

impl Verifiers {
	fn new(provider: VerifierKeysProvider) -> Self {
		Self { provider, state: Mutex::new(VerifierKeys::default()) }
	}

	/// Whether `key` is a verifier's key that was not answered at `block` yet (the keys are read
	/// again first when they are due).
	fn may_answer(&self, key: &[u8; 32], block: BlockNumber) -> bool {
		let state = self.current();
		state.answered.get(key).is_some_and(|blocks| !blocks.contains(&block))
	}

	/// Take `key`'s answer at `block`; false when it was taken already (a copy of the same
	/// request got there first) or `key` is no verifier's any more. Forgets the blocks that are
	/// no longer fresh at `best`, so a key holds at most `2 * MAX_BLOCK_DISTANCE + 2` of them.
	fn take(&self, key: &[u8; 32], block: BlockNumber, best: BlockNumber) -> bool {
		let mut state = self.lock();
		let Some(blocks) = state.answered.get_mut(key) else { return false };
		blocks.retain(|answered| probe_auth::is_fresh(*answered, best));
		blocks.insert(block)
	}

	fn lock(&self) -> MutexGuard<'_, VerifierKeys> {
		self.state.lock().unwrap_or_else(PoisonError::into_inner)
	}

	/// The keys, read again from the chain when the last read is [`VERIFIER_KEYS_REFRESH`] old
	/// (or failed that long ago). A key still there keeps its answered blocks.
	fn current(&self) -> MutexGuard<'_, VerifierKeys> {
		let mut state = self.lock();
		let now = Instant::now();
		let due = match state.read_at {
			Some(at) => now.saturating_duration_since(at) >= VERIFIER_KEYS_REFRESH,
			None => true,
		};
		if due {
			state.read_at = Some(now);
			match (self.provider)() {
				Ok(keys) => {
					let mut previous = std::mem::take(&mut state.answered);
					state.answered = keys
						.into_iter()
						.take(MAX_VERIFIER_KEYS)
						.map(|key| {
							let blocks = previous.remove(&key).unwrap_or_default();
							(key, blocks)
						})
						.collect();
				},
				Err(error) => {
					log::debug!(target: LOG_TARGET, "cannot read the verifiers' keys: {error}")
				},
			}
		}
		state
	}
}

/// Bind the endpoint (inside a Tokio runtime); the returned future serves it until dropped.
/// `verifier_keys` tells which keys authenticated probes may come from.
pub fn bind(
	params: &ProbeParams,
	addr: SocketAddr,
	keystore: KeystorePtr,
	heads: HeadsProvider,
	verifier_keys: VerifierKeysProvider,
	stats: Arc<ProbeStats>,
	storage: Option<Arc<crate::storage::StorageService>>,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
	bind_with(params, addr, keystore, heads, verifier_keys, stats, MAX_PENDING_CONNECTIONS, storage)
}

/// [`bind`] with at most `max_pending` connections waiting for their request.
#[allow(clippy::too_many_arguments)] // `bind`'s arguments and the tests' pending bound
fn bind_with(
	params: &ProbeParams,
	addr: SocketAddr,
	keystore: KeystorePtr,
	heads: HeadsProvider,
	verifier_keys: VerifierKeysProvider,
	stats: Arc<ProbeStats>,
	max_pending: usize,
	storage: Option<Arc<crate::storage::StorageService>>,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
	let listener = std::net::TcpListener::bind(addr)?;
	listener.set_nonblocking(true)?;
	let listener = TcpListener::from_std(listener)?;
	let local = listener.local_addr()?;
	let per_peer = if storage.is_some() {
		MAX_CONNECTIONS_PER_PEER_WITH_STORAGE
	} else {
		MAX_CONNECTIONS_PER_PEER
	};
	let shared = Arc::new(Shared {
		storage,
		keystore,
		key: params.probe_key,
		heads,
		bucket: Mutex::new(TokenBucket::new(params.probe_rate_limit, params.probe_rate_limit)),
		peers: RateLimiter::new(
			params.probe_peer_rate_limit,
			params.probe_peer_rate_limit,
			MAX_TRACKED_PEERS,
		),
		answering: Semaphore::new(params.probe_max_connections as usize),
		signature_checks: RateLimiter::new(
			SIGNATURE_CHECKS_PER_SOURCE,
			SIGNATURE_CHECKS_PER_SOURCE,
			MAX_TRACKED_PEERS,
		),
		verifiers: Verifiers::new(verifier_keys),
		stats,
	});
	let stats = Arc::clone(&shared.stats);
	let serve = accept_loop(listener, per_peer, max_pending, stats, move |ip, stream, waiting| {
		let shared = Arc::clone(&shared);
		async move { handle(&shared, ip, stream, waiting).await }
	});
	log::info!(target: LOG_TARGET, "Proof-of-Sync probe endpoint listening on http://{local}");
	Ok((local, serve))
}

/// Bind the website gateway (`--gateway-listen-addr`, e.g. `0.0.0.0:80`): an address serving only
/// what `storage` serves to the public, `.dsync` websites by `Host`, the IPFS gateway
/// (`/ipfs/`) and delegated routing (`/routing/v1/`), with the probe endpoint's connection limits
/// (per source, pending connections, the request deadline); anything else gets `404`. The
/// returned future serves it until dropped.
pub fn bind_gateway(
	addr: SocketAddr,
	storage: Arc<crate::storage::StorageService>,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
	let listener = std::net::TcpListener::bind(addr)?;
	listener.set_nonblocking(true)?;
	let listener = TcpListener::from_std(listener)?;
	let local = listener.local_addr()?;
	// Counted apart from the probe endpoint's responses (not exported).
	let stats = Arc::new(ProbeStats::default());
	let counts = Arc::clone(&stats);
	let serve = accept_loop(
		listener,
		MAX_CONNECTIONS_PER_PEER_WITH_STORAGE,
		MAX_PENDING_CONNECTIONS,
		stats,
		move |_, mut stream, waiting| {
			let (storage, stats) = (Arc::clone(&storage), Arc::clone(&counts));
			async move {
				let Some(head) = read_request(&stats, &mut stream).await? else { return Ok(()) };
				drop(waiting);
				let target = head.split(|byte| *byte == b' ').nth(1).unwrap_or_default();
				let public = (crate::storage::is_storage_target(target)
					&& !target.starts_with(b"/dsync/"))
					|| crate::storage::website_name(&head).is_some();
				if public {
					storage.serve(stream, head).await;
					return Ok(());
				}
				respond(&stats, &mut stream, Outcome::BadRequest, 404, "text/plain", b"not found")
					.await
			}
		},
	);
	log::info!(target: LOG_TARGET, "website gateway listening on http://{local}");
	Ok((local, serve))
}

/// Accept connections on `listener` until dropped: at most `per_peer` open per source (beyond:
/// `503`), at most `max_pending` waiting for their request (the oldest is closed to make room, a
/// new connection is never refused); each is handled by `handler` on a task of its own.
fn accept_loop<F, Fut>(
	listener: TcpListener,
	per_peer: usize,
	max_pending: usize,
	stats: Arc<ProbeStats>,
	handler: F,
) -> impl std::future::Future<Output = ()>
where
	F: Fn(IpAddr, TcpStream, PendingSlot) -> Fut + Send + 'static,
	Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
	let peer_connections = Arc::new(ConnectionLimiter::new(per_peer));
	let pending = Arc::new(PendingConnections::new(max_pending));
	async move {
		loop {
			let (mut stream, peer) = match listener.accept().await {
				Ok(accepted) => accepted,
				Err(error) => {
					log::debug!(target: LOG_TARGET, "accept failed: {error}");
					tokio::time::sleep(Duration::from_millis(50)).await;
					continue;
				},
			};
			let ip = peer.ip();
			let Some(slot) = peer_connections.open(ip) else {
				let stats = Arc::clone(&stats);
				tokio::spawn(async move {
					let _ = respond(&stats, &mut stream, Outcome::Busy, 503, "text/plain", b"busy")
						.await;
				});
				continue;
			};
			let waiting = pending.admit();
			let id = waiting.id();
			let request = handler(ip, stream, waiting);
			let task = tokio::spawn(async move {
				let _slot = slot;
				if let Err(error) = request.await {
					log::debug!(target: LOG_TARGET, "request from {peer}: {error}");
				}
			});
			pending.attach(id, task.abort_handle());
		}
	}
}

/// Read a request's head within [`REQUEST_TIMEOUT`]; `None` when it was answered instead
/// (`431` too large, `408` too slow).
async fn read_request(
	stats: &ProbeStats,
	stream: &mut TcpStream,
) -> std::io::Result<Option<Vec<u8>>> {
	let (outcome, status, body) =
		match tokio::time::timeout(REQUEST_TIMEOUT, read_head(stream)).await {
			Ok(Ok(Some(head))) => return Ok(Some(head)),
			Ok(Ok(None)) => (Outcome::TooLarge, 431, &b"request too large"[..]),
			Ok(Err(error)) => return Err(error),
			Err(_) => (Outcome::Timeout, 408, &b"request timeout"[..]),
		};
	respond(stats, stream, outcome, status, "text/plain", body).await?;
	Ok(None)
}

async fn handle(
	shared: &Shared,
	ip: IpAddr,
	mut stream: TcpStream,
	waiting: PendingSlot,
) -> std::io::Result<()> {
	let stats = &shared.stats;
	let Some(head) = read_request(stats, &mut stream).await? else { return Ok(()) };
	// The request is in: the connection no longer waits, nor is closed to make room.
	drop(waiting);
	// The storage endpoints, when the node keeps storage, are served on the same address.
	if let Some(storage) = &shared.storage {
		let target = head.split(|byte| *byte == b' ').nth(1).unwrap_or_default();
		if crate::storage::is_storage_target(target)
			|| crate::storage::website_name(&head).is_some()
		{
			Arc::clone(storage).serve(stream, head).await;
			return Ok(());
		}
	}
	let (seed, auth) = match route(&head) {
		Ok(Route::Health) => {
			return respond(stats, &mut stream, Outcome::Health, 200, "text/plain", b"ok").await
		},
		Ok(Route::Probe { seed, auth }) => (seed, auth),
		Err((status, reason)) => {
			return respond(
				stats,
				&mut stream,
				Outcome::BadRequest,
				status,
				"text/plain",
				reason.as_bytes(),
			)
			.await
		},
	};
	if let Some(key) = auth.and_then(|auth| admit_verifier(shared, ip, &auth, &seed)) {
		let (outcome, status, content_type, body) =
			answer(shared, Ok(key), seed, Outcome::AnsweredVerifier);
		return respond(stats, &mut stream, outcome, status, content_type, &body).await;
	}
	// An anonymous probe.
	let Ok(_permit) = shared.answering.try_acquire() else {
		return respond(stats, &mut stream, Outcome::Busy, 503, "text/plain", b"busy").await;
	};
	// The source's own budget first, so a flooder does not spend the node's.
	let allowed = shared.peers.allow(ip)
		&& shared.bucket.lock().map(|mut bucket| bucket.take()).unwrap_or(false);
	if !allowed {
		return respond(stats, &mut stream, Outcome::RateLimited, 429, "text/plain", b"rate limit")
			.await;
	}
	let (outcome, status, content_type, body) =
		answer(shared, signing_key(shared), seed, Outcome::AnsweredAnonymous);
	respond(stats, &mut stream, outcome, status, content_type, &body).await
}

/// Read until the end of the request head; `None` when it exceeds [`MAX_REQUEST_BYTES`].
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
	let mut head = Vec::with_capacity(256);
	let mut buffer = [0u8; 512];
	loop {
		let read = stream.read(&mut buffer).await?;
		if read == 0 {
			return Ok(Some(head));
		}
		head.extend_from_slice(buffer.get(..read).unwrap_or_default());
		if head.windows(4).any(|window| window == b"\r\n\r\n") {
			return Ok(Some(head));
		}
		if head.len() > MAX_REQUEST_BYTES {
			return Ok(None);
		}
	}
}

/// What a request asks for.
enum Route {
	/// `GET /dsync/health`.
	Health,
	/// `GET /dsync/probe/{seed}`, with the verifier's authentication when the request carries it.
	Probe { seed: [u8; 32], auth: Option<ProbeAuth> },
}

/// What the request `head` asks for, or the status and body refusing it.
fn route(head: &[u8]) -> Result<Route, (u16, &'static str)> {
	let line = head.split(|byte| *byte == b'\r' || *byte == b'\n').next().unwrap_or_default();
	let mut parts = line.split(|byte| *byte == b' ');
	let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
	else {
		return Err((400, "malformed request line"));
	};
	if !version.starts_with(b"HTTP/1.") {
		return Err((400, "HTTP/1.x only"));
	}
	if method != b"GET" {
		return Err((405, "only GET"));
	}
	if target == b"/dsync/health" {
		return Ok(Route::Health);
	}
	let Some(hex) = target.strip_prefix(PROBE_PATH.as_bytes()) else {
		return Err((404, "not found"));
	};
	let Some(seed) = parse_seed(hex) else {
		return Err((400, "the seed is 64 hex digits"));
	};
	Ok(Route::Probe { seed, auth: authentication(head) })
}

/// The value of the header `name` (any case) in the request `head`, without surrounding
/// whitespace: `Ok(None)` when it is not there, `Err(())` when it is there more than once.
fn header<'a>(head: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, ()> {
	let mut found = None;
	for line in head.split(|byte| *byte == b'\n').skip(1) {
		let line = line.strip_suffix(b"\r").unwrap_or(line);
		if line.is_empty() {
			break;
		}
		let Some(colon) = line.iter().position(|byte| *byte == b':') else { continue };
		let (field, value) = line.split_at(colon);
		if !field.eq_ignore_ascii_case(name.as_bytes()) {
			continue;
		}
		if found.is_some() {
			return Err(());
		}
		found = Some(value.get(1..).unwrap_or_default().trim_ascii());
	}
	Ok(found)
}

/// The verifier's authentication a request carries: `None` unless the three headers are there,
/// once each, and well formed ([`ProbeAuth::parse`]).
fn authentication(head: &[u8]) -> Option<ProbeAuth> {
	let key = header(head, KEY_HEADER).ok()??;
	let block = header(head, BLOCK_HEADER).ok()??;
	let signature = header(head, SIGNATURE_HEADER).ok()??;
	ProbeAuth::parse(key, block, signature)
}

/// The key to answer the probe of `seed` from `ip` with, when `auth` authenticates it (the
/// checks of the module docs, in their order); `None` makes it an anonymous request.
fn admit_verifier(
	shared: &Shared,
	ip: IpAddr,
	auth: &ProbeAuth,
	seed: &[u8; 32],
) -> Option<sr25519::Public> {
	let best = (shared.heads)().best_number;
	if !probe_auth::is_fresh(auth.block, best)
		|| !shared.verifiers.may_answer(&auth.key.0, auth.block)
	{
		return None;
	}
	if !shared.signature_checks.allow(ip) {
		return None;
	}
	let node_key = signing_key(shared).ok()?;
	if !auth.signature_is_valid(&node_key, seed) {
		log::debug!(
			target: LOG_TARGET,
			"a probe from {ip} signed with the verifier key {} does not verify",
			hex::encode(&auth.key.0)
		);
		return None;
	}
	shared.verifiers.take(&auth.key.0, auth.block, best).then_some(node_key)
}

/// The outcome (`answered` when signed), status, content type and body answering a probe of
/// `seed` with `key` (this node's `dsyn` key, or why there is none to answer with: `503`).
fn answer(
	shared: &Shared,
	key: Result<sr25519::Public, String>,
	seed: [u8; 32],
	answered: Outcome,
) -> (Outcome, u16, &'static str, Vec<u8>) {
	match key.and_then(|key| sign_answer(shared, key, seed)) {
		Ok(signed) => (answered, 200, "application/octet-stream", signed.encode()),
		Err(reason) => {
			log::warn!(target: LOG_TARGET, "cannot answer a probe: {reason}");
			(Outcome::NoKey, 503, "text/plain", reason.into_bytes())
		},
	}
}

/// The `dsyn` key answers are signed with: `--probe-key`, or else the only `dsyn` key in the
/// keystore.
fn signing_key(shared: &Shared) -> Result<sr25519::Public, String> {
	if let Some(key) = shared.key {
		return Ok(key);
	}
	let keys = shared.keystore.sr25519_public_keys(KEY_TYPE);
	match keys.as_slice() {
		[key] => Ok(*key),
		[] => Err("no `dsyn` key in the keystore".into()),
		_ => Err("several `dsyn` keys in the keystore: choose one with --probe-key".into()),
	}
}

/// Build the answer to `seed` and sign it with `key`.
fn sign_answer(
	shared: &Shared,
	key: sr25519::Public,
	seed: [u8; 32],
) -> Result<SignedProbeAnswer, String> {
	let heads = (shared.heads)();
	let answer = ProbeAnswer {
		seed,
		best_number: heads.best_number,
		best_hash: heads.best_hash,
		finalized_number: heads.finalized_number,
		finalized_hash: heads.finalized_hash,
		compute: compute_challenge(&seed),
	};
	let signature = shared
		.keystore
		.sr25519_sign(KEY_TYPE, &key, &answer.signing_payload())
		.map_err(|error| format!("keystore: {error}"))?
		.ok_or_else(|| format!("the `dsyn` key {} is not in the keystore", hex::encode(&key.0)))?;
	Ok(SignedProbeAnswer { answer, signature })
}

async fn respond(
	stats: &ProbeStats,
	stream: &mut TcpStream,
	outcome: Outcome,
	status: u16,
	content_type: &str,
	body: &[u8],
) -> std::io::Result<()> {
	stats.count(outcome);
	let reason = match status {
		200 => "OK",
		400 => "Bad Request",
		404 => "Not Found",
		405 => "Method Not Allowed",
		408 => "Request Timeout",
		429 => "Too Many Requests",
		431 => "Request Header Fields Too Large",
		_ => "Service Unavailable",
	};
	let head = format!(
		"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).await?;
	stream.write_all(body).await?;
	stream.shutdown().await
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Decode;
	use sp_core::Pair;
	use sp_keystore::{testing::MemoryKeystore, Keystore};
	use std::sync::atomic::{AtomicUsize, Ordering};

	fn heads() -> HeadsProvider {
		Arc::new(|| ChainHeads {
			best_number: 42,
			best_hash: H256::repeat_byte(4),
			finalized_number: 40,
			finalized_hash: H256::repeat_byte(2),
		})
	}

	fn params(rate: u32, connections: u32) -> ProbeParams {
		ProbeParams {
			probe_listen_addr: None,
			probe_key: None,
			probe_rate_limit: rate,
			probe_max_connections: connections,
			probe_peer_rate_limit: 1000,
		}
	}

	async fn get(addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
		get_from("127.0.0.1", addr, request).await
	}

	/// A connection from the loopback address `source` (any `127.x.y.z` works on Linux).
	async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
		let socket = tokio::net::TcpSocket::new_v4().unwrap();
		socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
		socket.connect(addr).await.unwrap()
	}

	async fn get_from(source: &str, addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
		let mut stream = connect_from(source, addr).await;
		stream.write_all(request).await.unwrap();
		let mut response = Vec::new();
		stream.read_to_end(&mut response).await.unwrap();
		let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
		let status = std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap();
		(status, response[split + 4..].to_vec())
	}

	fn probe_request(seed: &[u8; 32]) -> Vec<u8> {
		format!("GET {PROBE_PATH}{} HTTP/1.1\r\nHost: x\r\n\r\n", hex::encode(seed)).into_bytes()
	}

	fn start(params: ProbeParams, keystore: KeystorePtr) -> (tokio::runtime::Runtime, SocketAddr) {
		start_with(params, keystore, verifiers(&[]), MAX_PENDING_CONNECTIONS)
	}

	/// The endpoint with `verifier_keys` and at most `max_pending` connections waiting.
	fn start_with(
		params: ProbeParams,
		keystore: KeystorePtr,
		verifier_keys: VerifierKeysProvider,
		max_pending: usize,
	) -> (tokio::runtime::Runtime, SocketAddr) {
		let stats = Arc::new(ProbeStats::default());
		start_counted(params, keystore, verifier_keys, max_pending, stats)
	}

	/// [`start_with`], counting the responses in `stats`.
	fn start_counted(
		params: ProbeParams,
		keystore: KeystorePtr,
		verifier_keys: VerifierKeysProvider,
		max_pending: usize,
		stats: Arc<ProbeStats>,
	) -> (tokio::runtime::Runtime, SocketAddr) {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		let (addr, serve) = {
			let _context = runtime.enter();
			let addr = "127.0.0.1:0".parse().unwrap();
			bind_with(&params, addr, keystore, heads(), verifier_keys, stats, max_pending, None)
				.unwrap()
		};
		runtime.spawn(serve);
		(runtime, addr)
	}

	/// A node keeping storage serves its storage endpoints on the probe endpoint's address,
	/// and the probe endpoint goes on answering there.
	#[test]
	fn storage_requests_are_handed_to_the_storage_service() {
		use crate::storage::{SlotChain, StorageService};
		let dir = std::env::temp_dir().join(format!("dsync-probe-storage-{}", std::process::id()));
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let service =
			StorageService::open(&dir, 1 << 20, keystore.clone(), SlotChain::nothing()).unwrap();
		let runtime = tokio::runtime::Runtime::new().unwrap();
		let (addr, serve) = {
			let _context = runtime.enter();
			let stats = Arc::new(ProbeStats::default());
			let addr = "127.0.0.1:0".parse().unwrap();
			let storage = Some(Arc::clone(&service));
			bind(&params(10, 4), addr, keystore, heads(), verifiers(&[]), stats, storage).unwrap()
		};
		runtime.spawn(serve);
		let upload = b"PUT /dsync/storage/v1/slots/0/0 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx";
		let (status, body) = runtime.block_on(get(addr, upload));
		assert_eq!((status, body.as_slice()), (404, &b"no such slot of an open order"[..]));
		let gateway = b"GET /ipfs/bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm HTTP/1.1\r\n\r\n";
		assert_eq!(runtime.block_on(get(addr, gateway)).0, 404);
		assert_eq!(runtime.block_on(get(addr, b"GET /dsync/health HTTP/1.1\r\n\r\n")).0, 200);
		// A website request (a `.dsync` Host) goes to the storage service too: this name has none.
		let site = b"GET / HTTP/1.1\r\nHost: alice.dsync\r\n\r\n";
		let (status, body) = runtime.block_on(get(addr, site));
		assert_eq!((status, body.as_slice()), (404, &b"alice.dsync has no website"[..]));
		// A probe with a `.dsync` Host is still a probe.
		let health = b"GET /dsync/health HTTP/1.1\r\nHost: alice.dsync\r\n\r\n";
		assert_eq!(runtime.block_on(get(addr, health)), (200, b"ok".to_vec()));

		// The website gateway's own address serves the public part only.
		let (gateway, serve) = {
			let _context = runtime.enter();
			bind_gateway("127.0.0.1:0".parse().unwrap(), service).unwrap()
		};
		runtime.spawn(serve);
		let (status, body) = runtime.block_on(get(gateway, site));
		assert_eq!((status, body.as_slice()), (404, &b"alice.dsync has no website"[..]));
		let cid = b"GET /ipfs/bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm HTTP/1.1\r\n\r\n";
		assert_eq!(
			runtime.block_on(get(gateway, cid)),
			(404, b"no open order keeps this CID".to_vec())
		);
		let probe = probe_request(&[1; 32]);
		for refused in [&b"GET /dsync/health HTTP/1.1\r\n\r\n"[..], &upload[..], &probe[..]] {
			assert_eq!(runtime.block_on(get(gateway, refused)), (404, b"not found".to_vec()));
		}
		let _ = std::fs::remove_dir_all(dir);
	}

	/// Every response is counted under its outcome (the `dsync_probe_responses_total` metric): a
	/// verifier's and an anonymous answer, a health check, a bad request, an answer refused for
	/// the rate limit; nothing else.
	#[test]
	fn counts_responses_by_outcome() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[7; 32]);
		let stats = Arc::new(ProbeStats::default());
		let (runtime, addr) = start_counted(
			params(1, 4),
			keystore,
			verifiers(&[verifier.public()]),
			MAX_PENDING_CONNECTIONS,
			Arc::clone(&stats),
		);
		let seed = [3u8; 32];
		let signed = signed_request(&verifier, &node, 42, &seed);
		assert_eq!(runtime.block_on(get(addr, &signed)).0, 200);
		assert_eq!(runtime.block_on(get_from("127.3.0.1", addr, &probe_request(&seed))).0, 200);
		assert_eq!(runtime.block_on(get_from("127.3.0.2", addr, &probe_request(&seed))).0, 429);
		assert_eq!(runtime.block_on(get(addr, b"GET /dsync/health HTTP/1.1\r\n\r\n")).0, 200);
		assert_eq!(runtime.block_on(get(addr, b"GET /nothing HTTP/1.1\r\n\r\n")).0, 404);
		let counts: Vec<(Outcome, u64)> =
			Outcome::ALL.iter().map(|outcome| (*outcome, stats.get(*outcome))).collect();
		assert_eq!(
			counts,
			vec![
				(Outcome::AnsweredVerifier, 1),
				(Outcome::AnsweredAnonymous, 1),
				(Outcome::Health, 1),
				(Outcome::BadRequest, 1),
				(Outcome::Timeout, 0),
				(Outcome::TooLarge, 0),
				(Outcome::RateLimited, 1),
				(Outcome::Busy, 0),
				(Outcome::NoKey, 0),
			]
		);
	}

	/// The chain says the verifiers' keys are `keys`.
	fn verifiers(keys: &[sr25519::Public]) -> VerifierKeysProvider {
		let keys: Vec<[u8; 32]> = keys.iter().map(|key| key.0).collect();
		Arc::new(move || Ok(keys.clone()))
	}

	/// A probe of `seed` authenticated by `auth`.
	fn authenticated_request(seed: &[u8; 32], auth: &ProbeAuth) -> Vec<u8> {
		let mut request = format!("GET {PROBE_PATH}{} HTTP/1.1\r\nHost: x\r\n", hex::encode(seed));
		for (name, value) in auth.header_values() {
			request.push_str(&format!("{name}: {value}\r\n"));
		}
		request.push_str("\r\n");
		request.into_bytes()
	}

	/// `verifier`'s authentication of the probe of the node whose key is `node` with `seed`, at
	/// `block`.
	fn sign_probe(
		verifier: &sr25519::Pair,
		node: &sr25519::Public,
		block: BlockNumber,
		seed: &[u8; 32],
	) -> ProbeAuth {
		let signature = verifier.sign(&probe_auth::request_signing_payload(node, block, seed));
		ProbeAuth { key: verifier.public(), block, signature }
	}

	/// A probe of `seed` signed by `verifier` for the node whose key is `node`, at `block`.
	fn signed_request(
		verifier: &sr25519::Pair,
		node: &sr25519::Public,
		block: BlockNumber,
		seed: &[u8; 32],
	) -> Vec<u8> {
		authenticated_request(seed, &sign_probe(verifier, node, block, seed))
	}

	/// Anonymous probes from new sources `127.2.x.y` until one is refused for the rate limit: the
	/// node's anonymous budget is spent. Panics if none is refused.
	fn drain_anonymous(runtime: &tokio::runtime::Runtime, addr: SocketAddr, seed: &[u8; 32]) {
		for index in 0..250u8 {
			let source = format!("127.2.0.{}", index + 1);
			if runtime.block_on(get_from(&source, addr, &probe_request(seed))).0 == 429 {
				return;
			}
		}
		panic!("the anonymous budget was never spent");
	}

	#[test]
	fn answers_a_probe_with_a_signed_answer() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let public = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) = start(params(100, 4), keystore);
		let seed = [9u8; 32];
		let (status, body) = runtime.block_on(get(addr, &probe_request(&seed)));
		assert_eq!(status, 200);
		let signed = SignedProbeAnswer::decode(&mut &body[..]).unwrap();
		assert!(signed.signature_is_valid(&public));
		assert_eq!(signed.answer.seed, seed);
		assert!(signed.answer.compute_is_correct());
		assert_eq!(signed.answer.best_number, 42);
		assert_eq!(signed.answer.finalized_hash, H256::repeat_byte(2));
	}

	#[test]
	fn refuses_bad_requests() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) = start(params(100, 4), keystore);
		let cases: [(&[u8], u16); 6] = [
			(b"POST /dsync/probe/00 HTTP/1.1\r\n\r\n", 405),
			(b"GET /other HTTP/1.1\r\n\r\n", 404),
			(b"GET /dsync/probe/1234 HTTP/1.1\r\n\r\n", 400),
			(b"GET /dsync/probe/zz HTTP/2\r\n\r\n", 400),
			(b"nonsense\r\n\r\n", 400),
			(b"GET /dsync/health HTTP/1.1\r\n\r\n", 200),
		];
		for (request, expected) in cases {
			let (status, _) = runtime.block_on(get(addr, request));
			assert_eq!(status, expected, "{}", String::from_utf8_lossy(request));
		}
		let mut huge = b"GET /dsync/health HTTP/1.1\r\nX: ".to_vec();
		huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_BYTES + 10));
		let (status, _) = runtime.block_on(get(addr, &huge));
		assert_eq!(status, 431);
	}

	#[test]
	fn is_unavailable_without_a_single_key() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let (runtime, addr) = start(params(100, 4), keystore.clone());
		let (status, body) = runtime.block_on(get(addr, &probe_request(&[1; 32])));
		assert_eq!((status, body), (503, b"no `dsyn` key in the keystore".to_vec()));
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (status, _) = runtime.block_on(get(addr, &probe_request(&[1; 32])));
		assert_eq!(status, 503);
		// Choosing the key with --probe-key resolves the ambiguity.
		let chosen = keystore.sr25519_public_keys(KEY_TYPE)[1];
		let mut with_key = params(100, 4);
		with_key.probe_key = Some(chosen);
		let (runtime2, addr2) = start(with_key, keystore);
		let (status, body) = runtime2.block_on(get(addr2, &probe_request(&[1; 32])));
		assert_eq!(status, 200);
		let signed = SignedProbeAnswer::decode(&mut &body[..]).unwrap();
		assert!(signed.signature_is_valid(&chosen));
		drop(runtime);
	}

	#[test]
	fn rate_limits_answers() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) = start(params(3, 4), keystore);
		let statuses: Vec<u16> = (0..5)
			.map(|_| runtime.block_on(get(addr, &probe_request(&[2; 32]))).0)
			.collect();
		assert_eq!(&statuses[..3], &[200, 200, 200]);
		assert_eq!(statuses[4], 429);
	}

	#[test]
	fn one_flooding_address_does_not_starve_others() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let mut params = params(100, 8);
		params.probe_peer_rate_limit = 2;
		let (runtime, addr) = start(params, keystore);
		let request = probe_request(&[3; 32]);
		let flooder: Vec<u16> = (0..4)
			.map(|_| runtime.block_on(get_from("127.0.0.1", addr, &request)).0)
			.collect();
		assert_eq!(flooder, vec![200, 200, 429, 429]);
		// Another source still has its whole budget (and the node's).
		assert_eq!(runtime.block_on(get_from("127.0.0.2", addr, &request)).0, 200);
		assert_eq!(runtime.block_on(get_from("127.0.0.2", addr, &request)).0, 200);
	}

	/// The attack: whoever wants an honest node penalised floods its probe endpoint from more
	/// sources than the limiter tracks, so that the verifier, a new source, is refused and the
	/// node is reported down. The limiter forgets the least recent sources instead of refusing
	/// new ones, so the verifier is still answered.
	#[test]
	fn a_flood_from_many_sources_does_not_lock_out_a_new_verifier() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) = start(params(1_000_000, 64), keystore);
		let request = probe_request(&[5; 32]);
		let flood = u16::try_from(MAX_TRACKED_PEERS + 64).unwrap();
		for index in 0..flood {
			let source = format!("127.1.{}.{}", index / 250, index % 250 + 1);
			assert_eq!(runtime.block_on(get_from(&source, addr, &request)).0, 200);
		}
		assert_eq!(runtime.block_on(get_from("127.0.0.9", addr, &request)).0, 200);
	}

	#[test]
	fn limits_connections_per_address() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) = start(params(100, 8), keystore);
		let request = probe_request(&[4; 32]);
		runtime.block_on(async {
			// Two idle connections from one address take its slots...
			let _idle: Vec<TcpStream> =
				vec![connect_from("127.0.0.3", addr).await, connect_from("127.0.0.3", addr).await];
			tokio::time::sleep(Duration::from_millis(100)).await;
			assert_eq!(get_from("127.0.0.3", addr, &request).await.0, 503);
			// ...not anyone else's.
			assert_eq!(get_from("127.0.0.4", addr, &request).await.0, 200);
		});
		// Closed connections give the slots back.
		std::thread::sleep(Duration::from_millis(100));
		assert_eq!(runtime.block_on(get_from("127.0.0.3", addr, &request)).0, 200);
	}

	/// The attack: whoever wants an honest node penalised floods its probe endpoint with anonymous
	/// probes from many sources until the node's budget is spent, so that the verifier is refused
	/// and reports the node down. A verifier's signed probe is answered from its own budget,
	/// whatever the anonymous limits say, and takes nothing from them.
	#[test]
	fn a_verifier_is_answered_while_a_flood_fills_the_anonymous_limits() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[21; 32]);
		// One anonymous answer a second, node-wide.
		let (runtime, addr) =
			start_with(params(1, 64), keystore, verifiers(&[verifier.public()]), 1024);
		let seed = [6u8; 32];
		drain_anonymous(&runtime, addr, &seed);

		let request = signed_request(&verifier, &node, 42, &seed);
		let (status, body) = runtime.block_on(get_from("127.0.0.5", addr, &request));
		assert_eq!(status, 200);
		let signed = SignedProbeAnswer::decode(&mut &body[..]).unwrap();
		assert!(signed.signature_is_valid(&node));
		assert_eq!(signed.answer.seed, seed);
		assert!(signed.answer.compute_is_correct());
		// Again at the verifier's next blocks, from a source that flooded too.
		for block in [43, 44] {
			let request = signed_request(&verifier, &node, block, &seed);
			assert_eq!(runtime.block_on(get_from("127.2.0.1", addr, &request)).0, 200);
		}

		// A fresh endpoint: a verifier's probe leaves the one anonymous answer in the bucket.
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) =
			start_with(params(1, 64), keystore, verifiers(&[verifier.public()]), 1024);
		let request = signed_request(&verifier, &node, 42, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.5", addr, &request)).0, 200);
		assert_eq!(runtime.block_on(get_from("127.0.0.6", addr, &probe_request(&seed))).0, 200);
	}

	/// A probe whose authentication fails (an unknown key, a stale block, a signature for
	/// another node or seed, a malformed header) is anonymous: refused while the anonymous budget
	/// is spent, and answered from it, spending it, otherwise. The verifiers' keys are read from
	/// the chain once, whatever keys the requests name.
	#[test]
	fn a_failed_authentication_is_an_anonymous_request() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[21; 32]);
		let stranger = sr25519::Pair::from_seed(&[22; 32]);
		let reads = Arc::new(AtomicUsize::new(0));
		let keys: VerifierKeysProvider = {
			let (reads, key) = (reads.clone(), verifier.public().0);
			Arc::new(move || {
				reads.fetch_add(1, Ordering::SeqCst);
				Ok(vec![key])
			})
		};
		let (runtime, addr) = start_with(params(1, 64), keystore, keys, 1024);
		let seed = [7u8; 32];
		drain_anonymous(&runtime, addr, &seed);

		let stale = 42 - probe_auth::MAX_BLOCK_DISTANCE - 1;
		let ahead = 42 + probe_auth::MAX_BLOCK_DISTANCE + 1;
		let mut malformed = signed_request(&verifier, &node, 42, &seed);
		let marker = b"X-Dsync-Key: 0x";
		let key_at = malformed.windows(marker.len()).position(|w| w == marker).unwrap();
		malformed.remove(key_at + 20);
		let mut twice = signed_request(&verifier, &node, 42, &seed);
		twice.truncate(twice.len() - 2);
		twice.extend_from_slice(format!("{BLOCK_HEADER}: 42\r\n\r\n").as_bytes());
		let failing = [
			("an unknown key", signed_request(&stranger, &node, 42, &seed)),
			("a stale block", signed_request(&verifier, &node, stale, &seed)),
			("a block too far ahead", signed_request(&verifier, &node, ahead, &seed)),
			("another node", signed_request(&verifier, &stranger.public(), 42, &seed)),
			(
				"another seed",
				authenticated_request(&seed, &sign_probe(&verifier, &node, 42, &[8; 32])),
			),
			("a malformed key", malformed),
			("a header twice", twice),
		];
		for (index, (what, request)) in failing.iter().enumerate() {
			let source = format!("127.3.0.{}", index + 1);
			assert_eq!(runtime.block_on(get_from(&source, addr, request)).0, 429, "{what}");
		}
		// The verifier itself, at that block, is answered.
		let request = signed_request(&verifier, &node, 42, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.5", addr, &request)).0, 200);
		assert_eq!(reads.load(Ordering::SeqCst), 1, "the keys were read once");

		// With room in the anonymous budget, a failed authentication is answered from it.
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let (runtime, addr) =
			start_with(params(1, 64), keystore, verifiers(&[verifier.public()]), 1024);
		let request = signed_request(&verifier, &node, stale, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.5", addr, &request)).0, 200);
		assert_eq!(runtime.block_on(get_from("127.0.0.6", addr, &probe_request(&seed))).0, 429);
	}

	/// Headers captured from a verifier's probe are answered from its budget once: the copies
	/// (from any source) are anonymous requests, refused while the anonymous budget is spent.
	/// The verifier's next probe, signed at its next block, is answered.
	#[test]
	fn replayed_headers_are_answered_once() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[21; 32]);
		let (runtime, addr) =
			start_with(params(1, 64), keystore, verifiers(&[verifier.public()]), 1024);
		let seed = [9u8; 32];
		drain_anonymous(&runtime, addr, &seed);

		let captured = signed_request(&verifier, &node, 42, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.5", addr, &captured)).0, 200);
		for source in ["127.0.0.5", "127.4.0.1", "127.4.0.2"] {
			assert_eq!(runtime.block_on(get_from(source, addr, &captured)).0, 429, "{source}");
		}
		let next = signed_request(&verifier, &node, 43, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.5", addr, &next)).0, 200);
	}

	/// Signature checks are bounded per source: a source that sent bad signatures with a
	/// verifier's key has no checks left for a while, and its probes are anonymous; other
	/// sources keep theirs.
	#[test]
	fn signature_checks_are_bounded_per_source() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[21; 32]);
		let forger = sr25519::Pair::from_seed(&[23; 32]);
		let (runtime, addr) =
			start_with(params(1, 64), keystore, verifiers(&[verifier.public()]), 1024);
		let seed = [10u8; 32];
		drain_anonymous(&runtime, addr, &seed);

		for block in 0..SIGNATURE_CHECKS_PER_SOURCE {
			// The verifier's key, another key's signature.
			let mut auth = sign_probe(&forger, &node, 40 + block, &seed);
			auth.key = verifier.public();
			let request = authenticated_request(&seed, &auth);
			assert_eq!(runtime.block_on(get_from("127.0.0.7", addr, &request)).0, 429);
		}
		let request = signed_request(&verifier, &node, 50, &seed);
		assert_eq!(runtime.block_on(get_from("127.0.0.7", addr, &request)).0, 429);
		assert_eq!(runtime.block_on(get_from("127.0.0.8", addr, &request)).0, 200);
	}

	/// The attack with connections: idle connections from many sources, as many as the endpoint
	/// lets wait for their request, and more. The oldest is closed to make room for each new
	/// one, so a verifier's connection is read and answered.
	#[test]
	fn idle_connections_do_not_keep_a_verifier_out() {
		let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
		let node = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
		let verifier = sr25519::Pair::from_seed(&[21; 32]);
		let (runtime, addr) =
			start_with(params(100, 8), keystore, verifiers(&[verifier.public()]), 8);
		let seed = [11u8; 32];
		runtime.block_on(async {
			let mut idle = Vec::new();
			for index in 0..12u8 {
				let source = format!("127.5.0.{}", index / 2 + 1);
				idle.push(connect_from(&source, addr).await);
			}
			tokio::time::sleep(Duration::from_millis(100)).await;
			let request = signed_request(&verifier, &node, 42, &seed);
			assert_eq!(get_from("127.0.0.5", addr, &request).await.0, 200);
			assert_eq!(get_from("127.0.0.6", addr, &probe_request(&seed)).await.0, 200);
			// The first idle connections were closed to make room.
			let mut buffer = [0u8; 16];
			let read = tokio::time::timeout(Duration::from_secs(1), idle[0].read(&mut buffer))
				.await
				.expect("the connection was closed, not left waiting");
			assert!(!matches!(read, Ok(read) if read > 0));
		});
	}

	#[test]
	fn headers_are_read_in_any_case_and_only_once() {
		let head = b"GET / HTTP/1.1\r\nx-dsync-block:  42 \r\nHost: x\r\nX-DSYNC-KEY:0xab\r\n\r\nX-Dsync-Signature: 1\r\n";
		assert_eq!(header(head, BLOCK_HEADER), Ok(Some(&b"42"[..])));
		assert_eq!(header(head, KEY_HEADER), Ok(Some(&b"0xab"[..])));
		assert_eq!(header(head, SIGNATURE_HEADER), Ok(None), "after the head");
		let twice = b"GET / HTTP/1.1\r\nX-Dsync-Block: 1\r\nX-Dsync-Block: 2\r\n\r\n";
		assert_eq!(header(twice, BLOCK_HEADER), Err(()));
		assert!(authentication(twice).is_none());
	}
}
