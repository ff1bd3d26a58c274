//! Whole-runtime fuzzing of the DSYNC runtime (issue 18).
//!
//! An input is a sequence of [`Action`]s, SCALE-decoded one after the other (a byte that does not
//! start a valid action is skipped, so every mutation of an input still runs). The actions drive
//! the real runtime (`std`, `try-runtime`) block by block through `Executive`
//! ([`chain::Chain`]): structure-aware actions over small pools of accounts, off-chain keys,
//! jobs and names (the harness remembers what it committed, so reveals can match), and raw
//! decoded `RuntimeCall`s, signed or under sudo; every transaction goes through the transaction
//! pool's validation and the full transaction-extension pipeline. After every block,
//! [`invariants::check_all`]; after every included call, its execution time against its declared
//! weight ([`time_factor`]).
//!
//! Every input starts from one snapshot (built once per process, [`snapshot`]): the development
//! preset, short Proof-of-Sync epochs, Alice's validator node (off-chain key `KEYS[5]`), and
//! GPU service nodes of Bob, Charlie and Dave (keys `KEYS[0..3]`) active and scored for the
//! genesis digits model; every key funded. Eve and Ferdie have no node (keys 3 and 4 are free).
//!
//! Entry points: [`run`] (one input), the libFuzzer target `fuzz_targets/runtime.rs`, the
//! `replay` binary (a corpus, in CI), and [`seeds`] (the committed seed corpus's generator).

pub mod actions;
pub mod chain;
pub mod invariants;
pub mod stats;

pub use actions::Action;

use chain::Chain;
use codec::Decode;
use dsync_primitives::{AccountId, Balance, Hash};
use dsync_runtime::{genesis_config_presets, RuntimeGenesisConfig};
use sp_core::{sr25519, Pair as _};
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;
use std::sync::OnceLock;

/// Most actions of one input, and most blocks it may produce (a job's whole life, commit to
/// settlement, takes about 20 blocks on the development preset; a Proof-of-Sync epoch 6).
pub const MAX_ACTIONS: usize = 192;
pub const MAX_BLOCKS: u32 = 48;

/// The blocks an input may produce: `DSYNC_FUZZ_MAX_BLOCKS` (1 to [`MAX_BLOCKS`], default
/// [`MAX_BLOCKS`]). A block costs about eight calls' time (its hooks and every invariant), so a
/// campaign that must dispatch many calls may lower it; the committed corpus, replayed at the
/// default, keeps the inputs that run whole job lives.
pub fn max_blocks() -> u32 {
	static BLOCKS: OnceLock<u32> = OnceLock::new();
	*BLOCKS.get_or_init(|| {
		std::env::var("DSYNC_FUZZ_MAX_BLOCKS")
			.ok()
			.and_then(|v| v.parse().ok())
			.unwrap_or(MAX_BLOCKS)
			.clamp(1, MAX_BLOCKS)
	})
}

/// The owner accounts: the development keyring (Alice is sudo and the validator).
pub const OWNERS: [Sr25519Keyring; 6] = [
	Sr25519Keyring::Alice,
	Sr25519Keyring::Bob,
	Sr25519Keyring::Charlie,
	Sr25519Keyring::Dave,
	Sr25519Keyring::Eve,
	Sr25519Keyring::Ferdie,
];

/// The off-chain keys of the pool.
pub fn keys() -> &'static [sr25519::Pair; 6] {
	static KEYS: OnceLock<[sr25519::Pair; 6]> = OnceLock::new();
	KEYS.get_or_init(|| core::array::from_fn(|i| sr25519::Pair::from_seed(&[0x40 + i as u8; 32])))
}

/// Signer `index` of the pool of twelve: the six owners, then the six off-chain keys.
pub fn signer(index: u8) -> sr25519::Pair {
	// Derived once: a keyring pair comes from its mnemonic through 2,048 rounds of PBKDF2.
	static PAIRS: OnceLock<Vec<sr25519::Pair>> = OnceLock::new();
	let pairs = PAIRS.get_or_init(|| {
		OWNERS.iter().map(|owner| owner.pair()).chain(keys().iter().cloned()).collect()
	});
	pairs[usize::from(index) % pairs.len()].clone()
}

/// The account of signer `index`.
pub fn account(index: u8) -> AccountId {
	AccountId::from(signer(index).public())
}

