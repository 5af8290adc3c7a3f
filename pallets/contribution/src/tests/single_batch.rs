//! A worker's batch of trust-1 results (`contribute_and_finalize_batch`): the same outcome as
//! one `contribute_and_finalize` per task, its money moved once per payee, all or nothing.

use crate::{mock::*, Error, SingleResult, TaskId, TaskStatus, Tasks, WeightInfo};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays},
	traits::fungible::Inspect,
	BoundedVec,
};
use pallet_marketplace::tag;
use pallet_marketplace::{DealId, Deals};

type Err = Error<Test>;
type Weights = <Test as crate::Config>::WeightInfo;

/// A trust-1 deal of `volume` tasks with an app, a dataset and a pool to pay, every task
/// opened and assigned to `who`.
fn deal_assigned_to(who: &AccountId, volume: u32) -> DealId {
	made_and_assigned(DealSpec { app_price: 2 * RLC, volume, ..DealSpec::trust(1) }, who)
}

/// The deal `spec` describes, every task opened and assigned to `who`.
fn made_and_assigned(spec: DealSpec, who: &AccountId) -> DealId {
	let (deal, volume) = (spec.make(), spec.volume);
	let tasks: Vec<_> = (0..volume)
		.map(|index| (index, vec![who.clone()].try_into().unwrap()))
		.collect();
	assert_ok!(Contribution::open_and_assign(
		RuntimeOrigin::signed(account(SCHEDULER)),
		deal,
		tasks.try_into().unwrap(),
	));
	deal
}

/// `who`'s result `digest(9)` for each of `indexes`, published at a location named after it.
fn results(indexes: &[u32]) -> BoundedVec<SingleResult<Test>, MaxBatch> {
	indexes
		.iter()
		.map(|&index| SingleResult {
			index,
			digest: digest(9),
			location: bounded(b"http://127.0.0.1:8000/results/9"),
			enclave_signature: None,
		})
		.collect::<Vec<_>>()
		.try_into()
		.expect("within the mock's batch bound")
}

type MaxBatch = <Test as crate::Config>::MaxInitializeBatch;

fn batch(who: &AccountId, deal: DealId, indexes: &[u32]) -> ContributeOutcome {
	Contribution::contribute_and_finalize_batch(
		RuntimeOrigin::signed(who.clone()),
		deal,
		results(indexes),
	)
}

fn single(who: &AccountId, deal: DealId, index: u32) -> ContributeOutcome {
	Contribution::contribute_and_finalize(
		RuntimeOrigin::signed(who.clone()),
		Contribution::task_id(&deal, index),
		digest(9),
		bounded(b"http://127.0.0.1:8000/results/9"),
		None,
	)
}

/// Everyone a settlement pays or takes from.
fn parties(who: &AccountId) -> Vec<AccountId> {
	[APP_OWNER, DATASET_OWNER, POOL_OWNER, REQUESTER]
		.into_iter()
		.map(account)
		.chain([who.clone(), Escrow::kitty_account()])
		.collect()
}

/// How each party's balance changed while `act` ran: in total (free and held), and free.
fn changes(who: &AccountId, act: impl FnOnce()) -> Vec<(i128, i128)> {
	let balances = || -> Vec<(i128, i128)> {
		parties(who)
			.iter()
			.map(|party| (Balances::total_balance(party) as i128, free(party) as i128))
			.collect()
	};
	let before = balances();
	act();
	balances()
		.iter()
		.zip(&before)
		.map(|((total, free), (total_before, free_before))| {
			(total - total_before, free - free_before)
		})
		.collect()
}

/// The contribution pallet's events about `task`, with the task and its result hash (which
/// depend on the task's id) left out, so that two tasks' stories compare.
fn story_of(task: TaskId) -> Vec<String> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Contribution(event) => Some(event),
			_ => None,
		})
		.filter(|event| format!("{event:?}").contains(&format!("{task:?}")))
		.map(|event| {
			let text = format!("{event:?}");
			let (kind, _) = text.split_once(' ').unwrap_or((&text, ""));
			let amount = match event {
				crate::Event::WorkerRewarded { reward, .. }
				| crate::Event::PoolOwnerRewarded { reward, .. } => reward,
				_ => 0,
			};
			format!("{kind} {amount}")
		})
		.collect()
}

