//! [`TestNode`]: a `commons-node` process and its chain, and the chain specs and networks of them.

use std::{
	path::PathBuf,
	process::{Command, Stdio},
	time::Duration,
};

use commons_client::{ArrayParams, Chain};

use crate::{built_binary, free_port, wait_for, ManagedProcess, TestDir, LOG_FILE};

/// The `commons-node` binary of this build (or `$COMMONS_NODE`).
pub fn node_binary() -> PathBuf {
	built_binary("commons-node", "COMMONS_NODE")
}

/// A running (or killed) `commons-node` process, killed when dropped.
pub struct TestNode {
	/// Its name, as the logs and the node's `--name` show it.
	pub name: String,
	/// The port of its JSON-RPC server on 127.0.0.1.
	pub rpc_port: u16,
	/// The port it listens on for peers.
	pub p2p_port: u16,
	/// Its base path: database, keystore and network key.
	pub base_path: PathBuf,
	process: ManagedProcess,
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
		let base_path = dir.process_dir(name);
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
			// Every test node of this build shares one cache of compiled runtimes: the runtime is
			// compiled once, not at each of the suites' many starts.
			"--wasmtime-cache".into(),
			wasmtime_cache().display().to_string(),
		];
		all_args.extend(args.iter().map(|arg| arg.to_string()));
		let chain = Chain::new(name, &rpc_url(rpc_port)).expect("a loopback URL is valid");
		let process =
			ManagedProcess::start(name, node_binary(), all_args, base_path.join(LOG_FILE));
		Self { name: name.into(), rpc_port, p2p_port, base_path, process, chain }
	}

	/// The URL of its JSON-RPC endpoint (HTTP), as the compute nodes and the command line are
	/// given it.
	pub fn rpc_url(&self) -> String {
		rpc_url(self.rpc_port)
	}

	/// Kills the process with SIGKILL, as a crash or power loss would, and reaps it.
	pub fn kill(&mut self) {
		self.process.kill();
	}

	/// Starts the killed node again with the same base path, ports and arguments.
	pub fn restart(&mut self) {
		self.process.restart(&[]);
	}

	/// Waits until the node answers RPC calls.
	pub async fn wait_until_serving(&self) {
		wait_for(
			&format!("{} to answer system_health", self.name),
			// Several suites starting nodes at once on two cores share them.
			Duration::from_secs(180),
			|| async {
				Ok::<_, String>(
					self.rpc::<serde_json::Value>("system_health", ArrayParams::new()).await?,
				)
			},
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
		self.process.log()
	}

	/// Waits until the node has logged `text` (see [`crate::ManagedProcess::wait_for_log`]).
	pub async fn wait_for_log(&self, text: &str) {
		self.process.wait_for_log(text).await
	}

	/// Reads the node's Prometheus endpoint on `port` and returns the metrics text.
	pub fn prometheus_metrics(port: u16) -> Result<String, String> {
		crate::prometheus_metrics(port)
	}
}

/// The URL of a node's JSON-RPC endpoint on `port` of 127.0.0.1.
/// Where the test nodes keep compiled runtimes: beside the node binary, in the build's target
/// directory.
fn wasmtime_cache() -> PathBuf {
	let binary = node_binary();
	binary.parent().expect("a binary is in a directory").join("e2e-wasmtime-cache")
}

fn rpc_url(port: u16) -> String {
	format!("http://127.0.0.1:{port}")
}

/// The `local` chain spec with only `validators` as its validator set (with their session keys), written to
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
	// Each validator's account is its sr25519 key, which is also its Aura key.
	genesis[config]["validators"]["validators"] = validators
		.iter()
		.map(|(aura, _)| serde_json::json!(aura.public().to_ss58check()))
		.collect();
	genesis[config]["session"]["keys"] = validators
		.iter()
		.map(|(aura, grandpa)| {
			let account = aura.public().to_ss58check();
			let keys = serde_json::json!({
				"aura": aura.public().to_ss58check(),
				"grandpa": grandpa.public().to_ss58check(),
			});
			serde_json::json!([account, account, keys])
		})
		.collect();
	spec["id"] = serde_json::json!(id);
	let path = dir.path().join(format!("{id}.json"));
	std::fs::write(&path, serde_json::to_vec_pretty(&spec).expect("the spec is JSON"))
		.expect("the spec is written");
	path.display().to_string()
}

/// Lets the chain spec at `path` (written by [`local_spec_with_validators`]) give tasks on
/// encrypted datasets to simulated enclaves: for tests of the confidential flow on machines
/// without TEE hardware, like the `dev` preset.
pub fn allow_simulated_confidential(path: &str) {
	let mut spec: serde_json::Value =
		serde_json::from_slice(&std::fs::read(path).expect("the spec was written"))
			.expect("the spec is JSON");
	let genesis = &mut spec["genesis"]["runtimeGenesis"];
	let config = if genesis.get("patch").is_some() { "patch" } else { "config" };
	genesis[config]["attestation"]["allowSimulatedConfidential"] = serde_json::json!(true);
	std::fs::write(path, serde_json::to_vec_pretty(&spec).expect("the spec is JSON"))
		.expect("the spec is written");
}

/// Starts one validator per `(name, keyring flag)` on `chain`, all booting from the first, each
/// with `extra` arguments besides.
pub async fn start_validators(
	dir: &TestDir,
	chain: &str,
	validators: &[(&str, &str)],
	extra: &[&str],
) -> Vec<TestNode> {
	let mut nodes: Vec<TestNode> = Vec::new();
	for (name, keyring_flag) in validators {
		let mut args = vec!["--chain", chain, keyring_flag, "--unsafe-force-node-key-generation"];
		args.extend_from_slice(extra);
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
