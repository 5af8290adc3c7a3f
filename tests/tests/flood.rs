//! Bursts of transactions larger than the node's transaction pool: the `commons` command line,
//! the scheduler's off-chain worker and a compute node each have a transaction refused (the pool
//! is full) or dropped (pushed out by transactions that outrank it), notice it, submit it again,
//! and the task they serve is settled once.
//!
//! The dev node runs with a pool of [`POOL_LIMIT`] transactions. A [`Flood`] fills it with more
//! balance transfers than it holds: a transfer is lighter than any marketplace call, so it has
//! the higher priority, and the pool keeps the transfers. The fork-aware pool counts a
//! transaction until its block is finalized, so one round of transfers keeps the pool full for a
//! few blocks. Each actor is flooded when it is about to submit:
//!
//! 1. the command line's match, from the start: the pool refuses it, and it is submitted again
//!    until the flood has passed;
//! 2. the off-chain worker's assignment, which it submits on importing the match's block: the
//!    flood comes a second later and pushes it out of the pool, unseen by the worker, which
//!    takes it for lost once its nonce has not moved for 10 blocks, and submits it again;
//! 3. the compute node's vote: the flood comes as soon as the assignment shows on chain, while
//!    the node computes (a run of a few seconds), and the pool refuses the vote, submitted again
//!    each round until the flood has passed.
//!
//! What the compute node did is read from its Prometheus counters and the chain's events. The
//! off-chain worker has no metrics of its own (it runs in the runtime), so what it noticed is read
//! from the node's log.

