//! The DNS server's transports: UDP worker threads sharing one socket, their responses within
//! response rate limiting, and TCP connections (each a task answering its length-prefixed
//! queries in order) within their fairly shared slots.

#[cfg(target_os = "linux")]
use super::mmsg;
use super::{
	engine::{Engine, Step, Transport},
	rrl::{self, ResponseRateLimiter, Verdict},
	stats::{bump, DnsStats},
	tcp_slots::{Refusal, TcpSlots},
	LOG_TARGET, MAX_QUERY_LEN, MAX_TCP_CONNECTIONS, MAX_TCP_CONNECTIONS_PER_SOURCE,
	PLAIN_UDP_PAYLOAD, TCP_IDLE_TIMEOUT,
};
use dsync_primitives::naming::MAX_NAME_LEN;
use futures::future::{self, Either};
use std::{
	io,
	net::SocketAddr,
	pin::pin,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	time::Duration,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
	task::JoinSet,
	time::timeout,
};

/// Most UDP workers sharing the socket.
const MAX_UDP_WORKERS: usize = 8;
/// Pause after a failed `recv_from` or `accept`, so a persistent error does not spin.
const RECEIVE_ERROR_BACKOFF: Duration = Duration::from_millis(10);
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// UDP workers to run: `configured` (1 to [`MAX_UDP_WORKERS`]), or with 0 one per core (2 to
/// [`MAX_UDP_WORKERS`]).
pub(super) fn udp_worker_count(configured: usize) -> usize {
	match configured {
		0 => std::thread::available_parallelism()
			.map_or(2, |cores| cores.get())
			.clamp(2, MAX_UDP_WORKERS),
		count => count.min(MAX_UDP_WORKERS),
	}
}

/// How long a UDP worker waits for a query before it looks whether the server stopped.
pub(super) const UDP_STOP_POLL: Duration = Duration::from_millis(100);

/// One UDP worker, a thread of its own blocking on the shared socket (no async runtime between
/// the socket and the answer: a cached answer is a receive, a lookup and a send): receive,
/// answer cached names inline, hand uncached ones to a task on `runtime`; every response goes
/// out through response rate limiting (`rrl`). On Linux the worker receives and sends in
/// batches ([`mmsg`]). Returns once `stop` is set (within [`UDP_STOP_POLL`]).
pub(super) fn udp_worker(
	engine: Arc<Engine>,
	socket: Arc<std::net::UdpSocket>,
	rrl: Arc<ResponseRateLimiter>,
	runtime: tokio::runtime::Handle,
	stop: Arc<AtomicBool>,
) {
	let worker = UdpWorker { engine, socket, rrl, runtime };
	let mut key = String::with_capacity(MAX_NAME_LEN + 1);
	#[cfg(target_os = "linux")]
	{
		use std::os::fd::AsRawFd;
		let fd = worker.socket.as_raw_fd();
		let mut batch = mmsg::Batch::new(MAX_QUERY_LEN);
		let mut responses: Vec<Vec<u8>> = (0..mmsg::BATCH)
			.map(|_| Vec::with_capacity(usize::from(worker.engine.max_udp_payload)))
			.collect();
		let mut replies = Vec::with_capacity(mmsg::BATCH);
		while !stop.load(Ordering::Relaxed) {
			let received = match batch.receive(fd) {
				Ok(received) => received,
				Err(error) => {
					receive_failed(error);
					continue;
				},
			};
			replies.clear();
			for (i, out) in responses.iter_mut().enumerate().take(received) {
				let Some((packet, peer)) = batch.query(i) else { continue };
				if worker.answer(packet, peer, &mut key, out)
					&& rate_limit(&worker.rrl, &worker.engine.stats, out, peer)
				{
					replies.push(i);
				}
			}
			batch.send(
				fd,
				replies.iter().map(|&i| (i, responses[i].as_slice())),
				|peer, error| log::debug!(target: LOG_TARGET, "cannot answer {peer} over UDP: {error}"),
			);
		}
	}
	#[cfg(not(target_os = "linux"))]
	{
		let mut buffer = vec![0u8; MAX_QUERY_LEN];
		let mut out = Vec::with_capacity(usize::from(worker.engine.max_udp_payload));
		while !stop.load(Ordering::Relaxed) {
			let (len, peer) = match worker.socket.recv_from(&mut buffer) {
				Ok(received) => received,
				Err(error) => {
					receive_failed(error);
					continue;
				},
			};
			let Some(packet) = buffer.get(..len) else { continue };
			if worker.answer(packet, peer, &mut key, &mut out) {
				send_udp(&worker.socket, &worker.rrl, &worker.engine.stats, &mut out, peer);
			}
		}
	}
}

