//! A harness for end-to-end tests: it starts real `commons-node` processes on loopback, each with
//! its own free ports and base path, and speaks JSON-RPC to them.
//!
//! - Every wait is bounded and fails with what did not happen and what was last seen.
//! - Each test's nodes live in one temporary directory. When the test fails, the directory (with
//!   every node's log) is kept and its path printed, with the end of each log.
//! - Tests that start nodes take [`exclusive_network`] first: two networks sharing two cores would
//!   miss their slots and make each other flaky.

use std::{
	fs::File,
	future::Future,
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Mutex, MutexGuard},
	time::{Duration, Instant},
};

use commons_client::{ArrayParams, Chain};

/// Serializes the tests that run networks of nodes within one test binary.
pub fn exclusive_network() -> MutexGuard<'static, ()> {
	static NETWORK: Mutex<()> = Mutex::new(());
	// A test that failed while holding the lock has cleaned up its nodes; the next may run.
	NETWORK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `commons-node` binary of this build (or `$COMMONS_NODE`).
pub fn node_binary() -> PathBuf {
	built_binary("commons-node", "COMMONS_NODE")
}

/// The `commons-compute` binary of this build (or `$COMMONS_COMPUTE`).
pub fn compute_binary() -> PathBuf {
	built_binary("commons-compute", "COMMONS_COMPUTE")
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

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|listener| listener.local_addr())
		.map(|address| address.port())
		.expect("the OS hands out a free loopback port")
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

/// The directory a test's nodes keep their databases and logs in. Removed when the test
/// passes; kept, with its path and the end of every log printed, when it fails.
pub struct TestDir {
	dir: Option<tempfile::TempDir>,
}

impl TestDir {
	pub fn new(test_name: &str) -> Self {
		let dir = tempfile::Builder::new()
			.prefix(&format!("commons-e2e-{test_name}-"))
			.tempdir()
			.expect("a temporary directory can be created");
		Self { dir: Some(dir) }
	}

	pub fn path(&self) -> &Path {
		self.dir.as_ref().expect("the directory lives as long as the TestDir").path()
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
			let log = entry.path().join("node.log");
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

/// A running (or killed) `commons-node` process.
pub struct TestNode {
	pub name: String,
	pub rpc_port: u16,
	pub p2p_port: u16,
	pub base_path: PathBuf,
	args: Vec<String>,
	child: Option<Child>,
	chain: Chain,
}

/// A node's chain, read and written over its JSON-RPC: `node.free_balance(..)`, `node.rpc(..)`.
impl std::ops::Deref for TestNode {
	type Target = Chain;

	fn deref(&self) -> &Chain {
		&self.chain
	}
}

/// Puts the key with secret URI `suri` of `key_type` into the keystore of the node that
/// [`TestNode::start`] will run in `dir/name` on `chain`, with `commons-node key insert` as an
/// operator would.
pub fn insert_key(dir: &TestDir, name: &str, chain: &str, key_type: &str, suri: &str) {
	let base_path = dir.path().join(name);
	let status = Command::new(node_binary())
		.args(["key", "insert", "--chain", chain, "--scheme", "sr25519"])
		.args(["--key-type", key_type, "--suri", suri, "--base-path"])
		.arg(&base_path)
		.stdout(Stdio::null())
		.status()
		.expect("commons-node runs");
	assert!(status.success(), "key insert into {name} failed: {status}");
}

impl TestNode {
	/// Starts a node called `name` in `dir/name`, with `args` added to the harness's own
	/// (base path, ports, no telemetry or mDNS, logs to `dir/name/node.log`).
	pub fn start(dir: &TestDir, name: &str, args: &[&str]) -> Self {
		let base_path = dir.path().join(name);
		std::fs::create_dir_all(&base_path).expect("the node's directory can be created");
		let rpc_port = free_port();
		let p2p_port = free_port();
		let mut all_args: Vec<String> = vec![
			"--base-path".into(),
			base_path.display().to_string(),
			"--rpc-port".into(),
			rpc_port.to_string(),
			"--port".into(),
			p2p_port.to_string(),
			"--no-telemetry".into(),
			"--no-mdns".into(),
			"--name".into(),
			name.into(),
		];
		all_args.extend(args.iter().map(|arg| arg.to_string()));
		let chain = Chain::new(name, &format!("http://127.0.0.1:{rpc_port}"))
			.expect("a loopback URL is valid");
		let mut node = Self {
			name: name.into(),
			rpc_port,
			p2p_port,
			base_path,
			args: all_args,
			child: None,
			chain,
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let log = File::options()
			.create(true)
			.append(true)
			.open(self.base_path.join("node.log"))
			.expect("the node's log file can be opened");
		let child = Command::new(node_binary())
			.args(&self.args)
			.stdin(Stdio::null())
			.stdout(log.try_clone().expect("log handle can be duplicated"))
			.stderr(log)
			.spawn()
			.unwrap_or_else(|error| panic!("could not start {}: {error}", self.name));
		self.child = Some(child);
	}

	/// Kills the process with SIGKILL, as a crash or power loss would, and reaps it.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			child.kill().expect("the node process can be signalled");
			child.wait().expect("the killed node can be reaped");
		}
	}

	/// Starts the killed node again with the same base path, ports and arguments.
	pub fn restart(&mut self) {
		assert!(self.child.is_none(), "{} is still running", self.name);
		self.spawn();
	}

	/// Waits until the node answers RPC calls.
	pub async fn wait_until_serving(&self) {
		wait_for(
			&format!("{} to answer system_health", self.name),
			Duration::from_secs(60),
			|| self.rpc::<serde_json::Value>("system_health", ArrayParams::new()),
		)
		.await;
	}

	/// The address other nodes dial to reach this one.
	pub async fn multiaddr(&self) -> String {
		let peer_id: String = self
			.rpc("system_localPeerId", ArrayParams::new())
			.await
			.unwrap_or_else(|error| panic!("{error}"));
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", self.p2p_port)
	}

	/// Everything the node has logged so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(self.base_path.join("node.log")).unwrap_or_default()
	}

