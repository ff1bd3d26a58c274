//! Genesis presets: the initial state of the chains the node knows.
//!
//! | preset | validators | sudo | governance timing | purpose |
//! | --- | --- | --- | --- | --- |
//! | `development` | Alice | Alice | fast (periods of a few blocks) | single-node chain for development (`--dev`) |
//! | `local_testnet` | Alice, Bob, Charlie, Dave | none: governed by referenda from genesis | standard (hours and days) | four-validator network on one machine or a LAN (`--chain local`) |
//!
//! ## Allocation
//!
//! Total issuance at genesis is exactly [`GENESIS_TOTAL_ISSUANCE`](dsync_primitives::currency::GENESIS_TOTAL_ISSUANCE) (1,000,000,000 DSYNC). Both
//! presets are test networks:
//!
//! | holder | DSYNC |
//! | --- | --- |
//! | each of the ten development accounts ([`endowed_accounts`]: Alice, Bob, Charlie, Dave, Eve, Ferdie and the `//stash` accounts of the first four) | 99,000,000 ([`DEV_ACCOUNT_ENDOWMENT`]) |
//! | the treasury account (`py/trsry`) | 9,999,999 ([`TREASURY_ENDOWMENT`]) |
//! | the tokenomics revenue account (`dsy/tkns`), which must exist to hold bought-back DSYNC for the instant before it is burned | 1 ([`REVENUE_ACCOUNT_ENDOWMENT`]) |
//!
//! Out of their balances:
//!
//! - each validator bonds [`VALIDATOR_BOND`] (1,000,000 DSYNC) as its own stash;
//! - in `local_testnet`, Eve and Ferdie nominate all four validators with [`NOMINATOR_BOND`]
//!   (500,000 DSYNC) each.
//!
//! The stable revenue asset USDd (asset 1, 6 decimals, sufficient) exists from genesis, owned by
//! Alice, with 10,000,000 USDd each for Alice and Bob so that pools and revenue deposits can be
//! tried at once. The tokenomics parameters at genesis ([`tokenomics_genesis`]): fees burn 30 %,
//! 20 % to the treasury, 50 % and tips to the author; GPU inference, storage and other services
//! burn 10 % and give 5 % (10 % for other) to the treasury; name rents burn 50 % and give the rest
//! to the treasury; 10 % of revenue buys DSYNC back, at most 1,000 USDd per buyback, at most once
//! every 10 blocks, within 2 % of the oracle price.
//!
//! Session keys of each validator are the well-known development keys of the same name
//! (sr25519 for BABE, ed25519 for GRANDPA), which the node puts in its keystore with `--alice`,
//! `--bob`, ... so these chains run without manual key insertion.

use crate::{
	configs::staking::{MIN_NOMINATOR_BOND, MIN_VALIDATOR_BOND},
	constants::{TokenomicsPalletId, TreasuryAccount, STABLE_ASSET_ID, USDD},
	governance::origins::Timing,
	AccountId, AssetsConfig, BabeConfig, Balance, BalancesConfig, BlockNumber, GpuJobsConfig,
	NamingConfig, NodeRegistryConfig, OriginsConfig, ProofOfSyncConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, StakingConfig, StorageConfig, SudoConfig, TokenomicsConfig,
	BABE_GENESIS_EPOCH_CONFIG,
};
use alloc::{vec, vec::Vec};
use dsync_primitives::currency::DSYNC;
use dsync_primitives::time::{DAYS, MINUTES};
use frame_support::build_struct_json_patch;
use pallet_gpu_jobs::GpuJobsParams;
use pallet_naming::{NamingParams, DEFAULT_COMMITMENT_DEPOSIT};
use pallet_node_registry::NodeRegistryParams;
use pallet_proof_of_sync::ProofOfSyncParams;
use pallet_staking::StakerStatus;
use pallet_storage::StorageParams;
use pallet_tokenomics::{BuybackParams, ServiceRatesGenesis, SplitRates};
use serde_json::Value;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{traits::AccountIdConversion, Perbill};

