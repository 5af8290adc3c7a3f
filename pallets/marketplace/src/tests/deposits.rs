//! Storage deposits for what the chain keeps on someone's behalf, removal, and the pruning of
//! expired orders' records.

use crate::{mock::actors::*, mock::*, types::*, *};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, Get, Hooks},
	weights::Weight,
};
use pallet_escrow::{Escrow as _, Purpose};
use sp_keyring::Sr25519Keyring;

fn held_deposits(key: Sr25519Keyring) -> Balance {
	<Test as crate::Config>::Escrow::locked(&account(key), Purpose::StorageDeposit)
}

fn free(key: Sr25519Keyring) -> Balance {
	Balances::free_balance(account(key))
}

/// An app like the fixture's, registered by `key`.
fn create_app_as(key: Sr25519Keyring) -> sp_runtime::DispatchResult {
	Marketplace::create_app(
		RuntimeOrigin::signed(account(key)),
		bounded(b"monte-carlo"),
		bounded(b"https://apps.example/pi.wasm"),
		[1; 32],
		Default::default(),
		Default::default(),
	)
}

/// Runs the idle hook of block `now` with all the weight it wants.
fn idle_at(now: u64) {
	System::set_block_number(now);
	Marketplace::on_idle(now, Weight::MAX);
}

#[test]
fn a_registration_holds_a_deposit_sized_by_what_it_stores_returned_to_its_payer_on_removal() {
	run_test(|| {
		let before = free(APP_OWNER);
		assert_ok!(create_app_as(APP_OWNER));
		let app = Apps::<Test>::get(0).unwrap();
		let deposit = Marketplace::deposit_for(&Footprint::App(0), app.encoded_size());
		assert!(deposit > DepositPerItem::get(), "bytes are paid for too");
		assert_eq!(held_deposits(APP_OWNER), deposit);
		assert_eq!(free(APP_OWNER), before - deposit);
		assert_eq!(Deposits::<Test>::get(Footprint::App(0)), Some((account(APP_OWNER), deposit)));

		// Handed over, the app's deposit stays with whoever paid it, and goes back to it.
		assert_ok!(Marketplace::transfer_app(signed_by(APP_OWNER), 0, account(OUTSIDER)));
		assert_noop!(Marketplace::remove_app(signed_by(APP_OWNER), 0), Error::<Test>::NotAppOwner);
		assert_noop!(Marketplace::remove_app(signed_by(OUTSIDER), 7), Error::<Test>::UnknownApp);
		assert_ok!(Marketplace::remove_app(signed_by(OUTSIDER), 0));
		System::assert_last_event(Event::AppRemoved { app: 0 }.into());
		assert!(!Apps::<Test>::contains_key(0));
		assert_eq!(held_deposits(APP_OWNER), 0);
		assert_eq!(free(APP_OWNER), before);
		assert_eq!(Deposits::<Test>::iter().count(), 0);
	});
}

#[test]
fn nothing_is_stored_for_an_account_that_cannot_hold_its_deposit() {
	run_test(|| {
		register_resources();
		// Never funded.
		let pauper = Sr25519Keyring::AliceStash;
		assert_noop!(create_app_as(pauper), Error::<Test>::CannotPayDeposit);
		assert_noop!(
			Marketplace::create_dataset(
				signed_by(pauper),
				bounded(b"d"),
				bounded(b"u"),
				[0; 32],
				false
			),
			Error::<Test>::CannotPayDeposit
		);
		assert_noop!(
			Marketplace::create_workerpool(
				signed_by(pauper),
				bounded(b"p"),
				Workerpools::<Test>::get(0).unwrap().policy,
				account(pauper),
				true
			),
			Error::<Test>::CannotPayDeposit
		);
		let request = RequestOrder { requester: account(pauper), ..request_order(1) };
		assert_noop!(
			Marketplace::presign_order(signed_by(pauper), Order::Request(request)),
			Error::<Test>::CannotPayDeposit
		);
	});
}

