//! A market on a real local network: two validators (Alice's node also holds the workerpool's
//! scheduler key, so its off-chain worker schedules), three compute nodes, and every provider and
//! requester action taken with the `commons` command line.
//!
//! One network plays the whole story ([`Market::open`], then one function per phase, in order):
//! 1. [`phase_order_book`]: the chain's order book lists the published offers, cheapest first,
//!    and `commons orders --json` prints them;
//! 2. [`phase_unservable_requests`]: requests that cannot be served fail with a clear error (no
//!    compatible offer, no funds);
//! 3. [`phase_warm_up`]: a warm-up deal of replicated tasks builds the two honest workers' scores
//!    (and measures throughput);
//! 4. [`phase_command_line_shows_the_market`]: `commons --json` shows the app, the pool, its
//!    workers and their scores, the categories, the warm-up's deal and task, downloads the
//!    task's result again and cancels an order by its hash;
//! 5. [`phase_third_node_joins`]: a third compute node joins the pool;
//! 6. [`phase_crash_between_vote_and_reveal`]: a node that crashes between its vote and its
//!    reveal restarts and reveals, voting once;
//! 7. [`phase_stopped_between_vote_and_reveal`]: a node stopped with SIGTERM after its vote exits
//!    cleanly, and once restarted reveals, voting once;
//! 8. [`phase_cheater`]: the third node comes back as a cheater: it is outvoted on a replicated
//!    task, its stake is seized, and every account's balance moves exactly as the protocol's
//!    formulas say;
//! 9. [`phase_confidential_app`]: a confidential app that allows only the simulated SGX enclave's
//!    measurement runs on the one compute node in TEE mode (Eve's), which signs its result with
//!    its enclave key and serves it only sealed to the key Bob registered (`commons result-key`);
//! 10. [`phase_confidential_dataset`]: an encrypted dataset's key reaches that enclave, sealed,
//!     from its owner's key service (`commons key-service`, restarted while the enclave waits),
//!     the enclave computes on the decrypted data and serves the result sealed to Bob, who alone
//!     opens it; a requester without a result key cannot buy the data;
//! 11. [`phase_dead_workers_replaced`]: both honest compute nodes are killed: the scheduler
//!     assigns a task to each of them in turn (they still look alive), one reference time apart,
//!     then to the third node, which completes it; that last assignment takes the place of the
//!     worker silent for 2T, and a third of its score;
//! 12. [`phase_dead_workers_return`]: the restarted nodes do not contribute to it late, and the
//!     expelled one joins its pool again;
//! 13. [`phase_everything_decodes_from_metadata_alone`]: every value the Commons pallets store,
//!     and what every method of their runtime APIs answers, decodes by the chain's metadata
//!     alone, as the ecosystem's clients read it.
//!
//! What the compute nodes did is read from the chain's events and from their Prometheus counters,
//! not from their logs; the few exceptions say why where they are.

use std::{
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use commons_client::{confidential::SEALED_RESULT_FILE, digest::files, fetch::fetch_result};
use commons_compute::{digest, example_apps, tee::simulated_measurement, Limits};
use commons_e2e::{
	allow_simulated_confidential,
	chain::{
		self, best_block, deal_since, events_between, fees_paid, free_at, kitty_at, only_task,
		picked_events, pool_members, pool_of, score, wait_for_event,
	},
	cli,
	cli::{created_id, measurement_arg},
	commons, commons_json,
	compute::digest_here,
	exclusive_network, insert_key, local_spec_with_validators,
	metadata::{self, MetadataOnly},
	start_validators, suri, wait_for, ComputeNode, KeyService, RunRequest,
	TaskCounter::{Contributed, Executed, Failed, Received, Resubmitted, Revealed},
	TestDir, TestNode,
};
use commons_runtime::{
	AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall, RuntimeEvent, CMN,
};
use pallet_attestation::TeeKind;
use pallet_contribution::{Task, TaskId, TaskStatus};
use pallet_marketplace::{
	AppId, BookCursor, CategoryId, DatasetId, DealId, Market as BookMarket, Tag, WorkerpoolId,
};
use sp_keyring::{
	Ed25519Keyring as Ed25519,
	Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie, FerdieStash},
};
use sp_runtime::Percent;

/// The monte-carlo app's arguments in every request of it.
const PARAMS: &str = "--samples 50000 --seed 42";
/// The test category's reference time T: short, so that silent workers are replaced quickly.
const REFERENCE_TIME_SECS: u32 = 30;
const APP_PRICE: Balance = CMN;
const POOL_PRICE: Balance = 10 * CMN;
const WORKER_STAKE: Percent = Percent::from_percent(35);
/// The pool owner's share of the workers' reward.
const POOL_OWNER_REWARD: Percent = Percent::from_percent(5);
/// The tags of a task for an SGX enclave.
const TEE_SGX: Tag = pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX;
/// Replicated tasks in the warm-up: 15 wins give a score of 15, a vote weight of 4.
const WARM_UP_TASKS: u32 = 15;
/// The only workerpool of the test, Charlie's.
const POOL: WorkerpoolId = 0;
/// The monte-carlo app, the first one registered.
const MONTE_CARLO: AppId = 0;

#[tokio::test]
async fn a_local_market_serves_requests_replaces_dead_workers_and_slashes_a_cheater() {
	let _network = exclusive_network();
	let mut m = Market::open().await;
	phase_order_book(&m).await;
	phase_unservable_requests(&m).await;
	let warm_up = phase_warm_up(&m).await;
	phase_command_line_shows_the_market(&m, warm_up).await;
	phase_third_node_joins(&mut m).await;
	phase_crash_between_vote_and_reveal(&mut m).await;
	phase_stopped_between_vote_and_reveal(&mut m).await;
	phase_cheater(&mut m).await;
	phase_confidential_app(&m).await;
	phase_confidential_dataset(&m).await;
	let replaced = phase_dead_workers_replaced(&mut m).await;
	phase_dead_workers_return(&mut m, replaced).await;
	phase_everything_decodes_from_metadata_alone(&m).await;
}

/// The network the phases play on, and what they share. Its fields drop in their order: the
/// compute nodes, then the validators, then the directory (kept, with every log, if the test
/// failed).
struct Market {
	/// Dave's honest compute node.
	dave: ComputeNode,
	/// Eve's honest compute node, in TEE mode: it runs a simulated SGX enclave.
	eve: ComputeNode,
	/// The third compute node, with Ferdie's stash account, once it has joined.
	mallory: Option<ComputeNode>,
	/// Alice's validator, which also holds the pool's scheduler key (Ferdie's): every command
	/// and read goes to it.
	node: TestNode,
	/// Bob's validator, the second authority.
	_bob: TestNode,
	/// Where the example apps' modules were built.
	modules: PathBuf,
	/// The monte-carlo app's module.
	module: Vec<u8>,
	/// The test's category, of reference time [`REFERENCE_TIME_SECS`].
	category: CategoryId,
	dir: TestDir,
}