use std::{
	process::Stdio,
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

use commons_client::{Chain, ClientError};
use commons_compute::example_apps;
use commons_e2e::{
	chain::{events_between, pool_members, wait_for_event},
	cli::{cli_binary, created_id},
	commons, exclusive_network, insert_key, suri, wait_for, ComputeNode, RunRequest,
	TaskCounter::{Contributed, Failed, PoolFull},
	TestDir, TestNode,
};
use commons_runtime::{
	signing::{sign, Lifetime},
	BalancesCall, RuntimeCall, RuntimeEvent, CMN,
};
use pallet_marketplace::{AppId, WorkerpoolId};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The node's transaction pool: this many ready transactions, and a tenth of it more waiting for
/// an earlier nonce.
const POOL_LIMIT: u32 = 32;
/// Transfers in a round of the flood, from as many accounts: more than the pool holds.
const PER_ROUND: u32 = 40;
/// Rounds before an account sends again: its last transfer is finalized by then.
const ROTATION: u32 = 6;
/// The monte-carlo app, the first one registered, and the only pool, Charlie's.
const MONTE_CARLO: AppId = 0;
const POOL: WorkerpoolId = 0;
/// Enough samples for a run of a few seconds, so that the flood is in the pool before the vote.
const PARAMS: &str = "--samples 400000000 --seed 7";
const PHASE: Duration = Duration::from_secs(120);

#[tokio::test]
async fn flooded_transactions_are_submitted_again_and_nothing_is_lost() {
	let _network = exclusive_network();
	let dir = TestDir::new("flood");
	let modules = example_apps::build(&example_apps::default_target_dir()).expect("apps build");
	// The node's off-chain worker schedules the pool with Ferdie's key.
	insert_key(&dir, "alice", "dev", "schd", &suri(Ferdie));
	let node = TestNode::start(&dir, "alice", &["--dev", "--pool-limit", &POOL_LIMIT.to_string()]);
	node.wait_until_serving().await;
	providers_open_the_market(&node, &modules.join("monte-carlo.wasm").display().to_string()).await;
	let compute = ComputeNode::start(&dir, "compute-dave", &node, &suri(Dave), POOL, &[]);
	wait_for("Dave's compute node to join", Duration::from_secs(60), || async {
		match pool_members(&node, POOL).await? {
			1 => Ok(()),
			other => Err(format!("{other} members")),
		}
	})
	.await;
	let flood = Flood::start(&node).await;

	// 1. Bob's request, into a full pool.
	flood.on();
	wait_for("the pool to be full", PHASE, || async {
		match flood.full.load(Ordering::SeqCst) {
			0 => Err("no transfer refused yet".to_string()),
			_ => Ok(()),
		}
	})
	.await;
	let from = node.best_number().await.unwrap();
	let output = dir.path().join("results");
	let request = RunRequest::new(MONTE_CARLO, "11", &output)
		.params(PARAMS)
		.timeout_secs(600)
		.args();
	let mut run = tokio::process::Command::new(cli_binary())
		.args(["--rpc", &node.rpc_url(), "--key", &suri(Bob)])
		.args(&request)
		.stdin(Stdio::null())
		.stdout(Stdio::null())
		.stderr(Stdio::piped())
		.spawn()
		.expect("commons runs");
	let said = Arc::new(Mutex::new(String::new()));
	let mut lines = BufReader::new(run.stderr.take().unwrap()).lines();
	let heard = said.clone();
	tokio::spawn(async move {
		while let Ok(Some(line)) = lines.next_line().await {
			eprintln!("commons: {line}");
			let mut said = heard.lock().unwrap();
			said.push_str(&line);
			said.push('\n');
		}
	});
	wait_for("the command line to submit its match again", PHASE, || async {
		match said.lock().unwrap().contains("signed and submitted again") {
			true => Ok(()),
			false => Err("not yet".to_string()),
		}
	})
	.await;
	flood.off();

	// 2. The off-chain worker's assignment, pushed out of the pool after it was taken.
	let (matched, _) = wait_for_event(&node, "the match", from, PHASE, |event| match event {
		RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated { deal, .. }) => {
			Some(deal)
		}
		_ => None,
	})
	.await;
	tokio::time::sleep(Duration::from_secs(1)).await;
	flood.on();
	wait_for("two flooded blocks", PHASE, || async {
		match node.best_number().await? {
			best if best >= matched + 2 => Ok(()),
			best => Err(format!("best block {best}")),
		}
	})
	.await;
	flood.off();
	let (assigned, _) = wait_for_event(&node, "the assignment", matched, PHASE, |event| {
		matches!(
			event,
			RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned { .. })
		)
		.then_some(())
	})
	.await;
	assert!(assigned > matched + 2, "the first assignment was not pushed out: block {assigned}");
	let log = node.log();
	assert!(log.contains("taken for lost"), "the scheduler did not notice its loss");

	// 3. The compute node's vote, into a full pool.
	flood.on();
	wait_for("the compute node to find the pool full", PHASE, || async {
		match compute.count(PoolFull)? {
			0 => Err("its vote not refused yet".to_string()),
			_ => Ok(()),
		}
	})
	.await;
	flood.off();

	let status = tokio::time::timeout(Duration::from_secs(600), run.wait())
		.await
		.expect("commons run ends")
		.unwrap();
	flood.stop();
	assert!(status.success(), "commons run failed: {}", said.lock().unwrap());
	let result = std::fs::read_to_string(output.join("result.json")).expect("the result fetched");
	assert!(result.contains("\"samples\":400000000"), "{result}");

	// And the task was served once: one vote, one settlement.
	assert_eq!(compute.count(Contributed).unwrap(), 1);
	assert_eq!(compute.count(Failed).unwrap(), 0);
	let to = node.best_number().await.unwrap();
	let events = events_between(&node, from, to).await;
	let count = |wanted: fn(&RuntimeEvent) -> bool| events.iter().filter(|e| wanted(e)).count();
	let contributed = count(|event| {
		matches!(event, RuntimeEvent::Contribution(pallet_contribution::Event::Contributed { .. }))
	});
	let finalized = count(|event| {
		matches!(
			event,
			RuntimeEvent::Contribution(pallet_contribution::Event::TaskFinalized { .. })
		)
	});
	assert_eq!((contributed, finalized), (1, 1), "one vote, one settlement");
}

