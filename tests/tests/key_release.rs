//! A dataset owner's key service decides before anything is published: it sends nothing to a
//! worker whose enclave changed after its assignment, nor to one whose enclave runs a
//! measurement the owner does not trust, though the app lists it. No transaction carries the key
//! to either. The same service releases the key once the first worker's registration is again
//! the enclave it was assigned with: it was running, and would have sent the key if allowed.
//!
//! One development node, no compute node: the test plays the workers (registering enclaves on
//! simulated evidence, which a development chain trusts with test data) and the scheduler
//! (Ferdie, whose key no node holds, so that only the test assigns).
//!
//! Alice, the owner, keeps her key cold: her service runs with a hot key she added as her
//! `KeyService` proxy. Its dry run says what is missing before she adds it, and that all is ready
//! after; its metrics count what it released and refused.

use std::{path::Path, time::Duration};

use commons_client::{Chain, Signer};
use commons_compute::tee::{simulated_measurement, SimulatedEnclave};
use commons_e2e::{
	chain::{deal_since, wait_for_event},
	cli,
	cli::{created_id, measurement_arg},
	cli_binary, commons, exclusive_network, suri, wait_for, KeyService, RunRequest, TestDir,
	TestNode,
};
use commons_runtime::{
	governance::ProxyType, AccountId, BalancesCall, BlockNumber, Runtime, RuntimeCall,
	RuntimeEvent, CMN,
};
use pallet_attestation::TeeKind;
use pallet_contribution::TaskId;
use pallet_marketplace::{AppId, DatasetId, Measurement, Tag, WorkerpoolId};
use sp_core::Pair;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};

/// SGX enclaves only.
const TEE_SGX: Tag = pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX;

/// A measurement an app lists but the dataset owner does not trust.
const UNTRUSTED: Measurement = Measurement::SgxMrEnclave([0x22; 32]);