/// The escrow's movements that name `subject`.
fn movements_naming(subject: sp_core::H256) -> usize {
	System::events()
		.into_iter()
		.filter(|record| match &record.event {
			RuntimeEvent::Escrow(
				pallet_escrow::Event::Paid { subject: named, .. }
				| pallet_escrow::Event::Unlocked { subject: named, .. },
			) => *named == subject,
			_ => false,
		})
		.count()
}

#[test]
fn a_batch_settles_a_workers_tasks_as_single_calls_would_each_payee_paid_once() {
	run_test(|| {
		let w1 = worker(1);
		// Three tasks settled one call each...
		let by_singles = deal_assigned_to(&w1, 3);
		let by_single_calls = changes(&w1, || {
			for index in 0..3 {
				assert_ok!(single(&w1, by_singles, index));
			}
		});

		// ...and three more in one batch: everyone gained or lost the same, free and in total.
		let by_batch = deal_assigned_to(&w1, 3);
		let by_one_batch = changes(&w1, || {
			let outcome = batch(&w1, by_batch, &[2, 0, 1]).expect("w1's three tasks");
			assert_eq!(outcome.pays_fee, Pays::No, "a priced deal: the payer's money was at risk");
		});
		assert_eq!(by_one_batch, by_single_calls);
		// 3 × 95 % of 20 RLC to the worker, free: the exact sum of three single payments.
		assert_eq!(by_single_calls[4].1, 3 * 19 * RLC as i128);

		for index in 0..3 {
			let alone = Tasks::<Test>::get(Contribution::task_id(&by_singles, index)).unwrap();
			let batched = Tasks::<Test>::get(Contribution::task_id(&by_batch, index)).unwrap();
			assert_eq!(batched.status, TaskStatus::Completed);
			assert_eq!(
				(batched.result_digest, &batched.result_location, batched.winners, batched.reveals),
				(alone.result_digest, &alone.result_location, alone.winners, alone.reveals),
			);
			assert_eq!(
				batched.contributions.iter().map(|c| (&c.worker, c.status)).collect::<Vec<_>>(),
				alone.contributions.iter().map(|c| (&c.worker, c.status)).collect::<Vec<_>>(),
			);
			// Each task's story is told as a single call tells it.
			assert_eq!(
				story_of(Contribution::task_id(&by_batch, index)),
				story_of(Contribution::task_id(&by_singles, index))
			);
		}
		assert!(!Deals::<Test>::contains_key(by_singles));
		assert!(!Deals::<Test>::contains_key(by_batch));
		// The money moved per payee: app owner, dataset owner, worker and pool owner paid, the
		// pool owner's stake released; one call each moved it per task.
		assert_eq!(movements_naming(by_batch), 5);
		let per_task: usize = (0..3)
			.map(|index| movements_naming(Contribution::task_id(&by_singles, index)))
			.sum();
		assert_eq!(per_task, 3 * 5);
	});
}

#[test]
fn a_batch_is_refused_whole_for_any_result_a_single_call_would_refuse() {
	run_test(|| {
		let (w1, w2) = (worker(1), worker(2));
		let deal = deal_assigned_to(&w1, 4);
		let others = deal_assigned_to(&w2, 1);
		assert_noop!(batch(&w1, deal, &[]), Err::EmptyBatch);
		assert_noop!(batch(&w1, sp_core::H256::repeat_byte(9), &[0]), Err::UnknownDeal);
		assert_noop!(batch(&w1, deal, &[0, 4]), Err::TaskIndexOutOfRange);
		assert_noop!(batch(&w1, deal, &[0, 1, 0]), Err::TaskTwiceInBatch);
		// One result that is not the caller's refuses the others with it.
		assert_noop!(batch(&w2, deal, &[0]), Err::NotAssigned);
		assert_noop!(batch(&w1, others, &[0]), Err::NotAssigned);

		let replicated = DealSpec { volume: 2, ..DealSpec::trust(2) }.make();
		assert_noop!(batch(&w1, replicated, &[0]), Err::TrustAboveOne);
		// A deal's task nobody opened yet.
		let unopened = DealSpec { volume: 2, ..DealSpec::trust(1) }.make();
		assert_noop!(batch(&w1, unopened, &[0]), Err::UnknownTask);

		// A deal outside a TEE takes no enclave signature.
		let mut signed = results(&[1]);
		signed[0].enclave_signature =
			Some(TestEnclaves::sign(&w1, b"no enclave signs a plain deal's result"));
		assert_noop!(
			Contribution::contribute_and_finalize_batch(
				RuntimeOrigin::signed(w1.clone()),
				deal,
				signed
			),
			Err::UnexpectedEnclaveSignature
		);

		// Settled tasks stay settled.
		assert_ok!(batch(&w1, deal, &[0, 1]));
		assert_noop!(batch(&w1, deal, &[2, 1]), Err::TaskSettled);
		assert_ok!(batch(&w1, deal, &[2, 3]));
		assert!(!Deals::<Test>::contains_key(deal));
		assert_noop!(batch(&w1, deal, &[3]), Err::UnknownDeal);
	});
}

