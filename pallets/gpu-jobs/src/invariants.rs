//! The invariants `try_state` checks.

#[cfg(any(feature = "try-runtime", test))]
mod checks {
	use crate::{
		BalanceOf, Challenges, Config, Draws, Expiries, ExpiryCursor, HoldReason, JobStatus,
		JobVerdicts, Jobs, ModelCode, Models, NextJobId, NextModelId, OpenEscrow, OpenJobCount,
		Pallet, Params, ProviderJobs,
	};
	use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
	use frame_support::{
		ensure,
		traits::{fungible::InspectHold, Get},
	};
	use sp_runtime::{
		traits::{Saturating, Zero},
		TryRuntimeError,
	};

	impl<T: Config> Pallet<T> {
		/// Check the invariants of the pallet's storage:
		///
		/// 1. the parameters are valid;
		/// 2. every model has its code, whose Blake2-256 is its record's hash, and an id below
		///    [`NextModelId`]; every code has a model;
		/// 3. every open job: has an id below [`NextJobId`], a registered model, one to
		///    `MaxReplication` distinct providers, results only with commitments, `commit_deadline
		///    < deadline < dispute_end`, at least one item, a non-zero price, a [`ProviderJobs`]
		///    entry per provider, an entry in [`Expiries`] at its `dispute_end`, and a status its
		///    results allow (concluded: a majority neither proven wrong nor forfeited; disputed:
		///    reveals without such a majority); it has a [`Challenges`] entry exactly when
		///    challenged, between that majority (without one, a payable result) and another
		///    revealed result that is payable and never stalled, whose round ends by the
		///    dispute end; its [`JobVerdicts`] judge only its revealed results and its dispute
		///    end is not past their `latest_end`; verdicts exist only for open jobs;
		/// 4. [`ProviderJobs`] holds exactly the providers of the open jobs;
		/// 5. [`OpenJobCount`] is the number of open jobs, at most `MaxOpenJobs`;
		/// 6. no expiry is queued before the cursor;
		/// 7. funds: for every client, the balance held for [`HoldReason::Escrow`] is the sum of `k
		///    × price` of its open jobs, and [`OpenEscrow`] is the sum over all open jobs.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			ensure!(
				Params::<T>::get().is_valid(T::DrawDelay::get()),
				"the stored parameters are invalid"
			);

			let next_model = NextModelId::<T>::get();
			for (id, record) in Models::<T>::iter() {
				ensure!(id < next_model, "a model id is not below NextModelId");
				let code = ModelCode::<T>::get(id).ok_or("a model has no code")?;
				ensure!(
					sp_io::hashing::blake2_256(&code) == record.hash.0,
					"a model's code does not hash to its record's hash"
				);
			}
			for id in ModelCode::<T>::iter_keys() {
				ensure!(Models::<T>::contains_key(id), "a model code has no model");
			}

