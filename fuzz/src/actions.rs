//! The fuzzer's actions: what one step of an input does, the snapshot's setup, and the seed
//! corpus. Pools: signers are picked by index among twelve ([`crate::signer`]: six owners, six
//! off-chain keys), names among sixteen ([`name_id`]: four registrations and three subnames of
//! each), jobs among the jobs this input posted, reports among the current assignments.

use crate::{account, amount, chain::Chain, keys, max_blocks, signer};
use codec::{Decode, DecodeLimit, Encode};
use dsync_aivm_core::{bundled::DIGITS_64_128_64_10, result_hash, Model};
use dsync_primitives::{
	currency::DSYNC,
	naming::{child_id, tld_id, RecordKind},
	traits::{NodeRegistry as _, NodeRole, NodeStatus, ServiceKind},
	AccountId, Balance,
};
use dsync_runtime::{
	configs::consensus::EPOCH_DURATION_IN_SLOTS, genesis_config_presets::DIGITS_PRICE_FLOOR,
	BalancesCall, NodeRegistry, Runtime, RuntimeCall, System,
};
use pallet_gpu_jobs::{commitment_of, JobInput, ResultClaim};
use pallet_proof_of_sync::ProbeReport;
use sp_core::{sr25519, Pair as _, H256};
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionValidityError},
	MultiAddress, Perbill,
};
use std::{collections::BTreeMap, sync::OnceLock};

/// The genesis id of the digits model.
const DIGITS: u32 = 0;
/// Registration labels and subname labels of the name pool.
const LABELS: [&[u8]; 4] = [b"alpha", b"beta", b"gamma", b"d3lta-x"];
const SUBLABELS: [&[u8]; 3] = [b"www", b"api", b"m"];
/// Pallets whose calls `Raw` decodes, signed by a pool account: Balances, Utility, Multisig,
/// Proxy, and the six custom pallets (storage last, so older inputs keep their pallets).
const RAW_PALLETS: [u8; 10] = [5, 12, 13, 14, 19, 20, 21, 22, 23, 24];
/// Pallets whose calls `Sudo` decodes under Alice's sudo: the six custom pallets and Staking.
/// Not System (storage writes break every invariant by design) nor Balances
/// (`force_adjust_total_issuance` detaches the issuance from the accounts by design).
const SUDO_PALLETS: [u8; 7] = [19, 20, 21, 22, 23, 9, 24];
/// Nesting limit of decoded calls (`Utility::batch` of batches...).
const DECODE_DEPTH: u32 = 8;

/// One step of an input.
#[derive(Encode, Decode, Debug, Clone)]
pub enum Action {
	/// Close the block; open the next one in the next slot.
	NextBlock,
	/// `n % 16 + 1` blocks.
	SkipBlocks(u8),
	/// The next block `n % 8 + 2` slots later (validators offline between).
	SkipSlots(u8),
	/// The next block a whole BABE epoch of slots later: a new session.
	NewSession,
	Transfer {
		from: u8,
		to: u8,
		mantissa: u8,
		exponent: u8,
		keep_alive: bool,
	},
	RegisterNode {
		owner: u8,
		key: u8,
		validator: bool,
		gpu: bool,
		extra: u8,
	},
	BondExtra {
		owner: u8,
		mantissa: u8,
		exponent: u8,
	},
	Unbond {
		owner: u8,
		mantissa: u8,
		exponent: u8,
	},
	WithdrawUnbonded {
		owner: u8,
	},
	Exit {
		owner: u8,
	},
	Reactivate {
		owner: u8,
	},
	SetOffchainKey {
		owner: u8,
		key: u8,
	},
	UpdateDeclaration {
		owner: u8,
		gpu: bool,
		cores: u8,
	},
	PostJob {
		client: u8,
		input: u8,
		replication: u8,
		price: u8,
		deadline: u8,
	},
	CommitResult {
		signer: u8,
		job: u8,
		honest: bool,
		salt: u8,
	},
	RevealResult {
		signer: u8,
		job: u8,
	},
	Settle {
		who: u8,
		job: u8,
	},
	Challenge {
		signer: u8,
		job: u8,
		result: u8,
	},
	ResolveByExecution {
		who: u8,
		job: u8,
		claims: u8,
	},
	CommitReport {
		pick: u8,
		available: bool,
		challenge_ok: bool,
		latency: u16,
		lag: u8,
		salt: u8,
	},
	RevealReport {
		pick: u8,
	},
	NameCommit {
		who: u8,
		label: u8,
		owner: u8,
		secret: u8,
	},
	NameRegister {
		who: u8,
		label: u8,
		owner: u8,
		secret: u8,
		years: u8,
	},
	NameRenew {
		who: u8,
		name: u8,
		years: u8,
	},
	NameTransfer {
		who: u8,
		name: u8,
		to: u8,
	},
	NameRelease {
		who: u8,
		name: u8,
	},
	SetSubname {
		who: u8,
		parent: u8,
		label: u8,
		owner: u8,
	},
	RevokeSubname {
		who: u8,
		name: u8,
	},
	GiveUpControl {
		who: u8,
		name: u8,
	},
	SetRecords {
		who: u8,
		name: u8,
		kind: u8,
		values: Vec<Vec<u8>>,
	},
	SetTtl {
		who: u8,
		name: u8,
		ttl: u32,
	},
	SetPrimaryName {
		who: u8,
		name: Option<u8>,
	},
	RemoveStale {
		who: u8,
		name: u8,
	},
	RemoveExpiredCommitments {
		who: u8,
		of: u8,
	},
	DepositRevenue {
		who: u8,
		mantissa: u8,
		exponent: u8,
	},
	ExecuteBuyback {
		who: u8,
	},
	/// A call of pallet `RAW_PALLETS[pallet % 9]` decoded from `call`, signed by `signer`.
	Raw {
		signer: u8,
		pallet: u8,
		call: Vec<u8>,
	},
	/// A call of pallet `SUDO_PALLETS[pallet % 6]` decoded from `call`, under sudo.
	Sudo {
		pallet: u8,
		call: Vec<u8>,
	},
	/// The next action `n % 32 + 1` times (many calls in few blocks: the blocks, with their
	/// checks, cost more than calls).
	Repeat(u8),
	/// A storage order of `size * 97 + 1` bytes in `slots % 4 + 1` slots, `data % slots + 1` of
	/// them data, for `duration % 4 + 1` epochs at `price % 3 + 1` millidsync per slot-epoch.
	PlaceOrder {
		client: u8,
		size: u16,
		slots: u8,
		data: u8,
		duration: u8,
		price: u8,
	},
	/// The signer accepts slot `slot` of order `order` (of this input's orders) with a proof of
	/// the offer's challenged piece, or of another piece.
	AcceptSlot {
		signer: u8,
		order: u8,
		slot: u8,
		valid: bool,
	},
	/// The signer proves slot `slot` of order `order` for the current epoch, with the real
	/// pieces or made-up ones.
	ProveSlot {
		signer: u8,
		order: u8,
		slot: u8,
		valid: bool,
	},
	CancelOrder {
		client: u8,
		order: u8,
	},
}

