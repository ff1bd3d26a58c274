//! Commit and reveal of verification reports, and the on-chain check of revealed evidence.

use crate::{
	Assignments, BalanceOf, Config, Epoch, EpochInfo, Error, Event, Pallet, Parameters, Params,
	ProbeReport, ProvenWrong, LOG_TARGET,
};
use codec::{DecodeAll, Encode};
use dsync_primitives::traits::{NodeRegistry, NodeStatus, SlashReason};
use frame_support::{dispatch::DispatchResultWithPostInfo, ensure, pallet_prelude::Pays};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::{sr25519, H256};

impl<T: Config> Pallet<T> {
	/// Record `key`'s commitment on `node`'s report in the commit window.
	pub(crate) fn do_commit_report(
		key: T::AccountId,
		node: T::AccountId,
		commitment: H256,
	) -> DispatchResultWithPostInfo {
		let verifier = T::Registry::node_of_key(&key).ok_or(Error::<T>::UnknownVerifierKey)?;
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
				.ok_or(Error::<T>::NotAssignedVerifier)?;
			ensure!(Self::in_commit_window(&info, &params, now), Error::<T>::CommitWindowClosed);
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
		let verifier = T::Registry::node_of_key(&key).ok_or(Error::<T>::UnknownVerifierKey)?;
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
					.ok_or(Error::<T>::NotAssignedVerifier)?;
				ensure!(Self::in_reveal_window(&info, &params, now), Error::<T>::NotInRevealWindow);
				let committed = slot.commitment.ok_or(Error::<T>::NotCommitted)?;
				ensure!(report.commitment(&salt) == committed, Error::<T>::CommitmentMismatch);
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

	/// If `report` carries an answer signed by `node`'s registered key, for the node's challenge
	/// seed of this epoch, with a wrong compute result, the node provably answered wrongly:
	/// suspend it and schedule a `WrongAnswer` slash, once per node and epoch.
	///
	/// Evidence that cannot be verified (no key, a bad signature, another seed) proves nothing
	/// and is ignored; the cheap checks come before the signature check.
	pub(crate) fn check_evidence(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &Parameters<BalanceOf<T>>,
		node: &T::AccountId,
		verifier: &T::AccountId,
		seed: &[u8; 32],
		report: &ProbeReport,
	) {
		let Some(evidence) = report.evidence.as_ref() else { return };
		if evidence.answer.seed != *seed || evidence.answer.compute_is_correct() {
			return;
		}
		if ProvenWrong::<T>::get(node) == Some(info.index) {
			return;
		}
		let Some(summary) = T::Registry::node(node) else { return };
		let Some(public) = Self::sr25519_key(&summary.offchain_key) else { return };
		if !evidence.signature_is_valid(&public) {
			return;
		}

		ProvenWrong::<T>::insert(node, info.index);
		Self::deposit_event(Event::WrongAnswerProved {
			epoch: info.index,
			node: node.clone(),
			verifier: verifier.clone(),
		});
		if let Err(error) = T::Registry::set_status(node, NodeStatus::Suspended) {
			log::debug!(target: LOG_TARGET, "cannot suspend {node:?}: {error:?}");
		}
		let apply_at = info.index.saturating_add(params.slash_defer_epochs);
		if let Err(error) = T::Registry::schedule_slash(
			node,
			params.wrong_answer_slash,
			SlashReason::WrongAnswer,
			apply_at,
		) {
			log::warn!(target: LOG_TARGET, "cannot slash {node:?} for a wrong answer: {error:?}");
		}
	}

	/// The sr25519 public key behind an account id, when the account id is one (32 bytes, as
	/// `AccountId32` of an sr25519 key); `None` otherwise.
	pub fn sr25519_key(account: &T::AccountId) -> Option<sr25519::Public> {
		let encoded = account.encode();
		sr25519::Public::decode_all(&mut &encoded[..]).ok()
	}
}
