//! Websites under `.dsync`: a request whose `Host` is a name under the top-level domain
//! (`http://alice.dsync/`, `http://www.alice.dsync/docs/`) is answered with the content its
//! content-hash record names, as the gateway answers `/ipfs/{cid}/{path}` (an `index.html` for a
//! directory, content types from file names, byte ranges, the content rebuilt from its
//! providers when this node does not hold it).
//!
//! The record ([`RecordKind::ContentHash`](dsync_primitives::naming::RecordKind::ContentHash))
//! is read from the chain's best state for every request, so a site moves as soon as its owner
//! points the name elsewhere. Its value is the CID in binary form (a CIDv1, or a CIDv0's 34-byte
//! multihash), or ENS's `contenthash` encoding of an IPFS CID (the `ipfs-ns` multicodec, bytes
//! `e3 01`, then the binary CID) as wallets write it. A name without one, or whose content no
//! open order keeps, gets `404`.
//!
//! The node's own paths keep their meaning whatever the `Host`: `/dsync/…` (probe, slots) and
//! `/ipfs/…`, `/routing/…` (the gateway, which the directory listings link to).

use super::{Request, Response, StorageService, LOG_TARGET};
use dsync_primitives::{naming::labels_of, storage::Cid};
use std::net::TcpStream;

/// The name a request (its head as the probe endpoint read it) asks a website of, lower case
/// without a port or trailing dot; `None` when it is not a website request ([`website_of`]).
pub fn website_name(head: &[u8]) -> Option<String> {
	// The node's own paths first, without parsing the head: every probe goes through here.
	let target = head.split(|byte| *byte == b' ').nth(1)?;
	if OWN_PATHS.iter().any(|path| target.starts_with(path.as_bytes())) {
		return None;
	}
	website_of(&Request::parse(head)?)
}

/// The node's own paths, whatever the `Host`.
const OWN_PATHS: [&str; 3] = ["/dsync/", "/ipfs/", "/routing/"];

/// The name `request` asks a website of: its one `Host` header, without a port or trailing
/// dot, is a valid name under the top-level domain (not the domain itself), and its target is
/// a path that is not one of the node's own (`/dsync/`, `/ipfs/`, `/routing/`).
pub fn website_of(request: &Request) -> Option<String> {
	let target = &request.target;
	if !target.starts_with('/') || OWN_PATHS.iter().any(|p| target.starts_with(p)) {
		return None;
	}
	let host = request.header("host")?;
	let host = match host.rsplit_once(':') {
		Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
		Some(_) => return None,
		None => host,
	};
	let name = host.trim_end_matches('.').to_ascii_lowercase();
	let labels = labels_of(name.as_bytes())?;
	(!labels.is_empty()).then_some(name)
}

/// The CID a content-hash record's value names: the binary CID, or ENS's `contenthash` form
/// (`e3 01` then the binary CID). `None` for anything else.
pub fn cid_of_content_hash(value: &[u8]) -> Option<Cid> {
	Cid::from_bytes(value)
		.ok()
		.or_else(|| Cid::from_bytes(value.strip_prefix(&[0xe3, 0x01])?).ok())
}

impl StorageService {
	/// Answers a website request for `name` ([`website_of`]): the gateway's answer for
	/// `/ipfs/{cid}{target}`, with `cid` from the name's content-hash record; `None` when the
	/// gateway already answered on `stream`.
	pub(super) fn website(
		&self,
		stream: &mut TcpStream,
		request: &Request,
		name: &str,
	) -> Option<Response> {
		let values = match (self.chain.content_hash)(name.to_string()) {
			Ok(values) => values,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot read the content hash of {name}: {error}");
				return Some(Response::text(503, "the chain cannot be read now"));
			},
		};
		let Some(cid) = values.first().and_then(|value| cid_of_content_hash(value)) else {
			return Some(Response::text(404, &format!("{name} has no website")));
		};
		let rewritten = Request {
			method: request.method.clone(),
			target: format!("/ipfs/{cid}{}", request.target),
			headers: request.headers.clone(),
			body_start: Vec::new(),
		};
		self.gateway(stream, &rewritten)
	}
}
