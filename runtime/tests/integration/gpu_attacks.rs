//! Attacks on the economics of GPU-job disputes (issue 17), performed with real signed
//! transactions through `Executive` on the development preset: the runtime versions of the
//! pallet's attack tests (`pallets/gpu-jobs/src/tests/attacks.rs`). Each test names its
//! attacker and the attack, performs it, and checks what the chain made of it: the events, the
//! providers' node status and pending slashes, the client's escrow and the balances.
//!
//! Every job here has four inline items of the digits model, a Merkle tree of two levels: a
//! challenge walk has one round of nodes (each side reveals its four leaves) and one to
//! re-execute the item found (`challenge_rounds(4) == 2`). On the development preset a job
//! posted in block `P` with a deadline 10 blocks ahead is drawn in `P + 2`; its workers commit
//! in `P + 3` and reveal in `P + 4`; its dispute ends at `P + 20` (the deadline plus the
//! 10-block dispute period). A challenge round lasts the 3-block reveal period.

use crate::{
	chain::{account_of, free, signed, signed_by_pair, TestChain},
	gpu_jobs::{drawn, escrow_of, gpu_provider, logits, one, post_call, posted, run, run_key},
};
use dsync_aivm_core::{batch_merkle_root, merkle_level, merkle_proof, result_hash};
use dsync_primitives::{
	traits::{NodeRegistry as _, NodeStatus, SlashReason},
	AccountId, Balance,
};
use dsync_runtime::{
	genesis_config_presets::{DEVELOPMENT, DIGITS_PRICE_FLOOR},
	NodeRegistry, Runtime, RuntimeCall, RuntimeEvent, System,
};
use pallet_gpu_jobs::{
	challenge_slice, commitment_of, Event as JobEvent, JobId, JobInput, JobStatus, PenaltyReason,
	RefundReason, ResultClaim, Standing,
};
use pallet_proof_of_sync::Event as PosEvent;
use sp_core::{sr25519, Pair as _, H256};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::DispatchError;

/// The items of every job.
const ITEMS: u32 = 4;
/// Blocks from posting to the deadline.
const DEADLINE: u32 = 10;
/// The salt of every commitment.
const SALT: [u8; 32] = [0x5b; 32];

/// The items: a "one" and three variations of it.
fn items() -> Vec<Vec<i8>> {
	(0..ITEMS)
		.map(|i| {
			let shift = i8::try_from(i).expect("a few items");
			one().iter().map(|v| if *v == 0 { shift } else { *v }).collect()
		})
		.collect()
}

/// The true leaves: each item's `result_hash`, as the runtime re-executes it.
fn true_leaves() -> Vec<[u8; 32]> {
	items().iter().map(|item| result_hash(&logits(item))).collect()
}

/// What a provider reveals.
#[derive(Clone, Copy)]
enum Play {
	/// The true result.
	Right,
	/// The true leaves but at `item`, where the leaf is `byte` repeated: garbage.
	WrongAt { item: usize, byte: u8 },
}

/// A GPU provider of the job: its owner, its worker's off-chain key and the leaves of the
/// result it reveals.
struct Provider {
	owner: Sr25519Keyring,
	key: sr25519::Pair,
	leaves: Vec<[u8; 32]>,
}

impl Provider {
	fn who(&self) -> AccountId {
		self.owner.to_account_id()
	}

	/// The result it reveals: the Merkle root of its leaves.
	fn result(&self) -> H256 {
		H256(batch_merkle_root(&self.leaves))
	}

	/// Its leaf at `item` with its Merkle proof, as `resolve_by_execution` takes it.
	fn claim(&self, item: usize) -> ResultClaim {
		let proof: Vec<H256> = merkle_proof(&self.leaves, item)
			.expect("the item is in the tree")
			.into_iter()
			.map(H256)
			.collect();
		ResultClaim {
			root: self.result(),
			leaf: H256(self.leaves[item]),
			proof: proof.try_into().expect("at most MaxProofLen siblings"),
		}
	}
}

/// A job of [`ITEMS`] inline items posted by Charlie on a fresh development chain, drawn to
/// every registered provider, each of whom committed and revealed its result.
struct Game {
	chain: TestChain,
	job: JobId,
	/// The price per provider.
	price: Balance,
	providers: Vec<Provider>,
	/// The events of the block the results were revealed in.
	revealed: Vec<RuntimeEvent>,
}

