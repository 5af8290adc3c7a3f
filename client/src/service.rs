//! What the long-running programs (the compute node, the key service) share to behave as
//! services: logs with timestamps and levels, a stop on SIGTERM or SIGINT that lets the current
//! step finish, state files that a crash never leaves half written, and Prometheus metrics
//! served where the operator says.

use std::{
	fs,
	io::{self, Write},
	net::{IpAddr, Ipv4Addr, SocketAddr},
	path::Path,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
};

use prometheus_endpoint::{PrometheusError, Registry};
use tokio::sync::Notify;

/// Where a service serves its Prometheus metrics, if anywhere: the node's own options
/// (`--prometheus-port`, `--prometheus-external`), and an address of one interface for a host
/// with several.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PrometheusOptions {
	/// Serves Prometheus metrics at `/metrics` on this port of 127.0.0.1, or of every interface
	/// with `--prometheus-external`.
	#[arg(long, conflicts_with = "prometheus_addr")]
	pub prometheus_port: Option<u16>,

	/// Serves the Prometheus metrics on every interface, for a Prometheus on another machine.
	#[arg(long, requires = "prometheus_port")]
	pub prometheus_external: bool,

	/// Serves Prometheus metrics at `/metrics` on this address (`10.0.0.7:9616`,
	/// `[fd00::7]:9616`): one interface of several, such as a private network's.
	#[arg(long, value_name = "IP:PORT")]
	pub prometheus_addr: Option<SocketAddr>,
}

impl PrometheusOptions {
	/// The address to serve the metrics on, if the options ask for them.
	pub fn address(&self) -> Option<SocketAddr> {
		let ip: IpAddr = match self.prometheus_external {
			true => Ipv4Addr::UNSPECIFIED.into(),
			false => Ipv4Addr::LOCALHOST.into(),
		};
		self.prometheus_addr
			.or(self.prometheus_port.map(|port| SocketAddr::new(ip, port)))
	}
}

/// Whether metrics could be served on `address` now: it is this host's, and free.
pub fn check_metrics_address(address: SocketAddr) -> Result<(), String> {
	std::net::TcpListener::bind(address)
		.map(drop)
		.map_err(|error| format!("cannot serve metrics on {address}: {error}"))
}

/// Registers a program's metrics (`register` makes them in a registry) and serves them at
/// `http://<address>/metrics` for as long as the process runs; returns them, to update. An
/// address that cannot be listened on (taken, or not this host's) is an error now, not a log
/// line later. Must be called within a tokio runtime.
pub fn serve_metrics<M>(
	address: SocketAddr,
	register: impl FnOnce(&Registry) -> Result<M, PrometheusError>,
) -> Result<M, String> {
	let registry = Registry::new();
	let metrics = register(&registry).map_err(|error| error.to_string())?;
	// The endpoint binds in its own task; trying first turns a taken port into a failed start.
	check_metrics_address(address)?;
	tokio::spawn(async move {
		if let Err(error) = prometheus_endpoint::init_prometheus(address, registry).await {
			log::error!(target: "commons", "metrics on {address}: {error}");
		}
	});
	Ok(metrics)
}

/// Sends the program's `log` records to stderr, one line each: time (UTC), level, target and
/// message, for a service's journal. `RUST_LOG` chooses what is logged, as for the node
/// (`RUST_LOG=commons=debug`); without it, `default` does (for example `"warn,commons=info"`).
pub fn init_logging(default: &str) {
	let _ = log_lines(default).try_init();
}

/// As [`init_logging`], for a person at a terminal: level and message only.
pub fn init_terminal_logging(default: &str) {
	let _ = log_lines(default).without_time().with_target(false).try_init();
}

/// Log lines to stderr, filtered by `RUST_LOG` or else `default`. Installing them fails only if
/// a logger is already installed (a test that does it twice), which is then kept.
fn log_lines(
	default: &str,
) -> tracing_subscriber::fmt::SubscriberBuilder<
	tracing_subscriber::fmt::format::DefaultFields,
	tracing_subscriber::fmt::format::Format,
	tracing_subscriber::EnvFilter,
	fn() -> io::Stderr,
> {
	let filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
	tracing_subscriber::fmt()
		.with_env_filter(filter)
		.with_writer(io::stderr as fn() -> io::Stderr)
		.with_ansi(false)
}

/// Set once the process is asked to stop (SIGTERM from systemd or `kill`, SIGINT from Ctrl-C).
/// The program's loop checks it between steps, so a step in progress (a computation and its
/// vote, a key being sealed) finishes, and what it did is saved, before the process exits. A
/// second signal exits at once (status 130), as a second Ctrl-C does elsewhere.
#[derive(Clone)]
pub struct StopSignal {
	asked: Arc<AtomicBool>,
	woken: Arc<Notify>,
}

