//! The storage endpoints over real sockets (a listener handing each request to the service, as
//! the probe endpoint does in the node: that hand-off is tested in `probe.rs`) and the parsers'
//! edge cases.

use super::*;
use codec::Decode;
use dsync_primitives::storage::{
	pieces::{slot_root, verify_piece},
	PieceProof,
};
use sp_keystore::{testing::MemoryKeystore, Keystore};
use std::collections::HashMap;

const OWNER: [u8; 32] = [9; 32];

/// The chain as the tests set it: slots by (order, slot), at best and finalised blocks alike
/// unless `finalized` differs.
#[derive(Default)]
struct FakeChain {
	best: HashMap<(u64, u8), SlotView<AccountId>>,
	finalized: HashMap<(u64, u8), SlotView<AccountId>>,
	orders: HashMap<u64, OrderView<AccountId>>,
	work: HashMap<AccountId, Vec<SlotWork>>,
	/// Content-hash records by name.
	names: HashMap<String, Vec<u8>>,
}

struct Node {
	_runtime: tokio::runtime::Runtime,
	addr: std::net::SocketAddr,
	chain: Arc<Mutex<FakeChain>>,
	service: Arc<StorageService>,
	dir: PathBuf,
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = fs::remove_dir_all(&self.dir);
	}
}

fn node(name: &str, capacity: u64) -> Node {
	let dir =
		std::env::temp_dir().join(format!("dsync-node-storage-{name}-{}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	let keystore: KeystorePtr = Arc::new(MemoryKeystore::new());
	let key = keystore.sr25519_generate_new(KEY_TYPE, None).unwrap();
	let chain = Arc::new(Mutex::new(FakeChain::default()));
	let reader = Arc::clone(&chain);
	let (by_cid, by_id, by_work) = (Arc::clone(&chain), Arc::clone(&chain), Arc::clone(&chain));
	let by_name = Arc::clone(&chain);
	let slot_chain = SlotChain {
		orders_of_cid: Box::new(move |cid| {
			let chain = by_cid.lock().unwrap();
			let mut ids: Vec<u64> =
				chain.orders.iter().filter(|(_, o)| o.cid == cid).map(|(id, _)| *id).collect();
			ids.sort();
			Ok(ids)
		}),
		order: Box::new(move |id| Ok(by_id.lock().unwrap().orders.get(&id).cloned())),
		provider_work: Box::new(move |provider| {
			Ok(by_work.lock().unwrap().work.get(&provider).cloned().unwrap_or_default())
		}),
		slot: Box::new(move |order, slot, finalized| {
			let chain = reader.lock().unwrap();
			let map = if finalized { &chain.finalized } else { &chain.best };
			Ok(map.get(&(order, slot)).cloned())
		}),
		owner_of_key: Box::new(move |k| Ok((k == AccountId::from(key.0)).then(|| OWNER.into()))),
		content_hash: Box::new(move |name| {
			Ok(by_name.lock().unwrap().names.get(&name).cloned().into_iter().collect())
		}),
	};
	let service = StorageService::open(&dir, capacity, keystore.clone(), slot_chain).unwrap();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let addr = listener.local_addr().unwrap();
	let served = Arc::clone(&service);
	runtime.spawn(async move {
		use tokio::io::AsyncReadExt;
		loop {
			let Ok((mut stream, _)) = listener.accept().await else { continue };
			let service = Arc::clone(&served);
			tokio::spawn(async move {
				// The head (and whatever body bytes come with it), as the probe endpoint reads it.
				let mut head = Vec::new();
				let mut buffer = [0u8; 512];
				while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 4096 {
					match stream.read(&mut buffer).await {
						Ok(0) | Err(_) => break,
						Ok(n) => head.extend_from_slice(&buffer[..n]),
					}
				}
				service.serve(stream, head).await;
			});
		}
	});
	Node { _runtime: runtime, addr, chain, service, dir }
}

fn offer(node: &Node, order: u64, slot: u8, bytes: &[u8], to: [u8; 32]) {
	let view = SlotView {
		root: slot_root(bytes),
		len: bytes.len() as u64,
		phase: SlotPhase::Offered { provider: to.into(), endpoint: Vec::new(), deadline: 99 },
	};
	let mut chain = node.chain.lock().unwrap();
	chain.best.insert((order, slot), view.clone());
	chain.finalized.insert((order, slot), view);
}

/// One exchange over a real socket: the raw request, then (status, body).
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
	let mut stream = TcpStream::connect(addr).unwrap();
	stream.write_all(request).unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).unwrap();
	let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
	let status = std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap();
	(status, response[split + 4..].to_vec())
}

