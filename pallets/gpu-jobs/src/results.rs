//! Commit and reveal of providers' results.

use crate::{
	commitment_of, Config, Error, Event, JobId, JobInput, JobStatus, Jobs, Pallet, ProviderSource,
	INPUT_UNAVAILABLE,
};
use frame_support::{dispatch::DispatchResultWithPostInfo, ensure, pallet_prelude::Pays};
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// The provider (node owner) whose off-chain key is `key`.
	pub(crate) fn provider_of_key(key: &T::AccountId) -> Result<T::AccountId, Error<T>> {
		T::Providers::owner_of_key(key).ok_or(Error::<T>::UnknownOffchainKey)
	}

	/// Record `key`'s provider's commitment on job `id` in the commit window.
	pub(crate) fn do_commit_result(
		key: T::AccountId,
		id: JobId,
		commitment: H256,
	) -> DispatchResultWithPostInfo {
		let provider = Self::provider_of_key(&key)?;
		let now = frame_system::Pallet::<T>::block_number();

		Jobs::<T>::try_mutate(id, |maybe_job| -> Result<(), Error<T>> {
			let job = maybe_job.as_mut().ok_or(Error::<T>::UnknownJob)?;
			let open = job.commit_open(now);
			let slot = job.slot_mut(&provider).ok_or(Error::<T>::NotAssigned)?;
			ensure!(slot.commitment.is_none(), Error::<T>::AlreadyCommitted);
			ensure!(open, Error::<T>::NotInCommitWindow);
			slot.commitment = Some(commitment);
			if job.all_committed() {
				job.status = JobStatus::Revealing;
			}
			Ok(())
		})?;

		Self::deposit_event(Event::ResultCommitted { job: id, provider });
		Ok(Pays::No.into())
	}

	/// Record `key`'s provider's revealed result on job `id`; conclude the job when no more
	/// results can come.
	pub(crate) fn do_reveal_result(
		key: T::AccountId,
		id: JobId,
		result: H256,
		salt: [u8; 32],
	) -> DispatchResultWithPostInfo {
		let provider = Self::provider_of_key(&key)?;
		let now = frame_system::Pallet::<T>::block_number();
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		// Not yet (commitments missing before the commit deadline) or no longer (the deadline
		// passed, the job concluded or is disputed): one error for both.
		let open = job.reveal_open(now);

		let slot = job.slot_mut(&provider).ok_or(Error::<T>::NotAssigned)?;
		let committed = slot.commitment.ok_or(Error::<T>::NoCommitment)?;
		ensure!(slot.result.is_none(), Error::<T>::AlreadyRevealed);
		ensure!(open, Error::<T>::NotInRevealWindow);
		ensure!(
			commitment_of(id, &provider, &result, &salt) == committed,
			Error::<T>::CommitmentMismatch
		);
		// An inline input is on chain: it cannot have been unavailable.
		let inline = matches!(job.input, JobInput::Inline(_));
		ensure!(!(inline && result == INPUT_UNAVAILABLE), Error::<T>::InputOnChain);
		let slot = job.slot_mut(&provider).ok_or(Error::<T>::NotAssigned)?;
		slot.result = Some(result);
		job.status = JobStatus::Revealing;

		Self::deposit_event(Event::ResultRevealed { job: id, provider, result });
		if job.reveals_complete(now) {
			Self::conclude(id, job);
		} else {
			Jobs::<T>::insert(id, job);
		}
		Ok(Pays::No.into())
	}
}
