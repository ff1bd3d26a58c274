//! Registrations: commit-reveal, rent and premium, renewal, transfer, release, and the
//! standing (live, in grace, dead) every other part of the pallet relies on.

use crate::{
	BalanceOf, Commitment, Commitments, CommitmentsOf, Config, Error, Event, Generations,
	HoldReason, Label, NameId, NameInfo, Names, Pallet, Params, Records, Reserved,
};
use alloc::vec::Vec;
use dsync_primitives::{
	commit_reveal::{commitment, Domain},
	naming::{child_id, is_valid_label, is_valid_subname_label, tld_id},
	traits::{ServiceKind, ServicePayment},
};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision, Get},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating, Zero},
	DispatchResult, SaturatedConversion,
};

/// Where a name stands now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Standing {
	/// It resolves.
	Live,
	/// Its registration expired but is in its grace period: the owner may still renew it.
	Grace,
	/// Its registration is past its grace period, or (subnames) its parent was removed or
	/// replaced: it will never resolve again.
	Dead,
}

impl<T: Config> Pallet<T> {
	/// `label` as a [`Label`] of a subname when it is valid ([`is_valid_subname_label`]: a
	/// valid label or a service label such as `_dmarc`).
	pub fn checked_subname_label(label: &[u8]) -> Option<Label> {
		if !is_valid_subname_label(label) {
			return None;
		}
		Label::try_from(label.to_vec()).ok()
	}

	/// `label` as a [`Label`] when it is valid ([`is_valid_label`]).
	pub fn checked_label(label: &[u8]) -> Option<Label> {
		if !is_valid_label(label) {
			return None;
		}
		Label::try_from(label.to_vec()).ok()
	}

	/// The commitment `register(label, owner, secret)` reveals: the shared
	/// [`commitment`](dsync_primitives::commit_reveal::commitment) in
	/// [`Domain::NameRegistration`] of `(label, owner, secret)`, that is
	/// `blake2_256(SCALE((b"dsync/name-registration/v1", (label, owner, secret))))`.
	pub fn commitment_of(label: &[u8], owner: &T::AccountId, secret: &[u8; 32]) -> H256 {
		commitment(Domain::NameRegistration, &(label, owner, secret))
	}

	/// The registration a name belongs to (the name itself, or its top-level ancestor) when
	/// every link up to it is current; `None` when a parent is missing or was replaced. Reads
	/// at most `MaxDepth` names.
	pub fn registration_of(info: &NameInfo<T>) -> Option<NameInfo<T>> {
		let mut current = info.clone();
		for _ in 0..T::MaxDepth::get() {
			if current.expires.is_some() {
				return Some(current);
			}
			let parent = Names::<T>::get(current.parent)?;
			if Generations::<T>::get(current.parent) != current.parent_generation {
				return None;
			}
			current = parent;
		}
		None
	}

	/// Where `info` stands at block `now`.
	pub fn standing(info: &NameInfo<T>, now: BlockNumberFor<T>) -> Standing {
		Self::standing_of(Self::registration_of(info).and_then(|r| r.expires), now)
	}

	/// Where a name whose registration expires at `expires` stands at block `now` (`None`: its
	/// chain of parents is broken).
	pub(crate) fn standing_of(
		expires: Option<BlockNumberFor<T>>,
		now: BlockNumberFor<T>,
	) -> Standing {
		let Some(expires) = expires else { return Standing::Dead };
		if now <= expires {
			Standing::Live
		} else if now <= expires.saturating_add(Params::<T>::get().grace_period) {
			Standing::Grace
		} else {
			Standing::Dead
		}
	}

	/// The current block.
	pub(crate) fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	/// The name `id` when it exists, is owned by `who` and is live.
	pub(crate) fn owned_live(id: NameId, who: &T::AccountId) -> Result<NameInfo<T>, Error<T>> {
		let info = Names::<T>::get(id).ok_or(Error::<T>::UnknownName)?;
		ensure!(info.owner == *who, Error::<T>::NotOwner);
		ensure!(Self::standing(&info, Self::now()) == Standing::Live, Error::<T>::NameNotLive);
		Ok(info)
	}

