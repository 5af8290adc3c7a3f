//! Running an app that is an OCI image, through a container engine's Docker-compatible API
//! (Docker Engine, or Podman's API service) on a Unix socket.
//!
//! An image is named by its repository and manifest digest (`<repository>@sha256:<hex>`), as the
//! registry records it; the engine is asked for that exact digest, pulling it if it does not hold
//! it, so no other content can run under the app's name. An image that declares volumes is
//! refused: they would be writable space outside `/out`. A task's container runs as `nobody`,
//! with no network, a read-only root filesystem, no capabilities and no new privileges; the
//! task's params are its arguments, its dataset (if any) is the read-only file `/in/dataset`, and
//! `/out` is the one directory it writes that outlives it (besides bounded scratch space in
//! memory at `/tmp`, `/var/tmp` and `/run`, the same on every engine); it is digested as a WASI
//! module's output is, and an output holding anything but regular files and directories (a
//! symlink, a device) is refused. Memory, processes, CPU and wall time are bounded; a create the
//! engine answers with a warning, or whose limits it reports otherwise than asked (an engine
//! that cannot apply one may create the container without it), is refused before it starts.
//! Nothing it prints is kept. Every call to the engine has a deadline. The container, labelled
//! with its task and its worker, is removed afterwards: on success, failure and timeout, and
//! when the run is dropped midway (its removal is then spawned); what a killed compute node left
//! is swept at its next start ([`Engine::sweep`]). The limits come from the task's category
//! ([`ContainerLimits::for_reference_time`]).
//!
//! Not bounded here: the bytes a container writes to `/out` during its run (a worker's work
//! directory belongs on a filesystem of its own, or under a quota), and an image's size when it
//! is pulled.
//!
//! Determinism is the image's promise: the engine does not make a container replayable the way
//! wasmtime makes a module (clocks, randomness and scheduling are the host's). The task id is
//! passed as `COMMONS_TASK_SEED` (hex) for an app to seed its randomness with; an app that reads
//! the clock or unseeded randomness should run at trust 1.

use std::{fs, os::unix::fs::PermissionsExt, path::Path, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Bytes, header, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sp_core::hexdisplay::HexDisplay;
use tokio::net::UnixStream;

/// The API version asked for: Docker Engine 20.10's, which Podman 4 serves too.
const API: &str = "/v1.41";

/// Where a container finds its dataset and leaves its output.
const INPUT_DIR: &str = "/in";
const OUTPUT_DIR: &str = "/out";

/// Who a container runs as: `nobody`, never root, so that what it leaves in `/out` is not
/// root's.
const USER: &str = "65534:65534";

/// The most bytes of an engine's answer read: a pull's progress and the JSON answers are far
/// smaller.
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// How long a call to the engine may take, a pull excepted.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a pull may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(600);

/// The options of the scratch directories a container may write besides `/out`.
const SCRATCH_MOUNT: &str = "rw,nosuid,nodev,noexec,size=64m";

/// The label naming the task a container runs, for an operator to find it.
const TASK_LABEL: &str = "commons.task";

/// The label naming the worker a container runs for: what a compute node sweeps at its start is
/// its own leftovers, never the containers of another node sharing the engine.
const WORKER_LABEL: &str = "commons.worker";

/// A container engine reached on a Unix socket, running containers for one worker.
#[derive(Clone, Debug)]
pub struct Engine {
	socket: std::path::PathBuf,
	worker: String,
}

/// An image, by repository and manifest digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
	repository: String,
	digest: [u8; 32],
}

impl Image {
	/// The image of `repository` (`registry/name`, as the app's URI holds it) whose manifest's
	/// sha256 is `digest`; the repository is checked
	/// ([`check_repository`](commons_client::image::check_repository)).
	pub fn new(repository: &str, digest: [u8; 32]) -> Result<Self, ContainerError> {
		commons_client::image::check_repository(repository).map_err(ContainerError::Image)?;
		Ok(Self { repository: repository.to_owned(), digest })
	}

	/// The image's reference: `<repository>@sha256:<hex>`.
	pub fn reference(&self) -> String {
		format!("{}@sha256:{}", self.repository, HexDisplay::from(&self.digest))
	}
}