impl Game {
	/// Register one GPU provider per entry of `plays` (its owner and what it reveals), post the
	/// job with one provider each, and let every worker commit (in one block) and reveal (in the
	/// next).
	fn new(plays: &[(Sr25519Keyring, Play)]) -> Self {
		let mut chain = TestChain::new(DEVELOPMENT);
		let truth = true_leaves();
		let providers: Vec<Provider> = plays
			.iter()
			.enumerate()
			.map(|(i, (owner, play))| {
				let mut leaves = truth.clone();
				if let Play::WrongAt { item, byte } = *play {
					leaves[item] = [byte; 32];
				}
				let seed = 0xb0 + u8::try_from(i).expect("a few providers");
				Provider { owner: *owner, key: sr25519::Pair::from_seed(&[seed; 32]), leaves }
			})
			.collect();
		for provider in &providers {
			gpu_provider(&mut chain, provider.owner, &provider.key);
		}

		let price = Balance::from(ITEMS) * DIGITS_PRICE_FLOOR;
		let k = u8::try_from(providers.len()).expect("a few providers");
		let deadline = chain.execute(System::block_number) + 1 + DEADLINE;
		let input = JobInput::Inline(items().concat().try_into().expect("within MaxInlineInput"));
		let events = run(&mut chain, Charlie, post_call(input, k, price, deadline));
		let job = posted(&events);
		assert_eq!(drawn(&mut chain, job).len(), providers.len(), "every provider is drawn");

		in_one_block(&mut chain, &providers, |provider| {
			let commitment = commitment_of(job, &provider.who(), &provider.result(), &SALT);
			RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::commit_result { job, commitment })
		});
		let revealed = in_one_block(&mut chain, &providers, |provider| {
			RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::reveal_result {
				job,
				result: provider.result(),
				salt: SALT,
			})
		});
		Self { chain, job, price, providers, revealed }
	}

	/// The provider owned by `owner`.
	fn provider(&self, owner: Sr25519Keyring) -> &Provider {
		self.providers
			.iter()
			.find(|p| p.owner == owner)
			.expect("a provider of the game")
	}

	/// The index of the first provider that revealed `result`.
	fn index_of(&self, result: H256) -> usize {
		self.providers
			.iter()
			.position(|p| p.result() == result)
			.expect("a revealed result")
	}

	/// The owner of the first provider that revealed `result`.
	fn owner_of(&self, result: H256) -> Sr25519Keyring {
		self.providers[self.index_of(result)].owner
	}

	/// The first item where the results `a` and `b` differ.
	fn first_difference(&self, a: H256, b: H256) -> u32 {
		let (a, b) =
			(&self.providers[self.index_of(a)].leaves, &self.providers[self.index_of(b)].leaves);
		let item = a.iter().zip(b.iter()).position(|(x, y)| x != y).expect("they differ");
		u32::try_from(item).expect("a few items")
	}

	/// `who` submits `call` in its own block; require success; the block's events.
	fn submit(&mut self, who: Sr25519Keyring, call: RuntimeCall) -> Vec<RuntimeEvent> {
		run(&mut self.chain, who, call)
	}

	/// `who` submits `call` in its own block; the outcome of its dispatch (the transaction is
	/// valid: a failing call is included and pays its fee).
	fn try_submit(&mut self, who: Sr25519Keyring, call: RuntimeCall) -> Result<(), DispatchError> {
		let xt = self.chain.execute(|| signed(who, call));
		let mut results = self.chain.next_block(vec![xt]);
		assert_eq!(results.len(), 1);
		results.remove(0).expect("the transaction is valid")
	}

	/// The job as stored.
	fn record(&mut self) -> pallet_gpu_jobs::Job<Runtime> {
		let job = self.job;
		self.chain
			.execute(|| pallet_gpu_jobs::Jobs::<Runtime>::get(job))
			.expect("the job is open")
	}

	/// The job's challenge.
	fn challenge(&mut self) -> pallet_gpu_jobs::Challenge<AccountId, u32> {
		let job = self.job;
		self.chain
			.execute(|| pallet_gpu_jobs::Challenges::<Runtime>::get(job))
			.expect("the job is challenged")
	}

	/// The job's verdicts.
	fn verdicts(&mut self) -> pallet_gpu_jobs::Verdicts<Runtime> {
		let job = self.job;
		self.chain
			.execute(|| pallet_gpu_jobs::JobVerdicts::<Runtime>::get(job))
			.expect("the job's disputes recorded something")
	}

	/// The worker of a provider of `result` reveals that side's nodes for the challenge's
	/// current round; the block's events.
	fn answer(&mut self, result: H256) -> Vec<RuntimeEvent> {
		let challenge = self.challenge();
		let (level, first, count) =
			challenge_slice(ITEMS, challenge.level, challenge.position).expect("a round of nodes");
		let i = self.index_of(result);
		let nodes: Vec<H256> = merkle_level(&self.providers[i].leaves, level)
			.into_iter()
			.skip(first as usize)
			.take(count as usize)
			.map(H256)
			.collect();
		let call = RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::reveal_nodes {
			job: self.job,
			result,
			nodes: nodes.try_into().expect("at most MaxChallengeNodes"),
		});
		run_key(&mut self.chain, &self.providers[i].key, call)
	}

	/// `who` challenges with `result`; the defender the chain chose.
	fn open(&mut self, who: Sr25519Keyring, result: H256) -> H256 {
		let job = self.job;
		let events = self.submit(who, challenge_call(job, result));
		events
			.iter()
			.find_map(|e| match e {
				RuntimeEvent::GpuJobs(JobEvent::ChallengeOpened {
					job: j,
					result: r,
					defender,
					..
				}) if *j == job && *r == result => Some(*defender),
				_ => None,
			})
			.unwrap_or_else(|| panic!("the challenge opened: {events:?}"))
	}

	/// `who` challenges with `result`; the workers of both sides answer the round of nodes,
	/// which finds the first item where the two results differ. Returns the defender the chain
	/// chose and that item.
	fn walk(&mut self, who: Sr25519Keyring, result: H256) -> (H256, u32) {
		let job = self.job;
		let defender = self.open(who, result);
		self.answer(result);
		let events = self.answer(defender);
		let item = self.first_difference(result, defender);
		assert!(
			events.iter().any(|e| matches!(
				e,
				RuntimeEvent::GpuJobs(JobEvent::ChallengeNarrowed { job: j, level: 0, position, .. })
					if *j == job && *position == item
			)),
			"{events:?}"
		);
		(defender, item)
	}

	/// `who` has item `item` of the job re-executed, without claims (a challenge's item: both
	/// sides' leaves are on chain); the block's events.
	fn resolve(&mut self, who: Sr25519Keyring, item: u32) -> Vec<RuntimeEvent> {
		let job = self.job;
		self.submit(who, resolve_call(job, item, Vec::new()))
	}

	/// Produce empty blocks until the next one is block `block`.
	fn advance_to(&mut self, block: u32) {
		while self.chain.execute(System::block_number) + 1 < block {
			self.chain.next_block(vec![]);
		}
	}

	/// Produce empty blocks up to the job's dispute end, and that block; its events.
	fn run_to_dispute_end(&mut self) -> Vec<RuntimeEvent> {
		let end = self.record().dispute_end;
		self.advance_to(end);
		self.chain.next_block(vec![]);
		self.chain.events()
	}

	/// The free balances of `accounts`.
	fn balances<const N: usize>(&mut self, accounts: [&AccountId; N]) -> [Balance; N] {
		self.chain.execute(|| accounts.map(free))
	}
}