/// Name of the single-validator development preset.
pub const DEVELOPMENT: &str = sp_genesis_builder::DEV_RUNTIME_PRESET;
/// Name of the four-validator local testnet preset.
pub const LOCAL_TESTNET: &str = sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET;

/// DSYNC each development account holds at genesis.
pub const DEV_ACCOUNT_ENDOWMENT: Balance = 99_000_000 * DSYNC;
/// DSYNC the treasury account holds at genesis.
pub const TREASURY_ENDOWMENT: Balance = 9_999_999 * DSYNC;
/// DSYNC the tokenomics revenue account holds at genesis (it must exist).
pub const REVENUE_ACCOUNT_ENDOWMENT: Balance = DSYNC;
/// USDd Alice and Bob hold at genesis.
pub const STABLE_ENDOWMENT: Balance = 10_000_000 * USDD;

/// Stake each genesis validator bonds.
pub const VALIDATOR_BOND: Balance = 1_000_000 * DSYNC;
/// Stake each genesis nominator bonds (local testnet).
pub const NOMINATOR_BOND: Balance = 500_000 * DSYNC;

/// The ten development accounts that share the genesis supply.
pub fn endowed_accounts() -> Vec<AccountId> {
	vec![
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
		Sr25519Keyring::AliceStash,
		Sr25519Keyring::BobStash,
		Sr25519Keyring::CharlieStash,
		Sr25519Keyring::DaveStash,
	]
	.into_iter()
	.map(|k| k.to_account_id())
	.collect()
}

/// Session keys of a development validator.
pub fn session_keys(keyring: Sr25519Keyring) -> SessionKeys {
	let grandpa = match keyring {
		Sr25519Keyring::Alice => Ed25519Keyring::Alice,
		Sr25519Keyring::Bob => Ed25519Keyring::Bob,
		Sr25519Keyring::Charlie => Ed25519Keyring::Charlie,
		Sr25519Keyring::Dave => Ed25519Keyring::Dave,
		Sr25519Keyring::Eve => Ed25519Keyring::Eve,
		_ => Ed25519Keyring::Ferdie,
	};
	SessionKeys { babe: keyring.public().into(), grandpa: grandpa.public().into() }
}

fn percent(p: u32) -> Perbill {
	Perbill::from_percent(p)
}

/// The tokenomics parameters of both presets (see the module docs).
pub fn tokenomics_genesis() -> (ServiceRatesGenesis, SplitRates, BuybackParams<Balance>) {
	let service = |burn, treasury| SplitRates { burn: percent(burn), treasury: percent(treasury) };
	(
		ServiceRatesGenesis {
			gpu_inference: service(10, 5),
			naming: service(50, 50),
			storage: service(10, 5),
			other: service(10, 10),
		},
		service(30, 20),
		BuybackParams {
			enabled: true,
			revenue_share: percent(10),
			max_spend_per_block: 1_000 * USDD,
			min_interval: 10,
			oracle_tolerance: percent(2),
			oracle_smoothing: percent(10),
			min_native_reserve: 1_000 * DSYNC,
			min_stable_reserve: 1_000 * USDD,
		},
	)
}

/// The node-registry parameters: a bond of 1,000 DSYNC plus 10 DSYNC per capacity unit (a
/// 4-core, 8 GiB, 100 GiB, 100 Mbit/s service node: 14 units, 1,140 DSYNC), released 7 days
/// after unbonding; on the development chain, 100 DSYNC plus 1 DSYNC per unit and 20 blocks.
pub fn registry_genesis(development: bool) -> NodeRegistryParams<Balance, BlockNumber> {
	if development {
		NodeRegistryParams {
			base_bond: 100 * DSYNC,
			bond_per_capacity_unit: DSYNC,
			unbonding_delay: 20,
		}
	} else {
		NodeRegistryParams {
			base_bond: 1_000 * DSYNC,
			bond_per_capacity_unit: 10 * DSYNC,
			unbonding_delay: 7 * DAYS,
		}
	}
}

