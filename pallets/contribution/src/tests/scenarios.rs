//! Tasks from start to settlement, as the protocol describes them.

use crate::{
	mock::*,
	types::{ContributionStatus, Failure, Finalization, TaskId, TaskStatus},
	ExpiringDeals, Scores, Tasks,
};
use frame_support::{
	assert_noop, assert_ok, dispatch::Pays, traits::fungible::Inspect, weights::Weight,
};
use pallet_escrow::{Escrow as _, Purpose};
use pallet_marketplace::Deals;

/// A worker's stake in the fixture: 35 % of the pool price.
fn stake_of(spec: &DealSpec) -> Balance {
	spec.pool_price * 35 / 100
}

fn status(task: TaskId) -> TaskStatus {
	Tasks::<Test>::get(task).expect("initialized").status
}

#[test]
fn the_reference_worked_example_is_reproduced_to_the_unit() {
	// iExec PoCo §4.3 with §5.2's prices: scores 12, 100 and 300, trust 100, pool price 20 RLC,
	// worker stake 35 %, scheduler ratio 5 %, dataset price 1 RLC, free app.
	run_test(|| {
		let (w1, w2, w3) = (worker(1), worker(2), worker(3));
		Scores::<Test>::insert(&w1, 12);
		Scores::<Test>::insert(&w2, 100);
		Scores::<Test>::insert(&w3, 300);
		let requester = account(REQUESTER);
		let pool_owner = account(POOL_OWNER);
		let dataset_owner = account(DATASET_OWNER);

		let task = assigned_task(DealSpec::default(), &[w1.clone(), w2.clone(), w3.clone()]);
		// The requester locked 21 RLC and the scheduler 6 RLC.
		assert_eq!(Escrow::locked(&requester, Purpose::DealPayment), 21 * RLC);
		assert_eq!(Escrow::locked(&pool_owner, Purpose::SchedulerStake), 6 * RLC);

		// w1 votes A, w2 and w3 vote B; consensus on B comes with w3.
		assert_ok!(contribute(&w1, task, digest(b'A')));
		assert_ok!(contribute(&w2, task, digest(b'B')));
		assert_eq!(status(task), TaskStatus::Active);
		assert_ok!(contribute(&w3, task, digest(b'B')));
		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!(entry.status, TaskStatus::Revealing);
		assert_eq!((entry.tally.total(), entry.winners), (3172.into(), 2));
		for who in [&w1, &w2, &w3] {
			assert_eq!(Escrow::locked(who, Purpose::WorkerStake), 7 * RLC);
		}

		let before = [&w1, &w2, &w3, &pool_owner, &dataset_owner, &requester].map(free);
		assert_ok!(reveal(&w2, task, digest(b'B')));
		assert_ok!(reveal(&w3, task, digest(b'B')));
		assert_eq!(status(task), TaskStatus::Completed);
		let after = [&w1, &w2, &w3, &pool_owner, &dataset_owner, &requester].map(free);

		// w2 gets its 7 back and 25.65 × 5/11; w3 its 7 and 25.65 × 6/11; w1 loses 7; the
		// scheduler gets its 6 back and 1.350000001; the dataset owner 1; the requester's 21 are
		// spent.
		assert_eq!(after[0], before[0]);
		assert_eq!(after[1] - before[1], 7 * RLC + 11_659_090_909);
		assert_eq!(after[2] - before[2], 7 * RLC + 13_990_909_090);
		assert_eq!(after[3] - before[3], 6 * RLC + 1_350_000_001);
		assert_eq!(after[4] - before[4], RLC);
		assert_eq!(after[5], before[5]);
		assert_eq!(Balances::total_balance(&w1), START - 7 * RLC);
		assert_eq!(Balances::total_balance(&requester), START - 21 * RLC);

		// Scores: w1 × 2/3, winners + 1.
		assert_eq!(Scores::<Test>::get(&w1), 8);
		assert_eq!(Scores::<Test>::get(&w2), 101);
		assert_eq!(Scores::<Test>::get(&w3), 301);
		assert!(Deals::<Test>::get(Tasks::<Test>::get(task).unwrap().deal).is_none());
	});
}