/// What a container may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerLimits {
	/// Memory, swap included, in bytes.
	pub memory_bytes: u64,
	/// Processes and threads.
	pub pids: u32,
	/// CPUs, in billionths.
	pub nano_cpus: u64,
	/// Time from start to exit.
	pub wall_time: Duration,
}

impl ContainerLimits {
	/// The processes and threads of a task's container: enough for a threaded app, too few to
	/// fork-bomb the host.
	pub const PIDS: u32 = 64;
	/// The CPUs of a task's container: one, as a module has.
	pub const NANO_CPUS: u64 = 1_000_000_000;

	/// The limits of a task of a category whose reference time is `reference_time_secs`: the
	/// memory a module gets ([`Limits::MEMORY_BYTES`](crate::Limits::MEMORY_BYTES)), one CPU, and
	/// the reference time as wall time. Unlike a module's fuel, wall time depends on the
	/// machine, so a slow worker's run of a long task may fail where a fast one's succeeds: the
	/// vote decides, as with any failure.
	pub fn for_reference_time(reference_time_secs: u32) -> Self {
		Self {
			memory_bytes: crate::Limits::MEMORY_BYTES as u64,
			pids: Self::PIDS,
			nano_cpus: Self::NANO_CPUS,
			wall_time: Duration::from_secs(reference_time_secs.into()),
		}
	}
}

/// One run of an image.
pub struct ContainerJob<'a> {
	/// The image.
	pub image: &'a Image,
	/// Its arguments.
	pub args: Vec<String>,
	/// The directory mounted read-only at `/in`, holding the dataset, if there is one.
	pub input_dir: Option<&'a Path>,
	/// The directory mounted at `/out`, empty before the run.
	pub output_dir: &'a Path,
	/// The task's seed, passed as `COMMONS_TASK_SEED`.
	pub seed: [u8; 32],
	/// The bounds of the run.
	pub limits: ContainerLimits,
}

/// Why a container did not run to a successful exit.
#[derive(Debug, PartialEq, Eq)]
pub enum ContainerError {
	/// The engine could not be reached or answered what it should not.
	Engine(String),
	/// The image could not be had by its digest.
	Image(String),
	/// It exited with a non-zero status.
	Exit(i64),
	/// The kernel killed it for exceeding its memory.
	OutOfMemory,
	/// It ran past its wall time, and was killed.
	Timeout,
	/// It left something other than regular files and directories in `/out`.
	Output(String),
}

impl std::fmt::Display for ContainerError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			ContainerError::Engine(message) => write!(f, "container engine: {message}"),
			ContainerError::Image(message) => write!(f, "image: {message}"),
			ContainerError::Exit(status) => write!(f, "the container exited with status {status}"),
			ContainerError::OutOfMemory => f.write_str("the container exceeded its memory"),
			ContainerError::Timeout => f.write_str("the container exceeded its wall time"),
			ContainerError::Output(message) => write!(f, "output refused: {message}"),
		}
	}
}

impl std::error::Error for ContainerError {}

impl Engine {
	/// The engine serving its API on `socket`, running containers for `worker` (an account, as
	/// text): they are labelled with it.
	pub fn new(socket: &Path, worker: &str) -> Self {
		Self { socket: socket.to_owned(), worker: worker.to_owned() }
	}

	/// The engine's socket.
	pub fn socket(&self) -> &Path {
		&self.socket
	}

	/// Removes every container of this worker the engine holds, running or not, and returns how
	/// many it removed: at a compute node's start, none of them is running a task of this
	/// process, so they are a crashed run's leftovers (a removal on drop never ran).
	pub async fn sweep(&self) -> Result<usize, ContainerError> {
		let filters = json!({ "label": [format!("{WORKER_LABEL}={}", self.worker)] });
		let path =
			format!("/containers/json?all=true&filters={}", encode_query(&filters.to_string()));
		let (status, body) = self.call(Method::GET, &path, None).await?;
		ensure_status(status, StatusCode::OK, &body)?;
		let listed = json_of(&body)?;
		let containers = listed
			.as_array()
			.ok_or_else(|| ContainerError::Engine("a container list that is no list".into()))?;
		let mut removed = 0;
		for id in containers.iter().filter_map(|container| container["Id"].as_str()) {
			match self.remove(id).await {
				Ok(()) => removed += 1,
				// One left behind is the operator's to remove; it does not stop the node.
				Err(error) => log::warn!(
					target: crate::LOG_TARGET,
					"container {id} of an earlier run not removed: {error}"
				),
			}
		}
		Ok(removed)
	}

