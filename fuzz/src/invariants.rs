//! What must hold after every block, whatever the transactions were. A violation panics with
//! its reason (a crash for libFuzzer, a failed input for the replay).
//!
//! 1. `try_state` of every pallet of the runtime (`AllPalletsWithSystem`, all checks; see
//!    [`SLOW_CHECKS`] for the campaign's one exception).
//! 2. The total issuance is the sum of every account's free and reserved balance (holds are
//!    part of reserved).
//! 3. Every hold under a custom pallet's reason is backed by exactly its records, and every
//!    record by its hold: a client's `Escrow` hold is the escrow of its open jobs; a `Bond` hold
//!    is its node's bond plus unbonding; a `SubnameDeposit` hold is the deposits of the subnames
//!    the account paid for; a `CommitmentDeposit` hold is the deposits of its name commitments.
//!    The pallets' own `try_state` checks the records-to-holds direction for the accounts with
//!    records; this walks every hold in `pallet_balances::Holds` for the other, which no pallet
//!    can (the currency traits cannot list the holders of a reason).
//! 4. The escrow of the open jobs (`OpenEscrow`) is the sum of all `Escrow` holds.

use dsync_primitives::{AccountId, Balance, BlockNumber};
use dsync_runtime::{AllPalletsWithSystem, Runtime, RuntimeHoldReason};
use frame_support::traits::{PalletsInfoAccess, TryState, TryStateSelect};
use std::collections::BTreeMap;

/// The pallets whose `try_state` costs most of a block's checks in the fuzzer (bags-list walks
/// every bag threshold, staking every ledger): with `DSYNC_FUZZ_SLOW_CHECKS_EVERY=n`, they are
/// checked every `n`th block and at the end of every input, every other pallet after every
/// block. Default 1: all of them after every block (CI's replay).
const SLOW_CHECKS: [&str; 2] = ["VoterList", "Staking"];

fn slow_checks_every() -> u32 {
	static EVERY: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
	*EVERY.get_or_init(|| {
		std::env::var("DSYNC_FUZZ_SLOW_CHECKS_EVERY")
			.ok()
			.and_then(|v| v.parse().ok())
			.unwrap_or(1)
			.max(1)
	})
}

/// Check every invariant on the current state; panic with the first violation. `last`: the
/// input's last block, where every `try_state` runs whatever [`SLOW_CHECKS`] says.
pub fn check_all(block: BlockNumber, last: bool) {
	let select = if last || block.is_multiple_of(slow_checks_every()) {
		TryStateSelect::All
	} else {
		static FAST: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
		TryStateSelect::Only(
			FAST.get_or_init(|| {
				<AllPalletsWithSystem as PalletsInfoAccess>::infos()
					.into_iter()
					.filter(|info| !SLOW_CHECKS.contains(&info.name))
					.map(|info| info.name.as_bytes().to_vec())
					.collect()
			})
			.clone(),
		)
	};
	if let Err(error) = AllPalletsWithSystem::try_state(block, select) {
		panic!("try_state failed at block {block}: {error:?}");
	}
	issuance(block);
	holds(block);
}

fn issuance(block: BlockNumber) {
	let mut sum: Balance = 0;
	for (_, account) in frame_system::Account::<Runtime>::iter() {
		sum = sum
			.checked_add(account.data.free)
			.and_then(|s| s.checked_add(account.data.reserved))
			.expect("balances overflow");
	}
	let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	assert_eq!(issuance, sum, "block {block}: total issuance differs from the accounts' sum");
}

fn holds(block: BlockNumber) {
	// What the records say each account must hold, per custom reason.
	let mut escrow: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for (_, job) in pallet_gpu_jobs::Jobs::<Runtime>::iter() {
		*escrow.entry(job.client.clone()).or_default() += job.escrow();
	}
	let mut bonds: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for (owner, node) in pallet_node_registry::Nodes::<Runtime>::iter() {
		bonds.insert(owner, node.total_held());
	}
	let mut subname_deposits: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for (_, info) in pallet_naming::Names::<Runtime>::iter() {
		if info.deposit != 0 {
			*subname_deposits.entry(info.depositor.clone()).or_default() += info.deposit;
		}
	}
	let mut commitment_deposits: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for (who, list) in pallet_naming::Commitments::<Runtime>::iter() {
		commitment_deposits.insert(who, list.iter().map(|c| c.deposit).sum());
	}

	// What is held, per custom reason.
	let (mut held_escrow, mut held_bonds, mut held_subnames, mut held_commitments) =
		(BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
	for (who, list) in pallet_balances::Holds::<Runtime>::iter() {
		for (i, hold) in list.iter().enumerate() {
			assert!(hold.amount != 0, "block {block}: {who} holds nothing under {:?}", hold.id);
			assert!(
				list.iter().skip(i + 1).all(|other| other.id != hold.id),
				"block {block}: {who} holds twice under {:?}",
				hold.id
			);
			let into = match hold.id {
				RuntimeHoldReason::GpuJobs(pallet_gpu_jobs::HoldReason::Escrow) => &mut held_escrow,
				RuntimeHoldReason::NodeRegistry(pallet_node_registry::HoldReason::Bond) => {
					&mut held_bonds
				},
				RuntimeHoldReason::Naming(pallet_naming::HoldReason::SubnameDeposit) => {
					&mut held_subnames
				},
				RuntimeHoldReason::Naming(pallet_naming::HoldReason::CommitmentDeposit) => {
					&mut held_commitments
				},
				_ => continue,
			};
			into.insert(who.clone(), hold.amount);
		}
	}
	let without_zeros = |map: BTreeMap<AccountId, Balance>| -> BTreeMap<AccountId, Balance> {
		map.into_iter().filter(|(_, amount)| *amount != 0).collect()
	};
	assert_eq!(
		held_escrow,
		without_zeros(escrow),
		"block {block}: escrow holds differ from open jobs"
	);
	assert_eq!(held_bonds, without_zeros(bonds), "block {block}: bond holds differ from nodes");
	assert_eq!(
		held_subnames,
		without_zeros(subname_deposits),
		"block {block}: subname deposit holds differ from subnames"
	);
	assert_eq!(
		held_commitments,
		without_zeros(commitment_deposits),
		"block {block}: commitment deposit holds differ from commitments"
	);
	let open: Balance = held_escrow.values().sum();
	assert_eq!(
		pallet_gpu_jobs::OpenEscrow::<Runtime>::get(),
		open,
		"block {block}: OpenEscrow differs from the escrow holds"
	);
}
