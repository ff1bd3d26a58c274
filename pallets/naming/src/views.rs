//! What the pallet reports: the views behind the runtime API, and the invariants `try_state`
//! checks.

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

#[cfg(any(feature = "try-runtime", test))]
mod invariants {
	use super::*;
	use crate::{Commitments, Generations, HoldReason};
	use alloc::collections::btree_map::BTreeMap;
	use dsync_primitives::naming::{child_id, is_valid_label, is_valid_record};
	use frame_support::{ensure, traits::fungible::InspectHold};
	use sp_runtime::{traits::Zero, TryRuntimeError};

	impl<T: Config> Pallet<T> {
		/// Check the invariants:
		///
		/// 1. the parameters are valid;
		/// 2. every name is stored under `child_id(parent, label)` with a valid label and has
		///    a generation of at least 1; a registration has the top-level domain as parent,
		///    depth 1, an expiry and no deposit; a subname has no expiry and a depth of 2 to
		///    `MaxDepth`;
		/// 3. every account holds, under [`HoldReason::SubnameDeposit`], exactly the deposits
		///    of the subnames it paid for;
		/// 4. records belong to existing names, are sorted by kind, at most `MaxRecords`, each
		///    valid for its kind, single-valued kinds once, and a CNAME stands alone among the
		///    DNS kinds;
		/// 5. no account has more than `MaxCommitments` commitments (the bound) and none twice.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			ensure!(Params::<T>::get().is_valid(), "the parameters are invalid");
			let tld = tld_id();
			let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, info) in Names::<T>::iter() {
				ensure!(is_valid_label(&info.label), "a stored label is invalid");
				ensure!(id == child_id(&info.parent, &info.label), "a name is under a wrong id");
				ensure!(Generations::<T>::get(id) >= 1, "a name has no generation");
				match info.expires {
					Some(_) => {
						ensure!(info.parent == tld && info.depth == 1, "a registration is nested");
						ensure!(info.deposit.is_zero(), "a registration has a deposit");
					},
					None => {
						ensure!(
							info.depth >= 2 && u32::from(info.depth) <= T::MaxDepth::get(),
							"a subname has a wrong depth"
						);
					},
				}
				if !info.deposit.is_zero() {
					let entry = deposits.entry(info.depositor.clone()).or_default();
					*entry = entry.saturating_add(info.deposit);
				}
			}
			let reason = HoldReason::SubnameDeposit.into();
			for (who, total) in &deposits {
				ensure!(
					T::Currency::balance_on_hold(&reason, who) == *total,
					"held deposits differ from the subnames' deposits"
				);
			}
			let max_len = usize::try_from(T::MaxRecordLen::get()).unwrap_or(usize::MAX);
			for (id, records) in Records::<T>::iter() {
				ensure!(Names::<T>::contains_key(id), "records of an unknown name");
				ensure!(!records.is_empty(), "an empty record list is stored");
				ensure!(
					records.windows(2).all(|pair| pair[0].kind <= pair[1].kind),
					"records are not sorted by kind"
				);
				ensure!(
					records.iter().all(|r| is_valid_record(&r.kind, &r.value, max_len)),
					"an invalid record is stored"
				);
				for record in records.iter().filter(|r| !r.kind.is_multi_valued()) {
					ensure!(
						records.iter().filter(|r| r.kind == record.kind).count() == 1,
						"a single-valued kind has several values"
					);
				}
				let has_cname = records.iter().any(|r| r.kind == RecordKind::Cname);
				ensure!(
					!has_cname || records.iter().all(|r| !r.kind.is_multi_valued()),
					"a CNAME shares its name with other DNS records"
				);
			}
			for (_, commitments) in Commitments::<T>::iter() {
				for (index, (commitment, _)) in commitments.iter().enumerate() {
					ensure!(
						!commitments.iter().skip(index + 1).any(|(c, _)| c == commitment),
						"a commitment is stored twice"
					);
				}
			}
			Ok(())
		}
	}
}