			let next_job = NextJobId::<T>::get();
			let cursor = ExpiryCursor::<T>::get();
			let mut escrow_by_client: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut total_escrow = BalanceOf::<T>::zero();
			let mut job_count = 0u32;
			let mut assignments = 0usize;
			for (id, job) in Jobs::<T>::iter() {
				job_count = job_count.saturating_add(1);
				ensure!(id < next_job, "a job id is not below NextJobId");
				ensure!(Models::<T>::contains_key(job.model), "a job's model is not registered");
				if let JobStatus::Drawing { k } = job.status {
					ensure!(job.providers.is_empty(), "a job being drawn has providers");
					ensure!(k >= 1, "a job being drawn has no replication");
					ensure!(
						Draws::<T>::iter().any(|(_, queue)| queue.contains(&id)),
						"a job being drawn is not listed for a draw"
					);
				} else {
					ensure!(!job.providers.is_empty(), "a job has no provider");
				}
				let distinct: BTreeSet<_> = job.providers.iter().map(|slot| &slot.who).collect();
				ensure!(distinct.len() == job.providers.len(), "a job has a provider twice");
				for slot in job.providers.iter() {
					ensure!(
						slot.result.is_none() || slot.commitment.is_some(),
						"a result was revealed without a commitment"
					);
					ensure!(
						ProviderJobs::<T>::contains_key(&slot.who, id),
						"a job's provider is not indexed in ProviderJobs"
					);
				}
				assignments = assignments.saturating_add(job.providers.len());
				ensure!(
					job.commit_deadline < job.deadline && job.deadline < job.dispute_end,
					"a job's windows are out of order"
				);
				ensure!(job.items >= 1 && !job.price.is_zero(), "a job is empty or free");
				let tally = job.tally();
				let results = job.distinct_results();
				let stored = JobVerdicts::<T>::get(id);
				if let Some(verdicts) = &stored {
					ensure!(
						verdicts
							.standings
							.iter()
							.all(|standing| results.contains(&standing.result)),
						"a standing is not of a revealed result"
					);
					ensure!(
						job.dispute_end <= verdicts.latest_end,
						"challenges moved a job's dispute end past its latest end"
					);
				}
				let has_verdicts = stored.is_some();
				let verdicts = stored.unwrap_or_default();
				let majority = job.payable_majority(&verdicts);
				match job.status {
					JobStatus::Concluded => {
						ensure!(majority.is_some(), "a concluded job has no payable majority")
					},
					JobStatus::Disputed => ensure!(
						majority.is_none() && tally.reveals > 0,
						"a disputed job has a payable majority or no reveal"
					),
					JobStatus::Challenged => {
						let challenge =
							Challenges::<T>::get(id).ok_or("a challenged job has no challenge")?;
						let defender_ok = match majority {
							Some(majority) => challenge.defender == majority,
							None => verdicts.payable(challenge.defender),
						};
						let standing = verdicts.of(challenge.result);
						let challenger_ok = has_verdicts && standing.payable() && !standing.stalled;
						ensure!(
							defender_ok
								&& challenger_ok && challenge.result != challenge.defender
								&& results.contains(&challenge.result)
								&& results.contains(&challenge.defender),
							"a challenge's sides are not the defender and another revealed result"
						);
						ensure!(
							challenge.round_end <= job.dispute_end,
							"a challenge's round ends after the job's dispute end"
						);
					},
					JobStatus::Open | JobStatus::Revealing | JobStatus::Drawing { .. } => {},
				}
				ensure!(
					(job.status == JobStatus::Challenged) == Challenges::<T>::contains_key(id),
					"a job has a challenge but is not challenged"
				);
				ensure!(
					Expiries::<T>::get(job.dispute_end).contains(&id),
					"a job is not queued at its dispute end"
				);
				if let Some(cursor) = cursor {
					ensure!(job.dispute_end >= cursor, "an open job's dispute end was handled");
				}
				let escrow = job.escrow();
				total_escrow = total_escrow.saturating_add(escrow);
				let entry = escrow_by_client.entry(job.client.clone()).or_insert_with(Zero::zero);
				*entry = entry.saturating_add(escrow);
			}

			let mut indexed = 0usize;
			for (provider, id, ()) in ProviderJobs::<T>::iter() {
				indexed = indexed.saturating_add(1);
				ensure!(
					Jobs::<T>::get(id).is_some_and(|job| job.slot(&provider).is_some()),
					"ProviderJobs lists a provider that is not assigned to the job"
				);
			}
			ensure!(indexed == assignments, "ProviderJobs and the jobs' providers differ");

			for id in Challenges::<T>::iter_keys() {
				ensure!(Jobs::<T>::contains_key(id), "a challenge has no job");
			}
			for id in JobVerdicts::<T>::iter_keys() {
				ensure!(Jobs::<T>::contains_key(id), "verdicts have no job");
			}
			ensure!(OpenJobCount::<T>::get() == job_count, "OpenJobCount differs from the jobs");
			ensure!(job_count <= T::MaxOpenJobs::get(), "more jobs are open than MaxOpenJobs");

			if let Some(cursor) = cursor {
				for block in Expiries::<T>::iter_keys() {
					ensure!(block >= cursor, "an expiry is queued before the cursor");
				}
			}

			ensure!(OpenEscrow::<T>::get() == total_escrow, "OpenEscrow differs from the jobs");
			for (client, escrow) in escrow_by_client {
				let held = T::Currency::balance_on_hold(&HoldReason::Escrow.into(), &client);
				ensure!(held == escrow, "a client's escrow hold differs from its open jobs");
			}
			Ok(())
		}
	}
}
