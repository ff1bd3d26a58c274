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

#[test]
fn a_keystore_file_gives_the_secret_only_to_its_owner() {
	use std::os::unix::fs::PermissionsExt;
	let dir = scratch("keystore");
	fs::write(dir.join("f"), b"x").unwrap();
	let f = dir.join("f");
	let put = |keystore: &std::path::Path| {
		let output = Command::new(env!("CARGO_BIN_EXE_dsync"))
			.args(["store", "put", f.to_str().unwrap(), "--rpc", "http://127.0.0.1:1"])
			.arg("--keystore-file")
			.arg(keystore)
			.env_remove("DSYNC_SURI")
			.output()
			.unwrap();
		(output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
	};
	// A Substrate keystore file (a JSON string) and a text file, mode 600: the secret is read
	// and the command goes on to the node (here: none listening, so that is the error).
	let json = dir.join("substrate-key");
	fs::write(&json, b"\"//Dave\"").unwrap();
	let text = dir.join("secret.txt");
	fs::write(&text, b"//Dave\n").unwrap();
	for file in [&json, &text] {
		fs::set_permissions(file, fs::Permissions::from_mode(0o600)).unwrap();
		let (ok, err) = put(file);
		assert!(!ok && err.contains("the node's RPC") && err.contains("127.0.0.1:1"), "{err}");
	}
	// Readable by others, empty, not a JSON string, missing: refused before anything else.
	fs::set_permissions(&text, fs::Permissions::from_mode(0o644)).unwrap();
	let (ok, err) = put(&text);
	assert!(!ok && err.contains("chmod 600") && err.contains("644"), "{err}");
	let empty = dir.join("empty");
	fs::write(&empty, b"  \n").unwrap();
	fs::set_permissions(&empty, fs::Permissions::from_mode(0o600)).unwrap();
	let (ok, err) = put(&empty);
	assert!(!ok && err.contains("holds no secret"), "{err}");
	let bad = dir.join("bad-json");
	fs::write(&bad, b"\"unterminated").unwrap();
	fs::set_permissions(&bad, fs::Permissions::from_mode(0o600)).unwrap();
	let (ok, err) = put(&bad);
	assert!(!ok && err.contains("JSON string"), "{err}");
	let (ok, err) = put(&dir.join("missing"));
	assert!(!ok && err.contains("No such file"), "{err}");
	// Both a secret URI and a keystore file: refused as ambiguous.
	let output = Command::new(env!("CARGO_BIN_EXE_dsync"))
		.args(["store", "put", f.to_str().unwrap(), "--suri", "//Dave", "--keystore-file"])
		.arg(&json)
		.output()
		.unwrap();
	assert!(!output.status.success());
	assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
	fs::remove_dir_all(dir).unwrap();
}

// ---- dsync store get --------------------------------------------------------------------------

use dsync_primitives::storage::{
	unixfs::{directory, Link},
	Cid, FileBuilder, Profile,
};
use dsync_store::car::CarWriter;
use std::io::{Cursor, Read, Write};

/// A CAR of a small site (`index.html`, `sub/data.bin` over several leaves and levels); its
/// root, bytes and the two files.
fn site_car() -> (Cid, Vec<u8>, Vec<u8>, Vec<u8>) {
	let profile = Profile { chunk_size: 1024, max_links: 4 };
	let index = b"<html>stored</html>".to_vec();
	let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
	let mut writer = CarWriter::new(Cursor::new(Vec::new())).unwrap();
	let file = |bytes: &[u8], writer: &mut CarWriter<Cursor<Vec<u8>>>| -> Link {
		let mut builder = FileBuilder::new(profile).unwrap();
		builder.write(bytes, &mut |c, b| writer.block(c, b));
		builder.finish(&mut |c, b| writer.block(c, b))
	};
	let index_link = file(&index, &mut writer);
	let data_link = file(&data, &mut writer);
	let sub = directory(&mut [(b"data.bin".to_vec(), data_link)], &mut |c, b| writer.block(c, b))
		.unwrap();
	let root = directory(
		&mut [(b"index.html".to_vec(), index_link), (b"sub".to_vec(), sub)],
		&mut |c, b| writer.block(c, b),
	)
	.unwrap();
	let (out, _) = writer.finish(&root.cid).unwrap();
	(root.cid, out.into_inner(), index, data)
}

/// A gateway answering its next request with `status` and `body`; returns its URL and the
/// request target it was asked for.
fn gateway_once(status: u16, body: Vec<u8>) -> (String, std::thread::JoinHandle<String>) {
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	let handle = std::thread::spawn(move || {
		let (mut stream, _) = listener.accept().unwrap();
		let mut head = Vec::new();
		let mut byte = [0u8];
		while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
			head.push(byte[0]);
		}
		let head = String::from_utf8_lossy(&head).to_string();
		let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n", body.len());
		stream.write_all(reply.as_bytes()).unwrap();
		stream.write_all(&body).unwrap();
		head.split(' ').nth(1).unwrap_or_default().to_string()
	});
	(url, handle)
}

