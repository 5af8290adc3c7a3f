//! Presigning, cancelling and the signatures orders carry.

use crate::{mock::actors::*, mock::*, types::*, *};
use codec::Encode;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::MultiSignature;

#[test]
fn only_the_owner_presigns_and_a_presigned_order_needs_no_signature() {
	run_test(|| {
		register_resources();
		let orders = Match::new(2);
		let request = Order::Request(orders.request.clone());
		assert_noop!(
			Marketplace::presign_order(RuntimeOrigin::signed(account(OUTSIDER)), request.clone()),
			Error::<Test>::NotOrderOwner
		);
		assert_ok!(Marketplace::presign_order(
			RuntimeOrigin::signed(account(REQUESTER)),
			request.clone()
		));
		let hash = Marketplace::order_hash(&orders.request);
		System::assert_last_event(
			Event::OrderPresigned { order: hash, owner: account(REQUESTER) }.into(),
		);
		assert_noop!(
			Marketplace::presign_order(RuntimeOrigin::signed(account(REQUESTER)), request),
			Error::<Test>::AlreadyPresigned
		);

		let mut presigned = orders.signed();
		presigned.request.signature = None;
		assert_ok!(presigned.submit());
	});
}

#[test]
fn presigning_an_order_of_an_unknown_resource_is_refused() {
	run_test(|| {
		let order = Order::App(app_order(1));
		assert_noop!(
			Marketplace::presign_order(RuntimeOrigin::signed(account(APP_OWNER)), order),
			Error::<Test>::UnknownApp
		);
	});
}

#[test]
fn a_presignature_counts_only_while_its_signer_owns_the_resource() {
	run_test(|| {
		register_resources();
		let orders = Match::new(1);
		assert_ok!(Marketplace::presign_order(
			RuntimeOrigin::signed(account(APP_OWNER)),
			Order::App(orders.app.clone())
		));
		assert_ok!(Marketplace::transfer_app(
			RuntimeOrigin::signed(account(APP_OWNER)),
			0,
			account(OUTSIDER)
		));
		let mut presigned = orders.signed();
		presigned.app.signature = None;
		assert_noop!(presigned.submit(), Error::<Test>::InvalidAppOrderSignature);
	});
}

#[test]
fn a_cancelled_order_cannot_be_matched_or_cancelled_again() {
	run_test(|| {
		register_resources();
		let orders = Match::new(3);
		let pool = Order::Workerpool(orders.workerpool.clone());
		assert_noop!(
			Marketplace::cancel_order(RuntimeOrigin::signed(account(OUTSIDER)), pool.clone()),
			Error::<Test>::NotOrderOwner
		);
		assert_ok!(Marketplace::cancel_order(
			RuntimeOrigin::signed(account(POOL_OWNER)),
			pool.clone()
		));
		let hash = Marketplace::order_hash(&orders.workerpool);
		assert_eq!(Consumed::<Test>::get(hash), 3);
		assert_eq!(Marketplace::remaining_volume(&pool), 0);
		System::assert_last_event(
			Event::OrderCancelled { order: hash, by: account(POOL_OWNER) }.into(),
		);
		assert_noop!(orders.submit(), Error::<Test>::WorkerpoolOrderConsumed);
		assert_noop!(
			Marketplace::cancel_order(RuntimeOrigin::signed(account(POOL_OWNER)), pool),
			Error::<Test>::OrderFullyConsumed
		);
	});
}

#[test]
fn a_forged_signature_is_refused() {
	run_test(|| {
		register_resources();
		let orders = Match::new(1);
		// The request signed by someone other than its requester.
		let mut forged = orders.signed();
		forged.request = signed(OUTSIDER, orders.request.clone());
		assert_noop!(forged.submit(), Error::<Test>::InvalidRequestOrderSignature);
		// A signature of the order with one field changed afterwards.
		let mut tampered = orders.signed();
		tampered.workerpool.order.price -= 1;
		assert_noop!(tampered.submit(), Error::<Test>::InvalidWorkerpoolOrderSignature);
	});
}

/// The orders of `orders`, with the app order signed by its owner over `payload`.
fn app_signed_over(orders: &Match, payload: Vec<u8>) -> SignedMatch {
	let mut signed = orders.signed();
	signed.app.signature = Some(MultiSignature::from(APP_OWNER.sign(&payload)));
	signed
}

#[test]
fn a_signature_made_for_another_chain_is_refused() {
	run_test(|| {
		register_resources();
		let orders = Match::new(1);
		let other_genesis = sp_core::H256::repeat_byte(0xee);
		let payload =
			(commons_primitives::domains::ORDER, other_genesis, OrderKind::App, &orders.app)
				.encode();
		assert_noop!(
			app_signed_over(&orders, payload).submit(),
			Error::<Test>::InvalidAppOrderSignature
		);
	});
}

#[test]
fn a_signature_made_for_another_order_kind_is_refused() {
	run_test(|| {
		register_resources();
		let orders = Match::new(1);
		let genesis = frame_system::Pallet::<Test>::block_hash(0);
		// The same bytes, signed as if they were a dataset order.
		let payload =
			(commons_primitives::domains::ORDER, genesis, OrderKind::Dataset, &orders.app).encode();
		assert_noop!(
			app_signed_over(&orders, payload).submit(),
			Error::<Test>::InvalidAppOrderSignature
		);
	});
}

#[test]
fn signed_orders_cannot_be_replayed_beyond_their_volume() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(2);
		orders.request.volume = 10;
		assert_ok!(orders.submit());
		// The same signed app, dataset and workerpool orders, used up by the first match.
		assert_noop!(orders.submit(), Error::<Test>::AppOrderConsumed);
	});
}