/// What the harness remembers within one input.
#[derive(Default)]
pub struct State {
	/// Blocks produced by the input.
	pub blocks: u32,
	/// Jobs posted, with their input.
	jobs: Vec<(u64, Vec<i8>)>,
	/// Result commitments made: (signer, job) -> (result, salt).
	commits: BTreeMap<(AccountId, u64), (H256, [u8; 32])>,
	/// Results revealed per job.
	revealed: BTreeMap<u64, Vec<H256>>,
	/// Report commitments made: (verifier key, target, epoch) -> (report, salt).
	reports: BTreeMap<(AccountId, AccountId, u32), (ProbeReport, [u8; 32])>,
	/// Storage orders placed: (id, size, data shards).
	orders: Vec<(u64, u64, u8)>,
}

/// The bytes slot `j` of an order of `size` bytes with `data` data shards keeps (a stand-in
/// for the coder: the chain checks lengths and roots).
fn slot_bytes(size: u64, data: u8, j: u8) -> Vec<u8> {
	let len = dsync_primitives::storage::layout::shard_len(size, u64::from(data)).unwrap_or(0);
	(0..len).map(|i| ((i * 7 + u64::from(j) * 13) % 251) as u8).collect()
}

/// The proof of piece `index` of slot `j`'s bytes (piece 0 when out of range).
fn piece_proof(size: u64, data: u8, j: u8, index: u64) -> dsync_primitives::storage::PieceProof {
	use dsync_primitives::storage::pieces::{prove_piece, slot_leaves};
	let bytes = slot_bytes(size, data, j);
	let leaves = slot_leaves(&bytes);
	prove_piece(&bytes, &leaves, index)
		.or_else(|| prove_piece(&bytes, &leaves, 0))
		.unwrap_or(dsync_primitives::storage::PieceProof {
			piece: Default::default(),
			path: Default::default(),
		})
}

/// Name `index` of the pool: registrations `LABELS[i % 4]` for `i % 16 < 4`, else subname
/// `SUBLABELS[i / 4 % 4 - 1]` of registration `i % 4`.
pub fn name_id(index: u8) -> H256 {
	let top = child_id(&tld_id(), LABELS[usize::from(index) % 4]);
	match usize::from(index) / 4 % 4 {
		0 => top,
		sub => child_id(&top, SUBLABELS[sub - 1]),
	}
}

fn model() -> &'static Model {
	static MODEL: OnceLock<Model> = OnceLock::new();
	MODEL.get_or_init(|| Model::parse(DIGITS_64_128_64_10).expect("the bundled model parses"))
}

/// One 8×8 input of the digits model from a seed byte.
fn job_input(seed: u8) -> Vec<i8> {
	(0..64u32)
		.map(|i| ((i * u32::from(seed) + u32::from(seed)) % 33) as i8 - 16)
		.collect()
}

/// The honest result of a one-item job: the result hash of the model's logits.
fn honest_result(input: &[i8]) -> H256 {
	model()
		.evaluate(input)
		.map(|logits| H256(result_hash(&logits)))
		.unwrap_or_default()
}

/// The owner of the node whose off-chain key is `who`, or `who` itself.
fn owner_of(who: &AccountId) -> AccountId {
	pallet_node_registry::NodeOfKey::<Runtime>::get(who).unwrap_or_else(|| who.clone())
}

