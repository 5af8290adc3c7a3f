//! Apps, datasets, workerpools, workers and categories.

use crate::{mock::actors::*, mock::*, types::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Percent};

#[test]
fn registering_resources_numbers_them_and_records_their_owners() {
	run_test(|| {
		register_resources();
		let app = Apps::<Test>::get(0).unwrap();
		assert_eq!(app.owner, account(APP_OWNER));
		assert_eq!(app.checksum, [1; 32]);
		assert_eq!(Datasets::<Test>::get(0).unwrap().owner, account(DATASET_OWNER));
		let pool = Workerpools::<Test>::get(0).unwrap();
		assert_eq!(pool.owner, account(POOL_OWNER));
		assert_eq!(pool.scheduler_key, account(SCHEDULER));
		System::assert_has_event(Event::AppCreated { app: 0, owner: account(APP_OWNER) }.into());
		System::assert_has_event(
			Event::WorkerpoolCreated { workerpool: 0, owner: account(POOL_OWNER) }.into(),
		);

		assert_ok!(Marketplace::create_app(
			signed_by(OUTSIDER),
			bounded(b"second"),
			bounded(b"https://apps.example/second.wasm"),
			[3; 32],
			vec![Measurement::SgxMrEnclave([9; 32])].try_into().unwrap(),
			AppKind::Wasi,
		));
		assert_eq!(Apps::<Test>::get(1).unwrap().measurements.len(), 1);
	});
}

#[test]
fn an_app_is_a_wasi_module_or_an_image_and_an_image_lists_no_measurements() {
	run_test(|| {
		register_resources();
		assert_eq!(Apps::<Test>::get(0).unwrap().kind, AppKind::Wasi);
		let image = |measurements: &[Measurement]| {
			Marketplace::create_app(
				signed_by(OUTSIDER),
				bounded(b"hello"),
				bounded(b"registry.example/hello"),
				[4; 32],
				measurements.to_vec().try_into().unwrap(),
				AppKind::Oci,
			)
		};
		assert_noop!(
			image(&[Measurement::SgxMrEnclave([9; 32])]),
			Error::<Test>::ContainerAppInTee
		);
		assert_ok!(image(&[]));
		let app = Apps::<Test>::get(1).unwrap();
		assert_eq!((app.kind, app.checksum), (AppKind::Oci, [4; 32]));
	});
}