	/// The engine's version, to check that it answers.
	pub async fn version(&self) -> Result<String, ContainerError> {
		let (status, body) = self.call(Method::GET, "/version", None).await?;
		ensure_status(status, StatusCode::OK, &body)?;
		Ok(json_of(&body)?["Version"].as_str().unwrap_or("unknown").to_owned())
	}

	/// Makes sure the engine holds `image` by its digest: pulls it unless it does already.
	pub async fn ensure_image(&self, image: &Image) -> Result<(), ContainerError> {
		if self.holds(image).await? {
			return Ok(());
		}
		let path = format!("/images/create?fromImage={}", encode_query(&image.reference()));
		let (status, body) = self.call_within(PULL_TIMEOUT, Method::POST, &path, None).await?;
		// The pull's progress comes as JSON lines; a failure is a line with an `error`.
		let failure = String::from_utf8_lossy(&body)
			.lines()
			.filter_map(|line| serde_json::from_str::<Value>(line).ok())
			.find_map(|line| line.get("error").and_then(Value::as_str).map(str::to_owned));
		if status != StatusCode::OK || failure.is_some() {
			let why = failure.unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
			return Err(ContainerError::Image(format!("pulling {}: {why}", image.reference())));
		}
		match self.holds(image).await? {
			true => Ok(()),
			false => Err(ContainerError::Image(format!(
				"{} is not held after its pull",
				image.reference()
			))),
		}
	}

	/// Whether the engine holds an image whose manifest digest is `image`'s.
	async fn holds(&self, image: &Image) -> Result<bool, ContainerError> {
		let path = format!("/images/{}/json", encode_path(&image.reference()));
		let (status, body) = self.call(Method::GET, &path, None).await?;
		if status == StatusCode::NOT_FOUND {
			return Ok(false);
		}
		ensure_status(status, StatusCode::OK, &body)?;
		let inspected = json_of(&body)?;
		let wanted = format!("@sha256:{}", HexDisplay::from(&image.digest));
		let digests = inspected["RepoDigests"].as_array().cloned().unwrap_or_default();
		if !digests.iter().filter_map(Value::as_str).any(|digest| digest.ends_with(&wanted)) {
			return Ok(false);
		}
		// An image's volumes would be writable space outside `/out`, unbounded.
		match inspected["Config"]["Volumes"].as_object() {
			Some(volumes) if !volumes.is_empty() => Err(ContainerError::Image(format!(
				"{} declares volumes, which a task may not have",
				image.reference()
			))),
			_ => Ok(true),
		}
	}

	/// Runs `job` to its end and removes its container, whatever happened; then checks that
	/// `/out` holds only regular files and directories.
	pub async fn run(&self, job: &ContainerJob<'_>) -> Result<(), ContainerError> {
		self.ensure_image(job.image).await?;
		open_mounts(job)?;
		let (status, body) = self
			.call(Method::POST, "/containers/create", Some(create_body(job, &self.worker)))
			.await?;
		ensure_status(status, StatusCode::CREATED, &body)?;
		let created = json_of(&body)?;
		let id = created["Id"]
			.as_str()
			.ok_or_else(|| ContainerError::Engine("a container without an id".into()))?
			.to_owned();
		let mut removal = Removal { engine: self.clone(), id: Some(id.clone()) };
		let warnings: Vec<&str> = created["Warnings"]
			.as_array()
			.map(|warnings| warnings.iter().filter_map(Value::as_str).collect())
			.unwrap_or_default();
		let outcome = match warnings.is_empty() {
			// Docker warns of a limit it cannot apply; Podman may drop one without a word, so
			// what was created is read back too.
			false => Err(ContainerError::Engine(format!("warned: {}", warnings.join("; ")))),
			true => match self.check_limits_applied(&id, &job.limits).await {
				Ok(()) => self.start_and_wait(&id, job.limits.wall_time).await,
				Err(error) => Err(error),
			},
		};
		let removed = removal.now().await;
		outcome.and(removed)?;
		// Nobody but this node writes the output any more.
		fs::set_permissions(job.output_dir, fs::Permissions::from_mode(0o755))
			.map_err(|error| ContainerError::Output(format!("cannot close /out: {error}")))?;
		check_output(job.output_dir)
	}

