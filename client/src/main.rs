//! `dsync`: the DSYNC network's command-line client.
//!
//! - `dsync store cid <path>`: the IPFS CID of a file or directory as the network names it (the
//!   "unixfs-v1-2025" profile), computed locally, the same as `ipfs add --only-hash
//!   --cid-version 1 --raw-leaves --chunker size-1048576` with balanced layout.
//! - `dsync store put <path>`: keep a file or directory on the network: pack, code, order,
//!   upload to the providers drawn, wait until they accepted ([`store`]).
//! - `dsync store status <order>`: an open order and its slots.
//! - `dsync store get <cid>`: content fetched from a gateway, every block verified against the
//!   CID before it is written ([`get`]).

mod chain;
mod content;
mod get;
mod store;

use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(name = "dsync", version, about = "The DSYNC network's command-line client")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Content stored on the network.
	#[command(subcommand)]
	Store(StoreCommand),
}

#[derive(Subcommand)]
enum StoreCommand {
	/// Print the CID of a file or directory (CIDv1, base32), computed locally.
	Cid {
		/// The file or directory.
		path: PathBuf,
		/// Bytes per leaf. The network uses 1 MiB (the default); other sizes give other CIDs
		/// (for comparing with other importers' settings).
		#[arg(long, default_value_t = content::STANDARD.chunk_size)]
		chunk_size: u32,
		/// The most links of one inner node (default 1,024, the network's).
		#[arg(long, default_value_t = content::STANDARD.max_links)]
		max_links: u32,
	},
	/// Keep a file or directory on the network: places a storage order paid by `--suri`,
	/// uploads each slot to its provider and waits until the order is active.
	Put {
		/// The file or directory.
		path: PathBuf,
		#[command(flatten)]
		node: NodeArg,
		/// The paying account's secret URI (`//Alice` on a development chain, a mnemonic, a
		/// hex seed). Read from the `DSYNC_SURI` environment variable when not given.
		#[arg(long, env = "DSYNC_SURI", hide_env_values = true)]
		suri: Option<String>,
		/// Read the paying account's secret from a keystore file instead: a Substrate keystore
		/// file (a JSON string, as `dsync-node key insert` writes) or a text file holding the
		/// secret URI; only its owner may read it (mode 600).
		#[arg(long, value_name = "PATH", conflicts_with = "suri")]
		keystore_file: Option<PathBuf>,
		/// Data shards of each segment (default: the chain's minimum).
		#[arg(long)]
		data_shards: Option<u8>,
		/// Slots in all, data and parity (default: data shards plus the chain's minimum parity).
		#[arg(long)]
		slots: Option<u8>,
		/// The term, in storage epochs (default: the chain's shortest).
		#[arg(long)]
		epochs: Option<u32>,
		/// The price of one slot for one epoch, in plancks (default: the chain's floor).
		#[arg(long)]
		price: Option<u128>,
		/// Where the packed and coded files are made (default: the temporary directory); they
		/// are removed at the end.
		#[arg(long)]
		work_dir: Option<PathBuf>,
		/// Seconds to wait for every slot to be accepted.
		#[arg(long, default_value_t = 600)]
		timeout: u64,
	},
	/// Fetch content by its CID from a gateway, verify every block against the CID, and
	/// write it (a file, or a directory tree).
	Get {
		/// The CID (CIDv1, or kubo's CIDv0 `Qm…`).
		cid: String,
		/// Where to write it: a path that does not exist yet, or `-` for stdout (a file only).
		/// Default: `./<cid>`.
		#[arg(short, long)]
		output: Option<PathBuf>,
		/// A DSYNC node serving `/ipfs/` (any storage node or gateway: its probe port, or its
		/// `--gateway-listen-addr`).
		#[arg(long, default_value = "http://127.0.0.1:9955")]
		gateway: String,
		/// Where the fetched CAR is kept while it is checked (default: the temporary
		/// directory); it is removed at the end.
		#[arg(long)]
		work_dir: Option<PathBuf>,
	},
	/// Show an open storage order and its slots.
	Status {
		/// The order.
		order: u64,
		#[command(flatten)]
		node: NodeArg,
	},
}

/// The node a command talks to.
#[derive(clap::Args)]
struct NodeArg {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,
}

/// The paying account's secret URI: `--suri` (or `DSYNC_SURI`), else `--keystore-file`.
fn secret(suri: Option<String>, keystore_file: Option<PathBuf>) -> Result<String, String> {
	match (suri, keystore_file) {
		(Some(suri), _) => Ok(suri),
		(None, Some(path)) => chain::suri_from_file(&path),
		(None, None) => Err(
			"no secret for the paying account: give --suri, set DSYNC_SURI or give --keystore-file"
				.into(),
		),
	}
}

fn main() -> ExitCode {
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Store(StoreCommand::Cid { path, chunk_size, max_links }) => {
			let profile = content::Profile { chunk_size, max_links };
			content::import(&path, profile, &mut |_, _| {})
				.map(|link| println!("{}", link.cid))
				.map_err(|e| e.to_string())
		},
		Command::Store(StoreCommand::Put {
			path,
			node: NodeArg { rpc },
			suri,
			keystore_file,
			data_shards,
			slots,
			epochs,
			price,
			work_dir,
			timeout,
		}) => secret(suri, keystore_file).and_then(|suri| {
			store::put(store::PutOptions {
				path,
				rpc,
				suri,
				data_shards,
				slots,
				epochs,
				price,
				work_dir,
				timeout: std::time::Duration::from_secs(timeout),
			})
		}),
		Command::Store(StoreCommand::Status { order, node }) => store::status(&node.rpc, order),
		Command::Store(StoreCommand::Get { cid, output, gateway, work_dir }) => {
			get::get(get::GetOptions { cid, output, gateway, work_dir })
		},
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("dsync: {error}");
			ExitCode::FAILURE
		},
	}
}
