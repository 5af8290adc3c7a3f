//! Apps that are OCI images, end to end, with nothing from outside the machine: the monte-carlo
//! example built as a static binary, put in an image here and served by digest from a registry
//! on loopback; a Podman API service (on the test's own storage) pulls it for the compute nodes.
//!
//! - [`the_runner_pulls_by_digest_runs_bounded_and_cleans_up`]: the compute node's container
//!   runner alone: the image pulled by its digest runs and leaves the same output as the app's
//!   WASI module; an image the registry does not hold, or whose bytes are not those of the digest
//!   asked for, is refused with nothing run; a failing container and one past its wall time fail
//!   cleanly; every container is removed.
//! - [`two_compute_nodes_run_an_image_and_agree`]: on a development chain, Alice sells the image
//!   as an app and Charlie's pool sells container tasks. A compute node whose engine does not
//!   answer does not start; two with the engine do, the first removing the container a killed
//!   run of its worker left (not another worker's), and join announcing `container`. Bob's
//!   replicated task is computed by both, who agree on the module's digest; a task of an app
//!   registered with a digest the registry cannot honestly serve fails at both, and nothing runs.
//!   A node started again without the engine, its membership announcing containers, would not
//!   start.

use std::{path::Path, process::Command, time::Duration};

use commons_compute::{
	container::{ContainerError, ContainerJob, ContainerLimits, Engine, Image},
	digest, example_apps, Limits,
};
use commons_e2e::{
	chain::{deal_since, pool_members},
	cli,
	cli::created_id,
	commons,
	compute::digest_here,
	compute_binary,
	containers::{OciImage, Podman, Registry},
	exclusive_network, insert_key, suri, wait_for, ComputeNode, RunRequest,
	TaskCounter::{Contributed, Executed, Failed, Revealed},
	TestDir, TestNode,
};
use commons_runtime::{Hash, Runtime};
use pallet_marketplace::{tag, AppId, WorkerpoolId};
use sp_core::hexdisplay::HexDisplay;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};

/// The monte-carlo app's arguments in every run here.
const PARAMS: &str = "--samples 200000 --seed 7";

/// Generous bounds for the runner's own test.
const LIMITS: ContainerLimits = ContainerLimits {
	memory_bytes: 64 << 20,
	pids: 32,
	nano_cpus: 1_000_000_000,
	wall_time: Duration::from_secs(20),
};

/// The monte-carlo example as a static binary, in an image.
fn monte_carlo_image(work: &Path) -> OciImage {
	let binary =
		example_apps::build_native("monte-carlo", &example_apps::default_native_target_dir())
			.expect("the example builds natively");
	OciImage::of_binary(&binary, work)
}

/// The monte-carlo module's digest for `params` and `seed`, as every WASI worker computes it.
async fn module_digest(params: &str, seed: [u8; 32], reference_time_secs: u32) -> Hash {
	let modules = example_apps::build(&example_apps::default_target_dir()).expect("apps build");
	let module = std::fs::read(modules.join("monte-carlo.wasm")).unwrap();
	let limits = Limits::for_reference_time(reference_time_secs);
	digest_here(module, params.as_bytes().to_vec(), None, seed.into(), limits).await
}

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
async fn the_runner_pulls_by_digest_runs_bounded_and_cleans_up() {
	let dir = TestDir::new("container-runner");
	let image = monte_carlo_image(&dir.process_dir("image"));
	let registry = Registry::start().await;
	registry.push(&image);
	let podman = Podman::start(&dir.process_dir("podman"), &registry);
	let engine = Engine::new(&podman.socket(), "worker-1");
	engine.version().await.expect("the engine answers");
	let repository = format!("{}/commons/monte-carlo", registry.host());
	let pulled = Image::new(&repository, image.digest()).unwrap();

	// Pulled by its digest, it computes what the module computes.
	let out = dir.process_dir("out-1");
	engine.run(&job(&pulled, PARAMS, &out, LIMITS)).await.expect("runs");
	let container_digest = Hash::from(digest(&out).expect("an output"));
	assert_eq!(container_digest, module_digest(PARAMS, [7; 32], 300).await);
	assert_eq!(podman.containers(), 0, "removed after its run");
	assert_eq!(podman.images(), 1);

	// A digest the registry does not hold, and one under which it answers with another image's
	// manifest (as a compromised registry would): both refused, nothing run or kept.
	let unknown = Image::new(&repository, [0x11; 32]).unwrap();
	let substituted = Image::new(&repository, [0x5a; 32]).unwrap();
	registry.serve_as([0x5a; 32], &image.manifest);
	for (name, refused_image) in [("unknown", &unknown), ("substituted", &substituted)] {
		let out = dir.process_dir(&format!("out-{name}"));
		let refused = engine.run(&job(refused_image, PARAMS, &out, LIMITS)).await;
		assert!(matches!(refused, Err(ContainerError::Image(_))), "{refused:?}");
		assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing ran");
	}
	assert_eq!((podman.containers(), podman.images()), (0, 1), "nothing else was pulled");

	// A failing app: its exit status, and the container removed.
	let out = dir.process_dir("out-failing");
	let failed = engine.run(&job(&pulled, "--samples 10", &out, LIMITS)).await;
	assert_eq!(failed, Err(ContainerError::Exit(2)), "no --seed");
	assert_eq!(podman.containers(), 0);

	// An app that runs past its wall time: killed, and removed.
	let out = dir.process_dir("out-endless");
	let short = ContainerLimits { wall_time: Duration::from_secs(2), ..LIMITS };
	let started = std::time::Instant::now();
	let endless = engine.run(&job(&pulled, "--samples 100000000000 --seed 7", &out, short)).await;
	assert_eq!(endless, Err(ContainerError::Timeout));
	assert!(started.elapsed() < Duration::from_secs(30), "stopped at its wall time");
	assert_eq!(podman.containers(), 0, "removed after its timeout");
}