/// After a failed receive: nothing to do for a timeout (the stop flag is looked at) or a reset
/// (an ICMP error from an earlier answer); other errors pause, so a persistent one does not spin.
fn receive_failed(error: io::Error) {
	if matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) {
		return;
	}
	log::debug!(target: LOG_TARGET, "UDP receive failed: {error}");
	if error.kind() != io::ErrorKind::ConnectionReset {
		std::thread::sleep(RECEIVE_ERROR_BACKOFF);
	}
}

/// What a UDP worker answers with.
struct UdpWorker {
	engine: Arc<Engine>,
	socket: Arc<std::net::UdpSocket>,
	rrl: Arc<ResponseRateLimiter>,
	runtime: tokio::runtime::Handle,
}

impl UdpWorker {
	/// Answer `packet` from `peer`: `true` when `out` holds the response to send now (before
	/// response rate limiting); `false` when there is none, or when a task on the runtime
	/// sends it once the name's records are read.
	fn answer(&self, packet: &[u8], peer: SocketAddr, key: &mut String, out: &mut Vec<u8>) -> bool {
		let engine = &self.engine;
		if !engine.admit(peer.ip()) {
			return false;
		}
		// The hot path: the same query bytes at the same finalised block get the same answer.
		let finalized = engine.source.finalized();
		if engine.responses.reply(finalized.0, packet, out) {
			bump(&engine.stats.cache_hits);
			bump(&engine.stats.answered);
			return true;
		}
		match engine.handle(packet, Transport::Udp, finalized, key, out) {
			Step::Reply => {
				engine.responses.insert(finalized, packet, out);
				true
			},
			Step::Drop => false,
			Step::Lookup(pending) => {
				match Arc::clone(&engine.lookup_slots).try_acquire_owned() {
					Ok(permit) => {
						let engine = Arc::clone(engine);
						let socket = Arc::clone(&self.socket);
						let rrl = Arc::clone(&self.rrl);
						// Bounded by the lookup slots; ends with its read.
						drop(self.runtime.spawn(async move {
							let mut out = Vec::with_capacity(PLAIN_UDP_PAYLOAD);
							if matches!(engine.complete(*pending, &mut out).await, Step::Reply) {
								send_udp(&socket, &rrl, &engine.stats, &mut out, peer);
							}
							drop(permit);
						}));
					},
					Err(_) => {
						bump(&engine.stats.dropped);
						log::debug!(target: LOG_TARGET, "too many state reads in flight, dropped a query");
					},
				}
				false
			},
		}
	}
}

/// Response rate limiting of `response` to `peer`: `true` to send it, as it is or rewritten as a
/// minimal truncated response (a slip); `false` to drop it.
fn rate_limit(
	rrl: &ResponseRateLimiter,
	stats: &DnsStats,
	response: &mut Vec<u8>,
	peer: SocketAddr,
) -> bool {
	match rrl.check(peer.ip(), response.as_slice()) {
		Verdict::Send => true,
		Verdict::Slip => {
			rrl::slip(response);
			bump(&stats.rrl_slipped);
			true
		},
		Verdict::Drop => {
			bump(&stats.rrl_dropped);
			false
		},
	}
}

/// Send `response` to `peer` within response rate limiting. A UDP send does not wait for the
/// peer; it only blocks while the socket's send buffer is full.
fn send_udp(
	socket: &std::net::UdpSocket,
	rrl: &ResponseRateLimiter,
	stats: &DnsStats,
	response: &mut Vec<u8>,
	peer: SocketAddr,
) {
	if !rate_limit(rrl, stats, response, peer) {
		return;
	}
	if let Err(error) = socket.send_to(response.as_slice(), peer) {
		log::debug!(target: LOG_TARGET, "cannot answer {peer} over UDP: {error}");
	}
}

/// Accept TCP connections within their fairly shared slots ([`TcpSlots`]); each is served by
/// its own task, until it ends or is closed to make room for another source's.
pub(super) async fn tcp_accept_loop(engine: Arc<Engine>, listener: TcpListener) {
	let slots = Arc::new(TcpSlots::new(MAX_TCP_CONNECTIONS, MAX_TCP_CONNECTIONS_PER_SOURCE));
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
		let slot = match slots.open(peer.ip()) {
			Ok(slot) => slot,
			Err(Refusal::Source) => {
				log::debug!(target: LOG_TARGET, "too many TCP connections from {peer}, closed one");
				continue;
			},
			Err(Refusal::Full) => {
				log::debug!(target: LOG_TARGET, "too many TCP connections, closed one from {peer}");
				continue;
			},
		};
		let engine = Arc::clone(&engine);
		connections.spawn(async move {
			let serve = pin!(serve_tcp_connection(&engine, stream, peer));
			let evicted = pin!(slot.evicted());
			if let Either::Right(_) = future::select(serve, evicted).await {
				log::debug!(
					target: LOG_TARGET,
					"closed a TCP connection from {peer} to make room for another source",
				);
			}
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