	/// Reads the node's Prometheus endpoint on `port` and returns the metrics text.
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
}

impl Drop for TestNode {
	fn drop(&mut self) {
		self.kill();
	}
}

/// A `commons-compute` process, killed when dropped. It logs to `node.log` in its own directory
/// of the test's, so that a failing test shows its log with the nodes'.
pub struct ComputeNode {
	pub name: String,
	pub work_dir: PathBuf,
	/// Where its endpoint (pushed tasks, results) listens on 127.0.0.1.
	pub endpoint_port: u16,
	/// Where it serves Prometheus metrics on 127.0.0.1.
	pub prometheus_port: u16,
	args: Vec<String>,
	child: Option<Child>,
}

impl ComputeNode {
	/// Starts a compute node called `name` with the secret key `key`, following `node` and
	/// joining `workerpool` (its endpoint on a free port), with `args` added.
	pub fn start(
		dir: &TestDir,
		name: &str,
		node: &TestNode,
		key: &str,
		workerpool: u32,
		args: &[&str],
	) -> Self {
		let work_dir = dir.path().join(name);
		std::fs::create_dir_all(&work_dir).expect("the compute node's directory can be created");
		let endpoint_port = free_port();
		let prometheus_port = free_port();
		let mut all_args: Vec<String> = vec![
			"--rpc".into(),
			format!("http://127.0.0.1:{}", node.rpc_port),
			"--key".into(),
			key.into(),
			"--work-dir".into(),
			work_dir.display().to_string(),
			"--workerpool".into(),
			workerpool.to_string(),
			"--listen".into(),
			format!("127.0.0.1:{endpoint_port}"),
			"--prometheus-port".into(),
			prometheus_port.to_string(),
		];
		all_args.extend(args.iter().map(|arg| arg.to_string()));
		let mut compute = Self {
			name: name.into(),
			work_dir,
			endpoint_port,
			prometheus_port,
			args: all_args,
			child: None,
		};
		compute.spawn(&[]);
		compute
	}

	fn spawn(&mut self, extra: &[&str]) {
		let log = File::options()
			.create(true)
			.append(true)
			.open(self.work_dir.join("node.log"))
			.expect("the log file can be opened");
		let child = Command::new(compute_binary())
			.args(&self.args)
			.args(extra)
			.stdin(Stdio::null())
			.stdout(log.try_clone().expect("log handle can be duplicated"))
			.stderr(log)
			.spawn()
			.unwrap_or_else(|error| panic!("could not start {}: {error}", self.name));
		self.child = Some(child);
	}

	/// Kills the process with SIGKILL, as a crash would, and reaps it.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			child.kill().expect("the compute node can be signalled");
			child.wait().expect("the killed compute node can be reaped");
		}
	}

	/// Starts the killed compute node again on the same work directory and ports, with `extra`
	/// arguments added to its first ones.
	pub fn restart(&mut self, extra: &[&str]) {
		assert!(self.child.is_none(), "{} is still running", self.name);
		self.spawn(extra);
	}

	/// Waits up to `timeout` for the process to exit by itself; whether it did.
	pub async fn exited_within(&mut self, timeout: Duration) -> bool {
		let started = Instant::now();
		while started.elapsed() < timeout {
			let child = self.child.as_mut().expect("the compute node was started");
			if child.try_wait().expect("the compute node can be waited for").is_some() {
				self.child = None;
				return true;
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
		false
	}

	/// Its Prometheus metrics text.
	pub fn metrics(&self) -> Result<String, String> {
		TestNode::prometheus_metrics(self.prometheus_port)
	}

	/// Everything it has logged so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(self.work_dir.join("node.log")).unwrap_or_default()
	}
}

impl Drop for ComputeNode {
	fn drop(&mut self) {
		self.kill();
	}
}

/// A dataset owner's key service (`commons key-service`), stopped when dropped.
pub struct KeyService {
	log: PathBuf,
	args: Vec<String>,
	child: Option<Child>,
}

