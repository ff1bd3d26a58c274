//! Files and directories as UnixFS DAGs: a path on disk to its root link, every block handed to
//! a sink (to store or upload it).

pub use dsync_primitives::storage::Profile;
use dsync_primitives::storage::{
	unixfs::{directory, BlockSink},
	FileBuilder, Link, UnixFsError,
};
use std::{
	fmt, fs,
	io::{self, Read},
	os::unix::ffi::OsStrExt,
	path::{Path, PathBuf},
};

/// The network's profile.
pub const STANDARD: Profile = Profile::STANDARD;

/// Why content could not be imported, with the path it concerns.
#[derive(Debug)]
pub enum ImportError {
	/// Reading the path failed.
	Io(PathBuf, io::Error),
	/// A symbolic link, device, socket or pipe: only files and directories are content.
	Unsupported(PathBuf),
	/// The DAG could not be built (bad profile, a name IPFS cannot hold, a directory too large).
	UnixFs(PathBuf, UnixFsError),
}

impl fmt::Display for ImportError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ImportError::Io(path, error) => write!(f, "{}: {error}", path.display()),
			ImportError::Unsupported(path) => write!(
				f,
				"{}: not a regular file or directory (symbolic links, devices, sockets and pipes are not stored)",
				path.display()
			),
			ImportError::UnixFs(path, error) => write!(f, "{}: {error}", path.display()),
		}
	}
}

/// The root link of the file or directory at `path`; every block goes to `sink`.
pub fn import(path: &Path, profile: Profile, sink: BlockSink) -> Result<Link, ImportError> {
	profile.check().map_err(|e| ImportError::UnixFs(path.to_path_buf(), e))?;
	let meta = fs::symlink_metadata(path).map_err(|e| ImportError::Io(path.to_path_buf(), e))?;
	if meta.is_file() {
		import_file(path, profile, sink)
	} else if meta.is_dir() {
		import_directory(path, profile, sink)
	} else {
		Err(ImportError::Unsupported(path.to_path_buf()))
	}
}

fn import_file(path: &Path, profile: Profile, sink: BlockSink) -> Result<Link, ImportError> {
	let io_error = |e| ImportError::Io(path.to_path_buf(), e);
	let mut file = fs::File::open(path).map_err(io_error)?;
	let mut builder =
		FileBuilder::new(profile).map_err(|e| ImportError::UnixFs(path.to_path_buf(), e))?;
	let mut buffer = vec![0u8; 1 << 20];
	loop {
		let read = match file.read(&mut buffer) {
			Ok(0) => break,
			Ok(read) => read,
			Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(io_error(e)),
		};
		builder.write(&buffer[..read], sink);
	}
	Ok(builder.finish(sink))
}

fn import_directory(path: &Path, profile: Profile, sink: BlockSink) -> Result<Link, ImportError> {
	let io_error = |e| ImportError::Io(path.to_path_buf(), e);
	let mut entries = Vec::new();
	for entry in fs::read_dir(path).map_err(io_error)? {
		let entry = entry.map_err(io_error)?;
		let child = import(&entry.path(), profile, sink)?;
		entries.push((entry.file_name().as_bytes().to_vec(), child));
	}
	directory(&mut entries, sink).map_err(|e| ImportError::UnixFs(path.to_path_buf(), e))
}
