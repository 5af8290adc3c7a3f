//! Builds the runtime's wasm blob with substrate-wasm-builder, and beside it the upgrade
//! rehearsal's (`src/upgrade_rehearsal.rs`).

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

	builder().build();
	// The same sources with the rehearsal's feature: only the runtime crate itself is compiled
	// a second time. Benchmark and release builds have no use for it. It is never exported to
	// `WASM_TARGET_DIRECTORY`, where it would take the runtime's file name.
	#[cfg(not(any(feature = "runtime-benchmarks", feature = "on-chain-release-build")))]
	{
		std::env::remove_var("WASM_TARGET_DIRECTORY");
		builder()
			.enable_feature("upgrade-rehearsal")
			.set_file_name("upgrade_rehearsal_wasm.rs")
			.build();
	}
}

/// The wasm builder, as every blob of this crate is built.
#[cfg(feature = "std")]
fn builder() -> substrate_wasm_builder::WasmBuilder {
	let builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
	#[cfg(feature = "metadata-hash")]
	let builder = builder.enable_metadata_hash("CMN", 12);
	builder
}

#[cfg(not(feature = "std"))]
fn main() {}
