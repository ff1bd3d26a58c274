//! The `dsync` binary's behaviour on bad input: a clear message on stderr, nothing on stdout,
//! a failing exit status. (Its CIDs are checked against the JavaScript IPFS importer by the
//! end-to-end suite `tests/e2e/cid.test.mjs`.)

use std::{fs, path::PathBuf, process::Command};

fn dsync(args: &[&str]) -> (bool, String, String) {
	let output = Command::new(env!("CARGO_BIN_EXE_dsync")).args(args).output().expect("runs");
	(
		output.status.success(),
		String::from_utf8_lossy(&output.stdout).into_owned(),
		String::from_utf8_lossy(&output.stderr).into_owned(),
	)
}

fn scratch(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("dsync-cli-{}-{name}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	fs::create_dir_all(&dir).unwrap();
	dir
}

#[test]
fn a_file_and_a_directory_get_their_cids() {
	let dir = scratch("ok");
	fs::write(dir.join("a.txt"), b"a").unwrap();
	let (ok, out, err) = dsync(&["store", "cid", dir.join("a.txt").to_str().unwrap()]);
	assert!(ok, "{err}");
	// The raw block "a", as every IPFS implementation names it.
	assert_eq!(out, "bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm\n");
	let (ok, out, err) = dsync(&["store", "cid", dir.to_str().unwrap()]);
	assert!(ok, "{err}");
	assert!(out.starts_with("bafybei") && out.lines().count() == 1, "{out}");
	fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_is_refused_with_the_path_and_the_reason() {
	let dir = scratch("bad");
	let missing = dir.join("missing");
	let (ok, out, err) = dsync(&["store", "cid", missing.to_str().unwrap()]);
	assert!(!ok && out.is_empty());
	assert!(err.contains(missing.to_str().unwrap()) && err.contains("No such file"), "{err}");

	// A symbolic link inside a directory: not content.
	fs::create_dir_all(dir.join("site")).unwrap();
	std::os::unix::fs::symlink("/etc/passwd", dir.join("site/link")).unwrap();
	let (ok, out, err) = dsync(&["store", "cid", dir.join("site").to_str().unwrap()]);
	assert!(!ok && out.is_empty());
	assert!(err.contains("site/link") && err.contains("symbolic links"), "{err}");

	// Chunk sizes and link counts IPFS peers cannot exchange.
	fs::write(dir.join("f"), b"x").unwrap();
	let f = dir.join("f");
	for (flag, value, reason) in [
		("--chunk-size", "0", "chunk size"),
		("--chunk-size", "1048577", "chunk size"),
		("--max-links", "1", "links per node"),
	] {
		let (ok, out, err) = dsync(&["store", "cid", f.to_str().unwrap(), flag, value]);
		assert!(!ok && out.is_empty(), "{flag} {value}");
		assert!(err.contains(reason), "{err}");
	}
	let (ok, _, err) = dsync(&["store", "cid", f.to_str().unwrap(), "--chunk-size", "lots"]);
	assert!(!ok && err.contains("invalid value"), "{err}");
	fs::remove_dir_all(dir).unwrap();
}

#[test]
fn store_put_refuses_what_it_cannot_do_before_spending_anything() {
	let dir = scratch("put");
	fs::write(dir.join("f"), b"x").unwrap();
	let f = dir.join("f");
	// No node there: the RPC error names the endpoint; nothing was packed or signed.
	let (ok, out, err) = dsync(&[
		"store",
		"put",
		f.to_str().unwrap(),
		"--rpc",
		"http://127.0.0.1:1",
		"--suri",
		"//Dave",
	]);
	assert!(!ok && out.is_empty());
	assert!(err.contains("the node's RPC") && err.contains("127.0.0.1:1"), "{err}");
	// An https endpoint (the client speaks plain HTTP only) and a malformed secret URI.
	let (ok, _, err) = dsync(&[
		"store",
		"put",
		f.to_str().unwrap(),
		"--rpc",
		"https://node.example",
		"--suri",
		"//Dave",
	]);
	assert!(!ok && err.contains("only http://"), "{err}");
	let (ok, _, err) = dsync(&["store", "status", "1", "--rpc", "ftp://x"]);
	assert!(!ok && err.contains("only http://"), "{err}");
	// No secret URI at all (neither --suri nor DSYNC_SURI): clap says so.
	let output = Command::new(env!("CARGO_BIN_EXE_dsync"))
		.args(["store", "put", f.to_str().unwrap()])
		.env_remove("DSYNC_SURI")
		.output()
		.unwrap();
	assert!(!output.status.success());
	assert!(String::from_utf8_lossy(&output.stderr).contains("--suri"));
	fs::remove_dir_all(dir).unwrap();
}
