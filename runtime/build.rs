//! Builds the Wasm blob of the runtime (only with the `std` feature, i.e. when the runtime is
//! compiled natively for the node or the tests).
fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
	}
}
