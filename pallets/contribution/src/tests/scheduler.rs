//! The scheduler's off-chain worker: what it submits, to whom it pushes, and when it holds back.

use crate::{
	mock::*,
	scheduler::SCHEDULER_KEY_TYPE,
	types::{TaskId, TaskStatus},
	Call, Scores, Tasks,
};
use codec::{Decode, Encode};
use frame_support::{
	assert_noop, assert_ok,
	traits::{Hooks, UnfilteredDispatchable},
};
use pallet_marketplace::{DealId, PoolMembers};
use sp_core::offchain::{
	testing::{OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keyring::Sr25519Keyring;
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::generic::Preamble;
use std::sync::Arc;

type Shared<S> = Arc<parking_lot::RwLock<S>>;

/// A test chain whose off-chain worker holds some scheduler keys.
struct Node {
	ext: sp_io::TestExternalities,
	worker: OffchainWorker,
}

/// What the off-chain worker sees and does: its HTTP requests and its transaction pool.
#[derive(Clone)]
struct OffchainWorker {
	http: Shared<OffchainState>,
	pool: Shared<PoolState>,
}

impl Node {
	fn with_scheduler_keys(keys: &[&str]) -> Self {
		let mut ext = new_test_ext();
		let (offchain, http) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let keystore = MemoryKeystore::new();
		for key in keys {
			keystore.sr25519_generate_new(SCHEDULER_KEY_TYPE, Some(key)).unwrap();
		}
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(KeystoreExt::new(keystore));
		Self { ext, worker: OffchainWorker { http, pool: pool_state } }
	}

	/// Runs `test` on the chain, then checks every pallet's invariants.
	fn run(&mut self, test: impl FnOnce(&OffchainWorker)) {
		let worker = self.worker.clone();
		self.ext.execute_with(|| {
			test(&worker);
			check_invariants();
		});
	}
}

impl OffchainWorker {
	/// Expects the off-chain worker to push `task` to one worker's endpoint.
	fn expect_push(&self, task: TaskId) {
		self.http.write().expect_request(PendingRequest {
			method: "POST".into(),
			uri: "http://127.0.0.1:8000/tasks".into(),
			headers: vec![("Content-Type".into(), "application/json".into())],
			body: format!("{{\"task\":\"{task:?}\"}}").into_bytes(),
			response: Some(Vec::new()),
			sent: true,
			..Default::default()
		});
	}

	/// Runs the off-chain worker at the current block and takes what it submitted: each call
	/// with its signer and nonce.
	fn offchain_worker(&self) -> Vec<(Call<Test>, AccountId, u32)> {
		Contribution::offchain_worker(System::block_number());
		std::mem::take(&mut self.pool.write().transactions)
			.into_iter()
			.map(|bytes| {
				let xt = Extrinsic::decode(&mut &bytes[..]).expect("a transaction");
				let Preamble::Signed(signer, (), nonce) = xt.preamble else {
					panic!("the scheduler signs its transactions")
				};
				let RuntimeCall::Contribution(call) = xt.function else {
					panic!("the scheduler calls the contribution pallet")
				};
				(call, signer, nonce.0)
			})
			.collect()
	}
}

impl OffchainWorker {
	/// Runs the off-chain worker expecting `pushes` pushes of `task`, and includes what it
	/// submitted.
	fn schedule_and_include(&self, task: TaskId, pushes: usize) {
		for _ in 0..pushes {
			self.expect_push(task);
		}
		for (call, signer, _) in self.offchain_worker() {
			include(call, &signer);
		}
	}
}

/// Makes a one-task deal of `spec` and opens its task.
fn opened_task(spec: DealSpec) -> TaskId {
	let deal = spec.make();
	assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
	task_of(deal, 0)
}

/// Dispatches `call` as `signer`, as the block that includes it would.
fn include(call: Call<Test>, signer: &AccountId) {
	assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(signer.clone())));
}

fn assigned(task: TaskId) -> Vec<AccountId> {
	Tasks::<Test>::get(task).expect("initialized").assigned.into_inner()
}