fn declaration(gpu: bool, cores: u32) -> pallet_node_registry::DeclarationOf<Runtime> {
	let (services, models, gpus) = if gpu {
		(
			// GPU nodes also offer storage: the snapshot's three providers serve both.
			vec![ServiceKind::GpuInference, ServiceKind::Storage],
			vec![DIGITS],
			vec![pallet_node_registry::GpuSpec {
				model: b"RTX 4090".to_vec().try_into().expect("short"),
				count: 1,
				memory_mib: 24 * 1024,
			}],
		)
	} else {
		(vec![ServiceKind::Naming, ServiceKind::Storage], vec![], vec![])
	};
	pallet_node_registry::Declaration {
		resources: pallet_node_registry::Resources {
			cpu_cores: cores,
			memory_mib: 16 * 1024,
			storage_gib: 100,
			bandwidth_mbps: 100,
			gpus: gpus.try_into().expect("one GPU kind"),
		},
		services: services.try_into().expect("one service"),
		models: models.try_into().expect("one model"),
		endpoint: b"http://127.0.0.1:9955".to_vec().try_into().expect("short"),
	}
}

/// Close the open block and open the next one `slots` slots later.
fn next_block(chain: &mut Chain, state: &mut State, slots: u64) {
	chain.close(false);
	chain.open(slots);
	state.blocks += 1;
}

/// Sign `call` by `pair` and apply it; a transaction the full block cannot take goes into the
/// next block. Whether it succeeded.
fn submit(chain: &mut Chain, state: &mut State, pair: &sr25519::Pair, call: RuntimeCall) -> bool {
	let started = std::time::Instant::now();
	let xt = chain.execute(|| crate::chain::signed(pair, call.clone()));
	crate::stats::phase("sign", started.elapsed());
	match chain.apply(xt) {
		Ok(Ok(())) => true,
		Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources)) => {
			next_block(chain, state, 1);
			let xt = chain.execute(|| crate::chain::signed(pair, call));
			matches!(chain.apply(xt), Ok(Ok(())))
		},
		_ => false,
	}
}

/// A call of the pallet at `index` decoded from `bytes`.
fn decode_call(index: u8, bytes: &[u8]) -> Option<RuntimeCall> {
	let mut encoded = Vec::with_capacity(bytes.len() + 1);
	encoded.push(index);
	encoded.extend_from_slice(bytes);
	RuntimeCall::decode_with_depth_limit(DECODE_DEPTH, &mut &encoded[..]).ok()
}

