//! Subnames: created by a name's owner for a deposit, revocable until the parent gives up
//! control, stale once the parent is removed or replaced.

use crate::{
	registration::Standing, Config, Error, Event, Generations, HoldReason, NameId, NameInfo, Names,
	Pallet, Params,
};
use alloc::vec::Vec;
use dsync_primitives::naming::{child_id, MAX_NAME_LEN};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get},
};
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_set_subname(
		who: T::AccountId,
		parent: NameId,
		label: Vec<u8>,
		owner: T::AccountId,
	) -> DispatchResult {
		let checked = Self::checked_subname_label(&label).ok_or(Error::<T>::InvalidLabel)?;
		let parent_info = Self::owned_live(parent, &who)?;
		let depth = parent_info.depth.saturating_add(1);
		ensure!(u32::from(depth) <= T::MaxDepth::get(), Error::<T>::TooDeep);
		// DNS's limit: the full name must fit in 253 bytes.
		let parent_len = Self::full_name(parent).map(|name| name.len()).unwrap_or(usize::MAX);
		ensure!(
			parent_len.saturating_add(1).saturating_add(checked.len()) <= MAX_NAME_LEN,
			Error::<T>::NameTooLong
		);
		let id = child_id(&parent, &label);
		let previous = Names::<T>::get(id);
		if let Some(old) = &previous {
			ensure!(Self::standing(old, Self::now()) == Standing::Dead, Error::<T>::SubnameExists);
		}
		let deposit = Params::<T>::get().subname_deposit;
		T::Currency::hold(&HoldReason::SubnameDeposit.into(), &who, deposit)?;
		if let Some(old) = previous {
			Self::remove_name(id, old);
		}
		Generations::<T>::mutate(id, |generation| *generation = generation.saturating_add(1));
		Names::<T>::insert(
			id,
			NameInfo {
				owner: owner.clone(),
				parent,
				label: checked.clone(),
				depth,
				expires: None,
				parent_generation: Generations::<T>::get(parent),
				parent_controlled: true,
				ttl: parent_info.ttl,
				deposit,
				depositor: who,
			},
		);
		Self::deposit_event(Event::SubnameCreated {
			name: id,
			parent,
			label: checked,
			owner,
			deposit,
		});
		Ok(())
	}

	/// The subname `id`, checked for its live parent being owned by `who` and still in control.
	fn controlled_subname(who: &T::AccountId, id: NameId) -> Result<NameInfo<T>, Error<T>> {
		let info = Names::<T>::get(id).ok_or(Error::<T>::UnknownName)?;
		ensure!(info.expires.is_none(), Error::<T>::NotSubname);
		Self::owned_live(info.parent, who)?;
		ensure!(info.parent_controlled, Error::<T>::ControlGivenUp);
		Ok(info)
	}

	pub(crate) fn do_revoke_subname(who: T::AccountId, id: NameId) -> DispatchResult {
		let info = Self::controlled_subname(&who, id)?;
		Self::remove_name(id, info);
		Ok(())
	}

	pub(crate) fn do_give_up_control(who: T::AccountId, id: NameId) -> DispatchResult {
		let mut info = Self::controlled_subname(&who, id)?;
		info.parent_controlled = false;
		Names::<T>::insert(id, info);
		Self::deposit_event(Event::ControlGivenUp { name: id });
		Ok(())
	}
}