#[test]
fn a_batch_is_charged_for_a_dataset_and_a_closing_deal_and_refunded_what_it_did_not_do() {
	run_test(|| {
		let w1 = worker(1);
		let deal = DealSpec { dataset_price: None, volume: 5, ..DealSpec::trust(1) }.make();
		let tasks: Vec<_> =
			(0..5).map(|index| (index, vec![w1.clone()].try_into().unwrap())).collect();
		assert_ok!(Contribution::open_and_assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			deal,
			tasks.try_into().unwrap(),
		));
		let settle = |indexes: &[u32]| {
			let call = crate::Call::<Test>::contribute_and_finalize_batch {
				deal,
				results: results(indexes),
			};
			let charged = call.get_dispatch_info().call_weight;
			assert_eq!(charged, Weights::contribute_and_finalize_batch(indexes.len() as u32, 1, 1));
			batch(&w1, deal, indexes)
				.expect("w1's tasks")
				.actual_weight
				.expect("what it did")
		};
		// No dataset to pay, and the deal goes on.
		assert_eq!(settle(&[0, 1, 2]), Weights::contribute_and_finalize_batch(3, 0, 0));
		// No dataset, and the batch closes the deal.
		assert_eq!(settle(&[3, 4]), Weights::contribute_and_finalize_batch(2, 0, 1));
		assert!(!Deals::<Test>::contains_key(deal));
	});
}

#[test]
fn a_tee_batch_is_charged_for_its_signatures_and_refused_whole_for_one_forged_result() {
	run_test(|| {
		let w1 = worker(1);
		TestEnclaves::attest(&w1, APP_MEASUREMENT);
		let spec = DealSpec {
			tag: tag::TEE | tag::SGX,
			dataset_price: None,
			volume: 3,
			..DealSpec::trust(1)
		};
		let deal = made_and_assigned(spec, &w1);
		// Each result signed by w1's enclave, as its compute node signs it.
		let signed = |indexes: &[u32]| {
			let mut results = results(indexes);
			for result in results.iter_mut() {
				let task = Contribution::task_id(&deal, result.index);
				let (hash, seal) = Contribution::result_hash_and_seal(&task, &w1, &result.digest);
				let message = Contribution::enclave_message(&task, &hash, &seal);
				result.enclave_signature = Some(TestEnclaves::sign(&w1, &message));
			}
			results
		};
		let settle = |results| {
			Contribution::contribute_and_finalize_batch(
				RuntimeOrigin::signed(w1.clone()),
				deal,
				results,
			)
		};

		// One result signed for something else refuses the others with it; so does one unsigned.
		let mut forged = signed(&[0, 1]);
		forged[1].enclave_signature = Some(TestEnclaves::sign(&w1, b"another result"));
		assert_noop!(settle(forged), Err::InvalidEnclaveSignature);
		let mut unsigned = signed(&[0, 1]);
		unsigned[1].enclave_signature = None;
		assert_noop!(settle(unsigned), Err::EnclaveSignatureMissing);

		// Charged for checking signatures, and refunded for no dataset.
		let call = crate::Call::<Test>::contribute_and_finalize_batch {
			deal,
			results: signed(&[0, 1, 2]),
		};
		let in_tee = |dataset| {
			Weights::contribute_and_finalize_batch_in_tee(3, dataset, 1)
				.max(Weights::contribute_and_finalize_batch(3, dataset, 1))
		};
		assert_eq!(call.get_dispatch_info().call_weight, in_tee(1));
		let outcome = settle(signed(&[0, 1, 2])).expect("three results signed by w1's enclave");
		assert_eq!(outcome.actual_weight, Some(in_tee(0)));
		for index in 0..3 {
			let task = Tasks::<Test>::get(Contribution::task_id(&deal, index)).unwrap();
			assert_eq!(task.status, TaskStatus::Completed);
		}
		assert!(!Deals::<Test>::contains_key(deal));
	});
}
