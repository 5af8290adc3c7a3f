//! The order book: presigned orders listed in their market, best first, until they can no
//! longer be matched.

use crate::{
	book::{MAX_BOOK_PAGE, MAX_BOOK_SCAN},
	mock::actors::*,
	mock::*,
	types::*,
	*,
};
use codec::Encode;
use frame_support::weights::Weight;
use frame_support::{assert_ok, traits::Hooks};

/// The prices of the listings `market` answers, in order.
fn listed_prices(market: Market, min_trust: u32) -> Vec<Balance> {
	answered(market, min_trust, MAX_BOOK_PAGE)
		.into_iter()
		.map(|entry| match entry.order {
			Order::App(order) => order.price,
			Order::Dataset(order) => order.price,
			Order::Workerpool(order) => order.price,
			Order::Request(order) => order.workerpool_max_price,
		})
		.collect()
}

/// The first page of `market`'s listings that can be matched.
fn answered(market: Market, min_trust: u32, limit: u32) -> Vec<BookEntry<Test>> {
	Marketplace::order_book(market, min_trust, None, limit).entries
}

fn presign(key: sp_keyring::Sr25519Keyring, order: Order<Test>) {
	assert_ok!(Marketplace::presign_order(signed_by(key), order));
}

#[test]
fn a_presigned_order_is_listed_in_its_market_and_only_there() {
	run_test(|| {
		register_resources();
		let orders = Match::new(3);
		presign(APP_OWNER, Order::App(orders.app.clone()));
		presign(DATASET_OWNER, Order::Dataset(orders.dataset.clone().unwrap()));
		presign(POOL_OWNER, Order::Workerpool(orders.workerpool.clone()));
		presign(REQUESTER, Order::Request(orders.request.clone()));

		let apps = answered(Market::App(0), 0, 10);
		assert_eq!(apps.len(), 1);
		assert_eq!(apps[0].order, Order::App(orders.app.clone()));
		assert_eq!(apps[0].owner, account(APP_OWNER));
		assert_eq!(apps[0].hash, Marketplace::order_hash(&orders.app));
		assert_eq!(apps[0].remaining, 3);
		assert_eq!(listed_prices(Market::Dataset(0), 0), vec![DATASET_PRICE]);
		assert_eq!(listed_prices(Market::Workerpool(XS), 0), vec![POOL_PRICE]);
		assert_eq!(listed_prices(Market::Request(XS), 0), vec![POOL_PRICE]);
		assert!(answered(Market::App(1), 0, 10).is_empty());
		assert!(answered(Market::Workerpool(XS + 1), 0, 10).is_empty());
		assert!(answered(Market::Request(XS + 1), 0, 10).is_empty());
	});
}

#[test]
fn a_listing_shows_the_volume_left_and_goes_when_its_order_is_used_up_or_cancelled() {
	run_test(|| {
		register_resources();
		let orders = Match::new(2);
		presign(APP_OWNER, Order::App(orders.app.clone()));
		let cancelled = AppOrder { salt: [9; 32], ..orders.app.clone() };
		presign(APP_OWNER, Order::App(cancelled.clone()));
		assert_eq!(answered(Market::App(0), 0, 10).len(), 2);

		let mut half = orders.clone();
		half.request.volume = 1;
		let mut signed = half.signed();
		signed.app.signature = None;
		assert_ok!(signed.submit());
		let listed = answered(Market::App(0), 0, 10);
		let used = listed.iter().find(|entry| entry.order == Order::App(orders.app.clone()));
		assert_eq!(used.map(|entry| entry.remaining), Some(1));

		let mut rest = orders.clone();
		rest.request.salt = [1; 32];
		rest.request.volume = 1;
		let mut signed = rest.signed();
		signed.app.signature = None;
		assert_ok!(signed.submit());
		assert_eq!(answered(Market::App(0), 0, 10).len(), 1, "used up");
		assert!(!PublishedOrders::<Test>::contains_key(Marketplace::order_hash(&orders.app)));

		assert_ok!(Marketplace::cancel_order(signed_by(APP_OWNER), Order::App(cancelled)));
		assert!(answered(Market::App(0), 0, 10).is_empty());
		assert_eq!(OrderBook::<Test>::iter().count(), 0);
		assert_eq!(PublishedOrders::<Test>::iter().count(), 0);
	});
}

