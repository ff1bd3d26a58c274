//! The HTTP server: routes, dynamic batching, back-pressure.
//!
//! ## Dynamic batching
//!
//! Small requests (fewer than half of `max_batch` items) of one model go through that model's
//! batcher: it takes the first waiting request, adds every request already queued behind it
//! (and, with `max_wait` above zero, those arriving within `max_wait`) up to `max_batch`
//! items, runs them as one engine call on the worker threads and answers each request with its
//! own slice. Under load the queue fills while the engine runs, so batches grow with the load
//! and per-request overhead shrinks; an idle server answers a single request at once. Large
//! requests skip the queue and run as their own engine call.
//!
//! ## Back-pressure
//!
//! Every item admitted counts against `queue_items` until it is answered. A request that would
//! pass the bound is refused at once with `503` and `Retry-After: 1` (counted in
//! `aivm_rejected_total`) instead of waiting without bound; a request of more than
//! `max_request_items` items or a body over `max_body_bytes` is refused with `413`. At most
//! `max_connections` connections are served at once (further ones wait in the kernel's
//! backlog), and a client has 10 seconds to send a request head.

use crate::{
	api::{self, InferRequest},
	metrics::{Metrics, Route},
	Engine,
};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{self, HeaderValue},
	server::conn::http1,
	service::service_fn,
	Method, Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
	convert::Infallible,
	sync::{
		atomic::{AtomicU64, Ordering::Relaxed},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::{
	net::TcpListener,
	sync::{mpsc, oneshot, Semaphore},
};

/// How the server batches, bounds and limits.
#[derive(Clone, Debug)]
pub struct Options {
	/// The most items of one engine run built from queued requests.
	pub max_batch: usize,
	/// How long the batcher waits for more requests once it has one (0: take what is queued).
	pub max_wait: Duration,
	/// The most items admitted (waiting or running) at once.
	pub queue_items: usize,
	/// The most items in one request.
	pub max_request_items: usize,
	/// The largest request body, in bytes.
	pub max_body_bytes: usize,
	/// Connections served at once.
	pub max_connections: usize,
}

impl Default for Options {
	fn default() -> Self {
		Options {
			max_batch: 4096,
			max_wait: Duration::ZERO,
			queue_items: 1 << 20,
			max_request_items: 65_536,
			max_body_bytes: 32 << 20,
			max_connections: 1024,
		}
	}
}

/// A small request waiting in its model's queue for a batch.
struct QueuedRequest {
	inputs: Vec<i8>,
	count: usize,
	reply: oneshot::Sender<Vec<i32>>,
}

/// A model being served.
pub struct Served {
	/// Its name (the file stem, or `digits` for the bundled model).
	pub name: String,
	/// Its id: the Blake2-256 of the file.
	pub id: [u8; 32],
	/// Its engine.
	pub engine: Arc<Engine>,
	/// The queue of its batcher.
	queue: mpsc::Sender<QueuedRequest>,
}

/// Everything the handlers share.
pub struct State {
	models: Vec<Served>,
	options: Options,
	/// The server's counters.
	pub metrics: Arc<Metrics>,
}

impl State {
	/// The state serving `models` (name and engine); starts one batcher task per model, so it
	/// must be called inside a Tokio runtime.
	pub fn new(models: Vec<(String, Engine)>, options: Options) -> Arc<State> {
		let metrics = Arc::new(Metrics::default());
		let models = models
			.into_iter()
			.map(|(name, engine)| {
				let engine = Arc::new(engine);
				let (queue, receiver) = mpsc::channel(options.queue_items.max(1));
				tokio::spawn(batcher(engine.clone(), receiver, options.clone(), metrics.clone()));
				Served { id: engine.model().hash(), name, engine, queue }
			})
			.collect();
		Arc::new(State { models, options, metrics })
	}

	/// The models served.
	pub fn models(&self) -> &[Served] {
		&self.models
	}

	/// A model by name or by `0x` id.
	pub fn find(&self, model: &str) -> Option<&Served> {
		let id = api::parse_id(model);
		self.models.iter().find(|m| m.name == model || Some(m.id) == id)
	}
}

/// Serve `state` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<State>) {
	let connections = Arc::new(Semaphore::new(state.options.max_connections.max(1)));
	loop {
		let Ok(permit) = connections.clone().acquire_owned().await else { return };
		let (stream, _) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(error) => {
				log::debug!("accept failed: {error}");
				tokio::time::sleep(Duration::from_millis(20)).await;
				continue;
			},
		};
		let _ = stream.set_nodelay(true);
		let state = state.clone();
		tokio::spawn(async move {
			let _permit = permit;
			let service = service_fn(move |request| handle(state.clone(), request));
			let connection = http1::Builder::new()
				.timer(TokioTimer::new())
				.header_read_timeout(Duration::from_secs(10))
				.keep_alive(true)
				.serve_connection(TokioIo::new(stream), service);
			if let Err(error) = connection.await {
				log::debug!("connection: {error}");
			}
		});
	}
}