#[test]
fn what_a_live_deal_uses_cannot_be_removed_until_its_tasks_settle() {
	run_test(|| {
		register_resources();
		assert_ok!(Match::new(2).submit());
		let deal = last_deal();
		let made = Deals::<Test>::get(deal).unwrap();
		assert_noop!(
			Marketplace::remove_app(signed_by(APP_OWNER), 0),
			Error::<Test>::UsedByLiveDeals
		);
		assert_noop!(
			Marketplace::remove_dataset(signed_by(DATASET_OWNER), 0),
			Error::<Test>::UsedByLiveDeals
		);
		assert_noop!(
			Marketplace::remove_workerpool(signed_by(POOL_OWNER), 0),
			Error::<Test>::UsedByLiveDeals
		);

		Marketplace::settle_tasks(&deal, 1);
		assert_noop!(
			Marketplace::remove_app(signed_by(APP_OWNER), 0),
			Error::<Test>::UsedByLiveDeals
		);
		Marketplace::settle_tasks(&deal, 1);
		assert_eq!(DealsUsing::<Test>::iter().count(), 0);
		// As the contribution pallet would on settling them.
		let escrow = |who: &AccountId, purpose, amount: Balance| {
			assert_ok!(<Test as crate::Config>::Escrow::unlock(who, purpose, amount * 2, deal));
		};
		escrow(&made.payer, Purpose::DealPayment, made.task_price());
		escrow(&made.workerpool.owner, Purpose::PoolOwnerStake, made.pool_owner_stake);
		assert_ok!(Marketplace::remove_app(signed_by(APP_OWNER), 0));
		assert_ok!(Marketplace::remove_dataset(signed_by(DATASET_OWNER), 0));
		System::assert_last_event(Event::DatasetRemoved { dataset: 0 }.into());
		assert_ok!(Marketplace::remove_workerpool(signed_by(POOL_OWNER), 0));
		System::assert_last_event(Event::WorkerpoolRemoved { workerpool: 0 }.into());
		for owner in [APP_OWNER, DATASET_OWNER, POOL_OWNER] {
			assert_eq!(held_deposits(owner), 0);
		}
		// A removed app's orders are refused like an unknown app's.
		assert_noop!(Match::new(1).submit(), Error::<Test>::UnknownApp);
	});
}

#[test]
fn a_pool_is_removed_only_without_workers_and_allowed_workers() {
	run_test(|| {
		register_resources();
		assert_ok!(Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0));
		assert_noop!(
			Marketplace::remove_workerpool(signed_by(OUTSIDER), 0),
			Error::<Test>::NotWorkerpoolOwner
		);
		assert_noop!(
			Marketplace::remove_workerpool(signed_by(POOL_OWNER), 0),
			Error::<Test>::WorkerpoolHasWorkers
		);
		assert_ok!(Marketplace::remove_worker(signed_by(POOL_OWNER), 0, account(WORKER)));

		let pool_deposit = held_deposits(POOL_OWNER);
		assert_ok!(Marketplace::allow_worker(signed_by(POOL_OWNER), 0, account(WORKER)));
		let allow_deposit =
			Marketplace::deposit_for(&Footprint::AllowedWorker(0, account(WORKER)), 0);
		assert_eq!(held_deposits(POOL_OWNER), pool_deposit + allow_deposit);
		assert_noop!(
			Marketplace::allow_worker(signed_by(POOL_OWNER), 0, account(WORKER)),
			Error::<Test>::WorkerAlreadyAllowed
		);
		assert_noop!(
			Marketplace::remove_workerpool(signed_by(POOL_OWNER), 0),
			Error::<Test>::WorkerpoolHasAllowedWorkers
		);
		assert_ok!(Marketplace::disallow_worker(signed_by(POOL_OWNER), 0, account(WORKER)));
		assert_eq!(held_deposits(POOL_OWNER), pool_deposit);

		assert_ok!(Marketplace::remove_workerpool(signed_by(POOL_OWNER), 0));
		assert_eq!(held_deposits(POOL_OWNER), 0);
		assert!(!SchedulerAccepted::<Test>::contains_key(0));
		assert!(!PoolMemberCount::<Test>::contains_key(0));
		assert_noop!(
			Marketplace::join_workerpool(signed_by(WORKER), 0, endpoint(), 0),
			Error::<Test>::UnknownWorkerpool
		);
	});
}