#[test]
fn offers_are_listed_cheapest_first_and_requests_best_paying_first() {
	run_test(|| {
		register_resources();
		for (salt, price) in [(1u8, 7 * ED), (2, 0), (3, 30 * ED), (4, 2 * ED), (5, 7 * ED)] {
			presign(APP_OWNER, Order::App(AppOrder { price, salt: [salt; 32], ..app_order(1) }));
			let pool = WorkerpoolOrder { price, salt: [salt; 32], ..workerpool_order(1) };
			presign(POOL_OWNER, Order::Workerpool(pool));
			let request =
				RequestOrder { workerpool_max_price: price, salt: [salt; 32], ..request_order(1) };
			presign(REQUESTER, Order::Request(request));
		}
		let cheapest_first = vec![0, 2 * ED, 7 * ED, 7 * ED, 30 * ED];
		assert_eq!(listed_prices(Market::App(0), 0), cheapest_first);
		assert_eq!(listed_prices(Market::Workerpool(XS), 0), cheapest_first);
		let best_paying_first: Vec<_> = cheapest_first.into_iter().rev().collect();
		assert_eq!(listed_prices(Market::Request(XS), 0), best_paying_first);
		assert_eq!(answered(Market::App(0), 0, 2).len(), 2, "the limit holds");
	});
}

#[test]
fn workerpool_orders_are_answered_only_if_they_serve_the_trust_asked_for() {
	run_test(|| {
		register_resources();
		for (salt, trust) in [(1u8, 1), (2, 5), (3, 10)] {
			let pool = WorkerpoolOrder { trust, salt: [salt; 32], ..workerpool_order(1) };
			presign(POOL_OWNER, Order::Workerpool(pool));
		}
		let trusts = |min_trust| -> Vec<u32> {
			answered(Market::Workerpool(XS), min_trust, 10)
				.into_iter()
				.map(|entry| match entry.order {
					Order::Workerpool(order) => order.trust,
					_ => unreachable!("the workerpool market lists workerpool orders"),
				})
				.collect()
		};
		assert_eq!(trusts(0).len(), 3);
		assert_eq!(trusts(5), vec![5, 10]);
		assert!(trusts(11).is_empty());
	});
}

#[test]
fn orders_that_cannot_be_matched_in_the_next_block_are_not_answered_and_are_pruned_after() {
	run_test(|| {
		register_resources();
		let expiry = 20;
		let order = AppOrder { expiry: Some(expiry), ..app_order(1) };
		presign(APP_OWNER, Order::App(order.clone()));
		System::set_block_number(expiry - 1);
		assert_eq!(answered(Market::App(0), 0, 10).len(), 1);
		// At its expiry block it can still be matched in that block, not in the next.
		System::set_block_number(expiry);
		assert!(answered(Market::App(0), 0, 10).is_empty());
		assert!(PublishedOrders::<Test>::contains_key(Marketplace::order_hash(&order)));

		System::set_block_number(expiry + 1);
		Marketplace::on_idle(expiry + 1, Weight::MAX);
		assert_eq!(OrderBook::<Test>::iter().count(), 0);
		assert_eq!(PublishedOrders::<Test>::iter().count(), 0);
	});
}

#[test]
fn an_order_beyond_a_shortened_lifetime_is_not_answered_until_it_is_within_it() {
	run_test(|| {
		register_resources();
		let order = AppOrder { expiry: Some(500), ..app_order(1) };
		presign(APP_OWNER, Order::App(order));
		Lifetime::set(100);
		assert!(answered(Market::App(0), 0, 10).is_empty());
		System::set_block_number(400);
		assert_eq!(answered(Market::App(0), 0, 10).len(), 1);
		Lifetime::set(ORDER_LIFETIME);
	});
}

#[test]
fn a_presignature_s_deposit_pays_for_the_order_s_listing() {
	run_test(|| {
		register_resources();
		let order = Order::Request(request_order(1));
		let hash = Marketplace::any_order_hash(&order);
		presign(REQUESTER, order.clone());
		let expected = Marketplace::deposit_for(
			&Footprint::PresignedOrder(hash),
			account(REQUESTER).encoded_size() + Marketplace::listing_bytes(&order),
		);
		let (payer, held) = Deposits::<Test>::get(Footprint::PresignedOrder(hash)).unwrap();
		assert_eq!(payer, account(REQUESTER));
		assert_eq!(held, expected);
		assert!(
			held > Marketplace::deposit_for(&Footprint::PresignedOrder(hash), order.encoded_size()),
			"the listing's key is paid for too"
		);
	});
}