impl Market {
	/// Opens the market: two validators on a chain of their own, Alice's node holding the pool's
	/// scheduler key; the providers register and publish with the command line and governance
	/// adds a category with a short reference time ([`providers_open_the_market`]); two honest
	/// compute nodes, Dave's and Eve's (in TEE mode), join the pool themselves.
	async fn open() -> Self {
		let dir = TestDir::new("market");
		let modules = example_apps::build(&example_apps::default_target_dir()).expect("apps build");
		let module = std::fs::read(modules.join("monte-carlo.wasm")).unwrap();

		let spec = local_spec_with_validators(
			&dir,
			"commons_market",
			&[(Alice, Ed25519::Alice), (Bob, Ed25519::Bob)],
		);
		// Eve's enclave is simulated, and gets a confidential dataset's key in one phase.
		allow_simulated_confidential(&spec);
		insert_key(&dir, "alice", &spec, "schd", &suri(Ferdie));
		let mut nodes =
			start_validators(&dir, &spec, &[("alice", "--alice"), ("bob", "--bob")], &[]).await;
		let bob = nodes.pop().expect("Bob's validator started");
		let node = nodes.pop().expect("Alice's validator started");

		let category = providers_open_the_market(&node, &modules).await;
		let dave = ComputeNode::start(&dir, "compute-dave", &node, &suri(Dave), POOL, &[]);
		let eve = ComputeNode::start(
			&dir,
			"compute-eve",
			&node,
			&suri(Eve),
			POOL,
			&["--tee-simulated", "sgx"],
		);
		wait_for_pool_members(&node, 2).await;
		Self { dave, eve, mallory: None, node, _bob: bob, modules, module, category, dir }
	}

	/// The third compute node, which must have joined.
	fn mallory(&mut self) -> &mut ComputeNode {
		self.mallory.as_mut().expect("the third compute node has joined")
	}

	/// A directory of the test's for a run's results.
	fn output(&self, name: &str) -> PathBuf {
		self.dir.path().join(name)
	}

	/// A request for `volume` tasks of the monte-carlo app in the test's category at `trust`, for
	/// at most 11 CMN a task, its results written to `output`.
	fn monte_carlo(&self, trust: u32, volume: u32, output: &Path) -> RunRequest {
		RunRequest::new(MONTE_CARLO, "11", output)
			.category(self.category)
			.trust(trust)
			.volume(volume)
			.params(PARAMS)
			.timeout_secs(600)
	}

	/// The digest the monte-carlo app's output has for `task`, computed here independently.
	async fn expected_digest(&self, task: TaskId) -> Hash {
		digest_here(self.module.clone(), PARAMS.as_bytes().to_vec(), None, task, limits()).await
	}

	/// Bob's result key file: the results of his confidential tasks are sealed to its key. The
	/// first phase that needs it creates it and registers the key with `commons result-key`.
	async fn bob_result_key(&self) -> PathBuf {
		let path = self.output("bob-result.key");
		if !path.exists() {
			let arg = path.display().to_string();
			let registered = commons(&self.node, Bob, &["result-key", "--key-file", &arg]).await;
			assert!(registered.starts_with("result_key 0x"), "{registered}");
		}
		path
	}
}

/// The order book answers each market in one call: Alice's app order, and Charlie's pool order
/// for the test's category, which serves trust up to 5 and so is not listed for trust 6. The
/// command line's JSON is parsed as a script would.
async fn phase_order_book(m: &Market) {
	let app = MONTE_CARLO.to_string();
	let apps = listed(&m.node, &["--app", &app]).await;
	assert_eq!(apps.len(), 1, "{apps:?}");
	assert_eq!(apps[0]["kind"], "app");
	assert_eq!(apps[0]["owner"], Alice.to_account_id().to_string());
	assert_eq!(apps[0]["price"], APP_PRICE.to_string());
	assert_eq!(apps[0]["remaining"], 100);
	let category = m.category.to_string();
	let pools = listed(&m.node, &["--workerpools", &category, "--min-trust", "5"]).await;
	assert_eq!(pools.len(), 1, "{pools:?}");
	assert_eq!(pools[0]["kind"], "workerpool");
	assert_eq!(pools[0]["id"], POOL);
	assert_eq!(pools[0]["price"], POOL_PRICE.to_string());
	assert_eq!(pools[0]["trust"], 5);
	let too_trusting = listed(&m.node, &["--workerpools", &category, "--min-trust", "6"]).await;
	assert!(too_trusting.is_empty(), "{too_trusting:?}");
	assert!(listed(&m.node, &["--requests", &category]).await.is_empty());
}

/// The listings `commons --json orders <market>` prints, parsed as a script would.
async fn listed(node: &TestNode, market: &[&str]) -> Vec<serde_json::Value> {
	let output = commons(node, Bob, &[&["--json", "orders"], market].concat()).await;
	serde_json::from_str(&output)
		.unwrap_or_else(|error| panic!("`orders --json` printed {output:?}: {error}"))
}

/// Requests the market cannot serve fail with a clear error: no workerpool sells category 0, and
/// `//Nobody` has no funds. (These are the command line's error messages to its user, the
/// interface under test, not a log.)
async fn phase_unservable_requests(m: &Market) {
	let results = m.output("results");
	let no_offer = m.monte_carlo(1, 1, &results).category(0).args();
	let error = cli(&m.node, &suri(Bob), &no_offer).await.expect_err("no pool sells category 0");
	assert!(error.contains("no compatible offer"), "{error}");
	let request = m.monte_carlo(1, 1, &results).args();
	let error = cli(&m.node, "//Nobody", &request).await.expect_err("//Nobody has no funds");
	assert!(error.contains("insufficient funds"), "{error}");
}

