//! The storage provider's side of the node: slots received from clients, kept on disk and
//! proven (`--storage-dir`, `--storage-capacity`).
//!
//! The slot endpoints are served on the node's service endpoint (the probe endpoint,
//! `--probe-listen-addr`, the address a service node declares on chain), under
//! [`SLOTS_PATH`]:
//!
//! - `PUT /dsync/storage/v1/slots/{order}/{slot}`: a client uploads a slot's bytes. Accepted
//!   only for a slot offered to (or held by) a provider whose `dsyn` key this node holds, with
//!   `Content-Length` equal to the slot's length on chain, while the node has room for it
//!   (`507` otherwise); the bytes stream to disk while the slot's piece tree is built
//!   ([`dsync_store::slot::TreeWriter`]) and are kept only if their root is the one on chain
//!   (`422` otherwise, and nothing kept). `201` when kept, `200` when the node already had it.
//! - `GET /dsync/storage/v1/slots/{order}/{slot}/proofs/{piece}`: the SCALE-encoded proof of a
//!   piece ([`dsync_primitives::storage::PieceProof`]): what the node's off-chain worker
//!   submits to accept and prove its slots (`pallet_storage::ocw`), and what anyone may check
//!   against the chain's root.
//! - `GET /dsync/storage/v1/slots/{order}/{slot}`: the slot's bytes (`Range: bytes=a-b` gives
//!   `206`), for repairs and gateways.
//!
//! A slot is two files in `{storage-dir}/slots/`: `{order}-{slot}.bin` (the bytes) and
//! `{order}-{slot}.tree` (the piece tree's upper levels, 1.6 % more). Uploads land in
//! `{storage-dir}/incoming/` and are moved into place once checked; what a crash leaves there
//! is removed at the next start. The space used (slots and incoming uploads together) never
//! exceeds `--storage-capacity`. Every [`GC_PERIOD`] the node deletes the slots that neither the
//! chain's finalised state nor its best state offers to or keeps with it (an order settled or
//! cancelled, an offer expired, a slot freed), so the disk holds only what it is paid to hold:
//! never on a best block that could still be reverted, never for an offer not finalised yet.
//!
//! Each request runs on a blocking thread (file I/O), at most [`MAX_REQUESTS`] at once and
//! [`MAX_UPLOADS`] uploads at once (`503` beyond); an upload that stalls for
//! [`UPLOAD_IDLE_TIMEOUT`] is dropped. Nothing panics on any input.

