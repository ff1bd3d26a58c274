//! `dsync store get`: content fetched from a gateway and verified before anything is written.
//!
//! The gateway's CAR of the CID (`GET {gateway}/ipfs/{cid}?format=car`, at most
//! [`MAX_CAR_BYTES`]) is streamed to a work file, then read back with
//! [`dsync_store::car::read_car`]: the root must be the CID asked for and every block must hash
//! to its own CID, so a gateway can withhold content but never alter it. Only then is the DAG
//! exported ([`dsync_store::dag`]): a file to the output path (or stdout), a directory as a
//! directory tree. Entry names that could escape the output directory (`..`, `/`, NUL, empty)
//! are refused, as are HAMT-sharded directories and symbolic links.

use dsync_primitives::storage::Cid;
use dsync_store::{
	car::{read_car, BlockAt},
	dag::{Blocks, Dag, DagError, Entry, MAX_DEPTH},
	http::{self, Url},
};
use std::{
	collections::HashMap,
	fs::{self, File},
	io::{self, BufWriter, Write},
	os::unix::fs::FileExt,
	path::{Path, PathBuf},
};

/// The largest CAR fetched: the largest order's content (64 GiB) and its CAR framing.
pub const MAX_CAR_BYTES: u64 = 65 << 30;

/// What `dsync store get` was asked.
pub struct GetOptions {
	/// The content's CID (CIDv1, or kubo's CIDv0).
	pub cid: String,
	/// Where to write it: a file's or a new directory's path, `-` for stdout (files only).
	/// Default `./{cid}`.
	pub output: Option<PathBuf>,
	/// The gateway (any DSYNC node serving `/ipfs/`).
	pub gateway: String,
	/// Where the CAR is kept while it is checked (default: the temporary directory).
	pub work_dir: Option<PathBuf>,
}

/// Blocks of a checked CAR file.
struct CarBlocks {
	file: File,
	blocks: HashMap<Cid, BlockAt>,
}

impl Blocks for CarBlocks {
	fn block(&self, cid: &Cid) -> io::Result<Option<Vec<u8>>> {
		let Some(at) = self.blocks.get(cid) else { return Ok(None) };
		let mut bytes = vec![0u8; at.len as usize];
		self.file.read_exact_at(&mut bytes, at.offset)?;
		Ok(Some(bytes))
	}
}

/// A work file removed when dropped.
struct WorkFile(PathBuf);

impl Drop for WorkFile {
	fn drop(&mut self) {
		let _ = fs::remove_file(&self.0);
	}
}

/// Fetches, verifies and writes the content of `options.cid`.
pub fn get(options: GetOptions) -> Result<(), String> {
	let cid = Cid::parse(options.cid.trim())
		.map_err(|e| format!("{}: not a CID the network names content with ({e})", options.cid))?;
	let gateway = Url::parse(&options.gateway)?;
	let output = options.output.unwrap_or_else(|| PathBuf::from(cid.to_string()));
	if output.as_os_str() != "-" && output.exists() {
		return Err(format!("{}: already exists (nothing is overwritten)", output.display()));
	}
	let work_dir = options.work_dir.clone().unwrap_or_else(std::env::temp_dir);
	let car_path = work_dir.join(format!("dsync-get-{}-{cid}.car", std::process::id()));
	let _work = WorkFile(car_path.clone());
	let mut car = BufWriter::new(
		File::create(&car_path).map_err(|e| format!("{}: {e}", car_path.display()))?,
	);
	let fetched = http::download_bounded(
		&gateway,
		&format!("/ipfs/{cid}?format=car"),
		MAX_CAR_BYTES,
		&mut |bytes| car.write_all(bytes),
	)
	.map_err(|e| format!("cannot fetch {cid}: {e}"))?;
	car.flush().map_err(|e| format!("{}: {e}", car_path.display()))?;
	drop(car);

	let file = File::open(&car_path).map_err(|e| format!("{}: {e}", car_path.display()))?;
	let index = read_car(io::BufReader::new(&file), Some(&cid))
		.map_err(|e| format!("the gateway's answer for {cid} is refused: {e}"))?;
	let count = index.blocks.len();
	let blocks = CarBlocks { file, blocks: index.blocks };
	let dag = Dag::new(&blocks);
	let written = if output.as_os_str() == "-" {
		match dag.entry(&cid).map_err(|e| e.to_string())? {
			Entry::File { size } => {
				let stdout = io::stdout();
				let mut out = BufWriter::new(stdout.lock());
				dag.read_file(&cid, 0, size, &mut out).map_err(|e| e.to_string())?;
				out.flush().map_err(|e| e.to_string())?;
				size
			},
			Entry::Directory { .. } => {
				return Err(format!("{cid} is a directory: give -o a directory path"))
			},
		}
	} else {
		export(&dag, &cid, &output, 0).map_err(|e| format!("{}: {e}", output.display()))?
	};
	let shown =
		if output.as_os_str() == "-" { "stdout".into() } else { output.display().to_string() };
	eprintln!("{cid}: {count} blocks ({fetched} bytes of CAR) verified; {written} bytes written to {shown}");
	Ok(())
}

/// Writes `cid` to `path` (a file, or a directory and what it holds); returns the bytes of the
/// files written.
fn export(dag: &Dag<'_, CarBlocks>, cid: &Cid, path: &Path, depth: usize) -> Result<u64, String> {
	if depth > MAX_DEPTH {
		return Err(DagError::TooDeep.to_string());
	}
	match dag.entry(cid).map_err(|e| e.to_string())? {
		Entry::File { size } => {
			let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
			let mut out = BufWriter::new(file);
			dag.read_file(cid, 0, size, &mut out).map_err(|e| e.to_string())?;
			out.flush().map_err(|e| format!("{}: {e}", path.display()))?;
			Ok(size)
		},
		Entry::Directory { entries } => {
			fs::create_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
			let mut total = 0u64;
			for entry in entries {
				let name = safe_name(&entry.name).ok_or_else(|| {
					format!(
						"{}: an entry named {:?} cannot be written safely",
						path.display(),
						String::from_utf8_lossy(&entry.name)
					)
				})?;
				total = total.saturating_add(export(dag, &entry.cid, &path.join(name), depth + 1)?);
			}
			Ok(total)
		},
	}
}

/// `name` as one path component, when it is one: UTF-8, not empty, not `.` or `..`, without
/// `/` or NUL.
pub fn safe_name(name: &[u8]) -> Option<&str> {
	let name = std::str::from_utf8(name).ok()?;
	let single = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
	single.then_some(name)
}

#[cfg(test)]
mod tests {
	use super::safe_name;

	#[test]
	fn only_single_path_components_are_written() {
		assert_eq!(safe_name(b"index.html"), Some("index.html"));
		assert_eq!(safe_name("é.txt".as_bytes()), Some("é.txt"));
		for bad in [&b""[..], b".", b"..", b"a/b", b"/etc", b"a\0", &[0xff, 0xfe]] {
			assert_eq!(safe_name(bad), None, "{bad:?}");
		}
	}
}