fn put(addr: std::net::SocketAddr, order: u64, slot: u8, body: &[u8]) -> (u16, Vec<u8>) {
	let mut request = format!(
		"PUT {SLOTS_PATH}{order}/{slot} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
		body.len()
	)
	.into_bytes();
	request.extend_from_slice(body);
	exchange(addr, &request)
}

fn get(addr: std::net::SocketAddr, path: &str, extra: &str) -> (u16, Vec<u8>) {
	exchange(addr, format!("GET {SLOTS_PATH}{path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
}

fn bytes(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn an_offered_slot_is_taken_checked_proven_and_served() {
	let node = node("serve", 1 << 30);
	let slot = bytes(300_000);
	offer(&node, 5, 1, &slot, OWNER);
	assert_eq!(put(node.addr, 5, 1, &slot).0, 201);
	// Again: already kept.
	assert_eq!(put(node.addr, 5, 1, &slot).0, 200);
	let root = slot_root(&slot);
	for piece in [0u64, 1, 17, 1171] {
		let (status, body) = get(node.addr, &format!("5/1/proofs/{piece}"), "");
		assert_eq!(status, 200);
		let proof = PieceProof::decode(&mut body.as_slice()).unwrap();
		assert_eq!(verify_piece(&root, slot.len() as u64, piece, &proof), Ok(()));
	}
	assert_eq!(get(node.addr, "5/1/proofs/1172", "").0, 416);
	assert_eq!(get(node.addr, "5/2/proofs/0", "").0, 404);
	let (status, body) = get(node.addr, "5/1", "");
	assert_eq!((status, body.len()), (200, slot.len()));
	assert_eq!(body, slot);
	let (status, body) = get(node.addr, "5/1", "Range: bytes=1000-1999\r\n");
	assert_eq!((status, body.as_slice()), (206, &slot[1000..2000]));
	assert_eq!(get(node.addr, "5/1", "Range: bytes=300000-\r\n").0, 416);
	assert_eq!(node.service.stats.uploads_kept.load(Ordering::Relaxed), 1);
}

#[test]
fn uploads_that_are_not_the_slot_or_not_for_this_node_are_refused_and_leave_nothing() {
	let node = node("refuse", 1 << 30);
	let slot = bytes(10_000);
	offer(&node, 1, 0, &slot, OWNER);
	offer(&node, 2, 0, &slot, [8; 32]);
	// Another provider's slot.
	assert_eq!(put(node.addr, 2, 0, &slot).0, 403);
	// No such slot.
	assert_eq!(put(node.addr, 3, 0, &slot).0, 404);
	// The wrong length, no length, the wrong bytes, a body cut short.
	assert_eq!(put(node.addr, 1, 0, &slot[..9_999]).0, 400);
	let no_length = format!("PUT {SLOTS_PATH}1/0 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_eq!(exchange(node.addr, no_length.as_bytes()).0, 411);
	let mut wrong = slot.clone();
	wrong[5_000] ^= 1;
	assert_eq!(put(node.addr, 1, 0, &wrong).0, 422);
	let mut short =
		format!("PUT {SLOTS_PATH}1/0 HTTP/1.1\r\nContent-Length: 10000\r\n\r\n").into_bytes();
	short.extend_from_slice(&slot[..4_000]);
	{
		let mut stream = TcpStream::connect(node.addr).unwrap();
		stream.write_all(&short).unwrap();
		stream.shutdown(std::net::Shutdown::Write).unwrap();
		let mut response = Vec::new();
		stream.read_to_end(&mut response).unwrap();
		assert!(response.starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&response));
	}
	// Nothing was kept, nothing is left in incoming/, and no space is counted.
	assert_eq!(get(node.addr, "1/0/proofs/0", "").0, 404);
	assert_eq!(fs::read_dir(node.dir.join("incoming")).unwrap().count(), 0);
	assert_eq!(node.service.used(), 0);
	assert_eq!(node.service.stats.uploads_refused.load(Ordering::Relaxed), 6);
	// A malformed target.
	assert_eq!(get(node.addr, "x/0", "").0, 400);
}

#[test]
fn a_full_node_refuses_uploads_and_slots_no_longer_ours_are_deleted() {
	let node = node("full", 12_000);
	let small = bytes(8_000);
	let other = bytes(8_192);
	offer(&node, 1, 0, &small, OWNER);
	offer(&node, 1, 1, &other, OWNER);
	assert_eq!(put(node.addr, 1, 0, &small).0, 201);
	assert_eq!(node.service.used(), 8_000 + tree_len(8_000));
	// 8,192 more bytes do not fit in 12,000.
	assert_eq!(put(node.addr, 1, 1, &other).0, 507);
	// A fresh offer, not finalised yet, whose slot was just uploaded: kept.
	node.chain.lock().unwrap().finalized.remove(&(1, 0));
	assert_eq!(node.service.collect_garbage(), 0);
	offer(&node, 1, 0, &small, OWNER);
	// The order ends at the best block only: kept (a best block can be reverted).
	node.chain.lock().unwrap().best.clear();
	assert_eq!(node.service.collect_garbage(), 0);
	assert_eq!(get(node.addr, "1/0/proofs/0", "").0, 200);
	// Finalised: deleted, and its room is free again.
	node.chain.lock().unwrap().finalized.remove(&(1, 0));
	assert_eq!(node.service.collect_garbage(), 1);
	assert_eq!(get(node.addr, "1/0/proofs/0", "").0, 404);
	assert_eq!(node.service.used(), 0);
	offer(&node, 1, 1, &other, OWNER);
	assert_eq!(put(node.addr, 1, 1, &other).0, 201);
	// A slot the finalised state gives to another provider is deleted too.
	offer(&node, 1, 1, &other, [8; 32]);
	assert_eq!(node.service.collect_garbage(), 1);
	// A restart counts what is kept and clears what a crash left in incoming/.
	fs::write(node.dir.join("incoming").join("1-0-x.bin"), b"partial").unwrap();
	let again = StorageService::open(
		&node.dir,
		1 << 20,
		Arc::new(MemoryKeystore::new()),
		SlotChain::nothing(),
	)
	.unwrap();
	assert_eq!(again.used(), 0);
	assert_eq!(fs::read_dir(node.dir.join("incoming")).unwrap().count(), 0);
}

#[test]
fn routes_are_parsed_strictly() {
	assert_eq!(route("PUT", "/dsync/storage/v1/slots/7/2"), Ok(Route::Upload(7, 2)));
	assert_eq!(route("GET", "/dsync/storage/v1/slots/7/2"), Ok(Route::Download(7, 2)));
	assert_eq!(route("GET", "/dsync/storage/v1/slots/7/2/proofs/99"), Ok(Route::Proof(7, 2, 99)));
	assert_eq!(
		route("GET", "/dsync/storage/v1/slots/7/256"),
		Err((400, "the slot is a decimal number below 256"))
	);
	assert_eq!(route("GET", "/dsync/storage/v1/slots/x/1").unwrap_err().0, 400);
	assert_eq!(route("GET", "/dsync/storage/v1/slots/+1/1").unwrap_err().0, 400);
	assert_eq!(route("DELETE", "/dsync/storage/v1/slots/1/1").unwrap_err().0, 405);
	assert_eq!(route("PUT", "/dsync/storage/v1/slots/1/1/proofs/3").unwrap_err().0, 405);
	assert_eq!(route("GET", "/dsync/storage/v1/slots/1").unwrap_err().0, 404);
	assert_eq!(
		route("GET", "/dsync/storage/v1/slots/99999999999999999999999/1").unwrap_err().0,
		400
	);
}

#[test]
fn ranges() {
	assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
	assert_eq!(parse_range("bytes=90-", 100), Some((90, 100)));
	assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
	assert_eq!(parse_range("bytes=95-200", 100), Some((95, 100)));
	assert_eq!(parse_range("bytes=100-", 100), None);
	assert_eq!(parse_range("bytes=5-4", 100), None);
	assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
	assert_eq!(parse_range("items=0-1", 100), None);
}

#[test]
fn tree_files_have_the_length_the_writer_gives() {
	for len in [1u64, 4096, 4097, 100_000, 1 << 20] {
		let dir =
			std::env::temp_dir().join(format!("dsync-node-tree-{}-{len}", std::process::id()));
		fs::create_dir_all(&dir).unwrap();
		let tree = File::options()
			.read(true)
			.write(true)
			.create(true)
			.truncate(true)
			.open(dir.join("t"))
			.unwrap();
		let mut writer = TreeWriter::new(&tree).unwrap();
		writer.write_all(&vec![1u8; len as usize]).unwrap();
		writer.finish().unwrap();
		assert_eq!(tree.metadata().unwrap().len(), tree_len(len), "len {len}");
		fs::remove_dir_all(&dir).unwrap();
	}
}

#[test]
fn requests_are_parsed_with_their_body_start() {
	let request =
		Request::parse(b"PUT /x HTTP/1.1\r\nContent-Length: 5\r\nHost: a\r\n\r\nhello").unwrap();
	assert_eq!(request.method, "PUT");
	assert_eq!(request.header("content-length"), Some("5"));
	assert_eq!(request.body_start, b"hello");
	assert!(Request::parse(b"PUT /x HTTP/1.1\r\n").is_none());
	assert!(Request::parse(b"PUT /x SPDY\r\n\r\n").is_none());
	let twice = Request::parse(b"GET / HTTP/1.1\r\nRange: a\r\nRange: b\r\n\r\n").unwrap();
	assert_eq!(twice.header("range"), None);
}

// ---- the gateway ----------------------------------------------------------------------------

use dsync_primitives::storage::{unixfs::directory, FileBuilder, OrderPhase, Profile};
use dsync_store::car::{read_car, CarWriter};

/// A small site as a CAR: `index.html`, `img/logo.png` (20 leaves of 1 KiB), and its root.
fn site_car() -> (Cid, Vec<u8>, Vec<u8>, Vec<u8>) {
	let profile = Profile { chunk_size: 1024, max_links: 4 };
	let index = b"<html><body>hello <img src=img/logo.png></body></html>".to_vec();
	let logo = bytes(20_000);
	let mut writer = CarWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
	let file = |data: &[u8], writer: &mut CarWriter<std::io::Cursor<Vec<u8>>>| {
		let mut builder = FileBuilder::new(profile).unwrap();
		builder.write(data, &mut |c, b| writer.block(c, b));
		builder.finish(&mut |c, b| writer.block(c, b))
	};
	let index_link = file(&index, &mut writer);
	let logo_link = file(&logo, &mut writer);
	let img = directory(&mut [(b"logo.png".to_vec(), logo_link)], &mut |c, b| writer.block(c, b))
		.unwrap();
	let root = directory(
		&mut [(b"index.html".to_vec(), index_link), (b"img".to_vec(), img)],
		&mut |c, b| writer.block(c, b),
	)
	.unwrap();
	let (out, _) = writer.finish(&root.cid).unwrap();
	(root.cid, out.into_inner(), index, logo)
}

/// `car` kept as order 5's only slot (one data shard: the CAR padded to 64 bytes), held by
/// `OWNER` at `holder`'s address, in `node`'s chain.
fn keep_order(node: &Node, holder: std::net::SocketAddr, root: Cid, car: &[u8]) -> Vec<u8> {
	let mut slot = car.to_vec();
	slot.resize(car.len().div_ceil(64) * 64, 0);
	let view = OrderView {
		client: [1u8; 32].into(),
		cid: root,
		size: car.len() as u64,
		data_shards: 1,
		duration: 1,
		phase: OrderPhase::Active { start: 0, end: 1 },
		slots: vec![SlotView {
			root: slot_root(&slot),
			len: slot.len() as u64,
			phase: SlotPhase::Held {
				provider: OWNER.into(),
				endpoint: format!("http://{holder}").into_bytes(),
				misses: 0,
			},
		}],
	};
	node.chain.lock().unwrap().orders.insert(5, view);
	slot
}

fn header_of(response: &[u8], name: &str) -> Option<String> {
	let head =
		std::str::from_utf8(&response[..response.windows(4).position(|w| w == b"\r\n\r\n")?])
			.ok()?;
	head.lines().find_map(|line| {
		let (n, v) = line.split_once(':')?;
		n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
	})
}

fn raw_get(addr: std::net::SocketAddr, target: &str, extra: &str) -> Vec<u8> {
	let mut stream = TcpStream::connect(addr).unwrap();
	stream
		.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
		.unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).unwrap();
	response
}

fn body_of(response: &[u8]) -> (u16, Vec<u8>) {
	let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
	(
		std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap(),
		response[split + 4..].to_vec(),
	)
}

#[test]
fn the_gateway_serves_files_ranges_blocks_cars_listings_and_routing_from_a_kept_slot() {
	let node = node("gateway", 1 << 30);
	let (root, car, index, logo) = site_car();
	let slot = keep_order(&node, node.addr, root, &car);
	offer(&node, 5, 0, &slot, OWNER);
	assert_eq!(put(node.addr, 5, 0, &slot).0, 201);
	let base = format!("/ipfs/{root}");

	let response = raw_get(node.addr, &format!("{base}/index.html"), "");
	assert_eq!(body_of(&response), (200, index.clone()));
	assert_eq!(header_of(&response, "content-type").as_deref(), Some("text/html; charset=utf-8"));
	assert_eq!(header_of(&response, "etag"), Some(format!("\"{root}\"")));
	// The directory answers with its index.html; kubo's CIDv0 names the same content.
	assert_eq!(body_of(&raw_get(node.addr, &format!("{base}/"), "")), (200, index.clone()));
	let v0 = root.to_v0_string().unwrap();
	assert_eq!(body_of(&raw_get(node.addr, &format!("/ipfs/{v0}/index.html"), "")), (200, index));
	// A directory without one is listed.
	let (status, listing) = body_of(&raw_get(node.addr, &format!("{base}/img"), ""));
	assert_eq!(status, 200);
	assert!(String::from_utf8_lossy(&listing).contains("logo.png"));
	// A file, whole and in a range.
	assert_eq!(
		body_of(&raw_get(node.addr, &format!("{base}/img/logo.png"), "")),
		(200, logo.clone())
	);
	let response =
		raw_get(node.addr, &format!("{base}/img/logo.png"), "Range: bytes=1000-5999\r\n");
	assert_eq!(body_of(&response), (206, logo[1000..6000].to_vec()));
	assert_eq!(header_of(&response, "content-range").as_deref(), Some("bytes 1000-5999/20000"));
	// The root block itself, checked against its CID.
	let response = raw_get(node.addr, &format!("{base}?format=raw"), "");
	let (status, block) = body_of(&response);
	assert_eq!(status, 200);
	assert!(root.matches(&block));
	assert_eq!(header_of(&response, "content-type").as_deref(), Some("application/vnd.ipld.raw"));
	// A CAR of the path and the logo's DAG, every block checked by the reader.
	let (status, sub) = body_of(&raw_get(
		node.addr,
		&format!("{base}/img/logo.png"),
		"Accept: application/vnd.ipld.car\r\n",
	));
	assert_eq!(status, 200);
	let index = read_car(std::io::Cursor::new(&sub), Some(&root)).unwrap();
	assert_eq!(index.blocks.len(), 2 + 20 + 8, "the root, img, 20 leaves and 8 file nodes");
	// Unknown content, a bad CID, a missing path.
	let unknown = Cid::raw(b"nobody keeps this");
	assert_eq!(body_of(&raw_get(node.addr, &format!("/ipfs/{unknown}"), "")).0, 404);
	assert_eq!(body_of(&raw_get(node.addr, "/ipfs/not-a-cid", "")).0, 400);
	assert_eq!(body_of(&raw_get(node.addr, &format!("{base}/nope.html"), "")).0, 404);
	// Delegated routing names the holder as an HTTP gateway provider.
	let (status, json) = body_of(&raw_get(node.addr, &format!("/routing/v1/providers/{root}"), ""));
	assert_eq!(status, 200);
	let json = String::from_utf8(json).unwrap();
	assert!(json.contains("transport-ipfs-gateway-http"), "{json}");
	assert!(json.contains(&format!("/ip4/127.0.0.1/tcp/{}/http", node.addr.port())), "{json}");
	assert_eq!(
		body_of(&raw_get(node.addr, &format!("/routing/v1/providers/{unknown}"), "")).0,
		404
	);
}

#[test]
fn a_node_without_the_slot_fetches_it_from_its_provider_and_refuses_wrong_bytes() {
	let holder = node("gw-holder", 1 << 30);
	let (root, car, index, _) = site_car();
	let slot = keep_order(&holder, holder.addr, root, &car);
	offer(&holder, 5, 0, &slot, OWNER);
	assert_eq!(put(holder.addr, 5, 0, &slot).0, 201);
	// Another node, which keeps nothing: it downloads the slot, checks it and serves the site.
	let other = node("gw-other", 1 << 30);
	keep_order(&other, holder.addr, root, &car);
	assert_eq!(
		body_of(&raw_get(other.addr, &format!("/ipfs/{root}/index.html"), "")),
		(200, index)
	);
	// A provider whose bytes changed (same length): a third node refuses them, serves nothing.
	let (data, _) = holder.service.slot_paths(5, 0);
	let mut wrong = slot.clone();
	wrong[100] ^= 0xff;
	fs::write(data, &wrong).unwrap();
	let third = node("gw-third", 1 << 30);
	keep_order(&third, holder.addr, root, &car);
	let (status, body) = body_of(&raw_get(third.addr, &format!("/ipfs/{root}/index.html"), ""));
	assert_eq!(status, 502, "{}", String::from_utf8_lossy(&body));
	assert_eq!(fs::read_dir(third.dir.join("content")).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn an_offered_slot_nobody_uploads_is_rebuilt_from_the_other_providers() {
	use dsync_primitives::storage::{SlotTask, SlotWork};
	use dsync_store::coder::{encode, Layout};
	// Content coded 2 + 1: slots 0 and 1 kept by the holder, slot 2 offered to the repairer.
	let (root, car, index, _) = site_car();
	let layout = Layout::new(car.len() as u64, 2, 3).unwrap();
	let mut slots = vec![Vec::new(); 3];
	encode(&layout, std::io::Cursor::new(&car), &mut slots).unwrap();
	let holder = node("repair-holder", 1 << 30);
	for j in 0..2u8 {
		offer(&holder, 5, j, &slots[usize::from(j)], OWNER);
		assert_eq!(put(holder.addr, 5, j, &slots[usize::from(j)]).0, 201);
	}
	let endpoint = format!("http://{}", holder.addr).into_bytes();
	let view = |j: usize, phase: SlotPhase<AccountId>| SlotView {
		root: slot_root(&slots[j]),
		len: slots[j].len() as u64,
		phase,
	};
	let held = |j| {
		view(
			j,
			SlotPhase::Held { provider: [7u8; 32].into(), endpoint: endpoint.clone(), misses: 0 },
		)
	};
	let order = OrderView {
		client: [1u8; 32].into(),
		cid: root,
		size: car.len() as u64,
		data_shards: 2,
		duration: 4,
		phase: OrderPhase::Active { start: 0, end: 4 },
		slots: vec![
			held(0),
			held(1),
			view(
				2,
				SlotPhase::Offered { provider: OWNER.into(), endpoint: Vec::new(), deadline: 99 },
			),
		],
	};
	let repairer = node("repair-new", 1 << 30);
	{
		let mut chain = repairer.chain.lock().unwrap();
		chain.orders.insert(5, order.clone());
		chain.work.insert(
			OWNER.into(),
			vec![SlotWork {
				order: 5,
				slot: 2,
				cid: root,
				root: order.slots[2].root,
				len: order.slots[2].len,
				task: SlotTask::Accept { deadline: 99, challenge: 3 },
			}],
		);
	}
	assert_eq!(repairer.service.repair(), 1);
	// The rebuilt slot is kept and proven against its root; the repair is not done twice.
	let (status, body) = get(repairer.addr, "5/2/proofs/3", "");
	assert_eq!(status, 200);
	let proof = PieceProof::decode(&mut body.as_slice()).unwrap();
	assert_eq!(verify_piece(&order.slots[2].root, order.slots[2].len, 3, &proof), Ok(()));
	assert_eq!(repairer.service.repair(), 0);
	assert_eq!(repairer.service.stats.slots_repaired.load(Ordering::Relaxed), 1);
	// It also serves the site (rebuilt on the way).
	assert_eq!(
		body_of(&raw_get(repairer.addr, &format!("/ipfs/{root}/index.html"), "")),
		(200, index)
	);

	// With fewer than two other slots held (a filling order whose client uploads), nothing.
	let waiting = node("repair-wait", 1 << 30);
	{
		let mut chain = waiting.chain.lock().unwrap();
		let mut filling = order.clone();
		filling.slots[1].phase = SlotPhase::Unassigned;
		filling.phase = OrderPhase::Filling;
		chain.orders.insert(5, filling);
		chain.work = repairer.chain.lock().unwrap().work.clone();
	}
	assert_eq!(waiting.service.repair(), 0);
	assert_eq!(get(waiting.addr, "5/2/proofs/3", "").0, 404);
}

// ---- websites -------------------------------------------------------------------------------

fn site_get(addr: std::net::SocketAddr, host: &str, target: &str) -> Vec<u8> {
	let mut stream = TcpStream::connect(addr).unwrap();
	stream
		.write_all(
			format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\r\n")
				.as_bytes(),
		)
		.unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).unwrap();
	response
}

#[test]
fn a_name_with_a_content_hash_is_served_as_a_website() {
	let node = node("website", 1 << 30);
	let (root, car, index, logo) = site_car();
	let slot = keep_order(&node, node.addr, root, &car);
	offer(&node, 5, 0, &slot, OWNER);
	assert_eq!(put(node.addr, 5, 0, &slot).0, 201);
	{
		let mut chain = node.chain.lock().unwrap();
		chain.names.insert("site.dsync".into(), root.to_bytes());
		// ENS's contenthash form, as wallets write it.
		chain
			.names
			.insert("www.ens.dsync".into(), [&[0xe3, 0x01][..], &root.to_bytes()].concat());
		chain.names.insert("junk.dsync".into(), b"not a cid".to_vec());
		chain
			.names
			.insert("gone.dsync".into(), Cid::raw(b"no order keeps it").to_bytes());
	}

	let response = site_get(node.addr, "site.dsync", "/");
	assert_eq!(body_of(&response), (200, index.clone()));
	assert_eq!(header_of(&response, "content-type").as_deref(), Some("text/html; charset=utf-8"));
	// Any case, a port, a trailing dot; paths and content types as the gateway's.
	let response = site_get(node.addr, "SITE.dsync.:8080", "/img/logo.png");
	assert_eq!(body_of(&response), (200, logo));
	assert_eq!(header_of(&response, "content-type").as_deref(), Some("image/png"));
	assert_eq!(body_of(&site_get(node.addr, "www.ens.dsync", "/index.html")), (200, index));
	assert_eq!(body_of(&site_get(node.addr, "site.dsync", "/missing.html")).0, 404);
	// Names without a site: no record, not a CID, content nobody keeps.
	for host in ["nobody.dsync", "junk.dsync", "gone.dsync"] {
		assert_eq!(body_of(&site_get(node.addr, host, "/")).0, 404, "{host}");
	}
	// The node's own paths keep their meaning on a site's host.
	let (status, listing) =
		body_of(&site_get(node.addr, "site.dsync", &format!("/ipfs/{root}/img")));
	assert_eq!(status, 200);
	assert!(String::from_utf8_lossy(&listing).contains("logo.png"));
}

#[test]
fn website_requests_are_recognised_by_host_and_path() {
	let request = |host: &str, target: &str| {
		Request::parse(format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).unwrap()
	};
	let name = |host: &str, target: &str| website::website_of(&request(host, target));
	assert_eq!(name("alice.dsync", "/").as_deref(), Some("alice.dsync"));
	assert_eq!(name("WWW.Alice.DSYNC.:80", "/a/b?c").as_deref(), Some("www.alice.dsync"));
	for (host, target) in [
		("dsync", "/"),
		("alice.dsync", "/dsync/probe/00"),
		("alice.dsync", "/ipfs/x"),
		("alice.dsync", "/routing/v1/providers/x"),
		("alice.dsync", "*"),
		("alice.dsync:", "/"),
		("alice.dsync:x", "/"),
		("al_ice.dsync", "/"),
		("example.com", "/"),
		("[::1]:80", "/"),
		("127.0.0.1:9955", "/"),
	] {
		assert_eq!(name(host, target), None, "{host} {target}");
	}
	// No Host, or two.
	let none = Request::parse(b"GET / HTTP/1.1\r\n\r\n").unwrap();
	assert_eq!(website::website_of(&none), None);
	let two = Request::parse(b"GET / HTTP/1.1\r\nHost: a.dsync\r\nHost: b.dsync\r\n\r\n").unwrap();
	assert_eq!(website::website_of(&two), None);

	let cid = Cid::raw(b"x");
	assert_eq!(website::cid_of_content_hash(&cid.to_bytes()), Some(cid));
	assert_eq!(
		website::cid_of_content_hash(&[&[0xe3, 0x01][..], &cid.to_bytes()].concat()),
		Some(cid)
	);
	assert_eq!(website::cid_of_content_hash(b""), None);
	assert_eq!(website::cid_of_content_hash(&[0xe3, 0x01]), None);
}
