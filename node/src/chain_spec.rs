//! Chain specifications the node knows by name (`--chain dev`, `--chain local`) or loads from a
//! JSON file. Genesis state comes from the runtime's presets; a spec only names one.

use dsync_primitives::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL};
use dsync_runtime::{genesis_config_presets, WASM_BINARY};
use sc_service::ChainType;

/// The chain specification of this node: no extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Chain properties read by wallets (Polkadot.js apps shows balances as DSYNC with 18 decimals
/// and addresses with the DSYNC prefix).
pub fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"The runtime's Wasm binary is not available: build without SKIP_WASM_BUILD".to_string()
	})
}

/// `--dev`: one validator (Alice), sudo, short-lived.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("DSYNC Development")
		.with_id("dsync_dev")
		.with_protocol_id("dsync-dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(genesis_config_presets::DEVELOPMENT)
		.with_properties(properties())
		.build())
}

/// `--chain local`: four validators (Alice, Bob, Charlie, Dave) on one machine or a LAN.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("DSYNC Local Testnet")
		.with_id("dsync_local")
		.with_protocol_id("dsync-local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(genesis_config_presets::LOCAL_TESTNET)
		.with_properties(properties())
		.build())
}
