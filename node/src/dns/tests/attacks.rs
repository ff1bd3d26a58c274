//! Attack tests of the DNS server over real sockets: a UDP flood spoofing a victim's address
//! against response rate limiting (the rate, slips, no amplification, other networks served in
//! full), and sources holding every TCP slot while another source connects.
//!
//! The tests that bind other loopback addresses than 127.0.0.1 (another /24, other TCP sources)
//! run on Linux only, where the whole 127.0.0.0/8 is loopback.

use super::{fake::FakeZone, start as start_on, with_edns, Running};
use crate::dns::{DnsConfig, MAX_TCP_CONNECTIONS, MAX_TCP_CONNECTIONS_PER_SOURCE};
use dsync_primitives::naming::{NameRecords, RecordKind};
use hickory_proto::{
	op::{Message, ResponseCode},
	rr::RecordType,
};
use std::{
	collections::HashMap,
	net::{Ipv4Addr, SocketAddr},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpSocket, TcpStream, UdpSocket},
	time::timeout,
};

/// A name whose `TXT` answer (nine records of 100 bytes, some 1,100 bytes) is about 30 times its
/// query: what a reflection attack looks for.
const BIG: &str = "big.dsync.";
const BIG_RECORDS: usize = 9;
const ALICE: &str = "alice.dsync.";
/// Silence after which a flood's reader stops, once every query was sent.
const QUIET: Duration = Duration::from_millis(300);

/// Names that never expire (so answers are cached): a small A name and a big TXT one.
fn zone() -> Arc<FakeZone> {
	let mut names = HashMap::new();
	names.insert(
		"alice.dsync".to_string(),
		NameRecords { ttl: 300, records: vec![(RecordKind::A, vec![192, 0, 2, 1])] },
	);
	names.insert(
		"big.dsync".to_string(),
		NameRecords {
			ttl: 300,
			records: (0..BIG_RECORDS)
				.map(|i| (RecordKind::Txt, vec![b'a' + i as u8; 100]))
				.collect(),
		},
	);
	FakeZone::with_names(names)
}

/// Response rate limiting at `rate` responses a second with `slip`; the per-source query limit
/// off, so that only RRL acts.
fn config(rate: u32, slip: u32) -> DnsConfig {
	DnsConfig { rrl_responses_per_sec: rate, rrl_slip: slip, ..super::config() }
}

async fn start(config: DnsConfig) -> Running {
	start_on(&zone(), config).await
}

/// A query with EDNS (1,232 bytes), as a resolver sends it.
fn query(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
	with_edns(super::query(id, name, qtype), 1232, 0).to_vec().unwrap()
}

/// What a flood's victim received.
#[derive(Debug, Default)]
struct Received {
	/// Whole answers (without `TC`).
	full: usize,
	/// Largest whole answer, in bytes.
	largest_full: usize,
	/// Truncated answers (slips), each checked to hold its question only.
	truncated: usize,
	/// Largest truncated answer, in bytes.
	largest_truncated: usize,
	/// Every answer's bytes.
	bytes: usize,
	/// When the last answer came, from the flood's start: the server limited the flood within
	/// that time.
	last: Duration,
}

/// Send `count` queries for `name` to `server` from `victim` (the address the attacker spoofs:
/// the answers go there), in 20 batches over `period`, and read what the victim gets until
/// [`QUIET`] after the last query.
async fn flood(
	victim: UdpSocket,
	server: SocketAddr,
	name: &'static str,
	qtype: RecordType,
	count: usize,
	period: Duration,
) -> Received {
	let victim = Arc::new(victim);
	let sent = Arc::new(AtomicBool::new(false));
	let started = Instant::now();
	let reader = {
		let (victim, sent) = (Arc::clone(&victim), Arc::clone(&sent));
		tokio::spawn(async move {
			let mut received = Received::default();
			let mut buffer = vec![0u8; 65_535];
			loop {
				let len = match timeout(QUIET, victim.recv_from(&mut buffer)).await {
					Ok(Ok((len, _))) => len,
					Ok(Err(error)) => panic!("the victim cannot read: {error}"),
					Err(_) if sent.load(Ordering::SeqCst) => return received,
					Err(_) => continue,
				};
				received.last = started.elapsed();
				received.bytes += len;
				let response = Message::from_vec(&buffer[..len]).expect("a DNS message");
				assert_eq!(response.metadata.response_code, ResponseCode::NoError);
				if response.metadata.truncation {
					assert_eq!(response.queries.len(), 1, "a slip keeps its question");
					assert!(
						response.answers.is_empty()
							&& response.authorities.is_empty()
							&& response.additionals.is_empty()
							&& response.edns.is_none(),
						"a slip holds its question only: {response}"
					);
					received.truncated += 1;
					received.largest_truncated = received.largest_truncated.max(len);
				} else {
					assert!(!response.answers.is_empty());
					received.full += 1;
					received.largest_full = received.largest_full.max(len);
				}
			}
		})
	};
	let per_batch = count.div_ceil(20).max(1);
	for n in 0..count {
		victim.send_to(&query(n as u16, name, qtype), server).await.unwrap();
		if (n + 1) % per_batch == 0 {
			tokio::time::sleep(period / 20).await;
		}
	}
	sent.store(true, Ordering::SeqCst);
	reader.await.unwrap()
}