type Answer = Response<Full<Bytes>>;

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Answer, Infallible> {
	let started = Instant::now();
	let (route, answer) = route(&state, request).await;
	state.metrics.request(route, answer.status().as_u16(), started.elapsed());
	Ok(answer)
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Answer {
	let mut answer = Response::new(Full::new(Bytes::from(body)));
	*answer.status_mut() = status;
	answer
		.headers_mut()
		.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
	answer
}

fn json(status: StatusCode, body: Vec<u8>) -> Answer {
	respond(status, "application/json", body)
}

/// A refused request: its status, code and message.
struct Refusal(StatusCode, &'static str, String);

impl Refusal {
	fn answer(self) -> Answer {
		let mut answer = json(self.0, api::error_body(self.1, &self.2));
		if self.0 == StatusCode::SERVICE_UNAVAILABLE {
			answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
		}
		answer
	}
}

async fn route(state: &State, request: Request<Incoming>) -> (Route, Answer) {
	let path = request.uri().path().to_string();
	let method = request.method().clone();
	let route = Route::of(&path);
	let result = match route {
		Route::Infer => infer_json(state, request).await,
		Route::InferBinary => infer_binary(state, request).await,
		Route::Models => only_get(&method).map(|()| models(state)),
		Route::Health => only_get(&method).map(|()| health(state)),
		Route::Metrics => only_get(&method).map(|()| render_metrics(state)),
		Route::Other => {
			Err(Refusal(StatusCode::NOT_FOUND, "not_found", format!("no route {path}")))
		},
	};
	(route, result.unwrap_or_else(Refusal::answer))
}

fn only_get(method: &Method) -> Result<(), Refusal> {
	if method == Method::GET {
		Ok(())
	} else {
		Err(Refusal(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "use GET".into()))
	}
}

fn models(state: &State) -> Answer {
	let list: Vec<serde_json::Value> = state
		.models
		.iter()
		.map(|m| {
			let model = m.engine.model();
			serde_json::json!({
				"name": m.name,
				"id": api::hex_0x(&m.id),
				"input_len": model.input_len(),
				"output_len": model.output_len(),
				"layers": model.layer_count(),
				"weights": model.weight_count(),
				"backend": m.engine.backend().name(),
			})
		})
		.collect();
	json(
		StatusCode::OK,
		serde_json::to_vec(&serde_json::json!({ "models": list })).unwrap_or_default(),
	)
}

fn render_metrics(state: &State) -> Answer {
	let (backend, threads) = state
		.models
		.first()
		.map(|m| (m.engine.backend().name(), m.engine.threads()))
		.unwrap_or(("none", 0));
	respond(
		StatusCode::OK,
		"text/plain; version=0.0.4",
		state.metrics.render(backend, threads).into_bytes(),
	)
}

fn health(state: &State) -> Answer {
	let (backend, threads) = state
		.models
		.first()
		.map(|m| (m.engine.backend().name(), m.engine.threads()))
		.unwrap_or(("none", 0));
	let body = serde_json::json!({
		"status": "ok",
		"backend": backend,
		"threads": threads,
		"models": state.models.len(),
		"queued_items": state.metrics.queued_items.load(Relaxed),
	});
	json(StatusCode::OK, serde_json::to_vec(&body).unwrap_or_default())
}

/// The body, within the size limit, after checking the method and content type.
async fn body(
	state: &State,
	request: Request<Incoming>,
	content_type: &str,
) -> Result<Bytes, Refusal> {
	if request.method() != Method::POST {
		return Err(Refusal(
			StatusCode::METHOD_NOT_ALLOWED,
			"method_not_allowed",
			"use POST".into(),
		));
	}
	if let Some(given) = request.headers().get(header::CONTENT_TYPE) {
		let given = given.to_str().unwrap_or_default();
		if !given.starts_with(content_type) {
			return Err(Refusal(
				StatusCode::UNSUPPORTED_MEDIA_TYPE,
				"unsupported_media_type",
				format!("send {content_type}, not {given}"),
			));
		}
	}
	let limit = state.options.max_body_bytes;
	match Limited::new(request.into_body(), limit).collect().await {
		Ok(collected) => Ok(collected.to_bytes()),
		Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(Refusal(
			StatusCode::PAYLOAD_TOO_LARGE,
			"too_large",
			format!("the body is over {limit} bytes"),
		)),
		Err(error) => {
			Err(Refusal(StatusCode::BAD_REQUEST, "bad_request", format!("body: {error}")))
		},
	}
}

fn find<'a>(state: &'a State, model: &str) -> Result<&'a Served, Refusal> {
	state.find(model).ok_or_else(|| {
		Refusal(
			StatusCode::NOT_FOUND,
			"unknown_model",
			format!("no model `{model}` here (GET /v1/models)"),
		)
	})
}