fn task_of(deal: DealId, index: u32) -> TaskId {
	Contribution::task_id(&deal, index)
}

fn next_block() {
	System::set_block_number(System::block_number() + 1);
	frame_system::BlockHash::<Test>::insert(System::block_number() - 1, sp_core::H256::random());
}

#[test]
fn the_scheduler_opens_assigns_and_pushes_a_deals_tasks() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		let scheduler = account(SCHEDULER);
		// Trust 4: two agreeing fresh workers per task.
		let deal = DealSpec { volume: 2, ..DealSpec::trust(4) }.make();

		for index in 0..2 {
			for _ in 0..2 {
				node.expect_push(task_of(deal, index));
			}
		}
		let submitted = node.offchain_worker();
		let [(call, signer, nonce)] = &submitted[..] else { panic!("one batch: {submitted:?}") };
		assert_eq!((signer, *nonce), (&scheduler, 0));
		let Call::open_and_assign { deal: opened, tasks } = call else {
			panic!("the deal's tasks opened and assigned: {call:?}")
		};
		assert_eq!(*opened, deal);
		assert_eq!(tasks.iter().map(|(index, _)| *index).collect::<Vec<_>>(), vec![0, 1]);
		for (_, workers) in tasks {
			assert_eq!(workers.len(), 2, "two fresh workers meet trust 4");
		}
		// Run again in the same block: the batch is in flight, nothing is repeated.
		assert!(node.offchain_worker().is_empty());
		include(call.clone(), signer);
		// The four assignments went to four different workers: the load is spread.
		let mut everyone: Vec<AccountId> =
			(0..2).flat_map(|index| assigned(task_of(deal, index))).collect();
		everyone.sort();
		everyone.dedup();
		assert_eq!(everyone.len(), 4);

		// Opened, assigned and pending: nothing more to do.
		next_block();
		assert!(node.offchain_worker().is_empty());
	});
}

#[test]
fn a_pool_whose_scheduler_did_not_accept_is_not_scheduled() {
	let mut node = Node::with_scheduler_keys(&["//Two"]);
	node.run(|node| {
		// The pool owner names the node's key as scheduler without asking it.
		let two = Sr25519Keyring::Two.to_account_id();
		assert_ok!(Marketplace::set_scheduler(
			RuntimeOrigin::signed(account(POOL_OWNER)),
			0,
			two.clone()
		));
		let deal = DealSpec::trust(1).make();
		assert!(node.offchain_worker().is_empty(), "the node serves no pool it did not accept");
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		assert_noop!(
			Contribution::assign(
				RuntimeOrigin::signed(two.clone()),
				task_of(deal, 0),
				vec![worker(1)].try_into().unwrap()
			),
			crate::Error::<Test>::NotScheduler
		);
		// Once it accepts, it schedules.
		assert_ok!(Marketplace::accept_scheduling(RuntimeOrigin::signed(two), 0));
		node.expect_push(task_of(deal, 0));
		assert_eq!(node.offchain_worker().len(), 1);
	});
}

#[test]
fn a_node_without_the_pools_key_schedules_nothing() {
	let mut node = Node::with_scheduler_keys(&["//Two"]);
	node.run(|node| {
		DealSpec::trust(1).make();
		assert!(node.offchain_worker().is_empty());
	});
}