/// The most whole answers one key may get within `received.last` at `rate`: the burst, the rate,
/// and one for rounding.
fn most_full(rate: u32, received: &Received) -> usize {
	(f64::from(rate) * (1.0 + received.last.as_secs_f64())) as usize + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_flood_reflects_the_rate_and_small_slips_only() {
	const RATE: u32 = 10;
	const COUNT: usize = 1000;
	let server = start(config(RATE, 2)).await;
	let victim = UdpSocket::bind("127.0.0.1:0").await.unwrap();
	let received =
		flood(victim, server.udp, BIG, RecordType::TXT, COUNT, Duration::from_secs(1)).await;
	let query_len = query(0, BIG, RecordType::TXT).len();
	let stats = server.stats.snapshot();

	// The answer is worth reflecting: some 30 times the query.
	assert!(received.largest_full > 20 * query_len, "{received:?}");
	// Whole answers: the burst, then the rate.
	assert!(received.full >= RATE as usize, "{received:?}");
	assert!(received.full <= most_full(RATE, &received), "{received:?}");
	// The rest: every other one dropped, every other one slipped, no larger than its query.
	assert!(received.truncated > 0, "{received:?}");
	assert!(received.largest_truncated <= query_len, "{received:?}, queries of {query_len}");
	assert!(stats.rrl_dropped.abs_diff(stats.rrl_slipped) <= 1, "{stats:?}");
	assert!(received.truncated as u64 <= stats.rrl_slipped, "{received:?} {stats:?}");
	let handled = received.full as u64 + stats.rrl_slipped + stats.rrl_dropped;
	assert!(handled <= stats.queries && handled * 10 >= stats.queries * 9, "{stats:?}");
	// No amplification: the victim got at most twice the bytes of the queries sent "from" it
	// (without RRL: some 30 times).
	let sent = COUNT * query_len;
	assert!(received.bytes <= 2 * sent, "{} bytes reflected for {sent}", received.bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slip_zero_drops_every_excess_answer_and_slip_one_truncates_each() {
	const RATE: u32 = 5;
	const COUNT: usize = 200;
	for slip in [0, 1] {
		let server = start(config(RATE, slip)).await;
		let victim = UdpSocket::bind("127.0.0.1:0").await.unwrap();
		let received =
			flood(victim, server.udp, ALICE, RecordType::A, COUNT, Duration::from_millis(400))
				.await;
		let stats = server.stats.snapshot();
		assert!(received.full >= RATE as usize, "slip {slip}: {received:?}");
		assert!(received.full <= most_full(RATE, &received), "slip {slip}: {received:?}");
		let excess = stats.queries.saturating_sub(received.full as u64);
		assert!(excess > 0, "slip {slip}: {stats:?}");
		if slip == 0 {
			assert_eq!(received.truncated, 0, "{received:?}");
			assert_eq!((stats.rrl_dropped, stats.rrl_slipped), (excess, 0), "{stats:?}");
		} else {
			assert_eq!((stats.rrl_dropped, stats.rrl_slipped), (0, excess), "{stats:?}");
			assert_eq!(received.truncated as u64, excess, "every excess answer came truncated");
		}
	}
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_network_asking_the_same_name_is_answered_in_full() {
	const RATE: u32 = 5;
	let server = start(config(RATE, 2)).await;
	let victim = UdpSocket::bind("127.0.0.1:0").await.unwrap();
	let flooding =
		tokio::spawn(flood(victim, server.udp, ALICE, RecordType::A, 600, Duration::from_secs(1)));
	// By now 127.0.0.0/24 is over its rate for this name.
	tokio::time::sleep(Duration::from_millis(300)).await;
	let other = UdpSocket::bind("127.0.1.1:0").await.expect("127.0.1.1 is loopback on Linux");
	let mut buffer = vec![0u8; 4096];
	for id in 1..=RATE as u16 {
		other.send_to(&query(id, ALICE, RecordType::A), server.udp).await.unwrap();
		let (len, _) = timeout(Duration::from_secs(2), other.recv_from(&mut buffer))
			.await
			.expect("another /24 is answered")
			.unwrap();
		let response = Message::from_vec(&buffer[..len]).unwrap();
		assert_eq!(response.metadata.id, id);
		assert_eq!(response.metadata.response_code, ResponseCode::NoError);
		assert!(!response.metadata.truncation, "answered in full: {response}");
		assert_eq!(response.answers.len(), 1);
	}
	let received = flooding.await.unwrap();
	assert!(received.truncated > 0, "the flooded network was limited meanwhile: {received:?}");
	assert!(received.full <= most_full(RATE, &received), "{received:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rrl_every_answer_goes_out_whole() {
	const COUNT: usize = 200;
	let server = start(config(0, 2)).await;
	let victim = UdpSocket::bind("127.0.0.1:0").await.unwrap();
	let received =
		flood(victim, server.udp, BIG, RecordType::TXT, COUNT, Duration::from_millis(400)).await;
	let stats = server.stats.snapshot();
	assert_eq!(received.truncated, 0, "{received:?}");
	assert_eq!(received.full, COUNT, "{received:?}");
	assert_eq!((stats.rrl_dropped, stats.rrl_slipped), (0, 0));
}

/// Connect to `server` from `ip` (port chosen by the system).
async fn connect_from(ip: Ipv4Addr, server: SocketAddr) -> TcpStream {
	let socket = TcpSocket::new_v4().unwrap();
	socket.bind(SocketAddr::from((ip, 0))).unwrap();
	socket.connect(server).await.unwrap()
}

/// One length-prefixed query over `stream`: its answer, or `None` when the connection is closed
/// (or nothing comes within two seconds).
async fn tcp(stream: &mut TcpStream, packet: &[u8]) -> Option<Message> {
	let mut frame = u16::try_from(packet.len()).unwrap().to_be_bytes().to_vec();
	frame.extend_from_slice(packet);
	let exchange = async {
		stream.write_all(&frame).await.ok()?;
		let mut prefix = [0u8; 2];
		stream.read_exact(&mut prefix).await.ok()?;
		let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
		stream.read_exact(&mut body).await.ok()?;
		Message::from_vec(&body).ok()
	};
	timeout(Duration::from_secs(2), exchange).await.ok().flatten()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_holding_every_tcp_slot_cannot_keep_another_out() {
	let server = start(config(0, 2)).await;
	let sources = MAX_TCP_CONNECTIONS / MAX_TCP_CONNECTIONS_PER_SOURCE;
	let source = |n: usize| Ipv4Addr::new(127, 0, 0, u8::try_from(n).unwrap());
	let mut held = Vec::with_capacity(MAX_TCP_CONNECTIONS);
	for n in 1..=sources {
		for _ in 0..MAX_TCP_CONNECTIONS_PER_SOURCE {
			let mut stream = connect_from(source(n), server.tcp).await;
			// Answered: the server holds the connection.
			let id = held.len() as u16;
			let response = tcp(&mut stream, &query(id, ALICE, RecordType::A)).await;
			assert_eq!(response.expect("served").metadata.id, id);
			held.push(stream);
		}
	}
	// Every slot is taken; a source holding its share gets nothing more.
	let mut refused = connect_from(source(1), server.tcp).await;
	assert!(tcp(&mut refused, &query(1000, ALICE, RecordType::A)).await.is_none());

	// Another address is served...
	let mut newcomer = connect_from(source(sources + 1), server.tcp).await;
	let response = tcp(&mut newcomer, &query(1001, ALICE, RecordType::A)).await;
	let response = response.expect("a 17th address is served");
	assert_eq!(response.metadata.id, 1001);
	assert_eq!(response.metadata.response_code, ResponseCode::NoError);
	assert_eq!(response.answers.len(), 1);
	// ...in place of one connection of a source holding the most; every other one still works.
	let mut closed = 0;
	for (n, stream) in held.iter_mut().enumerate() {
		if tcp(stream, &query(2000 + n as u16, ALICE, RecordType::A)).await.is_none() {
			closed += 1;
		}
	}
	assert_eq!(closed, 1);
	// The newcomer keeps its connection.
	assert!(tcp(&mut newcomer, &query(3000, ALICE, RecordType::A)).await.is_some());
}
