//! [`ComputeNode`]: a `commons-compute` process, what it says of its work (its metrics, its
//! cursor), and [`digest_here`], what a worker computes, computed in the test.

use std::{path::PathBuf, time::Duration};

use commons_client::Cursor;
use commons_compute::{
	task_runner::{run_task, TaskInputs},
	Limits,
};
use commons_runtime::BlockNumber;
use pallet_contribution::{ResultDigest, TaskId};
use pallet_marketplace::WorkerpoolId;

use crate::{built_binary, free_port, wait_for, ManagedProcess, TestDir, TestNode, LOG_FILE};

/// The `commons-compute` binary of this build (or `$COMMONS_COMPUTE`).
pub fn compute_binary() -> PathBuf {
	built_binary("commons-compute", "COMMONS_COMPUTE")
}

/// The compute node's counters of its work on tasks, served as
/// `commons_compute_tasks_<name>_total` (see `commons_compute::metrics::Metrics`). They count
/// from zero at each start of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskCounter {
	/// Tasks it learnt it was assigned, by push or from the chain.
	Received,
	/// Tasks whose module it ran to completion.
	Executed,
	/// Contributions (votes) it submitted.
	Contributed,
	/// Reveals it submitted.
	Revealed,
	/// Votes and reveals it submitted again, not seen on chain some blocks after submission.
	Resubmitted,
	/// Votes and reveals the transaction pool had no room for, submitted again the next round.
	PoolFull,
	/// Tasks it could not compute, contribute to or reveal.
	Failed,
}

impl TaskCounter {
	/// The counter's name in the metrics text.
	pub fn metric_name(self) -> &'static str {
		match self {
			TaskCounter::Received => "commons_compute_tasks_received_total",
			TaskCounter::Executed => "commons_compute_tasks_executed_total",
			TaskCounter::Contributed => "commons_compute_tasks_contributed_total",
			TaskCounter::Revealed => "commons_compute_tasks_revealed_total",
			TaskCounter::Resubmitted => "commons_compute_tasks_resubmitted_total",
			TaskCounter::PoolFull => "commons_compute_tasks_pool_full_total",
			TaskCounter::Failed => "commons_compute_tasks_failed_total",
		}
	}
}

/// A `commons-compute` process, killed when dropped. It logs to `node.log` in its own directory
/// of the test's (its work directory), so that a failing test shows its log with the nodes'.
pub struct ComputeNode {
	/// Its name in the test's output (the worker's key name).
	pub name: String,
	/// Its work directory: digests, cursor, results and enclave keys.
	pub work_dir: PathBuf,
	/// Where its endpoint (pushed tasks, results) listens on 127.0.0.1.
	pub endpoint_port: u16,
	/// Where it serves Prometheus metrics on 127.0.0.1.
	pub prometheus_port: u16,
	process: ManagedProcess,
}

impl ComputeNode {
	/// Starts a compute node called `name` with the secret key `key`, following `node` and
	/// joining `workerpool` (its endpoint on a free port), with `args` added.
	pub fn start(
		dir: &TestDir,
		name: &str,
		node: &TestNode,
		key: &str,
		workerpool: WorkerpoolId,
		args: &[&str],
	) -> Self {
		let work_dir = dir.process_dir(name);
		let endpoint_port = free_port();
		let prometheus_port = free_port();
		let mut all_args: Vec<String> = vec![
			"--rpc".into(),
			node.rpc_url(),
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
		let process =
			ManagedProcess::start(name, compute_binary(), all_args, work_dir.join(LOG_FILE));
		Self { name: name.into(), work_dir, endpoint_port, prometheus_port, process }
	}

	/// Kills the process with SIGKILL, as a crash would, and reaps it.
	pub fn kill(&mut self) {
		self.process.kill();
	}

	/// Stops it with SIGTERM and waits up to `timeout` for it to exit: its exit status, `None`
	/// if it did not exit in time (it is then killed).
	pub async fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
		self.process.terminate(timeout).await
	}

