//! The service-node side of Proof of Sync: a small HTTP endpoint that answers verifiers' probes.
//!
//! A verifier's off-chain worker sends `GET /dsync/probe/{seed as 64 hex digits}`; the node
//! answers `200 OK` with the SCALE encoding of a [`SignedProbeAnswer`]: its best and finalised
//! block, the echoed seed, the result of the compute challenge and an sr25519 signature by the
//! node's registered off-chain key (key type `dsyn`, from the node keystore). The protocol is
//! defined in [`dsync_primitives::probe`].
//!
//! The endpoint is off unless `--probe-listen-addr` is given. It is deliberately small:
//!
//! - only `GET /dsync/probe/{seed}` (and `GET /dsync/health`) are answered; anything else gets a
//!   4xx status and the connection is closed;
//! - requests are bounded ([`MAX_REQUEST_BYTES`] of head, [`REQUEST_TIMEOUT`] to send it);
//! - at most `--probe-max-connections` connections are served at once (others get `503`), and a
//!   token bucket limits answers to `--probe-rate-limit` per second with bursts of the same size
//!   (beyond it: `429`): a probe costs a signature and one digits inference (the compute challenge), so flooding the endpoint cannot
//!   take the node's CPU from block import;
//! - every source address has its own, smaller budget checked first: at most
//!   [`MAX_CONNECTIONS_PER_PEER`] connections at once and `--probe-peer-rate-limit` answers per
//!   second. A verifier probes a node once per epoch, so one flooding address exhausts only its
//!   own budget and cannot make honest verifiers see the node as down. At most
//!   [`MAX_TRACKED_PEERS`] addresses are tracked; idle ones are forgotten.

