//! Tasks from start to settlement, as the protocol describes them.

use crate::{
	mock::*,
	types::{ContributionStatus, Failure, Finalization, TaskId, TaskStatus},
	Error, ExpiringDeals, Scores, SettledTasks, Tasks,
};
use frame_support::{
	assert_noop, assert_ok, dispatch::Pays, traits::fungible::Inspect, weights::Weight,
};
use pallet_escrow::{Escrow as _, Purpose};
use pallet_marketplace::Deals;
use sp_keyring::Sr25519Keyring;

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
	// worker stake 35 %, pool owner ratio 5 %, dataset price 1 RLC, free app.
	run_test(|| {
		let (w1, w2, w3) = (worker(1), worker(2), worker(3));
		Scores::<Test>::insert(POOL, &w1, 12);
		Scores::<Test>::insert(POOL, &w2, 100);
		Scores::<Test>::insert(POOL, &w3, 300);
		let requester = account(REQUESTER);
		let pool_owner = account(POOL_OWNER);
		let dataset_owner = account(DATASET_OWNER);

		let task = assigned_task(DealSpec::default(), &[w1.clone(), w2.clone(), w3.clone()]);
		// The requester locked 21 RLC and the pool owner 6 RLC.
		assert_eq!(Escrow::locked(&requester, Purpose::DealPayment), 21 * RLC);
		assert_eq!(Escrow::locked(&pool_owner, Purpose::PoolOwnerStake), 6 * RLC);

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
		// pool owner gets its 6 back and 1.350000001; the dataset owner 1; the requester's 21 are
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
		assert_eq!(Scores::<Test>::get(POOL, &w1), 8);
		assert_eq!(Scores::<Test>::get(POOL, &w2), 101);
		assert_eq!(Scores::<Test>::get(POOL, &w3), 301);
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

		// 20 RLC × 95 % shared equally (both log2(2) = 1), the rest to the pool owner.
		let each = 19 * RLC / 2;
		assert_eq!(after[0] - before[0], stake_of(&spec) + each);
		assert_eq!(after[1] - before[1], stake_of(&spec) + each);
		assert_eq!(after[2] - before[2], 6 * RLC + 20 * RLC - 2 * each);
		assert_eq!((Scores::<Test>::get(POOL, &w1), Scores::<Test>::get(POOL, &w2)), (1, 1));

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
		Scores::<Test>::insert(POOL, &liar, 6);
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
			assert_eq!(Scores::<Test>::get(POOL, who), 1);
		}
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + 27 * RLC - 3 * each);
		assert_eq!(Balances::total_balance(&liar), START - stake_of(&spec));
		assert_eq!(Scores::<Test>::get(POOL, &liar), 4);
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
		assert_eq!(Scores::<Test>::get(POOL, &revealer), 1);
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
		// 95 % of 20 RLC to the worker, no stake; 5 % and the released 6 RLC to the pool owner.
		assert_eq!(free(&w1), START + 19 * RLC);
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + RLC);
		assert_eq!(Scores::<Test>::get(POOL, &w1), 0);
		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!((entry.status, entry.result_digest), (TaskStatus::Completed, Some(digest(9))));
	});
}

/// Fills the kitty with the pool owner stake of a task that expires, and returns how much.
fn kitty_fed_by_an_expired_task() -> Balance {
	let expired = DealSpec::trust(1).make();
	run_to_block(System::block_number() + 10 * T_BLOCKS, Weight::MAX);
	assert!(Deals::<Test>::get(expired).is_none());
	pallet_escrow::Kitty::<Test>::get()
}

