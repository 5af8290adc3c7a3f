//! The migration to v1 on storage written in the v0 layout.

use crate::{
	migrations::{migrated_to_v1, v0, MigrateToV1},
	mock::{actors::*, *},
	Datasets, Pallet, SchedulerAccepted, Workerpools,
};
use codec::Encode;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

#[test]
fn v1_keeps_datasets_as_plain_and_pools_scheduled() {
	run_test(|| {
		register_resources();
		// The chain as spec 104 left it: a dataset without `encrypted`, a pool with no
		// acceptance recorded, and storage at version 0.
		let old = v0::Dataset::<Test> {
			owner: account(DATASET_OWNER),
			name: bounded(b"old"),
			uri: bounded(b"https://data.example/old.csv"),
			checksum: [4; 32],
		};
		frame_support::storage::unhashed::put_raw(
			&Datasets::<Test>::hashed_key_for(7),
			&old.encode(),
		);
		SchedulerAccepted::<Test>::remove(0);
		StorageVersion::new(0).put::<Pallet<Test>>();
		assert!(migrated_to_v1::<Test>().is_err());

		MigrateToV1::<Test>::on_runtime_upgrade();

		let migrated = Datasets::<Test>::get(7).expect("decodes in the new layout");
		assert_eq!(
			(migrated.owner, migrated.checksum, migrated.encrypted),
			(account(DATASET_OWNER), [4; 32], false)
		);
		assert_eq!(
			SchedulerAccepted::<Test>::get(0),
			Some(Workerpools::<Test>::get(0).unwrap().scheduler)
		);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
		assert!(migrated_to_v1::<Test>().is_ok());

		// Run again, it changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
	});
}