impl StopSignal {
	/// Listens for SIGTERM and SIGINT from now on. Must be called within a tokio runtime.
	pub fn listen() -> io::Result<Self> {
		use tokio::signal::unix::{signal, SignalKind};

		let mut terminate = signal(SignalKind::terminate())?;
		let mut interrupt = signal(SignalKind::interrupt())?;
		let stop = Self { asked: Arc::default(), woken: Arc::default() };
		let listener = stop.clone();
		tokio::spawn(async move {
			let name = tokio::select! {
				_ = terminate.recv() => "SIGTERM",
				_ = interrupt.recv() => "SIGINT",
			};
			log::info!(target: "commons", "{name} received: stopping after the current step");
			listener.asked.store(true, Ordering::SeqCst);
			listener.woken.notify_waiters();
			let again = tokio::select! {
				_ = terminate.recv() => "SIGTERM",
				_ = interrupt.recv() => "SIGINT",
			};
			log::warn!(target: "commons", "{again} received again: exiting now");
			std::process::exit(130);
		});
		Ok(stop)
	}

	/// Whether the process was asked to stop.
	pub fn is_asked(&self) -> bool {
		self.asked.load(Ordering::SeqCst)
	}

	/// Waits until the process is asked to stop (at once if it already was): a branch of the
	/// `select!` a loop idles in.
	pub async fn asked(&self) {
		let woken = self.woken.notified();
		if !self.is_asked() {
			woken.await;
		}
	}
}

/// Replaces the file at `path` with `contents` so that a crash or power loss at any moment
/// leaves either the old file or the new one, never a mix: the contents go to a temporary file
/// in the same directory, are flushed to disk, and the temporary file is renamed over `path`
/// (then the directory is flushed, so the rename itself survives). The file is readable and
/// writable by its owner only: state files may hold keys.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
	let directory = match path.parent() {
		Some(parent) if !parent.as_os_str().is_empty() => parent,
		_ => Path::new("."),
	};
	let name = path.file_name().ok_or_else(|| {
		io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display()))
	})?;
	let mut temporary_name = std::ffi::OsString::from(".");
	temporary_name.push(name);
	temporary_name.push(".new");
	let temporary = directory.join(temporary_name);
	let written = (|| {
		use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
		let mut file = fs::OpenOptions::new()
			.write(true)
			.create(true)
			.truncate(true)
			.mode(0o600)
			.open(&temporary)?;
		// A temporary file left by a crash keeps its mode when opened again: set it.
		file.set_permissions(fs::Permissions::from_mode(0o600))?;
		file.write_all(contents)?;
		file.sync_all()?;
		fs::rename(&temporary, path)
	})();
	if written.is_err() {
		// Whatever was written of it is of no use; the old file is intact.
		let _ = fs::remove_file(&temporary);
		return written;
	}
	fs::File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn metrics_are_served_on_loopback_unless_asked_otherwise() {
		use clap::Parser;
		#[derive(Parser)]
		struct Command {
			#[command(flatten)]
			prometheus: PrometheusOptions,
		}
		let address = |args: &[&str]| {
			Command::try_parse_from([&["service"], args].concat()).map(|c| c.prometheus.address())
		};
		assert_eq!(address(&[]).unwrap(), None);
		assert_eq!(
			address(&["--prometheus-port", "9616"]).unwrap(),
			Some("127.0.0.1:9616".parse().unwrap())
		);
		assert_eq!(
			address(&["--prometheus-port", "9616", "--prometheus-external"]).unwrap(),
			Some("0.0.0.0:9616".parse().unwrap())
		);
		assert_eq!(
			address(&["--prometheus-addr", "10.0.0.7:9617"]).unwrap(),
			Some("10.0.0.7:9617".parse().unwrap())
		);
		assert!(address(&["--prometheus-external"]).is_err(), "external of which port?");
		assert!(address(&["--prometheus-addr", "10.0.0.7:1", "--prometheus-port", "2"]).is_err());
	}

	#[tokio::test]
	async fn a_metrics_address_already_taken_fails_the_start() {
		let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let address = taken.local_addr().unwrap();
		let error = serve_metrics(address, |_| Ok(())).unwrap_err();
		assert!(error.contains(&address.to_string()), "{error}");
	}

	#[test]
	fn an_atomic_write_replaces_the_file_and_leaves_nothing_else() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("state");
		write_atomically(&path, b"first").unwrap();
		write_atomically(&path, b"second").unwrap();
		assert_eq!(fs::read(&path).unwrap(), b"second");
		let names: Vec<_> = fs::read_dir(dir.path())
			.unwrap()
			.map(|entry| entry.unwrap().file_name().into_string().unwrap())
			.collect();
		assert_eq!(names, ["state"], "no temporary file is left behind");
		use std::os::unix::fs::PermissionsExt;
		assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
	}

	#[test]
	fn a_path_without_a_file_name_is_refused() {
		assert_eq!(
			write_atomically(Path::new("/"), b"x").unwrap_err().kind(),
			io::ErrorKind::InvalidInput
		);
	}

	#[tokio::test]
	async fn a_stop_signal_wakes_the_idle_loop_and_stays_asked() {
		let stop = StopSignal::listen().unwrap();
		assert!(!stop.is_asked());
		// The listener now handles SIGTERM for this whole test process.
		let pid = std::process::id().to_string();
		let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
		assert!(status.success());
		tokio::time::timeout(std::time::Duration::from_secs(10), stop.asked())
			.await
			.expect("the signal wakes the waiting loop");
		assert!(stop.is_asked());
		stop.asked().await;
	}
}