/// Charlie's pool, scheduled by Ferdie's key in Alice's node.
const POOL: WorkerpoolId = 0;
/// The image of monte-carlo, Alice's first app.
const IMAGE_APP: AppId = 0;
/// An app whose digest the registry answers with another image's manifest.
const SUBSTITUTED_APP: AppId = 1;
/// Category 0 of a development chain, XS: reference time 300 s.
const CATEGORY_SECS: u32 = 300;

#[tokio::test(flavor = "multi_thread")]
async fn two_compute_nodes_run_an_image_and_agree() {
	let _network = exclusive_network();
	let dir = TestDir::new("container-apps");
	let image = monte_carlo_image(&dir.process_dir("image"));
	let registry = Registry::start().await;
	registry.push(&image);
	registry.serve_as([0x5a; 32], &image.manifest);
	let podman = Podman::start(&dir.process_dir("podman"), &registry);
	let repository = format!("{}/commons/monte-carlo", registry.host());

	insert_key(&dir, "alice", "dev", "schd", &suri(Ferdie));
	let node = TestNode::start(&dir, "alice", &["--dev"]);
	node.wait_until_serving().await;

	// Alice sells the image, by its digest, and (by mistake or malice) a second app naming a
	// digest the registry cannot honestly serve.
	for (name, digest) in [("monte-carlo", image.digest()), ("substituted", [0x5a; 32])] {
		let reference = format!("{repository}@sha256:{}", HexDisplay::from(&digest));
		let created =
			commons(&node, Alice, &["create-app", "--name", name, "--image", &reference]).await;
		let app = created_id(&created, "app").to_string();
		commons(
			&node,
			Alice,
			&["publish-app-order", "--app", &app, "--price", "1", "--volume", "10"],
		)
		.await;
	}
	let shown: serde_json::Value = serde_json::from_str(
		&commons(&node, Bob, &["--json", "app", &IMAGE_APP.to_string()]).await,
	)
	.unwrap();
	assert_eq!(shown["kind"], "oci", "{shown}");

	// Charlie's pool sells container tasks; two compute nodes with the engine join it.
	let ferdie = Ferdie.to_account_id().to_string();
	let create = ["create-workerpool", "--description", "containers", "--scheduler", &ferdie];
	assert_eq!(created_id(&commons(&node, Charlie, &create).await, "workerpool"), POOL);
	let pool = POOL.to_string();
	commons(&node, Ferdie, &["accept-scheduling", "--workerpool", &pool]).await;
	let container = tag::CONTAINER.to_string();
	let order = [
		"publish-workerpool-order",
		"--workerpool",
		&pool,
		"--category",
		"0",
		"--trust",
		"4",
		"--price",
		"1",
		"--volume",
		"10",
		"--tag",
		&container,
	];
	commons(&node, Charlie, &order).await;
	let socket = podman.socket().display().to_string();
	let engine = ["--container-engine", socket.as_str()];

	// A node whose engine does not answer does not start, and its dry run says why. The dry
	// run leaves no trace: the work directory it would use is not created.
	let missing = dir.path().join("no-engine.sock").display().to_string();
	let work_dir = dir.path().join("dry-run");
	let dry_run = compute_command(&node, Dave, &work_dir)
		.args(["--container-engine", &missing, "--dry-run"])
		.output()
		.unwrap();
	let said = String::from_utf8_lossy(&dry_run.stdout);
	assert!(!dry_run.status.success(), "{said}");
	assert!(said.contains("NOT READY: container engine at"), "{said}");
	assert!(said.contains("does not exist yet: created on start"), "{said}");
	assert!(!work_dir.exists(), "the dry run created {}", work_dir.display());
	let started = compute_command(&node, Dave, &dir.process_dir("no-engine"))
		.args(["--container-engine", &missing])
		.output()
		.unwrap();
	let said = String::from_utf8_lossy(&started.stderr);
	assert!(!started.status.success(), "{said}");
	assert!(said.contains("does not answer"), "{said}");
	assert_eq!(pool_members(&node, POOL).await.unwrap(), 0, "it joined nothing");

	// A container a killed node of Dave's left in the engine is removed when his node starts;
	// another worker's is not.
	let image_reference = format!("{repository}@sha256:{}", HexDisplay::from(&image.digest()));
	for worker in [Dave.to_account_id().to_string(), "someone-else".into()] {
		let created = podman
			.command()
			.args(["create", "--label", &format!("commons.worker={worker}"), &image_reference])
			.output()
			.unwrap();
		assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
	}
	assert_eq!(podman.containers(), 2);

	let dave = ComputeNode::start(&dir, "compute-dave", &node, &suri(Dave), POOL, &engine);
	let eve = ComputeNode::start(&dir, "compute-eve", &node, &suri(Eve), POOL, &engine);
	wait_for("both compute nodes to join", Duration::from_secs(60), || async {
		match pool_members(&node, POOL).await? {
			2 => Ok(()),
			other => Err(format!("{other} members")),
		}
	})
	.await;
	assert_eq!(podman.containers(), 1, "Dave's leftover swept, the other left alone");
	let remove = podman.command().args(["rm", "--all", "--force"]).output().unwrap();
	assert!(remove.status.success());
	let workers: serde_json::Value = serde_json::from_str(
		&commons(&node, Bob, &["--json", "workers", "--workerpool", &pool]).await,
	)
	.unwrap();
	let workers = workers.as_array().unwrap();
	assert_eq!(workers.len(), 2, "{workers:?}");
	for worker in workers {
		assert_eq!(worker["capabilities"], "container", "{worker}");
	}

	// Bob's replicated task (trust 4 asks two fresh workers to agree): both run the image, and
	// the result is what the module computes.
	let output = dir.path().join("result");
	let request = RunRequest::new(IMAGE_APP, "5", &output)
		.trust(4)
		.params(PARAMS)
		.timeout_secs(600);
	let from = node.best_number().await.unwrap();
	commons(&node, Bob, &request.args()).await;
	let deal = deal_since(&node, from).await;
	let task = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	let expected = module_digest(PARAMS, task.0, CATEGORY_SECS).await;
	assert_eq!(Hash::from(digest(&output).expect("a result")), expected);
	let shown: serde_json::Value =
		serde_json::from_str(&commons(&node, Bob, &["--json", "task", &format!("{task:?}")]).await)
			.unwrap();
	assert_eq!(shown["status"], "Completed", "{shown}");
	assert_eq!((shown["winners"].clone(), shown["reveals"].clone()), (2.into(), 2.into()));
	assert_eq!(shown["result_digest"], format!("{expected:?}"));
	for compute in [&dave, &eve] {
		for counter in [Executed, Contributed, Revealed] {
			assert_eq!(compute.count(counter).unwrap(), 1, "{}: {counter:?}", compute.name);
		}
		assert_eq!(compute.count(Failed).unwrap(), 0, "{}", compute.name);
	}
	assert_eq!(podman.containers(), 0, "both containers removed");

	// The substituted app: the pull is refused at both nodes, nothing runs, no vote is cast.
	let output = dir.path().join("substituted");
	let request = RunRequest::new(SUBSTITUTED_APP, "5", &output)
		.trust(4)
		.params(PARAMS)
		.timeout_secs(60);
	let error = cli(&node, &suri(Bob), &request.args()).await.expect_err("no result can come");
	assert!(error.contains("no result within"), "{error}");
	for compute in [&dave, &eve] {
		wait_for(
			&format!("{} to fail the task", compute.name),
			Duration::from_secs(60),
			|| async {
				match compute.count(Failed)? {
					0 => Err("no failure yet".to_string()),
					_ => Ok(()),
				}
			},
		)
		.await;
		assert_eq!(compute.count(Executed).unwrap(), 1, "{}", compute.name);
		assert_eq!(compute.count(Contributed).unwrap(), 1, "{}", compute.name);
	}
	assert_eq!((podman.containers(), podman.images()), (0, 1));

	// Dave's node started again without the engine would be assigned images it cannot run:
	// it does not start, and its dry run says why.
	let dry_run = compute_command(&node, Dave, &dave.work_dir).arg("--dry-run").output().unwrap();
	let said = String::from_utf8_lossy(&dry_run.stdout);
	assert!(!dry_run.status.success(), "{said}");
	assert!(said.contains("NOT READY") && said.contains("with the capabilities 512"), "{said}");
}

/// `commons-compute` for `worker`'s key in `work_dir`, following `node` and joining the pool.
fn compute_command(node: &TestNode, worker: Sr25519Keyring, work_dir: &Path) -> Command {
	let mut command = Command::new(compute_binary());
	command
		.args(["--rpc", &node.rpc_url(), "--key", &suri(worker), "--workerpool"])
		.arg(POOL.to_string())
		.arg("--work-dir")
		.arg(work_dir);
	command
}
