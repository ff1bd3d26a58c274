//! Governance across pallets: referenda on every track, decided by conviction votes of the
//! `local_testnet` holders (no sudo) and enacted by the scheduler with the track's origin.
//!
//! The chains here are `local_testnet` with the fast governance timing of the development preset
//! (prepare 1 block, decision 20, confirm 2, enactment 1), so each referendum takes ~25 blocks.
//! Alice, Bob, Charlie and Dave hold 99,000,000 DSYNC each: 39.6 % of the active issuance, enough
//! support on every track once the support curve has fallen below it.

use crate::chain::{free, genesis_config, signed, TestChain};
use codec::Encode;
use dsync_primitives::{currency::DSYNC, AccountId, Balance};
use dsync_runtime::{
	constants::TreasuryAccount,
	genesis_config_presets::{DEVELOPMENT, LOCAL_TESTNET},
	governance::{
		origins::{self, Timing, BIG_SPEND, MEDIUM_SPEND, SMALL_SPEND},
		tracks,
	},
	BalancesCall, OriginCaller, Runtime, RuntimeCall, RuntimeEvent, System,
};
use frame_support::traits::{schedule::DispatchTime, Bounded, Currency as _};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::{ReferendumInfo, ReferendumInfoFor, TracksInfo as _};
use pallet_tokenomics::SplitRates;
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{traits::Hash as _, DispatchError, ModuleError, MultiAddress, Perbill};

/// The holders who vote a referendum through.
const VOTERS: [Sr25519Keyring; 4] = [Alice, Bob, Charlie, Dave];
/// Enough blocks for any referendum to be decided and enacted with fast timing.
const DECIDE_WITHIN: u32 = 40;

/// `local_testnet` (no sudo key) with fast governance timing.
fn governed_chain() -> TestChain {
	let mut config = genesis_config(LOCAL_TESTNET);
	assert_eq!(config.sudo.key, None, "local_testnet has no sudo key");
	config.origins.timing = Timing::Fast;
	TestChain::from_config(config)
}

/// Submit `call` from `who` in its own block; the dispatch result.
fn try_run(
	chain: &mut TestChain,
	who: Sr25519Keyring,
	call: RuntimeCall,
) -> Result<(), DispatchError> {
	let xt = chain.execute(|| signed(who, call));
	let results = chain.next_block(vec![xt]);
	assert_eq!(results.len(), 1);
	results[0].expect("the transaction is valid")
}

/// Submit `call` from `who` in its own block and require success.
fn run(chain: &mut TestChain, who: Sr25519Keyring, call: RuntimeCall) {
	try_run(chain, who, call).expect("the call succeeds");
}

/// Alice notes `call` as a preimage (as Polkadot.js apps does) and submits it as a referendum
/// with `origin`, then places its decision deposit; the referendum's index.
pub(crate) fn propose(chain: &mut TestChain, origin: OriginCaller, call: RuntimeCall) -> u32 {
	let encoded = call.encode();
	let hash = <Runtime as frame_system::Config>::Hashing::hash(&encoded);
	run(
		chain,
		Alice,
		RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes: encoded.clone() }),
	);
	let index = chain.execute(pallet_referenda::ReferendumCount::<Runtime>::get);
	run(
		chain,
		Alice,
		RuntimeCall::Referenda(pallet_referenda::Call::submit {
			proposal_origin: Box::new(origin),
			proposal: Bounded::Lookup { hash, len: encoded.len() as u32 },
			enactment_moment: DispatchTime::After(0),
		}),
	);
	run(
		chain,
		Alice,
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index }),
	);
	index
}

/// `who` votes on referendum `index`.
fn vote(
	chain: &mut TestChain,
	who: Sr25519Keyring,
	index: u32,
	aye: bool,
	balance: Balance,
	conviction: Conviction,
) -> Result<(), DispatchError> {
	try_run(
		chain,
		who,
		RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
			poll_index: index,
			vote: AccountVote::Standard { vote: Vote { aye, conviction }, balance },
		}),
	)
}