/// Submit one transaction per provider in one block, each signed by the provider's worker key;
/// require success; the block's events.
fn in_one_block(
	chain: &mut TestChain,
	providers: &[Provider],
	call: impl Fn(&Provider) -> RuntimeCall,
) -> Vec<RuntimeEvent> {
	let xts: Vec<_> = chain.execute(|| {
		providers
			.iter()
			.map(|p| signed_by_pair(&p.key, System::account_nonce(account_of(&p.key)), call(p)))
			.collect()
	});
	let count = xts.len();
	let results = chain.next_block(xts);
	assert!(
		results.len() == count && results.iter().all(|r| matches!(r, Ok(Ok(())))),
		"{results:?}"
	);
	chain.events()
}

/// `challenge` of `job` with `result`.
fn challenge_call(job: JobId, result: H256) -> RuntimeCall {
	RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::challenge { job, result })
}

/// `resolve_by_execution` of item `item` of the inline `job` with `claims`.
fn resolve_call(job: JobId, item: u32, claims: Vec<ResultClaim>) -> RuntimeCall {
	RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::resolve_by_execution {
		job,
		item_index: item,
		batch_item: None,
		claims: claims.try_into().expect("at most MaxReplication claims"),
	})
}

/// The penalties in `events`, by provider.
fn penalties(events: &[RuntimeEvent]) -> Vec<(AccountId, PenaltyReason)> {
	let mut penalties: Vec<_> = events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::GpuJobs(JobEvent::ProviderPenalised { provider, reason, .. }) => {
				Some((provider.clone(), *reason))
			},
			_ => None,
		})
		.collect();
	penalties.sort_by(|a, b| a.0.cmp(&b.0));
	penalties
}

