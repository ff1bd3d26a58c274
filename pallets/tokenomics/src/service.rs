//! Service payments: the [`ServicePayment`] implementation.

use crate::{
	Config, CreditOf, Error, Event, HoldReasonOf, Pallet, PaymentSplit, ServiceKind,
	ServicePayment, ServiceRates, ServiceTotals, WeightInfo,
};
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::{Balanced, BalancedHold},
		tokens::{Fortitude, Precision, Preservation},
		Imbalance,
	},
	weights::Weight,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, TokenError,
};

impl<T: Config> ServicePayment<T::AccountId, T::Balance> for Pallet<T> {
	type HoldReason = HoldReasonOf<T>;

	fn charge_held(
		reason: &HoldReasonOf<T>,
		payer: &T::AccountId,
		provider: Option<&T::AccountId>,
		amount: T::Balance,
		kind: ServiceKind,
	) -> Result<PaymentSplit<T::Balance>, DispatchError> {
		Self::do_charge_held(reason, payer, provider, amount, kind)
	}

	fn charge(
		payer: &T::AccountId,
		provider: Option<&T::AccountId>,
		amount: T::Balance,
		kind: ServiceKind,
	) -> Result<PaymentSplit<T::Balance>, DispatchError> {
		Self::do_charge(payer, provider, amount, kind)
	}
}

impl<T: Config> Pallet<T> {
	/// The weight of one [`ServicePayment::charge`], for service pallets to add to the weight of
	/// the calls that charge.
	pub fn charge_weight() -> Weight {
		T::WeightInfo::charge()
	}

	/// Charge `payer` `amount` for a service of `kind` and split it by the rates of `kind`.
	///
	/// Atomic: on any error nothing changes. A zero amount charges nothing, emits nothing and
	/// returns a zero split.
	pub(crate) fn do_charge(
		payer: &T::AccountId,
		provider: Option<&T::AccountId>,
		amount: T::Balance,
		kind: ServiceKind,
	) -> Result<PaymentSplit<T::Balance>, DispatchError> {
		Self::charge_from(payer, provider, amount, kind, || {
			<T::Currency as Balanced<T::AccountId>>::withdraw(
				payer,
				amount,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)
		})
	}

	/// Charge `amount` for a service of `kind` from the funds `payer` holds for `reason`, split
	/// by the rates of `kind`: the held funds are taken off hold straight into the split
	/// (`BalancedHold::slash`), never through the payer's free balance, so freezes and locks
	/// on the payer's account cannot stop an escrowed payment.
	///
	/// Atomic: on any error (less than `amount` held, the provider cannot receive) nothing
	/// changes. A zero amount charges nothing, emits nothing and returns a zero split.
	pub(crate) fn do_charge_held(
		reason: &HoldReasonOf<T>,
		payer: &T::AccountId,
		provider: Option<&T::AccountId>,
		amount: T::Balance,
		kind: ServiceKind,
	) -> Result<PaymentSplit<T::Balance>, DispatchError> {
		Self::charge_from(payer, provider, amount, kind, || {
			let (credit, missing) =
				<T::Currency as BalancedHold<T::AccountId>>::slash(reason, payer, amount);
			// All of it or nothing: the storage layer undoes the partial slash.
			if !missing.is_zero() {
				return Err(TokenError::FundsUnavailable.into());
			}
			Ok(credit)
		})
	}

	/// Take `amount` as a credit with `take` (from free or held funds) and split it by the
	/// rates of `kind`; one storage layer, so on any error nothing changes.
	fn charge_from(
		payer: &T::AccountId,
		provider: Option<&T::AccountId>,
		amount: T::Balance,
		kind: ServiceKind,
		take: impl FnOnce() -> Result<CreditOf<T>, DispatchError>,
	) -> Result<PaymentSplit<T::Balance>, DispatchError> {
		if amount.is_zero() {
			return Ok(PaymentSplit::default());
		}
		let shares = ServiceRates::<T>::get(kind).split(amount);

		let split = with_storage_layer(|| -> Result<PaymentSplit<T::Balance>, DispatchError> {
			let credit = take()?;
			let (mut burn_credit, rest) = credit.split(shares.burn);
			let (mut treasury_credit, provider_credit) = rest.split(shares.treasury);

			let to_provider = match provider {
				Some(provider) => {
					let (paid, unpaid) = Self::pay_into(provider, provider_credit);
					// The whole share or nothing: `resolve` places all of a credit or none.
					if !unpaid.peek().is_zero() {
						return Err(Error::<T>::ProviderCannotReceive.into());
					}
					paid
				},
				None => {
					treasury_credit.subsume(provider_credit);
					Zero::zero()
				},
			};
			let (to_treasury, unpaid) = Self::pay_into(&Self::treasury_account(), treasury_credit);
			burn_credit.subsume(unpaid);
			let burned = Self::burn(burn_credit);

			Ok(PaymentSplit { burned, provider: to_provider, treasury: to_treasury })
		})?;

		ServiceTotals::<T>::mutate(kind, |ledger| {
			ledger.charged.saturating_accrue(amount);
			ledger.burned.saturating_accrue(split.burned);
			ledger.to_providers.saturating_accrue(split.provider);
			ledger.to_treasury.saturating_accrue(split.treasury);
		});
		Self::deposit_event(Event::ServiceCharged {
			kind,
			payer: payer.clone(),
			provider: provider.cloned(),
			amount,
			burned: split.burned,
			to_provider: split.provider,
			to_treasury: split.treasury,
		});
		Ok(split)
	}

	/// Place `credit` into `who`'s account. Returns the amount placed and what could not be
	/// placed (all of it or nothing: an account that does not exist cannot receive less than
	/// the existential deposit).
	pub(crate) fn pay_into(who: &T::AccountId, credit: CreditOf<T>) -> (T::Balance, CreditOf<T>) {
		let amount = credit.peek();
		if amount.is_zero() {
			return (amount, credit);
		}
		match <T::Currency as Balanced<T::AccountId>>::resolve(who, credit) {
			Ok(()) => (amount, CreditOf::<T>::zero()),
			Err(unplaced) => (Zero::zero(), unplaced),
		}
	}

	/// Burn `credit`: dropping it decreases the total issuance by its amount. Returns the
	/// amount burned.
	pub(crate) fn burn(credit: CreditOf<T>) -> T::Balance {
		let amount = credit.peek();
		drop(credit);
		amount
	}
}