use dsync_primitives::{
	probe::KEY_TYPE,
	storage::{
		api::SLOTS_PATH, pieces::MAX_SLOT_BYTES, Cid, OrderView, SlotPhase, SlotView, SlotWork,
	},
	AccountId,
};
use dsync_store::slot::{SlotFile, TreeWriter, GROUP_BYTES};
use sp_keystore::KeystorePtr;
use std::{
	fs::{self, File},
	io::{self, Read, Write},
	net::TcpStream,
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU64, AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

/// Requests served at once.
pub const MAX_REQUESTS: usize = 64;
/// Uploads received at once.
pub const MAX_UPLOADS: usize = 4;
/// An upload that sends nothing for this long is dropped.
pub const UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often slots no longer ours are deleted.
pub const GC_PERIOD: Duration = Duration::from_secs(60);

const LOG_TARGET: &str = "dsync::storage";

mod gateway;
mod repair;
mod website;

pub use repair::REPAIR_PERIOD;
pub use website::website_name;

/// Reads an open order from the chain.
pub type OrderReader =
	Box<dyn Fn(u64) -> Result<Option<OrderView<AccountId>>, String> + Send + Sync>;
/// Reads the content-hash record of a name at the best block.
pub type NameReader = Box<dyn Fn(String) -> Result<Vec<Vec<u8>>, String> + Send + Sync>;
/// Reads slot `(order, slot)` at the best block (`false`) or the finalised one (`true`).
pub type SlotReader =
	Box<dyn Fn(u64, u8, bool) -> Result<Option<SlotView<AccountId>>, String> + Send + Sync>;

/// What the node reads from the chain for its slots (the runtime API `StorageApi`, in the node).
pub struct SlotChain {
	/// The open orders keeping a CID, at the best block.
	pub orders_of_cid: Box<dyn Fn(Cid) -> Result<Vec<u64>, String> + Send + Sync>,
	/// An open order, at the best block.
	pub order: OrderReader,
	/// A provider's slots and what to do for each, at the best block.
	pub provider_work: Box<dyn Fn(AccountId) -> Result<Vec<SlotWork>, String> + Send + Sync>,
	/// Slot `(order, slot)` at the best block (`false`) or the finalised one (`true`).
	pub slot: SlotReader,
	/// The storage provider whose node key is `key`, at the best block.
	pub owner_of_key: Box<dyn Fn(AccountId) -> Result<Option<AccountId>, String> + Send + Sync>,
	/// The content-hash record of a name (`alice.dsync`), at the best block: none when the name
	/// has none or does not exist.
	pub content_hash: NameReader,
}

#[cfg(test)]
impl SlotChain {
	/// A chain that knows no order, slot, provider or name (tests).
	pub fn nothing() -> Self {
		SlotChain {
			orders_of_cid: Box::new(|_| Ok(Vec::new())),
			order: Box::new(|_| Ok(None)),
			provider_work: Box::new(|_| Ok(Vec::new())),
			slot: Box::new(|_, _, _| Ok(None)),
			owner_of_key: Box::new(|_| Ok(None)),
			content_hash: Box::new(|_| Ok(Vec::new())),
		}
	}
}

/// The node's counters (the `dsync_storage_*` metrics).
#[derive(Default)]
pub struct StorageStats {
	/// Uploads kept.
	pub uploads_kept: AtomicU64,
	/// Uploads refused (not offered, wrong length or root, no room, busy, stalled).
	pub uploads_refused: AtomicU64,
	/// Bytes received in uploads kept.
	pub bytes_received: AtomicU64,
	/// Proofs served.
	pub proofs_served: AtomicU64,
	/// Slot bytes served.
	pub bytes_served: AtomicU64,
	/// Slots deleted because the chain no longer keeps them here.
	pub slots_deleted: AtomicU64,
	/// Slots rebuilt from other providers' slots and kept (repairs).
	pub slots_repaired: AtomicU64,
}

/// The storage of a provider's node.
pub struct StorageService {
	dir: PathBuf,
	capacity: u64,
	used: Mutex<u64>,
	keystore: KeystorePtr,
	chain: SlotChain,
	requests: AtomicUsize,
	uploads: AtomicUsize,
	cache: Mutex<gateway::ContentCache>,
	/// The counters.
	pub stats: StorageStats,
}

/// Why a slot was not kept.
enum KeepError {
	/// Not within the capacity.
	NoRoom,
	/// Reading or writing failed.
	Io(io::Error),
}

/// A request as the probe endpoint read it: its head and the body bytes read with it.
pub struct Request {
	/// The method.
	pub method: String,
	/// The target (path and query).
	pub target: String,
	/// The headers (names in lower case).
	pub headers: Vec<(String, String)>,
	/// Body bytes that came with the head.
	pub body_start: Vec<u8>,
}

impl Request {
	/// Parses `bytes` (the head, up to and including the blank line, then any body bytes);
	/// `None` when it is not an HTTP/1.x request.
	pub fn parse(bytes: &[u8]) -> Option<Request> {
		let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
		let head = std::str::from_utf8(&bytes[..end]).ok()?;
		let mut lines = head.split("\r\n");
		let mut parts = lines.next()?.split(' ');
		let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
		if !version.starts_with("HTTP/1.") || parts.next().is_some() {
			return None;
		}
		let headers = lines
			.filter_map(|line| {
				let (name, value) = line.split_once(':')?;
				Some((name.trim().to_ascii_lowercase(), value.trim().to_string()))
			})
			.collect();
		Some(Request {
			method: method.into(),
			target: target.into(),
			headers,
			body_start: bytes[end + 4..].to_vec(),
		})
	}

	/// The value of header `name` (lower case) when it is there once.
	pub fn header(&self, name: &str) -> Option<&str> {
		let mut values = self.headers.iter().filter(|(n, _)| n == name);
		let first = values.next()?;
		values.next().is_none().then_some(first.1.as_str())
	}
}

/// Whether `target` is one of the storage endpoints (the probe endpoint hands them over): the
/// slot endpoints, the gateway (`/ipfs/`) and delegated routing (`/routing/v1/`).
pub fn is_storage_target(target: &[u8]) -> bool {
	target.starts_with(SLOTS_PATH.as_bytes())
		|| target.starts_with(b"/ipfs/")
		|| target.starts_with(b"/routing/v1/")
}

/// What a storage request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
	Upload(u64, u8),
	Download(u64, u8),
	Proof(u64, u8, u64),
}

