//! A harness for end-to-end tests: it starts real `commons-node`, `commons-compute` and `commons`
//! processes on loopback, each with its own free ports and directory, and speaks JSON-RPC to the
//! nodes.
//!
//! - Every wait is bounded and fails with what did not happen and what was last seen.
//! - Each test's processes live in one temporary directory, each in its own subdirectory with its
//!   log. When the test fails, the directory is kept and its path printed, with the end of each
//!   log.
//! - Tests that start nodes take [`exclusive_network`] first, so one test binary runs one network
//!   at a time; `scripts/e2e.sh` runs a few binaries side by side, each with its own ports.
//!
//! Its modules:
//! - [`process`]: [`ManagedProcess`], a binary run with its arguments and log file, killed and
//!   restarted as a crash would, killed when dropped; the three kinds of process below are one
//!   each.
//! - [`node`]: [`TestNode`], a `commons-node` validator (its chain readable through it), and the
//!   chain specs and networks of them.
//! - [`compute`]: [`ComputeNode`], a `commons-compute` process, its metrics and cursor, and
//!   [`compute::digest_here`], a task's digest computed in the test as every worker computes it.
//! - [`key_service`]: [`KeyService`], a dataset owner's `commons key-service`.
//! - [`containers`]: apps that are OCI images: an image put together in the test, a registry on
//!   loopback that serves it by digest, and a Podman API service that pulls from it.
//! - [`mod@cli`]: the `commons` command line, run as a dev key, and [`cli::RunRequest`], the
//!   arguments of `commons run` by name.
//! - [`chain`]: what the tests read from a chain: events, balances, scores, deals and tasks.
//! - [`metadata`]: [`metadata::MetadataOnly`], a reader of storage and runtime API answers that
//!   knows only the chain's metadata, as the ecosystem's clients do.

use std::{
	future::Future,
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU32, Ordering},
		Mutex, MutexGuard,
	},
	time::{Duration, Instant},
};

pub mod chain;
pub mod cli;
pub mod compute;
pub mod containers;
pub mod key_service;
pub mod metadata;
pub mod node;
pub mod process;

pub use cli::{cli, cli_binary, commons, commons_json, suri, RunRequest};
pub use compute::{compute_binary, ComputeNode, TaskCounter};
pub use key_service::KeyService;
pub use node::{
	allow_simulated_confidential, insert_key, local_spec_with_validators, node_binary,
	start_validators, TestNode,
};
pub use process::{ManagedProcess, LOG_FILE};

/// Serializes the tests that run networks of nodes within one test binary.
pub fn exclusive_network() -> MutexGuard<'static, ()> {
	static NETWORK: Mutex<()> = Mutex::new(());
	// A test that failed while holding the lock has cleaned up its nodes; the next may run.
	NETWORK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The binary `name` beside the test executable's `deps/`, unless `variable` names another.
fn built_binary(name: &str, variable: &str) -> PathBuf {
	if let Ok(path) = std::env::var(variable) {
		return PathBuf::from(path);
	}
	let test_executable = std::env::current_exe().expect("the test knows its own path");
	let profile_dir = test_executable
		.parent()
		.and_then(Path::parent)
		.expect("test executables live in <target>/<profile>/deps");
	let binary = profile_dir.join(name);
	assert!(
		binary.exists(),
		"no {name} binary at {}: build it in the same profile first \
		 (`cargo build --release --workspace`), or point {variable} at one",
		binary.display()
	);
	binary
}