/// The scale applied to declared weights before comparing execution times with them
/// (`DSYNC_FUZZ_TIME_FACTOR`, default 1.0): the instrumented native build is neither the Wasm
/// the weights were measured with nor the reference machine.
pub fn time_factor() -> f64 {
	static FACTOR: OnceLock<f64> = OnceLock::new();
	*FACTOR.get_or_init(|| {
		std::env::var("DSYNC_FUZZ_TIME_FACTOR")
			.ok()
			.and_then(|v| v.parse().ok())
			.unwrap_or(1.0)
	})
}

/// Whether a call over its weight fails the input (`DSYNC_FUZZ_TIME=fail`, the default) or is
/// only recorded in the statistics (`DSYNC_FUZZ_TIME=record`).
pub fn time_checks_fail() -> bool {
	static FAIL: OnceLock<bool> = OnceLock::new();
	*FAIL.get_or_init(|| std::env::var("DSYNC_FUZZ_TIME").map_or(true, |v| v != "record"))
}

/// Merge a JSON patch into a JSON value, as the node does with a preset over the default config.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn development_genesis() -> sp_io::TestExternalities {
	let patch = genesis_config_presets::get_preset(&genesis_config_presets::DEVELOPMENT.into())
		.expect("the development preset exists");
	let patch: serde_json::Value = serde_json::from_slice(&patch).expect("presets are JSON");
	let mut config =
		serde_json::to_value(RuntimeGenesisConfig::default()).expect("the config serialises");
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("the preset fits the genesis config");
	sp_io::TestExternalities::new(config.build_storage().expect("genesis builds"))
}

/// A raw trie snapshot's nodes: (key, (value, reference count)), as
/// `TestExternalities::into_raw_snapshot` gives them.
type RawTrie = Vec<(Vec<u8>, (Vec<u8>, i32))>;

/// The state every input starts from, as a raw trie snapshot, with its head block and slot.
struct Snapshot {
	raw: RawTrie,
	root: Hash,
	head: (Hash, u64),
}

fn snapshot() -> &'static Snapshot {
	static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
	SNAPSHOT.get_or_init(|| {
		let mut chain = Chain::at_genesis(development_genesis());
		chain.open(1);
		chain.close(true);
		actions::setup(&mut chain);
		let head = chain.head();
		let ext = chain.ext;
		let (raw, root) = ext.into_raw_snapshot();
		Snapshot { raw, root, head }
	})
}

/// A chain at the snapshot, with the next block open.
pub fn fresh_chain() -> Chain {
	let snapshot = snapshot();
	let ext = sp_io::TestExternalities::from_raw_snapshot(
		snapshot.raw.clone(),
		snapshot.root,
		dsync_runtime::VERSION.state_version(),
	);
	let mut chain = Chain::new(ext, snapshot.head.0, snapshot.head.1);
	chain.open(1);
	chain
}

/// The actions of `data`: decoded one after the other; a byte that does not start a valid
/// action is skipped. At most [`MAX_ACTIONS`].
pub fn decode_actions(mut data: &[u8]) -> Vec<Action> {
	let mut actions = Vec::new();
	while !data.is_empty() && actions.len() < MAX_ACTIONS {
		let mut cursor = data;
		match Action::decode(&mut cursor) {
			Ok(action) => {
				actions.push(action);
				data = cursor;
			},
			Err(_) => data = &data[1..],
		}
	}
	actions
}

/// Run one input: its actions from the snapshot, then the last block closed (and checked).
pub fn run(data: &[u8]) {
	let actions = decode_actions(data);
	let started = std::time::Instant::now();
	let mut chain = fresh_chain();
	stats::phase("snapshot", started.elapsed());
	let mut state = actions::State::default();
	let mut times = 1;
	for action in actions {
		if let Action::Repeat(n) = action {
			times = usize::from(n % 32) + 1;
			continue;
		}
		for _ in 0..std::mem::replace(&mut times, 1) {
			if state.blocks >= max_blocks() {
				break;
			}
			action.clone().apply(&mut chain, &mut state);
		}
	}
	chain.close(true);
	stats::input();
}

/// An amount from two fuzzed bytes: `mantissa × 10^(exponent % 24)` in plancks.
pub fn amount(mantissa: u8, exponent: u8) -> Balance {
	Balance::from(mantissa) * 10u128.pow(u32::from(exponent % 24))
}

pub use actions::seeds;