/// Replicated tasks (trust 4 asks two fresh workers to agree) build the honest workers' scores:
/// Dave and Eve win all 15 and score 15 each, Dave's node contributes to and reveals every one,
/// and the results fetched are what the app computes here. Also measures the throughput, from
/// the request to the last result fetched.
async fn phase_warm_up(m: &Market) -> DealId {
	let node = &m.node;
	let warm_up = m.output("warm-up");
	let request = m.monte_carlo(4, WARM_UP_TASKS, &warm_up).args();
	let started = Instant::now();
	let from = node.best_number().await.unwrap();
	commons(node, Bob, &request).await;
	let seconds = started.elapsed().as_secs_f64();
	eprintln!(
		"MEASURED warm-up: {WARM_UP_TASKS} replicated tasks in {seconds:.0} s from request to \
		 last result fetched: {:.1} tasks per minute",
		f64::from(WARM_UP_TASKS) * 60.0 / seconds
	);
	let deal = deal_since(node, from).await;
	let first = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	assert_eq!(fetched(&warm_up.join("0")), m.expected_digest(first).await);
	for worker in [Dave, Eve] {
		assert_eq!(score(node, POOL, &worker.to_account_id()).await, WARM_UP_TASKS, "{worker}");
	}
	let tasks = u64::from(WARM_UP_TASKS);
	assert_eq!(m.dave.count(Contributed).unwrap(), tasks);
	assert_eq!(m.dave.count(Revealed).unwrap(), tasks);
	assert_eq!(m.dave.count(Failed).unwrap(), 0);
	deal
}

/// What the chain holds, as the command line shows it to a script (`--json`, parsed here): the
/// app, the pool and its two workers with the scores the warm-up gave them, the categories, the
/// warm-up's settled deal and its tasks (shown with it, and listed), its first task, whose result
/// `result download` fetches and checks again. An order published and cancelled by hash leaves the order book; cancelling it again
/// is refused.
async fn phase_command_line_shows_the_market(m: &Market, warm_up: DealId) {
	let node = &m.node;
	let alice = Alice.to_account_id().to_string();
	let app = shown(node, &["app", &MONTE_CARLO.to_string()]).await;
	assert_eq!(
		(app["app"].clone(), app["owner"].clone()),
		(MONTE_CARLO.into(), alice.clone().into())
	);
	assert_eq!(app["checksum"], sp_core::bytes::to_hex(&sha256(&m.module), false));
	let apps = shown(node, &["apps", "--owner", &alice]).await;
	assert!(apps.as_array().unwrap().iter().any(|app| app["app"] == MONTE_CARLO), "{apps}");
	let pool = shown(node, &["workerpool", &POOL.to_string()]).await;
	assert_eq!(pool["owner"], Charlie.to_account_id().to_string());
	assert_eq!(
		(pool["scheduling_accepted"].clone(), pool["members"].clone()),
		(true.into(), 2.into())
	);
	let workers = shown(node, &["workers", "--workerpool", &POOL.to_string()]).await;
	let mut ranked: Vec<_> = workers
		.as_array()
		.unwrap()
		.iter()
		.map(|w| (w["worker"].clone(), w["score"].clone()))
		.collect();
	ranked.sort_by_key(|(worker, _)| worker.to_string());
	let mut expected: Vec<_> = [Dave, Eve]
		.iter()
		.map(|key| (key.to_account_id().to_string().into(), WARM_UP_TASKS.into()))
		.collect();
	expected.sort_by_key(|(worker, _): &(serde_json::Value, serde_json::Value)| worker.to_string());
	assert_eq!(ranked, expected);
	let eve = shown(node, &["worker", &Eve.to_account_id().to_string()]).await;
	assert_eq!(eve["enclave"]["simulated"], true, "{eve}");
	let categories = shown(node, &["categories"]).await;
	let ours = categories.as_array().unwrap().iter().find(|c| c["category"] == m.category);
	assert_eq!(ours.map(|c| c["reference_time_secs"].clone()), Some(REFERENCE_TIME_SECS.into()));

	let deal_id = format!("{warm_up:?}");
	let deal = shown(node, &["deal", &deal_id]).await;
	assert_eq!(deal["settled"], true, "every task was paid out: {deal}");
	let tasks = deal["tasks"].as_array().unwrap();
	assert_eq!(tasks.len(), WARM_UP_TASKS as usize);
	assert!(tasks.iter().all(|task| task["status"] == "Completed"), "{deal}");
	// The same tasks, listed by deal; all of them completed.
	let listed_tasks = shown(node, &["tasks", "--deal", &deal_id]).await;
	let mut indices: Vec<u64> = listed_tasks
		.as_array()
		.unwrap()
		.iter()
		.map(|task| task["index"].as_u64().unwrap())
		.collect();
	indices.sort();
	assert_eq!(indices, (0..u64::from(WARM_UP_TASKS)).collect::<Vec<_>>(), "{listed_tasks}");
	let completed = shown(node, &["tasks", "--deal", &deal_id, "--status", "completed"]).await;
	assert_eq!(completed, listed_tasks);
	let active = shown(node, &["tasks", "--deal", &deal_id, "--status", "active"]).await;
	assert_eq!(active, serde_json::json!([]));
	let first = pallet_contribution::Pallet::<Runtime>::task_id(&warm_up, 0);
	let expected = m.expected_digest(first).await;
	let by_index = shown(node, &["task", "--deal", &deal_id, "--index", "0"]).await;
	let watched = shown(node, &["task", &format!("{first:?}"), "--watch"]).await;
	assert_eq!(by_index, watched, "a settled task is shown at once, however it is named");
	assert_eq!((by_index["winners"].clone(), by_index["reveals"].clone()), (2.into(), 2.into()));
	assert_eq!(by_index["result_digest"], format!("{expected:?}"));
	let again = m.output("downloaded");
	let arg = again.display().to_string();
	let downloaded =
		shown(node, &["result", "download", "--deal", &deal_id, "--index", "0", "--output", &arg])
			.await;
	assert_eq!(fetched(&again), expected);
	assert_eq!(downloaded["task"], format!("{first:?}"));
	assert_eq!(downloaded["output"], arg);
	assert_eq!(downloaded["digest"], format!("{expected:?}"));

	let app = MONTE_CARLO.to_string();
	let publish = ["--json", "publish-app-order", "--app", &app, "--price", "2", "--volume", "1"];
	let published: serde_json::Value =
		serde_json::from_str(&commons(node, Alice, &publish).await).unwrap();
	let order = published["order"].as_str().expect("the order's hash").to_owned();
	let listed_hashes = |book: Vec<serde_json::Value>| -> Vec<String> {
		book.iter().map(|entry| entry["hash"].as_str().unwrap().to_owned()).collect()
	};
	assert!(listed_hashes(listed(node, &["--app", &app]).await).contains(&order));
	commons(node, Alice, &["cancel-order", &order]).await;
	assert!(!listed_hashes(listed(node, &["--app", &app]).await).contains(&order));
	let error = cli(node, &suri(Alice), &["cancel-order", &order]).await.expect_err("cancelled");
	assert!(error.contains("no presigned order"), "{error}");
}

/// What `commons --json <args>` prints, parsed as a script would.
async fn shown(node: &TestNode, args: &[&str]) -> serde_json::Value {
	commons_json(node, Bob, args).await
}