#[test]
fn only_owners_transfer_and_the_new_owner_takes_over() {
	run_test(|| {
		register_resources();
		assert_noop!(
			Marketplace::transfer_app(signed_by(OUTSIDER), 0, account(OUTSIDER)),
			Error::<Test>::NotAppOwner
		);
		assert_noop!(
			Marketplace::transfer_app(signed_by(APP_OWNER), 7, account(OUTSIDER)),
			Error::<Test>::UnknownApp
		);
		assert_ok!(Marketplace::transfer_app(signed_by(APP_OWNER), 0, account(OUTSIDER)));
		assert_eq!(Apps::<Test>::get(0).unwrap().owner, account(OUTSIDER));
		System::assert_last_event(
			Event::AppTransferred { app: 0, from: account(APP_OWNER), to: account(OUTSIDER) }
				.into(),
		);

		assert_noop!(
			Marketplace::transfer_dataset(signed_by(OUTSIDER), 0, account(OUTSIDER)),
			Error::<Test>::NotDatasetOwner
		);
		assert_noop!(
			Marketplace::transfer_dataset(signed_by(DATASET_OWNER), 3, account(OUTSIDER)),
			Error::<Test>::UnknownDataset
		);
		assert_ok!(Marketplace::transfer_dataset(signed_by(DATASET_OWNER), 0, account(OUTSIDER)));
		assert_eq!(Datasets::<Test>::get(0).unwrap().owner, account(OUTSIDER));

		assert_noop!(
			Marketplace::transfer_workerpool(signed_by(OUTSIDER), 0, account(OUTSIDER)),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_noop!(
			Marketplace::transfer_workerpool(signed_by(POOL_OWNER), 5, account(OUTSIDER)),
			Error::<Test>::UnknownWorkerpool
		);
		assert_ok!(Marketplace::transfer_workerpool(signed_by(POOL_OWNER), 0, account(OUTSIDER)));
		assert_eq!(Workerpools::<Test>::get(0).unwrap().owner, account(OUTSIDER));
	});
}

#[test]
fn a_pool_owner_changes_policy_scheduler_and_access() {
	run_test(|| {
		register_resources();
		let old = Workerpools::<Test>::get(0).unwrap().policy;
		let new = PoolPolicy {
			worker_stake_ratio: Percent::from_percent(35),
			pool_owner_reward_ratio: Percent::from_percent(1),
		};
		assert_noop!(
			Marketplace::set_workerpool_policy(signed_by(OUTSIDER), 0, new),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_ok!(Marketplace::set_workerpool_policy(signed_by(POOL_OWNER), 0, new));
		assert_eq!(Workerpools::<Test>::get(0).unwrap().policy, new);
		System::assert_last_event(
			Event::WorkerpoolPolicyChanged { workerpool: 0, old, new }.into(),
		);

		assert_noop!(
			Marketplace::set_scheduler(signed_by(OUTSIDER), 0, account(OUTSIDER)),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_ok!(Marketplace::set_scheduler(signed_by(POOL_OWNER), 0, account(OUTSIDER)));
		assert_eq!(Workerpools::<Test>::get(0).unwrap().scheduler_key, account(OUTSIDER));

		assert_noop!(
			Marketplace::set_workerpool_access(signed_by(OUTSIDER), 0, false),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_ok!(Marketplace::set_workerpool_access(signed_by(POOL_OWNER), 0, false));
		assert!(!Workerpools::<Test>::get(0).unwrap().open);
		System::assert_last_event(
			Event::WorkerpoolAccessChanged { workerpool: 0, open: false }.into(),
		);
	});
}

#[test]
fn a_pool_is_scheduled_only_once_its_scheduler_accepts() {
	run_test(|| {
		register_resources();
		// The pool names SCHEDULER, which has not agreed to anything yet.
		assert_eq!(Marketplace::active_scheduler(0), None);
		assert_noop!(
			Marketplace::accept_scheduling(signed_by(OUTSIDER), 0),
			Error::<Test>::NotWorkerpoolScheduler
		);
		assert_noop!(
			Marketplace::accept_scheduling(signed_by(SCHEDULER), 9),
			Error::<Test>::UnknownWorkerpool
		);
		assert_ok!(Marketplace::accept_scheduling(signed_by(SCHEDULER), 0));
		assert_eq!(Marketplace::active_scheduler(0), Some(account(SCHEDULER)));
		System::assert_last_event(
			Event::SchedulingAccepted { workerpool: 0, scheduler: account(SCHEDULER) }.into(),
		);
		assert_noop!(
			Marketplace::accept_scheduling(signed_by(SCHEDULER), 0),
			Error::<Test>::SchedulingAlreadyAccepted
		);

		// A new scheduler must accept in turn; the old one's acceptance does not carry over.
		assert_ok!(Marketplace::set_scheduler(signed_by(POOL_OWNER), 0, account(OUTSIDER)));
		assert_eq!(Marketplace::active_scheduler(0), None);
		assert_ok!(Marketplace::accept_scheduling(signed_by(OUTSIDER), 0));
		assert_eq!(Marketplace::active_scheduler(0), Some(account(OUTSIDER)));

		// It agreed to serve this owner's pool, not whoever the pool is handed to.
		assert_ok!(Marketplace::transfer_workerpool(signed_by(POOL_OWNER), 0, account(WORKER)));
		assert_eq!(Marketplace::active_scheduler(0), None);
		// An owner naming itself as scheduler agrees by doing so.
		assert_ok!(Marketplace::set_scheduler(signed_by(WORKER), 0, account(WORKER)));
		assert_eq!(Marketplace::active_scheduler(0), Some(account(WORKER)));
	});
}

#[test]
fn a_policy_change_does_not_touch_deals_already_made() {
	run_test(|| {
		register_resources();
		assert_ok!(Match::new(1).submit());
		let deal = Deals::<Test>::get(last_deal()).unwrap();
		assert_ok!(Marketplace::set_workerpool_policy(
			signed_by(POOL_OWNER),
			0,
			PoolPolicy {
				worker_stake_ratio: Percent::from_percent(50),
				pool_owner_reward_ratio: Percent::from_percent(50),
			}
		));
		assert_eq!(Deals::<Test>::get(last_deal()).unwrap(), deal);
		assert_eq!(deal.worker_stake, POOL_PRICE / 10);
		assert_eq!(deal.pool_owner_reward_ratio, Percent::from_percent(5));
	});
}

#[test]
fn workers_join_an_open_pool_beat_and_leave() {
	run_test(|| {
		register_resources();
		assert_noop!(
			Marketplace::join_workerpool(signed_by(WORKER), 9, endpoint(), 0),
			Error::<Test>::UnknownWorkerpool
		);
		assert_ok!(Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), tag::GPU));
		System::assert_last_event(
			Event::WorkerJoined { workerpool: 0, worker: account(WORKER), capabilities: tag::GPU }
				.into(),
		);
		let membership = PoolMembers::<Test>::get(0, account(WORKER)).unwrap();
		assert_eq!(membership.capabilities, tag::GPU);
		assert_eq!(membership.last_heartbeat, 1);
		assert_eq!(PoolMemberCount::<Test>::get(0), 1);
		assert_noop!(
			Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0),
			Error::<Test>::AlreadyInWorkerpool
		);

		System::set_block_number(9);
		assert_ok!(Marketplace::heartbeat(signed_by(WORKER)));
		assert_eq!(PoolMembers::<Test>::get(0, account(WORKER)).unwrap().last_heartbeat, 9);
		assert_noop!(Marketplace::heartbeat(signed_by(OUTSIDER)), Error::<Test>::NotAMember);

		assert_ok!(Marketplace::leave_workerpool(signed_by(WORKER)));
		assert!(PoolMembers::<Test>::get(0, account(WORKER)).is_none());
		assert_eq!(PoolMemberCount::<Test>::get(0), 0);
		System::assert_last_event(
			Event::WorkerLeft { workerpool: 0, worker: account(WORKER) }.into(),
		);
		assert_noop!(Marketplace::leave_workerpool(signed_by(WORKER)), Error::<Test>::NotAMember);
	});
}

#[test]
fn a_closed_pool_admits_only_allowed_workers() {
	run_test(|| {
		register_resources();
		assert_ok!(Marketplace::set_workerpool_access(signed_by(POOL_OWNER), 0, false));
		assert_noop!(
			Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0),
			Error::<Test>::NotAllowedInWorkerpool
		);
		assert_noop!(
			Marketplace::allow_worker(signed_by(OUTSIDER), 0, account(WORKER)),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_ok!(Marketplace::allow_worker(signed_by(POOL_OWNER), 0, account(WORKER)));
		assert_ok!(Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0));

		assert_noop!(
			Marketplace::disallow_worker(signed_by(POOL_OWNER), 0, account(OUTSIDER)),
			Error::<Test>::WorkerNotAllowed
		);
		assert_noop!(
			Marketplace::disallow_worker(signed_by(OUTSIDER), 0, account(WORKER)),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_ok!(Marketplace::disallow_worker(signed_by(POOL_OWNER), 0, account(WORKER)));
		// Disallowing does not remove a member; the owner removes it explicitly.
		assert!(PoolMembers::<Test>::contains_key(0, account(WORKER)));
		assert_noop!(
			Marketplace::remove_worker(signed_by(OUTSIDER), 0, account(WORKER)),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_noop!(
			Marketplace::remove_worker(signed_by(POOL_OWNER), 0, account(OUTSIDER)),
			Error::<Test>::NotAMember
		);
		assert_ok!(Marketplace::remove_worker(signed_by(POOL_OWNER), 0, account(WORKER)));
		System::assert_last_event(
			Event::WorkerRemoved { workerpool: 0, worker: account(WORKER) }.into(),
		);
		assert!(WorkerPool::<Test>::get(account(WORKER)).is_none());
	});
}

#[test]
fn a_pool_takes_no_more_than_its_maximum_of_workers() {
	run_test(|| {
		register_resources();
		let workers = [APP_OWNER, DATASET_OWNER, REQUESTER];
		assert_eq!(workers.len() as u32, MAX_POOL_MEMBERS);
		for worker in workers {
			assert_ok!(Marketplace::join_workerpool(signed_by(worker), 0, endpoint(), 0));
		}
		assert_noop!(
			Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0),
			Error::<Test>::WorkerpoolFull
		);
	});
}

#[test]
fn governance_creates_categories_with_a_positive_reference_time() {
	run_test(|| {
		assert_eq!(Categories::<Test>::get(XS).unwrap().reference_time_secs, 300);
		assert_noop!(
			Marketplace::create_category(signed_by(OUTSIDER), bounded(b"M"), 3_600),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Marketplace::create_category(RuntimeOrigin::root(), bounded(b"zero"), 0),
			Error::<Test>::ZeroReferenceTime
		);
		assert_ok!(Marketplace::create_category(RuntimeOrigin::root(), bounded(b"M"), 3_600));
		System::assert_last_event(
			Event::CategoryCreated { category: 2, reference_time_secs: 3_600 }.into(),
		);
		assert_eq!(Categories::<Test>::get(2).unwrap().name.to_vec(), b"M".to_vec());
	});
}

#[test]
fn an_account_sets_replaces_and_removes_its_result_key_but_never_a_small_order_one() {
	run_test(|| {
		let set = |key| Marketplace::set_result_encryption_key(signed_by(REQUESTER), key);
		assert_ok!(set(Some([0x42; 32])));
		assert_eq!(ResultEncryptionKeys::<Test>::get(account(REQUESTER)), Some([0x42; 32]));
		System::assert_last_event(
			Event::ResultEncryptionKeySet { account: account(REQUESTER), key: Some([0x42; 32]) }
				.into(),
		);
		assert_ok!(set(Some([0x43; 32])));
		assert_eq!(ResultEncryptionKeys::<Test>::get(account(REQUESTER)), Some([0x43; 32]));

		// Anything sealed to a small-order key is readable by everyone, whichever its top bit.
		for point in commons_primitives::enclave::SMALL_ORDER_X25519 {
			let mut high = point;
			high[31] |= 0x80;
			for key in [point, high] {
				assert_noop!(set(Some(key)), Error::<Test>::SmallOrderResultKey);
			}
		}
		assert_eq!(ResultEncryptionKeys::<Test>::get(account(REQUESTER)), Some([0x43; 32]));

		assert_ok!(set(None));
		assert!(!ResultEncryptionKeys::<Test>::contains_key(account(REQUESTER)));
		System::assert_last_event(
			Event::ResultEncryptionKeySet { account: account(REQUESTER), key: None }.into(),
		);
		// Another account's key is its own.
		assert_ok!(Marketplace::set_result_encryption_key(signed_by(OUTSIDER), Some([0x44; 32])));
		assert!(!ResultEncryptionKeys::<Test>::contains_key(account(REQUESTER)));
		assert_noop!(
			Marketplace::set_result_encryption_key(RuntimeOrigin::none(), Some([0x45; 32])),
			DispatchError::BadOrigin
		);
	});
}
