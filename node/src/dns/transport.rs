//! The DNS server's transports: UDP workers sharing one socket, and TCP connections (each a task
//! answering its length-prefixed queries in order), within their bounds.

use super::{
	engine::{Engine, Step, Transport},
	stats::bump,
	LOG_TARGET, MAX_QUERY_LEN, MAX_TCP_CONNECTIONS, MAX_TCP_CONNECTIONS_PER_SOURCE,
	PLAIN_UDP_PAYLOAD, TCP_IDLE_TIMEOUT,
};
use crate::limits::ConnectionLimiter;
use dsync_primitives::naming::MAX_NAME_LEN;
use std::{io, net::SocketAddr, sync::Arc, time::Duration};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream, UdpSocket},
	sync::Semaphore,
	task::JoinSet,
	time::timeout,
};

/// Most UDP workers sharing the socket.
const MAX_UDP_WORKERS: usize = 8;
/// Pause after a failed `recv_from` or `accept`, so a persistent error does not spin.
const RECEIVE_ERROR_BACKOFF: Duration = Duration::from_millis(10);
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// UDP workers to run: one per core, 2 to [`MAX_UDP_WORKERS`].
pub(super) fn udp_worker_count() -> usize {
	std::thread::available_parallelism()
		.map_or(2, |cores| cores.get())
		.clamp(2, MAX_UDP_WORKERS)
}

/// One UDP worker: receive, answer cached names inline, hand uncached ones to a task.
pub(super) async fn udp_worker(engine: Arc<Engine>, socket: Arc<UdpSocket>) {
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
		if engine.responses.reply(finalized.0, packet, &mut out) {
			bump(&engine.stats.cache_hits);
			bump(&engine.stats.answered);
			send_udp(&socket, &out, peer).await;
			continue;
		}
		match engine.handle(packet, Transport::Udp, finalized, &mut key, &mut out) {
			Step::Reply => {
				engine.responses.insert(finalized, packet, &out);
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
pub(super) async fn tcp_accept_loop(engine: Arc<Engine>, listener: TcpListener) {
	let slots = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
	let peers = Arc::new(ConnectionLimiter::new(MAX_TCP_CONNECTIONS_PER_SOURCE));
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
		let Some(slot) = peers.open(peer.ip()) else {
			log::debug!(target: LOG_TARGET, "too many TCP connections from {peer}, closed one");
			continue;
		};
		let engine = Arc::clone(&engine);
		connections.spawn(async move {
			serve_tcp_connection(&engine, stream, peer).await;
			drop(slot);
			drop(permit);
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