#[test]
fn thousands_of_listed_orders_are_answered_cheapest_first_a_page_per_call() {
	run_test(|| {
		register_resources();
		let count = 3_000u32;
		for index in 0..count {
			// Prices in a scrambled order, so the book, not the insertion, sorts them.
			let price = ED * Balance::from((index * 7_919) % count + 1);
			let salt = sp_io::hashing::blake2_256(&index.encode());
			presign(APP_OWNER, Order::App(AppOrder { price, salt, ..app_order(1) }));
		}
		let first = Marketplace::order_book(Market::App(0), 0, None, u32::MAX);
		assert_eq!(first.entries.len(), MAX_BOOK_PAGE as usize, "one call answers a page");
		let mut prices = Vec::new();
		let mut after = None;
		let mut calls = 0;
		loop {
			let page = Marketplace::order_book(Market::App(0), 0, after, MAX_BOOK_PAGE);
			calls += 1;
			prices.extend(page.entries.iter().map(|entry| match &entry.order {
				Order::App(order) => order.price,
				_ => unreachable!("an app's market lists app orders"),
			}));
			match page.next {
				Some(cursor) => after = Some(cursor),
				None => break,
			}
		}
		let every_price: Vec<Balance> = (1..=Balance::from(count)).map(|rank| ED * rank).collect();
		assert_eq!(prices, every_price, "cheapest first, each once, across pages");
		assert!(calls <= 4, "{calls} calls for three pages");
	});
}

#[test]
fn listings_nobody_can_match_cost_a_query_a_bounded_read_and_it_goes_on_after_them() {
	run_test(|| {
		register_resources();
		// Cheap orders of a pool that serves trust 1 only, ahead of one serving trust 10.
		for index in 0..MAX_BOOK_SCAN + 10 {
			let salt = sp_io::hashing::blake2_256(&index.encode());
			let cheap = WorkerpoolOrder { trust: 1, price: 0, salt, ..workerpool_order(1) };
			presign(POOL_OWNER, Order::Workerpool(cheap));
		}
		presign(
			POOL_OWNER,
			Order::Workerpool(WorkerpoolOrder { trust: 10, ..workerpool_order(1) }),
		);

		let first = Marketplace::order_book(Market::Workerpool(XS), 10, None, 10);
		assert!(first.entries.is_empty(), "the first call reads only the cheap listings");
		let after = first.next.expect("the call stopped after the most listings it reads");
		let second = Marketplace::order_book(Market::Workerpool(XS), 10, Some(after), 10);
		assert_eq!(second.entries.len(), 1);
		assert_eq!(second.next, None, "the end of the market");
	});
}

#[test]
fn an_order_whose_presigner_handed_over_what_it_sells_is_not_answered() {
	run_test(|| {
		register_resources();
		presign(APP_OWNER, Order::App(app_order(1)));
		assert_ok!(Marketplace::transfer_app(signed_by(APP_OWNER), 0, account(OUTSIDER)));
		assert!(answered(Market::App(0), 0, 10).is_empty(), "the chain would refuse it");
		assert_ok!(Marketplace::transfer_app(
			RuntimeOrigin::signed(account(OUTSIDER)),
			0,
			account(APP_OWNER)
		));
		assert_eq!(answered(Market::App(0), 0, 10).len(), 1);
	});
}

#[test]
fn a_sponsored_request_is_listed_but_not_answered_as_its_sponsor_signs_off_chain() {
	run_test(|| {
		register_resources();
		let sponsored =
			RequestOrder { payer: Payer::Sponsor(account(OUTSIDER)), ..request_order(1) };
		presign(REQUESTER, Order::Request(sponsored));
		assert_eq!(OrderBook::<Test>::iter().count(), 1);
		assert!(answered(Market::Request(XS), 0, 10).is_empty());
		presign(REQUESTER, Order::Request(request_order(1)));
		assert_eq!(answered(Market::Request(XS), 0, 10).len(), 1);
	});
}