#[test]
fn honest_replication_pays_both_workers_and_raises_their_scores() {
	run_test(|| {
		// Trust 4: two fresh workers (weight 2 each) agreeing are enough.
		let spec = DealSpec::trust(4);
		let (w1, w2) = (worker(1), worker(2));
		let task = assigned_task(spec.clone(), &[w1.clone(), w2.clone()]);

		let outcome = contribute(&w1, task, digest(7)).unwrap();
		assert_eq!(outcome.pays_fee, Pays::No);
		assert_eq!(status(task), TaskStatus::Active);
		assert_ok!(contribute(&w2, task, digest(7)));
		assert_eq!(status(task), TaskStatus::Revealing);

		let before = [&w1, &w2, &account(POOL_OWNER)].map(free);
		assert_eq!(reveal(&w1, task, digest(7)).unwrap().pays_fee, Pays::No);
		assert_eq!(status(task), TaskStatus::Revealing);
		assert_ok!(reveal(&w2, task, digest(7)));
		let after = [&w1, &w2, &account(POOL_OWNER)].map(free);

		// 20 RLC × 95 % shared equally (both log2(2) = 1), the rest to the scheduler.
		let each = 19 * RLC / 2;
		assert_eq!(after[0] - before[0], stake_of(&spec) + each);
		assert_eq!(after[1] - before[1], stake_of(&spec) + each);
		assert_eq!(after[2] - before[2], 6 * RLC + 20 * RLC - 2 * each);
		assert_eq!((Scores::<Test>::get(&w1), Scores::<Test>::get(&w2)), (1, 1));

		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!(entry.status, TaskStatus::Completed);
		assert_eq!(entry.result_digest, Some(digest(7)));
		assert_eq!(entry.result_location.to_vec(), b"http://127.0.0.1:8000/results/1".to_vec());
		assert!(matches!(
			last_contribution_event(),
			crate::Event::TaskFinalized { reason: Finalization::AllWinnersRevealed, .. }
		));
	});
}

#[test]
fn a_lying_worker_is_outvoted_and_loses_its_stake_and_score() {
	run_test(|| {
		// Trust 3: the liar's early vote does not win; three honest votes do.
		let spec = DealSpec::trust(3);
		let liar = worker(4);
		Scores::<Test>::insert(&liar, 6);
		let honest = [worker(1), worker(2), worker(3)];
		let task = assigned_task(
			spec.clone(),
			&[liar.clone(), honest[0].clone(), honest[1].clone(), honest[2].clone()],
		);

		assert_ok!(contribute(&liar, task, digest(0xba)));
		for (n, who) in honest.iter().enumerate() {
			assert_ok!(contribute(who, task, digest(0x60)));
			let expected = if n == 2 { TaskStatus::Revealing } else { TaskStatus::Active };
			assert_eq!(status(task), expected);
		}
		// The liar cannot reveal: its vote is not the consensus.
		assert_noop!(reveal(&liar, task, digest(0xba)), crate::Error::<Test>::NotAWinner);

		let before = honest.each_ref().map(free);
		let pool_before = free(&account(POOL_OWNER));
		for who in &honest {
			assert_ok!(reveal(who, task, digest(0x60)));
		}
		// Rewards: (20 + 7) × 95 % = 25.65 RLC in three equal shares, floor each.
		let each = 2_565 * RLC / 100 / 3;
		for (n, who) in honest.iter().enumerate() {
			assert_eq!(free(who) - before[n], stake_of(&spec) + each);
			assert_eq!(Scores::<Test>::get(who), 1);
		}
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + 27 * RLC - 3 * each);
		assert_eq!(Balances::total_balance(&liar), START - stake_of(&spec));
		assert_eq!(Scores::<Test>::get(&liar), 4);
		assert_eq!(Escrow::locked(&liar, Purpose::WorkerStake), 0);
	});
}

