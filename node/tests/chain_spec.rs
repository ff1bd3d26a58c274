//! Chain specs: the committed specs under `chain-specs/` match what the current runtime produces,
//! and every spec carries the properties wallets need.

use serde_json::Value;
use std::{path::PathBuf, process::Command};

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_dsync-node"))
}

fn export(chain: &str, raw: bool) -> Value {
	let mut cmd = node();
	cmd.args(["export-chain-spec", "--chain", chain]);
	if raw {
		cmd.arg("--raw");
	}
	let out = cmd.output().expect("dsync-node runs");
	assert!(
		out.status.success(),
		"export-chain-spec failed: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	serde_json::from_slice(&out.stdout).expect("the node prints JSON")
}

fn committed(name: &str) -> Value {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../chain-specs").join(name);
	let text = std::fs::read_to_string(&path)
		.unwrap_or_else(|e| panic!("{} is committed: {e}", path.display()));
	serde_json::from_str(&text).expect("committed spec is JSON")
}

/// Remove the Wasm code, which changes with every build of the runtime.
fn without_code(mut spec: Value) -> Value {
	let genesis = spec["genesis"]["runtimeGenesis"].as_object_mut().expect("runtimeGenesis form");
	assert!(genesis.remove("code").is_some(), "the plain spec carries the runtime code");
	spec
}

#[test]
fn committed_plain_local_spec_matches_the_runtime_preset() {
	let current = without_code(export("local", false));
	let committed = without_code(committed("local.json"));
	assert!(
		current == committed,
		"chain-specs/local.json is out of date with the runtime's local_testnet preset; \
		 run scripts/generate-chain-specs.sh and commit the result"
	);
	// The genesis is given as the preset's patch: validators, balances, staking.
	let patch = &current["genesis"]["runtimeGenesis"]["patch"];
	assert_eq!(patch["session"]["keys"].as_array().map(Vec::len), Some(4));
	// Ten development accounts, the treasury and the tokenomics revenue account.
	assert_eq!(patch["balances"]["balances"].as_array().map(Vec::len), Some(12));
}

#[test]
fn committed_raw_local_spec_is_the_same_network() {
	let raw = committed("local-raw.json");
	let plain = committed("local.json");
	assert_eq!(raw["id"], plain["id"]);
	assert_eq!(raw["properties"], plain["properties"]);
	let top = raw["genesis"]["raw"]["top"].as_object().expect("raw storage");
	// `:code` is the well-known key 0x3a636f6465.
	assert!(top.contains_key("0x3a636f6465"), "the raw spec carries the runtime code");
}

#[test]
fn every_spec_tells_wallets_about_dsync() {
	for chain in ["dev", "local"] {
		let spec = export(chain, false);
		assert_eq!(spec["properties"]["tokenSymbol"], "DSYNC", "{chain}");
		assert_eq!(spec["properties"]["tokenDecimals"], 18, "{chain}");
		assert_eq!(spec["properties"]["ss58Format"], 7373, "{chain}");
	}
	assert_eq!(export("dev", false)["chainType"], "Development");
	assert_eq!(export("local", false)["chainType"], "Local");
}

#[test]
fn an_unknown_chain_file_is_refused_with_a_clear_error() {
	let out = node()
		.args(["export-chain-spec", "--chain", "/nonexistent/spec.json"])
		.output()
		.expect("dsync-node runs");
	assert!(!out.status.success());
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(stderr.contains("No such file") || stderr.contains("spec"), "{stderr}");
}