/// `list`, by provider (the order of [`penalties`]).
fn by_provider(mut list: Vec<(AccountId, PenaltyReason)>) -> Vec<(AccountId, PenaltyReason)> {
	list.sort_by(|a, b| a.0.cmp(&b.0));
	list
}

/// How `job` settled in `events`: the result, the winners (sorted), paid, burned, refunded.
fn settled(
	events: &[RuntimeEvent],
	job: JobId,
) -> Option<(H256, Vec<AccountId>, Balance, Balance, Balance)> {
	events.iter().find_map(|e| match e {
		RuntimeEvent::GpuJobs(JobEvent::JobSettled {
			job: j,
			result,
			winners,
			paid,
			burned,
			refunded,
		}) if *j == job => {
			let mut winners = winners.clone();
			winners.sort();
			Some((*result, winners, *paid, *burned, *refunded))
		},
		_ => None,
	})
}

/// The position of `event` in `events`.
fn position(events: &[RuntimeEvent], event: JobEvent<Runtime>) -> usize {
	let event = RuntimeEvent::GpuJobs(event);
	events
		.iter()
		.position(|e| *e == event)
		.unwrap_or_else(|| panic!("{event:?} in {events:?}"))
}

/// Whether Proof of Sync recorded a fault of `node` in `events`, proven wrong or a miss.
fn service_failed(events: &[RuntimeEvent], node: &AccountId, wrong: bool) -> bool {
	events.iter().any(|e| {
		matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::ServiceFailed { node: n, proven_wrong, .. })
				if n == node && *proven_wrong == wrong
		)
	})
}

/// The status of `who`'s node.
fn status_of(who: &AccountId) -> NodeStatus {
	NodeRegistry::node(who).expect("a registered node").status
}

/// The reasons of the slashes pending against `who`'s node.
fn slashes_of(who: &AccountId) -> Vec<SlashReason> {
	pallet_node_registry::PendingSlashes::<Runtime>::iter_values()
		.filter(|slash| slash.node == *who)
		.map(|slash| slash.reason)
		.collect()
}

/// What a provider is paid for a price: 10 % is burned, 5 % goes to the treasury.
fn net(price: Balance) -> Balance {
	price - price / 10 - price / 20
}