#[test]
fn a_winner_that_never_reveals_loses_its_stake_to_the_one_that_did() {
	run_test(|| {
		let spec = DealSpec::trust(4);
		let (revealer, silent) = (worker(1), worker(2));
		let task = assigned_task(spec.clone(), &[revealer.clone(), silent.clone()]);
		assert_ok!(contribute(&revealer, task, digest(1)));
		assert_ok!(contribute(&silent, task, digest(1)));
		assert_ok!(reveal(&revealer, task, digest(1)));

		// Nobody may finalize while the reveal window is open.
		let finalize = || Contribution::finalize(RuntimeOrigin::signed(account(OUTSIDER)), task);
		assert_noop!(finalize(), crate::Error::<Test>::RevealWindowOpen);
		let reveal_deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(reveal_deadline, Weight::zero());
		assert_noop!(reveal(&silent, task, digest(1)), crate::Error::<Test>::RevealDeadlinePassed);

		let before = free(&revealer);
		assert_ok!(finalize());
		// (20 + 7) × 95 %, all to the one revealer.
		assert_eq!(free(&revealer) - before, stake_of(&spec) + 2_565 * RLC / 100);
		assert_eq!(Balances::total_balance(&silent), START - stake_of(&spec));
		assert_eq!(Scores::<Test>::get(&revealer), 1);
		assert!(matches!(
			last_contribution_event(),
			crate::Event::TaskFinalized { reason: Finalization::RevealDeadlinePassed, .. }
		));
	});
}

#[test]
fn a_task_nobody_revealed_is_reopened_and_completed_by_other_workers() {
	run_test(|| {
		let spec = DealSpec::trust(4);
		let (w1, w2, w3, w4) = (worker(1), worker(2), worker(3), worker(4));
		let task = assigned_task(spec.clone(), &[w1.clone(), w2.clone()]);
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_ok!(contribute(&w2, task, digest(1)));

		let reopen = |who| Contribution::reopen(RuntimeOrigin::signed(account(who)), task);
		assert_noop!(reopen(SCHEDULER), crate::Error::<Test>::RevealWindowOpen);
		let reveal_deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(reveal_deadline, Weight::zero());
		assert_noop!(reopen(OUTSIDER), crate::Error::<Test>::NotScheduler);
		assert_ok!(reopen(SCHEDULER));
		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!(entry.status, TaskStatus::Active);
		assert!(entry
			.contributions
			.iter()
			.all(|contribution| contribution.status == ContributionStatus::Rejected));
		assert_eq!(entry.tally.total(), 1.into());
		// The rejected workers cannot vote again.
		assert_noop!(contribute(&w1, task, digest(1)), crate::Error::<Test>::AlreadyContributed);

		assert_ok!(Contribution::assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			task,
			vec![w3.clone(), w4.clone()].try_into().unwrap(),
		));
		assert_ok!(contribute(&w3, task, digest(2)));
		assert_ok!(contribute(&w4, task, digest(2)));
		let before = free(&w3);
		assert_ok!(reveal(&w3, task, digest(2)));
		assert_ok!(reveal(&w4, task, digest(2)));
		// (20 + 2 × 7) × 95 % = 32.3 RLC in two shares.
		assert_eq!(free(&w3) - before, stake_of(&spec) + 323 * RLC / 10 / 2);
		for rejected in [&w1, &w2] {
			assert_eq!(Balances::total_balance(rejected), START - stake_of(&spec));
		}
		assert_eq!(status(task), TaskStatus::Completed);
	});
}

#[test]
fn a_trust_one_task_is_contributed_and_finalized_in_one_free_call() {
	run_test(|| {
		let spec = DealSpec::trust(1);
		let w1 = worker(1);
		let task = assigned_task(spec, &[w1.clone()]);
		let pool_before = free(&account(POOL_OWNER));
		let outcome = Contribution::contribute_and_finalize(
			RuntimeOrigin::signed(w1.clone()),
			task,
			digest(9),
			bounded(b"http://127.0.0.1:8000/results/9"),
			None,
		)
		.unwrap();
		assert_eq!(outcome.pays_fee, Pays::No);
		// 95 % of 20 RLC to the worker, no stake; 5 % and the released 6 RLC to the scheduler.
		assert_eq!(free(&w1), START + 19 * RLC);
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + RLC);
		assert_eq!(Scores::<Test>::get(&w1), 0);
		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!((entry.status, entry.result_digest), (TaskStatus::Completed, Some(digest(9))));
	});
}