/// All four validators' owners vote aye with 98,000,000 DSYNC each, without conviction, in one
/// block (on tracks with low support thresholds two votes would already decide).
pub(crate) fn vote_through(chain: &mut TestChain, index: u32) {
	let votes = chain.execute(|| {
		VOTERS
			.iter()
			.map(|who| {
				signed(
					*who,
					RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
						poll_index: index,
						vote: AccountVote::Standard {
							vote: Vote { aye: true, conviction: Conviction::None },
							balance: 98_000_000 * DSYNC,
						},
					}),
				)
			})
			.collect()
	});
	assert_eq!(chain.next_block(votes), vec![Ok(Ok(())); VOTERS.len()], "the votes count");
}

/// Produce blocks until referendum `index` is no longer ongoing, then the blocks its enactment
/// needs (the fast timing's minimum enactment period is 1 block); the events of all those blocks.
/// Panics if it is still ongoing after [`DECIDE_WITHIN`] blocks.
pub(crate) fn decide(chain: &mut TestChain, index: u32) -> Vec<RuntimeEvent> {
	let mut events = Vec::new();
	for _ in 0..DECIDE_WITHIN {
		chain.next_block(vec![]);
		events.extend(chain.events());
		let ongoing = chain.execute(|| {
			matches!(ReferendumInfoFor::<Runtime>::get(index), Some(ReferendumInfo::Ongoing(_)))
		});
		if !ongoing {
			for _ in 0..2 {
				chain.next_block(vec![]);
				events.extend(chain.events());
			}
			return events;
		}
	}
	panic!("referendum {index} was not decided within {DECIDE_WITHIN} blocks");
}

/// How referendum `index` ended.
fn outcome(chain: &mut TestChain, index: u32) -> &'static str {
	chain.execute(|| match ReferendumInfoFor::<Runtime>::get(index) {
		Some(ReferendumInfo::Approved(..)) => "approved",
		Some(ReferendumInfo::Rejected(..)) => "rejected",
		Some(ReferendumInfo::Cancelled(..)) => "cancelled",
		Some(ReferendumInfo::TimedOut(..)) => "timed out",
		Some(ReferendumInfo::Killed(..)) => "killed",
		Some(ReferendumInfo::Ongoing(..)) => "ongoing",
		None => "unknown",
	})
}

/// The results of the enacted proposals among `events`: the scheduler's named tasks (the
/// referenda's own alarms are anonymous), module errors without their (not stored) message.
fn enactments(events: &[RuntimeEvent]) -> Vec<Result<(), DispatchError>> {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched {
				id: Some(_),
				result,
				..
			}) => Some(result.map_err(without_message)),
			_ => None,
		})
		.collect()
}

/// `error` as it is stored in an event: a module error's message is not encoded.
fn without_message(error: DispatchError) -> DispatchError {
	match error {
		DispatchError::Module(e) => DispatchError::Module(ModuleError { message: None, ..e }),
		other => other,
	}
}

/// A pallet error as an enactment failure in [`enactments`].
fn failed(error: impl Into<DispatchError>) -> Result<(), DispatchError> {
	Err(without_message(error.into()))
}

/// Whether a runtime upgrade is authorised (`System::authorize_upgrade` ran).
fn upgrade_authorized() -> bool {
	frame_system::Pallet::<Runtime>::authorized_upgrade().is_some()
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

fn fee_split(chain: &mut TestChain) -> SplitRates {
	chain.execute(pallet_tokenomics::FeeSplit::<Runtime>::get)
}

/// The GPU model registered at genesis and its price floor.
fn genesis_model(chain: &mut TestChain) -> (u32, Balance) {
	chain.execute(|| {
		let (id, record) = pallet_gpu_jobs::Models::<Runtime>::iter().next().expect("a model");
		(id, record.price_floor)
	})
}

/// A case of the per-track test: what to prepare, the origin, its call, and a check of the
/// call's effect.
struct TrackCase {
	track: u16,
	setup: fn(&mut TestChain),
	origin: OriginCaller,
	call: RuntimeCall,
	enacted: fn(&mut TestChain) -> bool,
}

/// Nothing to prepare.
fn no_setup(_: &mut TestChain) {}

/// An ongoing `parameter_admin` referendum (index 0), for the canceller and killer tracks.
fn target_referendum(chain: &mut TestChain) {
	let index = propose(
		chain,
		OriginCaller::Origins(origins::Origin::ParameterAdmin),
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split {
			rates: SplitRates { burn: Perbill::from_percent(33), treasury: Perbill::zero() },
		}),
	);
	assert_eq!(index, 0);
}

