//! Attack tests (economic soundness): each performs an attack on the rules of disputes and
//! challenges and asserts that it fails. The runtime's integration tests attack the escrow
//! through real signed extrinsics (`runtime/tests/integration/gpu_jobs.rs`).

use super::challenges::{results, Game, ITEMS, PRICE};
use crate::{mock::*, *};
use dsync_aivm_core::{batch_merkle_root, merkle_level, merkle_proof};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_core::H256;

/// A concluded or disputed batch job whose providers revealed one tree each.
struct Tournament {
	id: JobId,
	drawn: Vec<AccountId>,
	inputs: Vec<i8>,
	/// Each provider's result and its leaves, in draw order.
	trees: Vec<(H256, Vec<[u8; 32]>)>,
}

impl Tournament {
	/// A batch job with one provider per entry of `wrong_at`: provider `i`'s leaves are
	/// wrong (a garbage value of its own) at the items `wrong_at[i]`; an empty list is the
	/// truth.
	fn new(wrong_at: &[&[usize]]) -> Self {
		let (inputs, leaves, _, _, _) = results(&[]);
		let id = post(
			&ALICE,
			batch(ITEMS as u32, inputs_root(&inputs, 64), "https://data.example/t.bin"),
			wrong_at.len() as u8,
			PRICE,
		);
		let drawn = providers_of(id);
		let trees: Vec<(H256, Vec<[u8; 32]>)> = wrong_at
			.iter()
			.enumerate()
			.map(|(i, items)| {
				let mut tree = leaves.clone();
				for item in items.iter() {
					tree[*item] = [0xe0 + i as u8; 32];
				}
				(H256(batch_merkle_root(&tree)), tree)
			})
			.collect();
		let plays: Vec<_> =
			drawn.iter().cloned().zip(trees.iter().map(|(root, _)| *root)).collect();
		play(id, &plays);
		Self { id, drawn, inputs, trees }
	}

	fn root(&self, provider: usize) -> H256 {
		self.trees[provider].0
	}

	fn status(&self) -> JobStatus {
		Jobs::<Test>::get(self.id).expect("the job is open").status
	}

	fn challenge(&self) -> Challenge<AccountId, u64> {
		Challenges::<Test>::get(self.id).expect("the job is challenged")
	}

	/// `result`'s leaf at `item` with its Merkle proof.
	fn claim_at(&self, result: H256, item: usize) -> ResultClaim {
		let (_, leaves) = self.trees.iter().find(|(root, _)| *root == result).expect("a result");
		claim(result, H256(leaves[item]), merkle_proof(leaves, item).expect("in range"))
	}

	/// The settlement paying the first provider (the truth) alone, the other two refunded.
	fn paid_to_the_first(&self) -> Event<Test> {
		Event::JobSettled {
			job: self.id,
			result: self.root(0),
			winners: vec![self.drawn[0].clone()],
			paid: PRICE,
			burned: PRICE / 10,
			refunded: 2 * PRICE,
		}
	}

	/// Open a challenge with `result`.
	fn open(&self, result: H256) -> sp_runtime::DispatchResult {
		GpuJobs::challenge(RuntimeOrigin::signed(backer(self.id, result)), self.id, result)
	}

	/// `result`'s side answers the current round with its tree's nodes.
	fn answer(&self, result: H256) {
		let (_, leaves) = self.trees.iter().find(|(root, _)| *root == result).expect("a result");
		let challenge = self.challenge();
		let (level, first, count) =
			challenge_slice(ITEMS as u32, challenge.level, challenge.position).expect("a round");
		let nodes: Vec<H256> = merkle_level(leaves, level)
			.into_iter()
			.skip(first as usize)
			.take(count as usize)
			.map(H256)
			.collect();
		assert_ok!(GpuJobs::reveal_nodes(
			RuntimeOrigin::signed(POOR),
			self.id,
			result,
			BoundedVec::try_from(nodes).expect("at most MaxChallengeNodes"),
		));
	}

	/// Both sides answer every round down to the item; then Bob re-executes it.
	fn walk_and_resolve(&self) {
		while self.challenge().level > 0 {
			let challenge = self.challenge();
			self.answer(challenge.result);
			self.answer(challenge.defender);
		}
		let item = self.challenge().position as usize;
		let input_leaves: Vec<[u8; 32]> = self.inputs.chunks(64).map(input_leaf).collect();
		let batch_item = batch_item(
			self.inputs[item * 64..(item + 1) * 64].to_vec(),
			merkle_proof(&input_leaves, item).expect("in range"),
		);
		assert_ok!(GpuJobs::resolve_by_execution(
			RuntimeOrigin::signed(BOB),
			self.id,
			item as u32,
			Some(batch_item),
			BoundedVec::new(),
		));
	}
}