/// Attack (finding 2): Eve's provider reveals a result wrong at one item against the honest
/// majority of Bob's and Dave's, and Eve keeps the majority unpaid for a fee per round: two
/// blocks before the challenge window ends she challenges with her result, which moves the
/// job's dispute end to the end of the walk; she never answers; when the round ends she
/// challenges again, moving it again, and so on. A result whose challenge stalled can never
/// challenge again, and no challenge may move the dispute end past the bound fixed at the
/// first: the majority is paid at the end of the one walk, and Eve's provider, never proven
/// wrong, takes a miss (a dissent), not a slash.
#[test]
fn a_stalled_minority_cannot_reopen_a_challenge_and_the_majority_is_paid_in_bounded_time() {
	let mut game = Game::new(&[
		(Bob, Play::Right),
		(Dave, Play::Right),
		(Eve, Play::WrongAt { item: 2, byte: 0xbd }),
	]);
	let (job, price) = (game.job, game.price);
	let (right, wrong) = (game.provider(Bob).result(), game.provider(Eve).result());
	let [bob, dave, eve, charlie] = [Bob, Dave, Eve, Charlie].map(|k| k.to_account_id());
	let dispute_end = game.record().dispute_end;
	assert!(
		game.revealed.contains(&RuntimeEvent::GpuJobs(JobEvent::JobConcluded {
			job,
			result: right,
			payable_at: dispute_end,
		})),
		"{:?}",
		game.revealed
	);

	// Two blocks before the window ends, Eve challenges: the walk's two rounds of 3 blocks end
	// 6 blocks later, 4 past the dispute end, which moves there.
	game.advance_to(dispute_end - 2);
	let events = game.submit(Eve, challenge_call(job, wrong));
	let (round_end, moved) = (dispute_end + 1, dispute_end + 4);
	assert!(
		events.contains(&RuntimeEvent::GpuJobs(JobEvent::ChallengeOpened {
			job,
			result: wrong,
			defender: right,
			by: eve.clone(),
			round_end,
			dispute_end: moved,
		})),
		"{events:?}"
	);
	assert_eq!(game.record().dispute_end, moved);
	// The bound, fixed at the first challenge: 3 walks per result (2 results) of 2 rounds of 3
	// blocks, after the dispute end it found.
	let latest_end = game.verdicts().latest_end;
	assert_eq!(latest_end, dispute_end + 3 * 2 * 2 * 3);

	// Eve's side never answers. Once the round has ended, her challenge again is refused: her
	// result stalled. It pays its fee and moves nothing.
	game.advance_to(round_end);
	let [eve_before] = game.balances([&eve]);
	let stalled: DispatchError = pallet_gpu_jobs::Error::<Runtime>::ResultStalled.into();
	assert_eq!(game.try_submit(Eve, challenge_call(job, wrong)), Err(stalled));
	assert!(game.balances([&eve])[0] < eve_before, "the refused challenge paid its fee");
	assert_eq!(game.record().dispute_end, moved);
	assert!(moved <= latest_end);

	// The majority is paid at the dispute end the one walk set; the stalled challenge is closed
	// there.
	let before = game.balances([&bob, &dave, &eve, &charlie]);
	let events = game.run_to_dispute_end();
	assert_eq!(game.chain.execute(System::block_number), moved);
	assert!(events.contains(&RuntimeEvent::GpuJobs(JobEvent::ChallengeAbandoned { job })));
	let mut winners = vec![bob.clone(), dave.clone()];
	winners.sort();
	assert_eq!(
		settled(&events, job),
		Some((right, winners, 2 * price, 2 * (price / 10), price)),
		"{events:?}"
	);
	// Never proven wrong: a dissent, a Proof-of-Sync miss, not a slash.
	assert_eq!(penalties(&events), vec![(eve.clone(), PenaltyReason::Dissent)]);
	assert!(service_failed(&events, &eve, false));
	let after = game.balances([&bob, &dave, &eve, &charlie]);
	assert_eq!(after[0] - before[0], net(price));
	assert_eq!(after[1] - before[1], net(price));
	assert_eq!(after[2], before[2], "a miss costs nothing at once");
	assert_eq!(after[3] - before[3], price, "the client got the unpaid third back");
	game.chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_ne!(status_of(&eve), NodeStatus::Suspended);
		assert!(slashes_of(&eve).is_empty());
		for honest in [&bob, &dave] {
			assert_eq!(status_of(honest), NodeStatus::Active);
		}
		assert!(pallet_gpu_jobs::Jobs::<Runtime>::get(job).is_none(), "the job ended");
	});
}