fn track_cases(chain: &mut TestChain) -> Vec<TrackCase> {
	let new_split =
		SplitRates { burn: Perbill::from_percent(60), treasury: Perbill::from_percent(10) };
	let (model, _) = genesis_model(chain);
	let spend = |amount: Balance| {
		RuntimeCall::Treasury(pallet_treasury::Call::spend {
			asset_kind: Box::new(()),
			amount,
			beneficiary: Box::new(MultiAddress::Id(account(Ferdie))),
			valid_from: None,
		})
	};
	let code_hash = sp_core::H256::repeat_byte(7);
	vec![
		TrackCase {
			track: tracks::ROOT,
			setup: no_setup,
			origin: OriginCaller::system(frame_system::RawOrigin::Root),
			call: RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash }),
			enacted: |chain| chain.execute(upgrade_authorized),
		},
		TrackCase {
			track: tracks::PARAMETER_ADMIN,
			setup: no_setup,
			origin: OriginCaller::Origins(origins::Origin::ParameterAdmin),
			call: RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split {
				rates: new_split,
			}),
			enacted: |chain| fee_split(chain).burn == Perbill::from_percent(60),
		},
		TrackCase {
			track: tracks::NETWORK_ADMIN,
			setup: no_setup,
			origin: OriginCaller::Origins(origins::Origin::NetworkAdmin),
			call: RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::set_price_floor {
				model,
				price_floor: 7 * DSYNC,
			}),
			enacted: |chain| genesis_model(chain).1 == 7 * DSYNC,
		},
		TrackCase {
			track: tracks::REFERENDUM_CANCELLER,
			setup: target_referendum,
			origin: OriginCaller::Origins(origins::Origin::ReferendumCanceller),
			call: RuntimeCall::Referenda(pallet_referenda::Call::cancel { index: 0 }),
			enacted: |chain| outcome(chain, 0) == "cancelled",
		},
		TrackCase {
			track: tracks::REFERENDUM_KILLER,
			setup: target_referendum,
			origin: OriginCaller::Origins(origins::Origin::ReferendumKiller),
			call: RuntimeCall::Referenda(pallet_referenda::Call::kill { index: 0 }),
			enacted: |chain| outcome(chain, 0) == "killed",
		},
		TrackCase {
			track: tracks::SMALL_SPENDER,
			setup: no_setup,
			origin: OriginCaller::Origins(origins::Origin::SmallSpender),
			call: spend(SMALL_SPEND),
			enacted: |chain| {
				chain.execute(|| pallet_treasury::Spends::<Runtime>::iter().count() == 1)
			},
		},
		TrackCase {
			track: tracks::MEDIUM_SPENDER,
			setup: no_setup,
			origin: OriginCaller::Origins(origins::Origin::MediumSpender),
			call: spend(MEDIUM_SPEND),
			enacted: |chain| {
				chain.execute(|| pallet_treasury::Spends::<Runtime>::iter().count() == 1)
			},
		},
		TrackCase {
			track: tracks::BIG_SPENDER,
			setup: no_setup,
			origin: OriginCaller::Origins(origins::Origin::BigSpender),
			call: spend(BIG_SPEND),
			enacted: |chain| {
				chain.execute(|| pallet_treasury::Spends::<Runtime>::iter().count() == 1)
			},
		},
	]
}