#[test]
fn zero_price_self_dealing_earns_nothing_from_the_kitty() {
	run_test(|| {
		let kitty = kitty_fed_by_an_expired_task();
		assert_eq!(kitty, 6 * RLC);

		// A pool owner whose own worker completes free tasks for it, over and over.
		let free_deal =
			DealSpec { app_price: 0, dataset_price: None, pool_price: 0, ..DealSpec::trust(1) };
		let w1 = worker(1);
		let pool_before = free(&account(POOL_OWNER));
		for _ in 0..3 {
			let task = assigned_task(free_deal.clone(), &[w1.clone()]);
			let outcome = Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(w1.clone()),
				task,
				digest(9),
				bounded(b""),
				None,
			)
			.unwrap();
			// Nothing was at risk: the call pays its fee like any other.
			assert_eq!(outcome.pays_fee, Pays::Yes);
			assert_eq!(status(task), TaskStatus::Completed);
		}
		assert_eq!(free(&account(POOL_OWNER)), pool_before);
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), kitty);
	});
}

#[test]
fn worker_calls_are_free_only_with_a_stake_at_risk() {
	run_test(|| {
		let (w1, w2) = (worker(1), worker(2));
		let free_deal =
			DealSpec { app_price: 0, dataset_price: None, pool_price: 0, ..DealSpec::trust(4) };
		let task = assigned_task(free_deal, &[w1.clone(), w2.clone()]);
		assert_eq!(contribute(&w1, task, digest(1)).unwrap().pays_fee, Pays::Yes);
		assert_eq!(contribute(&w2, task, digest(1)).unwrap().pays_fee, Pays::Yes);
		assert_eq!(reveal(&w1, task, digest(1)).unwrap().pays_fee, Pays::Yes);
		// With no stake nobody's score rises either.
		assert_eq!(reveal(&w2, task, digest(1)).unwrap().pays_fee, Pays::Yes);
		assert_eq!(status(task), TaskStatus::Completed);
		assert_eq!(Scores::<Test>::get(POOL, &w1), 0);

		// A priced deal: each worker stakes, and its calls are free.
		let task = assigned_task(DealSpec::trust(4), &[w1.clone(), w2.clone()]);
		assert_eq!(contribute(&w1, task, digest(1)).unwrap().pays_fee, Pays::No);
		assert_eq!(contribute(&w2, task, digest(1)).unwrap().pays_fee, Pays::No);
		assert_eq!(reveal(&w1, task, digest(1)).unwrap().pays_fee, Pays::No);
		assert_eq!(reveal(&w2, task, digest(1)).unwrap().pays_fee, Pays::No);
		assert_eq!(Scores::<Test>::get(POOL, &w1), 1);
	});
}

#[test]
fn a_successful_task_pays_its_price_and_nothing_from_the_kitty() {
	run_test(|| {
		let kitty = kitty_fed_by_an_expired_task();
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
		// The released 6 RLC stake and 5 % of the 20 RLC pool price, as without a kitty.
		assert_eq!(free(&account(POOL_OWNER)) - pool_before, 6 * RLC + RLC);
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), kitty);
	});
}

#[test]
fn a_small_stake_is_still_seized_after_an_upgrade_raises_the_existential_deposit() {
	use frame_support::traits::OnRuntimeUpgrade;
	run_test(|| {
		let ed = ExistentialDeposit::get();
		// A task whose pool owner stake (6 RLC) is far below the deposit's rise.
		let deal = DealSpec::trust(1).make();
		ExistentialDeposit::set(ed + 100 * RLC);
		AllPalletsWithSystem::on_runtime_upgrade();
		run_to_block(System::block_number() + 10 * T_BLOCKS, Weight::MAX);
		assert!(Deals::<Test>::get(deal).is_none(), "the expired deal was settled");
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), 6 * RLC);
		ExistentialDeposit::set(ed);
	});
}