/// The Proof-of-Sync parameters. Epochs of 10 minutes (1 minute on the development chain),
/// 3 verifiers per node (1 on the single-validator development chain), EMA weight 50 %, one
/// warm-up epoch, active from a score of 30 %, an epoch below 50 % quality is a miss, suspension
/// after 2 misses in a row and a 1 % slash after 3 more, 10 % for a provably wrong answer,
/// slashes deferred 7 days (1,008 epochs; 4 epochs, 40 blocks, on the development chain): the
/// appeal window, longer than the slowest `network_admin` referendum that can cancel a slash
/// (6 d 2 h 10 min; 24 blocks with the development chain's fast timing, see
/// [`SlashAppealWindow`](crate::governance::tracks::SlashAppealWindow)); full marks up to 500 ms and 3 blocks behind,
/// none from 2 s and 30 blocks; 100 DSYNC per epoch from the treasury (10 on the development
/// chain), 10 % of it to verifiers; idle capacity weighs half of used capacity. Usage weighs
/// into rewards only when verified, and as far as 5 µDSYNC burned per unit pays for it: a job of
/// the digits model at [`DIGITS_PRICE_FLOOR`] (0.001 DSYNC per provider and item, 18 usage units
/// per item) burns 10 % (the GPU burn share of [`tokenomics_genesis`]), 10^14 planck per item,
/// about 5.6 µDSYNC per unit, so it counts in full. A new node is credited 32 capacity units
/// without proof during its first 12 scored epochs (two hours of 10-minute epochs; with one
/// warm-up epoch it can be rewarded in all twelve), then only what its usage proved. Both are
/// the pallet's defaults, which the storage migration to version 1 installs on running chains.
pub fn proof_of_sync_genesis(development: bool) -> ProofOfSyncParams<Balance> {
	ProofOfSyncParams {
		epoch_length: if development { MINUTES } else { 10 * MINUTES },
		verifiers_per_node: if development { 1 } else { 3 },
		ema_alpha: percent(50),
		warmup_epochs: 1,
		activation_score: percent(30),
		miss_quality: percent(50),
		suspend_after_misses: 2,
		slash_after_misses: 3,
		miss_slash: percent(1),
		wrong_answer_slash: percent(10),
		slash_defer_epochs: if development { 4 } else { 7 * 24 * 6 },
		target_latency_ms: 500,
		max_latency_ms: 2_000,
		tolerated_lag: 3,
		max_lag: 30,
		epoch_reward: if development { 10 * DSYNC } else { 100 * DSYNC },
		verifier_share: percent(10),
		idle_usage_weight: percent(50),
		unproven_capacity: 32,
		usage_per_capacity_unit: 1_000,
		clip_latency_ms: 1_000,
		clip_lag: 5,
		reputation_penalty: percent(10),
		reputation_recovery: percent(2),
		min_reputation: percent(50),
		verification_points: 20,
		burn_per_usage_unit: pallet_proof_of_sync::DEFAULT_BURN_PER_USAGE_UNIT,
		unproven_epochs: pallet_proof_of_sync::DEFAULT_UNPROVEN_EPOCHS,
	}
}

/// Storage: [`crate::configs::storage::storage_params`].
pub fn storage_genesis(development: bool) -> StorageParams<Balance, BlockNumber> {
	crate::configs::storage::storage_params(development)
}