#[test]
fn a_referendum_on_each_track_passes_with_support_and_fails_without() {
	let mut chain = governed_chain();
	let mut covered: Vec<u16> = track_cases(&mut chain).iter().map(|case| case.track).collect();
	covered.sort();
	let all: Vec<u16> = chain
		.execute(<Runtime as pallet_referenda::Config>::Tracks::track_ids)
		.collect();
	assert_eq!(covered, all, "one case per track");
	for case in 0..covered.len() {
		// Passes: the four validators' owners vote aye.
		let mut chain = governed_chain();
		let TrackCase { track, setup, origin, call, enacted } =
			track_cases(&mut chain).remove(case);
		setup(&mut chain);
		let index = propose(&mut chain, origin.clone(), call.clone());
		let on_track = chain.execute(|| match ReferendumInfoFor::<Runtime>::get(index) {
			Some(ReferendumInfo::Ongoing(status)) => status.track,
			other => panic!("referendum {index} not ongoing: {other:?}"),
		});
		assert_eq!(on_track, track, "the origin selects the track");
		assert!(!enacted(&mut chain));
		vote_through(&mut chain, index);
		let events = decide(&mut chain, index);
		assert_eq!(outcome(&mut chain, index), "approved", "track {track}");
		assert_eq!(enactments(&events), vec![Ok(())], "track {track}");
		assert!(enacted(&mut chain), "track {track}: the call took effect");

		// Fails: only Eve votes, with 1,000 DSYNC: far below the support curve's floor.
		let mut chain = governed_chain();
		setup(&mut chain);
		let index = propose(&mut chain, origin, call);
		vote(&mut chain, Eve, index, true, 1_000 * DSYNC, Conviction::Locked6x).unwrap();
		let events = decide(&mut chain, index);
		assert_eq!(outcome(&mut chain, index), "rejected", "track {track}");
		assert!(enactments(&events).is_empty(), "track {track}: nothing was enacted");
		assert!(!enacted(&mut chain), "track {track}: nothing changed");
	}
}

#[test]
fn a_fee_split_changed_by_referendum_changes_what_fees_burn() {
	let mut chain = governed_chain();
	let before = fee_split(&mut chain);
	assert_eq!(before.burn, Perbill::from_percent(30));
	let new_split =
		SplitRates { burn: Perbill::from_percent(80), treasury: Perbill::from_percent(20) };
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ParameterAdmin),
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split { rates: new_split }),
	);
	vote_through(&mut chain, index);
	let events = decide(&mut chain, index);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Tokenomics(pallet_tokenomics::Event::FeeSplitSet { rates }) if *rates == new_split
	)));

	// A transfer's fee now burns 80 %: the issuance falls by 80 % of the fee paid.
	let issuance = chain.execute(crate::chain::total_issuance);
	run(
		&mut chain,
		Eve,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: MultiAddress::Id(account(Ferdie)),
			value: DSYNC,
		}),
	);
	let fee = crate::chain::fee_paid(&mut chain);
	let burned = issuance - chain.execute(crate::chain::total_issuance);
	assert_eq!(burned, Perbill::from_percent(80).mul_floor(fee));
}