#[test]
fn a_payee_that_cannot_receive_does_not_block_settlement() {
	run_test(|| {
		// The app's owner is an account that holds nothing, as anyone can make one.
		let nobody = Sr25519Keyring::Two;
		assert_ok!(Marketplace::transfer_app(
			RuntimeOrigin::signed(account(APP_OWNER)),
			0,
			account(nobody)
		));
		let app_price = ExistentialDeposit::get();
		let w1 = worker(1);
		let spec = DealSpec { app_price, app_owner: nobody, ..DealSpec::trust(1) };
		let task = assigned_task(spec, &[w1.clone()]);
		// An upgrade raises the existential deposit: the app's price can no longer create the
		// owner's account.
		ExistentialDeposit::set(app_price + 1);
		assert_ok!(Contribution::contribute_and_finalize(
			RuntimeOrigin::signed(w1.clone()),
			task,
			digest(9),
			bounded(b""),
			None,
		));
		assert_eq!(status(task), TaskStatus::Completed);
		assert_eq!(free(&account(nobody)), 0);
		assert_eq!(pallet_escrow::Kitty::<Test>::get(), app_price);
		assert!(System::events().iter().any(|record| record.event
			== RuntimeEvent::Escrow(pallet_escrow::Event::PayoutDiverted {
				from: account(REQUESTER),
				purpose: Purpose::DealPayment,
				to: account(nobody),
				amount: app_price,
				subject: task,
			})));
		// Everyone else was paid as usual.
		assert_eq!(free(&w1), START + 19 * RLC);
		ExistentialDeposit::set(app_price);
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
		// The unopened task failed without ever being written.
		assert!(Tasks::<Test>::get(ids[2]).is_none());
		assert!(System::events().iter().any(|record| record.event
			== RuntimeEvent::Contribution(crate::Event::UnopenedTasksFailed {
				deal,
				count: 1,
				reason: Failure::SweptAfterFinalDeadline,
			})));
		// Two tasks refunded in full; the worker's stake returned; two pool owner stakes seized.
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
		for index in 0..5 {
			assert_ok!(Contribution::initialize(
				RuntimeOrigin::signed(account(OUTSIDER)),
				deal,
				index
			));
		}
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		run_to_block(final_deadline - 1, Weight::MAX);

		// Room for two opened tasks without contributions per block (the test runtime's
		// database accesses cost nothing).
		let idle = <() as WeightInfo>::sweep_task(0).saturating_mul(2);
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
fn a_free_deal_of_any_volume_is_capped_and_expires_in_one_step_without_writing_tasks() {
	use crate::{UnopenedTasks, WeightInfo};
	run_test(|| {
		let spec = DealSpec {
			app_price: 0,
			dataset_price: None,
			pool_price: 0,
			volume: u32::MAX,
			..DealSpec::trust(1)
		};
		let deal = spec.make();
		assert_eq!(Deals::<Test>::get(deal).unwrap().volume, MAX_DEAL_VOLUME);
		assert_eq!(UnopenedTasks::<Test>::get(deal), MAX_DEAL_VOLUME);
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		run_to_block(final_deadline - 1, Weight::MAX);

		// The weight of one task's settlement is enough for all the tasks nobody opened.
		run_to_block(final_deadline, <() as WeightInfo>::sweep_task(0));
		assert!(Deals::<Test>::get(deal).is_none());
		assert_eq!(Tasks::<Test>::iter().count(), 0);
		assert_eq!(ExpiringDeals::<Test>::iter().count(), 0);
		assert_eq!(
			last_contribution_event(),
			crate::Event::UnopenedTasksFailed {
				deal,
				count: MAX_DEAL_VOLUME,
				reason: Failure::SweptAfterFinalDeadline
			}
		);
	});
}

#[test]
fn anyone_claims_the_expired_tasks_never_initialized_together() {
	run_test(|| {
		let deal = DealSpec { volume: 3, ..DealSpec::trust(4) }.make();
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		let requester_free = free(&account(REQUESTER));
		let final_deadline = System::block_number() + 10 * T_BLOCKS;
		// No idle weight: the sweep cannot help; a claim does.
		run_to_block(final_deadline, Weight::zero());
		let claim =
			|index| Contribution::claim(RuntimeOrigin::signed(account(OUTSIDER)), deal, index);
		assert_ok!(claim(1));
		// Tasks 1 and 2 were refunded together, and neither was written.
		assert_eq!(Deals::<Test>::get(deal).unwrap().unsettled, 1);
		assert!(Tasks::<Test>::get(Contribution::task_id(&deal, 2)).is_none());
		assert_eq!(free(&account(REQUESTER)), requester_free + 2 * 21 * RLC);
		assert_eq!(Escrow::locked(&account(REQUESTER), Purpose::DealPayment), 21 * RLC);
		assert_noop!(claim(1), crate::Error::<Test>::TaskSettled);
		assert_noop!(claim(2), crate::Error::<Test>::TaskSettled);
		assert_noop!(claim(3), crate::Error::<Test>::TaskIndexOutOfRange);
		// The opened one fails on its own.
		assert_ok!(claim(0));
		assert_eq!(status(Contribution::task_id(&deal, 0)), TaskStatus::Failed);
		assert!(Deals::<Test>::get(deal).is_none());
		assert_noop!(claim(0), crate::Error::<Test>::UnknownDeal);
	});
}

/// A trust-4 task where two fresh workers agreed and only the first revealed.
fn task_with_one_reveal_of_two() -> (TaskId, AccountId, AccountId) {
	let (w1, w2) = (worker(1), worker(2));
	let task = assigned_task(DealSpec::trust(4), &[w1.clone(), w2.clone()]);
	assert_ok!(contribute(&w1, task, digest(1)));
	assert_ok!(contribute(&w2, task, digest(1)));
	assert_eq!(status(task), TaskStatus::Revealing);
	assert_ok!(reveal(&w1, task, digest(1)));
	(task, w1, w2)
}

#[test]
fn the_sweep_finalizes_a_task_whose_winner_revealed_instead_of_failing_it() {
	run_test(|| {
		let (task, w1, w2) = task_with_one_reveal_of_two();
		// Nobody calls `finalize`: neither the scheduler nor a worker.
		let final_deadline = Tasks::<Test>::get(task).unwrap().final_deadline;
		run_to_block(final_deadline, Weight::MAX);
		assert_eq!(status(task), TaskStatus::Completed);
		assert!(matches!(
			last_contribution_event(),
			crate::Event::TaskFinalized { reason: Finalization::RevealDeadlinePassed, .. }
		));
		// The revealer was paid and kept its stake; the silent winner lost its stake.
		assert!(free(&w1) > START);
		assert_eq!(Balances::total_balance(&w2), START - 7 * RLC);
	});
}

#[test]
fn a_claim_finalizes_a_task_whose_winner_revealed_instead_of_failing_it() {
	run_test(|| {
		let (task, w1, _) = task_with_one_reveal_of_two();
		let entry = Tasks::<Test>::get(task).unwrap();
		run_to_block(entry.final_deadline, Weight::zero());
		assert_ok!(Contribution::claim(RuntimeOrigin::signed(account(OUTSIDER)), entry.deal, 0));
		assert_eq!(status(task), TaskStatus::Completed);
		assert!(free(&w1) > START);
	});
}

#[test]
fn an_enclave_swapped_after_assignment_cannot_sign_a_result() {
	use pallet_marketplace::{tag, Measurement};
	run_test(|| {
		let spec = DealSpec { tag: tag::TEE | tag::SGX, ..DealSpec::trust(1) };
		let good = worker(1);
		TestEnclaves::attest(&good, APP_MEASUREMENT);
		let task = assigned_task(spec, &[good.clone()]);
		// After its assignment, the worker registers an enclave the app does not allow.
		TestEnclaves::evict(&good);
		TestEnclaves::attest(&good, Measurement::SgxMrEnclave([8; 32]));

		let (hash, seal) = Contribution::result_hash_and_seal(&task, &good, &digest(3));
		let signature =
			TestEnclaves::sign(&good, &Contribution::enclave_message(&task, &hash, &seal));
		let contribute = || {
			Contribution::contribute(
				RuntimeOrigin::signed(good.clone()),
				task,
				hash,
				seal,
				Some(signature),
			)
		};
		assert_noop!(
			Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(good.clone()),
				task,
				digest(3),
				bounded(b""),
				Some(signature),
			),
			crate::Error::<Test>::EnclaveChanged
		);
		assert_noop!(contribute(), crate::Error::<Test>::EnclaveChanged);
		// Nor may an enclave of the allowed measurement with other keys than it was assigned
		// with: possibly one the worker controls outside any enclave.
		TestEnclaves::evict(&good);
		TestEnclaves::attest(&good, APP_MEASUREMENT);
		TestEnclaves::rekey(&good, [9; 32]);
		assert_noop!(contribute(), crate::Error::<Test>::EnclaveChanged);
		// Re-attesting the enclave it was assigned with, it may.
		TestEnclaves::rekey(&good, sp_io::hashing::blake2_256(good.as_ref()));
		assert_ok!(contribute());
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

#[test]
fn a_settled_task_is_removed_after_its_retention_and_can_never_be_opened_again() {
	run_test(|| {
		let task = single_worker_task(DealSpec { volume: 2, ..DealSpec::trust(1) }, &worker(1));
		let deal = Tasks::<Test>::get(task).unwrap().deal;
		let final_deadline = Tasks::<Test>::get(task).unwrap().final_deadline;
		let removed_from = final_deadline + TASK_RETENTION;
		assert!(SettledTasks::<Test>::contains_key(removed_from, task));

		// Settled long before its final deadline, the task is kept until that deadline and the
		// retention after it: until then, its deal's other task may still be opened, and this
		// one must not be opened a second time.
		run_to_block(final_deadline - 1, Weight::MAX);
		assert_noop!(
			Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0),
			Error::<Test>::TaskAlreadyInitialized
		);
		run_to_block(removed_from - 1, Weight::MAX);
		assert_eq!(status(task), TaskStatus::Completed);
		assert!(Deals::<Test>::get(deal).is_none(), "the unopened task was swept");

		run_to_block(removed_from, Weight::MAX);
		assert!(Tasks::<Test>::get(task).is_none());
		assert_eq!(SettledTasks::<Test>::iter().count(), 0);
		assert_noop!(
			Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0),
			Error::<Test>::UnknownDeal
		);
		assert_noop!(
			Contribution::claim(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0),
			Error::<Test>::UnknownDeal
		);
	});
}

#[test]
fn a_retention_changed_by_governance_applies_to_tasks_settled_after_the_change() {
	run_test(|| {
		let before = single_worker_task(DealSpec::trust(1), &worker(1));
		let removed_from = Tasks::<Test>::get(before).unwrap().final_deadline + TASK_RETENTION;
		crate::mock::Retention::set(TASK_RETENTION * 2);
		assert_ok!(Contribution::do_try_state());
		let after = single_worker_task(DealSpec::trust(1), &worker(2));
		let final_deadline = Tasks::<Test>::get(after).unwrap().final_deadline;
		assert!(SettledTasks::<Test>::contains_key(final_deadline + TASK_RETENTION * 2, after));
		run_to_block(removed_from, Weight::MAX);
		assert!(Tasks::<Test>::get(before).is_none(), "removed when its own retention ended");
		assert!(Tasks::<Test>::get(after).is_some());
	});
}

#[test]
fn pruning_waits_for_idle_weight_left_after_the_sweep() {
	run_test(|| {
		let task = single_worker_task(DealSpec::trust(1), &worker(1));
		let removed_from = Tasks::<Test>::get(task).unwrap().final_deadline + TASK_RETENTION;
		// Blocks without idle weight remove nothing.
		run_to_block(removed_from + 5, Weight::zero());
		assert!(Tasks::<Test>::get(task).is_some());
		run_to_block(removed_from + 6, Weight::MAX);
		assert!(Tasks::<Test>::get(task).is_none());
	});
}

#[test]
fn an_assignment_is_charged_for_the_silent_workers_it_replaced_and_no_more() {
	use crate::{weights::WeightInfo, Call};
	use frame_support::dispatch::GetDispatchInfo;

	run_test(|| {
		let deal = DealSpec::trust(4).make();
		let task = Contribution::task_id(&deal, 0);
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		let workers: frame_support::BoundedVec<_, _> =
			vec![worker(1), worker(2)].try_into().unwrap();
		let declared = Call::<Test>::assign { task, workers: workers.clone() }
			.get_dispatch_info()
			.call_weight;
		assert_eq!(declared, <() as WeightInfo>::assign(2, MAX_CONTRIBUTORS));

		let info =
			Contribution::assign(RuntimeOrigin::signed(account(SCHEDULER)), task, workers).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::assign(2, 0)));
		assert!(info.actual_weight.unwrap().all_lt(declared), "nobody was replaced");

		// Both silent for 2T: the next assignment replaces them and is charged for it.
		let silent_for = 2 * Tasks::<Test>::get(task).unwrap().reference_time;
		run_to_block(System::block_number() + silent_for, Weight::zero());
		let info = Contribution::assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			task,
			vec![worker(3)].try_into().unwrap(),
		)
		.unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::assign(1, 2)));
	});
}

