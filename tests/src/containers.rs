//! Apps that are OCI images, with nothing from outside the machine: [`OciImage`], a one-binary
//! image put together here; [`Registry`], an OCI distribution endpoint on loopback serving
//! images by digest as a real registry does (and, to test the puller's check, bytes under a
//! digest that is not theirs); [`Podman`], a Podman API service on the test's own storage that
//! pulls from that registry over plain HTTP.

use std::{
	collections::HashMap,
	convert::Infallible,
	fs,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use http_body_util::Full;
use hyper::{body::Bytes, header, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sp_core::hexdisplay::HexDisplay;

use crate::free_port;

/// The media types of an OCI image's parts.
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// An image of one uncompressed layer, as a registry serves it: its manifest, its config and
/// its layer, each named by its sha256.
#[derive(Clone, Debug)]
pub struct OciImage {
	/// The manifest's bytes: its sha256 is the image's digest.
	pub manifest: Vec<u8>,
	/// The config (entry point, architecture, layer digests).
	pub config: Vec<u8>,
	/// The one layer, a tar of the root filesystem.
	pub layer: Vec<u8>,
}

impl OciImage {
	/// An image for this machine whose root holds `binary` as `/app`, its entry point, and the
	/// empty mount points `/in` and `/out`; put together in `work`.
	pub fn of_binary(binary: &Path, work: &Path) -> Self {
		let rootfs = work.join("rootfs");
		for dir in ["in", "out"] {
			fs::create_dir_all(rootfs.join(dir)).unwrap();
		}
		fs::copy(binary, rootfs.join("app")).unwrap();
		let packed = Command::new("tar")
			.args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0"])
			.arg("-C")
			.arg(&rootfs)
			.args(["-cf", "-", "."])
			.output()
			.expect("tar runs");
		assert!(packed.status.success(), "{}", String::from_utf8_lossy(&packed.stderr));
		let layer = packed.stdout;
		let architecture = match std::env::consts::ARCH {
			"x86_64" => "amd64",
			"aarch64" => "arm64",
			other => other,
		};
		let config = serde_json::to_vec(&json!({
			"architecture": architecture,
			"os": "linux",
			"config": { "Entrypoint": ["/app"], "WorkingDir": "/" },
			"rootfs": { "type": "layers", "diff_ids": [reference(&sha256(&layer))] },
		}))
		.unwrap();
		let manifest = serde_json::to_vec(&json!({
			"schemaVersion": 2,
			"mediaType": MANIFEST_TYPE,
			"config": { "mediaType": CONFIG_TYPE, "digest": reference(&sha256(&config)), "size": config.len() },
			"layers": [{ "mediaType": LAYER_TYPE, "digest": reference(&sha256(&layer)), "size": layer.len() }],
		}))
		.unwrap();
		Self { manifest, config, layer }
	}

	/// The image's digest: its manifest's sha256, what an app registers.
	pub fn digest(&self) -> [u8; 32] {
		sha256(&self.manifest)
	}
}

/// What a registry holds: media type and bytes, by `sha256:<hex>`.
type Contents = Arc<Mutex<HashMap<String, (&'static str, Vec<u8>)>>>;

/// An OCI distribution endpoint on 127.0.0.1 (plain HTTP), serving the manifests and blobs it
/// was given by digest, under any repository name. It stops when dropped.
pub struct Registry {
	port: u16,
	contents: Contents,
	server: tokio::task::JoinHandle<()>,
}

impl Registry {
	/// Starts an empty registry on a free port.
	pub async fn start() -> Self {
		let port = free_port();
		let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
		let contents = Contents::default();
		let served = contents.clone();
		let server = tokio::spawn(async move {
			loop {
				let Ok((socket, _)) = listener.accept().await else { continue };
				let contents = served.clone();
				let service = hyper::service::service_fn(move |request| {
					let answer = answer(&contents, &request);
					async move { Ok::<_, Infallible>(answer) }
				});
				tokio::spawn(
					hyper::server::conn::http1::Builder::new()
						.serve_connection(TokioIo::new(socket), service),
				);
			}
		});
		Self { port, contents, server }
	}

	/// Where it is reached: `127.0.0.1:<port>`, the first component of a repository on it.
	pub fn host(&self) -> String {
		format!("127.0.0.1:{}", self.port)
	}

	/// Serves `image`'s manifest, config and layer, each under its digest.
	pub fn push(&self, image: &OciImage) {
		let mut contents = self.contents.lock().unwrap();
		for (media_type, bytes) in [
			(MANIFEST_TYPE, &image.manifest),
			(CONFIG_TYPE, &image.config),
			(LAYER_TYPE, &image.layer),
		] {
			contents.insert(reference(&sha256(bytes)), (media_type, bytes.clone()));
		}
	}

	/// Serves `manifest` under `digest`, which is not its own: what a compromised registry or a
	/// man in the middle would answer for an image it wants to replace.
	pub fn serve_as(&self, digest: [u8; 32], manifest: &[u8]) {
		let mut contents = self.contents.lock().unwrap();
		contents.insert(reference(&digest), (MANIFEST_TYPE, manifest.to_vec()));
	}
}

impl Drop for Registry {
	fn drop(&mut self) {
		self.server.abort();
	}
}

/// The registry's answer to `request`: `/v2/` (the API's version check), and
/// `/v2/<name>/manifests/<digest>` or `/v2/<name>/blobs/<digest>` from `contents`.
fn answer<B>(contents: &Contents, request: &Request<B>) -> Response<Full<Bytes>> {
	let path = request.uri().path();
	if path == "/v2/" {
		return Response::builder()
			.header("Docker-Distribution-API-Version", "registry/2.0")
			.body(Full::new(Bytes::new()))
			.unwrap();
	}
	let wanted = path
		.strip_prefix("/v2/")
		.and_then(|rest| rest.rsplit_once("/manifests/").or_else(|| rest.rsplit_once("/blobs/")))
		.map(|(_, digest)| digest.to_owned());
	let found = wanted.and_then(|digest| {
		let held = contents.lock().unwrap().get(&digest).cloned();
		held.map(|(media_type, bytes)| (digest, media_type, bytes))
	});
	match found {
		Some((digest, media_type, bytes)) => Response::builder()
			.header(header::CONTENT_TYPE, media_type)
			.header("Docker-Content-Digest", digest)
			.body(Full::new(Bytes::from(bytes)))
			.unwrap(),
		None => Response::builder()
			.status(StatusCode::NOT_FOUND)
			.header(header::CONTENT_TYPE, "application/json")
			.body(Full::new(Bytes::from_static(
				br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"not held here"}]}"#,
			)))
			.unwrap(),
	}
}