#[test]
fn conviction_locks_the_vote_until_the_lock_period_has_passed() {
	let mut chain = governed_chain();
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ParameterAdmin),
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split {
			rates: SplitRates {
				burn: Perbill::from_percent(40),
				treasury: Perbill::from_percent(10),
			},
		}),
	);
	vote_through(&mut chain, index);
	// Eve votes 10,000,000 DSYNC with conviction 2x (twice the weight, locked for 2 periods).
	let stake = 10_000_000 * DSYNC;
	vote(&mut chain, Eve, index, true, stake, Conviction::Locked2x).unwrap();
	let lock = |chain: &mut TestChain| {
		chain.execute(|| {
			pallet_balances::Locks::<Runtime>::get(account(Eve))
				.iter()
				.find(|l| l.id == *b"pyconvot")
				.map(|l| l.amount)
		})
	};
	assert_eq!(lock(&mut chain), Some(stake), "the vote locks its balance at once");
	decide(&mut chain, index);
	assert_eq!(outcome(&mut chain, index), "approved");
	let ended = chain.execute(System::block_number);

	// The locked part cannot move: Eve has 98,500,000 free (500,000 bonded), 10,000,000 locked.
	let transfer = |value: Balance| {
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: MultiAddress::Id(account(Ferdie)),
			value,
		})
	};
	assert!(try_run(&mut chain, Eve, transfer(95_000_000 * DSYNC)).is_err());

	// Removing the vote of a won referendum keeps the lock for 2 × 10 blocks after its end;
	// unlocking before that changes nothing.
	run(
		&mut chain,
		Eve,
		RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::remove_vote {
			class: Some(tracks::PARAMETER_ADMIN),
			index,
		}),
	);
	let unlock = RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::unlock {
		class: tracks::PARAMETER_ADMIN,
		target: MultiAddress::Id(account(Eve)),
	});
	run(&mut chain, Eve, unlock.clone());
	assert_eq!(lock(&mut chain), Some(stake), "still locked");
	assert!(try_run(&mut chain, Eve, transfer(95_000_000 * DSYNC)).is_err());

	while chain.execute(System::block_number) <= ended + 2 * 10 {
		chain.next_block(vec![]);
	}
	run(&mut chain, Eve, unlock);
	assert_eq!(lock(&mut chain), None, "unlocked after the conviction's lock period");
	run(&mut chain, Eve, transfer(95_000_000 * DSYNC));
}

#[test]
fn a_treasury_spend_by_referendum_pays_out() {
	let mut chain = governed_chain();
	let amount = 50_000 * DSYNC;
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::SmallSpender),
		RuntimeCall::Treasury(pallet_treasury::Call::spend {
			asset_kind: Box::new(()),
			amount,
			beneficiary: Box::new(MultiAddress::Id(account(Ferdie))),
			valid_from: None,
		}),
	);
	vote_through(&mut chain, index);
	decide(&mut chain, index);
	let spend = chain.execute(|| {
		pallet_treasury::Spends::<Runtime>::iter_keys()
			.next()
			.expect("the spend was approved")
	});
	let ferdie = chain.execute(|| free(&account(Ferdie)));
	let treasury = chain.execute(|| free(&TreasuryAccount::get()));

	// Anyone (here Eve) claims the payout.
	run(&mut chain, Eve, RuntimeCall::Treasury(pallet_treasury::Call::payout { index: spend }));
	assert_eq!(chain.execute(|| free(&account(Ferdie))), ferdie + amount);
	// The treasury paid the amount and received its share of Eve's fee in the same block.
	let after = chain.execute(|| free(&TreasuryAccount::get()));
	assert!(after < treasury && treasury - after <= amount, "paid from the treasury");
	run(
		&mut chain,
		Eve,
		RuntimeCall::Treasury(pallet_treasury::Call::check_status { index: spend }),
	);
	assert!(chain.events().iter().any(|e| matches!(
		e,
		RuntimeEvent::Treasury(pallet_treasury::Event::SpendProcessed { index }) if *index == spend
	)));
	assert_eq!(chain.execute(|| pallet_treasury::Spends::<Runtime>::iter().count()), 0);
}

#[test]
fn a_spend_above_the_track_cap_is_refused_when_enacted() {
	let mut chain = governed_chain();
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::SmallSpender),
		RuntimeCall::Treasury(pallet_treasury::Call::spend {
			asset_kind: Box::new(()),
			amount: SMALL_SPEND + 1,
			beneficiary: Box::new(MultiAddress::Id(account(Ferdie))),
			valid_from: None,
		}),
	);
	vote_through(&mut chain, index);
	let events = decide(&mut chain, index);
	assert_eq!(outcome(&mut chain, index), "approved");
	assert_eq!(
		enactments(&events),
		vec![failed(pallet_treasury::Error::<Runtime>::InsufficientPermission)]
	);
	assert_eq!(chain.execute(|| pallet_treasury::Spends::<Runtime>::iter().count()), 0);
}