	/// Checks that container `id` was created with `limits`: an engine that cannot apply one
	/// (Podman without the cgroup controller, for example) may create it without.
	async fn check_limits_applied(
		&self,
		id: &str,
		limits: &ContainerLimits,
	) -> Result<(), ContainerError> {
		let (status, body) =
			self.call(Method::GET, &format!("/containers/{id}/json"), None).await?;
		ensure_status(status, StatusCode::OK, &body)?;
		limits_applied(&json_of(&body)?["HostConfig"], limits)
	}

	/// Starts container `id` and waits for its exit, killing it after `wall_time`.
	async fn start_and_wait(&self, id: &str, wall_time: Duration) -> Result<(), ContainerError> {
		let (status, body) =
			self.call(Method::POST, &format!("/containers/{id}/start"), None).await?;
		ensure_status(status, StatusCode::NO_CONTENT, &body)?;
		let wait_path = format!("/containers/{id}/wait");
		let wait = self.request(Method::POST, &wait_path, None);
		let (status, body) = match tokio::time::timeout(wall_time, wait).await {
			Ok(answer) => answer?,
			Err(_) => {
				let _ = self.call(Method::POST, &format!("/containers/{id}/kill"), None).await;
				return Err(ContainerError::Timeout);
			}
		};
		ensure_status(status, StatusCode::OK, &body)?;
		let exit = json_of(&body)?["StatusCode"].as_i64().unwrap_or(-1);
		if exit == 0 {
			return Ok(());
		}
		let (status, body) =
			self.call(Method::GET, &format!("/containers/{id}/json"), None).await?;
		ensure_status(status, StatusCode::OK, &body)?;
		match json_of(&body)?["State"]["OOMKilled"].as_bool() {
			Some(true) => Err(ContainerError::OutOfMemory),
			_ => Err(ContainerError::Exit(exit)),
		}
	}

	/// Removes container `id`, running or not.
	async fn remove(&self, id: &str) -> Result<(), ContainerError> {
		let path = format!("/containers/{id}?force=true&v=true");
		let (status, body) = self.call(Method::DELETE, &path, None).await?;
		match status {
			StatusCode::NO_CONTENT | StatusCode::OK | StatusCode::NOT_FOUND => Ok(()),
			_ => ensure_status(status, StatusCode::NO_CONTENT, &body),
		}
	}

	/// One request to the engine, on a connection of its own, within [`CALL_TIMEOUT`]: the
	/// status and the whole body.
	async fn call(
		&self,
		method: Method,
		path: &str,
		body: Option<Value>,
	) -> Result<(StatusCode, Bytes), ContainerError> {
		self.call_within(CALL_TIMEOUT, method, path, body).await
	}

	/// As [`Engine::call`], within `deadline`.
	async fn call_within(
		&self,
		deadline: Duration,
		method: Method,
		path: &str,
		body: Option<Value>,
	) -> Result<(StatusCode, Bytes), ContainerError> {
		tokio::time::timeout(deadline, self.request(method, path, body))
			.await
			.map_err(|_| ContainerError::Engine(format!("no answer to {path} in {deadline:?}")))?
	}