/// The GPU-jobs timing: deadlines from 2 minutes to 1 day ahead, results revealed in the last
/// minute, disputes resolvable for 10 minutes; on the development chain deadlines from 8 blocks
/// (48 s: the providers are drawn 2 blocks after posting and keep 3 commit blocks), 3 reveal
/// blocks and 10 dispute blocks, so a job settles in about a minute and a half. Both forfeit
/// 10 % of the price per provider that voted a batch's input unavailable.
pub fn gpu_jobs_genesis(development: bool) -> GpuJobsParams {
	if development {
		GpuJobsParams {
			min_deadline: 8,
			max_deadline: 14_400,
			reveal_period: 3,
			dispute_period: 10,
			..GpuJobsParams::default()
		}
	} else {
		GpuJobsParams::default()
	}
}

/// Naming: commitments usable from 1 minute to 1 day, rent per year of 640, 160, 40, 10 and 5
/// DSYNC for labels of 1, 2, 3, 4 and 5+ characters, 90 days of grace, then a premium from
/// 1_000 DSYNC decaying over 21 days, 10 years ahead at most, 1 DSYNC per subname, 0.1133 DSYNC
/// per open commitment. On the development chain a "year" is 20 blocks (2 minutes) with 5
/// blocks of grace and a 10-block premium, so expiry can be watched (and tested) in minutes.
///
/// The commitment deposit is [`pallet_naming::DEFAULT_COMMITMENT_DEPOSIT`]: the chain's price of
/// storage (`dsync_primitives::currency::deposit`, as multisig and proxy charge it) for one item
/// of 133 bytes, the most state one commitment pins (a new `Commitments` entry: its 80-byte key
/// and a 53-byte value; each further commitment of the account adds only 52 bytes). So every
/// commitment pays at least the chain's own price of the state it pins, while a registrant locks
/// about 2 % of the cheapest year's rent (5 DSYNC) between commit and reveal, and gets it back
/// at the reveal. It is smaller than the subname deposit (1 DSYNC), which pins a name of
/// up to 239 bytes for as long as it lives.
pub fn naming_genesis(development: bool) -> NamingParams<Balance, BlockNumber> {
	let rent_per_year = [640 * DSYNC, 160 * DSYNC, 40 * DSYNC, 10 * DSYNC, 5 * DSYNC];
	if development {
		NamingParams {
			min_commitment_age: 1,
			max_commitment_age: 100,
			year_length: 20,
			grace_period: 5,
			premium_start: 100 * DSYNC,
			premium_period: 10,
			rent_per_year,
			max_years: 10,
			subname_deposit: DSYNC,
			commitment_deposit: DEFAULT_COMMITMENT_DEPOSIT,
		}
	} else {
		NamingParams {
			min_commitment_age: MINUTES,
			max_commitment_age: DAYS,
			year_length: 365 * DAYS,
			grace_period: 90 * DAYS,
			premium_start: 1_000 * DSYNC,
			premium_period: 21 * DAYS,
			rent_per_year,
			max_years: 10,
			subname_deposit: DSYNC,
			commitment_deposit: DEFAULT_COMMITMENT_DEPOSIT,
		}
	}
}

/// Labels the protocol keeps: the zone's name servers and administrative names.
pub const RESERVED_LABELS: [&str; 9] =
	["dsync", "nic", "ns1", "ns2", "hostmaster", "root", "admin", "treasury", "governance"];

/// The least price per provider and item of the digits model: 0.001 DSYNC.
pub const DIGITS_PRICE_FLOOR: Balance = DSYNC / 1_000;