#[test]
fn disagreement_brings_a_third_worker_and_a_newcomer_gets_a_place() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		// Workers 1 and 2 have earned weight 4; the others are newcomers (weight 2).
		Scores::<Test>::insert(POOL, worker(1), 15);
		Scores::<Test>::insert(POOL, worker(2), 15);
		let task = opened_task(DealSpec::trust(5));
		node.schedule_and_include(task, 2);
		// The best worker and a newcomer: 4 × 2 predicts consensus at trust 5.
		let first = assigned(task);
		assert_eq!(first.len(), 2);
		assert!(
			Scores::<Test>::get(POOL, &first[0]) == 15 && Scores::<Test>::get(POOL, &first[1]) == 0
		);

		// They disagree.
		assert_ok!(contribute(&first[0], task, digest(1)));
		assert_ok!(contribute(&first[1], task, digest(2)));
		next_block();
		node.expect_push(task);
		let submitted = node.offchain_worker();
		let [(Call::assign { workers, .. }, signer, _)] = &submitted[..] else {
			panic!("one more assignment: {submitted:?}")
		};
		// Only the other weight-4 worker can outvote the newcomer at trust 5.
		assert_eq!(workers.len(), 1);
		assert_eq!(Scores::<Test>::get(POOL, &workers[0]), 15);
		include(submitted[0].0.clone(), signer);
		assert_ok!(contribute(&workers[0], task, digest(1)));
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Revealing);
	});
}

#[test]
fn every_task_of_every_deal_is_opened_though_a_run_looks_at_only_some() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		// No worker is live, so the scheduler only opens tasks; six free deals hold more tasks
		// than one run looks at, and more batches than one run submits.
		System::set_block_number(LIVENESS_BLOCKS + 2);
		let free_deal = DealSpec {
			app_price: 0,
			dataset_price: None,
			pool_price: 0,
			volume: MAX_DEAL_VOLUME,
			..DealSpec::trust(1)
		};
		let deals: Vec<DealId> = (0..6).map(|_| free_deal.make()).collect();
		let mut runs = 0;
		loop {
			let submitted = node.offchain_worker();
			if submitted.is_empty() {
				break;
			}
			for (call, signer, _) in submitted {
				let Call::open_and_assign { tasks, .. } = &call else { panic!("{call:?}") };
				assert!(tasks.iter().all(|(_, workers)| workers.is_empty()), "nobody is live");
				include(call, &signer);
			}
			next_block();
			runs += 1;
			assert!(runs < 20, "the pool owner keeps going round");
		}
		for deal in deals {
			for index in 0..MAX_DEAL_VOLUME {
				assert!(Tasks::<Test>::contains_key(task_of(deal, index)), "task {index}");
			}
		}
	});
}

#[test]
fn a_replicated_task_never_goes_to_one_worker_whatever_its_score() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		// Worker 1's weight (999) alone would meet trust 10 in the reference's vote.
		Scores::<Test>::insert(POOL, worker(1), 3_000);
		let task = opened_task(DealSpec::trust(10));
		node.schedule_and_include(task, 2);
		let workers = assigned(task);
		assert_eq!(workers.len(), 2);
		assert_eq!(workers[0], worker(1));

		// Its vote alone does not decide; a second agreeing one does.
		assert_ok!(contribute(&workers[0], task, digest(1)));
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Active);
		assert_ok!(contribute(&workers[1], task, digest(1)));
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Revealing);
	});
}

/// Moves `blocks` on, every worker of the pool still sending heartbeats.
fn after_blocks_with_live_workers(blocks: u64) {
	run_to_block(System::block_number() + blocks, frame_support::weights::Weight::zero());
	for n in 1..=WORKERS {
		assert_ok!(Marketplace::heartbeat(RuntimeOrigin::signed(worker(n))));
	}
}

/// Runs the off-chain worker, expecting one assignment of one worker to `task`; includes it and
/// returns the worker.
fn one_more_worker(node: &OffchainWorker, task: TaskId) -> AccountId {
	node.expect_push(task);
	let submitted = node.offchain_worker();
	let [(call @ Call::assign { workers, .. }, signer, _)] = &submitted[..] else {
		panic!("one more worker: {submitted:?}")
	};
	assert_eq!(workers.len(), 1);
	let assigned = workers[0].clone();
	include(call.clone(), signer);
	assigned
}

