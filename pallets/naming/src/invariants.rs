//! The invariants `try_state` checks.

#[cfg(any(feature = "try-runtime", test))]
mod checks {
	use crate::{
		BalanceOf, Commitments, Config, Generations, HoldReason, Names, Pallet, Params, RecordKind,
		Records,
	};
	use alloc::collections::btree_map::BTreeMap;
	use dsync_primitives::naming::{
		child_id, is_valid_label, is_valid_record, is_valid_subname_label, tld_id,
	};
	use frame_support::{
		ensure,
		traits::{fungible::InspectHold, Get},
	};
	use sp_runtime::{
		traits::{Saturating, Zero},
		TryRuntimeError,
	};

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
		/// 5. no account has more than `MaxCommitments` commitments (the bound) and none twice,
		///    and no empty commitment list is stored;
		/// 6. every account with commitments holds, under [`HoldReason::CommitmentDeposit`],
		///    exactly the sum of their deposits.
		///
		/// The converse of 3 and 6 (no account holds a deposit without a subname or commitment
		/// behind it) is not checked: the currency traits cannot list the accounts that hold
		/// under a reason. The unit tests check it for every account they use, and every
		/// release path removes the entry and releases its recorded deposit together.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			ensure!(Params::<T>::get().is_valid(), "the parameters are invalid");
			let tld = tld_id();
			let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, info) in Names::<T>::iter() {
				// Registered names take valid labels; subnames may also take service labels.
				let valid = if info.parent == tld {
					is_valid_label(&info.label)
				} else {
					is_valid_subname_label(&info.label)
				};
				ensure!(valid, "a stored label is invalid");
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
			let max_len = dsync_primitives::convert::u32_to_usize(T::MaxRecordLen::get());
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
			let commitment_reason = HoldReason::CommitmentDeposit.into();
			for (who, commitments) in Commitments::<T>::iter() {
				ensure!(!commitments.is_empty(), "an empty commitment list is stored");
				for (index, commitment) in commitments.iter().enumerate() {
					ensure!(
						!commitments.iter().skip(index + 1).any(|c| c.hash == commitment.hash),
						"a commitment is stored twice"
					);
				}
				let total = commitments
					.iter()
					.fold(BalanceOf::<T>::zero(), |sum, c| sum.saturating_add(c.deposit));
				ensure!(
					T::Currency::balance_on_hold(&commitment_reason, &who) == total,
					"held commitment deposits differ from the commitments' deposits"
				);
			}
			Ok(())
		}
	}
}
