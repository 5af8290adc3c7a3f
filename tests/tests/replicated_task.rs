//! A replicated task on a dev chain, computed by two real compute nodes: registrations, presigned
//! orders matched into a deal, and then, with nobody else acting, the node's scheduler off-chain
//! worker (holding the pool's scheduler key) opens and assigns the task, both compute nodes run
//! the example app, vote and reveal, and the chain pays them.

use std::time::Duration;

use commons_compute::{digest, example_apps, execute, Job, Limits};
use commons_e2e::{exclusive_network, insert_key, wait_for, ComputeNode, TestDir, TestNode};
use commons_runtime::{AccountId, Hash, Runtime, RuntimeCall, RuntimeEvent, CMN};
use pallet_contribution::{Task, TaskStatus};
use pallet_marketplace::{
	AppOrder, Order, Payer, PoolPolicy, RequestOrder, Restriction, Signed, WorkerpoolOrder,
};
use sha2::{Digest as _, Sha256};
use sp_core::sr25519;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use sp_runtime::Percent;

const STEP: Duration = Duration::from_secs(60);
const PARAMS: &str = "--samples 50000 --seed 42";

fn pair(key: Sr25519Keyring) -> sr25519::Pair {
	key.pair()
}

fn bounded<S: frame_support::traits::Get<u32>>(bytes: &[u8]) -> frame_support::BoundedVec<u8, S> {
	bytes.to_vec().try_into().expect("fits")
}

/// Submits `call` signed by `key` and waits until `included` holds.
async fn submit_until<F, Fut>(
	node: &TestNode,
	key: Sr25519Keyring,
	call: RuntimeCall,
	what: &str,
	included: F,
) where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = Result<(), String>>,
{
	node.sign_and_submit(call, &pair(key))
		.await
		.unwrap_or_else(|error| panic!("{what}: {error}"));
	wait_for(what, STEP, included).await;
}

/// The first event `pick` accepts in blocks `from..=best`.
async fn find_event<T>(
	node: &TestNode,
	from: u32,
	mut pick: impl FnMut(RuntimeEvent) -> Option<T>,
) -> Result<T, String> {
	let best = node.best_number().await?;
	for number in from..=best {
		let hash = node.block_hash(number).await?;
		for record in node.events(hash).await? {
			if let Some(found) = pick(record.event) {
				return Ok(found);
			}
		}
	}
	Err(format!("no such event in blocks {from}..={best}"))
}

/// Whether `order` is presigned, its hash computed by the runtime's `MarketplaceApi`.
async fn is_presigned(node: &TestNode, order: Order<Runtime>) -> Result<(), String> {
	let encoded = sp_core::bytes::to_hex(&codec::Encode::encode(&order), false);
	let hex: String = node
		.rpc("state_call", commons_client::rpc_params!["MarketplaceApi_order_hash", encoded])
		.await?;
	let bytes = sp_core::bytes::from_hex(&hex).map_err(|error| error.to_string())?;
	let hash =
		<Hash as codec::Decode>::decode(&mut &bytes[..]).map_err(|error| error.to_string())?;
	let key = pallet_marketplace::Presigned::<Runtime>::hashed_key_for(hash);
	node.storage::<AccountId>(&key, None)
		.await?
		.map(|_| ())
		.ok_or("not presigned".to_string())
}