	/// One request to the engine, on a connection of its own.
	async fn request(
		&self,
		method: Method,
		path: &str,
		body: Option<Value>,
	) -> Result<(StatusCode, Bytes), ContainerError> {
		let engine = |what: &str, error: &dyn std::fmt::Display| {
			ContainerError::Engine(format!("{what} ({}): {error}", self.socket.display()))
		};
		let stream = UnixStream::connect(&self.socket)
			.await
			.map_err(|error| engine("cannot connect", &error))?;
		let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
			.await
			.map_err(|error| engine("no HTTP", &error))?;
		let connection = tokio::spawn(connection);
		let bytes = body.map(|body| body.to_string().into_bytes()).unwrap_or_default();
		let request = Request::builder()
			.method(method)
			.uri(format!("http://engine{API}{path}"))
			.header(header::HOST, "engine")
			.header(header::CONTENT_TYPE, "application/json")
			.body(Full::new(Bytes::from(bytes)))
			.map_err(|error| engine("bad request", &error))?;
		let response = sender
			.send_request(request)
			.await
			.map_err(|error| engine("no answer", &error))?;
		let status = response.status();
		let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
			.collect()
			.await
			.map_err(|error| engine("answer cut short", &error))?
			.to_bytes();
		connection.abort();
		Ok((status, body))
	}
}

/// A container to remove: now, or, if the run is dropped before, in a task of its own.
struct Removal {
	engine: Engine,
	id: Option<String>,
}

impl Removal {
	/// Removes the container.
	async fn now(&mut self) -> Result<(), ContainerError> {
		match self.id.take() {
			Some(id) => self.engine.remove(&id).await,
			None => Ok(()),
		}
	}
}

impl Drop for Removal {
	fn drop(&mut self) {
		if let (Some(id), Ok(runtime)) = (self.id.take(), tokio::runtime::Handle::try_current()) {
			let engine = self.engine.clone();
			runtime.spawn(async move {
				if let Err(error) = engine.remove(&id).await {
					log::warn!(target: crate::LOG_TARGET, "container {id} not removed: {error}");
				}
			});
		}
	}
}

/// Opens `job`'s mounts to the container's user: `/out` writable (it is the node's again after
/// the run), `/in` and the dataset readable whatever the node's umask. A path the engine's
/// mount syntax would split (`:` or `,`) is refused.
fn open_mounts(job: &ContainerJob<'_>) -> Result<(), ContainerError> {
	let refuse = |what: &str, error: &dyn std::fmt::Display| {
		ContainerError::Output(format!("cannot open {what}: {error}"))
	};
	for dir in std::iter::once(job.output_dir).chain(job.input_dir) {
		let path = dir.to_string_lossy();
		if path.contains([':', ',']) {
			return Err(ContainerError::Output(format!("{path} holds ':' or ','")));
		}
	}
	fs::set_permissions(job.output_dir, fs::Permissions::from_mode(0o777))
		.map_err(|error| refuse("/out", &error))?;
	if let Some(input) = job.input_dir {
		fs::set_permissions(input, fs::Permissions::from_mode(0o755))
			.map_err(|error| refuse("/in", &error))?;
		let dataset = input.join("dataset");
		if dataset.exists() {
			fs::set_permissions(&dataset, fs::Permissions::from_mode(0o644))
				.map_err(|error| refuse("/in/dataset", &error))?;
		}
	}
	Ok(())
}

/// Checks that `host`, a container's `HostConfig` as the engine reports it, holds `limits`.
/// The CPU bound may be reported as `NanoCpus` or as a CFS quota over its period.
fn limits_applied(host: &Value, limits: &ContainerLimits) -> Result<(), ContainerError> {
	let reported = |field: &str| host[field].as_u64().unwrap_or(0);
	let cpu_by_quota = match reported("CpuPeriod") {
		0 => 0,
		period => reported("CpuQuota").saturating_mul(1_000_000_000) / period,
	};
	let applied = [
		("memory", reported("Memory"), limits.memory_bytes),
		("memory and swap", reported("MemorySwap"), limits.memory_bytes),
		("processes", reported("PidsLimit"), u64::from(limits.pids)),
		("CPU", reported("NanoCpus").max(cpu_by_quota), limits.nano_cpus),
	];
	match applied.iter().find(|(_, reported, asked)| reported != asked) {
		None => Ok(()),
		Some((what, reported, asked)) => Err(ContainerError::Engine(format!(
			"the engine did not apply the {what} limit (asked {asked}, has {reported}): it cannot \
			 bound a container here"
		))),
	}
}

