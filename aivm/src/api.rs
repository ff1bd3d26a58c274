//! Request parsing and response encoding.
//!
//! JSON requests are parsed with `serde_json` straight into one flat `i8` buffer (no vector
//! per item), and responses are written by hand with `itoa`: at a million inferences per
//! second the encoding is most of the server's work.

use dsync_aivm_core::{argmax, batch_merkle_root, result_hash};
use serde::{
	de::{self, DeserializeSeed, SeqAccess, Visitor},
	Deserialize, Deserializer,
};
use std::fmt;

/// A parsed `POST /v1/infer` body.
#[derive(Debug, PartialEq, Eq)]
pub struct InferRequest {
	/// The model: a name or `0x` and its id in hex.
	pub model: String,
	/// The items, `count × row_len` values, item after item.
	pub inputs: Vec<i8>,
	/// How many items.
	pub count: usize,
	/// Values per item (0 when there are no items).
	pub row_len: usize,
	/// One item given as `"input"` (answered as one item) rather than `"inputs"`.
	pub single: bool,
	/// Add each item's result hash.
	pub hashes: bool,
	/// Add the Merkle root of the items' result hashes.
	pub merkle: bool,
}

/// Why a request body was refused (answered `400`).
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl fmt::Display for BadRequest {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.0)
	}
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
	model: String,
	#[serde(default)]
	input: Option<Vec<i8>>,
	#[serde(default)]
	inputs: Option<Rows>,
	#[serde(default)]
	hashes: bool,
	#[serde(default)]
	merkle: bool,
}

/// `[[i8, …], …]` parsed into one flat buffer, every row the same length.
#[derive(Default)]
struct Rows {
	flat: Vec<i8>,
	count: usize,
	row_len: usize,
}

impl<'de> Deserialize<'de> for Rows {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		deserializer.deserialize_seq(RowsVisitor)
	}
}

struct RowsVisitor;

impl<'de> Visitor<'de> for RowsVisitor {
	type Value = Rows;

	fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str("an array of items, each an array of integers in -128..=127")
	}

	fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
		let mut rows = Rows::default();
		loop {
			let before = rows.flat.len();
			let Some(()) = seq.next_element_seed(RowSeed(&mut rows.flat))? else { break };
			let len = rows.flat.len() - before;
			if rows.count == 0 {
				rows.row_len = len;
				// One allocation for a typical batch: the rest grows geometrically.
				rows.flat.reserve(len.saturating_mul(seq.size_hint().unwrap_or(0)));
			} else if len != rows.row_len {
				return Err(de::Error::custom(format!(
					"item {} has {len} values, item 0 has {}: every item must have the same length",
					rows.count, rows.row_len
				)));
			}
			rows.count += 1;
		}
		Ok(rows)
	}
}

/// One row appended to the flat buffer.
struct RowSeed<'a>(&'a mut Vec<i8>);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
	type Value = ();

	fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
		deserializer.deserialize_seq(self)
	}
}

impl<'de> Visitor<'de> for RowSeed<'_> {
	type Value = ();

	fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str("an array of integers in -128..=127")
	}

	fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
		while let Some(value) = seq.next_element::<i8>()? {
			self.0.push(value);
		}
		Ok(())
	}
}

/// Parse a JSON inference request.
pub fn parse_request(body: &[u8]) -> Result<InferRequest, BadRequest> {
	let raw: RawRequest = serde_json::from_slice(body)
		.map_err(|error| BadRequest(format!("invalid request: {error}")))?;
	match (raw.input, raw.inputs) {
		(Some(input), None) => Ok(InferRequest {
			model: raw.model,
			row_len: input.len(),
			inputs: input,
			count: 1,
			single: true,
			hashes: raw.hashes,
			merkle: raw.merkle,
		}),
		(None, Some(rows)) => Ok(InferRequest {
			model: raw.model,
			inputs: rows.flat,
			count: rows.count,
			row_len: rows.row_len,
			single: false,
			hashes: raw.hashes,
			merkle: raw.merkle,
		}),
		(Some(_), Some(_)) => Err(BadRequest("give either `input` or `inputs`, not both".into())),
		(None, None) => Err(BadRequest("missing `inputs` (or `input` for one item)".into())),
	}
}