#[test]
fn a_silent_worker_is_replaced_after_the_reference_time() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		let task = opened_task(DealSpec::trust(1));
		node.schedule_and_include(task, 1);
		let first = assigned(task)[0].clone();
		Scores::<Test>::insert(POOL, &first, 9);

		// Within T, the worker is still expected.
		after_blocks_with_live_workers(T_BLOCKS - 1);
		assert!(node.offchain_worker().is_empty());
		// After T, another worker is assigned beside it: it may still be computing.
		after_blocks_with_live_workers(1);
		let second = one_more_worker(node, task);
		assert_eq!(assigned(task), vec![first.clone(), second.clone()]);

		// After 2T, the next assignment takes the first one's place in the task, a third of its
		// score and its place in the pool, and its late vote is refused.
		after_blocks_with_live_workers(T_BLOCKS);
		let third = one_more_worker(node, task);
		assert_eq!(assigned(task), vec![second.clone(), third.clone()]);
		assert_eq!(Scores::<Test>::get(POOL, &first), 6);
		assert!(!PoolMembers::<Test>::contains_key(POOL, &first));
		System::assert_has_event(
			pallet_marketplace::Event::WorkerExpelled { workerpool: POOL, worker: first.clone() }
				.into(),
		);
		assert_eq!(
			contribute(&first, task, digest(1)).map_err(|error| error.error),
			Err(crate::Error::<Test>::NotAssigned.into())
		);

		// Back in the pool (at the price of a transaction), still the best scored, the replaced
		// worker is never given the task again.
		assert_ok!(Marketplace::join_workerpool(
			RuntimeOrigin::signed(first.clone()),
			POOL,
			bounded(b"http://127.0.0.1:8000"),
			pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX,
		));
		after_blocks_with_live_workers(T_BLOCKS);
		let fourth = one_more_worker(node, task);
		assert!(![first, second, third].contains(&fourth), "{fourth:?}");
	});
}

#[test]
fn workers_without_a_recent_heartbeat_are_not_assigned() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		run_to_block(LIVENESS_BLOCKS + 1, frame_support::weights::Weight::zero());
		let deal = DealSpec::trust(1).make();
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		assert!(node.offchain_worker().is_empty(), "nobody is alive");

		assert_ok!(Marketplace::heartbeat(RuntimeOrigin::signed(worker(3))));
		node.expect_push(task_of(deal, 0));
		let submitted = node.offchain_worker();
		let [(Call::assign { workers, .. }, _, _)] = &submitted[..] else {
			panic!("an assignment: {submitted:?}")
		};
		assert_eq!(workers.to_vec(), vec![worker(3)]);
		assert!(PoolMembers::<Test>::contains_key(0, worker(3)));
	});
}

#[test]
fn the_scheduler_finalizes_after_the_reveal_window_and_reopens_when_nobody_revealed() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		// Trust 4 with two workers each: one task gets a reveal, the other none.
		let revealed = assigned_task(DealSpec::trust(4), &[worker(1), worker(2)]);
		let silent = assigned_task(DealSpec::trust(4), &[worker(3), worker(4)]);
		for task in [revealed, silent] {
			let workers = assigned(task);
			assert_ok!(contribute(&workers[0], task, digest(1)));
			assert_ok!(contribute(&workers[1], task, digest(1)));
		}
		assert_ok!(reveal(&worker(1), revealed, digest(1)));
		let deadline = Tasks::<Test>::get(revealed).unwrap().reveal_deadline.unwrap();
		run_to_block(deadline, frame_support::weights::Weight::zero());

		let mut submitted: Vec<Call<Test>> =
			node.offchain_worker().into_iter().map(|(call, _, _)| call).collect();
		submitted.sort_by_key(|call| matches!(call, Call::reopen { .. }));
		assert_eq!(
			submitted,
			vec![Call::finalize { task: revealed }, Call::reopen { task: silent }]
		);
	});
}