#[test]
fn a_worker_that_could_not_vote_while_others_revealed_is_not_taken_for_silent() {
	run_test(|| {
		let (w1, w2, w3) = (worker(1), worker(2), worker(3));
		let task = assigned_task(DealSpec::trust(4), &[w1.clone(), w2.clone(), w3.clone()]);
		// Two agree at once: the task reveals and w3 may not vote; nobody reveals.
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_ok!(contribute(&w2, task, digest(1)));
		assert_eq!(
			contribute(&w3, task, digest(1)).map_err(|error| error.error),
			Err(crate::Error::<Test>::TaskNotActive.into())
		);
		let reveal_deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(reveal_deadline, Weight::zero());
		assert_ok!(Contribution::reopen(RuntimeOrigin::signed(account(SCHEDULER)), task));

		// More than 2T after its assignment, but it only now may vote: it keeps its place, its
		// score and its pool.
		assert!(Tasks::<Test>::get(task)
			.unwrap()
			.silent_workers(System::block_number())
			.is_empty());
		assert_ok!(Contribution::assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			task,
			vec![worker(4)].try_into().unwrap(),
		));
		assert!(Tasks::<Test>::get(task).unwrap().assigned.contains(&w3));
		assert!(pallet_marketplace::PoolMembers::<Test>::contains_key(POOL, &w3));
		assert_ok!(contribute(&w3, task, digest(2)));
	});
}

