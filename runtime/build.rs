//! Builds the Wasm blob of the runtime (only with the `std` feature, i.e. when the runtime is
//! compiled natively for the node or the tests).
fn main() {
	#[cfg(feature = "std")]
	{
		// The Cargo target directory lives outside the work tree (scripts/env.sh), where the
		// Wasm builder cannot find the workspace by walking up from its output directory. Point
		// it at this workspace so the Wasm build uses the same Cargo.lock. Set here, not in
		// .cargo/config.toml, so the hint applies to this runtime only and not to Wasm builds of
		// dependencies (e.g. the benchmark CLI's test runtime).
		if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
			let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo; qed");
			let workspace = std::path::Path::new(&manifest_dir).join("..");
			std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
		}
		// With the metadata hash: the token symbol and decimals are part of what the hash
		// commits to (RFC-78), so signers show amounts as the chain means them.
		#[cfg(feature = "metadata-hash")]
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.enable_metadata_hash("DSYNC", 18)
			.build();
		#[cfg(not(feature = "metadata-hash"))]
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
	}
}