#[test]
fn the_schedulers_local_entries_are_deleted_once_their_deal_is_over() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		let deal = DealSpec::trust(4).make();
		let task = task_of(deal, 0);
		// Opened and assigned two workers in one call, under the lock of its batch.
		node.schedule_and_include(task, 2);
		let local = |key: &[u8]| {
			sp_io::offchain::local_storage_get(sp_core::offchain::StorageKind::PERSISTENT, key)
		};
		let cursor = [b"commons/scheduler/cursor/".as_slice(), deal.as_bytes()].concat();
		let batch = sp_io::hashing::blake2_256(&vec![(deal, 0u32)].encode());
		let lock = [b"commons/scheduler/lock/".as_slice(), batch.as_slice()].concat();
		assert!(local(&cursor).is_some() && local(&lock).is_some());

		// Until the deal's final deadline the entries are kept: the lock's backoff counts.
		// (Past the contribution deadline, so the node has nothing more to do for the task.)
		let final_deadline = Tasks::<Test>::get(task).unwrap().final_deadline;
		System::set_block_number(final_deadline);
		for _ in 0..10 {
			assert!(node.offchain_worker().is_empty());
		}
		assert!(local(&cursor).is_some() && local(&lock).is_some());
		// Each run deletes what is listed under at most 64 past blocks: a few runs catch up.
		next_block();
		for _ in 0..10 {
			node.offchain_worker();
		}
		assert_eq!((local(&cursor), local(&lock)), (None, None));
	});
}

#[test]
fn a_worker_expelled_by_one_assignment_is_not_given_another_task_in_the_same_run() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		// Task 0 is assigned to the pool's best worker, which then goes silent while its node
		// keeps sending heartbeats; task 1 of the same deal is opened 2T later.
		let deal = DealSpec { volume: 2, ..DealSpec::trust(1) }.make();
		let (silent, later) = (task_of(deal, 0), task_of(deal, 1));
		let best = worker(1);
		Scores::<Test>::insert(POOL, &best, 30);
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		assert_ok!(Contribution::assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			silent,
			vec![best.clone()].try_into().unwrap(),
		));
		after_blocks_with_live_workers(2 * T_BLOCKS);
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 1));

		// One run: the first assignment expels the silent worker, so the second, planned after
		// it in the same run, gives the other task to someone else.
		node.expect_push(silent);
		node.expect_push(later);
		let submitted = node.offchain_worker();
		assert_eq!(submitted.len(), 2, "{submitted:?}");
		for (call, signer, _) in submitted {
			let Call::assign { workers, .. } = &call else { panic!("an assignment: {call:?}") };
			assert!(!workers.contains(&best), "{call:?}");
			include(call, &signer);
		}
		assert!(!PoolMembers::<Test>::contains_key(POOL, &best));
	});
}

#[test]
fn transactions_the_pool_lost_are_signed_again_from_the_chains_nonce() {
	let mut node = Node::with_scheduler_keys(&["//One"]);
	node.run(|node| {
		let scheduler = account(SCHEDULER);
		// Nobody is alive: the scheduler only opens tasks, and a new deal every block keeps it
		// submitting.
		run_to_block(LIVENESS_BLOCKS + 1, frame_support::weights::Weight::zero());
		let mut deals = Vec::new();
		let mut pool: Vec<(Call<Test>, AccountId, u32)> = Vec::new();
		let mut signed = Vec::new();
		for block in 0..20 {
			deals.push(DealSpec::trust(1).make());
			let submitted = node.offchain_worker();
			signed.extend(submitted.iter().map(|(_, _, nonce)| *nonce));
			pool.extend(submitted);
			if block == 0 {
				// The pool drops the first transaction without a word.
				assert_eq!(pool.remove(0).2, 0);
			}
			// The block takes the transactions that continue the account's nonce, as a block
			// author does; the rest wait behind the gap.
			while let Some(at) = pool
				.iter()
				.position(|(_, _, nonce)| *nonce == System::account_nonce(&scheduler))
			{
				let (call, signer, _) = pool.remove(at);
				System::inc_account_nonce(&signer);
				// A task opened meanwhile by a later batch is skipped, not an error.
				assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(signer)));
			}
			next_block();
		}
		assert!(
			System::account_nonce(&scheduler) > 0,
			"nonce 0 was never signed again: the gap stopped everything after it ({signed:?})"
		);
		for deal in deals.iter().take(10) {
			assert!(Tasks::<Test>::contains_key(task_of(*deal, 0)), "every early deal is opened");
		}
	});
}
