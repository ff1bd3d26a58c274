//! What the pallet reports: the views behind the runtime API.

use crate::{
	registration::Standing, BalanceOf, Config, NameId, NameInfo, NameRecords, NameView, Names,
	Pallet, Params, PrimaryNames, RecordKind, Records,
};
use alloc::vec::Vec;
use dsync_primitives::naming::{child_id, namehash, tld_id, TLD};
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// The live name `name` (`alice.dsync`, `www.alice.dsync.`, any ASCII case): its id and
	/// record. `None` when it is invalid, unknown, expired or stale.
	pub fn live_name(name: &[u8]) -> Option<(NameId, NameInfo<T>)> {
		let id = namehash(name)?;
		let info = Names::<T>::get(id)?;
		(Self::standing(&info, Self::now()) == Standing::Live).then_some((id, info))
	}

	/// The records of a live name with its TTL, as the DNS front-end serves them.
	pub fn records_view(name: &[u8]) -> Option<NameRecords> {
		let (id, info) = Self::live_name(name)?;
		let records = Records::<T>::get(id)
			.into_iter()
			.map(|record| (record.kind, record.value.into_inner()))
			.collect();
		Some(NameRecords { ttl: info.ttl, records })
	}

	/// The values of `kind` on a live name (empty when it has none or does not resolve).
	pub fn resolve(name: &[u8], kind: &RecordKind) -> Vec<Vec<u8>> {
		Self::records_view(name)
			.map(|view| {
				view.records
					.into_iter()
					.filter(|(k, _)| k == kind)
					.map(|(_, value)| value)
					.collect()
			})
			.unwrap_or_default()
	}

	/// The full name of `id` (`www.alice.dsync`), built from the labels up to the top-level
	/// domain; `None` when a link is missing. Reads at most `MaxDepth` names.
	pub fn full_name(id: NameId) -> Option<Vec<u8>> {
		let mut labels: Vec<Vec<u8>> = Vec::new();
		let mut current = id;
		let tld = tld_id();
		for _ in 0..T::MaxDepth::get() {
			let info = Names::<T>::get(current)?;
			labels.push(info.label.into_inner());
			current = info.parent;
			if current == tld {
				labels.push(TLD.to_vec());
				return Some(labels.join(&b'.'));
			}
		}
		None
	}

	/// The primary name of `account`, while it is live and owned by `account`.
	pub fn reverse(account: &T::AccountId) -> Option<Vec<u8>> {
		let id = PrimaryNames::<T>::get(account)?;
		let info = Names::<T>::get(id)?;
		(info.owner == *account && Self::standing(&info, Self::now()) == Standing::Live)
			.then(|| Self::full_name(id))
			.flatten()
	}

	/// The registration view of `name`: owner, expiry, grace end, whether it resolves, TTL.
	/// `None` when it is invalid, unknown, or a stale subname.
	pub fn name_view(name: &[u8]) -> Option<NameView<T::AccountId, BlockNumberFor<T>>> {
		let id = namehash(name)?;
		let info = Names::<T>::get(id)?;
		let expires = Self::registration_of(&info)?.expires?;
		Some(NameView {
			owner: info.owner.clone(),
			expires,
			grace_ends: expires.saturating_add(Params::<T>::get().grace_period),
			live: Self::standing_of(Some(expires), Self::now()) == Standing::Live,
			ttl: info.ttl,
		})
	}

	/// What registering `label` for `years` would cost now (rent plus premium); `None` when
	/// the label is invalid or reserved, the years are out of bounds, or it is not available.
	pub fn price(label: &[u8], years: u32) -> Option<BalanceOf<T>> {
		let checked = Self::checked_label(label)?;
		if crate::Reserved::<T>::contains_key(&checked) {
			return None;
		}
		let params = Params::<T>::get();
		if years == 0 || years > params.max_years {
			return None;
		}
		let now = Self::now();
		let premium = match Names::<T>::get(child_id(&tld_id(), label)) {
			Some(old) if Self::standing(&old, now) != Standing::Dead => return None,
			Some(old) => Self::premium(
				old.expires.unwrap_or_default().saturating_add(params.grace_period),
				now,
			),
			None => Default::default(),
		};
		Self::rent(label, years).map(|rent| rent.saturating_add(premium))
	}
}
