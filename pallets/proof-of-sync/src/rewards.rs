//! Payment of the epoch budget: service nodes by reward weight, verifiers by credits, in
//! bounded batches; then the epoch closes.

use crate::{
	epoch::{len_u32, to_usize},
	BalanceOf, Config, Credits, Epoch, EpochInfo, EpochSeed, EpochTotals, Event, Pallet, Phase,
	RewardWeights, Scores, Targets, TotalRewardsPaid, Totals, Verifiers, WeightInfo, LOG_TARGET,
};
use frame_support::{
	traits::{fungible, tokens::Preservation, Get},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AtLeast32BitUnsigned, Saturating, Zero},
	Rounding, SaturatedConversion,
};

/// `part · numerator / denominator`, rounded down; zero for a zero denominator. With
/// `numerator <= denominator` the share is at most `part`, and the shares of numerators adding up
/// to the denominator add up to `part` less than one planck per share.
pub fn share<Balance: AtLeast32BitUnsigned + Copy>(
	part: Balance,
	numerator: u128,
	denominator: u128,
) -> Balance {
	if denominator == 0 {
		return Zero::zero();
	}
	let part: u128 = part.saturated_into();
	let numerator = numerator.min(denominator);
	multiply_by_rational_with_rounding(part, numerator, denominator, Rounding::Down)
		.map(|amount| amount.saturated_into())
		.unwrap_or_else(Zero::zero)
}

/// Who a payment goes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Recipient {
	/// A service node, by reward weight.
	Node,
	/// A verifier, by credits.
	Verifier,
}

impl<T: Config> Pallet<T> {
	/// Pay up to `NodesPerBlock` recipients from `cursor` on (targets, then verifier candidates);
	/// after the last one, close the epoch.
	pub(crate) fn pay_batch(info: &EpochInfo<BlockNumberFor<T>>, cursor: u32) -> Weight {
		let targets = Targets::<T>::get();
		let verifiers = Verifiers::<T>::get();
		let mut totals = Totals::<T>::get();
		let node_count = len_u32(targets.len());
		let total = node_count.saturating_add(len_u32(verifiers.len()));
		let end = cursor.saturating_add(T::NodesPerBlock::get().max(1)).min(total);
		let count = end.saturating_sub(cursor);

		let mut index = cursor;
		while index < end {
			if index < node_count {
				if let Some(node) = targets.get(to_usize(index)) {
					let weight = RewardWeights::<T>::take(node).unwrap_or_default();
					if weight > 0 {
						let amount = share(totals.node_part, weight, totals.total_weight);
						Self::pay(info.index, node, amount, Recipient::Node, &mut totals);
					}
				}
			} else {
				let verifier_index = to_usize(index.saturating_sub(node_count));
				if let Some(verifier) = verifiers.get(verifier_index) {
					let credits = Credits::<T>::take(verifier);
					if credits > 0 {
						let amount = share(
							totals.verifier_part,
							u128::from(credits),
							u128::from(totals.total_credits),
						);
						Self::pay(info.index, verifier, amount, Recipient::Verifier, &mut totals);
					}
				}
			}
			index.saturating_inc();
		}

		if end >= total {
			Self::close_epoch(info, &totals);
		} else {
			Totals::<T>::put(totals);
			Epoch::<T>::mutate(|epoch| epoch.phase = Phase::Paying { cursor: end });
		}
		T::WeightInfo::on_initialize_pay(count)
	}

	/// Transfer `amount` from the reward source to `who`, or report the failure.
	fn pay(
		epoch: u32,
		who: &T::AccountId,
		amount: BalanceOf<T>,
		recipient: Recipient,
		totals: &mut EpochTotals<BalanceOf<T>>,
	) {
		totals.recipients.saturating_inc();
		if amount.is_zero() {
			return;
		}
		let source = T::RewardSource::get();
		match <T::Currency as fungible::Mutate<T::AccountId>>::transfer(
			&source,
			who,
			amount,
			Preservation::Preserve,
		) {
			Ok(_) => {
				totals.distributed = totals.distributed.saturating_add(amount);
				TotalRewardsPaid::<T>::mutate(|paid| *paid = paid.saturating_add(amount));
				Scores::<T>::mutate(who, |record| {
					let record = record.get_or_insert_with(Default::default);
					record.total_rewards = record.total_rewards.saturating_add(amount);
				});
				Self::deposit_event(match recipient {
					Recipient::Node => Event::NodeRewarded { epoch, node: who.clone(), amount },
					Recipient::Verifier => {
						Event::VerifierRewarded { epoch, verifier: who.clone(), amount }
					},
				});
			},
			Err(error) => {
				log::warn!(target: LOG_TARGET, "reward of {who:?} failed: {error:?}");
				totals.failed = totals.failed.saturating_add(amount);
				Self::deposit_event(Event::RewardFailed { epoch, who: who.clone(), amount });
			},
		}
	}

	/// Every recipient was paid: report the epoch and clear its storage.
	fn close_epoch(info: &EpochInfo<BlockNumberFor<T>>, totals: &EpochTotals<BalanceOf<T>>) {
		Self::deposit_event(Event::EpochClosed {
			epoch: info.index,
			budget: totals.budget,
			distributed: totals.distributed,
		});
		Totals::<T>::kill();
		Targets::<T>::kill();
		Verifiers::<T>::kill();
		EpochSeed::<T>::kill();
		Epoch::<T>::mutate(|epoch| epoch.phase = Phase::Starting);
	}
}