/// The sha256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
	use sha2::Digest as _;
	sha2::Sha256::digest(bytes).into()
}

/// A third compute node, with a fresh account and no score, joins the pool by itself.
async fn phase_third_node_joins(m: &mut Market) {
	let newcomer = &suri(FerdieStash);
	m.mallory = Some(ComputeNode::start(&m.dir, "compute-mallory", &m.node, newcomer, POOL, &[]));
	wait_for_pool_members(&m.node, 3).await;
	assert_eq!(score(&m.node, POOL, &FerdieStash.to_account_id()).await, 0);
}

/// A compute node that crashes between its vote and its reveal comes back on its own state and
/// reveals, without voting again: the chain shows one vote and one reveal from it, and its
/// counters after the restart one reveal and no vote. Whichever of Dave and Eve the scheduler
/// ranks first is assigned with the newcomer (weights 4 and 1 make trust 5), so both run in
/// crash mode. The newcomer wins its first replicated task.
async fn phase_crash_between_vote_and_reveal(m: &mut Market) {
	for compute in [&mut m.dave, &mut m.eve] {
		compute.kill();
		compute.restart(&["--crash-after-contributing"]);
	}
	let from = m.node.best_number().await.unwrap();
	let request = m.monte_carlo(5, 1, &m.output("crashed")).args();
	let node = &m.node;
	let (dave, eve) = (&mut m.dave, &mut m.eve);
	let restarted = async {
		loop {
			for compute in [&mut *dave, &mut *eve] {
				if compute.exited_within(Duration::from_millis(250)).await {
					compute.restart(&[]);
					return compute.name.clone();
				}
			}
		}
	};
	let (_, crashed) = tokio::join!(
		commons(node, Bob, &request),
		tokio::time::timeout(Duration::from_secs(180), restarted)
	);
	let crashed = crashed.expect("one compute node voted and crashed");
	let (task_id, task) = only_task(node, from).await;
	assert_eq!((task.status, task.winners, task.reveals), (TaskStatus::Completed, 2, 2));

	let (crashed, worker) = if crashed == m.dave.name { (&m.dave, Dave) } else { (&m.eve, Eve) };
	let votes_and_reveals = votes_and_reveals(node, task_id, &worker.to_account_id(), from).await;
	assert_eq!(votes_and_reveals, (1, 1), "votes and reveals of {}", crashed.name);
	// Its counters start at the restart: the vote on chain is the crashed run's, the reveal the
	// restarted run's, which submitted no second vote.
	assert_eq!(crashed.count(Contributed).unwrap(), 0, "{} voted again", crashed.name);
	assert_eq!(crashed.count(Resubmitted).unwrap(), 0, "{} sent its vote again", crashed.name);
	assert_eq!(crashed.count(Revealed).unwrap(), 1, "{} did not reveal", crashed.name);

	// The other one leaves crash mode too.
	for compute in [&mut m.dave, &mut m.eve] {
		compute.kill();
		compute.restart(&[]);
	}
	let newcomer_score = score(&m.node, POOL, &FerdieStash.to_account_id()).await;
	assert_eq!(newcomer_score, 1, "the newcomer won a replicated task");
}

/// A compute node asked to stop (SIGTERM, as systemd or `kill` do) once it has voted on a task
/// finishes its step, saves its state and exits with success; restarted, it reveals that vote
/// (unless it revealed before stopping) and never votes again: the chain shows one vote and one
/// reveal from it, and its counters after the restart no vote.
async fn phase_stopped_between_vote_and_reveal(m: &mut Market) {
	let from = m.node.best_number().await.unwrap();
	let request = m.monte_carlo(5, 1, &m.output("stopped")).args();
	let node = &m.node;
	let mallory = m.mallory.as_mut().expect("the third node joined");
	let mut computes = [(&mut m.dave, Dave), (&mut m.eve, Eve), (mallory, FerdieStash)];
	// The previous phase restarted Dave's and Eve's nodes: they may not serve metrics yet.
	let mut voted_before = [0; 3];
	for ((compute, _), before) in computes.iter().zip(&mut voted_before) {
		*before = compute.wait_for_count(Contributed).await;
	}
	let stopped = async {
		let stopped = loop {
			let voted = computes.iter().zip(voted_before).position(|((compute, _), before)| {
				compute.count(Contributed).unwrap_or(before) > before
			});
			if let Some(index) = voted {
				break index;
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		};
		let compute = &mut computes[stopped].0;
		let status = compute.terminate(Duration::from_secs(60)).await;
		assert!(
			status.is_some_and(|status| status.success()),
			"{} did not stop cleanly on SIGTERM: {status:?}",
			compute.name
		);
		compute.restart(&[]);
		stopped
	};
	let (_, stopped) = tokio::join!(
		commons(node, Bob, &request),
		tokio::time::timeout(Duration::from_secs(180), stopped)
	);
	let (compute, worker) = &computes[stopped.expect("a compute node voted")];
	let (task_id, task) = only_task(node, from).await;
	assert_eq!(task.status, TaskStatus::Completed);
	let votes_and_reveals = votes_and_reveals(node, task_id, &worker.to_account_id(), from).await;
	assert_eq!(votes_and_reveals, (1, 1), "votes and reveals of {}", compute.name);
	let voted_again = compute.wait_for_count(Contributed).await;
	assert_eq!(voted_again, 0, "{} voted again", compute.name);
	assert_eq!(compute.count(Resubmitted).unwrap(), 0, "{} sent its vote again", compute.name);
	// Kept on the log: only the process says why it stopped.
	compute.wait_for_log("SIGTERM received: stopping after the current step").await;
	compute.wait_for_log("stopped; its state is in").await;
}

/// How many times `worker` voted on and revealed `task` from block `from` to the best block.
async fn votes_and_reveals(
	node: &TestNode,
	task_id: TaskId,
	worker: &AccountId,
	from: BlockNumber,
) -> (usize, usize) {
	let to = node.best_number().await.unwrap();
	let votes = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::Contributed {
			task,
			worker: voter,
			..
		}) if task == task_id && voter == *worker => Some(()),
		_ => None,
	})
	.await;
	let reveals = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::Revealed {
			task,
			worker: revealer,
			..
		}) if task == task_id && revealer == *worker => Some(()),
		_ => None,
	})
	.await;
	(votes.len(), reveals.len())
}