#[test]
fn a_batch_is_charged_for_a_deal_per_task_and_refunded_for_fewer_deals() {
	use frame_support::{
		dispatch::GetDispatchInfo, traits::Get, weights::constants::ParityDbWeight,
	};
	run_test(|| {
		let most = <Test as crate::Config>::MaxInitializeBatch::get();
		let one_each: Vec<_> = (0..most).map(|_| (DealSpec::trust(1).make(), 0)).collect();
		let call = crate::Call::<Test>::initialize_batch { tasks: one_each.try_into().unwrap() };
		let charged = call.get_dispatch_info().call_weight;
		// A task of a deal of its own reads that deal, its count of unopened tasks and the task's
		// entry, and writes the count and the task: at the least.
		let accessed = ParityDbWeight::get().reads_writes(3 * most as u64, 2 * most as u64);
		assert!(
			charged.ref_time() >= accessed.ref_time(),
			"{most} tasks of as many deals charged {charged:?}, below their storage accesses \
			 alone, {accessed:?}"
		);

		let deal = DealSpec { volume: most, ..DealSpec::trust(1) }.make();
		let of_one_deal: Vec<_> = (0..most).map(|index| (deal, index)).collect();
		let outcome = Contribution::initialize_batch(
			RuntimeOrigin::signed(account(OUTSIDER)),
			of_one_deal.try_into().unwrap(),
		)
		.expect("tasks of a live deal");
		let paid = outcome.actual_weight.expect("the weight of one deal's tasks");
		assert!(paid.ref_time() < charged.ref_time(), "refunded: {paid:?} of {charged:?}");
	});
}

