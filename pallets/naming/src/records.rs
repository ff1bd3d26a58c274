//! Records, TTL and primary names.

use crate::{
	Config, Error, Event, NameId, Pallet, PrimaryNames, Record, RecordKind, RecordValues, Records,
	RecordsOf,
};
use alloc::vec::Vec;
use dsync_primitives::{
	convert::{u32_to_usize, usize_to_u32},
	naming::is_valid_record,
};
use frame_support::{ensure, traits::Get};
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_set_records(
		who: T::AccountId,
		id: NameId,
		kind: RecordKind,
		values: RecordValues<T>,
	) -> DispatchResult {
		Self::owned_live(id, &who)?;
		let max_len = u32_to_usize(T::MaxRecordLen::get());
		ensure!(
			values.iter().all(|value| is_valid_record(&kind, value, max_len)),
			Error::<T>::InvalidRecord
		);
		ensure!(kind.is_multi_valued() || values.len() <= 1, Error::<T>::SingleValueKind);

		let existing = Records::<T>::get(id);
		if !values.is_empty() {
			let conflict = match kind {
				RecordKind::Cname => existing
					.iter()
					.any(|record| record.kind.is_dns() && record.kind != RecordKind::Cname),
				ref other if other.is_dns() => {
					existing.iter().any(|record| record.kind == RecordKind::Cname)
				},
				_ => false,
			};
			ensure!(!conflict, Error::<T>::CnameConflict);
		}

		let count = usize_to_u32(values.len());
		let mut records: Vec<Record<T>> =
			existing.into_iter().filter(|record| record.kind != kind).collect();
		records.extend(values.into_iter().map(|value| Record { kind: kind.clone(), value }));
		// Stable: the values of one kind keep their order.
		records.sort_by(|a, b| a.kind.cmp(&b.kind));
		let records = RecordsOf::<T>::try_from(records).map_err(|_| Error::<T>::TooManyRecords)?;
		if records.is_empty() {
			Records::<T>::remove(id);
		} else {
			Records::<T>::insert(id, records);
		}
		Self::deposit_event(Event::RecordsSet { name: id, kind, count });
		Ok(())
	}

	pub(crate) fn do_set_ttl(who: T::AccountId, id: NameId, ttl: u32) -> DispatchResult {
		let mut info = Self::owned_live(id, &who)?;
		ensure!(ttl >= T::MinTtl::get() && ttl <= T::MaxTtl::get(), Error::<T>::InvalidTtl);
		info.ttl = ttl;
		crate::Names::<T>::insert(id, info);
		Self::deposit_event(Event::TtlSet { name: id, ttl });
		Ok(())
	}

	pub(crate) fn do_set_primary_name(who: T::AccountId, name: Option<NameId>) -> DispatchResult {
		match name {
			Some(id) => {
				Self::owned_live(id, &who)?;
				PrimaryNames::<T>::insert(&who, id);
			},
			None => PrimaryNames::<T>::remove(&who),
		}
		Self::deposit_event(Event::PrimaryNameSet { who, name });
		Ok(())
	}
}
