//! The DNS server's tests: queries over real UDP and TCP sockets against a zone in memory
//! (`fake`), the zone index's (`index`), attacks (`attacks`: response rate limiting, TCP slots), and unit tests of record decoding, name classification,
//! the block-scoped cache and (`chain`) the chain adapter's key classification and change log.

mod attacks;
mod chain;
mod fake;
mod index;

use super::{
	bind,
	cache::BlockCache,
	engine::{classify, ZoneName},
	records::decode_record,
	DnsConfig, DnsStats, ZoneSource, DEFAULT_MAX_UDP_PAYLOAD,
};
use dsync_primitives::naming::{NameRecords, RecordKind};
use fake::{default_names, FakeZone};
use hickory_proto::{
	op::{Edns, Message, MessageType, OpCode, Query, ResponseCode},
	rr::{
		rdata::{A, CNAME},
		DNSClass, Name, RData, RecordType,
	},
};
use std::{
	io,
	net::{Ipv4Addr, Ipv6Addr, SocketAddr},
	sync::Arc,
	time::Duration,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpStream, UdpSocket},
	time::timeout,
};

const TTL: u32 = 300;
const NEGATIVE_TTL: u32 = 45;
const BIG_TXT_RECORDS: usize = 20;

fn config() -> DnsConfig {
	DnsConfig {
		listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
		rate_limit_per_sec: 0,
		// Response rate limiting off: these tests ask the same names many times from one address
		// (`attacks` tests it).
		rrl_responses_per_sec: 0,
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

/// Wait until the zone index is at block `number`: until a query for a name nobody has (another
/// each time) is answered at that block without reading state.
async fn settle(server: &Running, zone: &FakeZone, number: u32) {
	for attempt in 0..500u16 {
		let lookups = zone.lookups();
		let text = format!("settle{attempt}-{number}.dsync.");
		let response = udp(server.udp, &query(0xf000 + attempt, &text, RecordType::A)).await;
		let serial = match response.authorities.first().map(|record| &record.data) {
			Some(RData::SOA(soa)) => Some(soa.serial),
			_ => None,
		};
		if zone.lookups() == lookups && serial == Some(number) {
			return;
		}
		tokio::time::sleep(Duration::from_millis(10)).await;
	}
	panic!("the zone index did not reach block {number}");
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

/// A website (a name with a content hash) without addresses of its own is answered with the
/// configured gateways' addresses; a name with its own addresses keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websites_without_addresses_get_the_gateways_addresses() {
	let zone = FakeZone::new();
	let gateway_v4 = Ipv4Addr::new(203, 0, 113, 7);
	let gateway_v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
	let website_addrs = vec![gateway_v4.into(), gateway_v6.into()];
	let server = start(&zone, DnsConfig { website_addrs, ..config() }).await;

	let response = udp(server.udp, &query(1, "bare.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NoError);
	let [record] = &response.answers[..] else { panic!("one A: {response}") };
	assert_eq!(record.data, RData::A(gateway_v4.into()));
	assert_eq!(record.ttl, TTL);
	let response = udp(server.udp, &query(2, "bare.dsync.", RecordType::AAAA)).await;
	let [record] = &response.answers[..] else { panic!("one AAAA: {response}") };
	assert_eq!(record.data, RData::AAAA(gateway_v6.into()));

	// `alice` has a content hash and addresses of its own: only those.
	let response = udp(server.udp, &query(3, "alice.dsync.", RecordType::A)).await;
	assert_eq!(response.answers.len(), 2);
	assert!(response.answers.iter().all(|record| record.data != RData::A(gateway_v4.into())));
	let response = udp(server.udp, &query(4, "alice.dsync.", RecordType::AAAA)).await;
	let [record] = &response.answers[..] else { panic!("one AAAA: {response}") };
	assert_ne!(record.data, RData::AAAA(gateway_v6.into()));
	// A name without a content hash gets nothing; an alias stays an alias.
	let response = udp(server.udp, &query(5, "big.dsync.", RecordType::A)).await;
	assert_answer(&response, 5, ResponseCode::NoError);
	assert!(response.answers.is_empty());
	let response = udp(server.udp, &query(6, "www.alice.dsync.", RecordType::A)).await;
	assert!(matches!(response.answers[0].data, RData::CNAME(_)), "{response}");
	assert!(response.answers.iter().all(|record| record.data != RData::A(gateway_v4.into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cname_answers_every_other_type() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	// The alias first, then (it is in the zone) its target's records of the type.
	for (id, qtype, followed) in
		[(1, RecordType::A, 2), (2, RecordType::TXT, 1), (3, RecordType::CNAME, 0)]
	{
		let response = udp(server.udp, &query(id, "www.alice.dsync.", qtype)).await;
		assert_answer(&response, id, ResponseCode::NoError);
		assert!(response.metadata.authoritative);
		assert_eq!(response.answers.len(), 1 + followed, "{response}");
		let record = &response.answers[0];
		assert_eq!(record.ttl, 120);
		let RData::CNAME(cname) = &record.data else { panic!("a CNAME: {record}") };
		assert_eq!(cname.0, name("alice.dsync."));
		for record in &response.answers[1..] {
			assert_eq!((record.name.clone(), record.record_type()), (name("alice.dsync."), qtype));
		}
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
	for (id, text) in [(1, "example.com."), (2, "dsync.com."), (3, "."), (4, "alice.dsync.org.")] {
		let response = udp(server.udp, &query(id, text, RecordType::A)).await;
		assert_answer(&response, id, ResponseCode::Refused);
		assert!(!response.metadata.authoritative);
		assert!(response.answers.is_empty() && response.authorities.is_empty());
	}

	let mut chaos = query(5, "alice.dsync.", RecordType::TXT);
	chaos.queries[0].set_query_class(DNSClass::CH);
	assert_answer(&udp(server.udp, &chaos).await, 5, ResponseCode::Refused);

	let response = udp(server.udp, &query(7, "dsync.", RecordType::AXFR)).await;
	assert_answer(&response, 7, ResponseCode::Refused);

	assert_eq!(zone.lookups(), 0);
	assert_eq!(server.stats.snapshot().refused, 6);
}

/// `ANY` as RFC 8482 recommends: one RRset, NODATA, NXDOMAIN; never `NOTIMP`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_is_answered_with_one_rrset() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	// alice has A, AAAA, TXT, MX and SRV records: only its first type (A) comes back.
	let response = udp(server.udp, &query(1, "alice.dsync.", RecordType::ANY)).await;
	assert_answer(&response, 1, ResponseCode::NoError);
	assert!(response.metadata.authoritative);
	let types: Vec<RecordType> = response.answers.iter().map(|r| r.record_type()).collect();
	assert_eq!(types, vec![RecordType::A, RecordType::A], "{response}");
	// An alias: its CNAME.
	let response = udp(server.udp, &query(2, "www.alice.dsync.", RecordType::ANY)).await;
	let [record] = &response.answers[..] else { panic!("one CNAME: {response}") };
	assert_eq!(record.record_type(), RecordType::CNAME);
	// A name without DNS records: NODATA with the SOA; a missing name: NXDOMAIN.
	let response = udp(server.udp, &query(3, "bare.dsync.", RecordType::ANY)).await;
	assert_answer(&response, 3, ResponseCode::NoError);
	assert!(response.answers.is_empty());
	assert_soa_authority(&response, 10);
	let response = udp(server.udp, &query(4, "nobody.dsync.", RecordType::ANY)).await;
	assert_answer(&response, 4, ResponseCode::NXDomain);
	// The apex: its SOA.
	let response = udp(server.udp, &query(5, "dsync.", RecordType::ANY)).await;
	let [record] = &response.answers[..] else { panic!("one SOA: {response}") };
	assert_eq!(record.record_type(), RecordType::SOA);
	assert_eq!(server.stats.snapshot().notimp, 0);
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
	let mut records = default_names();
	records.insert(
		"mid.dsync".to_string(),
		NameRecords {
			ttl: TTL,
			records: (0..8).map(|i| (RecordKind::Txt, vec![b'a' + i; 100])).collect(),
		},
	);
	let zone = FakeZone::with_names(records);
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
	while let Ok(Ok(_)) = timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await {
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
	// Negative answers (not stored) carry the serial of their block.
	for id in 10..=12 {
		let response = udp(server.udp, &query(id, "nobody.dsync.", RecordType::A)).await;
		assert_soa_authority(&response, 10);
	}
	zone.finalize([3; 32], 12);
	settle(&server, &zone, 12).await;
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
	// Service labels name subnames, never a registered name.
	assert!(matches!(classify(&name("_Sip._tcp.alice.dsync."), &mut key), ZoneName::Name));
	assert_eq!(key, "_sip._tcp.alice.dsync");
	assert!(matches!(classify(&name("s1._domainkey.alice.dsync."), &mut key), ZoneName::Name));
	assert!(matches!(classify(&name("_dmarc.dsync."), &mut key), ZoneName::Invalid));
	assert!(matches!(classify(&name("_a_.alice.dsync."), &mut key), ZoneName::Invalid));
	// A label holding a dot must not alias two labels.
	let dotted = Name::from_labels(vec![&b"www.alice"[..], &b"dsync"[..]]).unwrap();
	assert!(matches!(classify(&dotted, &mut key), ZoneName::Invalid));
	let unicode = Name::from_labels(vec!["é".as_bytes(), &b"dsync"[..]]).unwrap();
	assert!(matches!(classify(&unicode, &mut key), ZoneName::Invalid));
}

#[test]
fn a_block_cache_never_goes_back_to_an_older_block() {
	let cache: BlockCache<String, u32> = BlockCache::new(2);
	cache.insert(([2; 32], 11), "a".into(), 1);
	assert_eq!(cache.get([2; 32], "a"), Some(1));
	// An older block is not stored, and does not drop the newer block's entries.
	cache.insert(([1; 32], 10), "b".into(), 2);
	assert_eq!(cache.get([1; 32], "b"), None);
	assert_eq!(cache.get([2; 32], "a"), Some(1));
	// A newer block drops them.
	cache.insert(([3; 32], 12), "c".into(), 3);
	assert_eq!(cache.get([2; 32], "a"), None);
	assert_eq!(cache.get([3; 32], "c"), Some(3));
	// A full cache is emptied before storing.
	cache.insert(([3; 32], 12), "d".into(), 4);
	cache.insert(([3; 32], 12), "e".into(), 5);
	assert_eq!(cache.get([3; 32], "c"), None);
	assert_eq!(cache.get([3; 32], "e"), Some(5));
	// Capacity 0: nothing is stored.
	let none: BlockCache<String, u32> = BlockCache::new(0);
	none.insert(([1; 32], 1), "a".into(), 1);
	assert_eq!(none.get([1; 32], "a"), None);
}

/// Answers as an authoritative server (NSD) gives them: an alias is followed through the zone
/// (chains, loops, dangling and outside targets), and the addresses of the zone's names an MX,
/// SRV or NS answer points at come in the additional section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_are_followed_and_targets_addresses_added() {
	let mut names = default_names();
	let alias = |target: &str| NameRecords {
		ttl: 300,
		records: vec![(RecordKind::Cname, target.as_bytes().to_vec())],
	};
	names.insert("one.dsync".into(), alias("two.dsync."));
	names.insert("two.dsync".into(), alias("alice.dsync."));
	names.insert("loop1.dsync".into(), alias("loop2.dsync."));
	names.insert("loop2.dsync".into(), alias("loop1.dsync."));
	names.insert("dangling.dsync".into(), alias("nobody.dsync."));
	names.insert("out.dsync".into(), alias("example.org."));
	let target = [&b"mail.mx.dsync"[..]].concat();
	names.insert(
		"mx.dsync".into(),
		NameRecords {
			ttl: TTL,
			records: vec![
				(RecordKind::Mx, [&10u16.to_be_bytes()[..], &target].concat()),
				(RecordKind::Mx, [&20u16.to_be_bytes()[..], &b"mail.example.org"[..]].concat()),
				(RecordKind::Srv, [&[0, 1, 0, 2, 1, 187][..], &target].concat()),
			],
		},
	);
	names.insert(
		"mail.mx.dsync".into(),
		NameRecords {
			ttl: 600,
			records: vec![
				(RecordKind::A, vec![192, 0, 2, 25]),
				(
					RecordKind::Aaaa,
					Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25).octets().to_vec(),
				),
			],
		},
	);
	let zone = FakeZone::with_names(names);
	let server = start(&zone, config()).await;
	let owners_and_types = |response: &Message| -> Vec<(String, RecordType)> {
		response.answers.iter().map(|r| (r.name.to_string(), r.record_type())).collect()
	};

	// A chain of two aliases to alice: both CNAMEs, then alice's addresses.
	let response = udp(server.udp, &query(1, "one.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NoError);
	assert_eq!(
		owners_and_types(&response),
		vec![
			("one.dsync.".into(), RecordType::CNAME),
			("two.dsync.".into(), RecordType::CNAME),
			("alice.dsync.".into(), RecordType::A),
			("alice.dsync.".into(), RecordType::A),
		]
	);
	assert!(response.authorities.is_empty());
	assert_eq!(response.answers[2].ttl, TTL, "each record keeps its own name's TTL");
	// The same over TCP.
	let mut stream = TcpStream::connect(server.tcp).await.unwrap();
	let tcp_response = tcp(&mut stream, &query(2, "one.dsync.", RecordType::A)).await;
	assert_eq!(owners_and_types(&tcp_response), owners_and_types(&response));
	// The end of the chain has no record of the type: NODATA, with the SOA.
	let response = udp(server.udp, &query(3, "one.dsync.", RecordType::NS)).await;
	assert_answer(&response, 3, ResponseCode::NoError);
	assert_eq!(response.answers.len(), 2);
	assert_soa_authority(&response, 10);
	// The alias itself when asked for.
	let response = udp(server.udp, &query(4, "one.dsync.", RecordType::CNAME)).await;
	assert_eq!(owners_and_types(&response), vec![("one.dsync.".into(), RecordType::CNAME)]);
	// A loop ends; a dangling alias is NXDOMAIN (RFC 6604) with the alias; an alias outside
	// the zone is left to the resolver.
	let response = udp(server.udp, &query(5, "loop1.dsync.", RecordType::A)).await;
	assert_answer(&response, 5, ResponseCode::NoError);
	assert_eq!(response.answers.len(), 2);
	let response = udp(server.udp, &query(6, "dangling.dsync.", RecordType::A)).await;
	assert_answer(&response, 6, ResponseCode::NXDomain);
	assert_eq!(owners_and_types(&response), vec![("dangling.dsync.".into(), RecordType::CNAME)]);
	assert_soa_authority(&response, 10);
	let response = udp(server.udp, &query(7, "out.dsync.", RecordType::A)).await;
	assert_answer(&response, 7, ResponseCode::NoError);
	assert_eq!(owners_and_types(&response), vec![("out.dsync.".into(), RecordType::CNAME)]);
	assert!(response.authorities.is_empty());

	// MX and SRV answers carry the addresses of their in-zone target, not of outside ones.
	for (id, qtype, count) in [(8, RecordType::MX, 2), (9, RecordType::SRV, 1)] {
		let response = udp(server.udp, &query(id, "mx.dsync.", qtype)).await;
		assert_answer(&response, id, ResponseCode::NoError);
		assert_eq!(response.answers.len(), count);
		let extra: Vec<(String, RData, u32)> = response
			.additionals
			.iter()
			.map(|r| (r.name.to_string(), r.data.clone(), r.ttl))
			.collect();
		assert_eq!(
			extra,
			vec![
				("mail.mx.dsync.".into(), RData::A(Ipv4Addr::new(192, 0, 2, 25).into()), 600),
				(
					"mail.mx.dsync.".into(),
					RData::AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25).into()),
					600
				),
			],
			"{response}"
		);
	}
}

/// Attack: names built to make one query cost many state reads (a long alias chain, a mail name
/// with many in-zone targets). One answer reads at most the asked name and 8 more; the chain is
/// followed 8 aliases deep at most; the answer still goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_reads_a_bounded_number_of_names() {
	let mut names = default_names();
	for i in 0..20 {
		let next = if i == 19 { "alice.dsync.".to_string() } else { format!("c{}.dsync.", i + 1) };
		names.insert(
			format!("c{i}.dsync"),
			NameRecords { ttl: TTL, records: vec![(RecordKind::Cname, next.into_bytes())] },
		);
	}
	let mut mx = Vec::new();
	for i in 0..16u16 {
		let target = format!("m{i}.mx.dsync");
		mx.push((RecordKind::Mx, [&i.to_be_bytes()[..], target.as_bytes()].concat()));
		names.insert(
			target,
			NameRecords { ttl: TTL, records: vec![(RecordKind::A, vec![192, 0, 2, i as u8])] },
		);
	}
	names.insert("mx.dsync".into(), NameRecords { ttl: TTL, records: mx });
	let zone = FakeZone::with_names(names);
	let server = start(&zone, config()).await;

	let before = zone.lookups();
	let response = udp(server.udp, &query(1, "c0.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NoError);
	assert_eq!(response.answers.len(), 9, "the alias and 8 followed: {response}");
	assert!(response.answers.iter().all(|record| record.record_type() == RecordType::CNAME));
	assert!(zone.lookups() - before <= 9, "{} reads", zone.lookups() - before);

	let before = zone.lookups();
	let response = udp(server.udp, &query(2, "mx.dsync.", RecordType::MX)).await;
	assert_answer(&response, 2, ResponseCode::NoError);
	assert_eq!(response.answers.len(), 16);
	assert!(zone.lookups() - before <= 9, "{} reads", zone.lookups() - before);
	assert_eq!(response.additionals.len(), 8, "the targets read within the bound: {response}");
	// Asked again over TCP (UDP would get the stored response), the names read are cached:
	// the next targets' addresses come, again within the bound.
	let before = zone.lookups();
	let mut stream = TcpStream::connect(server.tcp).await.unwrap();
	let response = tcp(&mut stream, &query(3, "mx.dsync.", RecordType::MX)).await;
	assert_eq!(response.additionals.len(), 16, "{response}");
	assert!(zone.lookups() - before <= 8, "{} reads", zone.lookups() - before);
}
