//! Service payments through `ServicePayment::charge`.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible, LockableCurrency, WithdrawReasons},
};
use sp_runtime::{DispatchError, Perbill, TokenError};

fn charge(
	payer: u64,
	provider: Option<u64>,
	amount: u64,
	kind: ServiceKind,
) -> Result<PaymentSplit<u64>, DispatchError> {
	<Tokenomics as ServicePayment<u64, u64>>::charge(&payer, provider.as_ref(), amount, kind)
}

#[test]
fn charge_splits_by_the_rates_of_the_service_kind() {
	ExtBuilder::default().build_and_execute(|| {
		let (issued, bob, treasury) = (issuance(), native(BOB), native(TREASURY));

		// GPU inference: 20 % burned, 10 % treasury, 70 % provider.
		let split = charge(ALICE, Some(BOB), 1_000, ServiceKind::GpuInference).unwrap();

		assert_eq!(split, PaymentSplit { burned: 200, provider: 700, treasury: 100 });
		assert_eq!(split.total(), 1_000);
		assert_eq!(native(ALICE), ALICE_NATIVE - 1_000);
		assert_eq!(native(BOB), bob + 700);
		assert_eq!(native(TREASURY), treasury + 100);
		assert_eq!(issuance(), issued - 200);
		assert_eq!(
			ServiceTotals::<Test>::get(ServiceKind::GpuInference),
			ServiceLedger { charged: 1_000, burned: 200, to_providers: 700, to_treasury: 100 }
		);
		assert_eq!(
			last_event(),
			Event::ServiceCharged {
				kind: ServiceKind::GpuInference,
				payer: ALICE,
				provider: Some(BOB),
				amount: 1_000,
				burned: 200,
				to_provider: 700,
				to_treasury: 100,
			}
		);
	});
}

#[test]
fn each_service_kind_keeps_its_own_totals() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(charge(ALICE, Some(BOB), 1_000, ServiceKind::GpuInference));
		assert_ok!(charge(ALICE, Some(BOB), 1_000, ServiceKind::Naming));
		assert_ok!(charge(ALICE, Some(BOB), 1_000, ServiceKind::Storage));
		assert_ok!(charge(ALICE, Some(BOB), 1_000, ServiceKind::Other));
		assert_ok!(charge(ALICE, Some(BOB), 500, ServiceKind::Naming));

		let totals = |kind: ServiceKind| ServiceTotals::<Test>::get(kind);
		assert_eq!(
			totals(ServiceKind::Naming),
			ServiceLedger { charged: 1_500, burned: 750, to_providers: 750, to_treasury: 0 }
		);
		assert_eq!(
			totals(ServiceKind::Storage),
			ServiceLedger { charged: 1_000, burned: 100, to_providers: 700, to_treasury: 200 }
		);
		assert_eq!(
			totals(ServiceKind::Other),
			ServiceLedger { charged: 1_000, burned: 0, to_providers: 1_000, to_treasury: 0 }
		);
		assert_eq!(totals(ServiceKind::GpuInference).charged, 1_000);
	});
}

#[test]
fn without_provider_the_provider_share_goes_to_the_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		let (issued, treasury) = (issuance(), native(TREASURY));

		let split = charge(ALICE, None, 1_000, ServiceKind::GpuInference).unwrap();

		assert_eq!(split, PaymentSplit { burned: 200, provider: 0, treasury: 800 });
		assert_eq!(native(TREASURY), treasury + 800);
		assert_eq!(issuance(), issued - 200);
		assert_eq!(
			last_event(),
			Event::ServiceCharged {
				kind: ServiceKind::GpuInference,
				payer: ALICE,
				provider: None,
				amount: 1_000,
				burned: 200,
				to_provider: 0,
				to_treasury: 800,
			}
		);
	});
}