/// The third node turns cheater: on a replicated task it votes for a corrupted result, is
/// outvoted by the two honest workers, loses its stake and its score is cut to two thirds,
/// rounded down; every account's balance moves exactly as the protocol's formulas say, to the
/// unit, and the kitty takes nothing.
async fn phase_cheater(m: &mut Market) {
	let mallory = m.mallory();
	mallory.kill();
	mallory.restart(&["--corrupt-results"]);
	let mallory = &*mallory;
	// Kept on the log: only the process itself says that it runs in a test mode (no metric or
	// event does), which it does as it starts. What it does in that mode is checked on chain
	// below. It never ran in a test mode before, so the line is this run's.
	wait_for("the cheater to start", Duration::from_secs(30), || async {
		mallory.log().contains("TEST MODE").then_some(()).ok_or("not yet".to_string())
	})
	.await;

	let node = &m.node;
	let accounts: Vec<AccountId> = [Alice, Bob, Charlie, Dave, Eve, Ferdie, FerdieStash]
		.map(|key| key.to_account_id())
		.into();
	// What it won as an honest newcomer in the phases before.
	let cheater_score = score(node, POOL, &FerdieStash.to_account_id()).await;
	assert!(cheater_score >= 1, "the newcomer won a replicated task before");
	let (start, start_hash) = best_block(node).await;
	let cheated = m.output("cheated");
	commons(node, Bob, &m.monte_carlo(5, 1, &cheated).args()).await;
	let (task_id, task) = only_task(node, start).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(fetched(&cheated), m.expected_digest(task_id).await);
	assert_eq!(task.winners, 2);
	let (end, end_hash) = best_block(node).await;
	let events = events_between(node, start + 1, end).await;

	let fees = fees_paid(&events);
	let stake = WORKER_STAKE.mul_floor(POOL_PRICE);
	let faulty = events.iter().find_map(|event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::ContributionFaulty {
			worker,
			score,
			stake_lost,
			..
		}) => Some((worker.clone(), *score, *stake_lost)),
		_ => None,
	});
	let cut = cheater_score * 2 / 3;
	assert_eq!(faulty, Some((FerdieStash.to_account_id(), cut, stake)), "the cheater is caught");
	assert_eq!(score(node, POOL, &FerdieStash.to_account_id()).await, cut);

	// The protocol's formulas (reference §5.2), to the unit.
	let total_reward = POOL_PRICE + stake;
	let workers_reward = (Percent::one() - POOL_OWNER_REWARD).mul_floor(total_reward);
	// Both winners have weight 4, a share of floor(log2(4)) = 2 each.
	let reward = workers_reward * 2 / 4;
	// The kitty pays no share per task: nobody can farm it by self-dealing.
	assert_eq!(kitty_at(node, end_hash).await, kitty_at(node, start_hash).await);
	let pool_owner_rest = total_reward - 2 * reward;
	let change: std::collections::BTreeMap<AccountId, i128> = [
		(Alice.to_account_id(), APP_PRICE as i128),
		(Bob.to_account_id(), -((APP_PRICE + POOL_PRICE) as i128)),
		(Charlie.to_account_id(), pool_owner_rest as i128),
		(Dave.to_account_id(), reward as i128),
		(Eve.to_account_id(), reward as i128),
		(Ferdie.to_account_id(), 0),
		(FerdieStash.to_account_id(), -(stake as i128)),
	]
	.into();
	for account in &accounts {
		let before = free_at(node, account, start_hash).await as i128;
		let after = free_at(node, account, end_hash).await as i128;
		let fee = fees.get(account).copied().unwrap_or_default() as i128;
		assert_eq!(after - before, change[account] - fee, "balance of {account}");
	}
}

/// A confidential app runs only in an enclave of a measurement it allows: Eve's simulated SGX
/// enclave, registered when her compute node started and labelled simulated, is the only one;
/// it alone contributes, signed by the enclave. It serves the result only sealed to the key Bob
/// registered; opened with Bob's key, it is what the app computes here.
async fn phase_confidential_app(m: &Market) {
	let node = &m.node;
	let enclave = chain::enclave_of(node, &Eve.to_account_id()).await;
	assert_eq!(enclave.attester, pallet_attestation::Attester::Simulated);
	let uri = file_uri(&m.modules.join("monte-carlo.wasm"));
	let measurement = measurement_arg(simulated_measurement(TeeKind::Sgx));
	let create =
		["create-app", "--name", "monte-carlo-tee", "--uri", &uri, "--measurement", &measurement];
	let tee_app = created_id(&commons(node, Alice, &create).await, "app");
	publish_tee_app_order(node, tee_app).await;
	publish_pool_order(node, m.category, 1, TEE_SGX).await;

	let result_key = m.bob_result_key().await;
	let from = node.best_number().await.unwrap();
	let confidential = m.output("confidential");
	let request = m
		.monte_carlo(1, 1, &confidential)
		.app(tee_app)
		.tag(TEE_SGX)
		.result_key_file(&result_key)
		.args();
	commons(node, Bob, &request).await;
	let (task_id, task) = only_task(node, from).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(task.contributions.len(), 1);
	assert_eq!(task.contributions[0].worker, Eve.to_account_id(), "only Eve has an enclave");
	assert_eq!(fetched(&confidential), m.expected_digest(task_id).await);
	served_only_sealed(m, &m.eve, task_id, &task, &confidential).await;
}

