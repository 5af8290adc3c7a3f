//! Confidential datasets: the owner's key reaches each assigned, allowed enclave of a TEE task,
//! and nobody else; the chain keeps a sealed key only while its task is unsettled.

use crate::{
	mock::*,
	types::{SealedDatasetKey, TaskId, TaskStatus},
	Error, Event, Tasks,
};
use frame_support::{assert_noop, assert_ok, weights::Weight};
use pallet_marketplace::{tag, Deals, Measurement};
use sp_keyring::Sr25519Keyring;

type Err = Error<Test>;

/// A confidential deal of one task buying the encrypted dataset, at `trust`.
fn confidential(trust: u32) -> DealSpec {
	DealSpec { tag: tag::TEE | tag::SGX, dataset: ENCRYPTED_DATASET, ..DealSpec::trust(trust) }
}

/// A key sealed to `recipient` (the ciphertext is opaque to the chain).
fn sealed_to(recipient: [u8; 32]) -> SealedDatasetKey {
	SealedDatasetKey { ephemeral: [5; 32], recipient, ciphertext: [6; 48] }
}

/// A key sealed to `worker`'s enclave's current encryption key.
fn sealed_for(worker: &AccountId) -> SealedDatasetKey {
	sealed_to(TestEnclaves::encryption_key(worker).unwrap())
}

fn release(
	from: Sr25519Keyring,
	task: TaskId,
	to: &AccountId,
	sealed: SealedDatasetKey,
) -> sp_runtime::DispatchResult {
	Contribution::release_dataset_key(
		RuntimeOrigin::signed(account(from)),
		task,
		to.clone(),
		sealed,
	)
}

/// Attests `workers` with the app's measurement and assigns them to a new task of `spec`.
fn attested_task(spec: DealSpec, workers: &[AccountId]) -> TaskId {
	for worker in workers {
		TestEnclaves::attest(worker, APP_MEASUREMENT);
	}
	assigned_task(spec, workers)
}

fn released_keys(task: TaskId) -> usize {
	Tasks::<Test>::get(task).unwrap().dataset_keys.len()
}

#[test]
fn the_owner_releases_its_key_to_each_assigned_enclave_and_it_is_gone_once_settled() {
	run_test(|| {
		let (first, second) = (worker(1), worker(2));
		let task = attested_task(confidential(4), &[first.clone(), second.clone()]);

		for worker in [&first, &second] {
			assert_ok!(release(DATASET_OWNER, task, worker, sealed_for(worker)));
			assert_eq!(
				last_contribution_event(),
				Event::DatasetKeyReleased {
					task,
					dataset: ENCRYPTED_DATASET,
					worker: worker.clone(),
					enclave_key: sealed_for(worker).recipient,
				}
			);
		}
		let entry = Tasks::<Test>::get(task).unwrap();
		assert_eq!(entry.dataset_key_of(&first), Some(&sealed_for(&first)));
		assert_eq!(entry.dataset_key_of(&second), Some(&sealed_for(&second)));

		// Both enclaves compute and vote with their signatures; the reveals settle the task.
		let result = digest(9);
		for worker in [&first, &second] {
			let (hash, seal) = Contribution::result_hash_and_seal(&task, worker, &result);
			let message = Contribution::enclave_message(&task, &hash, &seal);
			assert_ok!(Contribution::contribute(
				RuntimeOrigin::signed(worker.clone()),
				task,
				hash,
				seal,
				Some(TestEnclaves::sign(worker, &message)),
			));
		}
		assert_ok!(reveal(&first, task, result));
		assert_ok!(reveal(&second, task, result));
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Completed);
		assert_eq!(released_keys(task), 0);
	});
}

#[test]
fn a_failed_task_drops_its_released_keys() {
	run_test(|| {
		let enclave = worker(1);
		let task = attested_task(confidential(1), &[enclave.clone()]);
		assert_ok!(release(DATASET_OWNER, task, &enclave, sealed_for(&enclave)));
		let final_deadline = Tasks::<Test>::get(task).unwrap().final_deadline;
		run_to_block(final_deadline + 1, Weight::MAX);
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Failed);
		assert_eq!(released_keys(task), 0);
	});
}

#[test]
fn an_enclave_that_re_registered_after_assignment_gets_no_key() {
	run_test(|| {
		let enclave = worker(1);
		let task = attested_task(confidential(1), &[enclave.clone()]);
		let pinned = sealed_for(&enclave);
		assert_ok!(release(DATASET_OWNER, task, &enclave, pinned));
		assert_noop!(
			release(DATASET_OWNER, task, &enclave, pinned),
			Err::DatasetKeyAlreadyReleased
		);

		// The worker registers new keys (an enclave it may control): the key is released
		// neither to them nor again to the keys it was assigned with.
		let other = worker(2);
		let task = attested_task(confidential(1), &[other.clone()]);
		let assigned_with = sealed_for(&other);
		TestEnclaves::rekey(&other, [42; 32]);
		assert_noop!(
			release(DATASET_OWNER, task, &other, sealed_to([42; 32])),
			Err::EnclaveChanged
		);
		assert_noop!(release(DATASET_OWNER, task, &other, assigned_with), Err::EnclaveChanged);
		assert_eq!(released_keys(task), 0);
	});
}

