//! A market on a real local network: two validators (Alice's node also holds the workerpool's
//! scheduler key, so its off-chain worker schedules), three compute nodes, and every provider and
//! requester action taken with the `commons` command line.
//!
//! One network plays the whole story, in order:
//! 1. requests that cannot be served fail with a clear error (no compatible offer, no funds);
//! 2. a warm-up deal of replicated tasks builds the two honest workers' scores (and measures
//!    throughput);
//! 3. a third node joins; a node that crashes between its vote and its reveal restarts and
//!    reveals, voting once;
//! 4. the third node comes back as a cheater: it is outvoted on a replicated task, its stake is
//!    seized, and every account's balance moves exactly as the protocol's formulas say;
//! 5. a confidential app that allows only the simulated SGX enclave's measurement runs on the
//!    one compute node in TEE mode (Eve's), which signs its result with its enclave key;
//! 6. an encrypted dataset's key reaches that enclave, sealed, from its owner's key service
//!    (`commons key-service`, restarted while the enclave waits), and the enclave computes
//!    on the decrypted data;
//! 7. both honest compute nodes are killed: the scheduler assigns a task to each of them in turn
//!    (they still look alive), one reference time apart, then to the third node, which completes
//!    it; that last assignment takes the place of the worker silent for 2T, and a third of its
//!    score; the restarted nodes do not contribute to it late.

use std::{collections::BTreeMap, path::Path, time::Duration};

use commons_compute::{
	digest, example_apps, run_task, tee::simulated_measurement, Limits, TaskInputs,
};
use commons_e2e::{
	cli, exclusive_network, insert_key, local_spec_with_validators, start_validators, wait_for,
	ComputeNode, KeyService, TestDir, TestNode,
};
use commons_runtime::{AccountId, Balance, Hash, Runtime, RuntimeCall, RuntimeEvent, CMN};
use pallet_attestation::TeeKind;
use pallet_contribution::{Task, TaskStatus};
use pallet_marketplace::Measurement;
use sp_keyring::{
	Ed25519Keyring as Ed25519,
	Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie, FerdieStash},
};
use sp_runtime::Percent;

const PARAMS: &str = "--samples 50000 --seed 42";
/// The test category's reference time T: short, so that silent workers are replaced quickly.
const REFERENCE_TIME_SECS: u32 = 30;
const APP_PRICE: Balance = CMN;
const POOL_PRICE: Balance = 10 * CMN;
const WORKER_STAKE: Percent = Percent::from_percent(35);
const SCHEDULER_REWARD: Percent = Percent::from_percent(5);
/// The tags of a task for an SGX enclave.
const TEE_SGX: u64 = pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX;
/// Replicated tasks in the warm-up: 15 wins give a score of 15, a vote weight of 4.
const WARM_UP_TASKS: u32 = 15;

fn suri(key: Sr25519Keyring) -> String {
	format!("//{key}").replace("Stash", "//stash")
}

/// Runs the command line as `key` and returns its output, failing the test on an error.
async fn commons<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
	node: &TestNode,
	key: Sr25519Keyring,
	args: &[S],
) -> String {
	cli(node, &suri(key), args)
		.await
		.unwrap_or_else(|error| panic!("commons {args:?} as {key} failed: {error}"))
}

/// The events of blocks `from..=to`.
async fn events_between(node: &TestNode, from: u32, to: u32) -> Vec<RuntimeEvent> {
	let mut events = Vec::new();
	for number in from..=to {
		let hash = node.block_hash(number).await.unwrap();
		events.extend(node.events(hash).await.unwrap().into_iter().map(|record| record.event));
	}
	events
}

/// `who`'s score in pool 0, the only pool of the test.
async fn score(node: &TestNode, who: &AccountId) -> u32 {
	let key = pallet_contribution::Scores::<Runtime>::hashed_key_for(0, who);
	node.storage::<u32>(&key, None).await.unwrap().unwrap_or_default()
}