/// A confidential dataset: Alice encrypts a CSV file, registers it as encrypted and runs her key
/// service. A TEE task of the statistics app on it gets the dataset's key sealed to the assigned
/// enclave (Eve's) and to nobody else, in one public event. The key service is down when the
/// task is assigned: the enclave waits for its key, and the restarted service catches up from
/// where it stopped reading. The enclave opens the key, decrypts the data, computes what the
/// plain data gives here, and keeps no decrypted copy. It serves the result only sealed to Bob's
/// result key; Charlie, who has none, cannot buy the data.
async fn phase_confidential_dataset(m: &Market) {
	let node = &m.node;
	let eve = &m.eve;
	let enclave = chain::enclave_of(node, &Eve.to_account_id()).await;
	let data = b"age,weight\n41,70.5\n29,61\n63,82.25\n".to_vec();
	let plain = m.output("patients.csv");
	std::fs::write(&plain, &data).unwrap();
	let stored = m.output("patients.csv.sealed");
	let keys = m.output("keys");
	std::fs::create_dir_all(&keys).unwrap();
	let new_key = keys.join("new.key");
	let [plain_arg, stored_arg, key_arg] =
		[&plain, &stored, &new_key].map(|path| path.display().to_string());
	let encrypt = [
		"--json",
		"encrypt-dataset",
		"--input",
		&plain_arg,
		"--output",
		&stored_arg,
		"--key-file",
		&key_arg,
	];
	let encrypted: serde_json::Value =
		serde_json::from_str(&commons(node, Alice, &encrypt).await).unwrap();
	assert_eq!(encrypted["output"], stored_arg.as_str());
	assert_eq!(encrypted["key_file"], key_arg.as_str());
	let checksum = encrypted["checksum"].as_str().expect("the checksum, in hex").to_owned();
	let stored_bytes = std::fs::read(&stored).unwrap();
	assert_ne!(stored_bytes, data, "the stored dataset is encrypted");
	let stored_uri = file_uri(&stored);
	let create = ["create-dataset", "--name", "patients", "--uri", &stored_uri, "--encrypted"];
	let dataset: DatasetId = created_id(&commons(node, Alice, &create).await, "dataset");
	let registered = chain::dataset(node, dataset).await;
	assert!(registered.encrypted);
	assert_eq!(
		format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&registered.checksum)),
		checksum.trim(),
		"the registered checksum is the encrypted file's"
	);
	std::fs::rename(&new_key, keys.join(format!("{dataset}.key"))).unwrap();

	let stats_path = m.modules.join("csv-stats.wasm");
	let stats_module = std::fs::read(&stats_path).unwrap();
	let stats_uri = file_uri(&stats_path);
	let measurement = measurement_arg(simulated_measurement(TeeKind::Sgx));
	let create = [
		"create-app",
		"--name",
		"csv-stats-tee",
		"--uri",
		&stats_uri,
		"--measurement",
		&measurement,
	];
	let stats_app = created_id(&commons(node, Alice, &create).await, "app");
	// Alice trusts her data to this app, and to enclaves of this measurement only.
	let mut key_service =
		KeyService::start(&m.dir, node, &suri(Alice), &keys, &[stats_app], &[measurement], &[]);
	key_service.wait_until_caught_up(node).await;
	publish_tee_app_order(node, stats_app).await;
	publish_dataset_order(node, dataset, stats_app).await;
	let statistics = m.output("statistics");
	let request = RunRequest::new(stats_app, "12", &statistics)
		.dataset(dataset)
		.category(m.category)
		.trust(1)
		.tag(TEE_SGX)
		.timeout_secs(600);
	// A result computed on the data is delivered only sealed to its beneficiary: Charlie has no
	// result key, so he is not sold the data. (The command line's message to its user.)
	let error = cli(node, &suri(Charlie), &request.args())
		.await
		.expect_err("Charlie has no result key");
	assert!(error.contains("has no result key"), "{error}");
	let result_key = m.bob_result_key().await;
	let run = request.result_key_file(&result_key).args();
	let from = node.best_number().await.unwrap();

	// The key service is down when the task is assigned: the enclave waits for its key, and the
	// restarted service catches up from where it stopped reading.
	key_service.kill();
	let executed_before = eve.count(Executed).unwrap();
	let waited = async {
		let (assigned_at, ()) = wait_for_event(
			node,
			"the task to be assigned to Eve",
			from,
			Duration::from_secs(120),
			|event| match event {
				RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
					workers,
					..
				}) if workers.contains(&Eve.to_account_id()) => Some(()),
				_ => None,
			},
		)
		.await;
		// Eve's node has read that block and worked on the task since: it did not run it, as
		// nobody could release the key. The enclave waits for it.
		eve.wait_until_worked_through(assigned_at).await;
		assert_eq!(eve.count(Executed).unwrap(), executed_before, "Eve ran it without its key");
		// Not running it could also be a failing try; only the log tells that the enclave is
		// waiting for the key (no counter or event says so).
		eve.wait_for_log("waiting for the dataset's key").await;
		key_service.restart();
	};
	tokio::join!(commons(node, Bob, &run), waited);
	let (task_id, task) = only_task(node, from).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(task.contributions[0].worker, Eve.to_account_id());
	assert!(task.dataset_keys.is_empty(), "a settled task keeps no sealed key");
	assert_eq!(eve.count(Executed).unwrap(), executed_before + 1, "Eve ran it once its key came");
	let to = node.best_number().await.unwrap();
	let releases: Vec<(AccountId, [u8; 32])> = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::DatasetKeyReleased {
			task,
			dataset: released,
			worker,
			enclave_key,
		}) if task == task_id && released == dataset => Some((worker, enclave_key)),
		_ => None,
	})
	.await;
	assert_eq!(releases, vec![(Eve.to_account_id(), enclave.keys.encryption)]);
	// Kept on the log: the event above shows the key released to Eve's enclave, but not who
	// sent it; the key service serves no metrics, and its log is the only record that it was
	// the service, restarted after the assignment, that sent it.
	key_service.wait_for_log(&format!("for task {task_id:?}")).await;
	assert_eq!(
		fetched(&statistics),
		digest_here(stats_module, Vec::new(), Some(data), task_id, limits()).await,
		"the enclave computed on the decrypted data"
	);
	let eve_input = eve.work_dir.join("inputs").join(format!("{task_id:?}"));
	assert!(!eve_input.exists(), "the decrypted dataset does not outlive the run");
	served_only_sealed(m, eve, task_id, &task, &statistics).await;
}

/// `task`'s result as `worker` serves it at the location on chain is the one sealed file, which
/// holds nothing of the result opened into `opened` in the clear, and the worker keeps nothing
/// of it in the clear either.
async fn served_only_sealed(
	m: &Market,
	worker: &ComputeNode,
	task_id: TaskId,
	task: &Task<Runtime>,
	opened: &Path,
) {
	let location = String::from_utf8_lossy(&task.result_location).into_owned();
	let raw = m.output(&format!("served-{task_id:?}"));
	std::fs::create_dir_all(&raw).unwrap();
	let served_digest = fetch_result(&location, &raw).await.expect("the result is served");
	assert_eq!(files(&raw).unwrap(), [PathBuf::from(SEALED_RESULT_FILE)], "served: {location}");
	let agreed = task.result_digest.expect("a completed task has a digest");
	assert_ne!(Hash::from(served_digest), agreed, "the digest on chain is of the clear output");
	let sealed = std::fs::read(raw.join(SEALED_RESULT_FILE)).unwrap();
	for file in files(opened).unwrap() {
		let clear = std::fs::read(opened.join(&file)).unwrap();
		assert_ne!(sealed, clear, "{} is served in the clear", file.display());
		let found = !clear.is_empty() && sealed.windows(clear.len()).any(|part| part == clear);
		assert!(!found, "{} is served in the clear", file.display());
	}
	let kept = worker.work_dir.join("results").join(format!("{task_id:?}"));
	assert_eq!(files(&kept).unwrap(), [PathBuf::from(SEALED_RESULT_FILE)]);
	let sealing = worker.work_dir.join("sealing").join(format!("{task_id:?}"));
	assert!(!sealing.exists(), "the output in the clear does not outlive its sealing");
}