#[test]
fn a_simulated_enclave_is_not_trusted_with_an_encrypted_dataset() {
	run_test(|| {
		let simulated = worker(1);
		TestEnclaves::attest_simulated(&simulated, APP_MEASUREMENT);
		let deal = confidential(1).make();
		let task = Contribution::task_id(&deal, 0);
		assert_ok!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0));
		assert_noop!(
			Contribution::assign(
				RuntimeOrigin::signed(account(SCHEDULER)),
				task,
				vec![simulated.clone()].try_into().unwrap()
			),
			Err::EnclaveNotAllowed
		);
		// A TEE task on data that is not encrypted takes it.
		assigned_task(DealSpec { dataset: PLAIN_DATASET, ..confidential(1) }, &[simulated]);
	});
}

#[test]
fn a_key_is_released_only_by_its_owner_to_an_assigned_allowed_enclave_of_an_open_tee_task() {
	run_test(|| {
		let (assigned, idle) = (worker(1), worker(2));
		TestEnclaves::attest(&idle, APP_MEASUREMENT);
		let task = attested_task(confidential(4), &[assigned.clone()]);
		let good = sealed_for(&assigned);

		assert_noop!(
			release(DATASET_OWNER, TaskId::repeat_byte(1), &assigned, good),
			Err::UnknownTask
		);
		assert_noop!(release(OUTSIDER, task, &assigned, good), Err::NotDatasetOwner);
		assert_noop!(release(APP_OWNER, task, &assigned, good), Err::NotDatasetOwner);
		assert_noop!(
			release(DATASET_OWNER, task, &idle, sealed_for(&idle)),
			Err::WorkerNotAssigned
		);
		assert_noop!(
			release(DATASET_OWNER, task, &assigned, sealed_to([0; 32])),
			Err::SealedToAnotherKey
		);

		// An enclave whose registration lapsed after its assignment gets nothing.
		TestEnclaves::evict(&assigned);
		assert_noop!(release(DATASET_OWNER, task, &assigned, good), Err::EnclaveChanged);
		// Nor one of a measurement the app does not allow.
		TestEnclaves::attest(&assigned, Measurement::SgxMrEnclave([8; 32]));
		assert_noop!(release(DATASET_OWNER, task, &assigned, good), Err::EnclaveChanged);
		TestEnclaves::attest(&assigned, APP_MEASUREMENT);

		// A deal that does not run in a TEE (the marketplace no longer makes them with an
		// encrypted dataset, but one could predate that rule).
		let deal = Tasks::<Test>::get(task).unwrap().deal;
		Deals::<Test>::mutate(deal, |deal| deal.as_mut().unwrap().tag = 0);
		assert_noop!(release(DATASET_OWNER, task, &assigned, good), Err::DealNotConfidential);
		Deals::<Test>::mutate(deal, |deal| deal.as_mut().unwrap().tag = tag::TEE | tag::SGX);

		// Past the contribution deadline the key is of no use.
		let deadline = Tasks::<Test>::get(task).unwrap().contribution_deadline;
		run_to_block(deadline, Weight::zero());
		assert_noop!(
			release(DATASET_OWNER, task, &assigned, good),
			Err::ContributionDeadlinePassed
		);
	});
}

#[test]
fn only_a_deal_buying_an_encrypted_dataset_has_a_key_to_release() {
	run_test(|| {
		let enclave = worker(1);
		let plain = attested_task(
			DealSpec { dataset: PLAIN_DATASET, ..confidential(1) },
			&[enclave.clone()],
		);
		assert_noop!(
			release(DATASET_OWNER, plain, &enclave, sealed_for(&enclave)),
			Err::DatasetNotEncrypted
		);
		let without =
			attested_task(DealSpec { dataset_price: None, ..confidential(1) }, &[enclave.clone()]);
		assert_noop!(
			release(DATASET_OWNER, without, &enclave, sealed_for(&enclave)),
			Err::NoDataset
		);
	});
}

#[test]
fn a_settled_or_revealing_task_takes_no_key() {
	run_test(|| {
		let enclave = worker(1);
		let task = attested_task(confidential(1), &[enclave.clone()]);
		let (hash, seal) = Contribution::result_hash_and_seal(&task, &enclave, &digest(1));
		let message = Contribution::enclave_message(&task, &hash, &seal);
		assert_ok!(Contribution::contribute_and_finalize(
			RuntimeOrigin::signed(enclave.clone()),
			task,
			digest(1),
			bounded(b""),
			Some(TestEnclaves::sign(&enclave, &message)),
		));
		assert_noop!(
			release(DATASET_OWNER, task, &enclave, sealed_for(&enclave)),
			Err::TaskSettled
		);

		// A replicated task whose vote reached consensus is revealing: computing is over.
		let (first, second) = (worker(2), worker(3));
		let task = attested_task(confidential(2), &[first.clone(), second.clone()]);
		for worker in [&first, &second] {
			let (hash, seal) = Contribution::result_hash_and_seal(&task, worker, &digest(2));
			let message = Contribution::enclave_message(&task, &hash, &seal);
			assert_ok!(Contribution::contribute(
				RuntimeOrigin::signed(worker.clone()),
				task,
				hash,
				seal,
				Some(TestEnclaves::sign(worker, &message)),
			));
			if Tasks::<Test>::get(task).unwrap().status == TaskStatus::Revealing {
				break;
			}
		}
		assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Revealing);
		assert_noop!(release(DATASET_OWNER, task, &first, sealed_for(&first)), Err::TaskNotActive);
	});
}