/// Attack (finding 3): Dave and Ferdie agree on a result wrong at item 3, Eve reveals one wrong at
/// item 1; Bob alone is right, so no result has a majority. Eve challenges Dave's and Ferdie's
/// result (it leads with two reveals) and asks for the re-execution herself: the walk stops at item
/// 1, where their result is right, so it is confirmed and hers proven wrong. Before, a re-execution
/// paid the result that matched and punished every other provider `WrongResult`, compared or not:
/// Bob, whose result no walk ever compared, would have been suspended and slashed. Only results
/// compared at the item are judged now: nothing is known about Bob's, the dispute stays open and,
/// nobody walking on, is refunded unresolved at its end; Eve is slashed, Bob and the confirmed pair
/// are not penalised at all.
#[test]
fn a_third_result_nobody_checked_is_not_punished_as_wrong() {
	let mut game = Game::new(&[
		(Bob, Play::Right),
		(Dave, Play::WrongAt { item: 3, byte: 0xaa }),
		(Ferdie, Play::WrongAt { item: 3, byte: 0xaa }),
		(Eve, Play::WrongAt { item: 1, byte: 0xbb }),
	]);
	let (job, price) = (game.job, game.price);
	let right = game.provider(Bob).result();
	let (pair, lone) = (game.provider(Dave).result(), game.provider(Eve).result());
	assert_eq!(pair, game.provider(Ferdie).result());
	let [bob, dave, eve, ferdie, charlie] =
		[Bob, Dave, Eve, Ferdie, Charlie].map(|k| k.to_account_id());
	assert!(
		game.revealed.iter().any(
			|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobDisputed { job: j, .. }) if *j == job)
		),
		"two of four is no majority: {:?}",
		game.revealed
	);

	// Eve's walk against the leading result stops at item 1, which she has re-executed.
	let (defender, item) = game.walk(Eve, lone);
	assert_eq!((defender, item), (pair, 1), "the result with the most reveals defends");
	let events = game.resolve(Eve, item);
	assert!(
		events.contains(&RuntimeEvent::GpuJobs(JobEvent::ChallengeDecided {
			job,
			confirmed: Some(pair),
			proven_wrong: vec![lone],
		})),
		"{events:?}"
	);
	// Nobody is judged before the job ends, and Bob's result is untouched: still payable.
	assert!(penalties(&events).is_empty(), "{events:?}");
	assert_eq!(game.record().status, JobStatus::Disputed);
	let verdicts = game.verdicts();
	assert_eq!(verdicts.of(right), Standing::new(right), "nothing is known about Bob's result");
	assert!(verdicts.of(pair).confirmed && verdicts.of(lone).proven_wrong);

	// Nobody walks on: two payable results at the dispute end, refunded unresolved.
	let [charlie_before] = game.balances([&charlie]);
	let events = game.run_to_dispute_end();
	assert!(
		events.contains(&RuntimeEvent::GpuJobs(JobEvent::JobRefunded {
			job,
			reason: RefundReason::DisputeUnresolved,
			refunded: 4 * price,
		})),
		"{events:?}"
	);
	// Only the result proven wrong is punished as wrong; Bob's, never compared, not at all.
	assert_eq!(penalties(&events), vec![(eve.clone(), PenaltyReason::WrongResult)]);
	assert!(service_failed(&events, &eve, true));
	for unpunished in [&bob, &dave, &ferdie] {
		assert!(!events.iter().any(|e| matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::ServiceFailed { node, .. }) if node == unpunished
		)));
	}
	assert_eq!(game.balances([&charlie])[0] - charlie_before, 4 * price, "refunded in full");
	game.chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_eq!(status_of(&eve), NodeStatus::Suspended);
		assert_eq!(slashes_of(&eve), vec![SlashReason::WrongResult]);
		for unpunished in [&bob, &dave, &ferdie] {
			assert_eq!(status_of(unpunished), NodeStatus::Active);
			assert!(slashes_of(unpunished).is_empty());
		}
		assert!(pallet_gpu_jobs::Jobs::<Runtime>::get(job).is_none(), "the job ended");
	});
}

/// Bob right; Dave and Eve colluding with different garbage (wrong at items 1 and 3): three
/// results, no majority.
fn garbage_tournament() -> Game {
	Game::new(&[
		(Bob, Play::Right),
		(Dave, Play::WrongAt { item: 1, byte: 0xd1 }),
		(Eve, Play::WrongAt { item: 3, byte: 0xe3 }),
	])
}

