//! `aivm`: the DSYNC inference server (see the library docs for the HTTP API).
//!
//! ```sh
//! aivm                                   # serve the bundled digits model on 127.0.0.1:8710
//! aivm --model my.aivm --listen 0.0.0.0:8710 --backend avx2
//! aivm bench --seconds 3                 # in-process throughput of every back-end
//! ```

use clap::{Parser, Subcommand};
use dsync_aivm::{
	engine::{pseudo_random_inputs, Backend, Engine},
	server::{self, Options, State},
};
use dsync_aivm_core::{bundled, Model};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Parser, Debug)]
#[command(name = "aivm", version, about = "The DSYNC inference server")]
struct Cli {
	#[command(subcommand)]
	command: Option<Command>,

	/// Address to serve on. `dsync-node --aivm-url` must point here (default
	/// `http://127.0.0.1:8710`).
	#[arg(long, default_value = "127.0.0.1:8710")]
	listen: SocketAddr,

	/// An `.aivm` model file to serve (repeatable); its name is the file stem. Without any,
	/// the bundled digits model is served as `digits`.
	#[arg(long = "model", value_name = "PATH")]
	models: Vec<PathBuf>,

	#[command(flatten)]
	engine: EngineArgs,

	/// The most items of one engine run built from queued small requests.
	#[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
	max_batch: u32,

	/// Microseconds the batcher waits for more requests once it has one (0: batch only what
	/// is already queued, the lowest latency).
	#[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
	max_wait_us: u32,

	/// The most items waiting or running at once; beyond it requests get `503`.
	#[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(1..))]
	queue_items: u32,

	/// The most items in one request (`413` beyond).
	#[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
	max_request_items: u32,

	/// The largest request body in bytes (`413` beyond).
	#[arg(long, default_value_t = 32 << 20, value_parser = clap::value_parser!(u32).range(1024..))]
	max_body_bytes: u32,

	/// Connections served at once.
	#[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65_536))]
	max_connections: u32,

	/// Threads that serve HTTP (parse and encode); 0: all cores.
	#[arg(long, default_value_t = 0)]
	io_threads: usize,
}

#[derive(clap::Args, Debug, Clone)]
struct EngineArgs {
	/// The compute back-end: `auto` (a GPU if built with the `gpu` feature and one is found,
	/// else the fastest this CPU supports), `gpu`, `avx512-vnni`, `avx2` or `portable`. All
	/// give bit-identical results.
	#[arg(long, default_value = "auto")]
	backend: String,

	/// Compute threads of a large batch; 0: all cores.
	#[arg(long, default_value_t = 0)]
	threads: usize,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Measure in-process throughput of the digits model on every back-end this machine
	/// supports (the GPU too, when built with the `gpu` feature).
	Bench {
		/// Seconds per measurement.
		#[arg(long, default_value_t = 2.0)]
		seconds: f64,
		/// Items per engine call.
		#[arg(long, default_value_t = 4096)]
		batch: usize,
		/// Compute threads; 0: all cores.
		#[arg(long, default_value_t = 0)]
		threads: usize,
	},
}

struct StderrLogger;

impl log::Log for StderrLogger {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::max_level()
	}
	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("aivm {} {}", record.level(), record.args());
		}
	}
	fn flush(&self) {}
}

fn backend(name: &str) -> Result<Backend, String> {
	if name == "auto" {
		Ok(Backend::best())
	} else {
		name.parse()
	}
}

fn main() {
	let _ = log::set_logger(&StderrLogger);
	let level = match std::env::var("AIVM_LOG").as_deref() {
		Ok("debug") => log::LevelFilter::Debug,
		Ok("warn") => log::LevelFilter::Warn,
		_ => log::LevelFilter::Info,
	};
	log::set_max_level(level);
	let cli = Cli::parse();
	if let Err(error) = run(cli) {
		eprintln!("aivm: {error}");
		std::process::exit(1);
	}
}

