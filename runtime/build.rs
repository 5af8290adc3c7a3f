//! Builds the runtime's wasm blob with substrate-wasm-builder.

#[cfg(feature = "std")]
fn main() {
	// The target directory lives outside the clone, where the wasm builder cannot find our
	// Cargo.lock by walking up; without it the wasm would be built from freshly resolved
	// dependencies instead of the locked ones. The manifest directory is read when the script
	// runs, not baked in when it is compiled: cargo reuses a compiled build script for clones at
	// other paths that share the target directory.
	let manifest_dir =
		std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it for build scripts");
	let workspace_root = std::path::Path::new(&manifest_dir)
		.parent()
		.expect("the runtime lives inside the workspace");
	std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace_root);

	let builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
	#[cfg(feature = "metadata-hash")]
	let builder = builder.enable_metadata_hash("CMN", 12);
	builder.build();
}

#[cfg(not(feature = "std"))]
fn main() {}