/// Attack (finding 4): Dave and Eve collude but reveal different garbage (wrong at items 1 and 3),
/// so the job has three results and no majority. The walk knew only two results, so it could not
/// decide the dispute: the honest provider went unpaid and the colluders unpunished. Now Bob walks
/// against each garbage result in turn (the chain picks the defender: the leading other result,
/// here the lowest hash), both sides answering and Bob having the item found re-executed: the first
/// garbage is proven wrong and cannot challenge any more; the second walk leaves Bob's result the
/// only one payable, confirmed, and it is paid at once. Both colluders are suspended and slashed,
/// and the client gets the other two prices back.
#[test]
fn colluders_revealing_different_garbage_lose_and_the_honest_result_is_paid() {
	let mut game = garbage_tournament();
	let (job, price) = (game.job, game.price);
	let right = game.provider(Bob).result();
	let garbage = [game.provider(Dave).result(), game.provider(Eve).result()];
	let [bob, dave, eve, charlie] = [Bob, Dave, Eve, Charlie].map(|k| k.to_account_id());
	assert!(
		game.revealed.iter().any(
			|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobDisputed { job: j, .. }) if *j == job)
		),
		"{:?}",
		game.revealed
	);

	// The first walk: against the lowest hash (one reveal each), proven wrong at its item.
	let (first, item) = game.walk(Bob, right);
	assert_eq!(first, garbage[0].min(garbage[1]));
	let events = game.resolve(Bob, item);
	assert!(
		events.contains(&RuntimeEvent::GpuJobs(JobEvent::ChallengeDecided {
			job,
			confirmed: Some(right),
			proven_wrong: vec![first],
		})),
		"{events:?}"
	);
	// One garbage result is left: the dispute goes on, nobody is paid or penalised yet.
	assert!(settled(&events, job).is_none() && penalties(&events).is_empty(), "{events:?}");
	assert_eq!(game.record().status, JobStatus::Disputed);
	// The result proven wrong cannot challenge any more.
	let eliminated: DispatchError = pallet_gpu_jobs::Error::<Runtime>::ResultEliminated.into();
	let first_owner = game.owner_of(first);
	assert_eq!(game.try_submit(first_owner, challenge_call(job, first)), Err(eliminated));

	// The second walk decides it: Bob's result is the only one payable, confirmed, paid.
	let (second, item) = game.walk(Bob, right);
	assert_eq!(second, garbage[0].max(garbage[1]));
	let [bob_before, charlie_before] = game.balances([&bob, &charlie]);
	let events = game.resolve(Bob, item);
	assert!(
		events.contains(&RuntimeEvent::GpuJobs(JobEvent::ChallengeDecided {
			job,
			confirmed: Some(right),
			proven_wrong: vec![second],
		})),
		"{events:?}"
	);
	assert_eq!(
		settled(&events, job),
		Some((right, vec![bob.clone()], price, price / 10, 2 * price)),
		"{events:?}"
	);
	assert_eq!(
		penalties(&events),
		by_provider(vec![
			(dave.clone(), PenaltyReason::WrongResult),
			(eve.clone(), PenaltyReason::WrongResult),
		])
	);
	let [bob_after, charlie_after] = game.balances([&bob, &charlie]);
	assert_eq!(bob_after - bob_before, net(price), "paid; the re-execution was free");
	assert_eq!(charlie_after - charlie_before, 2 * price);
	game.chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		for liar in [&dave, &eve] {
			assert_eq!(status_of(liar), NodeStatus::Suspended);
			assert_eq!(slashes_of(liar), vec![SlashReason::WrongResult]);
		}
		assert_eq!(status_of(&bob), NodeStatus::Active);
		assert!(pallet_gpu_jobs::Jobs::<Runtime>::get(job).is_none(), "the job ended");
	});
}

/// Attack (finding 4, the last walk): as above, Dave and Eve reveal different garbage, and the
/// first walk proves one of them wrong; in the second the last liar's side never answers. Its
/// forfeit was recorded only when the challenge was closed, by another challenge (no other
/// result was left to open one) or at the dispute end, so the job ended refunded
/// `ChallengeUnanswered` with Bob unpaid, and a re-execution once the round had ended was
/// refused (`ChallengeRoundClosed`). Now the re-execution closes the challenge first: Bob's
/// result, the last standing, is confirmed with his own claim alone (his worker holds only its
/// own leaves) and paid at once; the first liar is slashed, the silent one takes a miss.
#[test]
fn the_last_liar_going_silent_does_not_keep_the_honest_result_unpaid() {
	let mut game = garbage_tournament();
	let (job, price) = (game.job, game.price);
	let right = game.provider(Bob).result();
	let [bob, charlie] = [Bob, Charlie].map(|k| k.to_account_id());
	let (first, item) = game.walk(Bob, right);
	game.resolve(Bob, item);
	assert_eq!(game.record().status, JobStatus::Disputed);

	// The second walk: Bob's worker answers its round, the last liar's never does.
	let last = game.open(Bob, right);
	assert_ne!(last, first);
	game.answer(right);
	let round_end = game.challenge().round_end;
	assert!(round_end < game.record().dispute_end, "the liar stalls before the job's end");
	game.advance_to(round_end);
	let (first_liar, last_liar) =
		(game.owner_of(first).to_account_id(), game.owner_of(last).to_account_id());

	// A claim of the forfeited result is not expected: it is out.
	let own = game.provider(Bob).claim(0);
	let extra = game.providers[game.index_of(last)].claim(0);
	let unexpected: DispatchError = pallet_gpu_jobs::Error::<Runtime>::UnexpectedClaim.into();
	assert_eq!(
		game.try_submit(Bob, resolve_call(job, 0, vec![own.clone(), extra])),
		Err(unexpected)
	);
	// Bob's own claim at item 0 is enough: the re-execution closes the challenge (the silent
	// side forfeits) and confirms the last result standing.
	let [bob_before, charlie_before, silent_before] = game.balances([&bob, &charlie, &last_liar]);
	let events = game.submit(Bob, resolve_call(job, 0, vec![own]));
	let forfeited = position(&events, JobEvent::ChallengeForfeited { job, result: last });
	assert_eq!(
		settled(&events, job),
		Some((right, vec![bob.clone()], price, price / 10, 2 * price)),
		"{events:?}"
	);
	let paid = events
		.iter()
		.position(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobSettled { .. })))
		.expect("settled");
	assert!(forfeited < paid, "the challenge is closed first: {events:?}");
	// The first liar was proven wrong; the silent one only forfeited: a miss.
	assert_eq!(
		penalties(&events),
		by_provider(vec![
			(first_liar.clone(), PenaltyReason::WrongResult),
			(last_liar.clone(), PenaltyReason::Unanswered),
		])
	);
	assert!(service_failed(&events, &first_liar, true));
	assert!(service_failed(&events, &last_liar, false));
	let [bob_after, charlie_after, silent_after] = game.balances([&bob, &charlie, &last_liar]);
	assert_eq!(bob_after - bob_before, net(price), "paid; the re-execution was free");
	assert_eq!(charlie_after - charlie_before, 2 * price);
	assert_eq!(silent_after, silent_before, "a miss costs nothing at once");
	game.chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_eq!(status_of(&first_liar), NodeStatus::Suspended);
		assert_eq!(slashes_of(&first_liar), vec![SlashReason::WrongResult]);
		assert_ne!(status_of(&last_liar), NodeStatus::Suspended);
		assert!(slashes_of(&last_liar).is_empty());
		assert!(pallet_gpu_jobs::Jobs::<Runtime>::get(job).is_none(), "the job ended");
		assert!(!pallet_gpu_jobs::Challenges::<Runtime>::contains_key(job));
		assert!(!pallet_gpu_jobs::JobVerdicts::<Runtime>::contains_key(job));
	});
}

