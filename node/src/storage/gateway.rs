//! Retrieval: the IPFS trustless-gateway HTTP API over the content the network keeps, served
//! by every storage node on its service endpoint.
//!
//! - `GET /ipfs/{cid}[/path]` (CIDv1 or kubo's CIDv0): with `?format=raw` or
//!   `Accept: application/vnd.ipld.raw`, the block itself; with `?format=car` or
//!   `Accept: application/vnd.ipld.car`, a CARv1 of the blocks from `cid` along the path and the
//!   whole DAG under its target (depth first, each block once); otherwise the file's bytes
//!   (`Range: bytes=a-b` gives `206`) with a content type from its name, or a directory's
//!   `index.html`, or a listing of the directory. `HEAD` answers the same headers.
//! - `GET /routing/v1/providers/{cid}`: the delegated-routing answer naming the storage nodes
//!   that keep the content, as HTTP gateway providers (`transport-ipfs-gateway-http`), from
//!   chain state: no DHT.
//!
//! A CID is found from chain state: the open orders keeping it as their root
//! (`StorageApi::orders_of_cid`). The node rebuilds the content once: it reads `data_shards`
//! slots (its own first, the others from their providers' endpoints, each checked against the
//! slot's root on chain while it downloads, so a provider serving wrong bytes is skipped),
//! decodes them into the order's CAR, checks every block against its CID and keeps the CAR in
//! `{storage-dir}/content/` (at most [`CACHE_BYTES`], the least recently used dropped first).
//! Blocks under a root already rebuilt are served from there; a CID that is neither an order's
//! root nor under one already rebuilt is `404`.

use super::{write_head, Request, Response, StorageService, LOG_TARGET};
use dsync_primitives::{
	storage::{api::slot_path, Cid, Codec, OrderPhase, OrderView, SlotPhase},
	AccountId,
};
use dsync_store::{
	car::{read_car, BlockAt},
	coder::{decode, Layout},
	dag::{write_block, Blocks, Dag, DagError, Entry},
	http::{self, Url},
	slot::TreeWriter,
};
use std::{
	collections::HashMap,
	fs::{self, File},
	io::{self, BufReader, BufWriter, Write},
	net::TcpStream,
	os::unix::fs::FileExt,
	path::PathBuf,
	sync::Mutex,
	time::Instant,
};

/// The most bytes of rebuilt content kept.
pub const CACHE_BYTES: u64 = 4 << 30;

/// One rebuilt content: its CAR and where each block is.
struct Cached {
	path: PathBuf,
	blocks: HashMap<Cid, BlockAt>,
	len: u64,
	used: Instant,
}

/// The rebuilt contents, by root.
#[derive(Default)]
pub struct ContentCache {
	entries: HashMap<Cid, Cached>,
	/// Which root's CAR holds each block.
	owners: HashMap<Cid, Cid>,
}

impl ContentCache {
	fn insert(&mut self, root: Cid, cached: Cached) {
		for block in cached.blocks.keys() {
			self.owners.insert(*block, root);
		}
		self.entries.insert(root, cached);
		// Drop the least recently used until the rest fits.
		while self.entries.values().map(|c| c.len).sum::<u64>() > CACHE_BYTES
			&& self.entries.len() > 1
		{
			let Some(oldest) = self.entries.iter().min_by_key(|(_, c)| c.used).map(|(r, _)| *r)
			else {
				break;
			};
			if let Some(gone) = self.entries.remove(&oldest) {
				let _ = fs::remove_file(&gone.path);
				self.owners.retain(|_, r| *r != oldest);
			}
		}
	}

	/// The CAR holding `cid`: its file, the block's place, marking it used.
	fn find(&mut self, cid: &Cid) -> Option<(PathBuf, BlockAt)> {
		let root = *self.owners.get(cid)?;
		let cached = self.entries.get_mut(&root)?;
		cached.used = Instant::now();
		Some((cached.path.clone(), *cached.blocks.get(cid)?))
	}
}