/// Refuses an output holding anything but regular files and directories: a symlink would lead
/// whoever serves or reads the result out of it, a device or pipe would hang them.
fn check_output(dir: &Path) -> Result<(), ContainerError> {
	let refuse = |what: String| Err(ContainerError::Output(what));
	let entries = fs::read_dir(dir).map_err(|error| {
		ContainerError::Output(format!("cannot read {}: {error}", dir.display()))
	})?;
	for entry in entries {
		let entry = entry.map_err(|error| ContainerError::Output(error.to_string()))?;
		let path = entry.path();
		let kind = fs::symlink_metadata(&path)
			.map_err(|error| ContainerError::Output(error.to_string()))?
			.file_type();
		if kind.is_dir() {
			check_output(&path)?;
		} else if !kind.is_file() {
			return refuse(format!("{} is not a regular file", path.display()));
		}
	}
	Ok(())
}

/// The body of `/containers/create` for `job` run for `worker`: its image, arguments, seed,
/// labels, mounts and bounds.
fn create_body(job: &ContainerJob<'_>, worker: &str) -> Value {
	let mut binds = vec![format!("{}:{OUTPUT_DIR}:rw", job.output_dir.display())];
	if let Some(input) = job.input_dir {
		binds.push(format!("{}:{INPUT_DIR}:ro", input.display()));
	}
	let limit = |name: &str, value: u64| json!({ "Name": name, "Soft": value, "Hard": value });
	json!({
		"Image": job.image.reference(),
		"Cmd": job.args,
		"User": USER,
		"Labels": {
			TASK_LABEL: HexDisplay::from(&job.seed).to_string(),
			WORKER_LABEL: worker,
		},
		"Env": [format!("COMMONS_TASK_SEED={}", HexDisplay::from(&job.seed))],
		"NetworkDisabled": true,
		"HostConfig": {
			"NetworkMode": "none",
			"ReadonlyRootfs": true,
			"CapDrop": ["ALL"],
			"SecurityOpt": ["no-new-privileges"],
			"Binds": binds,
			"Memory": job.limits.memory_bytes,
			"MemorySwap": job.limits.memory_bytes,
			"PidsLimit": job.limits.pids,
			"NanoCpus": job.limits.nano_cpus,
			// Set, not inherited: an engine's default may exceed what it may grant. `nproc`
			// counts every process of the user on the host, so it is no bound per container
			// (`PidsLimit` is); it is set high, only so that it is within what may be granted.
			"Ulimits": [limit("nofile", 1024), limit("nproc", 16_384)],
			// Nothing kept of what it prints: an app could fill the engine's log store.
			"LogConfig": { "Type": "none" },
			// The same scratch space on every engine (Podman would add its own), in memory,
			// which its memory bound covers.
			"Tmpfs": {
				"/tmp": SCRATCH_MOUNT,
				"/var/tmp": SCRATCH_MOUNT,
				"/run": SCRATCH_MOUNT,
			},
		},
	})
}

/// `status` if it is `wanted`, else the engine's error message.
fn ensure_status(
	status: StatusCode,
	wanted: StatusCode,
	body: &[u8],
) -> Result<(), ContainerError> {
	if status == wanted {
		return Ok(());
	}
	let message = serde_json::from_slice::<Value>(body)
		.ok()
		.and_then(|body| body["message"].as_str().map(str::to_owned))
		.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
	Err(ContainerError::Engine(format!("{status}: {message}")))
}

/// `body` as JSON.
fn json_of(body: &[u8]) -> Result<Value, ContainerError> {
	serde_json::from_slice(body)
		.map_err(|error| ContainerError::Engine(format!("an answer that is not JSON: {error}")))
}

/// `text` percent-encoded for a query value: everything but unreserved characters.
fn encode_query(text: &str) -> String {
	text.bytes()
		.map(|byte| match byte {
			b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
				(byte as char).to_string()
			}
			_ => format!("%{byte:02X}"),
		})
		.collect()
}

