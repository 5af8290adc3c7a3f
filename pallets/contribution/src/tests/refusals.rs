//! Every refusal: a distinct error, and nothing changed.

use crate::{mock::*, Error, Scores, Tasks};
use frame_support::{assert_noop, assert_ok, weights::Weight};

type Err = Error<Test>;

fn outsider() -> RuntimeOrigin {
	RuntimeOrigin::signed(account(OUTSIDER))
}

fn scheduler() -> RuntimeOrigin {
	RuntimeOrigin::signed(account(SCHEDULER))
}

fn workers(
	list: &[AccountId],
) -> frame_support::BoundedVec<AccountId, frame_support::traits::ConstU32<MAX_CONTRIBUTORS>> {
	list.to_vec().try_into().unwrap()
}

#[test]
fn initialize_refuses_unknown_deals_indexes_repeats_and_late_calls() {
	run_test(|| {
		let deal = DealSpec { volume: 2, ..DealSpec::trust(4) }.make();
		let other = sp_core::H256::repeat_byte(9);
		assert_noop!(Contribution::initialize(outsider(), other, 0), Err::UnknownDeal);
		assert_noop!(Contribution::initialize(outsider(), deal, 2), Err::TaskIndexOutOfRange);
		assert_ok!(Contribution::initialize(outsider(), deal, 0));
		assert_noop!(Contribution::initialize(outsider(), deal, 0), Err::TaskAlreadyInitialized);
		// A batch fails as a whole on a task it cannot open...
		assert_noop!(
			Contribution::initialize_batch(
				outsider(),
				vec![(deal, 0), (deal, 2)].try_into().unwrap()
			),
			Err::TaskIndexOutOfRange
		);
		run_to_block(System::block_number() + 7 * T_BLOCKS, Weight::zero());
		assert_noop!(
			Contribution::initialize(outsider(), deal, 1),
			Err::ContributionDeadlinePassed
		);
	});
}

#[test]
fn a_batch_initializes_every_task_it_names_and_skips_those_already_open() {
	run_test(|| {
		let deal = DealSpec { volume: 3, ..DealSpec::trust(4) }.make();
		// Opening one of a scheduler's batch first does not make the batch fail.
		assert_ok!(Contribution::initialize(outsider(), deal, 1));
		assert_ok!(Contribution::initialize_batch(
			outsider(),
			vec![(deal, 0), (deal, 1), (deal, 2)].try_into().unwrap()
		));
		for index in 0..3 {
			assert!(Tasks::<Test>::contains_key(Contribution::task_id(&deal, index)));
		}
	});
}

/// The tasks of a scheduler's `open_and_assign`: each index with its workers.
fn batch(
	list: &[(u32, &[AccountId])],
) -> frame_support::BoundedVec<
	(u32, frame_support::BoundedVec<AccountId, frame_support::traits::ConstU32<MAX_CONTRIBUTORS>>),
	frame_support::traits::ConstU32<8>,