#[test]
fn shares_round_down_and_the_provider_gets_the_dust() {
	ExtBuilder::default().build_and_execute(|| {
		let split = charge(ALICE, Some(BOB), 999, ServiceKind::GpuInference).unwrap();
		assert_eq!(split, PaymentSplit { burned: 199, provider: 701, treasury: 99 });
		assert_eq!(split.total(), 999);
	});
}

#[test]
fn a_zero_charge_does_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let events = System::events().len();
		assert_eq!(
			charge(ALICE, Some(BOB), 0, ServiceKind::GpuInference),
			Ok(PaymentSplit::default())
		);
		assert_eq!(System::events().len(), events);
		assert_eq!(ServiceTotals::<Test>::get(ServiceKind::GpuInference), ServiceLedger::default());
	});
}

#[test]
fn the_payer_keeps_the_existential_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		// Charlie has 100: 90 can be charged, 91 cannot.
		assert_noop!(
			charge(CHARLIE, Some(BOB), 91, ServiceKind::Other),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			charge(CHARLIE, Some(BOB), 1_000, ServiceKind::GpuInference),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			charge(DAVE, Some(BOB), 1, ServiceKind::GpuInference),
			TokenError::FundsUnavailable
		);
		assert_ok!(charge(CHARLIE, Some(BOB), 90, ServiceKind::Other));
		assert_eq!(native(CHARLIE), ED);
	});
}

#[test]
fn a_provider_that_cannot_receive_fails_the_charge_atomically() {
	ExtBuilder::default().build_and_execute(|| {
		// Dave does not exist; 70 % of 10 is below the existential deposit.
		assert_noop!(
			charge(ALICE, Some(DAVE), 10, ServiceKind::GpuInference),
			Error::<Test>::ProviderCannotReceive
		);
		// A share of at least the existential deposit creates the account.
		let split = charge(ALICE, Some(DAVE), 100, ServiceKind::GpuInference).unwrap();
		assert_eq!(split.provider, 70);
		assert_eq!(native(DAVE), 70);
	});
}

fn charge_held(
	payer: u64,
	provider: Option<u64>,
	amount: u64,
) -> Result<PaymentSplit<u64>, DispatchError> {
	<Tokenomics as ServicePayment<u64, u64>>::charge_held(
		&TestHold::Escrow,
		&payer,
		provider.as_ref(),
		amount,
		ServiceKind::GpuInference,
	)
}

/// Hold `amount` of `who`'s balance in escrow.
fn hold(who: u64, amount: u64) {
	assert_ok!(<Balances as fungible::MutateHold<u64>>::hold(&TestHold::Escrow, &who, amount));
}

/// Attack: a client locks its whole balance (a conviction vote does this), escrow included,
/// so that every charge of its free balance fails and its providers go unpaid. An escrowed
/// payment is charged from the hold itself, which the lock does not stop.
#[test]
fn a_held_payment_is_paid_from_the_hold_whatever_locks_the_payer_set() {
	ExtBuilder::default().build_and_execute(|| {
		hold(ALICE, 5_000);
		<Balances as LockableCurrency<u64>>::set_lock(
			*b"vote_loc",
			&ALICE,
			ALICE_NATIVE,
			WithdrawReasons::all(),
		);
		let (issued, bob, treasury) = (issuance(), native(BOB), native(TREASURY));
		// A charge of the free balance fails: the lock covers all of it.
		assert_noop!(
			charge(ALICE, Some(BOB), 1_000, ServiceKind::GpuInference),
			TokenError::FundsUnavailable
		);

		let split = charge_held(ALICE, Some(BOB), 1_000).unwrap();

		assert_eq!(split, PaymentSplit { burned: 200, provider: 700, treasury: 100 });
		assert_eq!(escrowed(ALICE), 4_000);
		// The free balance is untouched: the payment came from the hold.
		assert_eq!(native(ALICE), ALICE_NATIVE - 5_000);
		assert_eq!(
			<Balances as fungible::Inspect<u64>>::total_balance(&ALICE),
			ALICE_NATIVE - 1_000
		);
		assert_eq!(native(BOB), bob + 700);
		assert_eq!(native(TREASURY), treasury + 100);
		assert_eq!(issuance(), issued - 200);
		assert_eq!(
			ServiceTotals::<Test>::get(ServiceKind::GpuInference),
			ServiceLedger { charged: 1_000, burned: 200, to_providers: 700, to_treasury: 100 }
		);
		assert_eq!(
			last_event(),
			Event::ServiceCharged {
				kind: ServiceKind::GpuInference,
				payer: ALICE,
				provider: Some(BOB),
				amount: 1_000,
				burned: 200,
				to_provider: 700,
				to_treasury: 100,
			}
		);
	});
}

