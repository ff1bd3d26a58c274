//! Genesis presets: the initial state of the chains the node knows.
//!
//! | preset | validators | sudo | purpose |
//! | --- | --- | --- | --- |
//! | `development` | Alice | Alice | single-node chain for development (`--dev`) |
//! | `local_testnet` | Alice, Bob, Charlie, Dave | Alice | four-validator network on one machine or a LAN (`--chain local`) |
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
	configs::{
		staking::{MIN_NOMINATOR_BOND, MIN_VALIDATOR_BOND},
		tokenomics::{TokenomicsPalletId, TreasuryAccount, STABLE_ASSET_ID, USDD},
	},
	AccountId, AssetsConfig, BabeConfig, Balance, BalancesConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, StakingConfig, SudoConfig, TokenomicsConfig,
	BABE_GENESIS_EPOCH_CONFIG,
};
use alloc::{vec, vec::Vec};
use dsync_primitives::currency::DSYNC;
use frame_support::build_struct_json_patch;
use pallet_staking::StakerStatus;
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

fn genesis(
	validators: &[Sr25519Keyring],
	nominators: &[Sr25519Keyring],
	invulnerables: &[Sr25519Keyring],
	minimum_validator_count: u32,
	sudo: AccountId,
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
		sudo: SudoConfig { key: Some(sudo) },
		assets: AssetsConfig {
			assets: vec![(STABLE_ASSET_ID, alice.clone(), true, USDD / 100)],
			metadata: vec![(STABLE_ASSET_ID, b"DSYNC Dollar".to_vec(), b"USDd".to_vec(), 6)],
			accounts: vec![
				(STABLE_ASSET_ID, alice, STABLE_ENDOWMENT),
				(STABLE_ASSET_ID, bob, STABLE_ENDOWMENT),
			],
		},
		tokenomics: TokenomicsConfig { service_rates, fee_split, buyback },
	})
}

/// The `development` preset: Alice validates alone (and cannot be slashed away, so the chain
/// keeps running), Alice is sudo.
pub fn development_config_genesis() -> Value {
	genesis(
		&[Sr25519Keyring::Alice],
		&[],
		&[Sr25519Keyring::Alice],
		1,
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave validate; Eve and Ferdie nominate
/// them; Alice is sudo. GRANDPA finalises with any three of the four online.
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
		Sr25519Keyring::Alice.to_account_id(),
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