#[test]
fn a_presignature_holds_a_deposit_until_its_order_is_used_up_or_cancelled() {
	run_test(|| {
		register_resources();
		let orders = Match::new(2);
		let request = Order::Request(orders.request.clone());
		let hash = Marketplace::order_hash(&orders.request);
		assert_ok!(Marketplace::presign_order(signed_by(REQUESTER), request.clone()));
		let deposit = held_deposits(REQUESTER);
		assert!(deposit > 0);

		// Half used: still presigned, still held.
		let mut half = orders.clone();
		half.app.volume = 1;
		let mut signed = half.signed();
		signed.request.signature = None;
		assert_ok!(signed.submit());
		assert!(Presigned::<Test>::contains_key(hash));
		assert_eq!(held_deposits(REQUESTER) - deposit, 0);

		// Used up by a second deal: the presignature and its deposit go.
		let mut signed = orders.signed();
		signed.app = crate::mock::signed(APP_OWNER, AppOrder { salt: [1; 32], ..orders.app });
		signed.request.signature = None;
		assert_ok!(signed.submit());
		assert!(!Presigned::<Test>::contains_key(hash));
		assert_eq!(Deposits::<Test>::get(Footprint::PresignedOrder(hash)), None);
		assert_noop!(
			Marketplace::presign_order(signed_by(REQUESTER), request),
			Error::<Test>::OrderFullyConsumed
		);

		// Cancelling another presigned order returns its deposit.
		let other = Order::Request(RequestOrder { salt: [5; 32], ..orders.request });
		assert_ok!(Marketplace::presign_order(signed_by(REQUESTER), other.clone()));
		let paid =
			<Test as crate::Config>::Escrow::locked(&account(REQUESTER), Purpose::StorageDeposit);
		assert!(paid > 0);
		assert_ok!(Marketplace::cancel_order(signed_by(REQUESTER), other));
		assert_eq!(
			Deposits::<Test>::iter()
				.filter(|(f, _)| matches!(f, Footprint::PresignedOrder(_)))
				.count(),
			0
		);
	});
}

#[test]
fn a_presigned_order_of_a_removed_app_is_cancelled_by_its_presigner() {
	run_test(|| {
		register_resources();
		let order = Order::App(app_order(3));
		assert_ok!(Marketplace::presign_order(signed_by(APP_OWNER), order.clone()));
		assert_ok!(Marketplace::remove_app(signed_by(APP_OWNER), 0));
		assert_noop!(
			Marketplace::cancel_order(signed_by(OUTSIDER), order.clone()),
			Error::<Test>::UnknownApp
		);
		assert_ok!(Marketplace::cancel_order(signed_by(APP_OWNER), order));
		assert_eq!(held_deposits(APP_OWNER), 0);
	});
}

#[test]
fn expired_orders_leave_no_record_and_their_presignatures_deposit_is_returned() {
	run_test(|| {
		register_resources();
		let expiry = 20;
		let mut orders = Match::new(3);
		orders.request.expiry = Some(expiry);
		orders.app.expiry = Some(expiry + 5);
		let request_hash = Marketplace::order_hash(&orders.request);
		let app_hash = Marketplace::order_hash(&orders.app);
		assert_ok!(Marketplace::presign_order(
			signed_by(REQUESTER),
			Order::Request(orders.request.clone())
		));
		let mut half = orders.clone();
		half.workerpool.volume = 1;
		let mut signed = half.signed();
		signed.request.signature = None;
		assert_ok!(signed.submit());
		assert_eq!(Consumed::<Test>::get(request_hash), 1);

		// Still matchable in its expiry block: nothing is removed yet.
		idle_at(expiry);
		assert!(Presigned::<Test>::contains_key(request_hash));
		assert_eq!(Consumed::<Test>::get(request_hash), 1);

		idle_at(expiry + 1);
		assert!(!Presigned::<Test>::contains_key(request_hash));
		assert!(!Consumed::<Test>::contains_key(request_hash));
		assert_eq!(held_deposits(REQUESTER), 0);
		assert_eq!(Consumed::<Test>::get(app_hash), 1, "the app order has not expired");
		assert_noop!(orders.submit(), Error::<Test>::RequestOrderExpired);
		assert_noop!(
			Marketplace::presign_order(signed_by(REQUESTER), Order::Request(orders.request)),
			Error::<Test>::OrderExpired
		);

		idle_at(expiry + 6);
		assert!(!Consumed::<Test>::contains_key(app_hash));
		assert!(ExpiringOrders::<Test>::iter_keys().all(|(last_block, _)| last_block > expiry + 5));
		// An order that expires later keeps its record until then.
		let pool_hash = Marketplace::order_hash(&half.workerpool);
		assert_eq!(Consumed::<Test>::get(pool_hash), 1);
	});
}