#[tokio::test]
async fn the_key_service_sends_nothing_to_an_enclave_the_owner_did_not_allow() {
	let _network = exclusive_network();
	let dir = TestDir::new("key-release");
	let node = TestNode::start(&dir, "alice", &["--dev"]);
	node.wait_until_serving().await;

	let pool = scheduled_pool(&node).await;
	for worker in [Dave, Eve] {
		submit(&node, worker, join(pool)).await;
	}
	let trusted = simulated_measurement(TeeKind::Sgx);
	let first = SimulatedEnclave::load_or_create(&dir.process_dir("enclave-1"), TeeKind::Sgx)
		.expect("an enclave in a fresh directory");
	let other = SimulatedEnclave::load_or_create(&dir.process_dir("enclave-2"), TeeKind::Sgx)
		.expect("an enclave in a fresh directory");
	let untrusted = SimulatedEnclave::load_or_create(&dir.process_dir("enclave-3"), TeeKind::Sgx)
		.expect("an enclave in a fresh directory");
	register(&node, Eve, &first, trusted).await;
	register(&node, Dave, &untrusted, UNTRUSTED).await;

	// Alice's encrypted dataset, sold for two apps: one listing the measurement she trusts, one
	// listing another. Her key service trusts both apps but only the first measurement.
	let keys = dir.process_dir("keys");
	let dataset = encrypted_dataset(&node, &dir, &keys).await;
	let trusted_app = tee_app(&node, &dir, "trusted", trusted).await;
	let untrusted_app = tee_app(&node, &dir, "untrusted", UNTRUSTED).await;
	for app in [trusted_app, untrusted_app] {
		publish_orders(&node, app, dataset).await;
	}
	// Bob, who buys the tasks, needs a result key: results of encrypted data are sealed to it.
	let result_key = dir.path().join("bob-result.key");
	let key_arg = result_key.display().to_string();
	commons(&node, Bob, &["result-key", "--key-file", &key_arg]).await;
	// Alice's service runs with a hot key that pays its fees. Until she adds it as her
	// `KeyService` proxy, a dry run says it is not ready, and what to do.
	let apps = [trusted_app, untrusted_app];
	let measurements = [measurement_arg(trusted)];
	let proxy_for = ["--proxy-for".to_owned(), Alice.to_account_id().to_string()];
	let dry_run = || {
		let mut args = KeyService::arguments(&node, HOT_KEY, &keys, &apps, &measurements);
		args.extend(proxy_for.iter().cloned());
		args.push("--dry-run".into());
		let output = std::process::Command::new(cli_binary()).args(args).output().unwrap();
		let said = String::from_utf8_lossy(&output.stdout).into_owned();
		(output.status.success(), said + &String::from_utf8_lossy(&output.stderr))
	};
	let hot = sp_core::sr25519::Pair::from_string(HOT_KEY, None).unwrap().public();
	let hot = AccountId::from(hot);
	let fund = BalancesCall::transfer_keep_alive { dest: hot.clone().into(), value: 10 * CMN };
	submit(&node, Alice, RuntimeCall::Balances(fund)).await;
	let (ready, said) = dry_run();
	assert!(!ready && said.contains("NOT READY") && said.contains("proxy.addProxy"), "{said}");
	let add = pallet_proxy::Call::add_proxy {
		delegate: hot.into(),
		proxy_type: ProxyType::KeyService,
		delay: 0,
	};
	submit(&node, Alice, RuntimeCall::Proxy(add)).await;
	hot_key_does_nothing_else(&node, dataset).await;
	let (ready, said) = dry_run();
	assert!(ready, "{said}");
	for found in ["as its KeyService proxy", &format!("dataset {dataset}'s key is in")] {
		assert!(said.contains(found), "{found:?} not in {said}");
	}
	let mut key_service =
		KeyService::start(&dir, &node, HOT_KEY, &keys, &apps, &measurements, &proxy_for);
	key_service.wait_until_caught_up(&node).await;
	let from = node.best_number().await.unwrap();

	// While the key service is down, Eve is assigned a task of the trusted app with her first
	// enclave, then registers another (the attack: an enclave she controls), and Dave is
	// assigned one of the other app. Once that is final, the service starts again and reads
	// the assignments it missed. (Had it been up, it might have sealed the key to Eve's first
	// enclave before she swapped it: to the enclave pinned at her assignment, which only that
	// enclave can open.)
	key_service.kill();
	let swapped = assigned_task(&node, &dir, &result_key, trusted_app, dataset, Eve).await;
	register(&node, Eve, &other, trusted).await;
	let refused = assigned_task(&node, &dir, &result_key, untrusted_app, dataset, Dave).await;
	wait_until_final(&node, node.best_number().await.unwrap()).await;
	key_service.restart();

	for reason in [
		"its registered enclave is not the one it was assigned with",
		"is not one the owner allows",
	] {
		wait_for(
			&format!("the key service to log {reason:?}"),
			Duration::from_secs(120),
			|| async {
				let log = key_service.log();
				if log.contains(reason) {
					Ok(())
				} else {
					Err(log)
				}
			},
		)
		.await;
	}
	let to = node.best_number().await.unwrap();
	assert_eq!(releases_sent(&node, from, to).await, Vec::<TaskId>::new(), "a key was sent");
	assert!(key_service.metric("commons_key_service_releases_refused_total").unwrap() >= 1);

	// Restarted now, the service still owes Eve her release, though its cursor is past her
	// assignment: it finds it in the open tasks on chain.
	key_service.kill();
	key_service.restart();
	key_service.wait_until_caught_up(&node).await;

	// Eve registers the enclave she was assigned with again: that one gets the key, sealed to
	// its key, and Dave's still gets nothing.
	register(&node, Eve, &first, trusted).await;
	let released_to = wait_for_event(
		&node,
		"the key to be released for Eve's task",
		to,
		Duration::from_secs(120),
		|event| match event {
			RuntimeEvent::Contribution(pallet_contribution::Event::DatasetKeyReleased {
				task,
				enclave_key,
				..
			}) if task == swapped => Some(enclave_key),
			_ => None,
		},
	)
	.await;
	assert_eq!(released_to.1, first.keys.encryption);
	let end = node.best_number().await.unwrap();
	assert_eq!(releases_sent(&node, from, end).await, vec![swapped], "only Eve's task got a key");
	assert!(!releases_sent(&node, from, end).await.contains(&refused));
	deals_and_tasks_are_listed(&node, [trusted_app, untrusted_app], swapped).await;
	// Every release it sent (one, unless a slow finality made it send it again) is on chain.
	let sent = releases_sent(&node, from, end).await.len() as u64;
	assert_eq!(key_service.metric("commons_key_service_releases_sent_total"), Ok(sent));
	// Only Dave's task was refused; Eve's was owed until its release was final.
	assert_eq!(key_service.metric("commons_key_service_releases_refused_total"), Ok(1));
}

