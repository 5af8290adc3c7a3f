//! An example app built as a static Linux binary, in an image made by this test (no outside
//! registry), run by the compute node's container runner through a Podman API service this test
//! starts on its own storage: its output, digested as a WASI module's is, matches the same app's
//! run as a module; a digest the engine does not hold and cannot pull is refused without running;
//! a failing, or overlong, container fails its run cleanly and is removed.

use std::{
	fs,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use commons_compute::{
	container::{ContainerError, ContainerJob, ContainerLimits, Engine, Image},
	digest, example_apps, run_task, Limits, TaskInputs,
};

/// A Podman API service on its own storage, stopped when dropped.
struct Podman {
	dir: tempfile::TempDir,
	service: Child,
}

impl Podman {
	/// Podman's command with this instance's storage, on the runc runtime (crun refuses the
	/// hybrid cgroup layout some hosts have).
	fn command(dir: &Path) -> Command {
		let mut command = Command::new("podman");
		command
			.arg("--root")
			.arg(dir.join("storage"))
			.arg("--runroot")
			.arg(dir.join("run"))
			.args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"]);
		command
	}

	fn start() -> Self {
		let dir = tempfile::tempdir().unwrap();
		let socket = dir.path().join("podman.sock");
		let service = Self::command(dir.path())
			.args(["system", "service", "--time=0"])
			.arg(format!("unix://{}", socket.display()))
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.expect("podman is installed (scripts/setup.sh installs it)");
		let started = Instant::now();
		while !socket.exists() {
			assert!(started.elapsed() < Duration::from_secs(30), "podman's API never came up");
			std::thread::sleep(Duration::from_millis(100));
		}
		Self { dir, service }
	}

	fn engine(&self) -> Engine {
		Engine::new(&self.dir.path().join("podman.sock"))
	}

	/// Makes an image of `binary` as `/app`, its entry point, and returns it by digest.
	fn image_of(&self, binary: &Path, name: &str) -> Image {
		let rootfs = self.dir.path().join("rootfs");
		for dir in ["in", "out"] {
			fs::create_dir_all(rootfs.join(dir)).unwrap();
		}
		fs::copy(binary, rootfs.join("app")).unwrap();
		let tar = self.dir.path().join("rootfs.tar");
		let packed = Command::new("tar")
			.arg("-C")
			.arg(&rootfs)
			.arg("-cf")
			.arg(&tar)
			.arg(".")
			.status()
			.unwrap();
		assert!(packed.success());
		let imported = Self::command(self.dir.path())
			.args(["import", "--change", r#"ENTRYPOINT ["/app"]"#])
			.arg(&tar)
			.arg(name)
			.output()
			.unwrap();
		assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
		let inspected = Self::command(self.dir.path())
			.args(["image", "inspect", "--format", "{{.Digest}}", name])
			.output()
			.unwrap();
		let digest = String::from_utf8(inspected.stdout).unwrap();
		let hex = digest.trim().strip_prefix("sha256:").expect("a sha256 digest");
		let digest = sp_core::bytes::from_hex(hex).unwrap().try_into().unwrap();
		let repository = name.split(':').next().unwrap().to_owned();
		Image::new(&repository, digest).unwrap()
	}

	/// How many containers the engine holds, running or not.
	fn containers(&self) -> usize {
		let listed = Self::command(self.dir.path()).args(["ps", "-a", "-q"]).output().unwrap();
		String::from_utf8(listed.stdout).unwrap().lines().count()
	}
}

impl Drop for Podman {
	fn drop(&mut self) {
		let _ = self.service.kill();
		let _ = self.service.wait();
	}
}

/// The example app `app` built for this machine as a static binary.
fn native_app(app: &str) -> PathBuf {
	let target_triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
	let target = example_apps::default_target_dir().with_file_name("native-apps");
	let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps").join(app).join("Cargo.toml");
	let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
	let built = Command::new(cargo)
		.args(["build", "--release", "--locked", "--target", &target_triple])
		.arg("--manifest-path")
		.arg(manifest)
		.arg("--target-dir")
		.arg(&target)
		.env("RUSTFLAGS", "-C target-feature=+crt-static")
		.status()
		.unwrap();
	assert!(built.success(), "building {app} natively");
	target.join(&target_triple).join("release").join(app)
}

const LIMITS: ContainerLimits = ContainerLimits {
	memory_bytes: 64 << 20,
	pids: 32,
	nano_cpus: 1_000_000_000,
	wall_time: Duration::from_secs(20),
};

/// A job of `image` with `params` writing into `out`.
fn job<'a>(
	image: &'a Image,
	params: &str,
	out: &'a Path,
	limits: ContainerLimits,
) -> ContainerJob<'a> {
	ContainerJob {
		image,
		args: params.split_whitespace().map(str::to_owned).collect(),
		input_dir: None,
		output_dir: out,
		seed: [7; 32],
		limits,
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_runs_in_a_container_as_its_module_runs_under_wasmtime() {
	let podman = Podman::start();
	let engine = podman.engine();
	engine.version().await.expect("the engine answers");
	let image = podman.image_of(&native_app("monte-carlo"), "localhost/commons/monte-carlo:test");
	let params = "--samples 200000 --seed 7";

	let out = tempfile::tempdir().unwrap();
	engine.run(&job(&image, params, out.path(), LIMITS)).await.expect("runs");
	let container_digest = digest(out.path()).expect("an output");
	assert_eq!(podman.containers(), 0, "removed after its run");

	// The same app as a WASI module, same params: the same bytes out.
	let modules = example_apps::build(&example_apps::default_target_dir()).unwrap();
	let module = fs::read(modules.join("monte-carlo.wasm")).unwrap();
	// wasmtime's WASI blocks on a runtime of its own: run it off this one.
	let module_digest = tokio::task::spawn_blocking(move || {
		let dir = tempfile::tempdir().unwrap();
		let limits = Limits { fuel: 2_000_000_000, memory_bytes: 64 << 20 };
		let task = TaskInputs {
			module: &module,
			params: params.as_bytes(),
			dataset: None,
			seed: [7; 32],
			limits,
		};
		run_task(&task, &dir.path().join("in"), &dir.path().join("out"))
			.expect("runs")
			.1
	})
	.await
	.unwrap();
	assert_eq!(module_digest.0, container_digest, "the container's output is the module's");

	// A digest the engine does not hold, and no registry serves: refused, nothing run.
	let other = Image::new(image.repository(), [0x5a; 32]).unwrap();
	let out = tempfile::tempdir().unwrap();
	let refused = engine.run(&job(&other, params, out.path(), LIMITS)).await;
	assert!(matches!(refused, Err(ContainerError::Image(_))), "{refused:?}");
	assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0, "nothing ran");
	assert_eq!(podman.containers(), 0);

	// A failing app: its exit status, and the container removed.
	let out = tempfile::tempdir().unwrap();
	let failed = engine.run(&job(&image, "--samples 10", out.path(), LIMITS)).await;
	assert_eq!(failed, Err(ContainerError::Exit(2)), "no --seed");
	assert_eq!(podman.containers(), 0);

	// An app that runs past its wall time: killed, and removed.
	let out = tempfile::tempdir().unwrap();
	let short = ContainerLimits { wall_time: Duration::from_secs(2), ..LIMITS };
	let started = Instant::now();
	let endless = engine
		.run(&job(&image, "--samples 100000000000 --seed 7", out.path(), short))
		.await;
	assert_eq!(endless, Err(ContainerError::Timeout));
	assert!(started.elapsed() < Duration::from_secs(30), "stopped at its wall time");
	assert_eq!(podman.containers(), 0, "removed after its timeout");
}