#[test]
fn a_single_call_is_charged_for_a_dataset_and_a_closing_deal_and_refunded_what_it_did_not_do() {
	use crate::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	type Weights = <Test as crate::Config>::WeightInfo;
	run_test(|| {
		let (w1, w2) = (worker(1), worker(2));
		let deal = DealSpec { dataset_price: None, volume: 2, ..DealSpec::trust(1) }.make();
		assert_ok!(Contribution::open_and_assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			deal,
			vec![
				(0, vec![w1.clone()].try_into().unwrap()),
				(1, vec![w2.clone()].try_into().unwrap())
			]
			.try_into()
			.unwrap(),
		));
		let finish = |who: &AccountId, index| {
			let call = crate::Call::<Test>::contribute_and_finalize {
				task: Contribution::task_id(&deal, index),
				digest: digest(9),
				location: bounded(b"http://127.0.0.1:8000/results/9"),
				enclave_signature: None,
			};
			let charged = call.get_dispatch_info().call_weight;
			assert_eq!(charged, Weights::contribute_and_finalize(0, 1, 1));
			let outcome = Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(who.clone()),
				Contribution::task_id(&deal, index),
				digest(9),
				bounded(b"http://127.0.0.1:8000/results/9"),
				None,
			)
			.expect("the assigned worker");
			assert_eq!(outcome.pays_fee, Pays::No, "a priced task: the payer's money was at risk");
			outcome.actual_weight.expect("what it did")
		};
		// No dataset to pay, and the deal goes on.
		assert_eq!(finish(&w1, 0), Weights::contribute_and_finalize(0, 0, 0));
		assert!(Deals::<Test>::contains_key(deal));
		// No dataset, and the deal's last task closes it.
		assert_eq!(finish(&w2, 1), Weights::contribute_and_finalize(0, 0, 1));
		assert!(!Deals::<Test>::contains_key(deal));
	});
}

