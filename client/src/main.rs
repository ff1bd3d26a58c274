//! `dsync`: the DSYNC network's command-line client.
//!
//! Today: `dsync store cid <path>`, the IPFS CID of a file or directory as the network names
//! it (the "unixfs-v1-2025" profile), computed locally, the same as `ipfs add --only-hash
//! --cid-version 1 --raw-leaves --chunker size-1048576` with balanced layout. The storage
//! commands that place orders and upload (`store put/get/status`) come with the storage pallet.

mod content;

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
}

fn main() -> ExitCode {
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Store(StoreCommand::Cid { path, chunk_size, max_links }) => {
			let profile = content::Profile { chunk_size, max_links };
			content::import(&path, profile, &mut |_, _| {}).map(|link| println!("{}", link.cid))
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