/// Alice sells the monte-carlo app (at `module`), Charlie a pool scheduled by Ferdie (whose key
/// the node holds) for the dev chain's category 0 at trust 1.
async fn providers_open_the_market(node: &TestNode, module: &str) {
	let uri = format!("file://{module}");
	let app = commons(node, Alice, &["create-app", "--name", "monte-carlo", "--uri", &uri]).await;
	assert_eq!(created_id(&app, "app"), MONTE_CARLO);
	let scheduler = Ferdie.to_account_id().to_string();
	let create = ["create-workerpool", "--description", "pool", "--scheduler", &scheduler];
	assert_eq!(created_id(&commons(node, Charlie, &create).await, "workerpool"), POOL);
	let pool = POOL.to_string();
	commons(node, Ferdie, &["accept-scheduling", "--workerpool", &pool]).await;
	let app = MONTE_CARLO.to_string();
	commons(node, Alice, &["publish-app-order", "--app", &app, "--price", "1"]).await;
	let order = ["publish-workerpool-order", "--workerpool", &pool, "--category", "0"];
	commons(node, Charlie, &[&order[..], &["--trust", "1", "--price", "10"]].concat()).await;
}

/// Rounds of [`PER_ROUND`] balance transfers, one at once when turned on and one after each
/// block while on, each from accounts that have sent nothing for [`ROTATION`] rounds.
struct Flood {
	/// Transfers the pool had no room for.
	full: Arc<AtomicU64>,
	on: Arc<AtomicBool>,
	stopped: Arc<AtomicBool>,
}

impl Flood {
	/// Funds the accounts (from Eve), and waits to be turned on.
	async fn start(node: &TestNode) -> Self {
		let accounts: Vec<sr25519::Pair> = (0..PER_ROUND * ROTATION)
			.map(|n| sr25519::Pair::from_string(&format!("//flood//{n}"), None).unwrap())
			.collect();
		let fund = accounts
			.iter()
			.map(|pair| {
				let dest = commons_runtime::AccountId::from(pair.public()).into();
				RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
					dest,
					value: 1_000 * CMN,
				})
			})
			.collect();
		let fund = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: fund });
		node.submit_and_wait(fund, &Eve.pair()).await.unwrap();

		let flood = Self { full: Arc::default(), on: Arc::default(), stopped: Arc::default() };
		let chain = Chain::new("alice", &node.rpc_url()).unwrap();
		let identity = node.chain_identity().await.unwrap();
		let (full, on, stopped) = (flood.full.clone(), flood.on.clone(), flood.stopped.clone());
		tokio::spawn(async move {
			let (mut flooded, mut rounds) = (None, 0u32);
			while !stopped.load(Ordering::SeqCst) {
				tokio::time::sleep(Duration::from_millis(50)).await;
				if !on.load(Ordering::SeqCst) {
					flooded = None;
					continue;
				}
				let Ok(best) = chain.best_number().await else { continue };
				if flooded == Some(best) {
					continue;
				}
				flooded = Some(best);
				let first = (rounds % ROTATION * PER_ROUND) as usize;
				rounds += 1;
				let transfers = accounts[first..first + PER_ROUND as usize].iter().map(|pair| {
					let (chain, identity) = (&chain, &identity);
					async move {
						let nonce = chain.next_nonce(&pair.public().into()).await?;
						let call = BalancesCall::transfer_keep_alive {
							dest: Eve.to_account_id().into(),
							value: CMN,
						};
						let transfer =
							sign(call.into(), pair, nonce, Lifetime::Immortal, 0, identity);
						chain.submit(&transfer).await
					}
				});
				for outcome in futures::future::join_all(transfers).await {
					if let Err(ClientError::PoolFull) = outcome {
						full.fetch_add(1, Ordering::SeqCst);
					}
				}
			}
		});
		flood
	}

	/// Floods at once, then after each block.
	fn on(&self) {
		self.on.store(true, Ordering::SeqCst);
	}

	fn off(&self) {
		self.on.store(false, Ordering::SeqCst);
	}

	fn stop(&self) {
		self.stopped.store(true, Ordering::SeqCst);
	}
}
