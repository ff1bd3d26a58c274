//! Challenges of a majority result on a job of several items: the walk down the two Merkle
//! trees, the re-execution at the item found, the timeouts and every refusal.

use crate::{mock::*, *};
use dsync_aivm_core::{batch_merkle_root, batch_result_hashes, merkle_level, merkle_proof};
use frame_support::{assert_noop, assert_ok, dispatch::Pays, BoundedVec};
use sp_core::H256;

/// Items of the batch: 9 levels, so two rounds of nodes (7 levels, then 2) and one to
/// re-execute.
pub(super) const ITEMS: usize = 300;
/// The price per provider: the floor is 10 per item.
pub(super) const PRICE: Balance = 5_000;

/// A concluded batch job whose majority (providers 0 and 2) got `wrong_items` wrong and whose
/// minority (provider 1) is right.
pub(super) struct Game {
	pub(super) id: JobId,
	pub(super) drawn: Vec<AccountId>,
	pub(super) inputs: Vec<i8>,
	pub(super) leaves: Vec<[u8; 32]>,
	pub(super) wrong_leaves: Vec<[u8; 32]>,
	pub(super) truth: H256,
	pub(super) wrong: H256,
}

/// The batch's inputs, the true leaves, leaves wrong at some items, and their two roots.
pub(super) type Results = (Vec<i8>, Vec<[u8; 32]>, Vec<[u8; 32]>, H256, H256);

/// The [`Results`] with the leaves wrong at `wrong_items`.
pub(super) fn results(wrong_items: &[usize]) -> Results {
	let inputs = digit_items(ITEMS, 5);
	let leaves = batch_result_hashes(&digit_outputs(&inputs), 10);
	let truth = H256(batch_merkle_root(&leaves));
	let mut wrong_leaves = leaves.clone();
	for item in wrong_items {
		wrong_leaves[*item] = [0xee; 32];
	}
	let wrong = H256(batch_merkle_root(&wrong_leaves));
	(inputs, leaves, wrong_leaves, truth, wrong)
}

impl Game {
	pub(super) fn new(wrong_items: &[usize]) -> Self {
		let (inputs, leaves, wrong_leaves, truth, wrong) = results(wrong_items);
		let id = post(
			&ALICE,
			batch(ITEMS as u32, inputs_root(&inputs, 64), "https://data.example/b.bin"),
			3,
			PRICE,
		);
		let drawn = providers_of(id);
		play(
			id,
			&[(drawn[0].clone(), wrong), (drawn[1].clone(), truth), (drawn[2].clone(), wrong)],
		);
		assert_eq!(last_event(), Event::JobConcluded { job: id, result: wrong, payable_at: 31 });
		Self { id, drawn, inputs, leaves, wrong_leaves, truth, wrong }
	}

	/// A batch job of two providers disputed between a result wrong at `wrong_items`
	/// (provider 0) and the truth (provider 1).
	pub(super) fn dispute(wrong_items: &[usize]) -> Self {
		let (inputs, leaves, wrong_leaves, truth, wrong) = results(wrong_items);
		let id = post(
			&ALICE,
			batch(ITEMS as u32, inputs_root(&inputs, 64), "https://data.example/d.bin"),
			2,
			PRICE,
		);
		let drawn = providers_of(id);
		play(id, &[(drawn[0].clone(), wrong), (drawn[1].clone(), truth)]);
		assert_eq!(last_event(), Event::JobDisputed { job: id, dispute_end: 31 });
		Self { id, drawn, inputs, leaves, wrong_leaves, truth, wrong }
	}

	/// Walk the challenge down to its item, both sides answering every round.
	pub(super) fn walk(&self) {
		while self.challenge().level > 0 {
			assert_ok!(self.answer(self.truth));
			assert_ok!(self.answer(self.wrong));
		}
	}

	/// Bob opens the challenge of the majority by the right minority.
	pub(super) fn open(&self) {
		assert_ok!(GpuJobs::challenge(
			RuntimeOrigin::signed(backer(self.id, self.truth)),
			self.id,
			self.truth
		));
	}

	pub(super) fn challenge(&self) -> Challenge<AccountId, u64> {
		Challenges::<Test>::get(self.id).expect("the job is challenged")
	}

	pub(super) fn leaves_of(&self, result: H256) -> &[[u8; 32]] {
		if result == self.truth {
			&self.leaves
		} else {
			&self.wrong_leaves
		}
	}