/// Attack (beyond the findings): Dave and Eve agree on a result wrong at item 2 and so make the
/// majority; Bob's honest result is the minority. Anyone could open a challenge with any
/// revealed result, so the colluders opened Bob's walk themselves, at a moment his worker was
/// offline, let its round pass and stalled his result for good: it could never challenge
/// again, and the wrong majority was paid. Only a provider of a result, by its owner account or
/// its worker's key, may open a challenge with it now: the colluders and a bystander are
/// refused (each pays its fee, nothing moves), and Bob's own walk proves the majority wrong.
#[test]
fn a_wrong_majority_cannot_open_and_stall_the_honest_minority_s_walk() {
	let mut game = Game::new(&[
		(Bob, Play::Right),
		(Dave, Play::WrongAt { item: 2, byte: 0xbd }),
		(Eve, Play::WrongAt { item: 2, byte: 0xbd }),
	]);
	let job = game.job;
	let (right, wrong) = (game.provider(Bob).result(), game.provider(Dave).result());
	assert_eq!(game.record().tally().majority, Some(wrong));
	let refused: DispatchError = pallet_gpu_jobs::Error::<Runtime>::NotAProviderOfResult.into();
	for who in [Dave, Eve, Ferdie] {
		let before = game.balances([&who.to_account_id()]);
		assert_eq!(game.try_submit(who, challenge_call(job, right)), Err(refused));
		assert!(game.balances([&who.to_account_id()])[0] < before[0], "the refusal pays its fee");
	}
	// The colluders' worker keys are refused too.
	let eve_key = game.provider(Eve).key.clone();
	let xt = game.chain.execute(|| {
		signed_by_pair(
			&eve_key,
			System::account_nonce(account_of(&eve_key)),
			challenge_call(job, right),
		)
	});
	assert_eq!(game.chain.next_block(vec![xt]), vec![Ok(Err(refused))]);
	assert_eq!(game.record().status, JobStatus::Concluded);
	assert!(game
		.chain
		.execute(|| pallet_gpu_jobs::JobVerdicts::<Runtime>::get(job))
		.is_none());

	// Bob opens his own walk, by his worker's key as his worker does, and wins it.
	let bob_key = game.provider(Bob).key.clone();
	run_key(&mut game.chain, &bob_key, challenge_call(job, right));
	assert_eq!(game.challenge().by, account_of(&bob_key));
	game.answer(right);
	game.answer(wrong);
	let events = game.resolve(Bob, 2);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::GpuJobs(JobEvent::JobSettled { result, winners, .. })
				if *result == right && *winners == vec![Bob.to_account_id()]
		)),
		"{events:?}"
	);
}