#[test]
fn a_held_payment_of_more_than_is_held_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		hold(ALICE, 500);
		assert_noop!(charge_held(ALICE, Some(BOB), 501), TokenError::FundsUnavailable);
		assert_noop!(charge_held(CHARLIE, Some(BOB), 1), TokenError::FundsUnavailable);
		assert_eq!(escrowed(ALICE), 500);
		// Exactly what is held can be charged; a zero amount charges nothing.
		assert_eq!(charge_held(ALICE, Some(BOB), 0), Ok(PaymentSplit::default()));
		assert_ok!(charge_held(ALICE, Some(BOB), 500));
		assert_eq!(escrowed(ALICE), 0);
	});
}

#[test]
fn a_held_payment_to_a_provider_that_cannot_receive_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		hold(ALICE, 1_000);
		// Dave does not exist; 70 % of 10 is below the existential deposit.
		assert_noop!(charge_held(ALICE, Some(DAVE), 10), Error::<Test>::ProviderCannotReceive);
		assert_eq!(escrowed(ALICE), 1_000);
		// Without a provider its share goes to the treasury.
		let treasury = native(TREASURY);
		let split = charge_held(ALICE, None, 100).unwrap();
		assert_eq!(split, PaymentSplit { burned: 20, provider: 0, treasury: 80 });
		assert_eq!(native(TREASURY), treasury + 80);
	});
}

#[test]
fn a_treasury_that_cannot_receive_has_its_share_burned() {
	ExtBuilder::default().build_and_execute(|| {
		// Reap the treasury account.
		<Balances as frame_support::traits::fungible::Mutate<u64>>::set_balance(&TREASURY, 0);
		assert!(!System::account_exists(&TREASURY));
		let issued = issuance();

		// 10 % of 50 is below the existential deposit: burned instead.
		let split = charge(ALICE, Some(BOB), 50, ServiceKind::GpuInference).unwrap();

		assert_eq!(split, PaymentSplit { burned: 15, provider: 35, treasury: 0 });
		assert_eq!(issuance(), issued - 15);
		assert_eq!(native(TREASURY), 0);
		assert_eq!(
			ServiceTotals::<Test>::get(ServiceKind::GpuInference),
			ServiceLedger { charged: 50, burned: 15, to_providers: 35, to_treasury: 0 }
		);
	});
}

#[test]
fn paying_oneself_as_provider_works() {
	ExtBuilder::default().build_and_execute(|| {
		let issued = issuance();
		let split = charge(ALICE, Some(ALICE), 1_000, ServiceKind::GpuInference).unwrap();
		assert_eq!(split.total(), 1_000);
		assert_eq!(native(ALICE), ALICE_NATIVE - 1_000 + 700);
		assert_eq!(issuance(), issued - 200);
	});
}

#[test]
fn rates_set_by_governance_apply_to_the_next_charge() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Tokenomics::set_service_rates(
			RuntimeOrigin::root(),
			ServiceKind::Other,
			SplitRates::new(Perbill::from_percent(100), Perbill::zero())
		));
		let issued = issuance();
		let split = charge(ALICE, Some(BOB), 1_000, ServiceKind::Other).unwrap();
		assert_eq!(split, PaymentSplit { burned: 1_000, provider: 0, treasury: 0 });
		assert_eq!(issuance(), issued - 1_000);
	});
}