#[test]
fn pruning_stops_at_the_weight_it_is_given_and_resumes_next_block() {
	run_test(|| {
		register_resources();
		for salt in 0..3u8 {
			let order = RequestOrder { salt: [salt; 32], expiry: Some(5), ..request_order(1) };
			assert_ok!(Marketplace::presign_order(signed_by(REQUESTER), Order::Request(order)));
		}
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let one =
			db.reads_writes(1, 1) + db.reads(1) + <() as crate::WeightInfo>::prune_expired_order();
		System::set_block_number(6);
		Marketplace::on_idle(6, one);
		assert_eq!(Presigned::<Test>::iter().count(), 2);
		idle_at(7);
		assert_eq!(Presigned::<Test>::iter().count(), 0);
		assert_eq!(held_deposits(REQUESTER), 0);
		assert!(
			Balances::balance_on_hold(
				&RuntimeHoldReason::Escrow(pallet_escrow::HoldReason::StorageDeposit),
				&account(REQUESTER)
			) == 0
		);
	});
}

#[test]
fn an_order_presigned_before_governance_shortened_the_lifetime_can_still_be_cancelled() {
	run_test(|| {
		register_resources();
		let furthest = System::block_number() + ORDER_LIFETIME;
		let order = Order::Request(RequestOrder { expiry: Some(furthest), ..request_order(1) });
		assert_ok!(Marketplace::presign_order(signed_by(REQUESTER), order.clone()));
		let held = held_deposits(REQUESTER);
		assert!(held > 0);
		crate::mock::Lifetime::set(ORDER_LIFETIME / 2);
		// Its owner withdraws it and gets the deposit back; its records still go at its expiry.
		assert_ok!(Marketplace::cancel_order(signed_by(REQUESTER), order));
		assert_eq!(held_deposits(REQUESTER), 0);
		assert!(Marketplace::do_try_state().is_ok());
		idle_at(furthest + 1);
		assert_eq!(Consumed::<Test>::iter().count(), 0);
	});
}

#[test]
fn the_chain_records_nothing_for_an_order_without_a_near_expiry() {
	run_test(|| {
		register_resources();
		let far = System::block_number() + ORDER_LIFETIME + 1;
		for expiry in [None, Some(far)] {
			let mut orders = Match::new(1);
			orders.app.expiry = expiry;
			assert_noop!(orders.submit(), Error::<Test>::AppOrderExpiryUnbounded);
			let mut orders = Match::new(1);
			orders.dataset.as_mut().unwrap().expiry = expiry;
			assert_noop!(orders.submit(), Error::<Test>::DatasetOrderExpiryUnbounded);
			let mut orders = Match::new(1);
			orders.workerpool.expiry = expiry;
			assert_noop!(orders.submit(), Error::<Test>::WorkerpoolOrderExpiryUnbounded);
			let mut orders = Match::new(1);
			orders.request.expiry = expiry;
			assert_noop!(orders.submit(), Error::<Test>::RequestOrderExpiryUnbounded);
			let request = Order::Request(orders.request);
			assert_noop!(
				Marketplace::presign_order(signed_by(REQUESTER), request.clone()),
				Error::<Test>::OrderExpiryUnbounded
			);
			assert_noop!(
				Marketplace::cancel_order(signed_by(REQUESTER), request),
				Error::<Test>::OrderExpiryUnbounded
			);
		}
		// The furthest expiry allowed is accepted, and its records go once it passed.
		let mut orders = Match::new(1);
		orders.request.expiry = Some(far - 1);
		assert_ok!(orders.submit());
		idle_at(far);
		assert_eq!(Consumed::<Test>::get(Marketplace::order_hash(&orders.request)), 0);
	});
}
