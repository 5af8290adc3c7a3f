//! [`ManagedProcess`]: what the harness's nodes, compute nodes and key services have in common.

use std::{
	fs::File,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

/// The log file of each process, in its directory of the test's: [`crate::TestDir`] prints the
/// end of each when a test fails.
pub const LOG_FILE: &str = "node.log";

/// A process the harness started: a binary, its arguments, the log file its standard output and
/// error are appended to (over all its runs), and the running child, if any. It can be killed as
/// a crash would and started again on the same arguments, and it is killed when dropped.
pub struct ManagedProcess {
	name: String,
	binary: PathBuf,
	args: Vec<String>,
	log: PathBuf,
	child: Option<Child>,
}

impl ManagedProcess {
	/// Starts `binary` with `args`, as the process called `name` in messages, its standard output
	/// and error appended to `log`.
	pub fn start(name: &str, binary: PathBuf, args: Vec<String>, log: PathBuf) -> Self {
		let mut process = Self { name: name.into(), binary, args, log, child: None };
		process.spawn(&[]);
		process
	}

	/// The name it was started with.
	pub fn name(&self) -> &str {
		&self.name
	}

	/// The file it logs to.
	pub fn log_path(&self) -> &Path {
		&self.log
	}

	/// Everything it has logged so far, over all its runs.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Waits until its log holds `text`. A line logged before an observable effect (an RPC answer,
	/// an event) may still sit in the writer's buffer when that effect is seen: the Substrate
	/// node flushes its log from a background thread, so a log is read by waiting, never once.
	pub async fn wait_for_log(&self, text: &str) {
		crate::wait_for(
			&format!("{} to log {text:?}", self.name),
			Duration::from_secs(30),
			|| async {
				if self.log().contains(text) {
					Ok(())
				} else {
					Err(format!("not in {}", self.log.display()))
				}
			},
		)
		.await
	}

	/// Kills the process with SIGKILL, as a crash or power loss would, and reaps it. Does nothing
	/// if it is not running.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			// Neither fails on a child of ours (`kill` on one that exited is `Ok`, `wait` returns
			// the status it kept); should one fail, the process is gone. A panic here would
			// abort a test unwinding from a failure (this runs in `Drop`) before its logs print.
			if let Err(error) = child.kill() {
				eprintln!("could not kill {}: {error}", self.name);
			}
			if let Err(error) = child.wait() {
				eprintln!("could not reap {}: {error}", self.name);
			}
		}
	}

	/// Asks the process to stop with SIGTERM, as systemd or `kill` do, and waits up to `timeout`
	/// for it to exit; its exit status (`None` if it was still running, then killed).
	pub async fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
		let child = self.child.as_mut().unwrap_or_else(|| panic!("{} was not started", self.name));
		let status = Command::new("kill")
			.args(["-TERM", &child.id().to_string()])
			.status()
			.unwrap_or_else(|error| panic!("cannot run kill: {error}"));
		assert!(status.success(), "kill -TERM {} failed: {status}", self.name);
		let started = Instant::now();
		while started.elapsed() < timeout {
			let exited = child
				.try_wait()
				.unwrap_or_else(|error| panic!("{} cannot be waited for: {error}", self.name));
			if let Some(status) = exited {
				self.child = None;
				return Some(status);
			}
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
		self.kill();
		None
	}

	/// Starts the killed (or exited) process again with its arguments, and `extra` ones after
	/// them for this run only.
	pub fn restart(&mut self, extra: &[&str]) {
		assert!(self.child.is_none(), "{} is still running", self.name);
		self.spawn(extra);
	}

	/// Waits up to `timeout` for the process to exit by itself; whether it did. An exited
	/// process can be [`restart`](Self::restart)ed.
	pub async fn exited_within(&mut self, timeout: Duration) -> bool {
		let started = Instant::now();
		while started.elapsed() < timeout {
			let child =
				self.child.as_mut().unwrap_or_else(|| panic!("{} was not started", self.name));
			let exited = child
				.try_wait()
				.unwrap_or_else(|error| panic!("{} cannot be waited for: {error}", self.name));
			if exited.is_some() {
				self.child = None;
				return true;
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
		false
	}

	fn spawn(&mut self, extra: &[&str]) {
		let log = File::options()
			.create(true)
			.append(true)
			.open(&self.log)
			.unwrap_or_else(|error| panic!("cannot open {}: {error}", self.log.display()));
		let child = Command::new(&self.binary)
			.args(&self.args)
			.args(extra)
			// The processes log what the tests wait for at their default levels, whatever the
			// test runner's own environment asks for.
			.env_remove("RUST_LOG")
			.stdin(Stdio::null())
			.stdout(log.try_clone().expect("a log handle can be duplicated"))
			.stderr(log)
			.spawn()
			.unwrap_or_else(|error| {
				panic!("could not start {} ({}): {error}", self.name, self.binary.display())
			});
		self.child = Some(child);
	}
}

impl Drop for ManagedProcess {
	fn drop(&mut self) {
		self.kill();
	}
}