async fn free_at(node: &TestNode, who: &AccountId, at: Hash) -> Balance {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let info: frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>> =
		node.storage(&key, Some(at)).await.unwrap().unwrap_or_default();
	info.data.free
}

async fn kitty_at(node: &TestNode, at: Hash) -> Balance {
	let key = pallet_escrow::Kitty::<Runtime>::hashed_key();
	node.storage::<Balance>(&key, Some(at)).await.unwrap().unwrap_or_default()
}

/// The deal the last `commons run` made, in blocks `from..=best`.
async fn deal_since(node: &TestNode, from: u32) -> Hash {
	let best = node.best_number().await.unwrap();
	events_between(node, from, best)
		.await
		.into_iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated { deal, .. }) => {
				Some(deal)
			}
			_ => None,
		})
		.expect("the run made a deal")
}

/// The one completed task of the deal the last `commons run` made.
async fn only_task(node: &TestNode, from: u32) -> (Hash, Task<Runtime>) {
	let deal = deal_since(node, from).await;
	let id = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	let key = pallet_contribution::Tasks::<Runtime>::hashed_key_for(id);
	(id, node.storage(&key, None).await.unwrap().expect("the task is on chain"))
}

/// The digest the monte-carlo app's output has for `task`, computed here independently.
async fn expected_digest(module: Vec<u8>, task: Hash) -> Hash {
	digest_here(module, task, PARAMS.as_bytes(), None).await
}

/// The digest of `module`'s output for `task` with `params`, and `dataset` as its dataset,
/// computed here independently, by the task runner every compute node uses.
async fn digest_here(
	module: Vec<u8>,
	task: Hash,
	params: &'static [u8],
	dataset: Option<Vec<u8>>,
) -> Hash {
	tokio::task::spawn_blocking(move || {
		let dir = tempfile::tempdir().unwrap();
		let inputs = TaskInputs {
			module: &module,
			params,
			dataset: dataset.as_deref(),
			seed: task.0,
			limits: Limits::for_reference_time(REFERENCE_TIME_SECS),
		};
		let (_, result_digest) = run_task(&inputs, &dir.path().join("in"), &dir.path().join("out"))
			.expect("the app runs here too");
		result_digest
	})
	.await
	.unwrap()
}

async fn pool_members(node: &TestNode) -> Result<u32, String> {
	let key = pallet_marketplace::PoolMemberCount::<Runtime>::hashed_key_for(0);
	Ok(node.storage::<u32>(&key, None).await?.unwrap_or_default())
}