fn route(method: &str, target: &str) -> Result<Route, (u16, &'static str)> {
	let path = target.split('?').next().unwrap_or_default();
	let rest = path.strip_prefix(SLOTS_PATH).ok_or((404, "not found"))?;
	let parts: Vec<&str> = rest.split('/').collect();
	let number = |s: &str| -> Option<u64> {
		(!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
			.then(|| s.parse().ok())
			.flatten()
	};
	let order_slot = |o: &str, s: &str| -> Result<(u64, u8), (u16, &'static str)> {
		let order = number(o).ok_or((400, "the order is a decimal number"))?;
		let slot = number(s)
			.and_then(|s| u8::try_from(s).ok())
			.ok_or((400, "the slot is a decimal number below 256"))?;
		Ok((order, slot))
	};
	match (method, parts.as_slice()) {
		("PUT", [o, s]) => order_slot(o, s).map(|(o, s)| Route::Upload(o, s)),
		("GET", [o, s]) => order_slot(o, s).map(|(o, s)| Route::Download(o, s)),
		("GET", [o, s, "proofs", p]) => {
			let (order, slot) = order_slot(o, s)?;
			let piece = number(p).ok_or((400, "the piece is a decimal number"))?;
			Ok(Route::Proof(order, slot, piece))
		},
		(_, [_, _]) | (_, [_, _, "proofs", _]) => Err((405, "method not allowed")),
		_ => Err((404, "not found")),
	}
}

/// The tree file's length for a slot of `len` bytes (every level from the group level up).
fn tree_len(len: u64) -> u64 {
	let mut width = len.div_ceil(GROUP_BYTES as u64).max(1);
	let mut nodes = width;
	while width > 1 {
		width = width.div_ceil(2);
		nodes += width;
	}
	nodes * 32
}

/// A response: status, content type, extra headers and body.
struct Response {
	status: u16,
	content_type: &'static str,
	headers: Vec<(&'static str, String)>,
	body: Vec<u8>,
}

impl Response {
	fn text(status: u16, body: &str) -> Self {
		Response { status, content_type: "text/plain", headers: Vec::new(), body: body.into() }
	}
}

fn reason(status: u16) -> &'static str {
	match status {
		200 => "OK",
		201 => "Created",
		206 => "Partial Content",
		400 => "Bad Request",
		403 => "Forbidden",
		404 => "Not Found",
		405 => "Method Not Allowed",
		408 => "Request Timeout",
		411 => "Length Required",
		413 => "Content Too Large",
		416 => "Range Not Satisfiable",
		422 => "Unprocessable Content",
		500 => "Internal Server Error",
		507 => "Insufficient Storage",
		_ => "Service Unavailable",
	}
}

fn write_head(
	stream: &mut TcpStream,
	status: u16,
	content_type: &str,
	headers: &[(&'static str, String)],
	len: u64,
) -> io::Result<()> {
	let mut head = format!(
		"HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n",
		reason(status)
	);
	for (name, value) in headers {
		head.push_str(&format!("{name}: {value}\r\n"));
	}
	head.push_str("\r\n");
	stream.write_all(head.as_bytes())
}

fn send(stream: &mut TcpStream, response: Response) -> io::Result<()> {
	write_head(
		stream,
		response.status,
		response.content_type,
		&response.headers,
		response.body.len() as u64,
	)?;
	stream.write_all(&response.body)?;
	stream.flush()
}

/// Releases a counted place when dropped.
struct Place<'a>(&'a AtomicUsize);

impl Drop for Place<'_> {
	fn drop(&mut self) {
		self.0.fetch_sub(1, Ordering::AcqRel);
	}
}

fn take_place(counter: &AtomicUsize, max: usize) -> Option<Place<'_>> {
	let taken = counter.fetch_add(1, Ordering::AcqRel);
	let place = Place(counter);
	(taken < max).then_some(place)
}

