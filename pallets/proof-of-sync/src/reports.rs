//! Commit and reveal of verification reports. A commitment binds the epoch, the target and the
//! verifier ([`ProbeReport::commitment`]), so it opens only for the slot it was made for. The
//! evidence a revealed report carries is checked by the wrong-answer rule in `penalties.rs`
//! (`check_evidence`).

use crate::{Assignments, Config, Epoch, Error, Event, Pallet, Params, ProbeReport};
use codec::{DecodeAll, Encode};
use dsync_primitives::traits::NodeRegistry;
use frame_support::{dispatch::DispatchResultWithPostInfo, ensure, pallet_prelude::Pays};
use sp_core::{sr25519, H256};

impl<T: Config> Pallet<T> {
	/// Record `key`'s commitment on `node`'s report in the commit window.
	pub(crate) fn do_commit_report(
		key: T::AccountId,
		node: T::AccountId,
		commitment: H256,
	) -> DispatchResultWithPostInfo {
		let verifier = T::Registry::node_of_key(&key).ok_or(Error::<T>::UnknownOffchainKey)?;
		let info = Epoch::<T>::get();
		let params = Params::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();

		Assignments::<T>::try_mutate(&node, |maybe_assignment| -> Result<(), Error<T>> {
			let assignment = maybe_assignment.as_mut().ok_or(Error::<T>::NoAssignment)?;
			ensure!(assignment.epoch == info.index, Error::<T>::NoAssignment);
			let slot = assignment
				.slots
				.iter_mut()
				.find(|slot| slot.verifier == verifier)
				.ok_or(Error::<T>::NotAssigned)?;
			ensure!(Self::in_commit_window(&info, &params, now), Error::<T>::NotInCommitWindow);
			ensure!(slot.commitment.is_none(), Error::<T>::AlreadyCommitted);
			slot.commitment = Some(commitment);
			Ok(())
		})?;

		Self::deposit_event(Event::ReportCommitted { epoch: info.index, node, verifier });
		Ok(Pays::No.into())
	}

	/// Record `key`'s revealed report on `node` in the reveal window, and check its evidence.
	pub(crate) fn do_reveal_report(
		key: T::AccountId,
		node: T::AccountId,
		report: ProbeReport,
		salt: [u8; 32],
	) -> DispatchResultWithPostInfo {
		let verifier = T::Registry::node_of_key(&key).ok_or(Error::<T>::UnknownOffchainKey)?;
		let info = Epoch::<T>::get();
		let params = Params::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();

		let seed = Assignments::<T>::try_mutate(
			&node,
			|maybe_assignment| -> Result<[u8; 32], Error<T>> {
				let assignment = maybe_assignment.as_mut().ok_or(Error::<T>::NoAssignment)?;
				ensure!(assignment.epoch == info.index, Error::<T>::NoAssignment);
				let seed = assignment.seed;
				let slot = assignment
					.slots
					.iter_mut()
					.find(|slot| slot.verifier == verifier)
					.ok_or(Error::<T>::NotAssigned)?;
				ensure!(Self::in_reveal_window(&info, &params, now), Error::<T>::NotInRevealWindow);
				let committed = slot.commitment.ok_or(Error::<T>::NoCommitment)?;
				// Bound to this epoch, this target and this verifier: a commitment copied from
				// another slot (or an earlier epoch) never matches.
				let expected = report.commitment(info.index, &node, &verifier, &salt);
				ensure!(expected == committed, Error::<T>::CommitmentMismatch);
				ensure!(slot.report.is_none(), Error::<T>::AlreadyRevealed);
				slot.report = Some(report.clone());
				Ok(seed)
			},
		)?;

		Self::check_evidence(&info, &params, &node, &verifier, &seed, &report);
		Self::deposit_event(Event::ReportRevealed {
			epoch: info.index,
			node,
			verifier,
			available: report.available,
			challenge_ok: report.challenge_ok,
			latency_ms: report.latency_ms,
			sync_lag: report.sync_lag,
		});
		Ok(Pays::No.into())
	}

	/// The commitment the verifier whose off-chain key is `key` makes to `report` on `node` in
	/// the current epoch under `salt` ([`ProbeReport::commitment`], bound to the epoch index, the
	/// target and the verifier's node owner); `None` when `key` is no registered node's key. The
	/// off-chain worker commits and checks its local record with it.
	pub fn report_commitment(
		key: &T::AccountId,
		node: &T::AccountId,
		report: &ProbeReport,
		salt: &[u8; 32],
	) -> Option<H256> {
		let verifier = T::Registry::node_of_key(key)?;
		Some(report.commitment(Epoch::<T>::get().index, node, &verifier, salt))
	}

	/// The sr25519 public key behind an account id, when the account id is one (32 bytes, as
	/// `AccountId32` of an sr25519 key); `None` otherwise.
	pub fn sr25519_key(account: &T::AccountId) -> Option<sr25519::Public> {
		let encoded = account.encode();
		sr25519::Public::decode_all(&mut &encoded[..]).ok()
	}
}