fn check_shape(served: &Served, count: usize, row_len: usize, max: usize) -> Result<(), Refusal> {
	if count > max {
		return Err(Refusal(
			StatusCode::PAYLOAD_TOO_LARGE,
			"too_large",
			format!("{count} items, at most {max} per request"),
		));
	}
	let expected = served.engine.model().input_len();
	if count > 0 && row_len != expected {
		return Err(Refusal(
			StatusCode::UNPROCESSABLE_ENTITY,
			"wrong_shape",
			format!("each item needs {expected} values, got {row_len}"),
		));
	}
	Ok(())
}

async fn infer_json(state: &State, request: Request<Incoming>) -> Result<Answer, Refusal> {
	let bytes = body(state, request, "application/json").await?;
	let parsed: InferRequest = api::parse_request(&bytes)
		.map_err(|error| Refusal(StatusCode::BAD_REQUEST, "bad_request", error.0))?;
	drop(bytes);
	let served = find(state, &parsed.model)?;
	check_shape(served, parsed.count, parsed.row_len, state.options.max_request_items)?;
	let InferRequest { model, inputs, count, row_len, single, hashes, merkle } = parsed;
	let outputs = infer(state, served, inputs, count).await?;
	let shape = InferRequest { model, inputs: Vec::new(), count, row_len, single, hashes, merkle };
	let out_len = served.engine.model().output_len();
	Ok(json(StatusCode::OK, api::encode_response(&served.id, &shape, &outputs, out_len)))
}

async fn infer_binary(state: &State, request: Request<Incoming>) -> Result<Answer, Refusal> {
	let query = request.uri().query().unwrap_or_default().to_string();
	let mut model = None;
	let mut merkle = false;
	for pair in query.split('&').filter(|p| !p.is_empty()) {
		match pair.split_once('=') {
			Some(("model", value)) => model = Some(value.to_string()),
			Some(("merkle", value)) => merkle = value == "1" || value == "true",
			_ => {
				return Err(Refusal(
					StatusCode::BAD_REQUEST,
					"bad_request",
					format!("unknown query parameter `{pair}`"),
				))
			},
		}
	}
	let model = model.ok_or_else(|| {
		Refusal(StatusCode::BAD_REQUEST, "bad_request", "missing `?model=`".into())
	})?;
	let bytes = body(state, request, "application/octet-stream").await?;
	let served = find(state, &model)?;
	let in_len = served.engine.model().input_len();
	if bytes.len() % in_len != 0 {
		return Err(Refusal(
			StatusCode::UNPROCESSABLE_ENTITY,
			"wrong_shape",
			format!("{} bytes is not a whole number of {in_len}-byte items", bytes.len()),
		));
	}
	let count = bytes.len() / in_len;
	check_shape(served, count, in_len, state.options.max_request_items)?;
	let inputs: Vec<i8> = bytes.iter().map(|b| *b as i8).collect();
	let outputs = infer(state, served, inputs, count).await?;
	let out_len = served.engine.model().output_len();
	let mut answer =
		respond(StatusCode::OK, "application/octet-stream", api::encode_binary(&outputs));
	if merkle {
		let root = api::hex_0x(&api::merkle_root_of(&outputs, out_len));
		if let Ok(value) = HeaderValue::from_str(&root) {
			answer.headers_mut().insert("x-aivm-merkle-root", value);
		}
	}
	if let Ok(value) = HeaderValue::from_str(&count.to_string()) {
		answer.headers_mut().insert("x-aivm-count", value);
	}
	Ok(answer)
}

