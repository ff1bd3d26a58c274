//! The invariants `try_state` checks.

#[cfg(any(feature = "try-runtime", test))]
mod checks {
	use crate::{
		is_proper_share, Assignments, BalanceOf, Config, Credits, Epoch, EpochTotals, Pallet,
		Params, Phase, ProvenWrong, Reputation, RewardWeights, Scores, Targets, TotalRewardsPaid,
		Totals, Verifiers,
	};
	use alloc::collections::btree_set::BTreeSet;
	use frame_support::ensure;
	use sp_runtime::{traits::Saturating, TryRuntimeError};

	impl<T: Config> Pallet<T> {
		/// Check the invariants of the pallet's storage:
		///
		/// 1. the stored parameters are within their bounds;
		/// 2. the epoch did not start in the future, and the phase cursors are within bounds
		///    (`Assigning` and `Tallying` at most the number of targets, `Paying` at most the
		///    number of targets plus candidates);
		/// 3. `Targets` and `Verifiers` hold no duplicates;
		/// 4. there is at most one assignment per target (one map entry) and none outside
		///    `Targets`; every assignment is of the current epoch; their number is what the phase
		///    says (`Assigning { c }`: `c`; `Collecting`: every target; `Tallying { c }`: the
		///    targets from `c` on; otherwise none);
		/// 5. every slot's report comes with a commitment, and slot verifiers are distinct
		///    candidates of the epoch;
		/// 6. every reputation is at most 100 %;
		/// 7. the sum of `NodeScore::total_rewards` is `TotalRewardsPaid`;
		/// 8. the epoch totals are consistent: `budget == node_part + verifier_part`,
		///    `distributed + failed <= budget`; before the tally they are empty and no credits or
		///    reward weights exist; while tallying, credits and weights add up to the totals;
		///    while paying, what is left adds up to at most the totals;
		/// 9. no node is marked proven wrong in a future epoch;
		/// 10. slashes wait at least `MinAppealWindow` blocks (`slash_defer_epochs *
		///     epoch_length`).
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			Self::check_parameters(&Params::<T>::get())
				.map_err(|_| "stored parameters are invalid")?;
			Self::check_appeal_window(&Params::<T>::get())
				.map_err(|_| "slashes apply before an appeal can be decided")?;

			let info = Epoch::<T>::get();
			ensure!(
				info.start <= frame_system::Pallet::<T>::block_number(),
				"the epoch starts in the future"
			);
			let targets = Targets::<T>::get();
			let verifiers = Verifiers::<T>::get();
			let target_count = targets.len();
			let target_set: BTreeSet<_> = targets.iter().collect();
			ensure!(target_set.len() == target_count, "a target is listed twice");
			let verifier_set: BTreeSet<_> = verifiers.iter().collect();
			ensure!(verifier_set.len() == verifiers.len(), "a candidate is listed twice");

			let expected_assignments = match info.phase {
				Phase::Assigning { cursor } => {
					ensure!(cursor as usize <= target_count, "assigning cursor out of bounds");
					cursor as usize
				},
				Phase::Collecting => target_count,
				Phase::Tallying { cursor } => {
					ensure!(cursor as usize <= target_count, "tallying cursor out of bounds");
					target_count.saturating_sub(cursor as usize)
				},
				Phase::Paying { cursor } => {
					ensure!(
						cursor as usize <= target_count.saturating_add(verifiers.len()),
						"paying cursor out of bounds"
					);
					0
				},
				Phase::Starting => 0,
			};

			let mut assignments = 0usize;
			for (node, assignment) in Assignments::<T>::iter() {
				assignments = assignments.saturating_add(1);
				ensure!(target_set.contains(&node), "an assignment is not of a target");
				ensure!(assignment.epoch == info.index, "an assignment is of another epoch");
				let mut seen = BTreeSet::new();
				for slot in assignment.slots.iter() {
					ensure!(
						slot.report.is_none() || slot.commitment.is_some(),
						"a report was revealed without a commitment"
					);
					ensure!(seen.insert(&slot.verifier), "a verifier has two slots");
					ensure!(verifier_set.contains(&slot.verifier), "a slot is not a candidate's");
				}
			}
			ensure!(
				assignments == expected_assignments,
				"the number of assignments does not match the phase"
			);

			for (_, reputation) in Reputation::<T>::iter() {
				ensure!(is_proper_share(reputation), "a reputation is above 100 %");
			}

			let paid = Scores::<T>::iter().fold(BalanceOf::<T>::default(), |sum, (_, record)| {
				sum.saturating_add(record.total_rewards)
			});
			ensure!(paid == TotalRewardsPaid::<T>::get(), "rewards do not add up to the total");

			let totals = Totals::<T>::get();
			ensure!(
				totals.budget == totals.node_part.saturating_add(totals.verifier_part),
				"the budget is not the sum of its parts"
			);
			ensure!(totals.spent() <= totals.budget, "more was spent than the budget");
			let credits = Credits::<T>::iter()
				.fold(0u64, |sum, (_, credits)| sum.saturating_add(u64::from(credits)));
			let weights = RewardWeights::<T>::iter()
				.fold(0u128, |sum, (_, weight)| sum.saturating_add(weight));
			match info.phase {
				Phase::Tallying { .. } => {
					ensure!(credits == totals.total_credits, "credits do not add up");
					ensure!(weights == totals.total_weight, "reward weights do not add up");
				},
				Phase::Paying { .. } => {
					ensure!(credits <= totals.total_credits, "more credits than counted");
					ensure!(weights <= totals.total_weight, "more reward weight than counted");
				},
				_ => {
					ensure!(
						totals == EpochTotals::default(),
						"epoch totals exist before the tally"
					);
					ensure!(credits == 0 && weights == 0, "credits or weights before the tally");
				},
			}

			for (_, epoch) in ProvenWrong::<T>::iter() {
				ensure!(epoch <= info.index, "a node is proven wrong in a future epoch");
			}
			Ok(())
		}
	}
}
