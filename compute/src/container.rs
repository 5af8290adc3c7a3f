//! Running an app that is an OCI image, through a container engine's Docker-compatible API
//! (Docker Engine, or Podman's API service) on a Unix socket.
//!
//! An image is named by its repository and manifest digest (`<repository>@sha256:<hex>`), as the
//! registry records it; the engine is asked for that exact digest, pulling it if it does not hold
//! it, so no other content can run under the app's name. An image that declares volumes is
//! refused: they would be writable space outside `/out`. A task's container runs as `nobody`,
//! with no network, a read-only root filesystem, no capabilities and no new privileges; the
//! task's params are its arguments, its dataset (if any) is the read-only file `/in/dataset`, and
//! `/out` is the one directory it writes, digested as a WASI module's output is; an output
//! holding anything but regular files and directories (a symlink, a device) is refused. Memory,
//! processes, CPU and wall time are bounded, and a create the engine answers with a warning (a
//! limit it cannot apply) is refused. Every call to the engine has a deadline. The container,
//! labelled with its task, is removed afterwards: on success, failure and timeout, and when the
//! run is dropped midway (its removal is then spawned).
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

/// The label naming the task a container runs, for an operator (or a sweep) to find it.
const TASK_LABEL: &str = "commons.task";

/// A container engine reached on a Unix socket.
#[derive(Clone, Debug)]
pub struct Engine {
	socket: std::path::PathBuf,
}

/// An image, by repository and manifest digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
	repository: String,
	digest: [u8; 32],
}

impl Image {
	/// The image of `repository` (`registry/name`, as the app's URI holds it) whose manifest's
	/// sha256 is `digest`. A repository is lowercase letters, digits and `._-/:` (the reference
	/// grammar's characters, a registry's port included), without an empty or `..` component.
	pub fn new(repository: &str, digest: [u8; 32]) -> Result<Self, ContainerError> {
		let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c);
		let components_fine = repository
			.split('/')
			.all(|component| !component.is_empty() && component != "..");
		if repository.is_empty() || !repository.chars().all(allowed) || !components_fine {
			return Err(ContainerError::Image(format!("{repository:?} is not a repository")));
		}
		Ok(Self { repository: repository.to_owned(), digest })
	}

	/// The repository it is pulled from.
	pub fn repository(&self) -> &str {
		&self.repository
	}

	/// The image's reference: `<repository>@sha256:<hex>`.
	pub fn reference(&self) -> String {
		format!("{}@sha256:{}", self.repository, HexDisplay::from(&self.digest))
	}
}

/// What a container may use.
#[derive(Clone, Copy, Debug)]
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
	/// The engine serving its API on `socket`.
	pub fn new(socket: &Path) -> Self {
		Self { socket: socket.to_owned() }
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
		// The container's user writes there.
		fs::set_permissions(job.output_dir, fs::Permissions::from_mode(0o777))
			.map_err(|error| ContainerError::Output(format!("cannot open /out: {error}")))?;
		let (status, body) =
			self.call(Method::POST, "/containers/create", Some(create_body(job))).await?;
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
			// A limit the engine cannot apply is only warned of.
			false => Err(ContainerError::Engine(format!("warned: {}", warnings.join("; ")))),
			true => self.start_and_wait(&id, job.limits.wall_time).await,
		};
		let removed = removal.now().await;
		outcome.and(removed)?;
		check_output(job.output_dir)
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

/// The body of `/containers/create` for `job`: its image, arguments, seed, mounts and bounds.
fn create_body(job: &ContainerJob<'_>) -> Value {
	let mut binds = vec![format!("{}:{OUTPUT_DIR}:rw", job.output_dir.display())];
	if let Some(input) = job.input_dir {
		binds.push(format!("{}:{INPUT_DIR}:ro", input.display()));
	}
	let limit = |name: &str, value: u64| json!({ "Name": name, "Soft": value, "Hard": value });
	json!({
		"Image": job.image.reference(),
		"Cmd": job.args,
		"User": USER,
		"Labels": { TASK_LABEL: HexDisplay::from(&job.seed).to_string() },
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
		let body = create_body(&job);
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
	}

	#[test]
	fn a_repository_is_checked_before_it_reaches_the_engine() {
		for good in ["localhost:5000/commons/hello", "registry.example/a_b-c.d"] {
			assert!(Image::new(good, [0; 32]).is_ok(), "{good}");
		}
		for bad in ["", "Upper/case", "a/../b", "a//b", "a b", "a?b", "a@sha256:00", "/a"] {
			assert!(Image::new(bad, [0; 32]).is_err(), "{bad}");
		}
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