/// What [`phase_dead_workers_replaced`] leaves to [`phase_dead_workers_return`].
struct Replaced {
	/// The worker that was silent for 2T on the task: replaced and expelled from the pool.
	silent: AccountId,
	/// The best block once the task was done: every assignment of it is at or before it.
	run_ended_at: BlockNumber,
}

/// The two honest compute nodes die but still look alive to the scheduler (the third one is
/// honest again): the task is assigned to each of them in turn, best scored first, then to the
/// third node, which completes it. When it was assigned, the first dead worker had been silent
/// for 2T: it lost its place in the pool and a third of its score.
async fn phase_dead_workers_replaced(m: &mut Market) -> Replaced {
	let mallory = m.mallory();
	mallory.kill();
	mallory.restart(&[]);
	let scores_before = [
		score(&m.node, POOL, &Dave.to_account_id()).await,
		score(&m.node, POOL, &Eve.to_account_id()).await,
	];
	m.dave.kill();
	m.eve.kill();
	let node = &m.node;
	let from = node.best_number().await.unwrap();
	let reassigned = m.output("reassigned");
	commons(node, Bob, &m.monte_carlo(1, 1, &reassigned).args()).await;
	let (task_id, task) = only_task(node, from).await;
	let to = node.best_number().await.unwrap();
	let assignments: Vec<Vec<AccountId>> = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
			task,
			workers,
		}) if task == task_id => Some(workers.into_inner()),
		_ => None,
	})
	.await;
	// The two dead workers, best scored, were tried first, one after the other.
	let dead = [Dave.to_account_id(), Eve.to_account_id()];
	let tried: Vec<AccountId> =
		assignments.iter().take(2).map(|workers| workers[0].clone()).collect();
	assert!(
		tried.len() == 2 && tried.iter().all(|worker| dead.contains(worker)),
		"{assignments:?}"
	);
	assert_ne!(tried[0], tried[1], "{assignments:?}");
	// When the third node was assigned, the first had been silent for 2T: it lost its place and
	// a third of its score in the pool.
	let replaced: Vec<(AccountId, u32)> = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::SilentWorkerReplaced {
			task,
			worker,
			score,
		}) if task == task_id => Some((worker, score)),
		_ => None,
	})
	.await;
	let cut = scores_before[usize::from(tried[0] != dead[0])] * 2 / 3;
	assert_eq!(replaced, vec![(tried[0].clone(), cut)]);
	assert_eq!(score(node, POOL, &tried[0]).await, cut);
	// And its place in the pool.
	let expelled: Vec<AccountId> = picked_events(node, from, to, |event| match event {
		RuntimeEvent::Marketplace(pallet_marketplace::Event::WorkerExpelled { worker, .. }) => {
			Some(worker)
		}
		_ => None,
	})
	.await;
	assert_eq!(expelled, vec![tried[0].clone()]);
	assert_eq!(task.contributions.len(), 1);
	assert_eq!(task.contributions[0].worker, FerdieStash.to_account_id(), "{assignments:?}");
	assert_eq!(fetched(&reassigned), m.expected_digest(task_id).await);
	Replaced { silent: tried[0].clone(), run_ended_at: to }
}

/// The dead nodes restart on their own state: they learn of the task they missed but do not
/// contribute to it late, and the expelled one joins its pool again.
async fn phase_dead_workers_return(m: &mut Market, replaced: Replaced) {
	m.dave.restart(&[]);
	m.eve.restart(&[]);
	for compute in [&m.dave, &m.eve] {
		// A negative check, bounded by what the node shows of its work rather than by time:
		// once it has read every block of the run and finished the round of work that followed,
		// a late vote would have been submitted, and counted.
		compute.wait_until_worked_through(replaced.run_ended_at).await;
		let received = compute.count(Received).unwrap();
		assert!(received >= 1, "{} did not learn of the task it missed", compute.name);
		assert_eq!(compute.count(Contributed).unwrap(), 0, "{} contributed late", compute.name);
	}
	let node = &m.node;
	wait_for("the expelled worker to join again", Duration::from_secs(60), || async {
		match pool_of(node, &replaced.silent).await? {
			Some(POOL) => Ok(()),
			other => Err(format!("its pool: {other:?}")),
		}
	})
	.await;
}

/// The providers register and publish with the command line, and governance adds the test's
/// category: Alice's monte-carlo app (app 0) and its order; Charlie's workerpool (pool 0),
/// scheduled by Ferdie's key, and its order of tasks of the new category up to trust 5. Returns
/// the category.
async fn providers_open_the_market(node: &TestNode, modules: &Path) -> CategoryId {
	let uri = file_uri(&modules.join("monte-carlo.wasm"));
	let created =
		commons(node, Alice, &["create-app", "--name", "monte-carlo", "--uri", &uri]).await;
	assert_eq!(created_id(&created, "app"), MONTE_CARLO);
	let category = create_category(node).await;
	let scheduler = Ferdie.to_account_id().to_string();
	let stake_percent = WORKER_STAKE.deconstruct().to_string();
	let reward_percent = POOL_OWNER_REWARD.deconstruct().to_string();
	let pool = commons(
		node,
		Charlie,
		&[
			"create-workerpool",
			"--description",
			"test pool",
			"--scheduler",
			&scheduler,
			"--worker-stake-percent",
			&stake_percent,
			"--pool-owner-reward-percent",
			&reward_percent,
		],
	)
	.await;
	assert_eq!(created_id(&pool, "workerpool"), POOL);
	// Ferdie's key, in the validator's keystore, agrees to schedule the pool.
	let pool = POOL.to_string();
	commons(node, Ferdie, &["accept-scheduling", "--workerpool", &pool]).await;
	let app = MONTE_CARLO.to_string();
	commons(node, Alice, &["publish-app-order", "--app", &app, "--price", "1", "--volume", "100"])
		.await;
	publish_pool_order(node, category, 5, 0).await;
	category
}

/// Governance (sudo) creates the test's category, of reference time [`REFERENCE_TIME_SECS`].
async fn create_category(node: &TestNode) -> CategoryId {
	let category = pallet_marketplace::Call::<Runtime>::create_category {
		name: b"test".to_vec().try_into().unwrap(),
		reference_time_secs: REFERENCE_TIME_SECS,
	};
	let sudo = pallet_sudo::Call::sudo { call: Box::new(RuntimeCall::Marketplace(category)) };
	let events = node.submit_and_wait(RuntimeCall::Sudo(sudo), &Alice.pair()).await.unwrap();
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::CategoryCreated {
				category,
				..
			}) => Some(*category),
			_ => None,
		})
		.expect("the category is created")
}

/// Waits until the pool has `count` members: compute nodes join it themselves when they start.
async fn wait_for_pool_members(node: &TestNode, count: u32) {
	wait_for(&format!("{count} compute nodes to join"), Duration::from_secs(60), || async {
		match pool_members(node, POOL).await? {
			members if members == count => Ok(()),
			other => Err(format!("{other} members")),
		}
	})
	.await;
}

