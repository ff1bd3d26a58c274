//! The chain-maintenance sub-commands on a real database: a development chain runs for a few
//! blocks, its blocks are exported, imported into a fresh database, inspected and purged.

use serde_json::Value;
use std::{
	net::TcpListener,
	path::Path,
	process::{Child, Command, Output},
	time::{Duration, Instant},
};

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_dsync-node"))
}

fn run(args: &[&str]) -> Output {
	let out = node().args(args).output().expect("dsync-node runs");
	assert!(
		out.status.success(),
		"dsync-node {args:?} failed:\n{}",
		String::from_utf8_lossy(&out.stderr)
	);
	out
}

fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `chain-info` of the database at `base`: (best number, finalized number).
fn chain_info(base: &Path) -> (u64, u64) {
	let out = run(&["chain-info", "--dev", "--base-path", base.to_str().unwrap()]);
	let info: Value = serde_json::from_slice(&out.stdout).expect("chain-info prints JSON");
	let number = |snake: &str, camel: &str| {
		info.get(snake)
			.or_else(|| info.get(camel))
			.and_then(Value::as_u64)
			.unwrap_or_else(|| panic!("chain-info has no {snake}: {info}"))
	};
	(number("best_number", "bestNumber"), number("finalized_number", "finalizedNumber"))
}

/// Stops a node with SIGINT (a clean shutdown that flushes the database) when dropped.
struct Running(Child);
impl Drop for Running {
	fn drop(&mut self) {
		let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
		let deadline = Instant::now() + Duration::from_secs(30);
		while Instant::now() < deadline {
			if let Ok(Some(_)) = self.0.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

#[test]
fn blocks_export_import_inspect_and_purge() {
	let dir = std::env::temp_dir().join(format!("dsync-subcommands-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let (source, target) = (dir.join("source"), dir.join("target"));
	let blocks = dir.join("blocks.bin");

	// A development chain that produces a few blocks, then stops cleanly.
	{
		let rpc_port = free_port().to_string();
		let listen = format!("/ip4/127.0.0.1/tcp/{}", free_port());
		let _node = Running(
			node()
				.args(["--dev", "--base-path", source.to_str().unwrap()])
				.args(["--rpc-port", &rpc_port, "--listen-addr", &listen])
				.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
				.stdout(std::process::Stdio::null())
				.stderr(std::process::Stdio::null())
				.spawn()
				.expect("dsync-node starts"),
		);
		// Blocks come every 6 s; three or more within 40 s.
		std::thread::sleep(Duration::from_secs(40));
	}
	let (best, finalized) = chain_info(&source);
	assert!(best >= 3, "the development chain produced blocks: best #{best}");
	assert!(finalized >= 1, "and finalised some: #{finalized}");

	// Export every block, import them into an empty database: same best block.
	run(&[
		"export-blocks",
		"--dev",
		"--base-path",
		source.to_str().unwrap(),
		"--binary",
		"--from",
		"1",
		blocks.to_str().unwrap(),
	]);
	assert!(std::fs::metadata(&blocks).unwrap().len() > 0);
	run(&[
		"import-blocks",
		"--dev",
		"--base-path",
		target.to_str().unwrap(),
		"--binary",
		blocks.to_str().unwrap(),
	]);
	assert_eq!(chain_info(&target).0, best, "the imported chain reaches the same best block");

	// Purge the imported chain: its database is gone, a fresh one starts at genesis.
	run(&["purge-chain", "--dev", "--base-path", target.to_str().unwrap(), "-y"]);
	assert_eq!(chain_info(&target).0, 0);

	let _ = std::fs::remove_dir_all(&dir);
}
