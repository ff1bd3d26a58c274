//! Storage version 2: every open commitment holds a deposit.
//!
//! Version 1 kept up to `MaxCommitments` commitments per account in `Commitments` with no
//! deposit, pruned only by that account's next commit (and an account's emptied list stayed
//! stored): a farm of accounts that each commit once and never reveal grew the state for the
//! fees alone. Version 2 holds `commitment_deposit` per commitment under
//! [`crate::HoldReason::CommitmentDeposit`], records it in each commitment
//! ([`crate::Commitment`]), returns it when the commitment is revealed or, once expired,
//! removed (by anyone: [`crate::Pallet::remove_expired_commitments`]), and removes an account's
//! entry with its last commitment.
//!
//! [`MigrateToV2`]:
//!
//! - decodes the stored version-1 parameters, appends `commitment_deposit` from its default
//!   ([`crate::DEFAULT_COMMITMENT_DEPOSIT`]: the chain's storage price of the state one
//!   commitment pins) and stores them;
//! - translates every `Commitments` entry to the new layout with a deposit of zero (nothing was
//!   held for them, so nothing is released for them), and removes the empty lists version 1
//!   left behind (every registration by reveal emptied its committer's list without removing
//!   it). An entry that does not decode is removed (it could never have been revealed).
//!
//! The translation is unbounded: it reads and writes every `Commitments` entry in one block.
//! There is one entry per account that ever committed on a young chain (a handful of accounts
//! registering names at the time of this upgrade), far below what a block can take (a read and
//! a write cost 58 µs with ParityDB's weights: about 34,000 entries in a 2-second block).
//! Should a chain have more, the migration must become a multi-block one (`pallet-migrations`)
//! before it is applied there; try-runtime's `pre_upgrade` counts the entries.

use crate::{Commitment, Commitments, CommitmentsOf, Config, Pallet, Params};
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
use sp_runtime::traits::Zero;
#[cfg(feature = "try-runtime")]
use sp_runtime::TryRuntimeError;

/// The storage of version 1 that the migration reads.
pub(crate) mod v1 {
	use crate::{BalanceOf, Config, NamingParams, Pallet, DEFAULT_COMMITMENT_DEPOSIT};
	use codec::{Decode, Encode};
	use frame_support::{
		pallet_prelude::{Blake2_128Concat, OptionQuery},
		storage_alias, BoundedVec,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_core::H256;
	use sp_runtime::traits::UniqueSaturatedFrom;

	/// The governed parameters of version 1: those of version 2 without `commitment_deposit`,
	/// which version 2 appends, in the same order.
	#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) struct NamingParamsV1<Balance, BlockNumber> {
		pub(crate) min_commitment_age: BlockNumber,
		pub(crate) max_commitment_age: BlockNumber,
		pub(crate) year_length: BlockNumber,
		pub(crate) grace_period: BlockNumber,
		pub(crate) premium_start: Balance,
		pub(crate) premium_period: BlockNumber,
		pub(crate) rent_per_year: [Balance; 5],
		pub(crate) max_years: u32,
		pub(crate) subname_deposit: Balance,
	}

	impl<Balance: UniqueSaturatedFrom<u128>, BlockNumber> NamingParamsV1<Balance, BlockNumber> {
		/// The version-2 parameters: these, with `commitment_deposit` from
		/// [`DEFAULT_COMMITMENT_DEPOSIT`].
		pub(crate) fn upgrade(self) -> NamingParams<Balance, BlockNumber> {
			NamingParams {
				min_commitment_age: self.min_commitment_age,
				max_commitment_age: self.max_commitment_age,
				year_length: self.year_length,
				grace_period: self.grace_period,
				premium_start: self.premium_start,
				premium_period: self.premium_period,
				rent_per_year: self.rent_per_year,
				max_years: self.max_years,
				subname_deposit: self.subname_deposit,
				commitment_deposit: Balance::unique_saturated_from(DEFAULT_COMMITMENT_DEPOSIT),
			}
		}
	}

	/// The governed parameters, in their version-1 layout (same name, same key).
	#[storage_alias]
	pub(crate) type Params<T: Config> =
		StorageValue<Pallet<T>, NamingParamsV1<BalanceOf<T>, BlockNumberFor<T>>, OptionQuery>;