#[test]
fn a_successful_task_pays_its_scheduler_a_share_of_the_kitty() {
	run_test(|| {
		// A task that expires feeds the kitty with its scheduler's 6 RLC stake.
		let expired = DealSpec::trust(1).make();
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		run_to_block(final_deadline, Weight::MAX);
		assert!(Deals::<Test>::get(expired).is_none());
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), 6 * RLC);

		// The next success earns max(10 % of 6, 1) = 1 RLC of it.
		let w1 = worker(1);
		let task = assigned_task(DealSpec::trust(1), &[w1.clone()]);
		let pool_before = free(&account(POOL_OWNER));
		assert_ok!(Contribution::contribute_and_finalize(
			RuntimeOrigin::signed(w1),
			task,
			digest(9),
			bounded(b""),
			None,
		));
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + RLC + RLC);
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), 5 * RLC);
	});
}

#[test]
fn expired_tasks_are_failed_and_refunded_by_the_idle_sweep() {
	run_test(|| {
		let spec = DealSpec { trust: 1, volume: 3, ..DealSpec::default() };
		let deal = spec.make();
		let start = System::block_number();
		let requester = account(REQUESTER);
		let pool_owner = account(POOL_OWNER);
		let w1 = worker(1);
		let scheduler = RuntimeOrigin::signed(account(SCHEDULER));

		// Task 0 completes; task 1 reaches consensus but nobody reveals; task 2 is never opened.
		let ids = [0, 1, 2].map(|index| Contribution::task_id(&deal, index));
		for index in [0, 1] {
			assert_ok!(Contribution::initialize(scheduler.clone(), deal, index));
			assert_ok!(Contribution::assign(
				scheduler.clone(),
				ids[index as usize],
				vec![w1.clone()].try_into().unwrap()
			));
		}
		assert_ok!(Contribution::contribute_and_finalize(
			RuntimeOrigin::signed(w1.clone()),
			ids[0],
			digest(1),
			bounded(b""),
			None,
		));
		assert_ok!(contribute(&w1, ids[1], digest(1)));
		assert_eq!(status(ids[1]), TaskStatus::Revealing);

		let requester_before = Balances::total_balance(&requester);
		let pool_before = Balances::total_balance(&pool_owner);
		let final_deadline = start + 10 * T_BLOCKS;
		// Nothing happens before the deadline, even with all the idle weight in the world.
		run_to_block(final_deadline - 1, Weight::MAX);
		assert_eq!(status(ids[1]), TaskStatus::Revealing);
		assert_noop!(
			Contribution::claim(RuntimeOrigin::signed(account(OUTSIDER)), deal, 2),
			crate::Error::<Test>::FinalDeadlineNotPassed
		);

		run_to_block(final_deadline, Weight::MAX);
		assert_eq!(status(ids[0]), TaskStatus::Completed);
		assert_eq!(status(ids[1]), TaskStatus::Failed);
		assert_eq!(status(ids[2]), TaskStatus::Failed);
		// Two tasks refunded in full; the worker's stake returned; two scheduler stakes seized.
		assert_eq!(Balances::total_balance(&requester), requester_before);
		assert_eq!(Escrow::locked(&requester, Purpose::DealPayment), 0);
		assert_eq!(Escrow::locked(&w1, Purpose::WorkerStake), 0);
		assert_eq!(Balances::total_balance(&pool_owner), pool_before - 2 * 6 * RLC);
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), 2 * 6 * RLC);
		assert!(Deals::<Test>::get(deal).is_none());
		assert_eq!(ExpiringDeals::<Test>::iter().count(), 0);
		assert!(matches!(
			last_contribution_event(),
			crate::Event::TaskFailed { reason: Failure::SweptAfterFinalDeadline, .. }
		));
	});
}