/// Blocks read from the rebuilt contents.
struct CachedBlocks<'a> {
	cache: &'a Mutex<ContentCache>,
}

impl Blocks for CachedBlocks<'_> {
	fn block(&self, cid: &Cid) -> io::Result<Option<Vec<u8>>> {
		let found = self.cache.lock().map_err(|_| io::Error::other("cache lock"))?.find(cid);
		let Some((path, at)) = found else { return Ok(None) };
		let file = File::open(path)?;
		let mut bytes = vec![0u8; at.len as usize];
		file.read_exact_at(&mut bytes, at.offset)?;
		Ok(Some(bytes))
	}
}

/// Why content could not be rebuilt.
#[derive(Debug)]
enum RebuildError {
	/// No open order keeps it.
	Unknown,
	/// Not enough slots could be read.
	Unavailable(String),
}

/// What a gateway request asks for.
enum Format {
	Raw,
	Car,
	Deserialized,
}

fn format_of(request: &Request) -> Format {
	let query = request.target.split_once('?').map(|(_, q)| q).unwrap_or_default();
	for pair in query.split('&') {
		match pair {
			"format=raw" => return Format::Raw,
			"format=car" => return Format::Car,
			_ => {},
		}
	}
	let accept = request.header("accept").unwrap_or_default();
	if accept.contains("application/vnd.ipld.raw") {
		Format::Raw
	} else if accept.contains("application/vnd.ipld.car") {
		Format::Car
	} else {
		Format::Deserialized
	}
}

/// A content type from a file name.
fn content_type(name: &str) -> &'static str {
	let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
	match ext.as_str() {
		"html" | "htm" => "text/html; charset=utf-8",
		"css" => "text/css; charset=utf-8",
		"js" | "mjs" => "text/javascript; charset=utf-8",
		"json" => "application/json",
		"txt" | "md" => "text/plain; charset=utf-8",
		"svg" => "image/svg+xml",
		"png" => "image/png",
		"jpg" | "jpeg" => "image/jpeg",
		"gif" => "image/gif",
		"webp" => "image/webp",
		"ico" => "image/x-icon",
		"wasm" => "application/wasm",
		"pdf" => "application/pdf",
		"mp4" => "video/mp4",
		"woff2" => "font/woff2",
		"xml" => "application/xml",
		_ => "application/octet-stream",
	}
}

fn html_escape(text: &str) -> String {
	text.replace('&', "&amp;")
		.replace('<', "&lt;")
		.replace('>', "&gt;")
		.replace('"', "&quot;")
}

/// Percent-decodes a path (`%20` and the like); `None` for a bad escape or invalid UTF-8.
fn percent_decode(path: &str) -> Option<String> {
	let bytes = path.as_bytes();
	let mut out = Vec::with_capacity(bytes.len());
	let mut i = 0;
	while i < bytes.len() {
		if bytes[i] == b'%' {
			let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
			out.push(u8::from_str_radix(hex, 16).ok()?);
			i += 3;
		} else {
			out.push(bytes[i]);
			i += 1;
		}
	}
	String::from_utf8(out).ok()
}

/// A writer that only counts the bytes written to it.
struct Counted(u64);

impl Write for Counted {
	fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
		self.0 = self.0.saturating_add(bytes.len() as u64);
		Ok(bytes.len())
	}

	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}

