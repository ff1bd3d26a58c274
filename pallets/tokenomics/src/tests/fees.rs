//! Transaction fees through `DealWithFees`, as `FungibleAdapter` hands them over.

use crate::{mock::*, *};
use frame_support::traits::{
	fungible::{Balanced, Mutate},
	tokens::{Fortitude, Precision, Preservation},
	OnUnbalanced,
};

/// Withdraw `amount` from `who` as the transaction-payment adapter does.
fn withdraw(who: u64, amount: u64) -> CreditOf<Test> {
	<Balances as Balanced<u64>>::withdraw(
		&who,
		amount,
		Precision::Exact,
		Preservation::Preserve,
		Fortitude::Polite,
	)
	.unwrap()
}

#[test]
fn fees_are_split_and_tips_go_to_the_author() {
	ExtBuilder::default().build_and_execute(|| {
		let (author, treasury) = (native(AUTHOR), native(TREASURY));
		let fee = withdraw(ALICE, 1_000);
		let tip = withdraw(ALICE, 100);
		let issued = issuance();

		DealWithFees::<Test>::on_unbalanceds([fee, tip].into_iter());

		// 50 % burned, 20 % treasury, 30 % author, and the tip to the author.
		assert_eq!(issuance(), issued - 500);
		assert_eq!(native(TREASURY), treasury + 200);
		assert_eq!(native(AUTHOR), author + 300 + 100);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 1_000, tips: 100, burned: 500, to_authors: 400, to_treasury: 200 }
		);
		assert_eq!(
			last_event(),
			Event::FeesDistributed {
				fee: 1_000,
				tip: 100,
				burned: 500,
				author: Some(AUTHOR),
				to_author: 400,
				to_treasury: 200,
			}
		);
	});
}

#[test]
fn a_fee_without_tip_is_split() {
	ExtBuilder::default().build_and_execute(|| {
		let fee = withdraw(ALICE, 999);
		let issued = issuance();

		DealWithFees::<Test>::on_unbalanceds(core::iter::once(fee));

		// 499 burned, 199 treasury, and the rounding dust to the author.
		assert_eq!(issuance(), issued - 499);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 999, tips: 0, burned: 499, to_authors: 301, to_treasury: 199 }
		);
	});
}

#[test]
fn a_single_unbalanced_credit_counts_as_a_fee() {
	ExtBuilder::default().build_and_execute(|| {
		let fee = withdraw(ALICE, 1_000);
		DealWithFees::<Test>::on_unbalanced(fee);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 1_000, tips: 0, burned: 500, to_authors: 300, to_treasury: 200 }
		);
	});
}

#[test]
fn without_author_the_author_share_goes_to_the_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		BlockAuthorAccount::set(None);
		let treasury = native(TREASURY);
		let fee = withdraw(ALICE, 1_000);
		let tip = withdraw(ALICE, 100);

		DealWithFees::<Test>::on_unbalanceds([fee, tip].into_iter());

		assert_eq!(native(TREASURY), treasury + 200 + 300 + 100);
		assert_eq!(
			last_event(),
			Event::FeesDistributed {
				fee: 1_000,
				tip: 100,
				burned: 500,
				author: None,
				to_author: 0,
				to_treasury: 600,
			}
		);
	});
}

#[test]
fn an_author_that_cannot_receive_leaves_its_share_to_the_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		// Dave does not exist and 30 % of 20 is below the existential deposit.
		BlockAuthorAccount::set(Some(DAVE));
		let treasury = native(TREASURY);
		let fee = withdraw(ALICE, 20);

		DealWithFees::<Test>::on_unbalanceds(core::iter::once(fee));

		assert_eq!(native(DAVE), 0);
		assert_eq!(native(TREASURY), treasury + 4 + 6);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 20, tips: 0, burned: 10, to_authors: 0, to_treasury: 10 }
		);
	});
}

#[test]
fn a_treasury_that_cannot_receive_has_its_share_burned() {
	ExtBuilder::default().build_and_execute(|| {
		<Balances as Mutate<u64>>::set_balance(&TREASURY, 0);
		let fee = withdraw(ALICE, 20);
		let issued = issuance();

		DealWithFees::<Test>::on_unbalanceds(core::iter::once(fee));

		// 10 burned, the treasury's 4 burned too, 6 to the author.
		assert_eq!(issuance(), issued - 14);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 20, tips: 0, burned: 14, to_authors: 6, to_treasury: 0 }
		);
	});
}

#[test]
fn nothing_happens_without_fee_or_tip() {
	ExtBuilder::default().build_and_execute(|| {
		let events = System::events().len();
		DealWithFees::<Test>::on_unbalanceds(core::iter::empty());
		DealWithFees::<Test>::on_unbalanceds(
			[CreditOf::<Test>::default(), CreditOf::<Test>::default()].into_iter(),
		);
		assert_eq!(System::events().len(), events);
		assert_eq!(FeeTotals::<Test>::get(), FeeLedger::default());
	});
}

#[test]
fn a_tip_alone_goes_to_the_author() {
	ExtBuilder::default().build_and_execute(|| {
		let author = native(AUTHOR);
		let tip = withdraw(ALICE, 100);
		DealWithFees::<Test>::on_unbalanceds([CreditOf::<Test>::default(), tip].into_iter());
		assert_eq!(native(AUTHOR), author + 100);
		assert_eq!(
			FeeTotals::<Test>::get(),
			FeeLedger { fees: 0, tips: 100, burned: 0, to_authors: 100, to_treasury: 0 }
		);
	});
}

#[test]
fn the_fee_split_set_by_governance_applies() {
	ExtBuilder::default()
		.fee_split(SplitRates::new(sp_runtime::Perbill::one(), sp_runtime::Perbill::zero()))
		.build_and_execute(|| {
			let fee = withdraw(ALICE, 1_000);
			let issued = issuance();
			DealWithFees::<Test>::on_unbalanceds(core::iter::once(fee));
			assert_eq!(issuance(), issued - 1_000);
			assert_eq!(FeeTotals::<Test>::get().burned, 1_000);
		});
}