/// Bob's deals and Eve's tasks, as `commons deals` and `commons tasks` list them to a script:
/// the two deals live (nobody computes their tasks), newest first, and each filter keeps only
/// what it names.
async fn deals_and_tasks_are_listed(
	node: &TestNode,
	[first_app, second_app]: [AppId; 2],
	eve_s_task: TaskId,
) {
	let listed = |args: &'static [&'static str], extra: Vec<String>| async move {
		let args: Vec<String> =
			["--json"].iter().chain(args).map(|arg| arg.to_string()).chain(extra).collect();
		let output = commons(node, Bob, &args).await;
		let value: serde_json::Value = serde_json::from_str(&output)
			.unwrap_or_else(|error| panic!("{args:?} printed {output:?}: {error}"));
		value
			.as_array()
			.unwrap_or_else(|| panic!("{args:?} printed no list: {value}"))
			.clone()
	};
	let bob = Bob.to_account_id().to_string();
	let deals = listed(&["deals", "--requester"], vec![bob.clone()]).await;
	let apps: Vec<_> = deals.iter().map(|deal| deal["app"]["id"].clone()).collect();
	assert_eq!(apps, [second_app, first_app], "{deals:?}");
	let of_first = listed(&["deals", "--app"], vec![first_app.to_string()]).await;
	assert_eq!(of_first.len(), 1, "{of_first:?}");
	let alice = Alice.to_account_id().to_string();
	assert!(listed(&["deals", "--requester"], vec![alice]).await.is_empty());
	let eve = Eve.to_account_id().to_string();
	let tasks = listed(&["tasks", "--status", "active", "--worker"], vec![eve.clone()]).await;
	let ids: Vec<_> = tasks.iter().map(|task| task["task"].clone()).collect();
	assert_eq!(ids, [serde_json::Value::from(format!("{eve_s_task:?}"))], "{tasks:?}");
	assert!(listed(&["tasks", "--status", "completed", "--worker"], vec![eve])
		.await
		.is_empty());
}

/// The key service's hot key: Alice's `KeyService` proxy.
const HOT_KEY: &str = "//Alice//key-service";

/// Alice's `KeyService` proxy can do nothing but releases for her: not move her funds, alone or
/// in a batch (whose calls are filtered one by one: the batch stops, the proxy call succeeds),
/// nor remove her dataset.
async fn hot_key_does_nothing_else(node: &TestNode, dataset: DatasetId) {
	let hot = sp_core::sr25519::Pair::from_string(HOT_KEY, None).unwrap();
	let alice = Alice.to_account_id();
	let signer = Signer::proxy_of(hot, alice.clone(), ProxyType::KeyService);
	let before = node.free_balance(&alice).await.unwrap();
	let transfer = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: Bob.to_account_id().into(),
		value: CMN,
	});
	let remove = RuntimeCall::Marketplace(pallet_marketplace::Call::remove_dataset { dataset });
	for call in [transfer.clone(), remove] {
		let refused = node.submit_and_wait(signer.call(call), signer.pair()).await;
		let error = refused.expect_err("a KeyService proxy made another call").to_string();
		assert!(error.contains("CallFiltered"), "{error}");
	}
	let batch = RuntimeCall::Utility(pallet_utility::Call::batch { calls: vec![transfer] });
	node.submit_and_wait(signer.call(batch), signer.pair()).await.unwrap();
	assert_eq!(node.free_balance(&alice).await.unwrap(), before);
	assert!(node.dataset(dataset).await.unwrap().is_some());
}

