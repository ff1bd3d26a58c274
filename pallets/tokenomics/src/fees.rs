//! Transaction fees: [`DealWithFees`], the handler `pallet-transaction-payment` gives fees and
//! tips to.

use crate::{Config, CreditOf, Event, FeeSplit, FeeTotals, Pallet};
use core::marker::PhantomData;
use frame_support::traits::{Get, Imbalance, OnUnbalanced};
use sp_runtime::traits::{Saturating, Zero};

/// Splits transaction fees by the governed [`FeeSplit`](crate::FeeSplit): the burn share is
/// burned, the treasury share goes to the treasury account and the rest, with every tip, to the
/// block author ([`Config::BlockAuthor`]).
///
/// Use it as `FungibleAdapter<Balances, DealWithFees<Runtime>>`, which hands over the fee first
/// and then the tip. A share that cannot be placed falls to the next sink: the author's to the
/// treasury, the treasury's to the burn. Totals are in [`FeeTotals`](crate::FeeTotals).
pub struct DealWithFees<T>(PhantomData<T>);

impl<T: Config> OnUnbalanced<CreditOf<T>> for DealWithFees<T> {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = CreditOf<T>>) {
		let Some(fee) = fees_then_tips.next() else { return };
		let mut tip = CreditOf::<T>::zero();
		// `FungibleAdapter` gives at most one tip; any further credit is treated as a tip too.
		for more in fees_then_tips {
			tip.subsume(more);
		}
		Pallet::<T>::distribute_fees(fee, tip);
	}

	fn on_nonzero_unbalanced(fee: CreditOf<T>) {
		Pallet::<T>::distribute_fees(fee, CreditOf::<T>::zero());
	}
}

impl<T: Config> Pallet<T> {
	/// Split `fee` by the fee split, add `tip` to the author's part and place every part.
	pub(crate) fn distribute_fees(fee: CreditOf<T>, tip: CreditOf<T>) {
		let (fee_amount, tip_amount) = (fee.peek(), tip.peek());
		if fee_amount.is_zero() && tip_amount.is_zero() {
			return;
		}
		let shares = FeeSplit::<T>::get().split(fee_amount);
		let (mut burn_credit, rest) = fee.split(shares.burn);
		let (mut treasury_credit, mut author_credit) = rest.split(shares.treasury);
		author_credit.subsume(tip);

		let author = T::BlockAuthor::get();
		let to_author = match &author {
			Some(author) => {
				let (paid, unpaid) = Self::pay_into(author, author_credit);
				treasury_credit.subsume(unpaid);
				paid
			},
			None => {
				treasury_credit.subsume(author_credit);
				Zero::zero()
			},
		};
		let (to_treasury, unpaid) = Self::pay_into(&Self::treasury_account(), treasury_credit);
		burn_credit.subsume(unpaid);
		let burned = Self::burn(burn_credit);

		FeeTotals::<T>::mutate(|ledger| {
			ledger.fees.saturating_accrue(fee_amount);
			ledger.tips.saturating_accrue(tip_amount);
			ledger.burned.saturating_accrue(burned);
			ledger.to_authors.saturating_accrue(to_author);
			ledger.to_treasury.saturating_accrue(to_treasury);
		});
		Self::deposit_event(Event::FeesDistributed {
			fee: fee_amount,
			tip: tip_amount,
			burned,
			author,
			to_author,
			to_treasury,
		});
	}
}