#[test]
fn open_and_assign_is_charged_for_every_task_and_worker_named_and_refunded_for_skipped_ones() {
	use crate::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	type Weights = <Test as crate::Config>::WeightInfo;
	run_test(|| {
		let deal = DealSpec { volume: 3, ..DealSpec::trust(4) }.make();
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		let pair = |a, b| -> frame_support::BoundedVec<_, _> {
			vec![worker(a), worker(b)].try_into().unwrap()
		};
		let tasks: frame_support::BoundedVec<_, _> =
			vec![(0, pair(1, 2)), (1, pair(3, 4)), (2, pair(1, 5))].try_into().unwrap();
		let call = crate::Call::<Test>::open_and_assign { deal, tasks: tasks.clone() };
		// Charged as for a TEE deal: the enclave checks are refunded outside one.
		assert_eq!(
			call.get_dispatch_info().call_weight,
			Weights::open_and_assign_in_tee(3, 6).max(Weights::open_and_assign(3, 6))
		);
		let outcome =
			Contribution::open_and_assign(RuntimeOrigin::signed(account(SCHEDULER)), deal, tasks)
				.expect("the scheduler");
		// Task 0 was open: skipped with its two workers.
		assert_eq!(outcome.actual_weight, Some(Weights::open_and_assign(3, 4)));
		check_invariants();
	});
}

#[test]
fn holds_that_no_task_explains_are_found() {
	use frame_support::traits::{fungible::MutateHold, tokens::Precision};
	let stake: RuntimeHoldReason = pallet_escrow::HoldReason::WorkerStake.into();
	run_test(|| {
		let task = assigned_task(DealSpec::trust(4), &[worker(1), worker(2)]);
		assert_ok!(contribute(&worker(1), task, digest(1)));
		check_invariants();

		// A stake released behind the protocol's back.
		assert_ok!(Balances::release(&stake, &worker(1), 1, Precision::Exact));
		assert!(crate::Pallet::<Test>::do_try_state().is_err());
		assert_ok!(Balances::hold(&stake, &worker(1), 1));
		check_invariants();

		// A hold under the escrow's reason on an account no task names (a stray hold).
		assert_ok!(Balances::hold(&stake, &account(OUTSIDER), 1));
		assert!(crate::Pallet::<Test>::do_try_state().is_err());
		assert_ok!(Balances::release(&stake, &account(OUTSIDER), 1, Precision::Exact));
	});
}