/// A Podman API service on storage of its own under a test's directory, on the runc runtime
/// (crun refuses the hybrid cgroup layout some hosts have), pulling from a [`Registry`] over
/// plain HTTP. It is stopped when dropped.
pub struct Podman {
	dir: PathBuf,
	/// Its run root: short, as Podman wants it (at most 50 bytes).
	run_root: tempfile::TempDir,
	service: Child,
}

impl Podman {
	/// Starts the service in `dir`, trusting `registry`, and waits until its socket is there.
	pub fn start(dir: &Path, registry: &Registry) -> Self {
		fs::create_dir_all(dir).unwrap();
		let registries = format!(
			"unqualified-search-registries = []\n\n[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
			registry.host()
		);
		fs::write(dir.join("registries.conf"), registries).unwrap();
		let log = fs::File::create(dir.join("podman.log")).unwrap();
		let socket = dir.join("podman.sock");
		let run_root = tempfile::Builder::new().prefix("podman").tempdir_in("/tmp").unwrap();
		let service = Self::command_in(dir, run_root.path())
			.args(["system", "service", "--time=0"])
			.arg(format!("unix://{}", socket.display()))
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("podman is installed (scripts/setup.sh installs it)");
		let started = Instant::now();
		while !socket.exists() {
			assert!(
				started.elapsed() < Duration::from_secs(30),
				"podman's API never came up: see {}",
				dir.join("podman.log").display()
			);
			std::thread::sleep(Duration::from_millis(100));
		}
		Self { dir: dir.to_owned(), run_root, service }
	}

	/// Podman's command line on this instance's storage and registry configuration.
	fn command_in(dir: &Path, run_root: &Path) -> Command {
		let mut command = Command::new("podman");
		command
			.env("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf"))
			.arg("--root")
			.arg(dir.join("storage"))
			.arg("--runroot")
			.arg(run_root)
			.args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"]);
		command
	}

	/// Podman's command line on this instance, for a test to run.
	pub fn command(&self) -> Command {
		Self::command_in(&self.dir, self.run_root.path())
	}

	/// The socket its Docker-compatible API is served on.
	pub fn socket(&self) -> PathBuf {
		self.dir.join("podman.sock")
	}

	/// How many containers it holds, running or not.
	pub fn containers(&self) -> usize {
		let listed = self.command().args(["ps", "-a", "-q"]).output().unwrap();
		String::from_utf8(listed.stdout).unwrap().lines().count()
	}

	/// How many images it holds.
	pub fn images(&self) -> usize {
		let listed = self.command().args(["images", "-q"]).output().unwrap();
		String::from_utf8(listed.stdout).unwrap().lines().count()
	}
}

impl Drop for Podman {
	fn drop(&mut self) {
		// Asked to stop, the service cleans up its containers.
		let _ = Command::new("kill").arg(self.service.id().to_string()).status();
		let _ = self.service.wait();
		// Its storage driver leaves its own mounts, which would keep the directory from being
		// removed: the deepest first.
		let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
		let mut ours: Vec<&str> = mounts
			.lines()
			.filter_map(|line| line.split(' ').nth(1))
			.filter(|mount| Path::new(mount).starts_with(&self.dir))
			.collect();
		ours.sort_by_key(|mount| std::cmp::Reverse(mount.len()));
		for mount in ours {
			let _ = Command::new("umount").arg(mount).status();
		}
	}
}

/// The sha256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
	Sha256::digest(bytes).into()
}

/// `digest` as the distribution API names it: `sha256:<hex>`.
fn reference(digest: &[u8; 32]) -> String {
	format!("sha256:{}", HexDisplay::from(digest))
}
