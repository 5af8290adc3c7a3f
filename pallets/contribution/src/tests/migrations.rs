//! The migrations on storage written in the layouts before them: v1 on spec 105's, v2 on
//! spec 106's, v3 on spec 108's.

use crate::{
	migrations::{v0, v2, MigrateToV1, MigrateToV2, MigrateToV3},
	mock::*,
	Pallet, Scores, SettledTasks, TaskId, TaskPruneCursor, Tasks, UnopenedTasks,
};
use codec::Encode;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

#[test]
fn v1_dates_assignments_moves_scores_to_pools_and_counts_unopened_tasks() {
	run_test(|| {
		// A live deal of three tasks, one opened and assigned, as spec 105 stored them.
		let deal = DealSpec { volume: 3, ..DealSpec::trust(4) }.make();
		let (w1, w2) = (worker(1), worker(2));
		let task = Contribution::task_id(&deal, 0);
		assert!(Contribution::initialize(RuntimeOrigin::signed(account(OUTSIDER)), deal, 0).is_ok());
		assert!(Contribution::assign(
			RuntimeOrigin::signed(account(SCHEDULER)),
			task,
			vec![w1.clone(), w2.clone()].try_into().unwrap()
		)
		.is_ok());
		let current = Tasks::<Test>::get(task).unwrap();
		let old = v0::Task::<Test> {
			deal: current.deal,
			index: current.index,
			status: current.status,
			reference_time: current.reference_time,
			contribution_deadline: current.contribution_deadline,
			final_deadline: current.final_deadline,
			reveal_deadline: current.reveal_deadline,
			assigned: current.assigned.clone(),
			contributions: current.contributions.clone(),
			tally: current.tally.clone(),
			consensus: current.consensus,
			winners: current.winners,
			reveals: current.reveals,
			result_digest: current.result_digest,
			result_location: current.result_location.clone(),
			dataset_keys: current.dataset_keys.clone(),
		};
		frame_support::storage::unhashed::put_raw(
			&Tasks::<Test>::hashed_key_for(task),
			&old.encode(),
		);
		UnopenedTasks::<Test>::remove(deal);
		// Worker 1 scored 12 and is in pool 0; a stranger scored 5 and is in no pool.
		v0::Scores::<Test>::insert(&w1, 12);
		v0::Scores::<Test>::insert(stranger(), 5);
		StorageVersion::new(0).put::<Pallet<Test>>();

		System::set_block_number(System::block_number() + 7);
		MigrateToV1::<Test>::on_runtime_upgrade();

		let migrated = v2::Tasks::<Test>::get(task).expect("decodes in the v1 layout");
		assert_eq!(migrated.assigned, current.assigned);
		assert_eq!(migrated.assigned_at.to_vec(), vec![System::block_number(); 2]);
		assert_eq!(Scores::<Test>::get(POOL, &w1), 12);
		assert_eq!(Scores::<Test>::iter().count(), 1, "the stranger's score had no pool");
		assert_eq!(UnopenedTasks::<Test>::get(deal), 2);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));

		// Run again, it changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);

		// The later migrations take it on to the current layout.
		MigrateToV2::<Test>::on_runtime_upgrade();
		MigrateToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Tasks::<Test>::get(task).unwrap().assigned, current.assigned);
		check_invariants();
	});
}

#[test]
fn v2_queues_the_tasks_settled_before_it_for_pruning() {
	run_test(|| {
		let task = single_worker_task(DealSpec::trust(1), &worker(1));
		let open = assigned_task(DealSpec::trust(1), &[worker(2)]);
		store_in_v2_layout(&[task, open]);
		// Spec 106 queued nothing.
		let _ = SettledTasks::<Test>::clear(u32::MAX, None);
		StorageVersion::new(1).put::<Pallet<Test>>();
		run_to_block(7, frame_support::weights::Weight::zero());

		MigrateToV2::<Test>::on_runtime_upgrade();

		let final_deadline = v2::Tasks::<Test>::get(task).unwrap().final_deadline;
		assert!(SettledTasks::<Test>::contains_key(final_deadline + TASK_RETENTION, task));
		assert_eq!(SettledTasks::<Test>::iter().count(), 1, "only the settled task: {open:?}");
		assert_eq!(TaskPruneCursor::<Test>::get(), 7);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(2));
		MigrateToV3::<Test>::on_runtime_upgrade();
		assert!(Contribution::do_try_state().is_ok());
	});
}

#[test]
fn v3_pins_the_enclaves_assigned_workers_still_have_and_drops_keys_of_the_others() {
	use pallet_marketplace::tag;
	run_test(|| {
		let (kept, lapsed) = (worker(1), worker(2));
		for worker in [&kept, &lapsed] {
			TestEnclaves::attest(worker, APP_MEASUREMENT);
		}
		let spec =
			DealSpec { tag: tag::TEE | tag::SGX, dataset: ENCRYPTED_DATASET, ..DealSpec::trust(4) };
		let task = assigned_task(spec, &[kept.clone(), lapsed.clone()]);
		let plain = assigned_task(DealSpec::trust(1), &[worker(3)]);
		let pinned = Tasks::<Test>::get(task).unwrap().enclaves;
		for worker in [&kept, &lapsed] {
			let sealed = crate::SealedDatasetKey {
				ephemeral: [5; 32],
				recipient: TestEnclaves::encryption_key(worker).unwrap(),
				ciphertext: [6; 48],
			};
			assert!(Contribution::release_dataset_key(
				RuntimeOrigin::signed(account(DATASET_OWNER)),
				task,
				worker.clone(),
				sealed
			)
			.is_ok());
		}
		store_in_v2_layout(&[task, plain]);
		StorageVersion::new(2).put::<Pallet<Test>>();
		// Between the key's release and the upgrade, one worker's enclave lapsed.
		TestEnclaves::evict(&lapsed);

		MigrateToV3::<Test>::on_runtime_upgrade();

		let migrated = Tasks::<Test>::get(task).expect("decodes in the v3 layout");
		assert_eq!(migrated.enclaves.to_vec(), vec![pinned[0].clone()]);
		assert!(migrated.dataset_key_of(&kept).is_some());
		assert_eq!(migrated.dataset_key_of(&lapsed), None);
		assert!(Tasks::<Test>::get(plain).unwrap().enclaves.is_empty());
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(3));
	});
}

/// Rewrites `tasks` as specs 106 to 108 stored them: without pinned enclaves.
fn store_in_v2_layout(tasks: &[TaskId]) {
	for task in tasks {
		let current = Tasks::<Test>::get(task).unwrap();
		let old = v2::Task::<Test> {
			deal: current.deal,
			index: current.index,
			status: current.status,
			reference_time: current.reference_time,
			contribution_deadline: current.contribution_deadline,
			final_deadline: current.final_deadline,
			reveal_deadline: current.reveal_deadline,
			assigned: current.assigned,
			assigned_at: current.assigned_at,
			contributions: current.contributions,
			tally: current.tally,
			consensus: current.consensus,
			winners: current.winners,
			reveals: current.reveals,
			result_digest: current.result_digest,
			result_location: current.result_location,
			dataset_keys: current.dataset_keys,
		};
		v2::Tasks::<Test>::insert(task, old);
	}
}