/// Waits until `block` is finalized.
async fn wait_until_final(node: &TestNode, block: BlockNumber) {
	wait_for(&format!("block #{block} to be final"), Duration::from_secs(60), || async {
		match node.finalized_number().await {
			Ok(finalized) if finalized >= block => Ok(()),
			other => Err(format!("finalized: {other:?}")),
		}
	})
	.await;
}

/// Charlie's workerpool of SGX workers, scheduled by Ferdie, with an order selling its tasks.
async fn scheduled_pool(node: &TestNode) -> WorkerpoolId {
	let ferdie = Ferdie.to_account_id().to_string();
	let create = ["create-workerpool", "--description", "pool", "--scheduler", &ferdie];
	let pool = created_id(&commons(node, Charlie, &create).await, "workerpool");
	let id = pool.to_string();
	commons(node, Ferdie, &["accept-scheduling", "--workerpool", &id]).await;
	let tag = TEE_SGX.to_string();
	let order = [
		"publish-workerpool-order",
		"--workerpool",
		&id,
		"--price",
		"1",
		"--volume",
		"10",
		"--tag",
		&tag,
	];
	commons(node, Charlie, &order).await;
	pool
}

/// A worker's call joining `pool` as an SGX worker.
fn join(pool: WorkerpoolId) -> RuntimeCall {
	RuntimeCall::Marketplace(pallet_marketplace::Call::join_workerpool {
		workerpool: pool,
		endpoint: b"http://127.0.0.1:1".to_vec().try_into().unwrap(),
		capabilities: TEE_SGX,
	})
}

/// `who` registers `enclave` as being of `measurement`, on simulated evidence.
async fn register(
	node: &TestNode,
	who: Sr25519Keyring,
	enclave: &SimulatedEnclave,
	measurement: Measurement,
) {
	// The evidence binds the last finalized block, as a compute node's does.
	let genesis = node.block_hash(0).await.unwrap();
	let anchor = node.finalized_number().await.unwrap();
	let anchor_hash = node.block_hash(anchor).await.unwrap();
	let binding = pallet_attestation::Pallet::<Runtime>::report_data_for(
		&who.to_account_id(),
		&enclave.keys,
		genesis.as_ref(),
		anchor_hash.as_ref(),
	);
	let call = pallet_attestation::Call::register_simulated {
		kind: TeeKind::Sgx,
		measurement,
		keys: enclave.keys,
		proof: enclave.sign(&binding),
		anchor,
	};
	submit(node, who, RuntimeCall::Attestation(call)).await;
}

/// Submits `call` signed by `who` and waits for it to succeed.
async fn submit(chain: &Chain, who: Sr25519Keyring, call: RuntimeCall) {
	chain
		.submit_and_wait(call, &who.pair())
		.await
		.unwrap_or_else(|error| panic!("a call by {who} failed: {error}"));
}

/// Alice's encrypted dataset, its key kept where her key service reads it.
async fn encrypted_dataset(node: &TestNode, dir: &TestDir, keys: &Path) -> DatasetId {
	let plain = dir.path().join("data.csv");
	std::fs::write(&plain, b"a,b\n1,2\n").unwrap();
	let stored = dir.path().join("data.csv.sealed");
	let new_key = keys.join("new.key");
	let [plain, stored_arg, key] =
		[&plain, &stored, &new_key].map(|path| path.display().to_string());
	let encrypt =
		["encrypt-dataset", "--input", &plain, "--output", &stored_arg, "--key-file", &key];
	commons(node, Alice, &encrypt).await;
	let uri = format!("file://{}", stored.display());
	let create = ["create-dataset", "--name", "data", "--uri", &uri, "--encrypted"];
	let dataset = created_id(&commons(node, Alice, &create).await, "dataset");
	std::fs::rename(&new_key, keys.join(format!("{dataset}.key"))).unwrap();
	dataset
}

