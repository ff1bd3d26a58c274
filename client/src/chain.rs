//! The chain as the client talks to it: JSON-RPC over HTTP to one node, runtime API calls
//! (`state_call`), signed transactions built with the runtime's own types and followed until
//! they are in a block, and that block's events.
//!
//! The client is built with the runtime it talks to: a node whose runtime has another
//! `transaction_version` (its calls may have changed) is refused before anything is signed.

use codec::{Decode, Encode};
use dsync_runtime::{
	Runtime, RuntimeCall, RuntimeEvent, SignedPayload, UncheckedExtrinsic, VERSION,
};
use dsync_store::http::{self, Url};
use serde_json::{json, Value};
use sp_core::{bytes::from_hex, crypto::Ss58Codec, sr25519, Pair, H256};
use sp_runtime::{MultiAddress, MultiSignature};
use std::{cell::Cell, time::Duration};

/// The account ids of the chain.
pub type AccountId = dsync_primitives::AccountId;

/// A node's JSON-RPC endpoint.
pub struct Node {
	url: Url,
	next_id: Cell<u64>,
}

/// What a transaction did, read from its block's events.
#[derive(Debug)]
pub struct Included {
	/// The block.
	pub block: H256,
	/// The events of the transaction.
	pub events: Vec<RuntimeEvent>,
}

/// How long to wait for a transaction to be in a block.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

impl Node {
	/// A node at `url` (`http://` or `ws://`, the same port).
	pub fn new(url: &str) -> Result<Node, String> {
		Ok(Node { url: Url::parse(url)?, next_id: Cell::new(1) })
	}

	/// Calls `method` with `params`; the result, or the node's error.
	pub fn call(&self, method: &str, params: Value) -> Result<Value, String> {
		let id = self.next_id.get();
		self.next_id.set(id + 1);
		let body =
			json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
		let answer = http::request(
			&self.url,
			"POST",
			"",
			"application/json",
			body.len() as u64,
			body.as_bytes(),
			&mut |_| {},
		)
		.map_err(|e| format!("the node's RPC: {e}"))?;
		if answer.status != 200 {
			return Err(format!("the node's RPC answered {}: {}", answer.status, answer.text()));
		}
		let mut value: Value = serde_json::from_slice(&answer.body)
			.map_err(|e| format!("the node's RPC answered something that is not JSON: {e}"))?;
		if let Some(error) = value.get("error") {
			return Err(format!("{method}: {error}"));
		}
		Ok(value.get_mut("result").map(Value::take).unwrap_or(Value::Null))
	}

	fn hex_result(&self, method: &str, params: Value) -> Result<Option<Vec<u8>>, String> {
		match self.call(method, params)? {
			Value::Null => Ok(None),
			Value::String(hex) => {
				from_hex(&hex).map(Some).map_err(|_| format!("{method}: not hex: {hex}"))
			},
			other => Err(format!("{method}: unexpected answer {other}")),
		}
	}

	/// Calls the runtime API function `function` (e.g. `StorageApi_order`) with SCALE `args`
	/// at the best block and decodes its answer.
	pub fn runtime_call<R: Decode>(&self, function: &str, args: &impl Encode) -> Result<R, String> {
		let data = format!("0x{}", dsync_primitives::hex::encode(&args.encode()));
		let bytes = self
			.hex_result("state_call", json!([function, data]))?
			.ok_or_else(|| format!("{function}: no answer"))?;
		R::decode(&mut bytes.as_slice()).map_err(|e| format!("{function}: cannot decode: {e}"))
	}

	/// The hash of block `number` (0: genesis).
	pub fn block_hash(&self, number: Option<u32>) -> Result<H256, String> {
		let params = match number {
			Some(n) => json!([n]),
			None => json!([]),
		};
		let bytes = self
			.hex_result("chain_getBlockHash", params)?
			.ok_or("the node does not know that block")?;
		Ok(H256::from_slice(bytes.get(..32).ok_or("a block hash is 32 bytes")?))
	}

