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
//!   (beyond it: `429`): a probe costs a signature and one digits inference (the compute
//!   challenge), so flooding the endpoint cannot take the node's CPU from block import;
//! - every source (an IPv4 address or an IPv6 /64) has its own, smaller budget checked first: at
//!   most [`MAX_CONNECTIONS_PER_PEER`] connections at once and `--probe-peer-rate-limit` answers
//!   per second, with bursts of the same size. A verifier probes a node once per epoch, so one
//!   flooding source exhausts only its own budget and cannot make honest verifiers see the node as
//!   down. The budgets of at most [`MAX_TRACKED_PEERS`] sources are tracked; the least recently
//!   seen are forgotten first, and a new source is never refused for want of room (see
//!   [`crate::limits`]).

use std::{
	net::{IpAddr, SocketAddr},
	sync::{Arc, Mutex},
	time::Duration,
};

use crate::{
	cli::ProbeParams,
	limits::{ConnectionLimiter, RateLimiter, TokenBucket},
};
use codec::Encode;
use dsync_primitives::{
	hex,
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
/// Connections one source (IPv4 address or IPv6 /64) may hold open at once.
pub const MAX_CONNECTIONS_PER_PEER: usize = 2;
/// Sources whose rate budgets are tracked at once (the least recently seen are forgotten first).
pub const MAX_TRACKED_PEERS: usize = 4096;

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

/// Everything a request needs.
struct Shared {
	keystore: KeystorePtr,
	key: Option<sr25519::Public>,
	heads: HeadsProvider,
	/// The node's budget, whatever the source.
	bucket: Mutex<TokenBucket>,
	/// Each source's budget.
	peers: RateLimiter,
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
		bucket: Mutex::new(TokenBucket::new(params.probe_rate_limit, params.probe_rate_limit)),
		peers: RateLimiter::new(
			params.probe_peer_rate_limit,
			params.probe_peer_rate_limit,
			MAX_TRACKED_PEERS,
		),
	});
	let peer_connections = Arc::new(ConnectionLimiter::new(MAX_CONNECTIONS_PER_PEER));
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
			let Some(slot) = peer_connections.open(ip) else {
				tokio::spawn(async move {
					let _ = respond(&mut stream, 503, "text/plain", b"busy").await;
				});
				continue;
			};
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
	let allowed = shared.peers.allow(ip)
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
		.ok_or_else(|| format!("the `dsyn` key {} is not in the keystore", hex::encode(&key.0)))?;
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
		format!("GET {PROBE_PATH}{} HTTP/1.1\r\nHost: x\r\n\r\n", hex::encode(seed)).into_bytes()
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
}