/// Charlie publishes an order of pool 0 for 100 tasks of `category` up to `trust`, with `tag`,
/// at the pool price.
async fn publish_pool_order(node: &TestNode, category: &str, trust: u32, tag: u64) {
	let price = (POOL_PRICE / CMN).to_string();
	let (trust, tag) = (trust.to_string(), tag.to_string());
	let args = [
		"publish-workerpool-order",
		"--workerpool",
		"0",
		"--category",
		category,
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

/// `commons run` arguments for the monte-carlo app in `category` at `trust`.
fn request(category: &str, trust: &str, volume: &str, output: &Path) -> Vec<String> {
	let output = output.display().to_string();
	[
		"run",
		"--app",
		"0",
		"--category",
		category,
		"--trust",
		trust,
		"--volume",
		volume,
		"--params",
		PARAMS,
		"--max-price",
		"11",
		"--output",
		&output,
		"--timeout",
		"600",
	]
	.map(str::to_owned)
	.to_vec()
}

/// `request`'s arguments at trust 1 for the same module registered as a confidential app, `app`.
fn confidential_request(app: &str, category: &str, output: &Path) -> Vec<String> {
	let mut args = request(category, "1", "1", output);
	args[2] = app.to_owned();
	args.extend(["--tag".to_owned(), TEE_SGX.to_string()]);
	args
}

fn metric(text: &str, name: &str) -> u64 {
	text.lines()
		.find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
		.unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[tokio::test]
async fn a_local_market_serves_requests_replaces_dead_workers_and_slashes_a_cheater() {
	let _network = exclusive_network();
	let dir = TestDir::new("market");
	let modules = example_apps::build(&example_apps::default_target_dir()).expect("apps build");
	let module_path = modules.join("monte-carlo.wasm");
	let module = std::fs::read(&module_path).unwrap();

	let spec = local_spec_with_validators(
		&dir,
		"commons_market",
		&[(Alice, Ed25519::Alice), (Bob, Ed25519::Bob)],
	);
	insert_key(&dir, "alice", &spec, "schd", "//Ferdie");
	let nodes = start_validators(&dir, &spec, &[("alice", "--alice"), ("bob", "--bob")]).await;
	let node = &nodes[0];

	// Providers register and publish with the command line; governance adds a short category.
	let uri = format!("file://{}", module_path.display());
	let created =
		commons(node, Alice, &["create-app", "--name", "monte-carlo", "--uri", &uri]).await;
	assert_eq!(created.trim(), "app 0");
	let category = pallet_marketplace::Call::<Runtime>::create_category {
		name: b"test".to_vec().try_into().unwrap(),
		reference_time_secs: REFERENCE_TIME_SECS,
	};
	let sudo = pallet_sudo::Call::sudo { call: Box::new(RuntimeCall::Marketplace(category)) };
	let events = node.submit_and_wait(RuntimeCall::Sudo(sudo), &Alice.pair()).await.unwrap();
	let category = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::CategoryCreated {
				category,
				..
			}) => Some(category.to_string()),
			_ => None,
		})
		.expect("the category is created");
	let scheduler = Ferdie.to_account_id().to_string();
	let stake_percent = WORKER_STAKE.deconstruct().to_string();
	let reward_percent = SCHEDULER_REWARD.deconstruct().to_string();
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
	assert_eq!(pool.trim(), "workerpool 0");
	// Ferdie's key, in the validator's keystore, agrees to schedule the pool.
	commons(node, Ferdie, &["accept-scheduling", "--workerpool", "0"]).await;
	commons(node, Alice, &["publish-app-order", "--app", "0", "--price", "1", "--volume", "100"])
		.await;
	publish_pool_order(node, &category, 5, 0).await;

	// Two honest compute nodes join the pool themselves.
	let mut dave = ComputeNode::start(&dir, "compute-dave", node, "//Dave", 0, &[]);
	let mut eve =
		ComputeNode::start(&dir, "compute-eve", node, "//Eve", 0, &["--tee-simulated", "sgx"]);
	wait_for("both compute nodes to join", Duration::from_secs(60), || async {
		match pool_members(node).await? {
			2 => Ok(()),
			other => Err(format!("{other} members")),
		}
	})
	.await;

	// 1. Requests the market cannot serve fail clearly.
	let results = dir.path().join("results");
	let no_offer = cli(node, &suri(Bob), &request("0", "1", "1", &results)).await;
	let error = no_offer.expect_err("no workerpool sells category 0");
	assert!(error.contains("no compatible offer"), "{error}");
	let broke = cli(node, "//Nobody", &request(&category, "1", "1", &results)).await;
	let error = broke.expect_err("//Nobody has no funds");
	assert!(error.contains("insufficient funds"), "{error}");

	// 2. The warm-up: replicated tasks (trust 4 asks two fresh workers to agree).
	let warm_up = dir.path().join("warm-up");
	let started = std::time::Instant::now();
	let from = node.best_number().await.unwrap();
	let volume = WARM_UP_TASKS.to_string();
	commons(node, Bob, &request(&category, "4", &volume, &warm_up)).await;
	let seconds = started.elapsed().as_secs_f64();
	eprintln!(
		"MEASURED warm-up: {WARM_UP_TASKS} replicated tasks in {seconds:.0} s from request to \
		 last result fetched: {:.1} tasks per minute",
		f64::from(WARM_UP_TASKS) * 60.0 / seconds
	);
	let deal = deal_since(node, from).await;
	let first = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	let fetched = digest(&warm_up.join("0")).unwrap();
	assert_eq!(Hash::from(fetched), expected_digest(module.clone(), first).await);
	for worker in [Dave, Eve] {
		assert_eq!(score(node, &worker.to_account_id()).await, WARM_UP_TASKS, "{worker}");
	}
	let metrics = dave.metrics().unwrap();
	assert_eq!(metric(&metrics, "commons_compute_tasks_contributed_total"), 15);
	assert_eq!(metric(&metrics, "commons_compute_tasks_revealed_total"), 15);
	assert_eq!(metric(&metrics, "commons_compute_tasks_failed_total"), 0);

	// 3. A third node joins.
	let mut mallory = ComputeNode::start(&dir, "compute-mallory", node, "//Ferdie//stash", 0, &[]);
	wait_for("the third compute node to join", Duration::from_secs(60), || async {
		match pool_members(node).await? {
			3 => Ok(()),
			other => Err(format!("{other} members")),
		}
	})
	.await;

	// A compute node that crashes between its vote and its reveal comes back on its own state
	// and reveals, without voting again. Whichever of Dave and Eve the scheduler ranks first is
	// assigned with the newcomer, so both run in crash mode.
	for compute in [&mut dave, &mut eve] {
		compute.kill();
		compute.restart(&["--crash-after-contributing"]);
	}
	let from = node.best_number().await.unwrap();
	let crashed_output = dir.path().join("crashed");
	let restarted = async {
		loop {
			for compute in [&mut dave, &mut eve] {
				if compute.exited_within(Duration::from_millis(250)).await {
					compute.restart(&[]);
					return compute.name.clone();
				}
			}
		}
	};
	let crash_request = request(&category, "5", "1", &crashed_output);
	let (_, crashed) = tokio::join!(
		commons(node, Bob, &crash_request),
		tokio::time::timeout(Duration::from_secs(180), restarted)
	);
	let crashed = crashed.expect("one compute node voted and crashed");
	let (task_id, task) = only_task(node, from).await;
	assert_eq!((task.status, task.winners, task.reveals), (TaskStatus::Completed, 2, 2));
	let crashed = if crashed == dave.name { &mut dave } else { &mut eve };
	let log = crashed.log();
	assert_eq!(log.matches(&format!("contributed to task {task_id:?}")).count(), 1, "{log}");
	assert!(log.contains(&format!("revealed task {task_id:?}")), "{log}");
	// The other one leaves crash mode too.
	for compute in [&mut dave, &mut eve] {
		compute.kill();
		compute.restart(&[]);
	}
	let mallory_score = score(node, &FerdieStash.to_account_id()).await;
	assert_eq!(mallory_score, 1, "the newcomer won a replicated task");

	// 4. The third node turns cheater.
	mallory.kill();
	mallory.restart(&["--corrupt-results"]);
	wait_for("the cheater to start", Duration::from_secs(30), || async {
		mallory.log().contains("TEST MODE").then_some(()).ok_or("not yet".to_string())
	})
	.await;
	let accounts: Vec<AccountId> = [Alice, Bob, Charlie, Dave, Eve, Ferdie, FerdieStash]
		.map(|key| key.to_account_id())
		.into();
	let start = node.best_number().await.unwrap();
	let start_hash = node.block_hash(start).await.unwrap();
	let cheated = dir.path().join("cheated");
	commons(node, Bob, &request(&category, "5", "1", &cheated)).await;
	let (task_id, task) = only_task(node, start).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(
		Hash::from(digest(&cheated).unwrap()),
		expected_digest(module.clone(), task_id).await
	);
	assert_eq!(task.winners, 2);
	let end = node.best_number().await.unwrap();
	let end_hash = node.block_hash(end).await.unwrap();
	let events = events_between(node, start + 1, end).await;

	let mut fees: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for event in &events {
		if let RuntimeEvent::TransactionPayment(
			pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
		) = event
		{
			*fees.entry(who.clone()).or_default() += actual_fee + tip;
		}
	}
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
	// Its score is cut to two thirds: 1 becomes 0.
	assert_eq!(faulty, Some((FerdieStash.to_account_id(), 0, stake)), "the cheater is caught");
	assert_eq!(score(node, &FerdieStash.to_account_id()).await, 0);

	// The protocol's formulas (reference §5.2), to the unit.
	let total_reward = POOL_PRICE + stake;
	let workers_reward = (Percent::one() - SCHEDULER_REWARD).mul_floor(total_reward);
	// Both winners have weight 4, a share of floor(log2(4)) = 2 each.
	let reward = workers_reward * 2 / 4;
	// The kitty pays no share per task: nobody can farm it by self-dealing.
	assert_eq!(kitty_at(node, end_hash).await, kitty_at(node, start_hash).await);
	let scheduler_rest = total_reward - 2 * reward;
	let change: BTreeMap<AccountId, i128> = BTreeMap::from([
		(Alice.to_account_id(), APP_PRICE as i128),
		(Bob.to_account_id(), -((APP_PRICE + POOL_PRICE) as i128)),
		(Charlie.to_account_id(), scheduler_rest as i128),
		(Dave.to_account_id(), reward as i128),
		(Eve.to_account_id(), reward as i128),
		(Ferdie.to_account_id(), 0),
		(FerdieStash.to_account_id(), -(stake as i128)),
	]);
	for account in &accounts {
		let before = free_at(node, account, start_hash).await as i128;
		let after = free_at(node, account, end_hash).await as i128;
		let fee = fees.get(account).copied().unwrap_or_default() as i128;
		assert_eq!(after - before, change[account] - fee, "balance of {account}");
	}

	// 5. A confidential app runs only in an enclave of a measurement it allows: Eve's simulated
	// SGX enclave, registered when her compute node started, and labelled simulated.
	let enclave_key = pallet_attestation::Enclaves::<Runtime>::hashed_key_for(Eve.to_account_id());
	let enclave: pallet_attestation::Enclave = node
		.storage(&enclave_key, None)
		.await
		.unwrap()
		.expect("Eve's enclave is registered");
	assert_eq!(enclave.attester, pallet_attestation::Attester::Simulated);
	let measurement = match simulated_measurement(TeeKind::Sgx) {
		Measurement::SgxMrEnclave(bytes) => {
			format!("sgx:0x{}", sp_core::hexdisplay::HexDisplay::from(&bytes))
		}
		other => panic!("an SGX measurement is an MRENCLAVE, not {other:?}"),
	};
	let created = commons(
		node,
		Alice,
		&["create-app", "--name", "monte-carlo-tee", "--uri", &uri, "--measurement", &measurement],
	)
	.await;
	let tee_app = created.trim().strip_prefix("app ").expect("an app id").to_owned();
	let tag = TEE_SGX.to_string();
	commons(node, Alice, &["publish-app-order", "--app", &tee_app, "--price", "1", "--tag", &tag])
		.await;
	publish_pool_order(node, &category, 1, TEE_SGX).await;
	let from = node.best_number().await.unwrap();
	let confidential = dir.path().join("confidential");
	commons(node, Bob, &confidential_request(&tee_app, &category, &confidential)).await;
	let (task_id, task) = only_task(node, from).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(task.contributions.len(), 1);
	assert_eq!(task.contributions[0].worker, Eve.to_account_id(), "only Eve has an enclave");
	assert_eq!(
		Hash::from(digest(&confidential).unwrap()),
		expected_digest(module.clone(), task_id).await
	);

	// 6. A confidential dataset: Alice encrypts a CSV file, registers it as encrypted and runs
	// her key service. A TEE task of the statistics app on it gets the dataset's key sealed to
	// the assigned enclave (Eve's) and to nobody else, in one public event; the enclave opens
	// it, decrypts the data, and computes what the plain data gives here.
	let data = b"age,weight\n41,70.5\n29,61\n63,82.25\n".to_vec();
	let plain = dir.path().join("patients.csv");
	std::fs::write(&plain, &data).unwrap();
	let stored = dir.path().join("patients.csv.sealed");
	let keys = dir.path().join("keys");
	std::fs::create_dir_all(&keys).unwrap();
	let new_key = keys.join("new.key");
	let [plain_arg, stored_arg, key_arg] =
		[&plain, &stored, &new_key].map(|path| path.display().to_string());
	let encrypt =
		["encrypt-dataset", "--input", &plain_arg, "--output", &stored_arg, "--key-file", &key_arg];
	let checksum = commons(node, Alice, &encrypt).await;
	let stored_bytes = std::fs::read(&stored).unwrap();
	assert_ne!(stored_bytes, data, "the stored dataset is encrypted");
	let stored_uri = format!("file://{}", stored.display());
	let created = commons(
		node,
		Alice,
		&["create-dataset", "--name", "patients", "--uri", &stored_uri, "--encrypted"],
	)
	.await;
	let dataset = created.trim().strip_prefix("dataset ").expect("a dataset id").to_owned();
	let registered: pallet_marketplace::Dataset<Runtime> = node
		.storage(
			&pallet_marketplace::Datasets::<Runtime>::hashed_key_for(
				dataset.parse::<u32>().unwrap(),
			),
			None,
		)
		.await
		.unwrap()
		.expect("the dataset is registered");
	assert!(registered.encrypted);
	assert_eq!(
		format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&registered.checksum)),
		checksum.trim(),
		"the registered checksum is the encrypted file's"
	);
	std::fs::rename(&new_key, keys.join(format!("{dataset}.key"))).unwrap();
	let mut key_service = KeyService::start(&dir, node, "//Alice", &keys);
	wait_for("the key service to start", Duration::from_secs(30), || async {
		key_service
			.log()
			.contains("following from block")
			.then_some(())
			.ok_or("not yet".to_string())
	})
	.await;

	let stats_module = std::fs::read(modules.join("csv-stats.wasm")).unwrap();
	let stats_uri = format!("file://{}", modules.join("csv-stats.wasm").display());
	let created = commons(
		node,
		Alice,
		&[
			"create-app",
			"--name",
			"csv-stats-tee",
			"--uri",
			&stats_uri,
			"--measurement",
			&measurement,
		],
	)
	.await;
	let stats_app = created.trim().strip_prefix("app ").expect("an app id").to_owned();
	for (kind, id) in [("app", &stats_app), ("dataset", &dataset)] {
		let command = format!("publish-{kind}-order");
		let flag = format!("--{kind}");
		commons(node, Alice, &[&command, &flag, id, "--price", "1", "--tag", &tag]).await;
	}
	let from = node.best_number().await.unwrap();
	let statistics = dir.path().join("statistics");
	let statistics_arg = statistics.display().to_string();
	let run = [
		"run",
		"--app",
		&stats_app,
		"--dataset",
		&dataset,
		"--category",
		&category,
		"--trust",
		"1",
		"--tag",
		&tag,
		"--max-price",
		"12",
		"--output",
		&statistics_arg,
		"--timeout",
		"600",
	];
	// The key service is down when the task is assigned: the enclave waits for its key, and the
	// restarted service catches up from where it stopped reading.
	key_service.kill();
	let waited = async {
		wait_for("the enclave to wait for its key", Duration::from_secs(120), || async {
			eve.log()
				.contains("waiting for the dataset's key")
				.then_some(())
				.ok_or("not yet".to_string())
		})
		.await;
		key_service.restart();
	};
	tokio::join!(commons(node, Bob, &run), waited);
	let (task_id, task) = only_task(node, from).await;
	assert_eq!(task.status, TaskStatus::Completed);
	assert_eq!(task.contributions[0].worker, Eve.to_account_id());
	assert!(task.dataset_keys.is_empty(), "a settled task keeps no sealed key");
	let to = node.best_number().await.unwrap();
	let releases: Vec<(AccountId, [u8; 32])> = events_between(node, from, to)
		.await
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Contribution(pallet_contribution::Event::DatasetKeyReleased {
				task,
				dataset: released,
				worker,
				enclave_key,
			}) if task == task_id && released.to_string() == dataset => Some((worker, enclave_key)),
			_ => None,
		})
		.collect();
	assert_eq!(releases, vec![(Eve.to_account_id(), enclave.keys.encryption)]);
	assert!(key_service.log().contains(&format!("for task {task_id:?}")), "{}", key_service.log());
	assert_eq!(
		Hash::from(digest(&statistics).unwrap()),
		digest_here(stats_module, task_id, b"", Some(data)).await,
		"the enclave computed on the decrypted data"
	);
	let eve_input = eve.work_dir.join("inputs").join(format!("{task_id:?}"));
	assert!(!eve_input.exists(), "the decrypted dataset does not outlive the run");

	// 7. The two honest nodes die but still look alive to the scheduler (the third one is
	// honest again): the task is assigned to each of them in turn, then to the third node.
	mallory.kill();
	mallory.restart(&[]);
	let scores_before =
		[score(node, &Dave.to_account_id()).await, score(node, &Eve.to_account_id()).await];
	dave.kill();
	eve.kill();
	let from = node.best_number().await.unwrap();
	let reassigned = dir.path().join("reassigned");
	commons(node, Bob, &request(&category, "1", "1", &reassigned)).await;
	let (task_id, task) = only_task(node, from).await;
	let to = node.best_number().await.unwrap();
	let assignments: Vec<Vec<AccountId>> = events_between(node, from, to)
		.await
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
				task,
				workers,
			}) if task == task_id => Some(workers.into_inner()),
			_ => None,
		})
		.collect();
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
	let replaced: Vec<(AccountId, u32)> = events_between(node, from, to)
		.await
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Contribution(pallet_contribution::Event::SilentWorkerReplaced {
				task,
				worker,
				score,
			}) if task == task_id => Some((worker, score)),
			_ => None,
		})
		.collect();
	let cut = scores_before[usize::from(tried[0] != dead[0])] * 2 / 3;
	assert_eq!(replaced, vec![(tried[0].clone(), cut)]);
	assert_eq!(score(node, &tried[0]).await, cut);
	// And its place in the pool: it joins again when it restarts.
	let expelled: Vec<AccountId> = events_between(node, from, to)
		.await
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::WorkerExpelled {
				worker, ..
			}) => Some(worker),
			_ => None,
		})
		.collect();
	assert_eq!(expelled, vec![tried[0].clone()]);
	assert_eq!(task.contributions.len(), 1);
	assert_eq!(task.contributions[0].worker, FerdieStash.to_account_id(), "{assignments:?}");
	assert_eq!(
		Hash::from(digest(&reassigned).unwrap()),
		expected_digest(module.clone(), task_id).await
	);

	// The dead nodes restart on their own state and do not contribute to that task late; the
	// expelled one joins its pool again.
	dave.restart(&[]);
	eve.restart(&[]);
	tokio::time::sleep(Duration::from_secs(12)).await;
	for compute in [&dave, &eve] {
		let log = compute.log();
		assert!(!log.contains(&format!("contributed to task {task_id:?}")), "{}", compute.name);
	}
	let membership = pallet_marketplace::WorkerPool::<Runtime>::hashed_key_for(&tried[0]);
	wait_for("the expelled worker to join again", Duration::from_secs(60), || async {
		match node.storage::<u32>(&membership, None).await? {
			Some(0) => Ok(()),
			other => Err(format!("its pool: {other:?}")),
		}
	})
	.await;
}