/// `text` as a path segment of the API: the engine reads an image name with its slashes, so
/// only what would break the path is encoded.
fn encode_path(text: &str) -> String {
	text.replace('%', "%25").replace('?', "%3F").replace('#', "%23")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_container_has_no_network_a_read_only_root_and_its_bounds() {
		let image = Image::new("localhost/commons/app", [0xab; 32]).unwrap();
		let job = ContainerJob {
			image: &image,
			args: vec!["--samples".into(), "10".into()],
			input_dir: Some(Path::new("/work/in")),
			output_dir: Path::new("/work/out"),
			seed: [1; 32],
			limits: ContainerLimits {
				memory_bytes: 64 << 20,
				pids: 32,
				nano_cpus: 1_000_000_000,
				wall_time: Duration::from_secs(5),
			},
		};
		let body = create_body(&job, "5Grw");
		assert_eq!(body["Image"], format!("localhost/commons/app@sha256:{}", "ab".repeat(32)));
		assert_eq!(body["Cmd"], json!(["--samples", "10"]));
		assert_eq!(body["Env"], json!([format!("COMMONS_TASK_SEED={}", "01".repeat(32))]));
		let host = &body["HostConfig"];
		assert_eq!(
			(host["NetworkMode"].as_str(), host["ReadonlyRootfs"].as_bool()),
			(Some("none"), Some(true))
		);
		assert_eq!(host["Binds"], json!(["/work/out:/out:rw", "/work/in:/in:ro"]));
		assert_eq!(
			(host["Memory"].as_u64(), host["MemorySwap"].as_u64()),
			(Some(64 << 20), Some(64 << 20))
		);
		assert_eq!(host["PidsLimit"].as_u64(), Some(32));
		assert_eq!(
			(host["CapDrop"].clone(), host["SecurityOpt"].clone()),
			(json!(["ALL"]), json!(["no-new-privileges"]))
		);
		assert_eq!(
			(body["User"].as_str(), body["NetworkDisabled"].as_bool()),
			(Some(USER), Some(true))
		);
		assert_eq!(body["Labels"][TASK_LABEL], "01".repeat(32));
		assert_eq!(body["Labels"][WORKER_LABEL], "5Grw");
		assert_eq!(host["LogConfig"]["Type"], "none");
		for scratch in ["/tmp", "/var/tmp", "/run"] {
			assert_eq!(host["Tmpfs"][scratch], SCRATCH_MOUNT, "{scratch}");
		}
	}

	/// A container is started only if the engine reports the limits asked for: Podman, for one,
	/// may create it without a limit its cgroups cannot apply, and say nothing.
	#[test]
	fn a_limit_the_engine_did_not_apply_is_caught() {
		let limits = ContainerLimits::for_reference_time(300);
		assert_eq!(limits.wall_time, Duration::from_secs(300));
		let applied = json!({
			"Memory": limits.memory_bytes,
			"MemorySwap": limits.memory_bytes,
			"PidsLimit": limits.pids,
			"NanoCpus": 0,
			"CpuQuota": 100_000,
			"CpuPeriod": 100_000,
		});
		assert_eq!(limits_applied(&applied, &limits), Ok(()));
		for dropped in ["Memory", "MemorySwap", "PidsLimit", "CpuQuota"] {
			let mut host = applied.clone();
			host[dropped] = json!(0);
			let refused = limits_applied(&host, &limits);
			assert!(matches!(refused, Err(ContainerError::Engine(_))), "{dropped}: {refused:?}");
		}
		let by_nano = json!({
			"Memory": limits.memory_bytes,
			"MemorySwap": limits.memory_bytes,
			"PidsLimit": limits.pids,
			"NanoCpus": limits.nano_cpus,
		});
		assert_eq!(limits_applied(&by_nano, &limits), Ok(()));
	}

	#[test]
	fn an_output_of_regular_files_passes_and_a_symlink_anywhere_is_refused() {
		let out = tempfile::tempdir().unwrap();
		fs::create_dir(out.path().join("nested")).unwrap();
		fs::write(out.path().join("nested/result.json"), b"{}").unwrap();
		assert_eq!(check_output(out.path()), Ok(()));
		std::os::unix::fs::symlink("/", out.path().join("nested/root")).unwrap();
		assert!(matches!(check_output(out.path()), Err(ContainerError::Output(_))));
	}

	#[test]
	fn references_are_encoded_for_the_api() {
		assert_eq!(
			encode_query("localhost:5000/a@sha256:0f"),
			"localhost%3A5000%2Fa%40sha256%3A0f"
		);
		assert_eq!(encode_path("localhost:5000/a@sha256:0f"), "localhost:5000/a@sha256:0f");
	}
}
