//! The libFuzzer entry point: one input of [`dsync_fuzz::Action`]s per run (see the crate docs).
//! Built and run by `fuzz/run.sh` (or `cargo fuzz run runtime`).
//!
//! `DSYNC_FUZZ_WRITE_SEEDS=<dir>` writes the seed corpus ([`dsync_fuzz::seeds`]) as
//! `<dir>/seed-<name>` and exits instead of fuzzing.
#![no_main]

libfuzzer_sys::fuzz_target!(
	init: {
		if let Ok(dir) = std::env::var("DSYNC_FUZZ_WRITE_SEEDS") {
			for (name, bytes) in dsync_fuzz::seeds() {
				let path = std::path::Path::new(&dir).join(format!("seed-{name}"));
				std::fs::write(&path, bytes).expect("the seed directory is writable");
				println!("wrote {}", path.display());
			}
			std::process::exit(0);
		}
	},
	|data: &[u8]| {
		dsync_fuzz::run(data);
	}
);
