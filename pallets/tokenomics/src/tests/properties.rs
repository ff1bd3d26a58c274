//! Conservation properties over many pseudo-random cases: every split gives back exactly the
//! amount split, and every payment moves exactly what it reports.
//!
//! The cases come from a fixed-seed xorshift generator, so failures reproduce.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{
		fungible::Balanced,
		tokens::{Fortitude, Precision, Preservation},
		OnUnbalanced,
	},
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, DispatchError, Perbill, Rounding,
};

/// xorshift64*: small, fast and good enough to spread test cases.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// A number in `0..bound`.
	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound
	}

	/// Valid split rates, often at the edges (zero, all, exactly 100 % together).
	fn rates(&mut self) -> SplitRates {
		let whole = Perbill::one().deconstruct();
		let burn = match self.below(4) {
			0 => 0,
			1 => whole,
			_ => self.below(u64::from(whole) + 1) as u32,
		};
		let left = whole - burn;
		let treasury = match self.below(4) {
			0 => 0,
			1 => left,
			_ => self.below(u64::from(left) + 1) as u32,
		};
		SplitRates::new(Perbill::from_parts(burn), Perbill::from_parts(treasury))
	}

	/// An amount of any magnitude up to `u128::MAX`.
	fn amount(&mut self) -> u128 {
		let wide = (u128::from(self.next()) << 64) | u128::from(self.next());
		wide >> self.below(128)
	}
}

#[test]
fn every_split_conserves_the_amount_and_rounds_down() {
	ExtBuilder::default().build_and_execute(|| {
		let mut rng = Rng(0x5eed_0001);
		let whole = u128::from(Perbill::one().deconstruct());
		for _ in 0..200_000 {
			let rates = rng.rates();
			let amount = rng.amount();
			let shares = rates.split(amount);

			let total = shares
				.burn
				.checked_add(shares.treasury)
				.and_then(|s| s.checked_add(shares.rest));
			assert_eq!(total, Some(amount), "{rates:?} split {amount} into {shares:?}");
			let floor = |share: Perbill| {
				multiply_by_rational_with_rounding(
					amount,
					u128::from(share.deconstruct()),
					whole,
					Rounding::Down,
				)
				.unwrap()
			};
			assert_eq!(shares.burn, floor(rates.burn), "{rates:?} {amount}");
			assert_eq!(shares.treasury, floor(rates.treasury), "{rates:?} {amount}");
		}
	});
}

#[test]
fn every_charge_conserves_value_and_burns_what_it_reports() {
	ExtBuilder::default().build_and_execute(|| {
		let mut rng = Rng(0x5eed_0002);
		let providers = [Some(BOB), Some(AUTHOR), Some(DAVE), None];
		let mut expected = [ServiceLedger::<u64>::default(); 4];

		for case in 0..5_000 {
			let kind = ServiceKind::ALL[case % ServiceKind::ALL.len()];
			let kind_index = case % ServiceKind::ALL.len();
			if rng.below(8) == 0 {
				assert_ok!(Tokenomics::set_service_rates(RuntimeOrigin::root(), kind, rng.rates()));
			}
			let provider = providers[rng.below(providers.len() as u64) as usize];
			let amount = match rng.below(4) {
				0 => rng.below(30),
				_ => rng.below(1_000_000),
			};
			let before = (issuance(), native(ALICE), provider.map(native), native(TREASURY));

			let result = <Tokenomics as ServicePayment<u64, u64>>::charge(
				&ALICE,
				provider.as_ref(),
				amount,
				kind,
			);

			match result {
				Ok(split) => {
					assert_eq!(split.total(), amount, "case {case}");
					assert_eq!(issuance(), before.0 - split.burned, "case {case}");
					assert_eq!(native(ALICE), before.1 - amount, "case {case}");
					if let Some(provider) = provider {
						assert_eq!(Some(native(provider)), before.2.map(|b| b + split.provider));
					} else {
						assert_eq!(split.provider, 0);
					}
					assert_eq!(native(TREASURY), before.3 + split.treasury, "case {case}");
					let ledger = &mut expected[kind_index];
					ledger.charged += amount;
					ledger.burned += split.burned;
					ledger.to_providers += split.provider;
					ledger.to_treasury += split.treasury;
				},
				Err(error) => {
					// Only a provider without account may refuse a share below the deposit.
					assert_eq!(error, DispatchError::from(Error::<Test>::ProviderCannotReceive));
					assert_eq!(provider, Some(DAVE));
					assert_eq!(
						(issuance(), native(ALICE), provider.map(native), native(TREASURY)),
						before
					);
				},
			}
			if case % 500 == 0 {
				System::reset_events();
			}
		}
		for (index, kind) in ServiceKind::ALL.into_iter().enumerate() {
			assert_eq!(ServiceTotals::<Test>::get(kind), expected[index]);
		}
	});
}

#[test]
fn every_fee_distribution_conserves_value() {
	ExtBuilder::default().build_and_execute(|| {
		let mut rng = Rng(0x5eed_0003);
		let authors = [Some(AUTHOR), Some(DAVE), None];

		for case in 0..3_000 {
			if rng.below(8) == 0 {
				assert_ok!(Tokenomics::set_fee_split(RuntimeOrigin::root(), rng.rates()));
			}
			let author = authors[rng.below(authors.len() as u64) as usize];
			BlockAuthorAccount::set(author);
			let (fee, tip) = (rng.below(100_000), rng.below(4) * rng.below(1_000));
			let withdraw = |amount| {
				<Balances as Balanced<u64>>::withdraw(
					&ALICE,
					amount,
					Precision::Exact,
					Preservation::Preserve,
					Fortitude::Polite,
				)
				.unwrap()
			};
			let credits = [withdraw(fee), withdraw(tip)];
			let before_totals = FeeTotals::<Test>::get();
			let before = (issuance(), author.map(native), native(TREASURY));

			DealWithFees::<Test>::on_unbalanceds(credits.into_iter());

			let totals = FeeTotals::<Test>::get();
			let burned = totals.burned - before_totals.burned;
			let to_author = totals.to_authors - before_totals.to_authors;
			let to_treasury = totals.to_treasury - before_totals.to_treasury;
			assert_eq!(burned + to_author + to_treasury, fee + tip, "case {case}");
			assert_eq!(issuance(), before.0 - burned, "case {case}");
			assert_eq!(author.map(native), before.1.map(|b| b + to_author), "case {case}");
			assert_eq!(native(TREASURY), before.2 + to_treasury, "case {case}");
			if author.is_none() {
				assert_eq!(to_author, 0);
			}
			if case % 500 == 0 {
				System::reset_events();
			}
		}
	});
}