	/// One account's commitments in the version-1 layout: `(commitment, block committed)`.
	pub(crate) type CommitmentsV1<T> =
		BoundedVec<(H256, BlockNumberFor<T>), <T as Config>::MaxCommitments>;

	/// The open commitments of each account, in their version-1 layout (same name, hasher and
	/// key).
	#[storage_alias]
	pub(crate) type Commitments<T: Config> = StorageMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		CommitmentsV1<T>,
		OptionQuery,
	>;
}

/// What [`InnerMigrateToV2::pre_upgrade`] hands to [`InnerMigrateToV2::post_upgrade`]: the
/// version-1 parameters, the number of `Commitments` entries, of non-empty ones, and of
/// commitments in all.
#[cfg(feature = "try-runtime")]
type PreUpgradeState<T> = (
	Option<
		v1::NamingParamsV1<crate::BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>,
	>,
	u64,
	u64,
	u64,
);

/// Translates the parameters and the commitments without checking the storage version: use it
/// through [`MigrateToV2`].
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let old = v1::Params::<T>::get();
		let params_translated = old.is_some();
		if let Some(old) = old {
			Params::<T>::put(old.upgrade());
		}
		let mut entries: u64 = 0;
		Commitments::<T>::translate::<v1::CommitmentsV1<T>, _>(|_who, old| {
			entries = entries.saturating_add(1);
			if old.is_empty() {
				return None;
			}
			let translated: Vec<_> = old
				.into_iter()
				.map(|(hash, at)| Commitment { hash, at, deposit: Zero::zero() })
				.collect();
			// The same bound (`MaxCommitments`) as the list read: nothing is cut.
			Some(CommitmentsOf::<T>::truncate_from(translated))
		});
		// The old parameters and every entry read, and the one the iteration stopped at (the
		// end of the prefix); the new parameters (when there were old ones) and every entry
		// written (translated or removed).
		T::DbWeight::get().reads_writes(
			entries.saturating_add(2),
			entries.saturating_add(u64::from(params_translated)),
		)
	}

	/// The version-1 parameters and the counts of `Commitments` entries, of non-empty ones and
	/// of commitments, for [`Self::post_upgrade`].
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
		use dsync_primitives::convert::usize_to_u64;
		let (mut entries, mut non_empty, mut commitments) = (0u64, 0u64, 0u64);
		for list in v1::Commitments::<T>::iter_values() {
			entries = entries.saturating_add(1);
			if !list.is_empty() {
				non_empty = non_empty.saturating_add(1);
			}
			commitments = commitments.saturating_add(usize_to_u64(list.len()));
		}
		let state: PreUpgradeState<T> = (v1::Params::<T>::get(), entries, non_empty, commitments);
		Ok(codec::Encode::encode(&state))
	}

	/// The parameters kept every version-1 value and took the default deposit; every non-empty
	/// list was kept with all its commitments, each with a zero deposit, and the empty ones
	/// are gone; the pallet's invariants hold (among them: the parameters are valid and every
	/// account holds exactly its commitments' deposits, here nothing).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
		use dsync_primitives::convert::usize_to_u64;
		use frame_support::ensure;
		let (old, _entries, non_empty, commitments): PreUpgradeState<T> =
			codec::Decode::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
		if let Some(old) = old {
			ensure!(Params::<T>::get() == old.upgrade(), "the parameters were not translated");
		}
		let (mut entries_after, mut commitments_after) = (0u64, 0u64);
		for list in Commitments::<T>::iter_values() {
			ensure!(!list.is_empty(), "an empty commitment list is stored");
			ensure!(
				list.iter().all(|c| c.deposit.is_zero()),
				"a migrated commitment has a deposit"
			);
			entries_after = entries_after.saturating_add(1);
			commitments_after = commitments_after.saturating_add(usize_to_u64(list.len()));
		}
		ensure!(entries_after == non_empty, "a commitment list was lost or kept empty");
		ensure!(commitments_after == commitments, "a commitment was lost");
		Pallet::<T>::do_try_state()
	}
}

/// Migrates naming from storage version 1 to 2 (see the module docs); at any other on-chain
/// version it does nothing.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
