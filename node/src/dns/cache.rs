//! The DNS server's block-scoped cache ([`BlockCache`]), used for the response cache (whole UDP
//! responses); see the module docs of [`super`]. Names' records are kept by the zone index
//! (`super::index`), across blocks.

use super::PLAIN_UDP_PAYLOAD;
use std::{
	borrow::Borrow,
	collections::HashMap,
	hash::Hash,
	sync::{PoisonError, RwLock},
};

/// A finalised block: its hash and number.
pub(super) type Finalized = ([u8; 32], u32);

/// Entries valid at one finalised block, at most `capacity` of them (0 = nothing is stored).
///
/// An entry is only read at the block it was stored at. Storing at another block whose number is
/// not lower than the cache's drops every entry of the cache's block; storing at a lower number
/// is ignored, so a task that read the finalised block just before it moved cannot take the cache
/// back (two such tasks would otherwise keep dropping each other's entries). A full cache is
/// emptied before storing.
pub(super) struct BlockCache<K, V> {
	capacity: usize,
	state: RwLock<BlockState<K, V>>,
}

struct BlockState<K, V> {
	/// The finalised block the entries are for.
	at: [u8; 32],
	number: u32,
	entries: HashMap<K, V>,
}

impl<K: Eq + Hash, V> BlockCache<K, V> {
	pub(super) fn new(capacity: usize) -> Self {
		Self {
			capacity,
			state: RwLock::new(BlockState { at: [0; 32], number: 0, entries: HashMap::new() }),
		}
	}

	/// Apply `with` to the entry of `key` stored at block `at`; `None` when there is none.
	pub(super) fn read<Q, R>(&self, at: [u8; 32], key: &Q, with: impl FnOnce(&V) -> R) -> Option<R>
	where
		K: Borrow<Q>,
		Q: Eq + Hash + ?Sized,
	{
		let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
		if state.at != at {
			return None;
		}
		state.entries.get(key).map(with)
	}

	/// The entry of `key` stored at block `at`, if any.
	#[cfg(test)]
	pub(super) fn get<Q>(&self, at: [u8; 32], key: &Q) -> Option<V>
	where
		K: Borrow<Q>,
		Q: Eq + Hash + ?Sized,
		V: Clone,
	{
		self.read(at, key, V::clone)
	}

	/// Store `value` under `key` at block `(at, number)`, unless the cache holds a newer block.
	pub(super) fn insert(&self, (at, number): Finalized, key: K, value: V) {
		if self.capacity == 0 {
			return;
		}
		let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
		if state.at != at {
			if number < state.number {
				return;
			}
			state.entries.clear();
			state.at = at;
			state.number = number;
		}
		if state.entries.len() >= self.capacity {
			state.entries.clear();
		}
		state.entries.insert(key, value);
	}
}

/// Whole UDP responses per finalised block, keyed by the query's bytes after its id: a repeated
/// query is answered by copying the stored response and setting the query's id, without parsing
/// or encoding. Only `NOERROR` answers from the zone to queries of at most [`PLAIN_UDP_PAYLOAD`]
/// bytes are stored. What a response depends on is all in the key (flags,
/// question, EDNS record) and the block.
pub(super) struct ResponseCache(BlockCache<Box<[u8]>, Box<[u8]>>);

impl ResponseCache {
	pub(super) fn new(capacity: usize) -> Self {
		Self(BlockCache::new(capacity))
	}

	/// The key of a query: its bytes after the id, when it is a query worth storing.
	fn key(packet: &[u8]) -> Option<&[u8]> {
		let flags = *packet.get(2)?;
		if flags & 0x80 != 0 || packet.len() > PLAIN_UDP_PAYLOAD {
			return None;
		}
		packet.get(2..).filter(|rest| rest.len() >= 10)
	}

	/// Write the stored response to `packet` at block `at` to `out`; whether there was one.
	pub(super) fn reply(&self, at: [u8; 32], packet: &[u8], out: &mut Vec<u8>) -> bool {
		let Some(key) = Self::key(packet) else { return false };
		self.0
			.read(at, key, |response| {
				out.clear();
				out.extend_from_slice(packet.get(..2).unwrap_or_default());
				out.extend_from_slice(response);
			})
			.is_some()
	}

	/// Store `response` (with its id) to `packet` at block `block` (see [`BlockCache::insert`]).
	pub(super) fn insert(&self, block: Finalized, packet: &[u8], response: &[u8]) {
		let (Some(key), Some(body)) = (Self::key(packet), response.get(2..)) else { return };
		// Only NOERROR: error responses to malformed or foreign queries are cheap to make, and so
		// is NXDOMAIN now that names absent from the name set are answered from memory; a flood of
		// random names (each asked once) would only churn the store, evicting the answers of
		// names that exist, and take its write lock on every query.
		let rcode = response.get(3).map(|flags| flags & 0x0f);
		if rcode != Some(0) {
			return;
		}
		self.0.insert(block, key.into(), body.into());
	}
}