impl StorageService {
	/// Serves `GET`/`HEAD /ipfs/...` and `GET /routing/v1/providers/...`.
	pub(super) fn gateway(&self, stream: &mut TcpStream, request: &Request) -> Option<Response> {
		if request.method != "GET" && request.method != "HEAD" {
			return Some(Response::text(405, "GET or HEAD"));
		}
		let path = request.target.split('?').next().unwrap_or_default();
		if let Some(cid) = path.strip_prefix("/routing/v1/providers/") {
			return Some(self.providers(cid));
		}
		let rest = path.strip_prefix("/ipfs/")?;
		let (cid_text, sub_path) = match rest.split_once('/') {
			Some((c, p)) => (c, p),
			None => (rest, ""),
		};
		let Ok(cid) = Cid::parse(cid_text) else {
			return Some(Response::text(400, "not a CID the network names content with"));
		};
		let Some(sub_path) = percent_decode(sub_path) else {
			return Some(Response::text(400, "malformed path"));
		};
		let known = self.cache.lock().map(|mut c| c.find(&cid).is_some()).unwrap_or(false);
		if !known {
			match self.rebuild(&cid) {
				Ok(()) => {},
				Err(RebuildError::Unknown) => {
					return Some(Response::text(404, "no open order keeps this CID"))
				},
				Err(RebuildError::Unavailable(why)) => {
					log::warn!(target: LOG_TARGET, "cannot rebuild {cid}: {why}");
					return Some(Response::text(
						502,
						&format!("the content cannot be rebuilt now: {why}"),
					));
				},
			}
		}
		let blocks = CachedBlocks { cache: &self.cache };
		let dag = Dag::new(&blocks);
		let head_only = request.method == "HEAD";
		let result = match format_of(request) {
			Format::Raw => self.serve_raw(stream, &dag, &cid, &sub_path, head_only),
			Format::Car => self.serve_car(stream, &dag, &cid, &sub_path, head_only),
			Format::Deserialized => {
				self.serve_deserialized(stream, request, &dag, &cid, &sub_path, head_only)
			},
		};
		match result {
			Ok(None) => None,
			Ok(Some(response)) => Some(response),
			Err(DagError::NotFound(p)) | Err(DagError::NotADirectory(p)) => {
				Some(Response::text(404, &format!("no such path: {p}")))
			},
			Err(DagError::Unsupported(_, what)) => {
				Some(Response::text(501, &format!("a {what} is not served")))
			},
			Err(error) => {
				log::debug!(target: LOG_TARGET, "gateway {}: {error}", request.target);
				Some(Response::text(502, &error.to_string()))
			},
		}
	}

	fn immutable_headers(cid: &Cid, path: &str) -> Vec<(&'static str, String)> {
		vec![
			("Etag", format!("\"{cid}\"")),
			("Cache-Control", "public, max-age=29030400, immutable".into()),
			("X-Ipfs-Path", format!("/ipfs/{cid}{}{path}", if path.is_empty() { "" } else { "/" })),
			("Access-Control-Allow-Origin", "*".into()),
		]
	}

	fn serve_raw(
		&self,
		stream: &mut TcpStream,
		dag: &Dag<CachedBlocks>,
		cid: &Cid,
		path: &str,
		head_only: bool,
	) -> Result<Option<Response>, DagError> {
		let target = dag.resolve(cid, path)?;
		let bytes = dag.block(&target)?;
		Self::send_verifiable(stream, "application/vnd.ipld.raw", cid, path, &bytes, head_only)?;
		Ok(None)
	}

	/// Sends `bytes` a client verifies itself (a block, a CAR) with the immutable headers.
	fn send_verifiable(
		stream: &mut TcpStream,
		content_type: &str,
		cid: &Cid,
		path: &str,
		bytes: &[u8],
		head_only: bool,
	) -> io::Result<()> {
		let mut headers = Self::immutable_headers(cid, path);
		headers.push(("X-Content-Type-Options", "nosniff".into()));
		write_head(stream, 200, content_type, &headers, bytes.len() as u64)?;
		if !head_only {
			stream.write_all(bytes)?;
		}
		Ok(())
	}