/// A TCP port that nothing listens on right now and that no other call of this process returns.
///
/// Ports come from below the kernel's ephemeral range (32768 and up on Linux): a port the OS
/// hands out for `bind(0)` and then released can be taken by any outgoing connection (a node
/// dialling its peers, an RPC client) before the process it was meant for binds it, and the
/// node then silently serves RPC on a random port instead. Each test process starts at its own
/// offset so that two test binaries running at once do not hand out the same ports: the block of
/// 1,000 that `COMMONS_E2E_PORT_BLOCK` names (scripts/e2e.sh gives each suite its own), or else
/// one picked by process id.
pub fn free_port() -> u16 {
	const FIRST: u32 = 20_000;
	const RANGE: u32 = 12_000;
	static NEXT: AtomicU32 = AtomicU32::new(0);
	let start = match std::env::var("COMMONS_E2E_PORT_BLOCK").map(|block| block.parse::<u32>()) {
		Ok(Ok(block)) => block % (RANGE / 1_000) * 1_000,
		_ => std::process::id() % (RANGE / 100) * 100,
	};
	for _ in 0..RANGE {
		let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed) % RANGE) % RANGE;
		let port = u16::try_from(FIRST + offset).expect("below 32000");
		if TcpListener::bind(("0.0.0.0", port)).is_ok() {
			return port;
		}
	}
	panic!("no free port between {FIRST} and {}", FIRST + RANGE)
}

/// Polls `probe` every half second until it returns `Ok`, for at most `timeout`.
///
/// `probe` returns `Err(what it saw)` while the condition does not hold; on timeout the test fails
/// with `what` (the condition awaited) and that last observation.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
	F: FnMut() -> Fut,
	Fut: Future<Output = Result<T, String>>,
{
	let started = Instant::now();
	loop {
		match probe().await {
			Ok(value) => return value,
			Err(last_seen) if started.elapsed() >= timeout => {
				panic!("timed out after {timeout:?} waiting for {what}; last seen: {last_seen}")
			}
			Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
		}
	}
}

/// Reads the Prometheus endpoint on `port` of 127.0.0.1 and returns the metrics text.
pub fn prometheus_metrics(port: u16) -> Result<String, String> {
	let mut stream = TcpStream::connect(("127.0.0.1", port))
		.map_err(|error| format!("connecting to Prometheus on {port}: {error}"))?;
	stream
		.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
		.map_err(|error| format!("sending the metrics request: {error}"))?;
	let mut response = String::new();
	stream
		.read_to_string(&mut response)
		.map_err(|error| format!("reading the metrics response: {error}"))?;
	Ok(response)
}

/// The value of the counter or gauge `name` in the Prometheus text `text`, if it is there.
pub fn metric_value(text: &str, name: &str) -> Option<u64> {
	text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
}

/// The value of the counter or gauge `name` in the Prometheus text `text`; fails the test,
/// showing the text, if it is not there.
pub fn metric(text: &str, name: &str) -> u64 {
	metric_value(text, name).unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// The directory a test's processes keep their state and logs in, one subdirectory each (see
/// [`TestDir::process_dir`]). Removed when the test passes; kept, with its path and the end of
/// every log printed, when it fails.
pub struct TestDir {
	dir: Option<tempfile::TempDir>,
}

impl TestDir {
	/// A new directory for the test called `test_name`.
	pub fn new(test_name: &str) -> Self {
		let dir = tempfile::Builder::new()
			.prefix(&format!("commons-e2e-{test_name}-"))
			.tempdir()
			.expect("a temporary directory can be created");
		Self { dir: Some(dir) }
	}

	/// Where it is.
	pub fn path(&self) -> &Path {
		self.dir.as_ref().expect("the directory lives as long as the TestDir").path()
	}

	/// The directory of the process called `name`, created if need be. Its [`LOG_FILE`] is the
	/// log printed when the test fails.
	pub fn process_dir(&self, name: &str) -> PathBuf {
		let dir = self.path().join(name);
		std::fs::create_dir_all(&dir)
			.unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
		dir
	}
}

impl Drop for TestDir {
	fn drop(&mut self) {
		if !std::thread::panicking() {
			return;
		}
		let Some(dir) = self.dir.take() else { return };
		let kept = dir.keep();
		eprintln!("test failed: node logs kept in {}", kept.display());
		let Ok(entries) = std::fs::read_dir(&kept) else { return };
		for entry in entries.flatten() {
			let log = entry.path().join(LOG_FILE);
			if let Ok(text) = std::fs::read_to_string(&log) {
				let tail: Vec<&str> = text.lines().rev().take(40).collect();
				eprintln!("--- last lines of {} ---", log.display());
				for line in tail.into_iter().rev() {
					eprintln!("{line}");
				}
			}
		}
	}
}