	/// `result`'s nodes for the current round.
	pub(super) fn nodes(&self, result: H256) -> Vec<H256> {
		let challenge = self.challenge();
		let (level, first, count) =
			challenge_slice(ITEMS as u32, challenge.level, challenge.position).expect("a round");
		merkle_level(self.leaves_of(result), level)
			.into_iter()
			.skip(first as usize)
			.take(count as usize)
			.map(H256)
			.collect()
	}

	/// Charlie reveals `nodes` for `result`'s side; a success is free.
	pub(super) fn answer_with(&self, result: H256, nodes: Vec<H256>) -> sp_runtime::DispatchResult {
		let info = GpuJobs::reveal_nodes(
			RuntimeOrigin::signed(POOR),
			self.id,
			result,
			BoundedVec::try_from(nodes).expect("at most MaxChallengeNodes"),
		)
		.map_err(|error| error.error)?;
		assert_eq!(info.pays_fee, Pays::No);
		Ok(())
	}

	pub(super) fn answer(&self, result: H256) -> sp_runtime::DispatchResult {
		self.answer_with(result, self.nodes(result))
	}

	/// The batch item `item` with its input proof.
	pub(super) fn item(&self, item: usize) -> BatchItem {
		let input_leaves: Vec<[u8; 32]> = self.inputs.chunks(64).map(input_leaf).collect();
		batch_item(
			self.inputs[item * 64..(item + 1) * 64].to_vec(),
			merkle_proof(&input_leaves, item).expect("in range"),
		)
	}

	/// Bob re-executes `item` of the challenged job.
	pub(super) fn resolve(
		&self,
		item: usize,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		GpuJobs::resolve_by_execution(
			RuntimeOrigin::signed(BOB),
			self.id,
			item as u32,
			Some(self.item(item)),
			BoundedVec::new(),
		)
	}
}

#[test]
fn a_challenge_walks_down_to_the_wrong_item_and_overturns_the_majority() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::new(&[200]);
		game.open();
		// Three rounds of 4 blocks end well before the dispute end: it does not move.
		assert_eq!(
			last_event(),
			Event::ChallengeOpened {
				job: game.id,
				result: game.truth,
				defender: game.wrong,
				by: key_of(&game.drawn[1]),
				round_end: 5,
				dispute_end: 31,
			}
		);
		let job = Jobs::<Test>::get(game.id).unwrap();
		assert_eq!((job.status, job.dispute_end), (JobStatus::Challenged, 31));
		let challenge = game.challenge();
		assert_eq!((challenge.level, challenge.position), (9, 0));
		assert_eq!((challenge.result_node, challenge.defender_node), (game.truth, game.wrong));

		// Round 1: the 75 nodes of level 2. The majority answers first.
		assert_ok!(game.answer(game.wrong));
		assert_eq!(
			last_event(),
			Event::ChallengeAnswered { job: game.id, result: game.wrong, level: 9 }
		);
		next_block();
		assert_ok!(game.answer(game.truth));
		let all = events();
		assert_eq!(
			all[all.len() - 2..],
			[
				Event::ChallengeAnswered { job: game.id, result: game.truth, level: 9 },
				Event::ChallengeNarrowed { job: game.id, level: 2, position: 50, round_end: 9 },
			]
		);
		// Round 2: the 4 items under node 50; the walk ends at item 200.
		assert_ok!(game.answer(game.truth));
		assert_ok!(game.answer(game.wrong));
		assert_eq!(
			last_event(),
			Event::ChallengeNarrowed { job: game.id, level: 0, position: 200, round_end: 13 }
		);
		let challenge = game.challenge();
		assert_eq!(challenge.result_node, H256(game.leaves[200]));
		assert_eq!(challenge.defender_node, H256([0xee; 32]));

		// The re-execution proves the majority wrong: free, and the minority is paid.
		let info = game.resolve(200).expect("the majority is wrong at item 200");
		assert_eq!(info.pays_fee, Pays::No);
		assert!(events().contains(&Event::DisputeResolved {
			job: game.id,
			item: 200,
			expected: H256(game.leaves[200]),
			by: BOB,
		}));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: game.id,
				result: game.truth,
				winners: vec![game.drawn[1].clone()],
				paid: PRICE,
				burned: PRICE / 10,
				refunded: 2 * PRICE,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(game.drawn[0].clone(), PenaltyReason::WrongResult),
				(game.drawn[2].clone(), PenaltyReason::WrongResult),
			]
		);
		assert!(Challenges::<Test>::get(game.id).is_none());
		assert_eq!(held(&ALICE), 0);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - PRICE);
	});
}