#[test]
fn the_sweep_stops_at_its_weight_and_resumes_in_the_next_block() {
	use crate::WeightInfo;
	run_test(|| {
		let spec = DealSpec { trust: 1, volume: 5, ..DealSpec::default() };
		let deal = spec.make();
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		run_to_block(final_deadline - 1, Weight::MAX);

		// Room for two tasks per block (the test runtime's database accesses cost nothing).
		let idle = <() as WeightInfo>::sweep_task(MAX_CONTRIBUTORS).saturating_mul(2);
		run_to_block(final_deadline, idle);
		assert_eq!(Deals::<Test>::get(deal).unwrap().unsettled, 3);
		check_invariants();
		run_to_block(final_deadline + 1, idle);
		assert_eq!(Deals::<Test>::get(deal).unwrap().unsettled, 1);
		run_to_block(final_deadline + 2, idle);
		assert!(Deals::<Test>::get(deal).is_none());
		// And a block with no idle weight does nothing at all.
		let other = spec.make();
		run_to_block(final_deadline + 2 + 10 * T_BLOCKS, Weight::zero());
		assert_eq!(Deals::<Test>::get(other).unwrap().unsettled, 5);
		run_to_block(final_deadline + 3 + 10 * T_BLOCKS, Weight::MAX);
		assert!(Deals::<Test>::get(other).is_none());
	});
}

#[test]
fn anyone_claims_an_expired_task_never_initialized() {
	run_test(|| {
		let deal = DealSpec { volume: 2, ..DealSpec::trust(4) }.make();
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		// No idle weight: the sweep cannot help; a claim does.
		run_to_block(final_deadline, Weight::zero());
		let claim =
			|index| Contribution::claim(RuntimeOrigin::signed(account(OUTSIDER)), deal, index);
		assert_ok!(claim(1));
		assert_eq!(status(Contribution::task_id(&deal, 1)), TaskStatus::Failed);
		assert_noop!(claim(1), crate::Error::<Test>::TaskSettled);
		assert_noop!(claim(2), crate::Error::<Test>::TaskIndexOutOfRange);
		assert_eq!(Deals::<Test>::get(deal).unwrap().unsettled, 1);
		// The sweep, when it runs, skips what was claimed and fails the rest.
		run_to_block(final_deadline + 1, Weight::MAX);
		assert!(Deals::<Test>::get(deal).is_none());
		assert_noop!(claim(0), crate::Error::<Test>::UnknownDeal);
	});
}

#[test]
fn a_tee_task_needs_an_allowed_enclave_and_its_signature() {
	use pallet_marketplace::{tag, Measurement};
	run_test(|| {
		let spec = DealSpec { tag: tag::TEE | tag::SGX, ..DealSpec::trust(1) };
		let deal = spec.make();
		let task = Contribution::task_id(&deal, 0);
		let scheduler = RuntimeOrigin::signed(account(SCHEDULER));
		assert_ok!(Contribution::initialize(scheduler.clone(), deal, 0));
		let (good, other, none) = (worker(1), worker(2), worker(3));
		TestEnclaves::attest(&good, APP_MEASUREMENT);
		TestEnclaves::attest(&other, Measurement::SgxMrEnclave([8; 32]));
		let assign = |who: &AccountId| {
			Contribution::assign(scheduler.clone(), task, vec![who.clone()].try_into().unwrap())
		};
		assert_noop!(assign(&none), crate::Error::<Test>::EnclaveNotAllowed);
		assert_noop!(assign(&other), crate::Error::<Test>::EnclaveNotAllowed);
		assert_ok!(assign(&good));

		let (hash, seal) = Contribution::result_hash_and_seal(&task, &good, &digest(3));
		let message = Contribution::enclave_message(&task, &hash, &seal);
		let contribute_with = |signature| {
			Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(good.clone()),
				task,
				digest(3),
				bounded(b""),
				signature,
			)
		};
		assert_noop!(contribute_with(None), crate::Error::<Test>::EnclaveSignatureMissing);
		assert_noop!(
			contribute_with(Some(TestEnclaves::sign(&other, &message))),
			crate::Error::<Test>::InvalidEnclaveSignature
		);
		assert_ok!(contribute_with(Some(TestEnclaves::sign(&good, &message))));
		assert_eq!(status(task), TaskStatus::Completed);
	});
}