fn genesis(
	validators: &[Sr25519Keyring],
	nominators: &[Sr25519Keyring],
	invulnerables: &[Sr25519Keyring],
	minimum_validator_count: u32,
	sudo: Option<AccountId>,
	development: bool,
) -> Value {
	let endowed = endowed_accounts();
	let mut balances: Vec<(AccountId, Balance)> =
		endowed.iter().cloned().map(|a| (a, DEV_ACCOUNT_ENDOWMENT)).collect();
	balances.push((TreasuryAccount::get(), TREASURY_ENDOWMENT));
	balances.push((TokenomicsPalletId::get().into_account_truncating(), REVENUE_ACCOUNT_ENDOWMENT));
	let (service_rates, fee_split, buyback) = tokenomics_genesis();
	let alice = Sr25519Keyring::Alice.to_account_id();
	let bob = Sr25519Keyring::Bob.to_account_id();
	let validator_ids: Vec<AccountId> = validators.iter().map(|v| v.to_account_id()).collect();

	let mut stakers: Vec<(AccountId, AccountId, Balance, StakerStatus<AccountId>)> = validator_ids
		.iter()
		.map(|v| (v.clone(), v.clone(), VALIDATOR_BOND, StakerStatus::Validator))
		.collect();
	stakers.extend(nominators.iter().map(|n| {
		let n = n.to_account_id();
		(n.clone(), n, NOMINATOR_BOND, StakerStatus::Nominator(validator_ids.clone()))
	}));

	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		session: SessionConfig {
			keys: validators
				.iter()
				.map(|v| (v.to_account_id(), v.to_account_id(), session_keys(*v)))
				.collect::<Vec<_>>(),
		},
		staking: StakingConfig {
			validator_count: validators.len() as u32,
			minimum_validator_count,
			invulnerables: invulnerables.iter().map(|v| v.to_account_id()).collect::<Vec<_>>(),
			stakers,
			min_validator_bond: MIN_VALIDATOR_BOND,
			min_nominator_bond: MIN_NOMINATOR_BOND,
		},
		sudo: SudoConfig { key: sudo },
		origins: OriginsConfig {
			timing: if development { Timing::Fast } else { Timing::Standard },
		},
		assets: AssetsConfig {
			assets: vec![(STABLE_ASSET_ID, alice.clone(), true, USDD / 100)],
			metadata: vec![(STABLE_ASSET_ID, b"DSYNC Dollar".to_vec(), b"USDd".to_vec(), 6)],
			accounts: vec![
				(STABLE_ASSET_ID, alice, STABLE_ENDOWMENT),
				(STABLE_ASSET_ID, bob, STABLE_ENDOWMENT),
			],
		},
		tokenomics: TokenomicsConfig { service_rates, fee_split, buyback },
		node_registry: NodeRegistryConfig { parameters: registry_genesis(development) },
		proof_of_sync: ProofOfSyncConfig { parameters: proof_of_sync_genesis(development) },
		gpu_jobs: GpuJobsConfig {
			parameters: gpu_jobs_genesis(development),
			models: vec![(
				dsync_aivm_core::bundled::DIGITS_64_128_64_10.to_vec(),
				DIGITS_PRICE_FLOOR
			)],
		},
		storage: StorageConfig { parameters: Some(storage_genesis(development)) },
		naming: NamingConfig {
			parameters: Some(naming_genesis(development)),
			reserved: RESERVED_LABELS
				.iter()
				.map(|label| label.as_bytes().to_vec())
				.collect::<Vec<_>>(),
		},
	})
}

/// The `development` preset: Alice validates alone (and cannot be slashed away, so the chain
/// keeps running), Alice is sudo, referenda take a few blocks.
pub fn development_config_genesis() -> Value {
	genesis(
		&[Sr25519Keyring::Alice],
		&[],
		&[Sr25519Keyring::Alice],
		1,
		Some(Sr25519Keyring::Alice.to_account_id()),
		true,
	)
}

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave validate; Eve and Ferdie nominate
/// them; GRANDPA finalises with any three of the four online. There is no sudo key: the network is
/// governed by referenda from genesis, with the standard periods of
/// [`crate::governance::tracks`].
pub fn local_testnet_genesis() -> Value {
	genesis(
		&[
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		],
		&[Sr25519Keyring::Eve, Sr25519Keyring::Ferdie],
		&[],
		2,
		None,
		false,
	)
}

/// The JSON patch of preset `id`, if it exists.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEVELOPMENT => development_config_genesis(),
		LOCAL_TESTNET => local_testnet_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEVELOPMENT), PresetId::from(LOCAL_TESTNET)]
}