#[test]
fn a_challenge_the_majority_survives_proves_the_challenger_wrong() {
	ExtBuilder::default().build_and_execute(|| {
		// The minority is the wrong one here: swap the roles.
		let game = Game::new(&[]);
		let inputs = game.inputs.clone();
		let mut bad = game.leaves.clone();
		bad[7] = [0x11; 32];
		let bad_root = H256(batch_merkle_root(&bad));
		let id = post(
			&ALICE,
			batch(ITEMS as u32, inputs_root(&inputs, 64), "https://data.example/c.bin"),
			3,
			PRICE,
		);
		let drawn = providers_of(id);
		play(
			id,
			&[
				(drawn[0].clone(), game.truth),
				(drawn[1].clone(), bad_root),
				(drawn[2].clone(), game.truth),
			],
		);
		let lying = Game {
			id,
			drawn: drawn.clone(),
			inputs,
			leaves: bad,
			wrong_leaves: game.leaves.clone(),
			truth: bad_root,
			wrong: game.truth,
		};
		lying.open();
		for _ in 0..2 {
			assert_ok!(lying.answer(lying.truth));
			assert_ok!(lying.answer(lying.wrong));
		}
		assert_eq!(lying.challenge().position, 7);
		// The item matches the majority: the challenger's result is proven wrong there (the
		// call is free: it proved something); the majority waits for its dispute end.
		let info = lying.resolve(7).expect("the item decides");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			last_event(),
			Event::ChallengeDecided {
				job: id,
				confirmed: Some(lying.wrong),
				proven_wrong: vec![bad_root],
			}
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Concluded);
		assert!(Challenges::<Test>::get(id).is_none());
		// A result proven wrong never challenges again.
		assert_noop!(
			GpuJobs::challenge(RuntimeOrigin::signed(backer(id, bad_root)), id, bad_root),
			Error::<Test>::ResultEliminated
		);

		// The majority is paid at the dispute end; the challenger penalised as wrong.
		run_to_dispute_end(id);
		assert_eq!(MockSource::penalties(), vec![(drawn[1].clone(), PenaltyReason::WrongResult)]);
		assert!(events().iter().any(|event| matches!(
			event,
			Event::JobSettled { job, result, winners, .. }
				if *job == id
					&& *result == lying.wrong
					&& *winners == vec![drawn[0].clone(), drawn[2].clone()]
		)));
		assert!(Challenges::<Test>::get(id).is_none());
	});
}

/// Finding: a correct majority that missed one round (three blocks on `--dev`) was suspended
/// and slashed as wrong. A missed round is not proof: the majority is not paid and its
/// providers take a miss (`Unanswered`), not a `WrongResult`.
#[test]
fn a_majority_that_misses_a_round_is_not_paid_and_takes_a_miss_not_a_slash() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::new(&[3]);
		game.open();
		assert_ok!(game.answer(game.truth));
		// The round ends at block 5; the majority's answer is refused from then on.
		run_to_block(5);
		assert_noop!(game.answer(game.wrong), Error::<Test>::ChallengeRoundClosed);
		assert!(!game.challenge().challenger_stalled(5));
		// The challenge's round ended: it can be closed, but nothing else stands in the way
		// of the minority (the forfeited majority cannot be paid).
		assert_noop!(
			GpuJobs::challenge(
				RuntimeOrigin::signed(backer(game.id, game.truth)),
				game.id,
				game.truth
			),
			Error::<Test>::NotChallengeable
		);
		run_to_dispute_end(game.id);
		assert!(events().contains(&Event::ChallengeForfeited { job: game.id, result: game.wrong }));
		assert_eq!(
			last_event(),
			Event::JobRefunded {
				job: game.id,
				reason: RefundReason::ChallengeUnanswered,
				refunded: 3 * PRICE,
			}
		);
		// Only the majority is penalised, as a miss: the minority's result was not proven.
		assert_eq!(
			MockSource::penalties(),
			vec![
				(game.drawn[0].clone(), PenaltyReason::Unanswered),
				(game.drawn[2].clone(), PenaltyReason::Unanswered),
			]
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn a_challenger_that_stops_answering_abandons_and_the_majority_is_paid_at_the_new_end() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::new(&[3]);
		// Opened late: the three rounds end after the dispute end, which moves.
		run_to_block(25);
		game.open();
		assert_eq!(
			last_event(),
			Event::ChallengeOpened {
				job: game.id,
				result: game.truth,
				defender: game.wrong,
				by: key_of(&game.drawn[1]),
				round_end: 29,
				dispute_end: 37,
			}
		);
		assert_eq!(Jobs::<Test>::get(game.id).unwrap().dispute_end, 37);
		assert_ok!(game.answer(game.wrong));
		// Not paid at the old dispute end.
		run_to_block(31);
		assert_eq!(Jobs::<Test>::get(game.id).unwrap().status, JobStatus::Challenged);
		assert_noop!(
			GpuJobs::settle(RuntimeOrigin::signed(BOB), game.id),
			Error::<Test>::JobNotDue
		);
		run_to_block(37);
		assert!(events().contains(&Event::ChallengeAbandoned { job: game.id }));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, .. } if result == game.wrong
		));
		assert_eq!(MockSource::penalties(), vec![(game.drawn[1].clone(), PenaltyReason::Dissent)]);
	});
}