	fn serve_car(
		&self,
		stream: &mut TcpStream,
		dag: &Dag<CachedBlocks>,
		cid: &Cid,
		path: &str,
		head_only: bool,
	) -> Result<Option<Response>, DagError> {
		// The blocks along the path first (so a client can verify the path), then the target's
		// DAG. Written twice: counted first (every block read and checked, so a missing one is an
		// error answer, not a cut CAR), then streamed: one block in memory at a time, whatever the
		// content's size.
		let target = dag.resolve(cid, path)?;
		let write = |out: &mut dyn Write| -> Result<(), DagError> {
			out.write_all(&dsync_store::car::header(cid))?;
			let mut at = *cid;
			for segment in path.split('/').filter(|s| !s.is_empty()) {
				write_block(out, &at, &dag.block(&at)?)?;
				at = dag.resolve(&at, segment)?;
			}
			dag.write_car_blocks(&target, out)
		};
		let mut counted = Counted(0);
		write(&mut counted)?;
		let mut headers = Self::immutable_headers(cid, path);
		headers.push(("X-Content-Type-Options", "nosniff".into()));
		let content_type = "application/vnd.ipld.car; version=1; order=dfs; dups=n";
		write_head(stream, 200, content_type, &headers, counted.0)?;
		if !head_only {
			let mut out = io::BufWriter::with_capacity(1 << 16, &mut *stream);
			write(&mut out)?;
			out.flush()?;
		}
		Ok(None)
	}

	fn serve_deserialized(
		&self,
		stream: &mut TcpStream,
		request: &Request,
		dag: &Dag<CachedBlocks>,
		cid: &Cid,
		path: &str,
		head_only: bool,
	) -> Result<Option<Response>, DagError> {
		let mut target = dag.resolve(cid, path)?;
		let mut name = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or_default().to_string();
		let mut entry = dag.entry(&target)?;
		if let Entry::Directory { entries } = &entry {
			match entries.iter().find(|e| e.name == b"index.html") {
				Some(index) => {
					target = index.cid;
					name = "index.html".into();
					entry = dag.entry(&target)?;
				},
				None => return Ok(Some(Self::listing(cid, path, entries))),
			}
		}
		let Entry::File { size } = entry else {
			return Err(DagError::Malformed(target, "not a file"));
		};
		let (status, start, end) = match request.header("range") {
			None => (200, 0, size),
			Some(range) => match super::parse_range(range, size) {
				Some((start, end)) => (206, start, end),
				None => {
					let mut response = Response::text(416, "unsatisfiable range");
					response.headers.push(("Content-Range", format!("bytes */{size}")));
					return Ok(Some(response));
				},
			},
		};
		let mut headers = Self::immutable_headers(cid, path);
		headers.push(("Accept-Ranges", "bytes".into()));
		if status == 206 {
			headers.push(("Content-Range", format!("bytes {start}-{}/{size}", end - 1)));
		}
		write_head(stream, status, content_type(&name), &headers, end - start)?;
		if !head_only {
			let mut out = BufWriter::new(&mut *stream);
			dag.read_file(&target, start, end, &mut out)?;
			out.flush()?;
		}
		self.stats
			.bytes_served
			.fetch_add(end - start, std::sync::atomic::Ordering::Relaxed);
		Ok(None)
	}

	fn listing(cid: &Cid, path: &str, entries: &[dsync_store::dag::PbLink]) -> Response {
		let base = format!("/ipfs/{cid}/{}", path.trim_matches('/'));
		let base = base.trim_end_matches('/');
		let mut html = format!(
			"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>{}</h1><ul>",
			html_escape(base),
			html_escape(base)
		);
		for entry in entries {
			let name = String::from_utf8_lossy(&entry.name);
			html.push_str(&format!(
				"<li><a href=\"{}/{}\">{}</a> ({} bytes)</li>",
				html_escape(base),
				html_escape(&name),
				html_escape(&name),
				entry.tsize
			));
		}
		html.push_str("</ul></body></html>");
		Response {
			status: 200,
			content_type: "text/html; charset=utf-8",
			headers: Self::immutable_headers(cid, path),
			body: html.into_bytes(),
		}
	}

