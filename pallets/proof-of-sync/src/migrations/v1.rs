//! Storage version 1: usage weighs into rewards only when verified and paid for, against a
//! median, and unproven capacity is a new node's one-off credit (issue 17, finding 9).
//!
//! Version 0's parameters lacked `burn_per_usage_unit` and `unproven_epochs`, and the pallet
//! kept the epoch's highest usage under `MaxEpochUsage`. Version 1 appends the two fields to
//! [`crate::ProofOfSyncParams`] and takes a median of [`crate::EpochUsage`] when the tally
//! starts instead. [`MigrateToV1`] decodes the stored version-0 parameters, fills in the new
//! fields from their defaults ([`crate::DEFAULT_BURN_PER_USAGE_UNIT`]: a job at the digits
//! model's price floor counts in full; [`crate::DEFAULT_UNPROVEN_EPOCHS`]: unproven capacity
//! for 12 scored epochs), stores them, and removes `MaxEpochUsage`. It touches two values.
//!
//! The usage already recorded in [`crate::EpochUsage`] for the running epoch was counted by the
//! version-0 rule (every unit); the epoch's tally weighs it as recorded, and the next epoch
//! counts by the new rule.

use crate::{Config, Pallet, Params, LOG_TARGET};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
#[cfg(feature = "try-runtime")]
use sp_runtime::TryRuntimeError;

/// The storage of version 0 that the migration reads and removes.
pub(crate) mod v0 {
	use crate::{BalanceOf, Config, Pallet, ProofOfSyncParams};
	use codec::{Decode, Encode};
	use frame_support::{
		pallet_prelude::{OptionQuery, ValueQuery},
		storage_alias,
	};
	use sp_runtime::{traits::UniqueSaturatedFrom, Perbill};

	/// The governed parameters of version 0: those of version 1 without the two fields that
	/// version 1 appends (`burn_per_usage_unit`, `unproven_epochs`), in the same order.
	#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) struct ProofOfSyncParamsV0<Balance> {
		pub(crate) epoch_length: u32,
		pub(crate) verifiers_per_node: u32,
		pub(crate) ema_alpha: Perbill,
		pub(crate) warmup_epochs: u32,
		pub(crate) activation_score: Perbill,
		pub(crate) miss_quality: Perbill,
		pub(crate) suspend_after_misses: u32,
		pub(crate) slash_after_misses: u32,
		pub(crate) miss_slash: Perbill,
		pub(crate) wrong_answer_slash: Perbill,
		pub(crate) slash_defer_epochs: u32,
		pub(crate) target_latency_ms: u32,
		pub(crate) max_latency_ms: u32,
		pub(crate) tolerated_lag: u32,
		pub(crate) max_lag: u32,
		pub(crate) epoch_reward: Balance,
		pub(crate) verifier_share: Perbill,
		pub(crate) idle_usage_weight: Perbill,
		pub(crate) unproven_capacity: u64,
		pub(crate) usage_per_capacity_unit: u64,
		pub(crate) clip_latency_ms: u32,
		pub(crate) clip_lag: u32,
		pub(crate) reputation_penalty: Perbill,
		pub(crate) reputation_recovery: Perbill,
		pub(crate) min_reputation: Perbill,
		pub(crate) verification_points: u32,
	}

	impl<Balance: Default + UniqueSaturatedFrom<u128>> ProofOfSyncParamsV0<Balance> {
		/// The version-1 parameters: these, with the new fields from
		/// [`ProofOfSyncParams::default`].
		pub(crate) fn upgrade(self) -> ProofOfSyncParams<Balance> {
			let defaults = ProofOfSyncParams::<Balance>::default();
			ProofOfSyncParams {
				epoch_length: self.epoch_length,
				verifiers_per_node: self.verifiers_per_node,
				ema_alpha: self.ema_alpha,
				warmup_epochs: self.warmup_epochs,
				activation_score: self.activation_score,
				miss_quality: self.miss_quality,
				suspend_after_misses: self.suspend_after_misses,
				slash_after_misses: self.slash_after_misses,
				miss_slash: self.miss_slash,
				wrong_answer_slash: self.wrong_answer_slash,
				slash_defer_epochs: self.slash_defer_epochs,
				target_latency_ms: self.target_latency_ms,
				max_latency_ms: self.max_latency_ms,
				tolerated_lag: self.tolerated_lag,
				max_lag: self.max_lag,
				epoch_reward: self.epoch_reward,
				verifier_share: self.verifier_share,
				idle_usage_weight: self.idle_usage_weight,
				unproven_capacity: self.unproven_capacity,
				usage_per_capacity_unit: self.usage_per_capacity_unit,
				clip_latency_ms: self.clip_latency_ms,
				clip_lag: self.clip_lag,
				reputation_penalty: self.reputation_penalty,
				reputation_recovery: self.reputation_recovery,
				min_reputation: self.min_reputation,
				verification_points: self.verification_points,
				burn_per_usage_unit: defaults.burn_per_usage_unit,
				unproven_epochs: defaults.unproven_epochs,
			}
		}
	}

	/// The governed parameters, in their version-0 layout (same name, same key).
	#[storage_alias]
	pub(crate) type Params<T: Config> =
		StorageValue<Pallet<T>, ProofOfSyncParamsV0<BalanceOf<T>>, OptionQuery>;

	/// The highest epoch usage of the current epoch, removed in version 1.
	#[storage_alias]
	pub(crate) type MaxEpochUsage<T: Config> = StorageValue<Pallet<T>, u64, ValueQuery>;
}

/// Translates the parameters and removes `MaxEpochUsage`, without checking the storage
/// version: use it through [`MigrateToV1`].
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let old = v0::Params::<T>::get();
		let translated = old.is_some();
		if let Some(old) = old {
			Params::<T>::put(old.upgrade());
		}
		v0::MaxEpochUsage::<T>::kill();
		log::info!(
			target: LOG_TARGET,
			"migrated to v1: parameters translated: {translated}, MaxEpochUsage removed",
		);
		// The old parameters read; the new ones written (when there were old ones) and the
		// maximum removed.
		T::DbWeight::get().reads_writes(1, 1u64.saturating_add(u64::from(translated)))
	}

	/// The version-0 parameters, for [`Self::post_upgrade`].
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
		Ok(codec::Encode::encode(&v0::Params::<T>::get()))
	}

	/// The parameters kept every version-0 value and took the defaults of the new fields,
	/// `MaxEpochUsage` is gone, and the pallet's invariants hold (among them: the parameters
	/// are valid).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
		use frame_support::ensure;
		let old: Option<v0::ProofOfSyncParamsV0<crate::BalanceOf<T>>> =
			codec::Decode::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
		if let Some(old) = old {
			ensure!(Params::<T>::get() == old.upgrade(), "the parameters were not translated");
		}
		ensure!(!v0::MaxEpochUsage::<T>::exists(), "MaxEpochUsage is still stored");
		Pallet::<T>::do_try_state()
	}
}

/// Migrates Proof of Sync from storage version 0 to 1 (see the module docs); at any other
/// on-chain version it does nothing but log.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