#[test]
fn opening_a_challenge_is_refused_with_a_clear_error() {
	ExtBuilder::default().build_and_execute(|| {
		let challenge =
			|id, result| GpuJobs::challenge(RuntimeOrigin::signed(backer(id, result)), id, result);
		assert_noop!(challenge(99, H256::zero()), Error::<Test>::UnknownJob);

		// A one-item job is challenged by re-execution directly.
		let one = post(&ALICE, inline(digit_items(1, 9)), 3, 1_000);
		assert_noop!(challenge(one, H256::zero()), Error::<Test>::OneItemJob);

		// Not concluded: still open. (A dispute among three results is a tournament: see the
		// attack tests.)
		let game = Game::new(&[1]);
		let other = Game::new(&[1]);
		let open = post(&ALICE, inline(digit_items(2, 9)), 3, 1_000);
		assert_noop!(challenge(open, H256::zero()), Error::<Test>::NotChallengeable);

		// The result must be a revealed minority result.
		assert_noop!(challenge(game.id, game.wrong), Error::<Test>::NotAMinorityResult);
		assert_noop!(challenge(game.id, H256::repeat_byte(9)), Error::<Test>::NotAMinorityResult);

		// The new dispute end's queue is full.
		run_to_block(25);
		let full: Vec<JobId> = (1_000..1_000 + MaxExpiriesPerBlock::get() as u64).collect();
		Expiries::<Test>::insert(37, BoundedVec::truncate_from(full));
		assert_noop!(challenge(game.id, game.truth), Error::<Test>::ExpiryQueueFull);
		Expiries::<Test>::remove(37);

		game.open();
		assert_noop!(challenge(game.id, game.truth), Error::<Test>::ChallengeInProgress);

		// After the window.
		System::set_block_number(Jobs::<Test>::get(other.id).unwrap().dispute_end);
		assert_noop!(challenge(other.id, other.truth), Error::<Test>::DisputeClosed);
	});
}

