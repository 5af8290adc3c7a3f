//! [`KeyService`]: a dataset owner's `commons key-service` process.

use std::{
	path::{Path, PathBuf},
	time::Duration,
};

use commons_client::{Chain, Cursor};
use commons_runtime::BlockNumber;

use crate::{cli_binary, free_port, wait_for, ManagedProcess, TestDir, TestNode, LOG_FILE};

/// A dataset owner's key service (`commons key-service`), killed when dropped.
pub struct KeyService {
	keys_dir: PathBuf,
	/// Where it serves Prometheus metrics on 127.0.0.1.
	prometheus_port: u16,
	process: ManagedProcess,
}

impl KeyService {
	/// Starts the key service of the dataset owner with secret key `key`, following `node`, with
	/// its datasets' keys in `keys_dir`, releasing them for `apps` to enclaves of `measurements`
	/// (as `commons create-app --measurement` takes them), with `extra` arguments added; it
	/// serves its metrics on a free port of 127.0.0.1 and logs to `dir/key-service/node.log`.
	pub fn start(
		dir: &TestDir,
		node: &TestNode,
		key: &str,
		keys_dir: &Path,
		apps: &[u32],
		measurements: &[String],
		extra: &[String],
	) -> Self {
		let work_dir = dir.process_dir("key-service");
		let prometheus_port = free_port();
		let mut args = Self::arguments(node, key, keys_dir, apps, measurements);
		args.extend(["--prometheus-addr".into(), format!("127.0.0.1:{prometheus_port}")]);
		args.extend(extra.iter().cloned());
		let process =
			ManagedProcess::start("the key service", cli_binary(), args, work_dir.join(LOG_FILE));
		Self { keys_dir: keys_dir.to_owned(), prometheus_port, process }
	}

	/// The command line of a key service as [`KeyService::start`] describes it, without metrics
	/// or extra arguments: `commons` runs it (add `--dry-run` to check it).
	pub fn arguments(
		node: &TestNode,
		key: &str,
		keys_dir: &Path,
		apps: &[u32],
		measurements: &[String],
	) -> Vec<String> {
		// `--rpc` and `--key` are the `commons` command line's global options, as for
		// `crate::cli()`.
		vec![
			"--rpc".into(),
			node.rpc_url(),
			"--key".into(),
			key.into(),
			"key-service".into(),
			"--keys-dir".into(),
			keys_dir.display().to_string(),
		]
		.into_iter()
		.chain(apps.iter().flat_map(|app| ["--allow-app".into(), app.to_string()]))
		.chain(
			measurements
				.iter()
				.flat_map(|measurement| ["--allow-measurement".into(), measurement.clone()]),
		)
		.collect()
	}

	/// The value of the counter or gauge `name` it serves now (since it last started).
	pub fn metric(&self, name: &str) -> Result<u64, String> {
		let text = crate::prometheus_metrics(self.prometheus_port)?;
		crate::metric_value(&text, name).ok_or_else(|| format!("no {name} in:\n{text}"))
	}

	/// Kills the process with SIGKILL and reaps it.
	pub fn kill(&mut self) {
		self.process.kill();
	}

	/// Starts the killed key service again with the same arguments: it reads on from its cursor.
	pub fn restart(&mut self) {
		self.process.restart(&[]);
	}

	/// Everything it has logged so far, over all its runs.
	pub fn log(&self) -> String {
		self.process.log()
	}

	/// Waits until it has logged `text` (see [`crate::ManagedProcess::wait_for_log`]).
	pub async fn wait_for_log(&self, text: &str) {
		self.process.wait_for_log(text).await
	}

	/// The next block it will read assignments from: its cursor, kept in its keys directory
	/// (`None` before its first read).
	pub fn cursor(&self) -> Option<BlockNumber> {
		Cursor::new(self.keys_dir.join("cursor")).load()
	}

	/// Waits until the key service has read the assignments of every block up to `chain`'s best
	/// one now: it saves its cursor after each read, so it is then following the chain.
	pub async fn wait_until_caught_up(&self, chain: &Chain) {
		let best = chain.best_number().await.unwrap_or_else(|error| panic!("{error}"));
		wait_for(
			&format!("the key service to read block #{best}"),
			Duration::from_secs(60),
			|| async {
				match self.cursor() {
					Some(next) if next > best => Ok(()),
					other => Err(format!("its next block to read: {other:?}")),
				}
			},
		)
		.await;
	}
}