/// `0x` and the lowercase hex of `bytes` (the chain's one hex module,
/// [`dsync_aivm_core::hex`]).
pub use dsync_aivm_core::hex::encode_0x as hex_0x;

/// Parse `0x` and 64 hex digits (either case).
pub fn parse_id(text: &str) -> Option<[u8; 32]> {
	dsync_aivm_core::hex::decode_array(text.strip_prefix("0x")?.as_bytes())
}

fn push_int(out: &mut Vec<u8>, buffer: &mut itoa::Buffer, value: impl itoa::Integer) {
	out.extend_from_slice(buffer.format(value).as_bytes());
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
	out.push(b'"');
	out.extend_from_slice(hex_0x(bytes).as_bytes());
	out.push(b'"');
}

/// The JSON answer to a request: for a batch
/// `{"model","count","outputs":[[…]],"classes":[…]}` plus `"hashes"` and `"merkle_root"`
/// when asked; for one item `{"model","output":[…],"class","hash"}`.
pub fn encode_response(
	model: &[u8; 32],
	request: &InferRequest,
	outputs: &[i32],
	out_len: usize,
) -> Vec<u8> {
	let mut out = Vec::with_capacity(128 + outputs.len() * 8 + request.count * 4);
	let mut buffer = itoa::Buffer::new();
	out.extend_from_slice(b"{\"model\":");
	push_hex(&mut out, model);
	let items = outputs.chunks_exact(out_len.max(1));
	if request.single {
		let item = outputs;
		out.extend_from_slice(b",\"output\":[");
		push_row(&mut out, &mut buffer, item);
		out.extend_from_slice(b"],\"class\":");
		push_int(&mut out, &mut buffer, argmax(item).unwrap_or(0));
		out.extend_from_slice(b",\"hash\":");
		push_hex(&mut out, &result_hash(item));
		out.push(b'}');
		return out;
	}
	out.extend_from_slice(b",\"count\":");
	push_int(&mut out, &mut buffer, request.count);
	out.extend_from_slice(b",\"outputs\":[");
	for (i, item) in items.clone().enumerate() {
		if i > 0 {
			out.push(b',');
		}
		out.push(b'[');
		push_row(&mut out, &mut buffer, item);
		out.push(b']');
	}
	out.extend_from_slice(b"],\"classes\":[");
	for (i, item) in items.clone().enumerate() {
		if i > 0 {
			out.push(b',');
		}
		push_int(&mut out, &mut buffer, argmax(item).unwrap_or(0));
	}
	out.push(b']');
	if request.hashes || request.merkle {
		let hashes: Vec<[u8; 32]> = items.map(result_hash).collect();
		if request.hashes {
			out.extend_from_slice(b",\"hashes\":[");
			for (i, hash) in hashes.iter().enumerate() {
				if i > 0 {
					out.push(b',');
				}
				push_hex(&mut out, hash);
			}
			out.push(b']');
		}
		if request.merkle {
			out.extend_from_slice(b",\"merkle_root\":");
			push_hex(&mut out, &batch_merkle_root(&hashes));
		}
	}
	out.push(b'}');
	out
}

fn push_row(out: &mut Vec<u8>, buffer: &mut itoa::Buffer, item: &[i32]) {
	for (j, value) in item.iter().enumerate() {
		if j > 0 {
			out.push(b',');
		}
		push_int(out, buffer, *value);
	}
}

