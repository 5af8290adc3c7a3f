//! The migration to v1 on storage as spec 105 left it.

use crate::{
	migrations::{migrated_to_v1, MigrateToV1},
	mock::{actors::*, *},
	Pallet, SchedulerAccepted, Workerpools,
};
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};

#[test]
fn v1_accepts_only_the_pools_that_schedule_themselves() {
	run_test(|| {
		register_resources();
		// Pool 0 names SCHEDULER; pool 1 is scheduled by its own owner. Spec 105 stored no
		// acceptance at all.
		assert_ok!(Marketplace::create_workerpool(
			RuntimeOrigin::signed(account(OUTSIDER)),
			bounded(b"self-scheduled"),
			Workerpools::<Test>::get(0).unwrap().policy,
			account(OUTSIDER),
			true,
		));
		let _ = SchedulerAccepted::<Test>::clear(u32::MAX, None);
		StorageVersion::new(0).put::<Pallet<Test>>();

		MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Marketplace::active_scheduler(0), None, "SCHEDULER never agreed");
		assert_eq!(Marketplace::active_scheduler(1), Some(account(OUTSIDER)));
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
		assert!(migrated_to_v1::<Test>().is_ok());

		// Run again, it changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
	});
}
