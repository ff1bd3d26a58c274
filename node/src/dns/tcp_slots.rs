//! Fair sharing of the DNS server's TCP connection slots between sources.
//!
//! At most `max` connections are open at once, and at most `max_per_source` from one source
//! ([`crate::limits::source_key`]: an IPv4 address or an IPv6 /64). When every slot is taken, a
//! new connection from a source holding fewer connections than the source holding the most gets
//! in: that source's oldest connection is closed to make room (among several holding the most,
//! the one whose oldest connection is oldest). A new connection from a source holding as many as
//! the most is refused. So however many sources share the slots, another source is never kept
//! out, and the sources that hold the most lose connections first.
//!
//! Each open connection is a [`TcpSlot`]; its task serves the connection until it ends or until
//! [`TcpSlot::evicted`] completes, and gives the slot back by dropping it. The table only holds
//! open connections (at most `max`), so it cannot grow without bound.

use crate::limits::source_key;
use std::{
	cmp::Reverse,
	collections::{HashMap, VecDeque},
	net::IpAddr,
	sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::Notify;

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
	/// Its source holds `max_per_source` connections already.
	Source,
	/// Every slot is taken and its source holds as many connections as any other.
	Full,
}

/// The open connections, by source.
pub(super) struct TcpSlots {
	max: usize,
	max_per_source: usize,
	table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
	/// The id of the next connection.
	next: u64,
	/// Open connections, all sources together.
	open: usize,
	/// Each source's open connections, oldest first.
	sources: HashMap<IpAddr, VecDeque<Open>>,
}

/// An open connection in the table.
struct Open {
	id: u64,
	/// Notified when the connection is closed to make room for another source.
	evict: Arc<Notify>,
}

/// A connection's slot, given back when dropped.
pub(super) struct TcpSlot {
	slots: Arc<TcpSlots>,
	source: IpAddr,
	id: u64,
	evict: Arc<Notify>,
}

impl TcpSlots {
	/// At most `max` connections at once (at least 1), at most `max_per_source` (at least 1) from
	/// one source.
	pub(super) fn new(max: usize, max_per_source: usize) -> Self {
		Self {
			max: max.max(1),
			max_per_source: max_per_source.max(1),
			table: Mutex::new(Table::default()),
		}
	}

	/// A slot for a new connection from `ip`, or why it is refused. When every slot is taken,
	/// this may evict the oldest connection of the source holding the most (see the module docs).
	pub(super) fn open(self: &Arc<Self>, ip: IpAddr) -> Result<TcpSlot, Refusal> {
		let source = source_key(ip);
		let mut guard = self.table.lock().unwrap_or_else(PoisonError::into_inner);
		let table = &mut *guard;
		let held = table.sources.get(&source).map_or(0, VecDeque::len);
		if held >= self.max_per_source {
			return Err(Refusal::Source);
		}
		if table.open >= self.max {
			let heaviest = table
				.sources
				.iter()
				.max_by_key(|(_, open)| {
					(open.len(), Reverse(open.front().map_or(u64::MAX, |oldest| oldest.id)))
				})
				.map(|(heavy, open)| (*heavy, open.len()));
			let Some((heavy, most)) = heaviest.filter(|(_, most)| held < *most) else {
				return Err(Refusal::Full);
			};
			if let Some(open) = table.sources.get_mut(&heavy) {
				if let Some(oldest) = open.pop_front() {
					oldest.evict.notify_one();
					table.open = table.open.saturating_sub(1);
				}
				if open.is_empty() {
					table.sources.remove(&heavy);
				}
			}
			log::trace!(
				target: super::LOG_TARGET,
				"all TCP slots taken: closed the oldest of the {most} connections of {heavy}",
			);
			if table.open >= self.max {
				return Err(Refusal::Full);
			}
		}
		let id = table.next;
		table.next = table.next.wrapping_add(1);
		let evict = Arc::new(Notify::new());
		table
			.sources
			.entry(source)
			.or_default()
			.push_back(Open { id, evict: Arc::clone(&evict) });
		table.open += 1;
		Ok(TcpSlot { slots: Arc::clone(self), source, id, evict })
	}
}

impl TcpSlot {
	/// Completes when the connection was closed to make room for another source's: its task
	/// should stop serving it.
	pub(super) async fn evicted(&self) {
		self.evict.notified().await
	}
}