/// Admit `count` items, compute them (through the batcher when small), release them.
async fn infer(
	state: &State,
	served: &Served,
	inputs: Vec<i8>,
	count: usize,
) -> Result<Vec<i32>, Refusal> {
	if count == 0 {
		return Ok(Vec::new());
	}
	let metrics = &state.metrics;
	let admitted = metrics.queued_items.fetch_add(count as u64, Relaxed) + count as u64;
	let _release = Release(&metrics.queued_items, count as u64);
	if admitted > state.options.queue_items as u64 {
		metrics.rejected.fetch_add(1, Relaxed);
		return Err(overloaded());
	}
	if count * 2 >= state.options.max_batch {
		return run_engine(served.engine.clone(), inputs, count, metrics.clone())
			.await
			.ok_or_else(internal);
	}
	let (reply, answer) = oneshot::channel();
	served.queue.try_send(QueuedRequest { inputs, count, reply }).map_err(|_| {
		metrics.rejected.fetch_add(1, Relaxed);
		overloaded()
	})?;
	answer.await.map_err(|_| internal())
}

/// Gives admitted items back when the request is answered or dropped.
struct Release<'a>(&'a AtomicU64, u64);

impl Drop for Release<'_> {
	fn drop(&mut self) {
		self.0.fetch_sub(self.1, Relaxed);
	}
}

fn overloaded() -> Refusal {
	Refusal(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "the queue is full: retry later".into())
}

fn internal() -> Refusal {
	Refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the engine failed".into())
}

/// One engine call on a blocking thread; `None` if it failed (a bug: shapes were checked).
async fn run_engine(
	engine: Arc<Engine>,
	inputs: Vec<i8>,
	count: usize,
	metrics: Arc<Metrics>,
) -> Option<Vec<i32>> {
	tokio::task::spawn_blocking(move || {
		let started = Instant::now();
		let mut outputs = vec![0i32; count * engine.model().output_len()];
		engine.infer(&inputs, &mut outputs).ok()?;
		metrics.engine_run(count, started.elapsed());
		Some(outputs)
	})
	.await
	.ok()
	.flatten()
}

/// The batcher of one model (see the module docs).
async fn batcher(
	engine: Arc<Engine>,
	mut queue: mpsc::Receiver<QueuedRequest>,
	options: Options,
	metrics: Arc<Metrics>,
) {
	let in_len = engine.model().input_len();
	let out_len = engine.model().output_len();
	while let Some(first) = queue.recv().await {
		let mut items = first.count;
		let mut requests = vec![first];
		while items < options.max_batch {
			match queue.try_recv() {
				Ok(request) => {
					items += request.count;
					requests.push(request);
				},
				Err(_) => break,
			}
		}
		if !options.max_wait.is_zero() {
			let deadline = tokio::time::Instant::now() + options.max_wait;
			while items < options.max_batch {
				match tokio::time::timeout_at(deadline, queue.recv()).await {
					Ok(Some(request)) => {
						items += request.count;
						requests.push(request);
					},
					_ => break,
				}
			}
		}
		let inputs = if requests.len() == 1 {
			std::mem::take(&mut requests[0].inputs)
		} else {
			let mut inputs = Vec::with_capacity(items * in_len);
			for request in &requests {
				inputs.extend_from_slice(&request.inputs);
			}
			inputs
		};
		let Some(outputs) = run_engine(engine.clone(), inputs, items, metrics.clone()).await else {
			// Dropping the requests answers them with an internal error.
			continue;
		};
		let mut at = 0;
		for request in requests {
			let len = request.count * out_len;
			let _ = request.reply.send(outputs[at..at + len].to_vec());
			at += len;
		}
	}
}