#[tokio::test]
async fn two_compute_nodes_complete_a_replicated_task_and_are_paid() {
	let _network = exclusive_network();
	let dir = TestDir::new("replicated-task");
	let modules = example_apps::build(&example_apps::default_target_dir()).expect("apps build");
	let module_path = modules.join("monte-carlo.wasm");
	let module = std::fs::read(&module_path).unwrap();
	let checksum: [u8; 32] = Sha256::digest(&module).into();

	// The dev node also holds Ferdie's key as a scheduler key: its off-chain worker schedules
	// the pool.
	insert_key(&dir, "alice", "dev", "schd", "//Ferdie");
	let node = TestNode::start(&dir, "alice", &["--dev"]);
	node.wait_until_serving().await;
	let _dave = ComputeNode::start(&dir, "compute-dave", &node, "//Dave", &[]);
	let _eve = ComputeNode::start(&dir, "compute-eve", &node, "//Eve", &[]);

	// Alice publishes the app; Charlie a pool scheduled by Ferdie's key; Dave and Eve join it.
	let app = pallet_marketplace::Call::<Runtime>::create_app {
		name: bounded(b"monte-carlo"),
		uri: bounded(format!("file://{}", module_path.display()).as_bytes()),
		checksum,
		measurements: Default::default(),
	};
	submit_until(
		&node,
		Alice,
		RuntimeCall::Marketplace(app),
		"the app to be registered",
		|| async {
			let key = pallet_marketplace::Apps::<Runtime>::hashed_key_for(0);
			node.storage::<pallet_marketplace::App<Runtime>>(&key, None)
				.await?
				.map(|_| ())
				.ok_or("no app 0".into())
		},
	)
	.await;
	let policy = PoolPolicy {
		worker_stake_ratio: Percent::from_percent(35),
		scheduler_reward_ratio: Percent::from_percent(5),
	};
	let pool = pallet_marketplace::Call::<Runtime>::create_workerpool {
		description: bounded(b"test pool"),
		policy,
		scheduler: Ferdie.to_account_id(),
		open: true,
	};
	submit_until(
		&node,
		Charlie,
		RuntimeCall::Marketplace(pool),
		"the pool to be registered",
		|| async {
			let key = pallet_marketplace::Workerpools::<Runtime>::hashed_key_for(0);
			node.storage::<pallet_marketplace::Workerpool<Runtime>>(&key, None)
				.await?
				.map(|_| ())
				.ok_or("no pool 0".into())
		},
	)
	.await;
	for worker in [Dave, Eve] {
		let join = pallet_marketplace::Call::<Runtime>::join_workerpool {
			workerpool: 0,
			endpoint: bounded(b"http://127.0.0.1:1"),
			capabilities: 0,
		};
		node.sign_and_submit(RuntimeCall::Marketplace(join), &pair(worker))
			.await
			.unwrap();
	}
	wait_for("both workers to join", STEP, || async {
		let key = pallet_marketplace::PoolMemberCount::<Runtime>::hashed_key_for(0);
		match node.storage::<u32>(&key, None).await? {
			Some(2) => Ok(()),
			other => Err(format!("{other:?} members")),
		}
	})
	.await;

	// Alice, Charlie and Bob presign their orders; Bob matches them.
	let app_order = AppOrder::<Runtime> {
		app: 0,
		price: CMN,
		volume: 1,
		tag: 0,
		dataset_restriction: Restriction::Any,
		workerpool_restriction: Restriction::Any,
		requester_restriction: Restriction::Any,
		salt: [1; 32],
		expiry: None,
	};
	let pool_order = WorkerpoolOrder::<Runtime> {
		workerpool: 0,
		price: 10 * CMN,
		volume: 1,
		tag: 0,
		category: 0,
		trust: 4,
		app_restriction: Restriction::Any,
		dataset_restriction: Restriction::Any,
		requester_restriction: Restriction::Any,
		salt: [2; 32],
		expiry: None,
	};
	let request = RequestOrder::<Runtime> {
		app: 0,
		app_max_price: CMN,
		dataset: None,
		dataset_max_price: 0,
		workerpool_restriction: Restriction::Any,
		workerpool_max_price: 10 * CMN,
		requester: Bob.to_account_id(),
		volume: 1,
		tag: 0,
		category: 0,
		// Two fresh workers agreeing reach trust 4.
		trust: 4,
		beneficiary: Bob.to_account_id(),
		params: bounded(PARAMS.as_bytes()),
		payer: Payer::Requester,
		salt: [3; 32],
		expiry: None,
	};
	for (key, order) in [
		(Alice, Order::App(app_order.clone())),
		(Charlie, Order::Workerpool(pool_order.clone())),
		(Bob, Order::Request(request.clone())),
	] {
		let presign = pallet_marketplace::Call::<Runtime>::presign_order { order };
		node.sign_and_submit(RuntimeCall::Marketplace(presign), &pair(key))
			.await
			.unwrap();
	}
	let start = node.best_number().await.unwrap();
	wait_for("the three orders to be presigned", STEP, || async {
		is_presigned(&node, Order::App(app_order.clone())).await?;
		is_presigned(&node, Order::Workerpool(pool_order.clone())).await?;
		is_presigned(&node, Order::Request(request.clone())).await
	})
	.await;
	let matched = pallet_marketplace::Call::<Runtime>::match_orders {
		app_order: Signed { order: app_order, signature: None },
		dataset_order: None,
		workerpool_order: Signed { order: pool_order, signature: None },
		request_order: Signed { order: request, signature: None },
		sponsor_signature: None,
	};
	node.sign_and_submit(RuntimeCall::Marketplace(matched), &pair(Bob))
		.await
		.unwrap();
	let deal = wait_for("the deal", STEP, || {
		find_event(&node, start, |event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated { deal, .. }) => {
				Some(deal)
			}
			_ => None,
		})
	})
	.await;

	// From here nobody acts: the scheduler's off-chain worker opens the task and, trust 4
	// asking for two agreeing fresh workers, assigns Dave and Eve.
	let task = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	let task_key = pallet_contribution::Tasks::<Runtime>::hashed_key_for(task);
	let completed =
		wait_for("the compute nodes to complete the task", Duration::from_secs(180), || async {
			let entry = node.storage::<Task<Runtime>>(&task_key, None).await?.ok_or("no task")?;
			match entry.status {
				TaskStatus::Completed => Ok(entry),
				status => Err(format!(
					"{status:?}, {} contributions, {} reveals",
					entry.contributions.len(),
					entry.reveals
				)),
			}
		})
		.await;

	// The digest is the app's output for these params, computed here independently.
	let expected = tokio::task::spawn_blocking(move || {
		let output = tempfile::tempdir().unwrap();
		let args: Vec<String> = PARAMS.split_whitespace().map(str::to_owned).collect();
		let job = Job {
			module: &module,
			args: &args,
			input: None,
			output: output.path(),
			seed: task.0,
			limits: Limits::for_reference_time(300),
		};
		execute(&job).expect("the app runs here too");
		digest(output.path()).unwrap()
	})
	.await
	.unwrap();
	assert_eq!(completed.result_digest, Some(Hash::from(expected)));
	assert_eq!(completed.winners, 2);
	let mut assigned = completed.assigned.to_vec();
	assigned.sort();
	let mut expected_workers = vec![Dave.to_account_id(), Eve.to_account_id()];
	expected_workers.sort();
	assert_eq!(assigned, expected_workers, "the scheduler assigned the pool's two workers");

	// Each worker earned half of 95 % of the pool price; the pool owner the rest.
	let rewards = find_event(&node, start, |event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::SchedulerRewarded {
			reward,
			..
		}) => Some(reward),
		_ => None,
	})
	.await
	.unwrap();
	assert_eq!(rewards, 10 * CMN - 2 * (95 * CMN / 10 / 2));
	for worker in [Dave, Eve] {
		let reward = find_event(&node, start, |event| match event {
			RuntimeEvent::Contribution(pallet_contribution::Event::WorkerRewarded {
				worker: who,
				reward,
				..
			}) if who == worker.to_account_id() => Some(reward),
			_ => None,
		})
		.await
		.unwrap();
		assert_eq!(reward, 95 * CMN / 10 / 2, "{worker:?}");
	}
}