impl Drop for TcpSlot {
	fn drop(&mut self) {
		let mut guard = self.slots.table.lock().unwrap_or_else(PoisonError::into_inner);
		let table = &mut *guard;
		let Some(open) = table.sources.get_mut(&self.source) else { return };
		// Not there when it was evicted: its place was given to another connection already.
		if let Some(index) = open.iter().position(|entry| entry.id == self.id) {
			open.remove(index);
			table.open = table.open.saturating_sub(1);
		}
		if open.is_empty() {
			table.sources.remove(&self.source);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use futures::FutureExt;
	use std::net::{Ipv4Addr, Ipv6Addr};

	fn ip(last: u8) -> IpAddr {
		IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
	}

	fn evicted(slot: &TcpSlot) -> bool {
		slot.evicted().now_or_never().is_some()
	}

	fn open(slots: &Arc<TcpSlots>) -> usize {
		slots.table.lock().unwrap().open
	}

	#[test]
	fn each_source_is_bounded() {
		let slots = Arc::new(TcpSlots::new(8, 2));
		let v6 = |low: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, low));
		let _first = slots.open(v6(1)).unwrap();
		let second = slots.open(v6(2)).unwrap();
		assert_eq!(slots.open(v6(3)).err(), Some(Refusal::Source), "the same /64");
		assert!(slots.open(ip(1)).is_ok());
		drop(second);
		assert!(slots.open(v6(3)).is_ok(), "a closed connection gives its slot back");
	}

	#[test]
	fn a_new_source_takes_the_oldest_slot_of_the_heaviest() {
		let slots = Arc::new(TcpSlots::new(4, 3));
		let a1 = slots.open(ip(1)).unwrap();
		let b1 = slots.open(ip(2)).unwrap();
		let a2 = slots.open(ip(1)).unwrap();
		let a3 = slots.open(ip(1)).unwrap();
		assert_eq!(open(&slots), 4);
		// Full: the heaviest source (three) loses its oldest connection to a new source.
		let c1 = slots.open(ip(3)).unwrap();
		assert!(evicted(&a1));
		assert!(!evicted(&a2) && !evicted(&a3) && !evicted(&b1) && !evicted(&c1));
		assert_eq!(open(&slots), 4);
		// Dropping the evicted slot gives nothing back twice.
		drop(a1);
		assert_eq!(open(&slots), 4);
		// A holds two, B one: B (fewer than the most) gets in, A's oldest goes.
		let b2 = slots.open(ip(2)).unwrap();
		assert!(evicted(&a2));
		drop(a2);
		// A one, B two, C one: C gets in at B's expense (B's oldest).
		let _c2 = slots.open(ip(3)).unwrap();
		assert!(evicted(&b1));
		drop(b1);
		// A one, B one, C two: C holds the most, so it is refused.
		assert_eq!(slots.open(ip(3)).err(), Some(Refusal::Full));
		assert!(!evicted(&a3) && !evicted(&b2) && !evicted(&c1));
		// A gets in at C's expense; then A holds the most (two) and is refused.
		let _a4 = slots.open(ip(1)).unwrap();
		assert!(evicted(&c1));
		drop(c1);
		assert_eq!(slots.open(ip(1)).err(), Some(Refusal::Full));
		assert_eq!(open(&slots), 4);
	}

	#[test]
	fn many_sources_holding_every_slot_cannot_keep_another_out() {
		let (sources, per_source) = (16u8, 16);
		let slots = Arc::new(TcpSlots::new(usize::from(sources) * per_source, per_source));
		let held: Vec<TcpSlot> = (1..=sources)
			.flat_map(|source| (0..per_source).map(move |_| source))
			.map(|source| slots.open(ip(source)).unwrap())
			.collect();
		assert_eq!(slots.open(ip(1)).err(), Some(Refusal::Source));
		let newcomer = slots.open(ip(100)).expect("a 17th source gets in");
		assert_eq!(held.iter().filter(|slot| evicted(slot)).count(), 1);
		assert!(!evicted(&newcomer));
		drop(held);
		drop(newcomer);
		let table = slots.table.lock().unwrap();
		assert_eq!(table.open, 0);
		assert!(table.sources.is_empty(), "sources go with their last connection");
	}
}
