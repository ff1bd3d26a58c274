//! Repairs: a slot offered to this node's provider that nobody uploads is rebuilt from the
//! other providers' slots.
//!
//! When a provider loses a slot (it missed too many epochs, or proved wrong), the chain offers
//! the slot to another provider; the client is long gone. Every [`REPAIR_PERIOD`] the node looks
//! at the slots offered to its providers (`StorageApi::provider_work`) that it does not keep:
//! where at least `data_shards` other slots of the order are held, it rebuilds the order's
//! content as the gateway does (each downloaded slot checked against its root on chain),
//! codes it again, and keeps the offered slot if its bytes have the slot's root, within the
//! capacity; the off-chain worker then accepts it like an uploaded one. The offer's reward is
//! the provider's pay for the repair: every epoch it proves from then on.
//!
//! Slots of an order still filling whose client can upload (fewer than `data_shards` others
//! held) are left to the client.

use super::{KeepError, StorageService, LOG_TARGET};
use dsync_primitives::storage::{SlotPhase, SlotTask};
use dsync_store::coder::{encode, Layout};
use std::{
	fs::{self, File},
	io::{self, BufReader, BufWriter, Write},
	sync::atomic::Ordering,
	time::Duration,
};

/// How often offered slots are looked at for repair (two blocks).
pub const REPAIR_PERIOD: Duration = Duration::from_secs(12);

/// A writer that drops everything (the slots of the order other than the one repaired).
struct Discard;

impl Write for Discard {
	fn write(&mut self, data: &[u8]) -> io::Result<usize> {
		Ok(data.len())
	}
	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}

impl StorageService {
	/// Rebuilds and keeps the offered slots nobody uploads (see the module documentation);
	/// returns how many were kept.
	pub fn repair(&self) -> usize {
		let mut kept = 0;
		for provider in self.our_providers() {
			let Ok(work) = (self.chain.provider_work)(provider) else { continue };
			for item in work {
				if !matches!(item.task, SlotTask::Accept { .. }) {
					continue;
				}
				if self.slot_paths(item.order, item.slot).0.exists() {
					continue;
				}
				match self.repair_slot(item.order, item.slot) {
					Ok(true) => {
						kept += 1;
						self.stats.slots_repaired.fetch_add(1, Ordering::Relaxed);
						log::info!(
							target: LOG_TARGET,
							"slot {} of order {} rebuilt from the other providers' slots",
							item.slot,
							item.order
						);
					},
					Ok(false) => {},
					Err(why) => log::warn!(
						target: LOG_TARGET,
						"slot {} of order {} cannot be repaired now: {why}",
						item.slot,
						item.order
					),
				}
			}
		}
		kept
	}

	/// `Ok(false)` when the slot is left to its client.
	fn repair_slot(&self, order: u64, slot: u8) -> Result<bool, String> {
		let Ok(Some(view)) = (self.chain.order)(order) else { return Ok(false) };
		let index = usize::from(slot);
		let Some(target) = view.slots.get(index).cloned() else { return Ok(false) };
		let held = view
			.slots
			.iter()
			.enumerate()
			.filter(|(j, s)| *j != index && matches!(s.phase, SlotPhase::Held { .. }))
			.count();
		if held < usize::from(view.data_shards) {
			return Ok(false);
		}
		let car = match self.cached_car(&view.cid) {
			Some(path) => path,
			None => {
				self.rebuild_order(&view.cid, order, &view)?;
				self.cached_car(&view.cid).ok_or("the rebuilt content left the cache")?
			},
		};
		let layout = Layout::new(view.size, usize::from(view.data_shards), view.slots.len())
			.map_err(|e| e.to_string())?;
		let coded = self.dir.join("incoming").join(format!("repair-{order}-{slot}"));
		let result = (|| -> Result<bool, String> {
			let mut outputs: Vec<Box<dyn Write>> = Vec::with_capacity(layout.slots);
			for j in 0..layout.slots {
				if j == index {
					let file = File::create(&coded).map_err(|e| e.to_string())?;
					outputs.push(Box::new(BufWriter::new(file)));
				} else {
					outputs.push(Box::new(Discard));
				}
			}
			let input = BufReader::new(File::open(&car).map_err(|e| e.to_string())?);
			encode(&layout, input, &mut outputs).map_err(|e| e.to_string())?;
			drop(outputs);
			let mut source = BufReader::new(File::open(&coded).map_err(|e| e.to_string())?);
			match self.keep_slot(order, slot, &target, &mut source) {
				Ok(true) => Ok(true),
				Ok(false) => Err("the rebuilt slot does not have the slot's root".into()),
				Err(KeepError::NoRoom) => Err("no room within --storage-capacity".into()),
				Err(KeepError::Io(error)) => Err(error.to_string()),
			}
		})();
		let _ = fs::remove_file(&coded);
		result
	}
}