impl StorageService {
	/// Opens (creating) the storage directory with `capacity` bytes: removes what a crash left
	/// in `incoming/` and counts the slots kept.
	pub fn open(
		dir: &Path,
		capacity: u64,
		keystore: KeystorePtr,
		chain: SlotChain,
	) -> io::Result<Arc<Self>> {
		fs::create_dir_all(dir.join("slots"))?;
		let incoming = dir.join("incoming");
		if incoming.exists() {
			fs::remove_dir_all(&incoming)?;
		}
		fs::create_dir_all(&incoming)?;
		// Rebuilt content is a cache: started afresh.
		let content = dir.join("content");
		if content.exists() {
			fs::remove_dir_all(&content)?;
		}
		let mut used = 0;
		for entry in fs::read_dir(dir.join("slots"))? {
			used += entry?.metadata()?.len();
		}
		if used > capacity {
			log::warn!(
				target: LOG_TARGET,
				"the slots kept ({used} bytes) exceed --storage-capacity ({capacity} bytes): no upload is taken until slots end"
			);
		}
		Ok(Arc::new(StorageService {
			dir: dir.to_path_buf(),
			capacity,
			used: Mutex::new(used),
			keystore,
			chain,
			requests: AtomicUsize::new(0),
			uploads: AtomicUsize::new(0),
			cache: Mutex::default(),
			stats: StorageStats::default(),
		}))
	}

	/// Bytes used by slots and uploads in progress.
	pub fn used(&self) -> u64 {
		self.used.lock().map(|u| *u).unwrap_or(u64::MAX)
	}

	/// The capacity in bytes.
	pub fn capacity(&self) -> u64 {
		self.capacity
	}

	/// The number of slots kept.
	pub fn slots_kept(&self) -> usize {
		self.slot_files().len()
	}

	fn slot_paths(&self, order: u64, slot: u8) -> (PathBuf, PathBuf) {
		let base = self.dir.join("slots");
		(base.join(format!("{order}-{slot}.bin")), base.join(format!("{order}-{slot}.tree")))
	}

	/// Every slot kept: (order, slot).
	fn slot_files(&self) -> Vec<(u64, u8)> {
		let Ok(entries) = fs::read_dir(self.dir.join("slots")) else { return Vec::new() };
		entries
			.filter_map(|entry| {
				let name = entry.ok()?.file_name().into_string().ok()?;
				let (order, slot) = name.strip_suffix(".bin")?.split_once('-')?;
				Some((order.parse().ok()?, slot.parse().ok()?))
			})
			.collect()
	}

