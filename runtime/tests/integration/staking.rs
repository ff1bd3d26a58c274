//! NPoS: session and era rotation, elections, rewards and slashing through offences.

use crate::chain::{active_era, signed, total_issuance, TestChain};
use dsync_runtime::{
	configs::staking::{SessionsPerEra, SlashDeferDuration},
	genesis_config_presets::{LOCAL_TESTNET, NOMINATOR_BOND, VALIDATOR_BOND},
	Offences, Runtime, RuntimeCall, RuntimeOrigin, Session, Staking,
};
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::Perbill;
use sp_staking::offence::ReportOffence;

fn validators() -> Vec<dsync_primitives::AccountId> {
	Session::validators()
}

#[test]
fn sessions_and_eras_rotate_and_the_bonded_validators_are_elected() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let four: Vec<_> = [Alice, Bob, Charlie, Dave].iter().map(|k| k.to_account_id()).collect();
	chain.execute(|| {
		assert_eq!(Session::current_index(), 0);
		assert_eq!(active_era(), 0);
	});

	// Sessions rotate with BABE epochs.
	chain.run_to_session(3);
	chain.execute(|| {
		assert_eq!(Session::current_index(), 3);
		assert_eq!(active_era(), 0);
	});

	// An era is `SessionsPerEra` sessions; the election at its end picks the bonded validators.
	chain.run_to_era(1);
	chain.execute(|| {
		assert_eq!(Session::current_index(), SessionsPerEra::get());
		let mut elected: Vec<_> = pallet_staking::ErasStakersOverview::<Runtime>::iter_prefix(1)
			.map(|(v, _)| v)
			.collect();
		elected.sort();
		let mut expected = four.clone();
		expected.sort();
		assert_eq!(elected, expected);
		let mut active = validators();
		active.sort();
		assert_eq!(active, expected);
		// Era 0 was paid out: a positive validator reward was recorded (inflation).
		assert!(pallet_staking::ErasValidatorReward::<Runtime>::get(0).unwrap_or(0) > 0);
		// Each validator is backed by its own bond and a share of the nominations.
		let overview =
			pallet_staking::ErasStakersOverview::<Runtime>::get(1, Alice.to_account_id())
				.expect("Alice is exposed");
		// Stakes pass through the election as u64 vote weights, so the exposure is the bond up to
		// that rounding (at most one part in 10^9 here).
		assert!(overview.own <= VALIDATOR_BOND);
		assert!(VALIDATOR_BOND - overview.own < VALIDATOR_BOND / 1_000_000_000);
		assert!(overview.total > VALIDATOR_BOND);
	});

	// Dave stops validating: the next election drops him, the others stay.
	let chill =
		chain.execute(|| signed(Dave, RuntimeCall::Staking(pallet_staking::Call::chill {})));
	assert_eq!(chain.next_block(vec![chill]), vec![Ok(Ok(()))]);
	chain.run_to_era(3);
	chain.execute(|| {
		let active = validators();
		assert_eq!(active.len(), 3);
		assert!(!active.contains(&Dave.to_account_id()));
		assert!(
			pallet_staking::ErasStakersOverview::<Runtime>::get(3, Dave.to_account_id()).is_none()
		);
	});
}

#[test]
fn an_equivocation_offence_slashes_the_offender_and_its_nominators() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	chain.run_to_era(1);
	let charlie = Charlie.to_account_id();
	let issuance_before = chain.execute(total_issuance);
	// What Charlie had at stake in era 1: slashes are taken from the exposure.
	let exposed_own = chain.execute(|| {
		pallet_staking::ErasStakersOverview::<Runtime>::get(1, &charlie)
			.expect("exposed")
			.own
	});

	// Charlie equivocated (produced two blocks in one slot) in the current session.
	chain.execute(|| {
		let offence = pallet_babe::EquivocationOffence {
			slot: pallet_babe::CurrentSlot::<Runtime>::get(),
			session_index: Session::current_index(),
			validator_set_count: Session::validators().len() as u32,
			offender: (charlie.clone(), ()),
		};
		Offences::report_offence(vec![Alice.to_account_id()], offence).expect("the offence is new");
	});
	let events = chain.events();
	assert!(events.iter().any(|e| matches!(
		e,
		dsync_runtime::RuntimeEvent::Offences(pallet_offences::Event::Offence { .. })
	)));

	assert!(events.iter().any(|e| matches!(
		e,
		dsync_runtime::RuntimeEvent::Staking(pallet_staking::Event::SlashReported {
			validator, slash_era: 1, ..
		}) if *validator == charlie
	)));

	// The slash is deferred: nothing is taken yet; it waits in the unapplied queue for the era
	// `SlashDeferDuration` eras after the next one.
	let slash_era = 1 + SlashDeferDuration::get() + 1;
	chain.execute(|| {
		let ledger = pallet_staking::Ledger::<Runtime>::get(&charlie).unwrap();
		assert_eq!(ledger.active, VALIDATOR_BOND);
		assert_eq!(pallet_staking::UnappliedSlashes::<Runtime>::get(slash_era).len(), 1);
	});

	// Let eras pass quickly (a new era every session) until the slash is applied.
	chain.execute(|| Staking::force_new_era_always(RuntimeOrigin::root()).unwrap());
	chain.run_to_era(slash_era - 1);
	chain.execute(|| {
		let ledger = pallet_staking::Ledger::<Runtime>::get(&charlie).unwrap();
		assert_eq!(ledger.active, VALIDATOR_BOND, "not applied before its era");
	});
	chain.run_to_era(slash_era);

	// One offender among four validators: (3 × 1 / 4)² = 56.25 % of the exposed stake.
	let fraction = Perbill::from_rational(9u32, 16u32);
	chain.execute(|| {
		let ledger = pallet_staking::Ledger::<Runtime>::get(&charlie).unwrap();
		assert_eq!(ledger.active, VALIDATOR_BOND - fraction * exposed_own);
		// Nominators backing Charlie lose the same share of what they had exposed to him.
		let mut slashed = VALIDATOR_BOND - ledger.active;
		for nominator in [Eve, Ferdie] {
			let ledger = pallet_staking::Ledger::<Runtime>::get(nominator.to_account_id()).unwrap();
			assert!(ledger.active < NOMINATOR_BOND, "nominators of the offender are slashed");
			slashed += NOMINATOR_BOND - ledger.active;
		}
		// Slashed funds are burned (no rewards were claimed, no fees paid meanwhile).
		assert_eq!(total_issuance(), issuance_before - slashed);
		// A validator that did nothing wrong keeps its bond.
		let alice = pallet_staking::Ledger::<Runtime>::get(Alice.to_account_id()).unwrap();
		assert_eq!(alice.active, VALIDATOR_BOND);
	});
}