/// Finding 4: colluders reveal different garbage, so a batch job has three results and no
/// majority. The walk only knew two results, so the dispute could not be decided: the honest
/// provider went unpaid and the colluders unpunished. Now the honest result walks against
/// each in turn (a tournament) and is paid; each garbage result is proven wrong.
#[test]
fn colluders_revealing_different_garbage_lose_and_the_honest_result_is_paid() {
	ExtBuilder::default().build_and_execute(|| {
		let t = Tournament::new(&[&[], &[10], &[20]]);
		let truth = t.root(0);
		assert_eq!(t.status(), JobStatus::Disputed);

		// The first walk: against the leading other result (one reveal each: the lowest hash).
		assert_ok!(t.open(truth));
		let first = t.challenge().defender;
		assert_eq!(first, t.root(1).min(t.root(2)));
		t.walk_and_resolve();
		assert_eq!(
			last_event(),
			Event::ChallengeDecided {
				job: t.id,
				confirmed: Some(truth),
				proven_wrong: vec![first]
			}
		);
		// One garbage result is left: the dispute goes on, nobody paid yet.
		assert_eq!(t.status(), JobStatus::Disputed);
		assert_noop!(t.open(first), Error::<Test>::ResultEliminated);

		// The second walk decides it: the truth is the only payable result, confirmed.
		assert_ok!(t.open(truth));
		let second = t.challenge().defender;
		assert_eq!(second, t.root(1).max(t.root(2)));
		t.walk_and_resolve();
		assert_eq!(last_event(), t.paid_to_the_first());
		assert_eq!(
			MockSource::penalties(),
			vec![
				(t.drawn[1].clone(), PenaltyReason::WrongResult),
				(t.drawn[2].clone(), PenaltyReason::WrongResult),
			]
		);
		assert_eq!(held(&ALICE), 0);
	});
}

/// Finding 4, the last walk: the honest result walks against each garbage result in turn,
/// and the last garbage side never answers. Its forfeit was recorded only when the challenge
/// was closed (by another challenge, and no other result was left to open one, or at the
/// dispute end), so the job ended refunded `ChallengeUnanswered` with the honest provider
/// unpaid, and a re-execution was refused (`ChallengeRoundClosed`). Now the re-execution
/// closes the stalled challenge first: the honest result, the last standing, is confirmed
/// with its own claim alone and paid at once.
#[test]
fn the_last_liar_going_silent_does_not_keep_the_honest_result_unpaid() {
	ExtBuilder::default().build_and_execute(|| {
		let t = Tournament::new(&[&[], &[10], &[20]]);
		let truth = t.root(0);
		assert_ok!(t.open(truth));
		let first = t.challenge().defender;
		t.walk_and_resolve();
		assert_eq!(t.status(), JobStatus::Disputed);

		// The second walk: the honest side answers its round, the last liar never does.
		assert_ok!(t.open(truth));
		let last = t.challenge().defender;
		t.answer(truth);
		let round_end = t.challenge().round_end;
		let dispute_end = Jobs::<Test>::get(t.id).unwrap().dispute_end;
		run_to_block(round_end);
		assert!(round_end < dispute_end, "the liar stalled before the job's end");

		// Bob's worker holds only its own leaves: its own claim at item 0 is enough.
		let own = t.claim_at(truth, 0);
		// A claim of the forfeited result is not expected: it is out.
		let extra = t.claim_at(last, 0);
		let item = proven_item(&t.inputs, 0);
		assert_noop!(
			resolve(t.id, 0, Some(item.clone()), vec![own.clone(), extra]),
			Error::<Test>::UnexpectedClaim
		);
		assert_ok!(resolve(t.id, 0, Some(item), vec![own]));
		assert!(events().contains(&Event::ChallengeForfeited { job: t.id, result: last }));
		assert_eq!(last_event(), t.paid_to_the_first());
		// The first liar was proven wrong; the silent one only forfeited: a miss.
		let penalty = |i: usize| {
			if t.root(i) == first {
				PenaltyReason::WrongResult
			} else {
				PenaltyReason::Unanswered
			}
		};
		assert_eq!(
			MockSource::penalties(),
			vec![(t.drawn[1].clone(), penalty(1)), (t.drawn[2].clone(), penalty(2))]
		);
		assert!(!Challenges::<Test>::contains_key(t.id));
		assert!(!JobVerdicts::<Test>::contains_key(t.id));
		assert_eq!(held(&ALICE), 0);
	});
}

