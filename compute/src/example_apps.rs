//! The example apps under `compute/apps`, built for wasm32-wasip1 on demand (by tests and by
//! anyone trying the chain out), or as static binaries for this machine, to put in an OCI image
//! or to compare with their modules.

use std::{
	path::{Path, PathBuf},
	process::Command,
};

/// The example apps, by directory name.
pub const APPS: [&str; 2] = ["monte-carlo", "csv-stats"];

/// Builds every example app into `target_dir` and returns the directory holding the modules
/// (`<name>.wasm`).
pub fn build(target_dir: &Path) -> Result<PathBuf, String> {
	let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps");
	let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
	for app in APPS {
		let status = Command::new(&cargo)
			.args(["build", "--release", "--locked", "--target", "wasm32-wasip1"])
			.arg("--manifest-path")
			.arg(apps.join(app).join("Cargo.toml"))
			.arg("--target-dir")
			.arg(target_dir)
			.status()
			.map_err(|error| format!("cannot run {cargo}: {error}"))?;
		if !status.success() {
			return Err(format!("building {app} for wasm32-wasip1 failed ({status})"));
		}
	}
	Ok(target_dir.join("wasm32-wasip1").join("release"))
}

/// Builds the example app `app` for this machine as a static Linux binary (glibc linked in, so
/// that it runs in an image holding nothing else) into `target_dir`, and returns its path.
pub fn build_native(app: &str, target_dir: &Path) -> Result<PathBuf, String> {
	let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
	let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps").join(app).join("Cargo.toml");
	let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
	let status = Command::new(&cargo)
		.args(["build", "--release", "--locked", "--target", &target])
		.arg("--manifest-path")
		.arg(manifest)
		.arg("--target-dir")
		.arg(target_dir)
		.env("RUSTFLAGS", "-C target-feature=+crt-static")
		.status()
		.map_err(|error| format!("cannot run {cargo}: {error}"))?;
	if !status.success() {
		return Err(format!("building {app} for {target} failed ({status})"));
	}
	Ok(target_dir.join(target).join("release").join(app))
}

/// Where the example apps are built by default: `wasi-apps` in the cargo target directory.
pub fn default_target_dir() -> PathBuf {
	cargo_target_dir().join("wasi-apps")
}

/// Where the example apps are built natively by default: `native-apps` in the cargo target
/// directory (apart from the modules: another `RUSTFLAGS` would rebuild them each time).
pub fn default_native_target_dir() -> PathBuf {
	cargo_target_dir().join("native-apps")
}

/// The cargo target directory: `CARGO_TARGET_DIR`, or the workspace's `target`.
fn cargo_target_dir() -> PathBuf {
	std::env::var_os("CARGO_TARGET_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}
