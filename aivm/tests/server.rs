//! The HTTP server on loopback, spoken to over plain TCP: every route, the JSON API, the binary
//! format the node's worker relies on, every refusal, back-pressure and batching.

use dsync_aivm::{
	api::hex_0x,
	engine::{pseudo_random_inputs, Backend, Engine},
	server::{serve, Options, State},
};
use dsync_aivm_core::{batch_merkle_root, bundled, result_hash, Model, Scratch};
use std::{net::SocketAddr, time::Duration};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpStream,
};

fn digits() -> Model {
	Model::parse(bundled::DIGITS_64_128_64_10).unwrap()
}

fn reference(inputs: &[i8]) -> Vec<i32> {
	let model = digits();
	let batch = inputs.len() / 64;
	let mut outputs = vec![0; batch * 10];
	model
		.infer_batch(inputs, batch, &mut Scratch::for_model(&model, 8), &mut outputs)
		.unwrap();
	outputs
}

/// A server with `options` on a free port, in its own runtime.
fn start(options: Options) -> (tokio::runtime::Runtime, SocketAddr) {
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.worker_threads(2)
		.enable_all()
		.build()
		.unwrap();
	let addr = runtime.block_on(async {
		let engine = Engine::new(digits(), Backend::best(), 0).unwrap();
		let state = State::new(vec![("digits".into(), engine)], options);
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		tokio::spawn(serve(listener, state));
		addr
	});
	(runtime, addr)
}

struct Reply {
	status: u16,
	headers: String,
	body: Vec<u8>,
}

impl Reply {
	fn json(&self) -> serde_json::Value {
		serde_json::from_slice(&self.body).unwrap_or_else(|e| {
			panic!("{e}: {}", String::from_utf8_lossy(&self.body));
		})
	}

	fn error_code(&self) -> String {
		self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
	}
}

