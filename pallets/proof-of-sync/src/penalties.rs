//! Penalties: the status transitions of a service node after its tally, slashes for repeated
//! misses, absent verifiers, a provably wrong probe answer, and the faults service pallets
//! report ([`ServiceFaults`]: a miss, or a result proven wrong on chain).

use crate::{
	BalanceOf, Config, Epoch, EpochInfo, Event, NodeScore, Pallet, Params, ProbeReport,
	ProofOfSyncParams, ProvenWrong, Reputation, Scores, LOG_TARGET,
};
use dsync_primitives::traits::{
	NodeRegistry, NodeRole, NodeStatus, ServiceFaults, ServiceKind, SlashReason,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{traits::Saturating, Perbill};

impl<T: Config> Pallet<T> {
	/// Move a service node through the registry after its score was updated; returns the
	/// status it ends up in.
	pub(crate) fn service_transition(
		epoch: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		status: NodeStatus,
		record: &mut NodeScore<BalanceOf<T>>,
		proven_wrong: bool,
	) -> NodeStatus {
		let qualified = record.score >= params.activation_score;
		let slash_at = params.suspend_after_misses.saturating_add(params.slash_after_misses);
		match status {
			NodeStatus::Pending if record.epochs >= params.warmup_epochs && qualified => {
				Self::move_to(node, status, NodeStatus::Active)
			},
			// A node still warming up that keeps missing is suspended like an active one: a
			// node that never answers must not sit in warm-up forever.
			NodeStatus::Pending | NodeStatus::Active
				if record.misses >= params.suspend_after_misses =>
			{
				Self::move_to(node, status, NodeStatus::Suspended)
			},
			NodeStatus::Suspended if record.misses >= slash_at => {
				Self::slash(epoch, params, node, params.miss_slash, SlashReason::RepeatedMisses);
				record.misses = params.suspend_after_misses;
				status
			},
			NodeStatus::Suspended
				if !proven_wrong && record.good_streak >= params.warmup_epochs && qualified =>
			{
				Self::move_to(node, status, NodeStatus::Active)
			},
			_ => status,
		}
	}

	/// Ask the registry to move `node` from `from` to `to`; returns the status it is in after.
	fn move_to(node: &T::AccountId, from: NodeStatus, to: NodeStatus) -> NodeStatus {
		match T::Registry::set_status(node, to) {
			Ok(()) => to,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "cannot move {node:?} to {to:?}: {error:?}");
				from
			},
		}
	}

	/// Schedule a slash of `fraction` of `node`'s bond for `epoch + slash_defer_epochs`.
	fn slash(
		epoch: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
	) {
		let apply_at = epoch.saturating_add(params.slash_defer_epochs);
		if let Err(error) = T::Registry::schedule_slash(node, fraction, reason, apply_at) {
			log::warn!(target: LOG_TARGET, "cannot slash {node:?} ({reason:?}): {error:?}");
		}
	}

	/// `verifier` did not reveal a report on `node`: reputation, absence count, suspension and
	/// slash.
	pub(crate) fn verifier_absent(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		verifier: &T::AccountId,
	) {
		Reputation::<T>::mutate(verifier, |reputation| {
			*reputation = reputation.saturating_sub(params.reputation_penalty)
		});
		let mut record = Scores::<T>::get(verifier).unwrap_or_default();
		record.misses.saturating_inc();
		let mut status = T::Registry::node(verifier).map(|summary| summary.status);
		if status == Some(NodeStatus::Active) && record.misses >= params.suspend_after_misses {
			status = Some(Self::move_to(verifier, NodeStatus::Active, NodeStatus::Suspended));
		}
		let slash_at = params.suspend_after_misses.saturating_add(params.slash_after_misses);
		if status == Some(NodeStatus::Suspended) && record.misses >= slash_at {
			Self::slash(
				info.index,
				params,
				verifier,
				params.miss_slash,
				SlashReason::AbsentVerifier,
			);
			record.misses = params.suspend_after_misses;
		}
		Scores::<T>::insert(verifier, record);
		Self::deposit_event(Event::VerifierAbsent {
			epoch: info.index,
			node: node.clone(),
			verifier: verifier.clone(),
		});
	}

	/// If `report` carries an answer signed by `node`'s registered key, for the node's challenge
	/// seed of this epoch, with a wrong compute result, the node provably answered wrongly:
	/// suspend it and schedule a `WrongAnswer` slash, once per node and epoch.
	///
	/// Evidence that cannot be verified (no key, a bad signature, another seed) proves nothing
	/// and is ignored; the cheap checks come before the signature check.
	pub(crate) fn check_evidence(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
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
		Self::move_to(node, summary.status, NodeStatus::Suspended);
		Self::slash(info.index, params, node, params.wrong_answer_slash, SlashReason::WrongAnswer);
	}

	/// A service pallet reports that `node` failed paid work, with the graduated penalties of
	/// Proof of Sync and its governed parameters:
	///
	/// - `proven_wrong` (its result was proven wrong on chain): the node is suspended and
	///   `wrong_answer_slash` of its bond is scheduled `slash_defer_epochs` ahead (cancellable in
	///   the registry like every slash), reason `WrongResult`;
	/// - otherwise (it did not deliver, or dissented from the majority): a miss, counted with the
	///   epochs it missed; `suspend_after_misses` misses in a row suspend an active node (a good
	///   epoch resets the count, as for probes).
	///
	/// Ignored for accounts that own no service node. Emits [`Event::ServiceFailed`].
	fn penalise_service(node: &T::AccountId, proven_wrong: bool) {
		let Some(summary) = T::Registry::node(node) else { return };
		if summary.role != NodeRole::Service {
			return;
		}
		let params = Params::<T>::get();
		let epoch = Epoch::<T>::get().index;
		let misses = Scores::<T>::mutate(node, |record| {
			let record = record.get_or_insert_with(Default::default);
			record.misses = record.misses.saturating_add(1);
			record.good_streak = 0;
			record.misses
		});
		let suspend = proven_wrong || misses >= params.suspend_after_misses;
		if suspend && matches!(summary.status, NodeStatus::Active | NodeStatus::Pending) {
			Self::move_to(node, summary.status, NodeStatus::Suspended);
		}
		if proven_wrong {
			Self::slash(epoch, &params, node, params.wrong_answer_slash, SlashReason::WrongResult);
		}
		Self::deposit_event(Event::ServiceFailed {
			epoch,
			node: node.clone(),
			proven_wrong,
			misses,
		});
	}
}

/// Service pallets report their providers' faults here; the service kind does not change the
/// penalty (every service shares the node's one Proof-of-Sync record). Accounts that own no
/// service node are ignored. Emits [`Event::ServiceFailed`].
impl<T: Config> ServiceFaults<T::AccountId> for Pallet<T> {
	/// A miss: counted with the epochs the node missed; `suspend_after_misses` misses in a row
	/// suspend an active (or pending) node; a good epoch resets the count, as for probes.
	fn missed(provider: &T::AccountId, _kind: ServiceKind) {
		Self::penalise_service(provider, false)
	}

	/// A result proven wrong on chain: a miss, the node suspended at once, and
	/// `wrong_answer_slash` of its bond scheduled `slash_defer_epochs` ahead (reason
	/// `WrongResult`, cancellable in the registry like every slash).
	fn proven_wrong(provider: &T::AccountId, _kind: ServiceKind) {
		Self::penalise_service(provider, true)
	}
}