impl Action {
	/// Apply the action to the chain (its transaction into the open block).
	pub fn apply(self, chain: &mut Chain, state: &mut State) {
		use pallet_gpu_jobs::Call as Jobs;
		use pallet_naming::Call as Naming;
		use pallet_node_registry::Call as Registry;
		let job_of = |state: &State, pick: u8| -> (u64, Vec<i8>) {
			match state.jobs.len() {
				0 => (u64::from(pick), job_input(pick)),
				n => state.jobs[usize::from(pick) % n].clone(),
			}
		};
		match self {
			// `run` applies an action only while the input has blocks left (`max_blocks`);
			// only `SkipBlocks`, which makes several, looks again.
			Action::NextBlock => next_block(chain, state, 1),
			Action::SkipBlocks(n) => {
				for _ in 0..=(n % 16) {
					if state.blocks < max_blocks() {
						next_block(chain, state, 1);
					}
				}
			},
			Action::SkipSlots(n) => next_block(chain, state, u64::from(n % 8) + 2),
			Action::NewSession => next_block(chain, state, EPOCH_DURATION_IN_SLOTS),
			Action::Transfer { from, to, mantissa, exponent, keep_alive } => {
				let (dest, value) = (MultiAddress::Id(account(to)), amount(mantissa, exponent));
				let call = if keep_alive {
					BalancesCall::transfer_keep_alive { dest, value }
				} else {
					BalancesCall::transfer_allow_death { dest, value }
				};
				submit(chain, state, &signer(from), RuntimeCall::Balances(call));
			},
			Action::RegisterNode { owner, key, validator, gpu, extra } => {
				let owner = owner % 6;
				let key = signer(6 + key % 6);
				let declaration = declaration(gpu, 4 + u32::from(extra % 8));
				let (bond, message) = chain.execute(|| {
					(
						NodeRegistry::minimum_bond(&declaration),
						NodeRegistry::key_proof_message(&account(owner)),
					)
				});
				let role = if validator { NodeRole::Validator } else { NodeRole::Service };
				let call = RuntimeCall::NodeRegistry(Registry::register {
					role,
					declaration,
					offchain_key: AccountId::from(key.public()),
					key_proof: key.sign(&message).into(),
					bond: bond + amount(extra, extra / 8),
				});
				submit(chain, state, &signer(owner), call);
			},
			Action::BondExtra { owner, mantissa, exponent } => {
				let call = Registry::bond_extra { amount: amount(mantissa, exponent) };
				submit(chain, state, &signer(owner), RuntimeCall::NodeRegistry(call));
			},
			Action::Unbond { owner, mantissa, exponent } => {
				let call = Registry::unbond { amount: amount(mantissa, exponent) };
				submit(chain, state, &signer(owner), RuntimeCall::NodeRegistry(call));
			},
			Action::WithdrawUnbonded { owner } => {
				let call = RuntimeCall::NodeRegistry(Registry::withdraw_unbonded {});
				submit(chain, state, &signer(owner), call);
			},
			Action::Exit { owner } => {
				submit(chain, state, &signer(owner), RuntimeCall::NodeRegistry(Registry::exit {}));
			},
			Action::Reactivate { owner } => {
				let call = RuntimeCall::NodeRegistry(Registry::reactivate {});
				submit(chain, state, &signer(owner), call);
			},
			Action::SetOffchainKey { owner, key } => {
				let key = signer(6 + key % 6);
				let message = chain.execute(|| NodeRegistry::key_proof_message(&account(owner)));
				let call = Registry::set_offchain_key {
					key: AccountId::from(key.public()),
					key_proof: key.sign(&message).into(),
				};
				submit(chain, state, &signer(owner), RuntimeCall::NodeRegistry(call));
			},
			Action::UpdateDeclaration { owner, gpu, cores } => {
				let call = Registry::update_declaration {
					declaration: declaration(gpu, u32::from(cores % 16)),
				};
				submit(chain, state, &signer(owner), RuntimeCall::NodeRegistry(call));
			},
			Action::PostJob { client, input, replication, price, deadline } => {
				let values = job_input(input);
				let now = chain.execute(System::block_number);
				let call = Jobs::post_job {
					model: DIGITS,
					input: JobInput::Inline(values.clone().try_into().expect("64 values fit")),
					replication: 1 + replication % 4,
					price_per_provider: DIGITS_PRICE_FLOOR * Balance::from(price % 5),
					deadline: now + u32::from(deadline % 48),
				};
				let id = chain.execute(pallet_gpu_jobs::NextJobId::<Runtime>::get);
				if submit(chain, state, &signer(client), RuntimeCall::GpuJobs(call)) {
					state.jobs.push((id, values));
				}
			},
			Action::CommitResult { signer: who, job, honest, salt } => {
				let (job, input) = job_of(state, job);
				let pair = signer(who);
				let account = AccountId::from(pair.public());
				let result = if honest { honest_result(&input) } else { H256([salt; 32]) };
				let salt = [salt; 32];
				let owner = chain.execute(|| owner_of(&account));
				let commitment = commitment_of(job, &owner, &result, &salt);
				let call = RuntimeCall::GpuJobs(Jobs::commit_result { job, commitment });
				if submit(chain, state, &pair, call) {
					state.commits.insert((account, job), (result, salt));
				}
			},
			Action::RevealResult { signer: who, job } => {
				let (job, _) = job_of(state, job);
				let pair = signer(who);
				let account = AccountId::from(pair.public());
				let (result, salt) =
					state.commits.get(&(account, job)).copied().unwrap_or_default();
				let call = RuntimeCall::GpuJobs(Jobs::reveal_result { job, result, salt });
				if submit(chain, state, &pair, call) {
					state.revealed.entry(job).or_default().push(result);
				}
			},
			Action::Settle { who, job } => {
				let (job, _) = job_of(state, job);
				submit(chain, state, &signer(who), RuntimeCall::GpuJobs(Jobs::settle { job }));
			},
			Action::Challenge { signer: who, job, result } => {
				let (job, _) = job_of(state, job);
				let revealed = state.revealed.get(&job).cloned().unwrap_or_default();
				let result = match revealed.len() {
					0 => H256([result; 32]),
					n => revealed[usize::from(result) % n],
				};
				let call = RuntimeCall::GpuJobs(Jobs::challenge { job, result });
				submit(chain, state, &signer(who), call);
			},
			Action::ResolveByExecution { who, job, claims } => {
				let (job, _) = job_of(state, job);
				let revealed = state.revealed.get(&job).cloned().unwrap_or_default();
				let claims: Vec<ResultClaim> = revealed
					.iter()
					.enumerate()
					.filter(|(i, _)| claims & (1 << (i % 8)) != 0)
					.map(|(_, root)| ResultClaim {
						root: *root,
						leaf: *root,
						proof: Default::default(),
					})
					.take(4)
					.collect();
				let call = Jobs::resolve_by_execution {
					job,
					item_index: 0,
					batch_item: None,
					claims: claims.try_into().unwrap_or_default(),
				};
				submit(chain, state, &signer(who), RuntimeCall::GpuJobs(call));
			},
			Action::CommitReport { pick, available, challenge_ok, latency, lag, salt } => {
				let report = ProbeReport {
					available,
					challenge_ok,
					latency_ms: u32::from(latency),
					sync_lag: u32::from(lag),
					evidence: None,
				};
				// As a verifier's off-chain worker does: a report on every node it is drawn for.
				for (epoch, target, verifier, key) in chain.execute(|| report_slots(pick)) {
					let salt = [salt; 32];
					let commitment = report.commitment(epoch, &target, &verifier, &salt);
					let call =
						RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::commit_report {
							node: target.clone(),
							commitment,
						});
					let pair = signer(key);
					if submit(chain, state, &pair, call) {
						let key = AccountId::from(pair.public());
						state.reports.insert((key, target, epoch), (report.clone(), salt));
					}
				}
			},
			Action::RevealReport { pick } => {
				for (epoch, target, _, key) in chain.execute(|| report_slots(pick)) {
					let pair = signer(key);
					let key = AccountId::from(pair.public());
					// Nothing committed: an empty report with a zero salt (refused, but a call).
					let (report, salt) =
						state.reports.get(&(key, target.clone(), epoch)).cloned().unwrap_or((
							ProbeReport {
								available: false,
								challenge_ok: false,
								latency_ms: 0,
								sync_lag: 0,
								evidence: None,
							},
							[0; 32],
						));
					let call =
						RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::reveal_report {
							node: target,
							report,
							salt,
						});
					submit(chain, state, &pair, call);
				}
			},
			Action::NameCommit { who, label, owner, secret } => {
				let label = LABELS[usize::from(label) % 4];
				let commitment = pallet_naming::Pallet::<Runtime>::commitment_of(
					label,
					&account(owner),
					&[secret; 32],
				);
				submit(
					chain,
					state,
					&signer(who),
					RuntimeCall::Naming(Naming::commit { commitment }),
				);
			},
			Action::NameRegister { who, label, owner, secret, years } => {
				let call = Naming::register {
					label: LABELS[usize::from(label) % 4].to_vec(),
					owner: account(owner),
					secret: [secret; 32],
					years: u32::from(years % 4),
				};
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::NameRenew { who, name, years } => {
				let call = Naming::renew { name: name_id(name), years: u32::from(years % 4) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::NameTransfer { who, name, to } => {
				let call = Naming::transfer { name: name_id(name), to: account(to) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::NameRelease { who, name } => {
				let call = Naming::release { name: name_id(name) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::SetSubname { who, parent, label, owner } => {
				let call = Naming::set_subname {
					parent: name_id(parent),
					label: SUBLABELS[usize::from(label) % 3].to_vec(),
					owner: account(owner),
				};
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::RevokeSubname { who, name } => {
				let call = Naming::revoke_subname { name: name_id(name) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::GiveUpControl { who, name } => {
				let call = Naming::give_up_control { name: name_id(name) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::SetRecords { who, name, kind, values } => {
				let kind = RecordKind::decode(&mut &[kind % 8][..]).unwrap_or(RecordKind::A);
				let values: Vec<_> =
					values.into_iter().take(8).filter_map(|v| v.try_into().ok()).collect();
				let Ok(values) = values.try_into() else { return };
				let call = Naming::set_records { name: name_id(name), kind, values };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::SetTtl { who, name, ttl } => {
				let call = Naming::set_ttl { name: name_id(name), ttl };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::SetPrimaryName { who, name } => {
				let call = Naming::set_primary_name { name: name.map(name_id) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::RemoveStale { who, name } => {
				let call = Naming::remove_stale { name: name_id(name) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::RemoveExpiredCommitments { who, of } => {
				let call = Naming::remove_expired_commitments { who: account(of) };
				submit(chain, state, &signer(who), RuntimeCall::Naming(call));
			},
			Action::DepositRevenue { who, mantissa, exponent } => {
				let call =
					pallet_tokenomics::Call::deposit_revenue { amount: amount(mantissa, exponent) };
				submit(chain, state, &signer(who), RuntimeCall::Tokenomics(call));
			},
			Action::ExecuteBuyback { who } => {
				let call = RuntimeCall::Tokenomics(pallet_tokenomics::Call::execute_buyback {});
				submit(chain, state, &signer(who), call);
			},
			Action::PlaceOrder { client, size, slots, data, duration, price } => {
				use dsync_primitives::storage::{pieces::slot_root, Cid};
				let size = u64::from(size) * 97 + 1;
				let slots = slots % 4 + 1;
				let data = data % slots + 1;
				let specs: Vec<pallet_storage::SlotSpec> = (0..slots)
					.map(|j| {
						let bytes = slot_bytes(size, data, j);
						pallet_storage::SlotSpec {
							root: slot_root(&bytes),
							len: bytes.len() as u64,
						}
					})
					.collect();
				let call = pallet_storage::Call::place_order {
					cid: Cid::raw(&size.to_le_bytes()),
					size,
					data_shards: data,
					slots: specs.try_into().expect("at most 4 slots"),
					duration: u32::from(duration % 4) + 1,
					price: DSYNC / 1000 * Balance::from(price % 3 + 1),
				};
				let id = chain.execute(pallet_storage::NextOrderId::<Runtime>::get);
				if submit(chain, state, &signer(client), RuntimeCall::Storage(call)) {
					state.orders.push((id, size, data));
				}
			},
			Action::AcceptSlot { signer: who, order, slot, valid } => {
				let Some(&(id, size, data)) = pick(&state.orders, order) else { return };
				let challenge = chain
					.execute(|| pallet_storage::Orders::<Runtime>::get(id))
					.and_then(|o| {
						match o.slots.get(usize::from(slot % 4)).map(|s| s.state.clone()) {
							Some(pallet_storage::SlotState::Offered { challenge, .. }) => {
								Some(challenge)
							},
							_ => None,
						}
					})
					.unwrap_or(0);
				let index = if valid { challenge } else { challenge + 1 };
				let call = pallet_storage::Call::accept_slot {
					order: id,
					slot: slot % 4,
					proof: piece_proof(size, data, slot % 4, index),
				};
				submit(chain, state, &signer(who), RuntimeCall::Storage(call));
			},
			Action::ProveSlot { signer: who, order, slot, valid } => {
				let Some(&(id, size, data)) = pick(&state.orders, order) else { return };
				let epoch = chain.execute(pallet_storage::Pallet::<Runtime>::current_epoch);
				let challenges = chain
					.execute(|| pallet_storage::Pallet::<Runtime>::challenges(id, slot % 4, epoch))
					.unwrap_or_default();
				let proofs: Vec<_> = challenges
					.into_iter()
					.map(|index| {
						let j = if valid { slot % 4 } else { (slot + 1) % 4 };
						piece_proof(size, data, j, index)
					})
					.collect();
				let call = pallet_storage::Call::prove_slot {
					order: id,
					slot: slot % 4,
					epoch,
					proofs: proofs.try_into().unwrap_or_default(),
				};
				submit(chain, state, &signer(who), RuntimeCall::Storage(call));
			},
			Action::CancelOrder { client, order } => {
				let Some(&(id, _, _)) = pick(&state.orders, order) else { return };
				let call = pallet_storage::Call::cancel_order { order: id };
				submit(chain, state, &signer(client), RuntimeCall::Storage(call));
			},
			Action::Raw { signer: who, pallet, call } => {
				let index = RAW_PALLETS[usize::from(pallet) % RAW_PALLETS.len()];
				if let Some(call) = decode_call(index, &call) {
					submit(chain, state, &signer(who), call);
				}
			},
			Action::Repeat(_) => {},
			Action::Sudo { pallet, call } => {
				let index = SUDO_PALLETS[usize::from(pallet) % SUDO_PALLETS.len()];
				if let Some(call) = decode_call(index, &call) {
					let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
					submit(chain, state, &signer(0), call);
				}
			},
		}
	}
}

/// Item `index` of `items`, modulo their number; `None` when there are none.
fn pick<T>(items: &[T], index: u8) -> Option<&T> {
	match items.len() {
		0 => None,
		n => items.get(usize::from(index) % n),
	}
}

/// The Proof-of-Sync slots of the current epoch's assignments whose verifier node's key is in
/// the pool (sorted by target, then slot order, rotated to start at slot `pick`), each as its
/// epoch, target, verifier (owner) and the pool index of the verifier node's key. Without any:
/// Alice's verifier key (signer 11) on Bob's node (refused, but a call).
fn report_slots(pick: u8) -> Vec<(u32, AccountId, AccountId, u8)> {
	let epoch = pallet_proof_of_sync::Epoch::<Runtime>::get().index;
	let mut slots: Vec<(AccountId, AccountId)> =
		pallet_proof_of_sync::Assignments::<Runtime>::iter()
			.filter(|(_, assignment)| assignment.epoch == epoch)
			.flat_map(|(target, assignment)| {
				assignment.slots.into_iter().map(move |slot| (target.clone(), slot.verifier))
			})
			.collect();
	slots.sort();
	if !slots.is_empty() {
		let len = slots.len();
		slots.rotate_left(usize::from(pick) % len);
	}
	let picked: Vec<_> = slots
		.into_iter()
		.filter_map(|(target, verifier)| {
			let key = pallet_node_registry::Nodes::<Runtime>::get(&verifier)?.offchain_key;
			let index = (0..12u8).find(|i| account(*i) == key)?;
			Some((epoch, target, verifier, index))
		})
		.collect();
	if picked.is_empty() {
		return vec![(epoch, account(1), account(0), 11)];
	}
	picked
}

/// The snapshot's setup (see the crate docs), through real transactions but for the GPU nodes'
/// activation and scores, which Proof of Sync would take epochs of probing to give.
pub fn setup(chain: &mut Chain) {
	let mut state = State::default();
	chain.open(1);
	let alice = signer(0);
	for key in keys() {
		let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: MultiAddress::Id(AccountId::from(key.public())),
			value: 1_000 * DSYNC,
		});
		assert!(submit(chain, &mut state, &alice, call), "funding a key");
	}
	let params = chain.execute(pallet_proof_of_sync::Params::<Runtime>::get);
	let params = pallet_proof_of_sync::ProofOfSyncParams {
		epoch_length: 6,
		verifiers_per_node: 1,
		warmup_epochs: 1,
		..params
	};
	let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
		call: Box::new(RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::set_parameters {
			parameters: params,
		})),
	});
	assert!(submit(chain, &mut state, &alice, call), "short Proof-of-Sync epochs");
	// Alice's validator node (key 5), GPU nodes of Bob, Charlie and Dave (keys 0, 1, 2).
	for (owner, key, validator) in [(0u8, 5u8, true), (1, 0, false), (2, 1, false), (3, 2, false)] {
		Action::RegisterNode { owner, key, validator, gpu: !validator, extra: 0 }
			.apply(chain, &mut state);
		let registered =
			chain.execute(|| pallet_node_registry::Nodes::<Runtime>::contains_key(account(owner)));
		assert!(registered, "setup registers node {owner}");
	}
	chain.close(true);
	chain.execute(|| {
		for owner in 1..4u8 {
			let owner = account(owner);
			NodeRegistry::set_status(&owner, NodeStatus::Active).expect("a registered node");
			pallet_proof_of_sync::Scores::<Runtime>::insert(
				&owner,
				pallet_proof_of_sync::NodeScore {
					score: Perbill::from_percent(80),
					..Default::default()
				},
			);
		}
	});
	chain.ext.commit_all().expect("committing the overlay works");
}

/// A named seed: its actions.
fn seed(name: &str, actions: Vec<Action>) -> (String, Vec<u8>) {
	(name.to_string(), actions.into_iter().flat_map(|a| a.encode()).collect())
}

/// The index of `call`'s pallet in `pallets` (0 when absent) and the call's encoding after it.
fn encoded_in(pallets: &[u8], call: RuntimeCall) -> (u8, Vec<u8>) {
	let encoded = call.encode();
	let pallet = pallets.iter().position(|p| Some(p) == encoded.first()).unwrap_or(0) as u8;
	(pallet, encoded[1..].to_vec())
}

/// A `Sudo` action for `call` (of one of `SUDO_PALLETS`).
fn sudo(call: RuntimeCall) -> Action {
	let (pallet, call) = encoded_in(&SUDO_PALLETS, call);
	Action::Sudo { pallet, call }
}

/// A `Raw` action for `call` (of one of `RAW_PALLETS`) signed by `signer`.
fn raw(signer: u8, call: RuntimeCall) -> Action {
	let (pallet, call) = encoded_in(&RAW_PALLETS, call);
	Action::Raw { signer, pallet, call }
}

/// The seed corpus: one input per flow the fuzzer should start from (`replay --write-seeds`
/// writes them to `fuzz/corpus/runtime/seed-<name>`).
pub fn seeds() -> Vec<(String, Vec<u8>)> {
	use Action::*;
	// Bob's, Charlie's and Dave's workers are signers 6, 7, 8.
	let job_round = |honest: [bool; 3]| -> Vec<Action> {
		let mut actions = vec![
			PostJob { client: 4, input: 7, replication: 2, price: 1, deadline: 12 },
			SkipBlocks(2),
		];
		for (i, honest) in honest.into_iter().enumerate() {
			actions.push(CommitResult { signer: 6 + i as u8, job: 0, honest, salt: i as u8 });
		}
		actions.push(SkipBlocks(8));
		for i in 0..3 {
			actions.push(RevealResult { signer: 6 + i, job: 0 });
		}
		actions
	};
	let mut honest = job_round([true, true, true]);
	honest.extend([SkipBlocks(15), Settle { who: 4, job: 0 }, SkipBlocks(15)]);
	let mut disputed = job_round([true, false, true]);
	disputed.extend([
		Challenge { signer: 6, job: 0, result: 0 },
		Challenge { signer: 7, job: 0, result: 1 },
		ResolveByExecution { who: 5, job: 0, claims: 0xff },
		NextBlock,
		ResolveByExecution { who: 5, job: 0, claims: 0x01 },
		SkipBlocks(15),
		Settle { who: 5, job: 0 },
	]);
	let registry = vec![
		Transfer { from: 0, to: 10, mantissa: 100, exponent: 18, keep_alive: true },
		RegisterNode { owner: 4, key: 3, validator: false, gpu: true, extra: 3 },
		NextBlock,
		BondExtra { owner: 4, mantissa: 5, exponent: 18 },
		UpdateDeclaration { owner: 4, gpu: false, cores: 8 },
		Unbond { owner: 4, mantissa: 1, exponent: 18 },
		SkipBlocks(15),
		WithdrawUnbonded { owner: 4 },
		SetOffchainKey { owner: 4, key: 4 },
		Exit { owner: 4 },
		NewSession,
		WithdrawUnbonded { owner: 4 },
		Reactivate { owner: 1 },
	];
	let mut pos = vec![SkipBlocks(6)];
	for round in 0..3u8 {
		for pick in 0..3u8 {
			pos.push(CommitReport {
				pick,
				available: pick != 1,
				challenge_ok: round != 2,
				latency: 100 * u16::from(pick),
				lag: pick,
				salt: pick,
			});
		}
		pos.push(SkipBlocks(1));
		for pick in 0..3u8 {
			pos.push(RevealReport { pick });
		}
		pos.push(SkipBlocks(5));
	}
	let a_record =
		|name: u8| SetRecords { who: 1, name, kind: 0, values: vec![vec![10, 0, 0, name]] };
	let naming = vec![
		NameCommit { who: 1, label: 0, owner: 1, secret: 1 },
		NameCommit { who: 2, label: 1, owner: 3, secret: 2 },
		SkipBlocks(1),
		NameRegister { who: 1, label: 0, owner: 1, secret: 1, years: 1 },
		NameRegister { who: 2, label: 1, owner: 3, secret: 2, years: 2 },
		SetSubname { who: 1, parent: 0, label: 0, owner: 2 },
		SetSubname { who: 1, parent: 0, label: 1, owner: 1 },
		a_record(0),
		a_record(8),
		SetTtl { who: 1, name: 0, ttl: 600 },
		SetPrimaryName { who: 1, name: Some(0) },
		GiveUpControl { who: 1, name: 4 },
		RevokeSubname { who: 1, name: 8 },
		NameTransfer { who: 1, name: 0, to: 4 },
		NameRenew { who: 4, name: 0, years: 1 },
		NameRelease { who: 4, name: 0 },
		RemoveStale { who: 5, name: 4 },
		NameCommit { who: 5, label: 2, owner: 5, secret: 3 },
		SkipBlocks(15),
		SkipBlocks(15),
		SkipBlocks(15),
		SkipBlocks(15),
		SkipBlocks(15),
		SkipBlocks(15),
		SkipBlocks(15),
		RemoveExpiredCommitments { who: 0, of: 5 },
		NameRegister { who: 2, label: 1, owner: 2, secret: 9, years: 1 },
	];
	let tokenomics = vec![
		DepositRevenue { who: 0, mantissa: 10, exponent: 12 },
		ExecuteBuyback { who: 1 },
		sudo(RuntimeCall::Tokenomics(pallet_tokenomics::Call::set_fee_split {
			rates: Default::default(),
		})),
		SkipBlocks(3),
		ExecuteBuyback { who: 2 },
	];
	let raw_calls = vec![
		raw(
			1,
			RuntimeCall::Utility(pallet_utility::Call::batch_all {
				calls: vec![
					RuntimeCall::Balances(BalancesCall::transfer_allow_death {
						dest: MultiAddress::Id(account(9)),
						value: DSYNC,
					}),
					RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::settle { job: 0 }),
				],
			}),
		),
		raw(
			4,
			RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::register_model {
				model_bytes: DIGITS_64_128_64_10.to_vec().try_into().unwrap_or_default(),
				price_floor: DSYNC,
			}),
		),
		sudo(RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::set_model_status {
			model: 0,
			active: false,
		})),
		PostJob { client: 4, input: 1, replication: 1, price: 1, deadline: 20 },
		sudo(RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::set_model_status {
			model: 0,
			active: true,
		})),
		PostJob { client: 4, input: 1, replication: 1, price: 1, deadline: 20 },
		SkipSlots(3),
		Transfer { from: 5, to: 0, mantissa: 255, exponent: 23, keep_alive: false },
	];
	// Many calls per block: every pallet's common calls, each repeated.
	let bulk = vec![
		Repeat(31),
		Transfer { from: 1, to: 4, mantissa: 3, exponent: 15, keep_alive: true },
		Repeat(15),
		PostJob { client: 4, input: 3, replication: 1, price: 1, deadline: 30 },
		Repeat(31),
		NameCommit { who: 2, label: 3, owner: 2, secret: 7 },
		NextBlock,
		Repeat(31),
		CommitReport { pick: 0, available: true, challenge_ok: true, latency: 5, lag: 0, salt: 1 },
		Repeat(31),
		DepositRevenue { who: 0, mantissa: 1, exponent: 9 },
		Repeat(31),
		BondExtra { owner: 1, mantissa: 1, exponent: 12 },
		Repeat(31),
		SetRecords { who: 1, name: 0, kind: 2, values: vec![b"text".to_vec()] },
		SkipBlocks(2),
		Repeat(31),
		CommitResult { signer: 6, job: 3, honest: true, salt: 4 },
		Repeat(31),
		ExecuteBuyback { who: 3 },
	];
	// Bob (1) and Charlie (2) order two slots each (one data shard, one copy) from the other
	// providers; every worker key (6, 7, 8) tries every slot, honestly; then the workers prove,
	// one of them with the wrong bytes.
	let mut storage = vec![
		RegisterNode { owner: 4, key: 3, validator: false, gpu: false, extra: 1 },
		PlaceOrder { client: 1, size: 300, slots: 1, data: 0, duration: 2, price: 0 },
		PlaceOrder { client: 2, size: 40_000, slots: 1, data: 0, duration: 3, price: 2 },
		PlaceOrder { client: 3, size: 7, slots: 3, data: 1, duration: 1, price: 1 },
		SkipBlocks(1),
	];
	for order in 0..2u8 {
		for slot in 0..2u8 {
			for signer in 6..9u8 {
				storage.push(AcceptSlot { signer, order, slot, valid: true });
			}
		}
	}
	storage.push(AcceptSlot { signer: 6, order: 2, slot: 0, valid: false });
	storage.push(SkipBlocks(10));
	for order in 0..2u8 {
		for slot in 0..2u8 {
			for signer in 6..9u8 {
				storage.push(ProveSlot { signer, order, slot, valid: signer != 8 });
			}
		}
	}
	storage.extend([SkipBlocks(15), CancelOrder { client: 3, order: 2 }, SkipBlocks(15)]);
	vec![
		seed("bulk", bulk),
		seed("gpu-honest", honest),
		seed("gpu-disputed", disputed),
		seed("registry", registry),
		seed("proof-of-sync", pos),
		seed("naming", naming),
		seed("tokenomics", tokenomics),
		seed("raw-calls", raw_calls),
		seed("storage", storage),
	]
}
