//! Builds the runtime's wasm blob with substrate-wasm-builder.
//!
//! The blob goes into the chain specs we commit, so it must not depend on where the repository or
//! the cargo registry happen to live: paths that end up in panic messages are remapped to fixed
//! prefixes, which keeps the blob (and so every genesis hash) the same across clones.

#[cfg(feature = "std")]
fn main() {
	// The target directory lives outside the clone, where the wasm builder cannot find our
	// Cargo.lock by walking up; without it the wasm would be built from freshly resolved
	// dependencies instead of the locked ones.
	std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace_root());
	let mut builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
	for flag in path_remapping_flags() {
		builder = builder.append_to_rust_flags(flag);
	}
	#[cfg(feature = "metadata-hash")]
	let builder = builder.enable_metadata_hash("CMN", 12);
	builder.build();
}

#[cfg(feature = "std")]
fn workspace_root() -> std::path::PathBuf {
	let manifest_dir = std::path::PathBuf::from(
		std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
	);
	manifest_dir
		.parent()
		.expect("the runtime lives inside the workspace")
		.to_path_buf()
}

#[cfg(feature = "std")]
fn path_remapping_flags() -> Vec<String> {
	let mut flags = vec![format!("--remap-path-prefix={}=/commons", workspace_root().display())];
	let cargo_home = std::env::var("CARGO_HOME").map(std::path::PathBuf::from).or_else(|_| {
		std::env::var("HOME").map(|home| std::path::PathBuf::from(home).join(".cargo"))
	});
	if let Ok(cargo_home) = cargo_home {
		flags.push(format!("--remap-path-prefix={}=/cargo", cargo_home.display()));
	}
	flags
}

#[cfg(not(feature = "std"))]
fn main() {}
