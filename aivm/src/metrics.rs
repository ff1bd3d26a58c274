//! Prometheus metrics: plain atomics, rendered in the text exposition format on `GET /metrics`.

use std::{
	fmt::Write,
	sync::atomic::{AtomicU64, Ordering::Relaxed},
	time::Duration,
};

/// Upper bounds of the request-latency histogram, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] =
	[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// The routes of the server, which requests are counted by.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
	/// `POST /v1/infer`: JSON inference.
	Infer,
	/// `POST /v1/infer/binary`: binary inference.
	InferBinary,
	/// `GET /v1/models`.
	Models,
	/// `GET /health`.
	Health,
	/// `GET /metrics`.
	Metrics,
	/// Any other path (answered `404`).
	Other,
}

impl Route {
	/// Every route, in declaration order (the order of the metrics output).
	pub const ALL: [Route; 6] = [
		Route::Infer,
		Route::InferBinary,
		Route::Models,
		Route::Health,
		Route::Metrics,
		Route::Other,
	];

	/// The route of a request path.
	pub fn of(path: &str) -> Route {
		match path {
			"/v1/infer" => Route::Infer,
			"/v1/infer/binary" => Route::InferBinary,
			"/v1/models" => Route::Models,
			"/health" => Route::Health,
			"/metrics" => Route::Metrics,
			_ => Route::Other,
		}
	}

	/// The route's position in [`Route::ALL`], which indexes its counters.
	pub const fn index(self) -> usize {
		self as usize
	}

	/// The route's `route` label in `aivm_requests_total`.
	pub fn label(self) -> &'static str {
		match self {
			Route::Infer => "infer",
			Route::InferBinary => "infer_binary",
			Route::Models => "models",
			Route::Health => "health",
			Route::Metrics => "metrics",
			Route::Other => "other",
		}
	}
}

// `Route::index` is the position in `Route::ALL`: checked at compile time.
const _: () = {
	let mut i = 0;
	while i < Route::ALL.len() {
		assert!(Route::ALL[i].index() == i);
		i += 1;
	}
};

/// Status classes requests are counted by.
const CLASSES: [&str; 3] = ["2xx", "4xx", "5xx"];

/// Every counter of the server.
#[derive(Default)]
pub struct Metrics {
	/// Requests by route (in [`Route::ALL`] order) and status class (in `CLASSES` order).
	requests: [[AtomicU64; CLASSES.len()]; Route::ALL.len()],
	latency_buckets: [AtomicU64; 12],
	latency_count: AtomicU64,
	latency_sum_ns: AtomicU64,
	/// Inferences computed.
	pub inferences: AtomicU64,
	/// Engine runs (batches after dynamic batching).
	pub engine_runs: AtomicU64,
	/// Nanoseconds spent in the engine.
	pub engine_ns: AtomicU64,
	/// Items waiting or running (the back-pressure gauge).
	pub queued_items: AtomicU64,
	/// Requests refused because the queue was full.
	pub rejected: AtomicU64,
}

impl Metrics {
	/// Count a finished request of `route` with `status`, which took `elapsed`.
	pub fn request(&self, route: Route, status: u16, elapsed: Duration) {
		let class = match status {
			200..=399 => 0,
			400..=499 => 1,
			_ => 2,
		};
		if let Some(counter) = self.requests.get(route.index()).and_then(|r| r.get(class)) {
			counter.fetch_add(1, Relaxed);
		}
		let seconds = elapsed.as_secs_f64();
		for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
			if seconds <= *bound {
				bucket.fetch_add(1, Relaxed);
			}
		}
		self.latency_count.fetch_add(1, Relaxed);
		self.latency_sum_ns
			.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Relaxed);
	}

	/// One engine run of `items` items that took `elapsed`.
	pub fn engine_run(&self, items: usize, elapsed: Duration) {
		self.engine_runs.fetch_add(1, Relaxed);
		self.inferences.fetch_add(items as u64, Relaxed);
		self.engine_ns
			.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Relaxed);
	}

	/// The text exposition format; `backend` labels the build info.
	pub fn render(&self, backend: &str, threads: usize) -> String {
		let mut out = String::with_capacity(4096);
		let _ = writeln!(out, "# HELP aivm_info The back-end and worker threads of this server.");
		let _ = writeln!(out, "# TYPE aivm_info gauge");
		let _ = writeln!(out, "aivm_info{{backend=\"{backend}\",threads=\"{threads}\"}} 1");
		let _ =
			writeln!(out, "# HELP aivm_requests_total HTTP requests by route and status class.");
		let _ = writeln!(out, "# TYPE aivm_requests_total counter");
		for (route, counters) in Route::ALL.iter().zip(&self.requests) {
			let route = route.label();
			for (class, counter) in CLASSES.iter().zip(counters) {
				let _ = writeln!(
					out,
					"aivm_requests_total{{route=\"{route}\",status=\"{class}\"}} {}",
					counter.load(Relaxed)
				);
			}
		}
		let _ = writeln!(out, "# HELP aivm_request_duration_seconds Request latency.");
		let _ = writeln!(out, "# TYPE aivm_request_duration_seconds histogram");
		for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
			let _ = writeln!(
				out,
				"aivm_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
				bucket.load(Relaxed)
			);
		}
		let count = self.latency_count.load(Relaxed);
		let _ = writeln!(out, "aivm_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
		let _ = writeln!(
			out,
			"aivm_request_duration_seconds_sum {}",
			self.latency_sum_ns.load(Relaxed) as f64 / 1e9
		);
		let _ = writeln!(out, "aivm_request_duration_seconds_count {count}");
		let counters = [
			(
				"aivm_inferences_total",
				"counter",
				"Inferences computed.",
				self.inferences.load(Relaxed) as f64,
			),
			(
				"aivm_engine_runs_total",
				"counter",
				"Engine runs (batches after dynamic batching).",
				self.engine_runs.load(Relaxed) as f64,
			),
			(
				"aivm_engine_seconds_total",
				"counter",
				"Time spent computing.",
				self.engine_ns.load(Relaxed) as f64 / 1e9,
			),
			(
				"aivm_queued_items",
				"gauge",
				"Items waiting or being computed.",
				self.queued_items.load(Relaxed) as f64,
			),
			(
				"aivm_rejected_total",
				"counter",
				"Requests refused with 503 because the queue was full.",
				self.rejected.load(Relaxed) as f64,
			),
		];
		for (name, kind, help, value) in counters {
			let _ = writeln!(out, "# HELP {name} {help}");
			let _ = writeln!(out, "# TYPE {name} {kind}");
			let _ = writeln!(out, "{name} {value}");
		}
		out
	}
}
