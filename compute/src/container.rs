//! Running an app that is an OCI image, through a container engine's Docker-compatible API
//! (Docker Engine, or Podman's API service) on a Unix socket.
//!
//! An image is named by its repository and manifest digest (`<repository>@sha256:<hex>`), as the
//! registry records it; the engine is asked for that exact digest, pulling it if it does not hold
//! it, so no other content can run under the app's name. A task's container has no network, a
//! read-only root filesystem, no capabilities and no new privileges; the task's params are its
//! arguments, its dataset (if any) is the read-only file `/in/dataset`, and `/out` is the one
//! directory it writes, digested as a WASI module's output is. Memory, processes, CPU and wall
//! time are bounded. The container is removed afterwards, whatever happened.
//!
//! Determinism is the image's promise: the engine does not make a container replayable the way
//! wasmtime makes a module (clocks, randomness and scheduling are the host's). The task id is
//! passed as `COMMONS_TASK_SEED` (hex) for an app to seed its randomness with; an app that reads
//! the clock or unseeded randomness should run at trust 1.

use std::{path::Path, time::Duration};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::UnixStream;

/// The API version asked for: Docker Engine 20.10's, which Podman 4 serves too.
const API: &str = "/v1.41";

/// Where a container finds its dataset and leaves its output.
const INPUT_DIR: &str = "/in";
const OUTPUT_DIR: &str = "/out";

/// A container engine reached on a Unix socket.
#[derive(Clone, Debug)]
pub struct Engine {
	socket: std::path::PathBuf,
}

/// An image, by repository and manifest digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
	/// Where it is pulled from: `registry/name`.
	pub repository: String,
	/// The sha256 of its manifest.
	pub digest: [u8; 32],
}

impl Image {
	/// The image's reference: `<repository>@sha256:<hex>`.
	pub fn reference(&self) -> String {
		format!("{}@sha256:{}", self.repository, hex(&self.digest))
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
}

impl std::fmt::Display for ContainerError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			ContainerError::Engine(message) => write!(f, "container engine: {message}"),
			ContainerError::Image(message) => write!(f, "image: {message}"),
			ContainerError::Exit(status) => write!(f, "the container exited with status {status}"),
			ContainerError::OutOfMemory => f.write_str("the container exceeded its memory"),
			ContainerError::Timeout => f.write_str("the container exceeded its wall time"),
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
		expect(status, StatusCode::OK, &body)?;
		Ok(json_of(&body)?["Version"].as_str().unwrap_or("unknown").to_owned())
	}

	/// Makes sure the engine holds `image` by its digest: pulls it unless it does already.
	pub async fn ensure_image(&self, image: &Image) -> Result<(), ContainerError> {
		if self.holds(image).await? {
			return Ok(());
		}
		let path = format!("/images/create?fromImage={}", encode_query(&image.reference()));
		let (status, body) = self.call(Method::POST, &path, None).await?;
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
		expect(status, StatusCode::OK, &body)?;
		let wanted = format!("@sha256:{}", hex(&image.digest));
		let digests = json_of(&body)?["RepoDigests"].as_array().cloned().unwrap_or_default();
		Ok(digests.iter().filter_map(Value::as_str).any(|digest| digest.ends_with(&wanted)))
	}

	/// Runs `job` to its end and removes its container, whatever happened.
	pub async fn run(&self, job: &ContainerJob<'_>) -> Result<(), ContainerError> {
		self.ensure_image(job.image).await?;
		let (status, body) =
			self.call(Method::POST, "/containers/create", Some(create_body(job))).await?;
		expect(status, StatusCode::CREATED, &body)?;
		let id = json_of(&body)?["Id"]
			.as_str()
			.ok_or_else(|| ContainerError::Engine("a container without an id".into()))?
			.to_owned();
		let outcome = self.start_and_wait(&id, job.limits.wall_time).await;
		let removed = self.remove(&id).await;
		outcome.and(removed)
	}

	/// Starts container `id` and waits for its exit, killing it after `wall_time`.
	async fn start_and_wait(&self, id: &str, wall_time: Duration) -> Result<(), ContainerError> {
		let (status, body) =
			self.call(Method::POST, &format!("/containers/{id}/start"), None).await?;
		expect(status, StatusCode::NO_CONTENT, &body)?;
		let wait_path = format!("/containers/{id}/wait");
		let wait = self.call(Method::POST, &wait_path, None);
		let (status, body) = match tokio::time::timeout(wall_time, wait).await {
			Ok(answer) => answer?,
			Err(_) => {
				let _ = self.call(Method::POST, &format!("/containers/{id}/kill"), None).await;
				return Err(ContainerError::Timeout);
			}
		};
		expect(status, StatusCode::OK, &body)?;
		let exit = json_of(&body)?["StatusCode"].as_i64().unwrap_or(-1);
		if exit == 0 {
			return Ok(());
		}
		let (status, body) =
			self.call(Method::GET, &format!("/containers/{id}/json"), None).await?;
		expect(status, StatusCode::OK, &body)?;
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
			_ => expect(status, StatusCode::NO_CONTENT, &body),
		}
	}

	/// One request to the engine, on a connection of its own: the status and the whole body.
	async fn call(
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
		let body = response
			.into_body()
			.collect()
			.await
			.map_err(|error| engine("answer cut short", &error))?
			.to_bytes();
		connection.abort();
		Ok((status, body))
	}
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
		"Env": [format!("COMMONS_TASK_SEED={}", hex(&job.seed))],
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
			// Set, not inherited: an engine's default may exceed what it may grant.
			"Ulimits": [limit("nofile", 1024), limit("nproc", u64::from(job.limits.pids))],
		},
	})
}

/// `status` if it is `wanted`, else the engine's error message.
fn expect(status: StatusCode, wanted: StatusCode, body: &[u8]) -> Result<(), ContainerError> {
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

/// `bytes` as lowercase hex.
fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
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
		let image = Image { repository: "localhost/commons/app".into(), digest: [0xab; 32] };
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