#[test]
fn the_canceller_track_cancels_and_the_killer_track_kills() {
	let mut chain = governed_chain();
	let split = |burn| {
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split {
			rates: SplitRates { burn: Perbill::from_percent(burn), treasury: Perbill::zero() },
		})
	};
	let parameter_admin = OriginCaller::Origins(origins::Origin::ParameterAdmin);
	let doomed = propose(&mut chain, parameter_admin.clone(), split(41));

	// Cancel: a `referendum_canceller` referendum stops `doomed`; its deposits stay refundable.
	let canceller = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ReferendumCanceller),
		RuntimeCall::Referenda(pallet_referenda::Call::cancel { index: doomed }),
	);
	vote_through(&mut chain, canceller);
	decide(&mut chain, canceller);
	assert_eq!(outcome(&mut chain, canceller), "approved");
	assert_eq!(outcome(&mut chain, doomed), "cancelled");
	run(
		&mut chain,
		Bob,
		RuntimeCall::Referenda(pallet_referenda::Call::refund_decision_deposit { index: doomed }),
	);
	assert_eq!(fee_split(&mut chain).burn, Perbill::from_percent(30), "never enacted");

	// Kill: a `referendum_killer` referendum stops `victim` and slashes its deposits to the
	// treasury.
	let victim = propose(&mut chain, parameter_admin, split(42));
	let deposits = 10 * DSYNC + 10_000 * DSYNC;
	let killer = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ReferendumKiller),
		RuntimeCall::Referenda(pallet_referenda::Call::kill { index: victim }),
	);
	vote_through(&mut chain, killer);
	let treasury = chain.execute(|| free(&TreasuryAccount::get()));
	let events = decide(&mut chain, killer);
	assert_eq!(outcome(&mut chain, victim), "killed");
	let slashed: Balance = events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Referenda(pallet_referenda::Event::DepositSlashed { who, amount })
				if *who == account(Alice) =>
			{
				Some(*amount)
			},
			_ => None,
		})
		.sum();
	assert_eq!(slashed, deposits, "submission and decision deposits slashed");
	assert!(chain.execute(|| free(&TreasuryAccount::get())) >= treasury + deposits);
	assert_eq!(fee_split(&mut chain).burn, Perbill::from_percent(30), "never enacted");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
	let mut chain = governed_chain();
	let split = SplitRates { burn: Perbill::from_percent(90), treasury: Perbill::from_percent(20) };
	let set_split =
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split { rates: split });

	// A parameter setter called directly by an account: BadOrigin.
	assert_eq!(try_run(&mut chain, Alice, set_split.clone()), Err(DispatchError::BadOrigin));

	// A proposal whose origin has no track (a plain account): NoTrack, no deposit taken.
	let call = set_split.encode();
	let hash = <Runtime as frame_system::Config>::Hashing::hash(&call);
	let reserved =
		chain.execute(|| pallet_balances::Pallet::<Runtime>::reserved_balance(account(Bob)));
	let count = chain.execute(pallet_referenda::ReferendumCount::<Runtime>::get);
	assert_eq!(
		try_run(
			&mut chain,
			Bob,
			RuntimeCall::Referenda(pallet_referenda::Call::submit {
				proposal_origin: Box::new(OriginCaller::system(frame_system::RawOrigin::Signed(
					account(Bob)
				))),
				proposal: Bounded::Lookup { hash, len: call.len() as u32 },
				enactment_moment: DispatchTime::After(0),
			}),
		),
		Err(pallet_referenda::Error::<Runtime>::NoTrack.into())
	);
	assert_eq!(chain.execute(pallet_referenda::ReferendumCount::<Runtime>::get), count);
	assert_eq!(
		chain.execute(|| pallet_balances::Pallet::<Runtime>::reserved_balance(account(Bob))),
		reserved
	);

	// A parameter outside its bounds (burn + treasury > 100 %), passed by referendum: the
	// enactment fails with the pallet's error and the split stays.
	let before = fee_split(&mut chain);
	let index =
		propose(&mut chain, OriginCaller::Origins(origins::Origin::ParameterAdmin), set_split);
	vote_through(&mut chain, index);
	let events = decide(&mut chain, index);
	assert_eq!(outcome(&mut chain, index), "approved");
	assert_eq!(
		enactments(&events),
		vec![failed(pallet_tokenomics::Error::<Runtime>::SharesAboveOneHundredPercent)]
	);
	assert_eq!(fee_split(&mut chain), before);

	// A root-only call on the wrong track (`parameter_admin`): passes the vote, refused with
	// BadOrigin when enacted; no upgrade is authorised.
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ParameterAdmin),
		RuntimeCall::System(frame_system::Call::authorize_upgrade {
			code_hash: sp_core::H256::repeat_byte(1),
		}),
	);
	vote_through(&mut chain, index);
	let events = decide(&mut chain, index);
	assert_eq!(enactments(&events), vec![Err(DispatchError::BadOrigin)]);
	assert!(!chain.execute(upgrade_authorized));

	// A vote of more than the voter's whole balance: InsufficientFunds, nothing recorded or
	// locked.
	let index = propose(
		&mut chain,
		OriginCaller::Origins(origins::Origin::ParameterAdmin),
		RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split { rates: before }),
	);
	let total = chain.execute(|| pallet_balances::Pallet::<Runtime>::total_balance(&account(Eve)));
	assert_eq!(
		vote(&mut chain, Eve, index, true, total + 1, Conviction::Locked1x),
		Err(pallet_conviction_voting::Error::<Runtime>::InsufficientFunds.into())
	);
	chain.execute(|| {
		assert!(pallet_balances::Locks::<Runtime>::get(account(Eve)).is_empty());
		let tally = match ReferendumInfoFor::<Runtime>::get(index) {
			Some(ReferendumInfo::Ongoing(status)) => status.tally,
			other => panic!("referendum {index} not ongoing: {other:?}"),
		};
		assert_eq!(tally.support, 0);
	});
}