use std::{
	collections::HashMap,
	net::{IpAddr, SocketAddr},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use codec::Encode;
use dsync_primitives::{
	probe::{compute_challenge, parse_seed, ProbeAnswer, SignedProbeAnswer, KEY_TYPE, PROBE_PATH},
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
/// Connections one source address may hold open at once.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Source addresses whose budgets are tracked at once; a new address beyond it is refused
/// (`503`) until idle addresses are forgotten.
pub const MAX_TRACKED_PEERS: usize = 4096;
/// A source address without a connection for this long is forgotten.
pub const PEER_IDLE: Duration = Duration::from_secs(60);

const LOG_TARGET: &str = "dsync::probe";

/// Command-line options of the probe endpoint.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeParams {
	/// Serve the Proof-of-Sync probe endpoint on this address (e.g. `0.0.0.0:9955`). Service
	/// nodes register `http://<public address>:<port>` as their probe endpoint. Off by default.
	#[arg(long, value_name = "ADDR")]
	pub probe_listen_addr: Option<SocketAddr>,

	/// The `dsyn` key that signs probe answers, as a hex sr25519 public key. By default the
	/// only `dsyn` key in the keystore (the endpoint answers `503` while there is none, or more
	/// than one and none was chosen).
	#[arg(long, value_name = "PUBLIC_KEY_HEX", value_parser = parse_public)]
	pub probe_key: Option<sr25519::Public>,

	/// Probe answers per second, with bursts of the same size; further requests get `429`.
	#[arg(long, value_name = "COUNT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	pub probe_rate_limit: u32,

	/// Connections served at once; further connections get `503`.
	#[arg(long, value_name = "COUNT", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
	pub probe_max_connections: u32,

	/// Probe answers per second to one source address, with bursts of the same size; further
	/// requests from it get `429` (verifiers probe once per epoch).
	#[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	pub probe_peer_rate_limit: u32,
}

fn parse_public(value: &str) -> Result<sr25519::Public, String> {
	let hex = value.strip_prefix("0x").unwrap_or(value);
	let bytes: [u8; 32] = (hex.len() == 64)
		.then(|| parse_seed(hex.as_bytes()))
		.flatten()
		.ok_or_else(|| "expected a 32-byte sr25519 public key in hex".to_string())?;
	Ok(sr25519::Public::from_raw(bytes))
}

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

/// Everything a request needs.
struct Shared {
	keystore: KeystorePtr,
	key: Option<sr25519::Public>,
	heads: HeadsProvider,
	bucket: Mutex<TokenBucket>,
	peers: Mutex<Peers>,
}

/// The budgets of the source addresses.
struct Peers {
	per_second: u32,
	map: HashMap<IpAddr, Peer>,
}

struct Peer {
	bucket: TokenBucket,
	connections: u32,
	last_seen: Instant,
}

impl Peers {
	fn new(per_second: u32) -> Self {
		Self { per_second, map: HashMap::new() }
	}

	/// A new connection from `ip`: false when it already holds
	/// [`MAX_CONNECTIONS_PER_PEER`], or when the table is full of recently seen addresses.
	fn connect(&mut self, ip: IpAddr) -> bool {
		let now = Instant::now();
		if !self.map.contains_key(&ip) && self.map.len() >= MAX_TRACKED_PEERS {
			self.map.retain(|_, peer| {
				peer.connections > 0 || now.duration_since(peer.last_seen) < PEER_IDLE
			});
			if self.map.len() >= MAX_TRACKED_PEERS {
				return false;
			}
		}
		let per_second = self.per_second;
		let peer = self.map.entry(ip).or_insert_with(|| Peer {
			bucket: TokenBucket::new(per_second),
			connections: 0,
			last_seen: now,
		});
		peer.last_seen = now;
		if peer.connections >= MAX_CONNECTIONS_PER_PEER {
			return false;
		}
		peer.connections += 1;
		true
	}

	/// The connection from `ip` is closed.
	fn disconnect(&mut self, ip: IpAddr) {
		if let Some(peer) = self.map.get_mut(&ip) {
			peer.connections = peer.connections.saturating_sub(1);
			peer.last_seen = Instant::now();
		}
	}

	/// One answer for `ip`, if its budget allows.
	fn take(&mut self, ip: IpAddr) -> bool {
		self.map.get_mut(&ip).is_some_and(|peer| peer.bucket.take())
	}
}

/// Releases a peer's connection slot when the connection ends.
struct PeerSlot {
	shared: Arc<Shared>,
	ip: IpAddr,
}

impl Drop for PeerSlot {
	fn drop(&mut self) {
		if let Ok(mut peers) = self.shared.peers.lock() {
			peers.disconnect(self.ip);
		}
	}
}

struct TokenBucket {
	capacity: f64,
	tokens: f64,
	per_second: f64,
	last: Instant,
}

impl TokenBucket {
	fn new(per_second: u32) -> Self {
		let rate = f64::from(per_second);
		Self { capacity: rate, tokens: rate, per_second: rate, last: Instant::now() }
	}

	fn take(&mut self) -> bool {
		let now = Instant::now();
		let elapsed = now.duration_since(self.last).as_secs_f64();
		self.last = now;
		self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
		if self.tokens >= 1.0 {
			self.tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// Bind the endpoint (inside a Tokio runtime); the returned future serves it until dropped.
pub fn bind(
	params: &ProbeParams,
	addr: SocketAddr,
	keystore: KeystorePtr,
	heads: HeadsProvider,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
	let listener = std::net::TcpListener::bind(addr)?;
	listener.set_nonblocking(true)?;
	let listener = TcpListener::from_std(listener)?;
	let local = listener.local_addr()?;
	let shared = Arc::new(Shared {
		keystore,
		key: params.probe_key,
		heads,
		bucket: Mutex::new(TokenBucket::new(params.probe_rate_limit)),
		peers: Mutex::new(Peers::new(params.probe_peer_rate_limit)),
	});
	let connections = Arc::new(Semaphore::new(params.probe_max_connections as usize));
	let serve = async move {
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
			let admitted = shared.peers.lock().map(|mut peers| peers.connect(ip)).unwrap_or(false);
			if !admitted {
				tokio::spawn(async move {
					let _ = respond(&mut stream, 503, "text/plain", b"busy").await;
				});
				continue;
			}
			let slot = PeerSlot { shared: shared.clone(), ip };
			let Ok(permit) = connections.clone().try_acquire_owned() else {
				tokio::spawn(async move {
					let _slot = slot;
					let _ = respond(&mut stream, 503, "text/plain", b"busy").await;
				});
				continue;
			};
			let shared = shared.clone();
			tokio::spawn(async move {
				let _permit = permit;
				let _slot = slot;
				if let Err(error) = handle(&shared, ip, &mut stream).await {
					log::debug!(target: LOG_TARGET, "probe from {peer}: {error}");
				}
			});
		}
	};
	log::info!(target: LOG_TARGET, "Proof-of-Sync probe endpoint listening on http://{local}");
	Ok((local, serve))
}

async fn handle(shared: &Shared, ip: IpAddr, stream: &mut TcpStream) -> std::io::Result<()> {
	let head = match tokio::time::timeout(REQUEST_TIMEOUT, read_head(stream)).await {
		Ok(Ok(Some(head))) => head,
		Ok(Ok(None)) => return respond(stream, 431, "text/plain", b"request too large").await,
		Ok(Err(error)) => return Err(error),
		Err(_) => return respond(stream, 408, "text/plain", b"request timeout").await,
	};
	let (status, content_type, body) = answer(shared, ip, &head);
	respond(stream, status, content_type, &body).await
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

/// The status, content type and body for a request head.
fn answer(shared: &Shared, ip: IpAddr, head: &[u8]) -> (u16, &'static str, Vec<u8>) {
	let line = head.split(|byte| *byte == b'\r' || *byte == b'\n').next().unwrap_or_default();
	let mut parts = line.split(|byte| *byte == b' ');
	let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
	else {
		return (400, "text/plain", b"malformed request line".to_vec());
	};
	if !version.starts_with(b"HTTP/1.") {
		return (400, "text/plain", b"HTTP/1.x only".to_vec());
	}
	if method != b"GET" {
		return (405, "text/plain", b"only GET".to_vec());
	}
	if target == b"/dsync/health" {
		return (200, "text/plain", b"ok".to_vec());
	}
	let Some(hex) = target.strip_prefix(PROBE_PATH.as_bytes()) else {
		return (404, "text/plain", b"not found".to_vec());
	};
	let Some(seed) = parse_seed(hex) else {
		return (400, "text/plain", b"the seed is 64 hex digits".to_vec());
	};
	// The source's own budget first, so a flooder does not spend the node's.
	let allowed = shared.peers.lock().map(|mut peers| peers.take(ip)).unwrap_or(false)
		&& shared.bucket.lock().map(|mut bucket| bucket.take()).unwrap_or(false);
	if !allowed {
		return (429, "text/plain", b"rate limit".to_vec());
	}
	match sign_answer(shared, seed) {
		Ok(signed) => (200, "application/octet-stream", signed.encode()),
		Err(reason) => {
			log::warn!(target: LOG_TARGET, "cannot answer a probe: {reason}");
			(503, "text/plain", reason.into_bytes())
		},
	}
}

/// Build and sign the answer to `seed`.
fn sign_answer(shared: &Shared, seed: [u8; 32]) -> Result<SignedProbeAnswer, String> {
	let key = match shared.key {
		Some(key) => key,
		None => {
			let keys = shared.keystore.sr25519_public_keys(KEY_TYPE);
			match keys.as_slice() {
				[key] => *key,
				[] => return Err("no `dsyn` key in the keystore".into()),
				_ => {
					return Err(
						"several `dsyn` keys in the keystore: choose one with --probe-key".into()
					)
				},
			}
		},
	};
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
		.ok_or_else(|| format!("the `dsyn` key {} is not in the keystore", hex(&key.0)))?;
	Ok(SignedProbeAnswer { answer, signature })
}

async fn respond(
	stream: &mut TcpStream,
	status: u16,
	content_type: &str,
	body: &[u8],
) -> std::io::Result<()> {
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

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Decode;
	use sp_keystore::{testing::MemoryKeystore, Keystore};

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
		format!("GET {PROBE_PATH}{} HTTP/1.1\r\nHost: x\r\n\r\n", hex(seed)).into_bytes()
	}

	fn start(params: ProbeParams, keystore: KeystorePtr) -> (tokio::runtime::Runtime, SocketAddr) {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		let (addr, serve) = {
			let _context = runtime.enter();
			bind(&params, "127.0.0.1:0".parse().unwrap(), keystore, heads()).unwrap()
		};
		runtime.spawn(serve);
		(runtime, addr)
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

	#[test]
	fn parses_probe_keys() {
		let key = format!("0x{}", "ab".repeat(32));
		assert_eq!(parse_public(&key).unwrap().0, [0xab; 32]);
		assert!(parse_public("0x1234").is_err());
	}
}