impl KeyService {
	/// Starts the key service of the dataset owner with secret key `key`, following `node`, with
	/// its datasets' keys in `keys_dir`; it logs to `dir/key-service/node.log`.
	pub fn start(dir: &TestDir, node: &TestNode, key: &str, keys_dir: &Path) -> Self {
		let work_dir = dir.path().join("key-service");
		std::fs::create_dir_all(&work_dir).expect("the key service's directory can be created");
		// `--rpc` and `--key` are the `commons` command line's global options, as for [`cli`].
		let args = vec![
			"--rpc".into(),
			format!("http://127.0.0.1:{}", node.rpc_port),
			"--key".into(),
			key.into(),
			"key-service".into(),
			"--keys-dir".into(),
			keys_dir.display().to_string(),
		];
		let mut service = Self { log: work_dir.join("node.log"), args, child: None };
		service.restart();
		service
	}

	/// Kills the process with SIGKILL and reaps it.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts the killed key service again with the same arguments.
	pub fn restart(&mut self) {
		assert!(self.child.is_none(), "the key service is still running");
		let file = File::options()
			.create(true)
			.append(true)
			.open(&self.log)
			.expect("the log file can be opened");
		let child = Command::new(cli_binary())
			.args(&self.args)
			.stdin(Stdio::null())
			.stdout(file.try_clone().expect("log handle can be duplicated"))
			.stderr(file)
			.spawn()
			.expect("the key service starts");
		self.child = Some(child);
	}

	/// Everything it has logged so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}
}

impl Drop for KeyService {
	fn drop(&mut self) {
		self.kill();
	}
}

/// The `commons` command line of this build (or `$COMMONS_CLI`).
pub fn cli_binary() -> PathBuf {
	built_binary("commons", "COMMONS_CLI")
}

/// Runs `commons --rpc <node> --key <key> <args>`: its standard output when it succeeds, its
/// standard error when it fails. Its standard error is also printed, as the test's.
pub async fn cli<S: AsRef<std::ffi::OsStr>>(
	node: &TestNode,
	key: &str,
	args: &[S],
) -> Result<String, String> {
	let output = tokio::process::Command::new(cli_binary())
		.arg("--rpc")
		.arg(format!("http://127.0.0.1:{}", node.rpc_port))
		.args(["--key", key])
		.args(args)
		.stdin(Stdio::null())
		.output()
		.await
		.expect("commons runs");
	let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
	let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
	// What it reported on the way (deal, task progress, timings) shows with the test's output.
	for line in stderr.lines() {
		eprintln!("commons: {line}");
	}
	if output.status.success() {
		Ok(stdout)
	} else {
		Err(stderr)
	}
}

/// The `local` chain spec with only `validators` as its Aura and GRANDPA authorities, written to
/// `dir/<id>.json` with chain id `id`; returns its path.
pub fn local_spec_with_validators(
	dir: &TestDir,
	id: &str,
	validators: &[(sp_keyring::Sr25519Keyring, sp_keyring::Ed25519Keyring)],
) -> String {
	use sp_core::crypto::Ss58Codec;
	let output = Command::new(node_binary())
		.args(["export-chain-spec", "--chain", "local"])
		.output()
		.expect("commons-node runs");
	assert!(output.status.success(), "export-chain-spec failed: {output:?}");
	let mut spec: serde_json::Value =
		serde_json::from_slice(&output.stdout).expect("the spec is JSON");
	let genesis = &mut spec["genesis"]["runtimeGenesis"];
	let config = if genesis.get("patch").is_some() { "patch" } else { "config" };
	genesis[config]["aura"]["authorities"] = validators
		.iter()
		.map(|(aura, _)| serde_json::json!(aura.public().to_ss58check()))
		.collect();
	genesis[config]["grandpa"]["authorities"] = validators
		.iter()
		.map(|(_, grandpa)| serde_json::json!([grandpa.public().to_ss58check(), 1]))
		.collect();
	spec["id"] = serde_json::json!(id);
	let path = dir.path().join(format!("{id}.json"));
	std::fs::write(&path, serde_json::to_vec_pretty(&spec).expect("the spec is JSON"))
		.expect("the spec is written");
	path.display().to_string()
}

/// Starts one validator per `(name, keyring flag)` on `chain`, all booting from the first.
pub async fn start_validators(
	dir: &TestDir,
	chain: &str,
	validators: &[(&str, &str)],
) -> Vec<TestNode> {
	let mut nodes: Vec<TestNode> = Vec::new();
	for (name, keyring_flag) in validators {
		let mut args = vec!["--chain", chain, keyring_flag, "--unsafe-force-node-key-generation"];
		let bootnode;
		if let Some(first) = nodes.first() {
			bootnode = first.multiaddr().await;
			args.extend(["--bootnodes", bootnode.as_str()]);
		}
		let node = TestNode::start(dir, name, &args);
		node.wait_until_serving().await;
		nodes.push(node);
	}
	nodes
}