/// Beyond the findings: anyone could open a challenge with any revealed result. A colluding
/// wrong majority opened the walk for the honest minority's result while that provider's
/// worker was offline, let the round pass, and so stalled the honest result for good: it could
/// never challenge again and the wrong majority was paid. Only a provider of a result (its
/// owner, or its worker's key) may open a challenge with it now.
#[test]
fn nobody_but_its_providers_can_open_a_walk_for_a_result() {
	ExtBuilder::default().build_and_execute(|| {
		// Providers 0 and 2 agree on a result wrong at item 7; provider 1 is right.
		let game = Game::new(&[7]);
		let open_as = |who: &AccountId| {
			GpuJobs::challenge(RuntimeOrigin::signed(who.clone()), game.id, game.truth)
		};
		// The wrong majority's owner, its worker's key, a bystander: refused, nothing stalls.
		for who in [game.drawn[0].clone(), key_of(&game.drawn[2]), BOB] {
			assert_noop!(open_as(&who), Error::<Test>::NotAProviderOfResult);
		}
		assert_eq!(Jobs::<Test>::get(game.id).unwrap().status, JobStatus::Concluded);
		// The honest provider opens it itself, by its owner account or its worker's key.
		assert_ok!(open_as(&game.drawn[1]));
		assert_eq!(game.challenge().result, game.truth);
		assert_eq!(game.challenge().by, game.drawn[1]);
	});
}

/// Finding 2: a colluding minority opened a challenge, let it stall, and opened it again,
/// each time moving the dispute end, so the honest majority was never paid. A result whose
/// challenge stalled can never challenge again, and no challenge moves the dispute end past
/// a hard bound fixed at the first challenge.
#[test]
fn a_stalled_minority_cannot_reopen_and_the_majority_is_paid_in_bounded_time() {
	ExtBuilder::default().build_and_execute(|| {
		let t = Tournament::new(&[&[], &[5], &[]]);
		let (truth, garbage) = (t.root(0), t.root(1));
		assert_eq!(t.status(), JobStatus::Concluded);

		// Opened late, the walk moves the dispute end (31) to the end of its rounds.
		run_to_block(25);
		assert_ok!(t.open(garbage));
		let dispute_end = Jobs::<Test>::get(t.id).unwrap().dispute_end;
		assert_eq!(dispute_end, 37);
		// The bound: 3 walks per result (2 results), 3 rounds of 4 blocks each, after the
		// dispute end the first challenge found (31).
		let verdicts = JobVerdicts::<Test>::get(t.id).expect("opened");
		assert_eq!(verdicts.latest_end, 31 + 3 * 2 * 3 * 4);
		// The garbage side never answers; the round ends.
		run_to_block(t.challenge().round_end);

		// Reopening with the same result is refused: the delay ends here.
		assert_noop!(t.open(garbage), Error::<Test>::ResultStalled);
		assert_eq!(Jobs::<Test>::get(t.id).unwrap().dispute_end, dispute_end);
		run_to_dispute_end(t.id);
		assert!(events().contains(&Event::ChallengeAbandoned { job: t.id }));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![t.drawn[0].clone(), t.drawn[2].clone()]
		));
		// Its result was never proven wrong: a dissent (a miss), not a slash.
		assert_eq!(MockSource::penalties(), vec![(t.drawn[1].clone(), PenaltyReason::Dissent)]);
	});
}

/// Finding 2, the hard bound: however many results take turns, no challenge may end after
/// the bound set at the first one.
#[test]
fn no_challenge_moves_the_dispute_end_past_its_bound() {
	ExtBuilder::default().build_and_execute(|| {
		let t = Tournament::new(&[&[], &[5], &[], &[9], &[]]);
		let (first, second) = (t.root(1), t.root(3));
		run_to_block(20);
		assert_ok!(t.open(first));
		run_to_block(t.challenge().round_end);
		// Say the bound were near: the next walk's rounds would pass it.
		JobVerdicts::<Test>::mutate(t.id, |verdicts| {
			verdicts.as_mut().expect("opened").latest_end = 33;
		});
		assert_noop!(t.open(second), Error::<Test>::ChallengeWindowExhausted);
	});
}
