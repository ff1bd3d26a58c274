//! The zone index over real sockets: names nobody has answered from memory, names read once until
//! they change or expire, and the index following new finalised blocks without holding queries.

use super::{
	assert_answer, assert_soa_authority, config, fake::FakeName, query, settle, start, tcp, udp,
	FakeZone, TTL,
};
use crate::dns::NameChange;
use dsync_primitives::naming::{NameRecords, RecordKind};
use hickory_proto::{
	op::{Message, ResponseCode},
	rr::{RData, RecordType},
};
use std::{
	net::Ipv4Addr,
	time::{Duration, Instant},
};
use tokio::{
	net::{TcpStream, UdpSocket},
	time::timeout,
};

fn a_name(address: [u8; 4]) -> FakeName {
	FakeName::forever(NameRecords { ttl: TTL, records: vec![(RecordKind::A, address.to_vec())] })
}

fn addresses(response: &Message) -> Vec<Ipv4Addr> {
	response
		.answers
		.iter()
		.filter_map(|record| match &record.data {
			RData::A(a) => Some(a.0),
			_ => None,
		})
		.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_nobody_has_are_answered_without_reading_state() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	let dropped = server.stats.snapshot().dropped;

	// A random-subdomain flood, in batches: every query answered, none read.
	let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
	let mut buffer = vec![0; 4096];
	for batch in 0..10u16 {
		for i in 0..100u16 {
			let text = format!("r{batch}x{i}.dsync.");
			let packet = query(batch * 100 + i, &text, RecordType::A).to_vec().unwrap();
			socket.send_to(&packet, server.udp).await.unwrap();
		}
		for _ in 0..100 {
			let (len, _) = timeout(Duration::from_secs(2), socket.recv_from(&mut buffer))
				.await
				.expect("every query answered")
				.unwrap();
			let response = Message::from_vec(&buffer[..len]).unwrap();
			assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
			assert_soa_authority(&response, 10);
		}
	}
	// Subnames of existing names, and over TCP.
	let response = udp(server.udp, &query(1, "nobody.alice.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NXDomain);
	let mut stream = TcpStream::connect(server.tcp).await.unwrap();
	let response = tcp(&mut stream, &query(2, "nobody.dsync.", RecordType::TXT)).await;
	assert_answer(&response, 2, ResponseCode::NXDomain);
	assert_soa_authority(&response, 10);
	assert_eq!(zone.lookups(), lookups);
	assert_eq!(server.stats.snapshot().dropped, dropped);

	// Stored names are still read (once).
	for id in [3, 4] {
		let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::TXT)).await;
		assert_answer(&response, id, ResponseCode::NoError);
		assert_eq!(response.answers.len(), 1);
	}
	assert_eq!(zone.lookups(), lookups + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_read_once_per_name_until_it_changes() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	for id in [1, 2] {
		let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::A)).await;
		assert_eq!(response.answers.len(), 2);
	}
	// Another type of the same name, and an absent name.
	udp(server.udp, &query(3, "alice.dsync.", RecordType::TXT)).await;
	for id in [4, 5] {
		let response = udp(server.udp, &query(id, "nobody.dsync.", RecordType::A)).await;
		assert_answer(&response, id, ResponseCode::NXDomain);
	}
	assert_eq!(zone.lookups(), lookups + 1);

	// A block changing no name: nothing is read again; answers carry its serial.
	zone.finalize([2; 32], 11);
	settle(&server, &zone, 11).await;
	let response = udp(server.udp, &query(6, "alice.dsync.", RecordType::A)).await;
	assert_eq!(response.answers.len(), 2);
	let response = udp(server.udp, &query(7, "alice.dsync.", RecordType::CNAME)).await;
	assert_soa_authority(&response, 11);
	let response = udp(server.udp, &query(8, "nobody.dsync.", RecordType::A)).await;
	assert_soa_authority(&response, 11);
	assert_eq!(zone.lookups(), lookups + 1);

	// A block changing alice's records: read again, once.
	zone.block([3; 32], |names| {
		names.get_mut("alice.dsync").unwrap().records.records =
			vec![(RecordKind::A, vec![198, 51, 100, 7])];
	});
	settle(&server, &zone, 12).await;
	for id in [9, 10] {
		let response = udp(server.udp, &query(id, "alice.dsync.", RecordType::A)).await;
		assert_eq!(addresses(&response), vec![Ipv4Addr::new(198, 51, 100, 7)]);
	}
	assert_eq!(zone.lookups(), lookups + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_registered_later_resolves_once_its_block_is_final() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	let response = udp(server.udp, &query(1, "carol.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NXDomain);
	assert_eq!(zone.lookups(), lookups);

	zone.block([2; 32], |names| {
		names.insert("carol.dsync".into(), a_name([203, 0, 113, 5]));
	});
	settle(&server, &zone, 11).await;
	let response = udp(server.udp, &query(2, "carol.dsync.", RecordType::A)).await;
	assert_answer(&response, 2, ResponseCode::NoError);
	assert_eq!(addresses(&response), vec![Ipv4Addr::new(203, 0, 113, 5)]);
	assert_eq!(zone.lookups(), lookups + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_name_is_nxdomain_after_its_block() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	let response = udp(server.udp, &query(1, "alice.dsync.", RecordType::A)).await;
	assert_eq!(response.answers.len(), 2);
	let response = udp(server.udp, &query(2, "bare.dsync.", RecordType::A)).await;
	assert_answer(&response, 2, ResponseCode::NoError);
	assert_eq!(zone.lookups(), lookups + 2);

	zone.block([2; 32], |names| {
		names.remove("alice.dsync");
	});
	settle(&server, &zone, 11).await;
	// Gone from the name set: NXDOMAIN without a read.
	let response = udp(server.udp, &query(3, "alice.dsync.", RecordType::A)).await;
	assert_answer(&response, 3, ResponseCode::NXDomain);
	assert_soa_authority(&response, 11);
	// Another name is still cached.
	let response = udp(server.udp, &query(4, "bare.dsync.", RecordType::A)).await;
	assert_answer(&response, 4, ResponseCode::NoError);
	assert_eq!(zone.lookups(), lookups + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parents_change_makes_its_subnames_read_again() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	for id in [1, 2] {
		let response = udp(server.udp, &query(id, "www.alice.dsync.", RecordType::CNAME)).await;
		assert_eq!(response.answers.len(), 1);
	}
	assert_eq!(zone.lookups(), lookups + 1);

	// alice renewed (its `Names` entry written): its subname is read again, and still resolves.
	zone.block([2; 32], |names| {
		names.get_mut("alice.dsync").unwrap().expires = 1_000_000;
	});
	settle(&server, &zone, 11).await;
	let response = udp(server.udp, &query(3, "www.alice.dsync.", RecordType::CNAME)).await;
	assert_eq!(response.answers.len(), 1);
	assert_eq!(zone.lookups(), lookups + 2);

	// alice released: its subname is still stored (its id in the set) but stale.
	zone.block([3; 32], |names| {
		names.remove("alice.dsync");
	});
	settle(&server, &zone, 12).await;
	for id in [4, 5] {
		let response = udp(server.udp, &query(id, "www.alice.dsync.", RecordType::CNAME)).await;
		assert_answer(&response, id, ResponseCode::NXDomain);
		assert_soa_authority(&response, 12);
	}
	assert_eq!(zone.lookups(), lookups + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_read_again_once_its_registration_ends() {
	let zone = FakeZone::new();
	zone.block([2; 32], |names| {
		names.insert("dave.dsync".into(), FakeName { expires: 12, ..a_name([192, 0, 2, 9]) });
		names.insert("www.dave.dsync".into(), a_name([192, 0, 2, 10]));
	});
	let server = start(&zone, config()).await;
	settle(&server, &zone, 11).await;
	let lookups = zone.lookups();
	for (id, text) in [(1, "dave.dsync."), (2, "www.dave.dsync.")] {
		let response = udp(server.udp, &query(id, text, RecordType::A)).await;
		assert_eq!(response.answers.len(), 1);
	}
	assert_eq!(zone.lookups(), lookups + 2);

	// Block 12 is the last paid one: still cached.
	zone.finalize([3; 32], 12);
	settle(&server, &zone, 12).await;
	for (id, text) in [(3, "dave.dsync."), (4, "www.dave.dsync.")] {
		let response = udp(server.udp, &query(id, text, RecordType::A)).await;
		assert_eq!(response.answers.len(), 1);
	}
	assert_eq!(zone.lookups(), lookups + 2);

	// Past it, both are read again (no storage changed) and no longer resolve.
	zone.finalize([4; 32], 13);
	settle(&server, &zone, 13).await;
	for (id, text) in [(5, "dave.dsync."), (6, "www.dave.dsync.")] {
		let response = udp(server.udp, &query(id, text, RecordType::A)).await;
		assert_answer(&response, id, ResponseCode::NXDomain);
		assert_soa_authority(&response, 13);
	}
	assert_eq!(zone.lookups(), lookups + 4);
	// Their absence is kept.
	let response = udp(server.udp, &query(7, "dave.dsync.", RecordType::TXT)).await;
	assert_answer(&response, 7, ResponseCode::NXDomain);
	assert_eq!(zone.lookups(), lookups + 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_or_unknown_changes_drop_what_was_read() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	assert_eq!(zone.scans(), 1);
	let lookups = zone.lookups();
	udp(server.udp, &query(1, "alice.dsync.", RecordType::A)).await;
	assert_eq!(zone.lookups(), lookups + 1);

	// Another naming key changed (e.g. the parameters): everything read is dropped, the name set
	// is kept.
	zone.block_with([2; 32], vec![NameChange::Other], |_| {});
	settle(&server, &zone, 11).await;
	udp(server.udp, &query(2, "alice.dsync.", RecordType::A)).await;
	assert_eq!(zone.lookups(), lookups + 2);
	assert_eq!(zone.scans(), 1);

	// A block whose changes were not seen: the names are scanned again.
	zone.unseen_block([3; 32], |names| {
		names.insert("erin.dsync".into(), a_name([192, 0, 2, 77]));
	});
	settle(&server, &zone, 12).await;
	assert_eq!(zone.scans(), 2);
	let response = udp(server.udp, &query(3, "erin.dsync.", RecordType::A)).await;
	assert_eq!(addresses(&response), vec![Ipv4Addr::new(192, 0, 2, 77)]);
	udp(server.udp, &query(4, "alice.dsync.", RecordType::A)).await;
	assert_eq!(zone.lookups(), lookups + 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_answered_while_the_index_updates() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	zone.set_scan_delay(Duration::from_secs(3));
	zone.unseen_block([2; 32], |names| {
		names.insert("erin.dsync".into(), a_name([192, 0, 2, 77]));
	});
	// A query starts a slow scan; meanwhile queries are answered at block 10.
	let response = udp(server.udp, &query(1000, "nobody.dsync.", RecordType::A)).await;
	assert_soa_authority(&response, 10);
	let started = Instant::now();
	while zone.scans() < 2 {
		assert!(started.elapsed() < Duration::from_secs(1), "the scan starts");
		tokio::time::sleep(Duration::from_millis(5)).await;
	}
	for id in 1..=5 {
		let response = udp(server.udp, &query(id, "erin.dsync.", RecordType::A)).await;
		assert_answer(&response, id, ResponseCode::NXDomain);
		assert_soa_authority(&response, 10);
		let text = format!("nobody{id}.dsync.");
		let response = udp(server.udp, &query(100 + id, &text, RecordType::A)).await;
		assert_soa_authority(&response, 10);
		let response = udp(server.udp, &query(200 + id, "bare.dsync.", RecordType::A)).await;
		assert_answer(&response, 200 + id, ResponseCode::NoError);
	}
	assert_eq!(zone.scans(), 2);
	settle(&server, &zone, 11).await;
	let response = udp(server.udp, &query(6, "erin.dsync.", RecordType::A)).await;
	assert_answer(&response, 6, ResponseCode::NoError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_read_from_state_until_the_first_scan_ends() {
	let zone = FakeZone::new();
	zone.set_scan_delay(Duration::from_millis(1000));
	let server = start(&zone, config()).await;
	// No name set yet: a name nobody has is read, as is a stored one (once).
	let response = udp(server.udp, &query(1, "nobody.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NXDomain);
	assert_soa_authority(&response, 10);
	assert_eq!(zone.lookups(), 1);
	udp(server.udp, &query(2, "alice.dsync.", RecordType::A)).await;
	udp(server.udp, &query(3, "alice.dsync.", RecordType::TXT)).await;
	assert_eq!(zone.lookups(), 2);

	// Once scanned at the same block, what was read is kept and unknown names are not read.
	settle(&server, &zone, 10).await;
	let lookups = zone.lookups();
	udp(server.udp, &query(4, "alice.dsync.", RecordType::MX)).await;
	let response = udp(server.udp, &query(5, "nobody2.dsync.", RecordType::A)).await;
	assert_answer(&response, 5, ResponseCode::NXDomain);
	assert_eq!(zone.lookups(), lookups);
	assert_eq!(zone.scans(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_finality_without_waiting_for_a_query() {
	let zone = FakeZone::new();
	let server = start(&zone, config()).await;
	settle(&server, &zone, 10).await;
	zone.block([2; 32], |names| {
		names.insert("carol.dsync".into(), a_name([203, 0, 113, 5]));
	});
	// No query in between: the server moves to the new block by itself.
	tokio::time::sleep(std::time::Duration::from_millis(300)).await;
	let response = udp(server.udp, &query(1, "carol.dsync.", RecordType::A)).await;
	assert_answer(&response, 1, ResponseCode::NoError);
	assert_eq!(addresses(&response), vec![Ipv4Addr::new(203, 0, 113, 5)]);
}