#[test]
fn answers_and_re_executions_are_refused_with_a_clear_error() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::new(&[42]);
		let reveal = |id, result, nodes: Vec<H256>| {
			GpuJobs::reveal_nodes(
				RuntimeOrigin::signed(BOB),
				id,
				result,
				BoundedVec::try_from(nodes).unwrap(),
			)
			.map_err(|error| error.error)
		};
		assert_noop!(reveal(99, game.truth, Vec::new()), Error::<Test>::UnknownJob);
		assert_noop!(reveal(game.id, game.truth, Vec::new()), Error::<Test>::NoChallenge);
		game.open();
		assert_noop!(
			reveal(game.id, H256::repeat_byte(9), game.nodes(game.truth)),
			Error::<Test>::NotInChallenge
		);
		// One node short, one node changed, the other side's nodes.
		let mut short = game.nodes(game.truth);
		short.pop();
		assert_noop!(game.answer_with(game.truth, short), Error::<Test>::InvalidNodes);
		let mut changed = game.nodes(game.truth);
		changed[0] = H256::repeat_byte(1);
		assert_noop!(game.answer_with(game.truth, changed), Error::<Test>::InvalidNodes);
		assert_noop!(
			game.answer_with(game.truth, game.nodes(game.wrong)),
			Error::<Test>::InvalidNodes
		);
		// Re-execution before the item is found.
		assert_noop!(
			game.resolve(42).map_err(|error| error.error),
			Error::<Test>::ChallengeNotAtItem
		);

		assert_ok!(game.answer(game.truth));
		assert_noop!(game.answer(game.truth), Error::<Test>::AlreadyAnswered);
		assert_ok!(game.answer(game.wrong));
		assert_ok!(game.answer(game.wrong));
		assert_ok!(game.answer(game.truth));
		assert_eq!(game.challenge().position, 42);
		// At the item there is nothing more to reveal.
		assert_noop!(game.answer_with(game.truth, Vec::new()), Error::<Test>::ChallengeAtItem);
		// Another item, or claims, are refused.
		assert_noop!(
			game.resolve(41).map_err(|error| error.error),
			Error::<Test>::InvalidItemIndex
		);
		let claims = vec![claim(game.truth, H256(game.leaves[42]), Vec::new())];
		assert_noop!(
			GpuJobs::resolve_by_execution(
				RuntimeOrigin::signed(BOB),
				game.id,
				42,
				Some(game.item(42)),
				BoundedVec::try_from(claims).unwrap(),
			)
			.map_err(|error| error.error),
			Error::<Test>::UnexpectedClaim
		);
		// After the last round nobody re-executed the item: the challenge is closed (the
		// challenger stalled) and the majority can only be challenged directly, with claims.
		run_to_block(game.challenge().round_end);
		assert_noop!(game.resolve(42).map_err(|error| error.error), Error::<Test>::MissingClaim);
	});
}

#[test]
fn challenge_rounds_and_slices_follow_the_tree() {
	assert_eq!(challenge_rounds(2), 2);
	assert_eq!(challenge_rounds(128), 2);
	assert_eq!(challenge_rounds(129), 3);
	assert_eq!(challenge_rounds(16_384), 3);
	assert_eq!(challenge_rounds(1 << 20), 4);
	assert_eq!(challenge_slice(300, 0, 0), None);
	assert_eq!(challenge_slice(300, 9, 0), Some((2, 0, 75)));
	assert_eq!(challenge_slice(300, 2, 74), Some((0, 296, 4)));
	assert_eq!(challenge_slice(300, 2, 75), None);
	assert_eq!(challenge_slice(301, 2, 75), Some((0, 300, 1)));
	assert_eq!(challenge_slice(3, 2, 0), Some((0, 0, 3)));
	assert_eq!(challenge_slice(u32::MAX, 32, 0), Some((25, 0, 128)));
}

// ---------------------------------------------------------------------------------------------
// Disputes between two results of a batch: the same walk, without a majority.

#[test]
fn a_dispute_between_two_batch_results_is_walked_down_and_the_right_one_paid() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::dispute(&[150]);
		// The right side opens it; the other result defends.
		assert_ok!(GpuJobs::challenge(
			RuntimeOrigin::signed(backer(game.id, game.truth)),
			game.id,
			game.truth
		));
		assert!(matches!(
			last_event(),
			Event::ChallengeOpened { result, defender, .. }
				if result == game.truth && defender == game.wrong
		));
		game.walk();
		assert_eq!(game.challenge().position, 150);
		let info = game.resolve(150).expect("the item decides");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: game.id,
				result: game.truth,
				winners: vec![game.drawn[1].clone()],
				paid: PRICE,
				burned: PRICE / 10,
				refunded: PRICE,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![(game.drawn[0].clone(), PenaltyReason::WrongResult)]
		);
	});
}

#[test]
fn a_wrong_result_that_opens_a_dispute_walk_loses_at_the_item() {
	ExtBuilder::default().build_and_execute(|| {
		let game = Game::dispute(&[150]);
		// The wrong side opens it: the item proves the defender right, which is paid.
		assert_ok!(GpuJobs::challenge(
			RuntimeOrigin::signed(backer(game.id, game.wrong)),
			game.id,
			game.wrong
		));
		game.walk();
		assert_ok!(game.resolve(150));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == game.truth && *winners == vec![game.drawn[1].clone()]
		));
		assert_eq!(
			MockSource::penalties(),
			vec![(game.drawn[0].clone(), PenaltyReason::WrongResult)]
		);
	});
}