#[test]
fn presets_choose_sudo_and_timing() {
	// Development: Alice is sudo and referenda take blocks.
	let mut dev = TestChain::new(DEVELOPMENT);
	dev.execute(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(account(Alice)));
		assert_eq!(origins::GovernanceTiming::<Runtime>::get(), Timing::Fast);
		let root = <Runtime as pallet_referenda::Config>::Tracks::info(tracks::ROOT).unwrap();
		assert_eq!(root.decision_period, 20);
	});
	// Local testnet: no sudo, standard timing (root decides over 14 days).
	let mut local = TestChain::new(LOCAL_TESTNET);
	local.execute(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_eq!(origins::GovernanceTiming::<Runtime>::get(), Timing::Standard);
		let root = <Runtime as pallet_referenda::Config>::Tracks::info(tracks::ROOT).unwrap();
		assert_eq!(root.decision_period, 14 * dsync_primitives::time::DAYS);
		assert_eq!(
			<Runtime as pallet_referenda::Config>::Tracks::check_integrity(),
			Ok(()),
			"tracks sorted by id"
		);
		let ids: Vec<u16> = <Runtime as pallet_referenda::Config>::Tracks::track_ids().collect();
		assert_eq!(ids, vec![0, 10, 11, 20, 21, 30, 31, 32]);
		// The treasury pallet spends from the account the tokenomics shares are paid into.
		assert_eq!(pallet_treasury::Pallet::<Runtime>::account_id(), TreasuryAccount::get());
	});
}

#[test]
fn a_governance_proxy_may_only_govern() {
	use dsync_runtime::configs::system::ProxyType;
	use frame_support::traits::InstanceFilter;
	let vote = RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
		poll_index: 0,
		vote: AccountVote::Standard {
			vote: Vote { aye: true, conviction: Conviction::None },
			balance: DSYNC,
		},
	});
	let deposit =
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index: 0 });
	let transfer = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: MultiAddress::Id(account(Ferdie)),
		value: DSYNC,
	});
	assert!(ProxyType::Governance.filter(&vote));
	assert!(ProxyType::Governance.filter(&deposit));
	assert!(!ProxyType::Governance.filter(&transfer));
	assert!(ProxyType::Any.is_superset(&ProxyType::Governance));
	assert!(ProxyType::NonTransfer.is_superset(&ProxyType::Governance));
	assert!(!ProxyType::Governance.is_superset(&ProxyType::NonTransfer));
}