	/// `/routing/v1/providers/{cid}`: the storage nodes keeping `cid`.
	fn providers(&self, cid_text: &str) -> Response {
		let Ok(cid) = Cid::parse(cid_text) else {
			return Response::text(400, "not a CID the network names content with");
		};
		let mut providers = Vec::new();
		for order in (self.chain.orders_of_cid)(cid).unwrap_or_default() {
			let Ok(Some(view)) = (self.chain.order)(order) else { continue };
			for slot in &view.slots {
				if let SlotPhase::Held { provider, endpoint, .. } = &slot.phase {
					if let Some(addr) = multiaddr_of(endpoint) {
						providers.push(format!(
							"{{\"Schema\":\"peer\",\"ID\":\"{}\",\"Addrs\":[\"{addr}\"],\"Protocols\":[\"transport-ipfs-gateway-http\"]}}",
							peer_id_of(provider)
						));
					}
				}
			}
		}
		providers.dedup();
		if providers.is_empty() {
			return Response::text(404, "no provider keeps this CID");
		}
		Response {
			status: 200,
			content_type: "application/json",
			headers: vec![("Access-Control-Allow-Origin", "*".into())],
			body: format!("{{\"Providers\":[{}]}}", providers.join(",")).into_bytes(),
		}
	}

	/// Rebuilds the content of `root` from its slots into the cache.
	fn rebuild(&self, root: &Cid) -> Result<(), RebuildError> {
		if root.codec != Codec::DagPb && root.codec != Codec::Raw {
			return Err(RebuildError::Unknown);
		}
		let orders = (self.chain.orders_of_cid)(*root).map_err(RebuildError::Unavailable)?;
		if orders.is_empty() {
			return Err(RebuildError::Unknown);
		}
		let mut last = String::from("no order has enough slots held");
		for order in orders {
			let Ok(Some(view)) = (self.chain.order)(order) else { continue };
			if matches!(view.phase, OrderPhase::Drawing { .. }) {
				continue;
			}
			match self.rebuild_order(root, order, &view) {
				Ok(()) => return Ok(()),
				Err(why) => last = why,
			}
		}
		Err(RebuildError::Unavailable(last))
	}

	/// The CAR of `root` when it was rebuilt and is still cached.
	pub(super) fn cached_car(&self, root: &Cid) -> Option<PathBuf> {
		let cache = self.cache.lock().ok()?;
		let cached = cache.entries.get(root)?;
		cached.path.exists().then(|| cached.path.clone())
	}

	/// Rebuilds order `order`'s content (root `root`) from its slots into the cache.
	pub(super) fn rebuild_order(
		&self,
		root: &Cid,
		order: u64,
		view: &OrderView<AccountId>,
	) -> Result<(), String> {
		let content = self.dir.join("content");
		fs::create_dir_all(&content).map_err(|e| e.to_string())?;
		let layout = Layout::new(view.size, usize::from(view.data_shards), view.slots.len())
			.map_err(|e| e.to_string())?;
		let k = layout.data_shards;
		let mut sources: Vec<(usize, PathBuf, bool)> = Vec::new();
		// Own slots first (no download), then the providers holding the others.
		for j in 0..view.slots.len() {
			let (data, _) = self.slot_paths(order, j as u8);
			if sources.len() < k && data.exists() {
				sources.push((j, data, false));
			}
		}
		for (j, slot) in view.slots.iter().enumerate() {
			if sources.len() >= k {
				break;
			}
			if sources.iter().any(|(s, _, _)| *s == j) {
				continue;
			}
			let SlotPhase::Held { endpoint, .. } = &slot.phase else { continue };
			let temp = content.join(format!("{order}-{j}.{}.part", std::process::id()));
			match fetch_slot(endpoint, order, j as u8, slot.root, slot.len, &temp) {
				Ok(()) => sources.push((j, temp, true)),
				Err(why) => {
					let _ = fs::remove_file(&temp);
					log::debug!(target: LOG_TARGET, "slot {j} of order {order}: {why}");
				},
			}
		}
		let cleanup = |sources: &[(usize, PathBuf, bool)]| {
			for (_, path, temp) in sources {
				if *temp {
					let _ = fs::remove_file(path);
				}
			}
		};
		if sources.len() < k {
			cleanup(&sources);
			return Err(format!("{} of the {k} slots needed could be read", sources.len()));
		}
		let car_path = content.join(format!("{root}.car"));
		let partial = content.join(format!("{root}.car.{}.part", std::process::id()));
		let outcome = (|| -> Result<HashMap<Cid, BlockAt>, String> {
			let readers = sources
				.iter()
				.map(|(j, path, _)| File::open(path).map(|f| (*j, BufReader::new(f))))
				.collect::<io::Result<Vec<_>>>()
				.map_err(|e| e.to_string())?;
			let out = File::create(&partial).map_err(|e| e.to_string())?;
			decode(&layout, readers, BufWriter::new(out)).map_err(|e| e.to_string())?;
			let index = read_car(
				BufReader::new(File::open(&partial).map_err(|e| e.to_string())?),
				Some(root),
			)
			.map_err(|e| format!("the rebuilt content is not the order's: {e}"))?;
			fs::rename(&partial, &car_path).map_err(|e| e.to_string())?;
			Ok(index.blocks)
		})();
		cleanup(&sources);
		let blocks = outcome.inspect_err(|_| {
			let _ = fs::remove_file(&partial);
		})?;
		let cached = Cached { path: car_path, blocks, len: view.size, used: Instant::now() };
		self.cache.lock().map_err(|_| "cache lock".to_string())?.insert(*root, cached);
		log::info!(target: LOG_TARGET, "rebuilt {root} (order {order}, {} bytes)", view.size);
		Ok(())
	}
}