/// Alice's TEE app `name` allowing `measurement` (its module is never run here).
async fn tee_app(node: &TestNode, dir: &TestDir, name: &str, measurement: Measurement) -> AppId {
	let module = dir.path().join(format!("{name}.wasm"));
	std::fs::write(&module, name.as_bytes()).unwrap();
	let uri = format!("file://{}", module.display());
	let measurement = measurement_arg(measurement);
	let create = ["create-app", "--name", name, "--uri", &uri, "--measurement", &measurement];
	created_id(&commons(node, Alice, &create).await, "app")
}

/// Alice's orders selling `app` and `dataset` for that app, to SGX enclaves.
async fn publish_orders(node: &TestNode, app: AppId, dataset: DatasetId) {
	let (app, dataset, tag) = (app.to_string(), dataset.to_string(), TEE_SGX.to_string());
	commons(node, Alice, &["publish-app-order", "--app", &app, "--price", "1", "--tag", &tag])
		.await;
	let order = [
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
	commons(node, Alice, &order).await;
}

/// A task of `app` on `dataset` that Bob buys (his results sealed to the key in `result_key`),
/// opened and assigned to `worker` by the scheduler.
async fn assigned_task(
	node: &TestNode,
	dir: &TestDir,
	result_key: &Path,
	app: AppId,
	dataset: DatasetId,
	worker: Sr25519Keyring,
) -> TaskId {
	let from = node.best_number().await.unwrap();
	let output = dir.path().join(format!("result-{app}"));
	// Bob's request is matched; nobody computes it, so `commons run` gives up waiting, which is
	// all the test needs of it.
	let request = RunRequest::new(app, "20", &output)
		.dataset(dataset)
		.tag(TEE_SGX)
		.timeout_secs(1)
		.result_key_file(result_key)
		.args();
	let _ = cli(node, &suri(Bob), &request).await;
	let deal = deal_since(node, from).await;
	let task = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	if node.task(task).await.unwrap().is_none() {
		let open = pallet_contribution::Call::initialize { deal, index: 0 };
		submit(node, Bob, RuntimeCall::Contribution(open)).await;
	}
	let assign = pallet_contribution::Call::assign {
		task,
		workers: vec![worker.to_account_id()].try_into().unwrap(),
	};
	submit(node, Ferdie, RuntimeCall::Contribution(assign)).await;
	task
}

/// The tasks a dataset key release was sent for in blocks `from..=to`, whether the chain took
/// it or not: what every extrinsic of those blocks carried, made directly or through a proxy
/// or a batch.
async fn releases_sent(node: &TestNode, from: BlockNumber, to: BlockNumber) -> Vec<TaskId> {
	let mut tasks = Vec::new();
	for number in from..=to {
		for call in node.block_calls(number).await.unwrap() {
			releases_in(&call, &mut tasks);
		}
	}
	tasks
}

/// Adds to `tasks` those `call` releases a key for, however deep it carries the release.
fn releases_in(call: &RuntimeCall, tasks: &mut Vec<TaskId>) {
	match call {
		RuntimeCall::Contribution(pallet_contribution::Call::release_dataset_key {
			task, ..
		}) => tasks.push(*task),
		RuntimeCall::Proxy(pallet_proxy::Call::proxy { call, .. }) => releases_in(call, tasks),
		RuntimeCall::Utility(
			pallet_utility::Call::batch { calls }
			| pallet_utility::Call::batch_all { calls }
			| pallet_utility::Call::force_batch { calls },
		) => calls.iter().for_each(|call| releases_in(call, tasks)),
		_ => {}
	}
}