	/// Starts the killed compute node again on the same work directory and ports, with `extra`
	/// arguments added to its first ones.
	pub fn restart(&mut self, extra: &[&str]) {
		self.process.restart(extra);
	}

	/// Waits up to `timeout` for the process to exit by itself; whether it did.
	pub async fn exited_within(&mut self, timeout: Duration) -> bool {
		self.process.exited_within(timeout).await
	}

	/// Its Prometheus metrics text.
	pub fn metrics(&self) -> Result<String, String> {
		crate::prometheus_metrics(self.prometheus_port)
	}

	/// The value of `counter` since the process last started.
	pub fn count(&self, counter: TaskCounter) -> Result<u64, String> {
		let text = self.metrics()?;
		crate::metric_value(&text, counter.metric_name())
			.ok_or_else(|| format!("{} serves no {}", self.name, counter.metric_name()))
	}

	/// The value of `counter` once the node serves its metrics: a node just (re)started takes a
	/// moment to listen, and reading it then is refused.
	pub async fn wait_for_count(&self, counter: TaskCounter) -> u64 {
		let what = format!("{}'s {} count", self.name, counter.metric_name());
		wait_for(&what, Duration::from_secs(60), || async { self.count(counter) }).await
	}

	/// The next block it will read events from: its cursor, kept in its work directory (`None`
	/// before its first read).
	pub fn cursor(&self) -> Option<BlockNumber> {
		Cursor::new(self.work_dir.join("cursor")).load()
	}

	/// Waits until the compute node has read the events of every block up to `block` and then
	/// finished a round of work on what they brought: contributed, revealed, waited or dropped.
	///
	/// Each round of the compute node reads the new blocks, saves its cursor, and then works on
	/// the tasks it noted (`compute/src/main.rs`). So once the cursor has passed `block`, the
	/// cursor moving once more marks the end of the round that followed that read. This takes
	/// a new block (six seconds); it is bounded by a minute for each step.
	pub async fn wait_until_worked_through(&self, block: BlockNumber) {
		let read = wait_for(
			&format!("{} to read block #{block}", self.name),
			Duration::from_secs(60),
			|| async {
				match self.cursor() {
					Some(next) if next > block => Ok(next),
					other => Err(format!("its next block to read: {other:?}")),
				}
			},
		)
		.await;
		wait_for(
			&format!("{} to finish the round after reading block #{}", self.name, read - 1),
			Duration::from_secs(60),
			|| async {
				match self.cursor() {
					Some(next) if next > read => Ok(()),
					other => Err(format!("its next block to read: {other:?}")),
				}
			},
		)
		.await;
	}

	/// Everything it has logged so far, over all its runs.
	pub fn log(&self) -> String {
		self.process.log()
	}

	/// Waits until it has logged `text` (see [`crate::ManagedProcess::wait_for_log`]).
	pub async fn wait_for_log(&self, text: &str) {
		self.process.wait_for_log(text).await
	}
}

/// The digest of `module`'s output for `task`, run with `params` and with `dataset` as its
/// dataset, within `limits`: computed here, independently of the compute nodes, by the task
/// runner every one of them uses.
pub async fn digest_here(
	module: Vec<u8>,
	params: Vec<u8>,
	dataset: Option<Vec<u8>>,
	task: TaskId,
	limits: Limits,
) -> ResultDigest {
	tokio::task::spawn_blocking(move || {
		let dir = tempfile::tempdir().expect("a temporary directory can be created");
		let inputs = TaskInputs {
			module: &module,
			params: &params,
			dataset: dataset.as_deref(),
			seed: task.0,
			limits,
		};
		let (_, result_digest) = run_task(&inputs, &dir.path().join("in"), &dir.path().join("out"))
			.expect("the app runs here too");
		result_digest
	})
	.await
	.expect("the task runner does not panic")
}