/// Charlie publishes an order of the pool for 100 tasks of `category` up to `trust`, with `tag`,
/// at the pool price.
async fn publish_pool_order(node: &TestNode, category: CategoryId, trust: u32, tag: Tag) {
	let price = (POOL_PRICE / CMN).to_string();
	let pool = POOL.to_string();
	let (category, trust, tag) = (category.to_string(), trust.to_string(), tag.to_string());
	let args = [
		"publish-workerpool-order",
		"--workerpool",
		&pool,
		"--category",
		&category,
		"--trust",
		&trust,
		"--price",
		&price,
		"--volume",
		"100",
		"--tag",
		&tag,
	];
	commons(node, Charlie, &args).await;
}

/// Alice publishes an order selling her app `app` at 1 CMN, to SGX enclaves only.
async fn publish_tee_app_order(node: &TestNode, app: u32) {
	let (app, tag) = (app.to_string(), TEE_SGX.to_string());
	commons(node, Alice, &["publish-app-order", "--app", &app, "--price", "1", "--tag", &tag])
		.await;
}

/// Alice publishes an order selling her encrypted `dataset` at 1 CMN, to SGX enclaves of `app`
/// only.
async fn publish_dataset_order(node: &TestNode, dataset: u32, app: u32) {
	let (dataset, app, tag) = (dataset.to_string(), app.to_string(), TEE_SGX.to_string());
	let args = [
		"publish-dataset-order",
		"--dataset",
		&dataset,
		"--app",
		&app,
		"--price",
		"1",
		"--tag",
		&tag,
	];
	commons(node, Alice, &args).await;
}

/// What a task of the test's category may consume.
fn limits() -> Limits {
	Limits::for_reference_time(REFERENCE_TIME_SECS)
}

/// The digest of a result fetched into `path`.
fn fetched(path: &Path) -> Hash {
	Hash::from(digest(path).expect("the fetched result can be digested"))
}

/// The `file://` URI of `path`.
fn file_uri(path: &Path) -> String {
	format!("file://{}", path.display())
}

/// Everything the Commons pallets store after the whole story, and what every method of their
/// runtime APIs answers (the task, deal and order book listings among them), decodes by the
/// chain's metadata alone, as
/// @polkadot/api, subxt or an explorer read it: every byte of every value is accounted for by
/// the type the metadata names, and none of those types is one the standard clients cannot
/// resolve (the tally's weights are no `U512`). The reader is shown to refuse a task with a byte
/// too many or too few.
async fn phase_everything_decodes_from_metadata_alone(m: &Market) {
	let node = &m.node;
	let metadata = MetadataOnly::read(node).await.unwrap();
	for pallet in
		["Marketplace", "Contribution", "Attestation", "Escrow", "Validators", "ProtocolParameters"]
	{
		let read = metadata
			.decode_storage(node, pallet)
			.await
			.unwrap_or_else(|error| panic!("{error}"));
		println!(
			"{pallet}: {} values of {} storage items decoded from metadata alone",
			read.values, read.items
		);
		if ["Marketplace", "Contribution", "Attestation"].contains(&pallet) {
			assert!(read.values > 0, "{pallet} stores nothing after the whole story");
		}
	}

	let task_key = metadata::storage_keys(node, "Contribution", "Tasks").await.unwrap();
	let task_id = TaskId::decode(&mut &task_key.first().expect("a task is kept")[..]).unwrap();
	let task = node.task(task_id).await.unwrap().expect("the task is stored");
	metadata
		.decode_api_answer(node, "ContributionApi", "task", task_id)
		.await
		.unwrap();
	metadata
		.decode_api_answer(node, "MarketplaceApi", "deal", task.deal)
		.await
		.unwrap();
	for market in [BookMarket::App(MONTE_CARLO), BookMarket::Workerpool(m.category)] {
		metadata
			.decode_api_answer(
				node,
				"MarketplaceApi",
				"order_book",
				(market, 0u32, None::<BookCursor>, 100u32),
			)
			.await
			.unwrap();
	}
	// Every other method of the pallets' runtime APIs, with arguments from the story where it
	// has them: what each answers decodes by the metadata too.
	let listed = commons_client::market::order_book(node, BookMarket::App(MONTE_CARLO), 0, 1)
		.await
		.unwrap();
	let order = &listed.first().expect("the app's order book lists an order").order;
	for method in ["remaining_volume", "order_hash", "signing_payload"] {
		metadata.decode_api_answer(node, "MarketplaceApi", method, order).await.unwrap();
	}
	let worker = task.assigned.first().expect("the task had a worker").clone();
	let pool = pool_of(node, &worker).await.unwrap().unwrap_or_default();
	let (hash, seal, digest) = (Hash::repeat_byte(1), Hash::repeat_byte(2), Hash::repeat_byte(3));
	let api = "ContributionApi";
	metadata
		.decode_api_answer(node, api, "task_id", (task.deal, task.index))
		.await
		.unwrap();
	metadata
		.decode_api_answer(node, api, "score", (pool, worker.clone()))
		.await
		.unwrap();
	let arguments = (task_id, worker, digest);
	metadata
		.decode_api_answer(node, api, "result_hash_and_seal", arguments)
		.await
		.unwrap();
	let arguments = (task_id, hash, seal);
	metadata
		.decode_api_answer(node, api, "enclave_message", arguments)
		.await
		.unwrap();
	// A quote that is no quote: the verifier's error decodes as well as a verdict would.
	let collateral = pallet_attestation::runtime_api::QuoteCollateral {
		root_ca_crl: vec![],
		pck_crl: vec![],
		pck_crl_issuer_chain: vec![],
		tcb_info: vec![],
		tcb_info_signature: [0; 64],
		tcb_info_issuer_chain: vec![],
		qe_identity: vec![],
		qe_identity_signature: [0; 64],
		qe_identity_issuer_chain: vec![],
	};
	metadata
		.decode_api_answer(
			node,
			"AttestationApi",
			"check_quote",
			(vec![0u8; 16], collateral, None::<Vec<u8>>, 0u64),
		)
		.await
		.unwrap();

	let stored = task.encode();
	metadata.decode_value("Contribution", "Tasks", &stored).unwrap();
	let longer = [&stored[..], &[0]].concat();
	assert!(metadata.decode_value("Contribution", "Tasks", &longer).is_err(), "a byte too many");
	let shorter = &stored[..stored.len() - 1];
	assert!(metadata.decode_value("Contribution", "Tasks", shorter).is_err(), "a byte too few");
}