/// One HTTP/1.1 request on a new connection (closed after the answer).
async fn request(addr: SocketAddr, method: &str, path: &str, kind: &str, body: &[u8]) -> Reply {
	let mut stream = TcpStream::connect(addr).await.unwrap();
	let head = format!(
		"{method} {path} HTTP/1.1\r\nHost: aivm\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).await.unwrap();
	stream.write_all(body).await.unwrap();
	let mut raw = Vec::new();
	stream.read_to_end(&mut raw).await.unwrap();
	let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
	let headers = String::from_utf8_lossy(&raw[..split]).to_lowercase();
	let status = headers[9..12].parse().unwrap();
	let mut body = raw[split + 4..].to_vec();
	if headers.contains("transfer-encoding: chunked") {
		body = dechunk(&body);
	}
	Reply { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
	let mut out = Vec::new();
	loop {
		let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
		let size =
			usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap().trim(), 16).unwrap();
		if size == 0 {
			return out;
		}
		out.extend_from_slice(&raw[line + 2..line + 2 + size]);
		raw = &raw[line + 4 + size..];
	}
}

fn post_json(
	runtime: &tokio::runtime::Runtime,
	addr: SocketAddr,
	body: &serde_json::Value,
) -> Reply {
	let body = serde_json::to_vec(body).unwrap();
	runtime.block_on(request(addr, "POST", "/v1/infer", "application/json", &body))
}

fn rows(inputs: &[i8]) -> Vec<Vec<i8>> {
	inputs.chunks(64).map(<[i8]>::to_vec).collect()
}

#[test]
fn serves_health_models_and_metrics() {
	let (runtime, addr) = start(Options::default());
	let health = runtime.block_on(request(addr, "GET", "/health", "text/plain", b""));
	assert_eq!(health.status, 200);
	assert_eq!(health.json()["status"], "ok");
	assert_eq!(health.json()["backend"], Backend::best().name());

	let models = runtime.block_on(request(addr, "GET", "/v1/models", "text/plain", b""));
	let list = &models.json()["models"];
	assert_eq!(list[0]["name"], "digits");
	assert_eq!(list[0]["id"], hex_0x(&bundled::DIGITS_64_128_64_10_HASH));
	assert_eq!(
		(list[0]["input_len"].as_u64(), list[0]["output_len"].as_u64()),
		(Some(64), Some(10))
	);

	post_json(&runtime, addr, &serde_json::json!({"model": "digits", "input": vec![0; 64]}));
	let metrics = runtime.block_on(request(addr, "GET", "/metrics", "text/plain", b""));
	let text = String::from_utf8(metrics.body).unwrap();
	assert!(text.contains("aivm_inferences_total 1\n"), "{text}");
	assert!(text.contains("aivm_requests_total{route=\"infer\",status=\"2xx\"} 1\n"), "{text}");
	assert!(text.contains("aivm_request_duration_seconds_count"), "{text}");
}

#[test]
fn answers_single_and_batched_json_exactly() {
	let (runtime, addr) = start(Options::default());
	let inputs: Vec<i8> = pseudo_random_inputs(300 * 64, 3)
		.iter()
		.map(|v| (*v as u8 % 17) as i8)
		.collect();
	let expected = reference(&inputs);

	// One item, by name.
	let one =
		post_json(&runtime, addr, &serde_json::json!({"model": "digits", "input": &inputs[..64]}));
	assert_eq!(one.status, 200);
	let value = one.json();
	assert_eq!(value["output"], serde_json::json!(&expected[..10]));
	assert_eq!(value["hash"], hex_0x(&result_hash(&expected[..10])));
	assert_eq!(value["model"], hex_0x(&bundled::DIGITS_64_128_64_10_HASH));

	// A batch, by id, with hashes and the Merkle root: the worker's contract.
	let id = hex_0x(&bundled::DIGITS_64_128_64_10_HASH);
	let batch = post_json(
		&runtime,
		addr,
		&serde_json::json!({"model": id, "inputs": rows(&inputs), "hashes": true, "merkle": true}),
	);
	assert_eq!(batch.status, 200);
	let value = batch.json();
	let outputs: Vec<Vec<i32>> = serde_json::from_value(value["outputs"].clone()).unwrap();
	assert_eq!(outputs.concat(), expected);
	assert_eq!(value["count"], 300);
	let hashes: Vec<[u8; 32]> = expected.chunks(10).map(result_hash).collect();
	assert_eq!(value["hashes"][299], hex_0x(&hashes[299]));
	assert_eq!(value["merkle_root"], hex_0x(&batch_merkle_root(&hashes)));

	// Without the options the answer carries neither.
	let plain = post_json(
		&runtime,
		addr,
		&serde_json::json!({"model": "digits", "inputs": rows(&inputs[..128])}),
	);
	assert!(plain.json().get("hashes").is_none() && plain.json().get("merkle_root").is_none());
}

#[test]
fn answers_binary_batches_exactly() {
	let (runtime, addr) = start(Options::default());
	let inputs = pseudo_random_inputs(5000 * 64, 9);
	let expected = reference(&inputs);
	let body: Vec<u8> = inputs.iter().map(|v| *v as u8).collect();
	let reply = runtime.block_on(request(
		addr,
		"POST",
		"/v1/infer/binary?model=digits&merkle=1",
		"application/octet-stream",
		&body,
	));
	assert_eq!(reply.status, 200);
	let outputs: Vec<i32> = reply
		.body
		.chunks(4)
		.map(|b| i32::from_le_bytes(b.try_into().unwrap()))
		.collect();
	assert_eq!(outputs, expected);
	let hashes: Vec<[u8; 32]> = expected.chunks(10).map(result_hash).collect();
	assert!(reply
		.headers
		.contains(&format!("x-aivm-merkle-root: {}", hex_0x(&batch_merkle_root(&hashes)))));
	assert!(reply.headers.contains("x-aivm-count: 5000"));
}

#[test]
fn refuses_bad_requests_with_clear_errors() {
	let options =
		Options { max_request_items: 100, max_body_bytes: 64 * 1024, ..Options::default() };
	let (runtime, addr) = start(options);
	let json = |body: serde_json::Value| post_json(&runtime, addr, &body);
	let cases = [
		(json(serde_json::json!({"model": "cats", "input": vec![0; 64]})), 404, "unknown_model"),
		(
			json(
				serde_json::json!({"model": format!("0x{}", "00".repeat(32)), "input": vec![0; 64]}),
			),
			404,
			"unknown_model",
		),
		(json(serde_json::json!({"model": "digits", "input": vec![0; 63]})), 422, "wrong_shape"),
		(
			json(serde_json::json!({"model": "digits", "inputs": vec![vec![0; 64], vec![0; 65]]})),
			400,
			"bad_request",
		),
		(
			json(serde_json::json!({"model": "digits", "input": vec![0; 64], "extra": 1})),
			400,
			"bad_request",
		),
		(json(serde_json::json!({"model": "digits", "input": vec![300; 64]})), 400, "bad_request"),
		(
			json(serde_json::json!({"model": "digits", "inputs": vec![vec![0; 64]; 101]})),
			413,
			"too_large",
		),
	];
	for (reply, status, code) in cases {
		assert_eq!((reply.status, reply.error_code().as_str()), (status, code));
	}
	let raw = |method: &str, path: &str, kind: &str, body: &[u8]| {
		runtime.block_on(request(addr, method, path, kind, body))
	};
	let checks = [
		(raw("POST", "/v1/infer", "application/json", b"{not json"), 400, "bad_request"),
		(raw("POST", "/v1/infer", "text/plain", b"{}"), 415, "unsupported_media_type"),
		(raw("GET", "/v1/infer", "application/json", b""), 405, "method_not_allowed"),
		(raw("POST", "/health", "application/json", b""), 405, "method_not_allowed"),
		(raw("GET", "/nowhere", "text/plain", b""), 404, "not_found"),
		(raw("POST", "/v1/infer", "application/json", &vec![b' '; 70 * 1024]), 413, "too_large"),
		(
			raw("POST", "/v1/infer/binary?model=digits", "application/octet-stream", &[0; 65]),
			422,
			"wrong_shape",
		),
		(raw("POST", "/v1/infer/binary", "application/octet-stream", &[0; 64]), 400, "bad_request"),
		(
			raw("POST", "/v1/infer/binary?model=digits&x=1", "application/octet-stream", &[0; 64]),
			400,
			"bad_request",
		),
		(
			raw("POST", "/v1/infer/binary?model=cats", "application/octet-stream", &[0; 64]),
			404,
			"unknown_model",
		),
	];
	for (reply, status, code) in checks {
		assert_eq!((reply.status, reply.error_code().as_str()), (status, code));
	}
	// The server still works after all that.
	let ok = json(serde_json::json!({"model": "digits", "input": vec![1; 64]}));
	assert_eq!(ok.status, 200);
}

#[test]
fn a_full_queue_refuses_with_retry_after() {
	let (runtime, addr) = start(Options { queue_items: 10, ..Options::default() });
	let reply = post_json(
		&runtime,
		addr,
		&serde_json::json!({"model": "digits", "inputs": vec![vec![0; 64]; 11]}),
	);
	assert_eq!((reply.status, reply.error_code().as_str()), (503, "overloaded"));
	assert!(reply.headers.contains("retry-after: 1"));
	// Within the bound it is served, and the bound is given back after each answer.
	for _ in 0..3 {
		let ok = post_json(
			&runtime,
			addr,
			&serde_json::json!({"model": "digits", "inputs": vec![vec![0; 64]; 10]}),
		);
		assert_eq!(ok.status, 200);
	}
	let metrics = runtime.block_on(request(addr, "GET", "/metrics", "text/plain", b""));
	let text = String::from_utf8(metrics.body).unwrap();
	assert!(text.contains("aivm_rejected_total 1\n"), "{text}");
	assert!(text.contains("aivm_queued_items 0\n"), "{text}");
}

#[test]
fn concurrent_small_requests_are_batched_and_answered_exactly() {
	let (runtime, addr) =
		start(Options { max_wait: Duration::from_millis(300), ..Options::default() });
	let requests = 24;
	let inputs = pseudo_random_inputs(requests * 3 * 64, 21);
	let expected = reference(&inputs);
	let replies = runtime.block_on(async {
		let mut tasks = Vec::new();
		for r in 0..requests {
			let body = serde_json::to_vec(&serde_json::json!({
				"model": "digits",
				"inputs": rows(&inputs[r * 3 * 64..(r + 1) * 3 * 64]),
			}))
			.unwrap();
			tasks.push(tokio::spawn(async move {
				request(addr, "POST", "/v1/infer", "application/json", &body).await
			}));
		}
		let mut replies = Vec::new();
		for task in tasks {
			replies.push(task.await.unwrap());
		}
		replies
	});
	for (r, reply) in replies.iter().enumerate() {
		assert_eq!(reply.status, 200);
		let outputs: Vec<Vec<i32>> =
			serde_json::from_value(reply.json()["outputs"].clone()).unwrap();
		assert_eq!(outputs.concat(), expected[r * 30..(r + 1) * 30], "request {r}");
	}
	let metrics = runtime.block_on(request(addr, "GET", "/metrics", "text/plain", b""));
	let text = String::from_utf8(metrics.body).unwrap();
	let runs: u64 = text
		.lines()
		.find_map(|l| l.strip_prefix("aivm_engine_runs_total "))
		.and_then(|v| v.parse::<f64>().ok())
		.unwrap() as u64;
	assert!(text.contains(&format!("aivm_inferences_total {}\n", requests * 3)), "{text}");
	assert!(
		runs < requests as u64,
		"{runs} engine runs for {requests} requests: nothing was batched"
	);
}