/// Downloads slot `slot` of `order` from `endpoint` into `to`, checking its root as it comes.
fn fetch_slot(
	endpoint: &[u8],
	order: u64,
	slot: u8,
	root: [u8; 32],
	len: u64,
	to: &PathBuf,
) -> Result<(), String> {
	let url = Url::parse(&String::from_utf8_lossy(endpoint))?;
	let tree_path = to.with_extension("tree");
	let tree = File::options()
		.read(true)
		.write(true)
		.create(true)
		.truncate(true)
		.open(&tree_path)
		.map_err(|e| e.to_string())?;
	let checked = (|| -> Result<(), String> {
		let mut writer = TreeWriter::new(&tree).map_err(|e| e.to_string())?;
		let mut file = BufWriter::new(File::create(to).map_err(|e| e.to_string())?);
		http::download(&url, &slot_path(order, slot), len, &mut |chunk: &[u8]| {
			file.write_all(chunk)?;
			writer.write_all(chunk)
		})
		.map_err(|e| e.to_string())?;
		file.flush().map_err(|e| e.to_string())?;
		if writer.finish().map_err(|e| e.to_string())? != root {
			return Err("the provider's bytes do not have the slot's root".into());
		}
		Ok(())
	})();
	drop(tree);
	let _ = fs::remove_file(&tree_path);
	checked
}

/// The multiaddress of an `http://host:port` endpoint.
fn multiaddr_of(endpoint: &[u8]) -> Option<String> {
	let url = Url::parse(std::str::from_utf8(endpoint).ok()?).ok()?;
	let (host, port) = url.authority.rsplit_once(':')?;
	let host = host.trim_start_matches('[').trim_end_matches(']');
	let proto = match host.parse::<std::net::IpAddr>() {
		Ok(std::net::IpAddr::V4(_)) => "ip4",
		Ok(std::net::IpAddr::V6(_)) => "ip6",
		Err(_) => "dns",
	};
	Some(format!("/{proto}/{host}/tcp/{port}/http"))
}

/// A libp2p-style peer id naming a provider account (the identity multihash of the account's
/// 32 bytes as an Ed25519 public key): routing clients need one per provider; an HTTP gateway
/// provider is reached by its address, never by a libp2p handshake.
fn peer_id_of(account: &AccountId) -> String {
	let key: &[u8] = account.as_ref();
	// protobuf PublicKey { Type: Ed25519 (1), Data: 32 bytes } in an identity multihash.
	let mut bytes = vec![0x00, 36, 0x08, 0x01, 0x12, 0x20];
	bytes.extend_from_slice(key);
	dsync_primitives::storage::cid::base58btc_encode(&bytes)
}