	/// Checks that the node runs the runtime this client was built with (same spec name and
	/// transaction version); returns its spec version.
	pub fn check_runtime(&self) -> Result<u32, String> {
		let version = self.call("state_getRuntimeVersion", json!([]))?;
		let spec_name = version["specName"].as_str().unwrap_or_default();
		let spec_version = version["specVersion"].as_u64().unwrap_or_default() as u32;
		let tx_version = version["transactionVersion"].as_u64().unwrap_or_default() as u32;
		if spec_name != &*VERSION.spec_name || tx_version != VERSION.transaction_version {
			return Err(format!(
				"the node runs {spec_name} with transaction version {tx_version}; this client was built for {} with transaction version {}: use the client of the node's release",
				VERSION.spec_name, VERSION.transaction_version
			));
		}
		Ok(spec_version)
	}

	/// The next nonce of `who` (the pool's transactions counted).
	pub fn next_nonce(&self, who: &AccountId) -> Result<u32, String> {
		let value = self.call("system_accountNextIndex", json!([who.to_ss58check()]))?;
		value.as_u64().map(|n| n as u32).ok_or_else(|| format!("bad nonce {value}"))
	}

	/// The extrinsics of block `hash`, SCALE-encoded.
	fn block_extrinsics(&self, hash: H256) -> Result<Vec<Vec<u8>>, String> {
		let block = self.call("chain_getBlock", json!([format!("{hash:?}")]))?;
		let list = block["block"]["extrinsics"].as_array().ok_or("a block without extrinsics")?;
		list.iter()
			.map(|x| from_hex(x.as_str().unwrap_or_default()).map_err(|_| "bad extrinsic".into()))
			.collect()
	}

	/// The parent of block `hash` and its number.
	fn header(&self, hash: H256) -> Result<(H256, u32), String> {
		let header = self.call("chain_getHeader", json!([format!("{hash:?}")]))?;
		let parent = from_hex(header["parentHash"].as_str().unwrap_or_default())
			.map_err(|_| "bad parent hash")?;
		let number = header["number"].as_str().unwrap_or_default();
		let number = u32::from_str_radix(number.trim_start_matches("0x"), 16)
			.map_err(|_| "bad block number")?;
		Ok((H256::from_slice(parent.get(..32).ok_or("bad parent hash")?), number))
	}

	/// The events of block `hash`.
	pub fn events(
		&self,
		hash: H256,
	) -> Result<Vec<frame_system::EventRecord<RuntimeEvent, H256>>, String> {
		let key = frame_support::storage::storage_prefix(b"System", b"Events");
		let bytes = self
			.hex_result(
				"state_getStorage",
				json!([format!("0x{}", dsync_primitives::hex::encode(&key)), format!("{hash:?}")]),
			)?
			.unwrap_or_default();
		if bytes.is_empty() {
			return Ok(Vec::new());
		}
		Decode::decode(&mut bytes.as_slice()).map_err(|e| format!("cannot decode the events: {e}"))
	}

	/// A storage value at the best block, raw.
	pub fn storage(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
		self.hex_result(
			"state_getStorage",
			json!([format!("0x{}", dsync_primitives::hex::encode(key))]),
		)
	}

