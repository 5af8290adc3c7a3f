//! Properties over random sequences of matches, presignatures, cancellations, removals and
//! blocks passing.

use crate::{mock::actors::*, mock::*, types::*, *};
use frame_support::{traits::Hooks, weights::Weight};
use proptest::prelude::*;

/// One step: match app order `app`, pool order `pool` and request `request` (indexes into the
/// generated orders), presign or cancel one of them, try to remove the app, or let blocks pass.
#[derive(Clone, Debug)]
enum Step {
	Match { app: usize, pool: usize, request: usize },
	PresignRequest(usize),
	CancelRequest(usize),
	CancelPool(usize),
	RemoveApp,
	Advance(u64),
}

fn step(orders: usize) -> impl Strategy<Value = Step> {
	prop_oneof![
		4 => (0..orders, 0..orders, 0..orders)
			.prop_map(|(app, pool, request)| Step::Match { app, pool, request }),
		1 => (0..orders).prop_map(Step::PresignRequest),
		1 => (0..orders).prop_map(Step::CancelRequest),
		1 => (0..orders).prop_map(Step::CancelPool),
		1 => Just(Step::RemoveApp),
		1 => (1u64..8).prop_map(Step::Advance),
	]
}

proptest! {
	/// However orders are matched, presigned and cancelled, apps removed and blocks passed, no
	/// order is consumed beyond its volume, the deals of a request add up to what it consumed
	/// while it has not expired, an expired order leaves no record, nothing a live deal uses is
	/// removed, and the escrow holds exactly what the deals owe and the deposits cover.
	#[test]
	fn consumed_volume_escrow_and_deposits_follow_the_deals(
		volumes in prop::collection::vec((1u32..6, 1u32..6, 1u32..6), 3),
		expiries in prop::collection::vec(prop::option::of(1u64..30), 3),
		steps in prop::collection::vec(step(3), 1..25),
	) {
		new_test_ext().execute_with(|| {
			register_resources();
			let salt = |index: usize| [index as u8; 32];
			let apps: Vec<_> = volumes.iter().enumerate()
				.map(|(i, (v, _, _))| AppOrder { volume: *v, salt: salt(i), ..app_order(0) })
				.collect();
			let pools: Vec<_> = volumes.iter().enumerate()
				.map(|(i, (_, v, _))| WorkerpoolOrder { volume: *v, salt: salt(i), ..workerpool_order(0) })
				.collect();
			let requests: Vec<_> = volumes.iter().zip(&expiries).enumerate()
				.map(|(i, ((_, _, v), expiry))| RequestOrder {
					volume: *v,
					salt: salt(i),
					dataset: None,
					expiry: *expiry,
					..request_order(0)
				})
				.collect();

			let mut matched_per_request = [0u32; 3];
			for step in steps {
				match step {
					Step::Match { app, pool, request } => {
						let orders = Match {
							app: apps[app].clone(),
							dataset: None,
							workerpool: pools[pool].clone(),
							request: requests[request].clone(),
						};
						if orders.submit().is_ok() {
							matched_per_request[request] += Deals::<Test>::get(last_deal()).unwrap().volume;
						}
					},
					Step::PresignRequest(index) => {
						let _ = Marketplace::presign_order(
							RuntimeOrigin::signed(account(REQUESTER)),
							Order::Request(requests[index].clone()),
						);
					},
					Step::RemoveApp => {
						let removable = DealsUsing::<Test>::get(Footprint::App(0)) == 0
							&& Apps::<Test>::contains_key(0);
						let removed = Marketplace::remove_app(RuntimeOrigin::signed(account(APP_OWNER)), 0);
						prop_assert_eq!(removed.is_ok(), removable);
					},
					Step::Advance(blocks) => {
						let now = System::block_number() + blocks;
						System::set_block_number(now);
						Marketplace::on_idle(now, Weight::MAX);
						for request in &requests {
							let hash = Marketplace::order_hash(request);
							if request.expiry.is_some_and(|last| last < now) {
								prop_assert!(!Consumed::<Test>::contains_key(hash), "an expired order's volume is kept");
								prop_assert!(!Presigned::<Test>::contains_key(hash), "an expired order stays presigned");
							}
						}
					},
					Step::CancelRequest(index) => {
						let _ = Marketplace::cancel_order(
							RuntimeOrigin::signed(account(REQUESTER)),
							Order::Request(requests[index].clone()),
						);
					},
					Step::CancelPool(index) => {
						let _ = Marketplace::cancel_order(
							RuntimeOrigin::signed(account(POOL_OWNER)),
							Order::Workerpool(pools[index].clone()),
						);
					},
				}
				for order in apps.iter().map(|o| (Marketplace::order_hash(o), o.volume))
					.chain(pools.iter().map(|o| (Marketplace::order_hash(o), o.volume)))
					.chain(requests.iter().map(|o| (Marketplace::order_hash(o), o.volume)))
				{
					prop_assert!(Consumed::<Test>::get(order.0) <= order.1, "consumed beyond volume");
				}
				prop_assert!(Marketplace::do_try_state().is_ok());
				prop_assert!(Escrow::do_try_state().is_ok());
			}
			for (index, request) in requests.iter().enumerate() {
				if Marketplace::has_expired(request.expiry) {
					// Its records are gone; nothing more to compare.
					continue;
				}
				// A cancelled request counts its whole volume as consumed; otherwise the deals.
				let consumed = Consumed::<Test>::get(Marketplace::order_hash(request));
				prop_assert!(matched_per_request[index] <= consumed);
				if consumed < request.volume {
					prop_assert_eq!(matched_per_request[index], consumed);
				}
			}
			Ok(())
		})?;
	}
}
