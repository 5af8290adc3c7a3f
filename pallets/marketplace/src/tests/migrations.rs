//! The migrations on storage as the spec before each left it: v1 on spec 105's, v2 on 106's,
//! v3 on 116's.

use crate::{
	migrations::{migrated_to_v1, v2, MigrateToV1, MigrateToV2, MigrateToV3},
	mock::{actors::*, *},
	types::AppKind,
	types::Footprint,
	Apps, DealsUsing, OrderPruneCursor, Pallet, SchedulerAccepted, Workerpools,
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

#[test]
fn v2_counts_the_live_deals_uses_so_nothing_they_use_can_be_removed() {
	run_test(|| {
		register_resources();
		assert_ok!(Match::new(2).submit());
		let mut second = Match::new(2);
		second.request.salt = [9; 32];
		second.app.salt = [9; 32];
		second.workerpool.salt = [9; 32];
		second.dataset = None;
		second.request.dataset = None;
		assert_ok!(second.submit());
		// Spec 106 counted nothing.
		let _ = DealsUsing::<Test>::clear(u32::MAX, None);
		StorageVersion::new(1).put::<Pallet<Test>>();
		System::set_block_number(12);

		MigrateToV2::<Test>::on_runtime_upgrade();

		assert_eq!(DealsUsing::<Test>::get(Footprint::App(0)), 2);
		assert_eq!(DealsUsing::<Test>::get(Footprint::Dataset(0)), 1);
		assert_eq!(DealsUsing::<Test>::get(Footprint::Workerpool(0)), 2);
		assert_eq!(OrderPruneCursor::<Test>::get(), 12);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(2));
		frame_support::assert_noop!(
			Marketplace::remove_app(signed_by(APP_OWNER), 0),
			crate::Error::<Test>::UsedByLiveDeals
		);
	});
}

#[test]
fn v3_makes_every_app_stored_before_a_wasi_module() {
	run_test(|| {
		register_resources();
		let registered = Apps::<Test>::get(0).unwrap();
		// Spec 116 stored apps without a kind.
		let old = v2::App::<Test> {
			owner: registered.owner.clone(),
			name: registered.name.clone(),
			uri: registered.uri.clone(),
			checksum: registered.checksum,
			measurements: registered.measurements.clone(),
		};
		v2::Apps::<Test>::insert(0, old);
		assert!(Apps::<Test>::get(0).is_none(), "the old record does not decode as the new one");
		StorageVersion::new(2).put::<Pallet<Test>>();

		MigrateToV3::<Test>::on_runtime_upgrade();

		assert_eq!(Apps::<Test>::get(0), Some(registered.clone()));
		assert_eq!(registered.kind, AppKind::Wasi);
		assert_eq!(Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(3));
		assert_ok!(Pallet::<Test>::check_deposits());

		// Run again, it changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		MigrateToV3::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
	});
}