	/// Signs `call` with `signer`, submits it and waits until it is in a block; returns the
	/// block and the transaction's events. A transaction that failed is an error naming why.
	pub fn submit_and_wait(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<Included, String> {
		let spec_version = self.check_runtime()?;
		let genesis = self.block_hash(Some(0))?;
		let account = AccountId::from(signer.public());
		let nonce = self.next_nonce(&account)?;
		let extension = dsync_runtime::tx_extension(nonce, 0);
		let implicit =
			((), spec_version, VERSION.transaction_version, genesis, genesis, (), (), (), None, ());
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		let xt = UncheckedExtrinsic::new_signed(
			call,
			MultiAddress::Id(account),
			MultiSignature::Sr25519(signature),
			extension,
		);
		let encoded = xt.encode();
		let hash = self
			.hex_result(
				"author_submitExtrinsic",
				json!([format!("0x{}", dsync_primitives::hex::encode(&encoded))]),
			)?
			.ok_or("the node did not take the transaction")?;
		let hash = H256::from_slice(hash.get(..32).ok_or("bad transaction hash")?);
		self.wait_for(hash, &encoded)
	}

	/// Follows the best chain until a block holds the extrinsic `encoded`.
	fn wait_for(&self, hash: H256, encoded: &[u8]) -> Result<Included, String> {
		let started = std::time::Instant::now();
		let mut seen = std::collections::HashSet::new();
		loop {
			if started.elapsed() > INCLUSION_TIMEOUT {
				return Err(format!(
					"transaction {hash:?} not in a block after {INCLUSION_TIMEOUT:?}"
				));
			}
			// Walk back from the best block over blocks not looked at yet (at most 16).
			let mut block = self.block_hash(None)?;
			for _ in 0..16 {
				if !seen.insert(block) {
					break;
				}
				let extrinsics = self.block_extrinsics(block)?;
				if let Some(index) = extrinsics.iter().position(|x| x.as_slice() == encoded) {
					let events = self
						.events(block)?
						.into_iter()
						.filter(|record| {
							record.phase == frame_system::Phase::ApplyExtrinsic(index as u32)
						})
						.map(|record| record.event)
						.collect::<Vec<_>>();
					for event in &events {
						if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
							dispatch_error,
							..
						}) = event
						{
							return Err(format!(
								"the transaction failed: {}",
								describe(dispatch_error)
							));
						}
					}
					return Ok(Included { block, events });
				}
				let (parent, number) = self.header(block)?;
				if number == 0 {
					break;
				}
				block = parent;
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}
}

/// A dispatch error as a person reads it: a module error by its pallet and variant name.
pub fn describe(error: &sp_runtime::DispatchError) -> String {
	if let sp_runtime::DispatchError::Module(module) = error {
		if module.index == storage_pallet_index() {
			if let Ok(e) = pallet_storage::Error::<Runtime>::decode(&mut &module.error[..]) {
				return format!("Storage.{}", <&'static str>::from(e));
			}
		}
		return format!("pallet {} error {:?}", module.index, module.error);
	}
	format!("{error:?}")
}

fn storage_pallet_index() -> u8 {
	use frame_support::traits::PalletInfoAccess;
	dsync_runtime::Storage::index() as u8
}

/// The secret URI kept in a keystore file: a Substrate keystore file (what `dsync-node key
/// insert` writes: a JSON string holding the secret phrase or seed), or a text file holding the
/// secret URI on its first line. Refused when other users may read it (its mode must give
/// nothing to group and others, as `ssh` asks of private keys) or when it is longer than 4 KiB.
pub fn suri_from_file(path: &std::path::Path) -> Result<String, String> {
	use std::os::unix::fs::PermissionsExt;
	let shown = path.display();
	let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
	let mode = meta.permissions().mode() & 0o777;
	if mode & 0o077 != 0 {
		return Err(format!(
			"{shown}: other users may read this secret (mode {mode:03o}); `chmod 600` it first"
		));
	}
	if !meta.is_file() || meta.len() > 4096 {
		return Err(format!("{shown}: not a keystore file (a file of at most 4 KiB)"));
	}
	let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
	let text = text.trim();
	let suri = if text.starts_with('"') {
		serde_json::from_str::<String>(text)
			.map_err(|e| format!("{shown}: not a keystore file (a JSON string): {e}"))?
	} else {
		text.lines().next().unwrap_or_default().trim().to_string()
	};
	if suri.is_empty() {
		return Err(format!("{shown}: the keystore file holds no secret"));
	}
	Ok(suri)
}

/// The signer of `suri` (`//Alice`, a mnemonic, a hex seed, with derivations).
pub fn signer(suri: &str) -> Result<sr25519::Pair, String> {
	sr25519::Pair::from_string(suri, None).map_err(|e| format!("the secret URI is invalid: {e:?}"))
}