	/// The rent of `years` years of `label`: `rent_per_year[min(len, 5) − 1] · years`.
	pub fn rent(label: &[u8], years: u32) -> Option<BalanceOf<T>> {
		let params = Params::<T>::get();
		let index = label.len().clamp(1, params.rent_per_year.len()).saturating_sub(1);
		let per_year = params.rent_per_year.get(index).copied()?;
		per_year.checked_mul(&BalanceOf::<T>::from(years))
	}

	/// The premium of re-registering a name whose grace period ended at `grace_end`, at block
	/// `now`: `premium_start · (premium_period − elapsed) / premium_period`, zero once
	/// `premium_period` blocks have passed (rounded down).
	pub fn premium(grace_end: BlockNumberFor<T>, now: BlockNumberFor<T>) -> BalanceOf<T> {
		let params = Params::<T>::get();
		let elapsed = now.saturating_sub(grace_end);
		if elapsed >= params.premium_period || params.premium_period.is_zero() {
			return Zero::zero();
		}
		let remaining: u128 = params.premium_period.saturating_sub(elapsed).saturated_into();
		let period: u128 = params.premium_period.saturated_into();
		let start: u128 = params.premium_start.saturated_into();
		sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			start,
			remaining,
			period,
			sp_runtime::Rounding::Down,
		)
		.map(|premium| premium.saturated_into())
		.unwrap_or_else(Zero::zero)
	}

	/// `years` of rent as blocks, if `1 <= years <= max_years`.
	fn paid_period(years: u32) -> Result<BlockNumberFor<T>, Error<T>> {
		let params = Params::<T>::get();
		ensure!(years >= 1 && years <= params.max_years, Error::<T>::InvalidYears);
		params.year_length.checked_mul(&years.into()).ok_or(Error::<T>::Overflow)
	}

	/// Whether a commitment made at block `at` is expired at block `now`: older than
	/// `max_age` blocks, it can no longer be revealed.
	fn is_expired(
		at: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		max_age: BlockNumberFor<T>,
	) -> bool {
		now.saturating_sub(at) > max_age
	}

	/// Remove the commitments expired at block `now` (older than `max_age`) from
	/// `commitments`; how many were removed and the sum of their deposits. Changes no storage.
	fn take_expired(
		commitments: &mut CommitmentsOf<T>,
		now: BlockNumberFor<T>,
		max_age: BlockNumberFor<T>,
	) -> (u32, BalanceOf<T>) {
		let mut count = 0u32;
		let mut released = BalanceOf::<T>::zero();
		commitments.retain(|c| {
			let expired = Self::is_expired(c.at, now, max_age);
			if expired {
				count = count.saturating_add(1);
				// Each deposit is held and the sum of all of an account's is held: no
				// saturation.
				released = released.saturating_add(c.deposit);
			}
			!expired
		});
		(count, released)
	}

	/// Store `who`'s commitments, removing the entry when none is left (the state shrinks).
	fn put_commitments(who: &T::AccountId, commitments: CommitmentsOf<T>) {
		if commitments.is_empty() {
			Commitments::<T>::remove(who);
		} else {
			Commitments::<T>::insert(who, commitments);
		}
	}

	/// Release `amount` of `who`'s commitment deposits. The amount is always part of what is
	/// held for `who`'s commitments (each commitment stores the deposit held for it, and only
	/// this pallet moves funds under [`HoldReason::CommitmentDeposit`]), so the exact release
	/// cannot fail; should it ever, the funds stay held (not lost) and `try_state` reports the
	/// mismatch.
	pub(crate) fn release_commitment_deposit(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		if T::Currency::release(
			&HoldReason::CommitmentDeposit.into(),
			who,
			amount,
			Precision::Exact,
		)
		.is_err()
		{
			frame_support::defensive!("a commitment deposit is held until its commitment goes");
		}
	}

	pub(crate) fn do_commit(who: T::AccountId, commitment: H256) -> DispatchResult {
		let now = Self::now();
		let params = Params::<T>::get();
		let deposit = params.commitment_deposit;
		let mut commitments = Commitments::<T>::get(&who);
		let (expired, released) =
			Self::take_expired(&mut commitments, now, params.max_commitment_age);
		ensure!(!commitments.iter().any(|c| c.hash == commitment), Error::<T>::DuplicateCommitment);
		commitments
			.try_push(Commitment { hash: commitment, at: now, deposit })
			.map_err(|_| Error::<T>::TooManyCommitments)?;
		// The expired deposits go back first, so they can pay for the new one. Should the hold
		// fail, the dispatch reverts the release with it: nothing changes.
		Self::release_commitment_deposit(&who, released);
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::CommitmentDeposit.into(), &who, deposit)?;
		}
		Commitments::<T>::insert(&who, commitments);
		if expired > 0 {
			Self::deposit_event(Event::CommitmentsExpired {
				who: who.clone(),
				count: expired,
				released,
			});
		}
		Self::deposit_event(Event::Committed { who, commitment, deposit });
		Ok(())
	}

	pub(crate) fn do_remove_expired_commitments(who: T::AccountId) -> DispatchResult {
		let max_age = Params::<T>::get().max_commitment_age;
		let mut commitments = Commitments::<T>::get(&who);
		let (count, released) = Self::take_expired(&mut commitments, Self::now(), max_age);
		ensure!(count > 0, Error::<T>::NoExpiredCommitments);
		Self::put_commitments(&who, commitments);
		Self::release_commitment_deposit(&who, released);
		Self::deposit_event(Event::CommitmentsExpired { who, count, released });
		Ok(())
	}

	pub(crate) fn do_register(
		who: T::AccountId,
		label: Vec<u8>,
		owner: T::AccountId,
		secret: [u8; 32],
		years: u32,
	) -> DispatchResult {
		let checked = Self::checked_label(&label).ok_or(Error::<T>::InvalidLabel)?;
		ensure!(!Reserved::<T>::contains_key(&checked), Error::<T>::Reserved);
		let period = Self::paid_period(years)?;
		let params = Params::<T>::get();
		let now = Self::now();

		let commitment = Self::commitment_of(&label, &owner, &secret);
		let mut commitments = Commitments::<T>::get(&who);
		let (position, committed) = commitments
			.iter()
			.enumerate()
			.find_map(|(index, c)| (c.hash == commitment).then_some((index, *c)))
			.ok_or(Error::<T>::NoCommitment)?;
		let age = now.saturating_sub(committed.at);
		ensure!(age >= params.min_commitment_age, Error::<T>::CommitmentTooNew);
		ensure!(age <= params.max_commitment_age, Error::<T>::CommitmentTooOld);

		let id = child_id(&tld_id(), &label);
		let previous = Names::<T>::get(id);
		let premium = match &previous {
			Some(old) => {
				ensure!(Self::standing(old, now) == Standing::Dead, Error::<T>::NotAvailable);
				let grace_end = old.expires.unwrap_or_default().saturating_add(params.grace_period);
				Self::premium(grace_end, now)
			},
			None => Zero::zero(),
		};
		let rent = Self::rent(&label, years).ok_or(Error::<T>::Overflow)?;
		let cost = rent.checked_add(&premium).ok_or(Error::<T>::Overflow)?;
		let expires = now.checked_add(&period).ok_or(Error::<T>::Overflow)?;

		T::Payment::charge(&who, None, cost, ServiceKind::Naming)?;
		commitments.remove(position);
		Self::put_commitments(&who, commitments);
		Self::release_commitment_deposit(&who, committed.deposit);
		if let Some(old) = previous {
			Self::remove_name(id, old);
		}
		Generations::<T>::mutate(id, |generation| *generation = generation.saturating_add(1));
		Names::<T>::insert(
			id,
			NameInfo {
				owner: owner.clone(),
				parent: tld_id(),
				label: checked.clone(),
				depth: 1,
				expires: Some(expires),
				parent_generation: 0,
				parent_controlled: false,
				ttl: Self::default_ttl(),
				deposit: Zero::zero(),
				depositor: owner.clone(),
			},
		);
		Self::deposit_event(Event::NameRegistered {
			name: id,
			label: checked,
			owner,
			expires,
			cost,
		});
		Ok(())
	}

	/// The TTL of a new name: one hour, within `MinTtl..=MaxTtl`.
	pub(crate) fn default_ttl() -> u32 {
		3_600u32.clamp(T::MinTtl::get(), T::MaxTtl::get())
	}

	pub(crate) fn do_renew(who: T::AccountId, id: NameId, years: u32) -> DispatchResult {
		let mut info = Names::<T>::get(id).ok_or(Error::<T>::UnknownName)?;
		let expires = info.expires.ok_or(Error::<T>::NotSubname)?;
		let period = Self::paid_period(years)?;
		let params = Params::<T>::get();
		let now = Self::now();
		match Self::standing(&info, now) {
			Standing::Live => {},
			Standing::Grace => ensure!(info.owner == who, Error::<T>::GracePeriodOwnerOnly),
			Standing::Dead => return Err(Error::<T>::PastGracePeriod.into()),
		}
		let new_expires = expires.checked_add(&period).ok_or(Error::<T>::Overflow)?;
		let limit = params
			.year_length
			.checked_mul(&params.max_years.into())
			.and_then(|ahead| now.checked_add(&ahead))
			.ok_or(Error::<T>::Overflow)?;
		ensure!(new_expires <= limit, Error::<T>::InvalidYears);
		let cost = Self::rent(&info.label, years).ok_or(Error::<T>::Overflow)?;

		T::Payment::charge(&who, None, cost, ServiceKind::Naming)?;
		info.expires = Some(new_expires);
		Names::<T>::insert(id, info);
		Self::deposit_event(Event::NameRenewed {
			name: id,
			payer: who,
			expires: new_expires,
			cost,
		});
		Ok(())
	}

	pub(crate) fn do_transfer(who: T::AccountId, id: NameId, to: T::AccountId) -> DispatchResult {
		let mut info = Self::owned_live(id, &who)?;
		info.owner = to.clone();
		Names::<T>::insert(id, info);
		Self::deposit_event(Event::NameTransferred { name: id, from: who, to });
		Ok(())
	}

	pub(crate) fn do_release(who: T::AccountId, id: NameId) -> DispatchResult {
		let info = Names::<T>::get(id).ok_or(Error::<T>::UnknownName)?;
		ensure!(info.owner == who, Error::<T>::NotOwner);
		Self::remove_name(id, info);
		Ok(())
	}

	pub(crate) fn do_remove_stale(id: NameId) -> DispatchResult {
		let info = Names::<T>::get(id).ok_or(Error::<T>::UnknownName)?;
		let now = Self::now();
		let removable = match info.expires {
			// A registration keeps its record through the premium period, which prices the
			// next registration.
			Some(expires) => {
				let params = Params::<T>::get();
				now > expires
					.saturating_add(params.grace_period)
					.saturating_add(params.premium_period)
			},
			None => Self::standing(&info, now) == Standing::Dead,
		};
		ensure!(removable, Error::<T>::StillLive);
		Self::remove_name(id, info);
		Ok(())
	}

	/// Remove `id` and its records, release a subname's deposit to its depositor, and emit
	/// [`Event::NameRemoved`]. Its subnames go stale through the generation check.
	pub(crate) fn remove_name(id: NameId, info: NameInfo<T>) {
		Names::<T>::remove(id);
		Records::<T>::remove(id);
		if !info.deposit.is_zero() {
			// The deposit was held when the subname was made and nothing else releases it.
			if T::Currency::release(
				&HoldReason::SubnameDeposit.into(),
				&info.depositor,
				info.deposit,
				Precision::BestEffort,
			)
			.is_err()
			{
				frame_support::defensive!("a subname deposit is held until the subname is removed");
			}
		}
		Self::deposit_event(Event::NameRemoved { name: id, owner: info.owner });
	}
}