> {
	list.iter()
		.map(|(index, list)| (*index, workers(list)))
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

#[test]
fn open_and_assign_is_the_schedulers_and_fails_only_on_a_malformed_batch() {
	run_test(|| {
		let deal = DealSpec { volume: 3, ..DealSpec::trust(4) }.make();
		let late = DealSpec { volume: 2, ..DealSpec::trust(4) }.make();
		let open = |origin, list: &[(u32, &[AccountId])]| {
			Contribution::open_and_assign(origin, deal, batch(list))
		};
		let (one, two, three) = (worker(1), worker(2), worker(3));
		assert_noop!(open(outsider(), &[(0, &[one.clone()])]), Err::NotScheduler);
		assert_noop!(
			Contribution::open_and_assign(scheduler(), sp_core::H256::repeat_byte(9), batch(&[])),
			Err::UnknownDeal
		);
		// One task it cannot open, or one worker it cannot assign, and nothing is done.
		assert_noop!(open(scheduler(), &[(0, &[one.clone()]), (3, &[])]), Err::TaskIndexOutOfRange);
		assert_noop!(open(scheduler(), &[(0, &[one.clone(), one.clone()])]), Err::AlreadyAssigned);

		// A task anyone opened first is skipped, its workers with it; a worker that may not take
		// its task is left out; the others are opened (with no workers, only opened) and
		// assigned, and the deal has no unopened task left.
		assert_ok!(Contribution::initialize(outsider(), deal, 1));
		assert_ok!(open(
			scheduler(),
			&[(0, &[one.clone(), stranger(), two.clone()]), (1, &[three]), (2, &[])]
		));
		let assigned = |index| {
			Tasks::<Test>::get(Contribution::task_id(&deal, index))
				.unwrap()
				.assigned
				.into_inner()
		};
		assert_eq!(assigned(0), vec![one, two]);
		assert!(assigned(1).is_empty());
		assert!(assigned(2).is_empty());
		assert!(!crate::UnopenedTasks::<Test>::contains_key(deal));
		check_invariants();

		run_to_block(System::block_number() + 7 * T_BLOCKS, Weight::zero());
		assert_noop!(
			Contribution::open_and_assign(scheduler(), late, batch(&[(0, &[])])),
			Err::ContributionDeadlinePassed
		);
	});
}

#[test]
fn assign_refuses_all_but_the_scheduler_and_unfit_workers() {
	run_test(|| {
		let task = assigned_task(DealSpec::trust(4), &[worker(1)]);
		let assign = |origin, list: &[AccountId]| Contribution::assign(origin, task, workers(list));
		assert_noop!(assign(outsider(), &[worker(2)]), Err::NotScheduler);
		assert_noop!(
			Contribution::assign(scheduler(), sp_core::H256::zero(), workers(&[worker(2)])),
			Err::UnknownTask
		);
		assert_noop!(assign(scheduler(), &[]), Err::NoWorkers);
		assert_noop!(assign(scheduler(), &[stranger()]), Err::NotPoolMember);
		assert_noop!(assign(scheduler(), &[worker(1)]), Err::AlreadyAssigned);
		assert_noop!(assign(scheduler(), &[worker(2), worker(2)]), Err::AlreadyAssigned);
		assert_ok!(assign(scheduler(), &[worker(2), worker(3), worker(4)]));
		assert_noop!(assign(scheduler(), &[worker(5), worker(6)]), Err::TooManyWorkers);
	});
}

#[test]
fn assign_refuses_workers_without_the_deals_features_and_late_or_closed_tasks() {
	use pallet_marketplace::tag;
	run_test(|| {
		// A GPU deal: the fixture's workers declared only TEE and SGX.
		assert_ok!(Marketplace::join_workerpool(
			RuntimeOrigin::signed(stranger()),
			0,
			bounded(b"http://gpu"),
			tag::GPU
		));
		let deal = DealSpec { tag: tag::GPU, ..DealSpec::trust(4) }.make();
		let task = Contribution::task_id(&deal, 0);
		assert_ok!(Contribution::initialize(outsider(), deal, 0));
		assert_noop!(
			Contribution::assign(scheduler(), task, workers(&[worker(1)])),
			Err::WorkerLacksCapabilities
		);
		assert_ok!(Contribution::assign(scheduler(), task, workers(&[stranger()])));

		let (w1, w2) = (worker(1), worker(2));
		let task = assigned_task(DealSpec::trust(1), &[w1.clone()]);
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_noop!(
			Contribution::assign(scheduler(), task, workers(&[w2.clone()])),
			Err::TaskNotActive
		);
		let fresh = assigned_task(DealSpec::trust(4), &[w1]);
		run_to_block(System::block_number() + 7 * T_BLOCKS, Weight::zero());
		assert_noop!(
			Contribution::assign(scheduler(), fresh, workers(&[w2])),
			Err::ContributionDeadlinePassed
		);
	});
}

#[test]
fn contribute_refuses_unassigned_repeated_signed_broke_and_late_workers() {
	run_test(|| {
		let (w1, w2, w3) = (worker(1), worker(2), worker(3));
		let task = assigned_task(DealSpec::trust(16), &[w1.clone(), w2.clone(), w3.clone()]);
		assert_noop!(contribute(&worker(4), task, digest(1)), Err::NotAssigned);
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_noop!(contribute(&w1, task, digest(1)), Err::AlreadyContributed);

		let (hash, seal) = Contribution::result_hash_and_seal(&task, &w2, &digest(1));
		assert_noop!(
			Contribution::contribute(
				RuntimeOrigin::signed(w2.clone()),
				task,
				hash,
				seal,
				Some([1; 64])
			),
			Err::UnexpectedEnclaveSignature
		);

		// w2 spends everything but what cannot hold the stake.
		use frame_support::traits::fungible::Mutate;
		assert_ok!(Balances::transfer(
			&w2,
			&account(OUTSIDER),
			START - RLC,
			frame_support::traits::tokens::Preservation::Preserve
		));
		assert_noop!(contribute(&w2, task, digest(1)), Err::CannotStake);

		run_to_block(System::block_number() + 7 * T_BLOCKS, Weight::zero());
		assert_noop!(contribute(&w3, task, digest(1)), Err::ContributionDeadlinePassed);
		assert_noop!(contribute(&w3, sp_core::H256::zero(), digest(1)), Err::UnknownTask);
	});
}

#[test]
fn reveal_refuses_all_but_the_winners_own_digest_in_time() {
	run_test(|| {
		let (w1, w2, w3, w4) = (worker(1), worker(2), worker(3), worker(4));
		let task =
			assigned_task(DealSpec::trust(3), &[w1.clone(), w2.clone(), w3.clone(), w4.clone()]);
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_noop!(reveal(&w1, task, digest(1)), Err::TaskNotRevealing);
		assert_ok!(contribute(&w3, task, digest(2)));
		assert_ok!(contribute(&w2, task, digest(1)));
		// Trust 3: digest 1's group is 4 against a total of 7 (12 > 14 fails); one more vote
		// makes it 8 against 11 (24 > 22).
		assert_ok!(contribute(&w4, task, digest(1)));
		assert_eq!(Tasks::<Test>::get(task).unwrap().winners, 3);

		assert_noop!(reveal(&worker(5), task, digest(1)), Err::NotAContributor);
		assert_noop!(reveal(&w3, task, digest(2)), Err::NotAWinner);
		assert_noop!(reveal(&w1, task, digest(9)), Err::DigestMismatch);
		// w2 tries w1's seal: same hash, but the seal binds the worker.
		let entry = Tasks::<Test>::get(task).unwrap();
		let w1_seal = entry.contribution_of(&w1).unwrap().result_seal;
		let w2_seal = entry.contribution_of(&w2).unwrap().result_seal;
		assert_ne!(w1_seal, w2_seal);
		let mut forged = entry.clone();
		forged.contributions.iter_mut().for_each(|contribution| {
			if contribution.worker == w2 {
				contribution.result_seal = w1_seal;
			}
		});
		Tasks::<Test>::insert(task, forged);
		assert_noop!(reveal(&w2, task, digest(1)), Err::SealMismatch);
		Tasks::<Test>::insert(task, entry);

		assert_ok!(reveal(&w1, task, digest(1)));
		assert_noop!(reveal(&w1, task, digest(1)), Err::NotAWinner);
		assert_noop!(Contribution::reopen(scheduler(), task), Err::RevealWindowOpen);
		let deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(deadline, Weight::zero());
		assert_noop!(reveal(&w2, task, digest(1)), Err::RevealDeadlinePassed);
		assert_noop!(Contribution::reopen(scheduler(), task), Err::AlreadyRevealed);
		assert_ok!(Contribution::finalize(outsider(), task));
		assert_noop!(reveal(&w2, task, digest(1)), Err::TaskSettled);
		assert_eq!(Scores::<Test>::get(POOL, &w3), 0);
	});
}

#[test]
fn finalize_refuses_tasks_without_reveals_open_windows_and_active_tasks() {
	run_test(|| {
		let (w1, w2) = (worker(1), worker(2));
		let task = assigned_task(DealSpec::trust(4), &[w1.clone(), w2.clone()]);
		assert_noop!(Contribution::finalize(outsider(), task), Err::TaskNotRevealing);
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_ok!(contribute(&w2, task, digest(1)));
		assert_noop!(Contribution::finalize(outsider(), task), Err::NothingRevealed);
		assert_noop!(Contribution::reopen(scheduler(), sp_core::H256::zero()), Err::UnknownTask);
		let deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(deadline, Weight::zero());
		assert_noop!(Contribution::finalize(outsider(), task), Err::NothingRevealed);
		// Past the final deadline the task can only fail.
		run_to_block(System::block_number() + 10 * T_BLOCKS, Weight::zero());
		assert_noop!(Contribution::reopen(scheduler(), task), Err::FinalDeadlinePassed);
		assert_noop!(Contribution::finalize(outsider(), task), Err::FinalDeadlinePassed);
	});
}

#[test]
fn contribute_and_finalize_refuses_replicated_deals_and_tasks_with_votes() {
	run_test(|| {
		let (w1, w2) = (worker(1), worker(2));
		let single = |who: &AccountId, task| {
			Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(who.clone()),
				task,
				digest(1),
				bounded(b""),
				None,
			)
		};
		let replicated = assigned_task(DealSpec::trust(2), &[w1.clone()]);
		assert_noop!(single(&w1, replicated), Err::TrustAboveOne);

		let deal = DealSpec::trust(1).make();
		let task = Contribution::task_id(&deal, 0);
		assert_ok!(Contribution::initialize(outsider(), deal, 0));
		assert_ok!(Contribution::assign(scheduler(), task, workers(&[w1.clone(), w2.clone()])));
		assert_noop!(single(&worker(3), task), Err::NotAssigned);
		// A trust-1 task may also take the two-step path; then it is no longer open.
		assert_ok!(contribute(&w1, task, digest(1)));
		assert_noop!(single(&w2, task), Err::TaskNotActive);
	});
}

#[test]
fn a_second_contribution_on_an_active_trust_one_task_is_refused() {
	run_test(|| {
		// contribute_and_finalize on an active task that already has a (rejected) vote.
		let (w1, w2) = (worker(1), worker(2));
		let task = assigned_task(DealSpec::trust(1), &[w1.clone(), w2.clone()]);
		assert_ok!(contribute(&w1, task, digest(1)));
		let deadline = Tasks::<Test>::get(task).unwrap().reveal_deadline.unwrap();
		run_to_block(deadline, Weight::zero());
		assert_ok!(Contribution::reopen(scheduler(), task));
		assert_noop!(
			Contribution::contribute_and_finalize(
				RuntimeOrigin::signed(w2),
				task,
				digest(1),
				bounded(b""),
				None
			),
			Err::TaskHasContributions
		);
	});
}