fn run(cli: Cli) -> Result<(), String> {
	if let Some(Command::Bench { seconds, batch, threads }) = cli.command {
		return bench(seconds, batch, threads);
	}
	let backend = backend(&cli.engine.backend)?;
	let mut loaded = Vec::new();
	if cli.models.is_empty() {
		let model = Model::parse(bundled::DIGITS_64_128_64_10).map_err(|e| format!("{e:?}"))?;
		loaded.push(("digits".to_string(), model));
	}
	for path in &cli.models {
		let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
		let model = Model::parse(&bytes).map_err(|e| format!("{}: {e:?}", path.display()))?;
		let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
		loaded.push((name, model));
	}
	let mut engines = Vec::new();
	for (name, model) in loaded {
		let id = dsync_aivm::api::hex_0x(&model.hash());
		let engine = match Engine::new(model.clone(), backend, cli.engine.threads) {
			Ok(engine) => engine,
			// `auto` never serves from a GPU that cannot run the model bit for bit.
			Err(error) if cli.engine.backend == "auto" && backend == Backend::Gpu => {
				log::warn!("model {name}: the GPU back-end is not usable ({error}); using the CPU");
				Engine::new(model, Backend::best_cpu(), cli.engine.threads)
					.map_err(|e| e.to_string())?
			},
			Err(error) => return Err(error.to_string()),
		};
		log::info!(
			"model {name} {id}: {} back-end, {} threads",
			engine.backend(),
			engine.threads()
		);
		#[cfg(feature = "gpu")]
		if engine.backend() == Backend::Gpu {
			let device = dsync_aivm::engine::gpu::device_name().unwrap_or_default();
			log::info!("model {name}: GPU {device}");
		}
		engines.push((name, engine));
	}
	let options = Options {
		max_batch: cli.max_batch as usize,
		max_wait: Duration::from_micros(u64::from(cli.max_wait_us)),
		queue_items: cli.queue_items as usize,
		max_request_items: cli.max_request_items as usize,
		max_body_bytes: cli.max_body_bytes as usize,
		max_connections: cli.max_connections as usize,
	};
	let mut runtime = tokio::runtime::Builder::new_multi_thread();
	if cli.io_threads > 0 {
		runtime.worker_threads(cli.io_threads);
	}
	let runtime = runtime.enable_all().build().map_err(|e| e.to_string())?;
	runtime.block_on(async move {
		let listener = tokio::net::TcpListener::bind(cli.listen)
			.await
			.map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
		let local = listener.local_addr().map_err(|e| e.to_string())?;
		let state = State::new(engines, options);
		log::info!("listening on http://{local}");
		server::serve(listener, state).await;
		Ok(())
	})
}

fn bench(seconds: f64, batch: usize, threads: usize) -> Result<(), String> {
	let model = Model::parse(bundled::DIGITS_64_128_64_10).map_err(|e| format!("{e:?}"))?;
	let inputs = pseudo_random_inputs(batch * model.input_len(), 1)
		.into_iter()
		.map(|v| (v as u8 % 17) as i8)
		.collect::<Vec<_>>();
	println!("backend,threads,batch,inferences_per_second");
	for backend in Backend::supported() {
		let engine = match Engine::new(model.clone(), backend, threads) {
			Ok(engine) => engine,
			Err(error) => {
				eprintln!("aivm bench: {backend} skipped: {error}");
				continue;
			},
		};
		let mut outputs = vec![0i32; batch * model.output_len()];
		engine.infer(&inputs, &mut outputs).map_err(|e| e.to_string())?;
		let started = std::time::Instant::now();
		let mut runs = 0u64;
		while started.elapsed().as_secs_f64() < seconds {
			engine.infer(&inputs, &mut outputs).map_err(|e| e.to_string())?;
			runs += 1;
		}
		let rate = (runs as f64) * (batch as f64) / started.elapsed().as_secs_f64();
		println!("{},{},{batch},{rate:.0}", backend.name(), engine.threads());
	}
	Ok(())
}