	fn open_slot(&self, order: u64, slot: u8) -> io::Result<Option<SlotFile>> {
		let (data, tree) = self.slot_paths(order, slot);
		let data = match File::open(&data) {
			Ok(file) => file,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e),
		};
		let len = data.metadata()?.len();
		SlotFile::open(data, File::open(&tree)?, len).map(Some)
	}

	/// The providers whose `dsyn` keys this node holds.
	fn our_providers(&self) -> Vec<AccountId> {
		self.keystore
			.sr25519_public_keys(KEY_TYPE)
			.into_iter()
			.filter_map(|key| (self.chain.owner_of_key)(AccountId::from(key.0)).ok().flatten())
			.collect()
	}

	/// Whether slot `view` is offered to or held by one of `ours`.
	fn is_ours(view: &SlotView<AccountId>, ours: &[AccountId]) -> bool {
		match &view.phase {
			SlotPhase::Offered { provider, .. } | SlotPhase::Held { provider, .. } => {
				ours.contains(provider)
			},
			_ => false,
		}
	}

	/// Serves one request handed over by the probe endpoint: `head` is what it read (the head
	/// and any body bytes after it).
	pub async fn serve(self: Arc<Self>, stream: tokio::net::TcpStream, head: Vec<u8>) {
		let stream = match stream.into_std().and_then(|s| s.set_nonblocking(false).map(|_| s)) {
			Ok(stream) => stream,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "cannot take the connection over: {error}");
				return;
			},
		};
		let service = Arc::clone(&self);
		let _ = tokio::task::spawn_blocking(move || service.serve_blocking(stream, &head)).await;
	}

	fn serve_blocking(&self, mut stream: TcpStream, head: &[u8]) {
		let _ = stream.set_write_timeout(Some(UPLOAD_IDLE_TIMEOUT));
		let _ = stream.set_read_timeout(Some(UPLOAD_IDLE_TIMEOUT));
		let Some(_place) = take_place(&self.requests, MAX_REQUESTS) else {
			let _ = send(&mut stream, Response::text(503, "busy"));
			return;
		};
		let request = Request::parse(head);
		let website = request.as_ref().and_then(website::website_of);
		let response = match (request, website) {
			(Some(request), Some(name)) => match self.website(&mut stream, &request, &name) {
				Some(response) => response,
				None => {
					let _ = stream.flush();
					close(stream);
					return;
				},
			},
			(request, _) => match request {
				None => Response::text(400, "malformed request"),
				Some(request) if !request.target.starts_with(SLOTS_PATH) => {
					match self.gateway(&mut stream, &request) {
						Some(response) => response,
						None => {
							let _ = stream.flush();
							close(stream);
							return;
						},
					}
				},
				Some(request) => match route(&request.method, &request.target) {
					Err((status, reason)) => Response::text(status, reason),
					Ok(Route::Upload(order, slot)) => {
						self.upload(&mut stream, &request, order, slot)
					},
					Ok(Route::Proof(order, slot, piece)) => self.proof(order, slot, piece),
					Ok(Route::Download(order, slot)) => {
						match self.download(&mut stream, &request, order, slot) {
							Ok(None) => return,
							Ok(Some(response)) => response,
							Err(error) => {
								log::debug!(target: LOG_TARGET, "download of {order}/{slot}: {error}");
								return;
							},
						}
					},
				},
			},
		};
		if let Err(error) = send(&mut stream, response) {
			log::debug!(target: LOG_TARGET, "answering a storage request: {error}");
		}
		close(stream);
	}

	fn proof(&self, order: u64, slot: u8, piece: u64) -> Response {
		match self.open_slot(order, slot) {
			Ok(Some(file)) => match file.prove(piece) {
				Ok(Some(proof)) => {
					self.stats.proofs_served.fetch_add(1, Ordering::Relaxed);
					Response {
						status: 200,
						content_type: "application/octet-stream",
						headers: Vec::new(),
						body: codec::Encode::encode(&proof),
					}
				},
				Ok(None) => Response::text(416, "no such piece"),
				Err(error) => {
					log::error!(target: LOG_TARGET, "slot {order}/{slot}: cannot prove piece {piece}: {error}");
					Response::text(500, "the slot cannot be read")
				},
			},
			Ok(None) => Response::text(404, "this node does not keep the slot"),
			Err(error) => {
				log::error!(target: LOG_TARGET, "slot {order}/{slot} cannot be opened: {error}");
				Response::text(500, "the slot cannot be read")
			},
		}
	}

	/// Streams the slot (or one range of it); `Ok(None)` when the answer was sent.
	fn download(
		&self,
		stream: &mut TcpStream,
		request: &Request,
		order: u64,
		slot: u8,
	) -> io::Result<Option<Response>> {
		let Some(file) = self.open_slot(order, slot)? else {
			return Ok(Some(Response::text(404, "this node does not keep the slot")));
		};
		let len = file.len();
		let (status, start, end) = match request.header("range") {
			None => (200, 0, len),
			Some(range) => match parse_range(range, len) {
				Some((start, end)) => (206, start, end),
				None => {
					let mut response = Response::text(416, "unsatisfiable range");
					response.headers.push(("Content-Range", format!("bytes */{len}")));
					return Ok(Some(response));
				},
			},
		};
		let mut headers = vec![("Accept-Ranges", "bytes".to_string())];
		if status == 206 {
			headers.push(("Content-Range", format!("bytes {start}-{}/{len}", end - 1)));
		}
		write_head(stream, status, "application/octet-stream", &headers, end - start)?;
		let mut buffer = vec![0u8; 1 << 16];
		let mut at = start;
		while at < end {
			let n = (buffer.len() as u64).min(end - at) as usize;
			file.read_at(&mut buffer[..n], at)?;
			stream.write_all(&buffer[..n])?;
			at += n as u64;
		}
		self.stats.bytes_served.fetch_add(end - start, Ordering::Relaxed);
		stream.flush()?;
		Ok(None)
	}

	fn refuse(&self, status: u16, reason: &str) -> Response {
		self.stats.uploads_refused.fetch_add(1, Ordering::Relaxed);
		Response::text(status, reason)
	}

	fn upload(&self, stream: &mut TcpStream, request: &Request, order: u64, slot: u8) -> Response {
		let Some(length) = request.header("content-length") else {
			return self.refuse(411, "Content-Length is required (chunked uploads are not taken)");
		};
		let Ok(length) = length.parse::<u64>() else {
			return self.refuse(400, "malformed Content-Length");
		};
		let view = match (self.chain.slot)(order, slot, false) {
			Ok(Some(view)) => view,
			Ok(None) => return self.refuse(404, "no such slot of an open order"),
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot read slot {order}/{slot}: {error}");
				return self.refuse(503, "the chain state cannot be read");
			},
		};
		if !Self::is_ours(&view, &self.our_providers()) {
			return self.refuse(403, "the slot is not offered to this node");
		}
		if length != view.len || view.len == 0 || view.len > MAX_SLOT_BYTES {
			return self.refuse(400, "Content-Length is not the slot's length");
		}
		if let Ok(Some(file)) = self.open_slot(order, slot) {
			if file.root() == view.root {
				return Response::text(200, "the node already keeps this slot");
			}
		}
		let Some(_upload) = take_place(&self.uploads, MAX_UPLOADS) else {
			return self.refuse(503, "too many uploads at once: try again shortly");
		};
		let mut source = (&request.body_start[..]).chain(&mut *stream);
		let result = match self.keep_slot(order, slot, &view, &mut source) {
			Err(KeepError::NoRoom) => {
				return self.refuse(507, "the node has no room for this slot")
			},
			Err(KeepError::Io(error)) => Err(error),
			Ok(kept) => Ok(kept),
		};
		match result {
			Ok(true) => {
				self.stats.uploads_kept.fetch_add(1, Ordering::Relaxed);
				self.stats.bytes_received.fetch_add(view.len, Ordering::Relaxed);
				log::info!(target: LOG_TARGET, "slot {slot} of order {order} received ({} bytes)", view.len);
				Response::text(201, "kept")
			},
			Ok(false) => self.refuse(422, "the bytes do not have the slot's root"),
			Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
				self.refuse(400, "the upload ended before Content-Length bytes")
			},
			Err(error)
				if matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
			{
				self.refuse(408, "the upload stalled")
			},
			Err(error) => {
				log::warn!(target: LOG_TARGET, "upload of {order}/{slot} failed: {error}");
				self.refuse(500, "the upload could not be stored")
			},
		}
	}

	/// Keeps slot `slot` of `order` from `source` (exactly the slot's length read) if it has the
	/// chain's root (`Ok(false)` otherwise), within the capacity (reserved while it lands).
	fn keep_slot(
		&self,
		order: u64,
		slot: u8,
		view: &SlotView<AccountId>,
		source: &mut dyn Read,
	) -> Result<bool, KeepError> {
		let needed = view.len + tree_len(view.len);
		{
			let Ok(mut used) = self.used.lock() else {
				return Err(KeepError::Io(io::Error::other("the space lock is poisoned")));
			};
			if used.saturating_add(needed) > self.capacity {
				return Err(KeepError::NoRoom);
			}
			*used += needed;
		}
		let result = self.receive(source, order, slot, view);
		if !matches!(result, Ok(true)) {
			if let Ok(mut used) = self.used.lock() {
				*used = used.saturating_sub(needed);
			}
		}
		result.map_err(KeepError::Io)
	}

	/// Receives a slot into `incoming/` and moves it into place if its root is the chain's.
	fn receive(
		&self,
		source: &mut dyn Read,
		order: u64,
		slot: u8,
		view: &SlotView<AccountId>,
	) -> io::Result<bool> {
		let incoming = self.dir.join("incoming");
		let unique = format!("{order}-{slot}-{}", std::process::id() as u64 ^ rand_suffix());
		let data_path = incoming.join(format!("{unique}.bin"));
		let tree_path = incoming.join(format!("{unique}.tree"));
		let cleanup = |paths: &[&PathBuf]| {
			for path in paths {
				let _ = fs::remove_file(path);
			}
		};
		let outcome = (|| -> io::Result<bool> {
			let mut data = File::options().write(true).create_new(true).open(&data_path)?;
			let tree = File::options().read(true).write(true).create_new(true).open(&tree_path)?;
			let mut writer = TreeWriter::new(&tree)?;
			let mut remaining = view.len;
			let mut buffer = vec![0u8; 1 << 16];
			while remaining > 0 {
				let want = (buffer.len() as u64).min(remaining) as usize;
				let n = source.read(&mut buffer[..want])?;
				if n == 0 {
					return Err(io::ErrorKind::UnexpectedEof.into());
				}
				data.write_all(&buffer[..n])?;
				writer.write_all(&buffer[..n])?;
				remaining -= n as u64;
			}
			if writer.finish()? != view.root {
				return Ok(false);
			}
			data.sync_all()?;
			let (final_data, final_tree) = self.slot_paths(order, slot);
			fs::rename(&tree_path, &final_tree)?;
			fs::rename(&data_path, &final_data)?;
			Ok(true)
		})();
		if !matches!(outcome, Ok(true)) {
			cleanup(&[&data_path, &tree_path]);
		}
		outcome
	}

	/// Deletes the slots that neither the finalised state nor the best one offers to or keeps
	/// with this node's providers; returns how many. The finalised state alone could delete a
	/// slot just uploaded for an offer not finalised yet; the best state alone could delete a slot
	/// on a block that is then reverted. A slot whose state cannot be read is kept.
	pub fn collect_garbage(&self) -> usize {
		let ours = self.our_providers();
		let mut deleted = 0;
		for (order, slot) in self.slot_files() {
			let ours_at = |finalized| match (self.chain.slot)(order, slot, finalized) {
				Ok(Some(view)) => Self::is_ours(&view, &ours),
				Ok(None) => false,
				Err(_) => true,
			};
			if ours_at(true) || ours_at(false) {
				continue;
			}
			let (data, tree) = self.slot_paths(order, slot);
			let freed = [&data, &tree]
				.iter()
				.filter_map(|path| {
					let len = fs::metadata(path).ok()?.len();
					fs::remove_file(path).ok().map(|_| len)
				})
				.sum::<u64>();
			if let Ok(mut used) = self.used.lock() {
				*used = used.saturating_sub(freed);
			}
			deleted += 1;
			log::info!(target: LOG_TARGET, "slot {slot} of order {order} is no longer kept here: deleted");
		}
		self.stats.slots_deleted.fetch_add(deleted as u64, Ordering::Relaxed);
		deleted
	}
}

/// Closes a connection after its answer: the write side first, then what the client still sends
/// (a refused upload's body) is read and dropped for a moment, so the close does not reset the
/// connection before the client read the answer.
fn close(mut stream: TcpStream) {
	let _ = stream.shutdown(std::net::Shutdown::Write);
	let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
	let mut sink = [0u8; 1 << 14];
	let mut drained = 0usize;
	while drained < 16 << 20 {
		match stream.read(&mut sink) {
			Ok(0) | Err(_) => break,
			Ok(n) => drained += n,
		}
	}
}

fn rand_suffix() -> u64 {
	use std::time::{SystemTime, UNIX_EPOCH};
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.map(|d| d.as_nanos() as u64)
		.unwrap_or(0)
}

/// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range of `len` bytes as `start..end`.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
	let spec = value.trim().strip_prefix("bytes=")?;
	if spec.contains(',') || len == 0 {
		return None;
	}
	let (a, b) = spec.split_once('-')?;
	let (start, end) = match (a.trim(), b.trim()) {
		("", n) => {
			let n: u64 = n.parse().ok()?;
			(len.saturating_sub(n), len)
		},
		(a, "") => (a.parse().ok()?, len),
		(a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.saturating_add(1).min(len)),
	};
	(start < end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests;