/// The outputs as raw little-endian `i32`.
pub fn encode_binary(outputs: &[i32]) -> Vec<u8> {
	outputs.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The Merkle root of a batch's outputs (`out_len` values per item).
pub fn merkle_root_of(outputs: &[i32], out_len: usize) -> [u8; 32] {
	let hashes: Vec<[u8; 32]> = outputs.chunks_exact(out_len.max(1)).map(result_hash).collect();
	batch_merkle_root(&hashes)
}

/// An error body: `{"error":{"code":…,"message":…}}`.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
	serde_json::to_vec(&serde_json::json!({ "error": { "code": code, "message": message } }))
		.unwrap_or_default()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parses_batches_into_one_buffer() {
		let request =
			parse_request(br#"{"model":"digits","inputs":[[1,-2,3],[4,5,-128]]}"#).unwrap();
		assert_eq!(request.inputs, vec![1, -2, 3, 4, 5, -128]);
		assert_eq!((request.count, request.row_len, request.single), (2, 3, false));
		assert!(!request.hashes && !request.merkle);
		let one = parse_request(br#"{"model":"0xab","input":[7,8],"hashes":true}"#).unwrap();
		assert_eq!((one.count, one.row_len, one.single, one.hashes), (1, 2, true, true));
		let empty = parse_request(br#"{"model":"m","inputs":[]}"#).unwrap();
		assert_eq!((empty.count, empty.inputs.len()), (0, 0));
	}

	#[test]
	fn refuses_malformed_requests() {
		for body in [
			&br#"{"model":"m","inputs":[[1,2],[3]]}"#[..],
			br#"{"model":"m","inputs":[[1,200]]}"#,
			br#"{"model":"m","inputs":[[1.5]]}"#,
			br#"{"model":"m","inputs":[1,2]}"#,
			br#"{"model":"m"}"#,
			br#"{"model":"m","input":[1],"inputs":[[1]]}"#,
			br#"{"model":"m","inputs":[[1]],"extra":1}"#,
			br#"{"inputs":[[1]]}"#,
			b"not json",
			b"",
			br#"{"model":"m","inputs":[[1,2]"#,
		] {
			assert!(parse_request(body).is_err(), "{}", String::from_utf8_lossy(body));
		}
		let error = parse_request(br#"{"model":"m","inputs":[[1,2],[3]]}"#).unwrap_err();
		assert!(error.0.contains("item 1 has 1 values"), "{error}");
	}

	#[test]
	fn ids_round_trip_through_hex() {
		let id = [0x9d; 32];
		assert_eq!(parse_id(&hex_0x(&id)), Some(id));
		assert_eq!(parse_id("9d"), None);
		assert_eq!(parse_id(&format!("0x{}", "zz".repeat(32))), None);
	}

	#[test]
	fn encodes_json_that_parses_back() {
		let request = InferRequest {
			model: "m".into(),
			inputs: vec![0; 4],
			count: 2,
			row_len: 2,
			single: false,
			hashes: true,
			merkle: true,
		};
		let outputs = [1, -2, 3, i32::MIN];
		let body = encode_response(&[1; 32], &request, &outputs, 2);
		let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
		assert_eq!(value["outputs"], serde_json::json!([[1, -2], [3, i32::MIN]]));
		assert_eq!(value["classes"], serde_json::json!([0, 0]));
		assert_eq!(value["count"], 2);
		let hashes = [result_hash(&outputs[..2]), result_hash(&outputs[2..])];
		assert_eq!(value["hashes"][1], hex_0x(&hashes[1]));
		assert_eq!(value["merkle_root"], hex_0x(&batch_merkle_root(&hashes)));
		assert_eq!(merkle_root_of(&outputs, 2), batch_merkle_root(&hashes));

		let single =
			InferRequest { single: true, count: 1, hashes: false, merkle: false, ..request };
		let body = encode_response(&[1; 32], &single, &[5, 9, 9], 3);
		let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
		assert_eq!(value["output"], serde_json::json!([5, 9, 9]));
		assert_eq!(value["class"], 1);
		assert_eq!(value["hash"], hex_0x(&result_hash(&[5, 9, 9])));
		assert_eq!(encode_binary(&[1, -1]), vec![1, 0, 0, 0, 255, 255, 255, 255]);
	}
}