#[test]
fn a_dispute_walk_ends_by_timeout_in_a_refund() {
	ExtBuilder::default().build_and_execute(|| {
		// The defender does not answer: refunded, the defender penalised with a miss.
		let silent = Game::dispute(&[150]);
		assert_ok!(GpuJobs::challenge(
			RuntimeOrigin::signed(backer(silent.id, silent.truth)),
			silent.id,
			silent.truth
		));
		assert_ok!(silent.answer(silent.truth));
		// The challenger stops: back to a dispute, refunded unresolved, nobody penalised.
		let quiet = Game::dispute(&[7]);
		assert_ok!(GpuJobs::challenge(
			RuntimeOrigin::signed(backer(quiet.id, quiet.truth)),
			quiet.id,
			quiet.truth
		));
		assert_ok!(quiet.answer(quiet.wrong));
		run_to_dispute_end(silent.id);
		let all = events();
		assert!(all.contains(&Event::JobRefunded {
			job: silent.id,
			reason: RefundReason::ChallengeUnanswered,
			refunded: 2 * PRICE,
		}));
		assert!(all.contains(&Event::ChallengeAbandoned { job: quiet.id }));
		assert!(all.contains(&Event::JobRefunded {
			job: quiet.id,
			reason: RefundReason::DisputeUnresolved,
			refunded: 2 * PRICE,
		}));
		assert_eq!(
			MockSource::penalties(),
			vec![(silent.drawn[0].clone(), PenaltyReason::Unanswered)]
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn a_stalled_challenge_gives_way_to_another_minority_result() {
	ExtBuilder::default().build_and_execute(|| {
		let (inputs, leaves, wrong_leaves, truth, wrong) = results(&[200]);
		let garbage = H256::repeat_byte(0x99);
		let id = post(
			&ALICE,
			batch(ITEMS as u32, inputs_root(&inputs, 64), "https://data.example/e.bin"),
			5,
			PRICE,
		);
		let drawn = providers_of(id);
		let results = [wrong, wrong, wrong, truth, garbage];
		let plays: Vec<_> = drawn.iter().cloned().zip(results).collect();
		play(id, &plays);
		let game = Game { id, drawn: drawn.clone(), inputs, leaves, wrong_leaves, truth, wrong };

		// The colluders' fifth provider challenges with its garbage result and never answers;
		// until its round ends, the honest minority must wait.
		assert_ok!(GpuJobs::challenge(RuntimeOrigin::signed(drawn[4].clone()), id, garbage));
		let challenge =
			|result| GpuJobs::challenge(RuntimeOrigin::signed(backer(id, result)), id, result);
		assert_noop!(challenge(truth), Error::<Test>::ChallengeInProgress);
		run_to_block(5);
		assert!(game.challenge().challenger_stalled(5));
		assert_ok!(challenge(truth));
		let all = events();
		assert_eq!(
			all[all.len() - 2..],
			[
				Event::ChallengeAbandoned { job: id },
				Event::ChallengeOpened {
					job: id,
					result: truth,
					defender: wrong,
					by: backer(id, truth),
					round_end: 9,
					dispute_end: 31,
				},
			]
		);

		// The honest challenge walks down to item 200 and overturns the majority.
		game.walk();
		assert_ok!(game.resolve(200));
		assert_eq!(
			last_event(),
			Event::ChallengeDecided { job: id, confirmed: Some(truth), proven_wrong: vec![wrong] }
		);
		// The garbage result was never checked: the job is a dispute between it and the truth,
		// and the stalled garbage cannot challenge again.
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);
		assert_noop!(
			GpuJobs::challenge(RuntimeOrigin::signed(backer(id, garbage)), id, garbage),
			Error::<Test>::ResultStalled
		);
		// The truth walks against it; the garbage side cannot answer (no tree behind it).
		assert_ok!(challenge(truth));
		assert!(matches!(
			last_event(),
			Event::ChallengeOpened { result, defender, .. } if result == truth && defender == garbage
		));
		assert_ok!(game.answer(truth));
		run_to_dispute_end(id);
		assert!(events().contains(&Event::ChallengeForfeited { job: id, result: garbage }));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![drawn[3].clone()]
		));
		// Proven wrong: the three; the unchecked garbage only missed its round.
		let penalised: Vec<_> = MockSource::penalties();
		for liar in [0, 1, 2] {
			assert!(penalised.contains(&(drawn[liar].clone(), PenaltyReason::WrongResult)));
		}
		assert!(penalised.contains(&(drawn[4].clone(), PenaltyReason::Unanswered)));
		assert_eq!(penalised.len(), 4);
	});
}