#[test]
fn store_get_writes_only_verified_content() {
	let dir = scratch("get");
	let (root, car, index, data) = site_car();
	let out = dir.join("site");
	let (url, asked) = gateway_once(200, car.clone());
	let (ok, stdout, err) =
		dsync(&["store", "get", &root.to_string(), "-o", out.to_str().unwrap(), "--gateway", &url]);
	assert!(ok, "{err}");
	assert!(stdout.is_empty() && err.contains("verified"), "{err}");
	assert_eq!(asked.join().unwrap(), format!("/ipfs/{root}?format=car"));
	assert_eq!(fs::read(out.join("index.html")).unwrap(), index);
	assert_eq!(fs::read(out.join("sub/data.bin")).unwrap(), data);

	// Nothing is overwritten.
	let (ok, _, err) = dsync(&["store", "get", &root.to_string(), "-o", out.to_str().unwrap()]);
	assert!(!ok && err.contains("already exists"), "{err}");

	// Attack: a gateway that alters one byte of a block. Refused, nothing written.
	let mut tampered = car.clone();
	let last = tampered.len() - 1;
	tampered[last] ^= 1;
	let bad = dir.join("tampered");
	let (url, _) = gateway_once(200, tampered);
	let (ok, _, err) =
		dsync(&["store", "get", &root.to_string(), "-o", bad.to_str().unwrap(), "--gateway", &url]);
	assert!(!ok && err.contains("refused"), "{err}");
	assert!(!bad.exists());
	// Attack: other content under the asked CID (a CAR with another root).
	let other = Cid::raw(b"other");
	let (url, _) = gateway_once(200, car.clone());
	let (ok, _, err) = dsync(&[
		"store",
		"get",
		&other.to_string(),
		"-o",
		bad.to_str().unwrap(),
		"--gateway",
		&url,
	]);
	assert!(!ok && err.contains("refused"), "{err}");
	assert!(!bad.exists());
	// A gateway that does not have it: its status and reason.
	let (url, _) = gateway_once(404, b"no open order keeps this CID".to_vec());
	let (ok, _, err) =
		dsync(&["store", "get", &root.to_string(), "-o", bad.to_str().unwrap(), "--gateway", &url]);
	assert!(!ok && err.contains("HTTP 404") && err.contains("no open order"), "{err}");
	// Not a CID; an https gateway.
	let (ok, _, err) = dsync(&["store", "get", "not-a-cid"]);
	assert!(!ok && err.contains("not a CID"), "{err}");
	let (ok, _, err) = dsync(&["store", "get", &root.to_string(), "--gateway", "https://x"]);
	assert!(!ok && err.contains("only http://"), "{err}");

	// A file to stdout; a directory cannot go there.
	let file = Cid::raw(b"a");
	let mut one = CarWriter::new(Cursor::new(Vec::new())).unwrap();
	one.block(&file, b"a");
	let (one, _) = one.finish(&file).unwrap();
	let (url, _) = gateway_once(200, one.into_inner());
	let (ok, stdout, err) =
		dsync(&["store", "get", &file.to_string(), "-o", "-", "--gateway", &url]);
	assert!(ok, "{err}");
	assert_eq!(stdout, "a");
	let (url, _) = gateway_once(200, car);
	let (ok, _, err) = dsync(&["store", "get", &root.to_string(), "-o", "-", "--gateway", &url]);
	assert!(!ok && err.contains("is a directory"), "{err}");
	fs::remove_dir_all(dir).unwrap();
}
