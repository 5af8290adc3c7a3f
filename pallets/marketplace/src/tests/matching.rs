//! `match_orders`: every rule refused on its own, and the deals it makes.

use crate::{mock::actors::*, mock::*, types::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold, Mutate},
};
use pallet_escrow::{HoldReason, Purpose};
use sp_runtime::DispatchError;

/// Registers the fixture, applies `change` to a valid match and expects `error`, with nothing
/// changed.
fn refused(change: impl FnOnce(&mut Match), error: impl Into<DispatchError>) {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(2);
		change(&mut orders);
		assert_noop!(orders.submit(), error.into());
	});
}

#[test]
fn compatibility_rules_each_refuse_with_their_own_error() {
	refused(|m| m.request.category = 1, Error::<Test>::CategoryMismatch);
	refused(
		|m| {
			m.request.category = 9;
			m.workerpool.category = 9;
		},
		Error::<Test>::UnknownCategory,
	);
	refused(|m| m.request.trust = m.workerpool.trust + 1, Error::<Test>::TrustAboveWorkerpoolLimit);
	refused(|m| m.request.app_max_price = APP_PRICE - 1, Error::<Test>::AppPriceAboveRequestCap);
	refused(
		|m| m.request.dataset_max_price = DATASET_PRICE - 1,
		Error::<Test>::DatasetPriceAboveRequestCap,
	);
	refused(
		|m| m.request.workerpool_max_price = POOL_PRICE - 1,
		Error::<Test>::WorkerpoolPriceAboveRequestCap,
	);
	refused(|m| m.request.tag = tag::GPU, Error::<Test>::WorkerpoolLacksRequestedTag);
	refused(
		|m| {
			m.request.tag = tag::TEE;
			m.workerpool.tag = tag::TEE;
		},
		Error::<Test>::TeeRequiredButAppNotTee,
	);
}

#[test]
fn restriction_rules_each_refuse_with_their_own_error() {
	refused(|m| m.request.app = 1, Error::<Test>::AppMismatch);
	refused(|m| m.request.dataset = None, Error::<Test>::DatasetMismatch);
	refused(
		|m| m.request.workerpool_restriction = Restriction::Only(1),
		Error::<Test>::WorkerpoolNotAllowedByRequest,
	);
	refused(
		|m| m.app.dataset_restriction = Restriction::Only(1),
		Error::<Test>::DatasetNotAllowedByApp,
	);
	refused(
		|m| m.app.workerpool_restriction = Restriction::Only(1),
		Error::<Test>::WorkerpoolNotAllowedByApp,
	);
	refused(
		|m| m.app.requester_restriction = Restriction::Only(account(OUTSIDER)),
		Error::<Test>::RequesterNotAllowedByApp,
	);
	refused(
		|m| m.dataset.as_mut().unwrap().app_restriction = Restriction::Only(1),
		Error::<Test>::AppNotAllowedByDataset,
	);
	refused(
		|m| m.dataset.as_mut().unwrap().workerpool_restriction = Restriction::Only(1),
		Error::<Test>::WorkerpoolNotAllowedByDataset,
	);
	refused(
		|m| {
			m.dataset.as_mut().unwrap().requester_restriction = Restriction::Only(account(OUTSIDER))
		},
		Error::<Test>::RequesterNotAllowedByDataset,
	);
	refused(
		|m| m.workerpool.app_restriction = Restriction::Only(1),
		Error::<Test>::AppNotAllowedByWorkerpool,
	);
	refused(
		|m| m.workerpool.dataset_restriction = Restriction::Only(1),
		Error::<Test>::DatasetNotAllowedByWorkerpool,
	);
	refused(
		|m| m.workerpool.requester_restriction = Restriction::Only(account(OUTSIDER)),
		Error::<Test>::RequesterNotAllowedByWorkerpool,
	);
	// A dataset restriction cannot be met by running without a dataset.
	refused(
		|m| {
			m.dataset = None;
			m.request.dataset = None;
			m.app.dataset_restriction = Restriction::Only(0);
		},
		Error::<Test>::DatasetNotAllowedByApp,
	);
}

#[test]
fn authenticity_rules_each_refuse_with_their_own_error() {
	refused(
		|m| {
			m.app.app = 5;
			m.request.app = 5;
			m.dataset.as_mut().unwrap().app_restriction = Restriction::Only(5);
		},
		Error::<Test>::UnknownApp,
	);
	refused(
		|m| {
			m.dataset.as_mut().unwrap().dataset = 5;
			m.request.dataset = Some(5);
		},
		Error::<Test>::UnknownDataset,
	);
	refused(|m| m.workerpool.workerpool = 5, Error::<Test>::UnknownWorkerpool);
	refused(|m| m.app.volume = 0, Error::<Test>::AppOrderConsumed);
	refused(|m| m.dataset.as_mut().unwrap().volume = 0, Error::<Test>::DatasetOrderConsumed);
	refused(|m| m.workerpool.volume = 0, Error::<Test>::WorkerpoolOrderConsumed);
	refused(|m| m.request.volume = 0, Error::<Test>::RequestOrderConsumed);
}

#[test]
fn expired_orders_each_refuse_with_their_own_error() {
	// The test chain is at block 1: an order whose last block is 0 has expired.
	refused(|m| m.app.expiry = Some(0), Error::<Test>::AppOrderExpired);
	refused(|m| m.dataset.as_mut().unwrap().expiry = Some(0), Error::<Test>::DatasetOrderExpired);
	refused(|m| m.workerpool.expiry = Some(0), Error::<Test>::WorkerpoolOrderExpired);
	refused(|m| m.request.expiry = Some(0), Error::<Test>::RequestOrderExpired);
}

#[test]
fn an_order_can_be_matched_up_to_and_including_its_expiry_block() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.app.expiry = Some(5);
		orders.request.expiry = Some(5);
		System::set_block_number(5);
		assert_ok!(orders.submit());
	});
}

#[test]
fn money_rules_each_refuse_with_their_own_error() {
	refused(
		|m| {
			m.app.price = u128::MAX;
			m.request.app_max_price = u128::MAX;
		},
		Error::<Test>::PriceOverflow,
	);
	run_test(|| {
		register_resources();
		// Two tasks at 26 000 each is more than the requester has.
		Balances::set_balance(&account(REQUESTER), 50_000);
		assert_noop!(Match::new(2).submit(), Error::<Test>::PayerCannotPay);
	});
	run_test(|| {
		register_resources();
		Balances::set_balance(&account(POOL_OWNER), 1_000);
		assert_noop!(Match::new(2).submit(), Error::<Test>::PoolOwnerCannotStake);
	});
}

#[test]
fn prices_below_the_existential_deposit_each_refuse_with_their_own_error() {
	refused(|m| m.app.price = ED - 1, Error::<Test>::AppPriceBelowExistentialDeposit);
	refused(
		|m| m.dataset.as_mut().unwrap().price = 1,
		Error::<Test>::DatasetPriceBelowExistentialDeposit,
	);
	refused(|m| m.workerpool.price = ED - 1, Error::<Test>::WorkerpoolPriceBelowExistentialDeposit);
	// Zero and the existential deposit itself are prices every payee can receive.
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.app.price = 0;
		orders.dataset.as_mut().unwrap().price = ED;
		orders.workerpool.price = 0;
		assert_ok!(orders.submit());
	});
}

#[test]
fn a_deal_buys_at_most_max_deal_volume_tasks_and_the_rest_is_matched_again() {
	run_test(|| {
		register_resources();
		let orders = Match::new(MAX_DEAL_VOLUME + 5);
		assert_ok!(orders.submit());
		let first = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!((first.first_task, first.volume), (0, MAX_DEAL_VOLUME));
		assert_ok!(orders.submit());
		let second = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!((second.first_task, second.volume), (MAX_DEAL_VOLUME, 5));
		// Every order is used up now; the app order is checked first.
		assert_noop!(orders.submit(), Error::<Test>::AppOrderConsumed);
	});
}

#[test]
fn sponsor_rules_each_refuse_with_their_own_error() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		assert_noop!(
			orders.submit_with_sponsor(SPONSOR),
			Error::<Test>::UnexpectedSponsorSignature
		);
		orders.request.payer = Payer::Sponsor(account(SPONSOR));
		assert_noop!(orders.submit(), Error::<Test>::MissingSponsorSignature);
		assert_noop!(orders.submit_with_sponsor(OUTSIDER), Error::<Test>::InvalidSponsorSignature);
		// The sponsor's signature of the request as an order (what a requester signs) is not a
		// sponsorship.
		let mut as_order = orders.signed();
		as_order.sponsor = Some(sign(SPONSOR, &orders.request));
		assert_noop!(as_order.submit(), Error::<Test>::InvalidSponsorSignature);
	});
}

#[test]
fn a_sponsor_withdraws_its_signature_by_cancelling_the_request() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(4);
		orders.request.payer = Payer::Sponsor(account(SPONSOR));
		let request = Order::Request(orders.request.clone());
		assert_noop!(
			Marketplace::cancel_order(RuntimeOrigin::signed(account(OUTSIDER)), request.clone()),
			Error::<Test>::NotOrderOwner
		);
		assert_ok!(Marketplace::cancel_order(RuntimeOrigin::signed(account(SPONSOR)), request));
		assert_noop!(orders.submit_with_sponsor(SPONSOR), Error::<Test>::RequestOrderConsumed);
	});
}

#[test]
fn a_match_makes_a_deal_and_locks_payment_and_stake() {
	run_test(|| {
		register_resources();
		let orders = Match::new(4);
		assert_ok!(orders.submit());

		let deal_id = last_deal();
		let request_hash = Marketplace::order_hash(&orders.request);
		let expected_id: DealId =
			sp_io::hashing::blake2_256(&codec::Encode::encode(&(request_hash, 0u32))).into();
		assert_eq!(deal_id, expected_id);

		let deal = Deals::<Test>::get(deal_id).unwrap();
		assert_eq!(deal.volume, 4);
		assert_eq!(deal.unsettled, 4);
		assert_eq!(deal.first_task, 0);
		assert_eq!(deal.app, Purchase { id: 0, owner: account(APP_OWNER), price: APP_PRICE });
		assert_eq!(
			deal.dataset,
			Some(Purchase { id: 0, owner: account(DATASET_OWNER), price: DATASET_PRICE })
		);
		assert_eq!(
			deal.workerpool,
			Purchase { id: 0, owner: account(POOL_OWNER), price: POOL_PRICE }
		);
		assert_eq!(deal.payer, account(REQUESTER));
		assert_eq!(deal.trust, 3);
		assert_eq!(deal.start, 1);
		assert_eq!(deal.pool_owner_stake, POOL_PRICE * 30 / 100);
		assert_eq!(deal.worker_stake, POOL_PRICE / 10);
		assert_eq!(deal.params.to_vec(), b"--samples 1000".to_vec());

		let task_price = APP_PRICE + DATASET_PRICE + POOL_PRICE;
		let payment_reason = HoldReason::from(Purpose::DealPayment).into();
		let stake_reason = HoldReason::from(Purpose::PoolOwnerStake).into();
		assert_eq!(Balances::balance_on_hold(&payment_reason, &account(REQUESTER)), task_price * 4);
		assert_eq!(Balances::balance(&account(REQUESTER)), START - task_price * 4);
		assert_eq!(Balances::balance_on_hold(&stake_reason, &account(POOL_OWNER)), 6_000 * 4);

		for order_hash in [
			Marketplace::order_hash(&orders.app),
			Marketplace::order_hash(orders.dataset.as_ref().unwrap()),
			Marketplace::order_hash(&orders.workerpool),
			request_hash,
		] {
			assert_eq!(Consumed::<Test>::get(order_hash), 4);
		}
		System::assert_last_event(
			Event::DealCreated {
				deal: deal_id,
				workerpool: 0,
				app_order: Marketplace::order_hash(&orders.app),
				dataset_order: Some(Marketplace::order_hash(orders.dataset.as_ref().unwrap())),
				workerpool_order: Marketplace::order_hash(&orders.workerpool),
				request_order: request_hash,
				volume: 4,
				payer: account(REQUESTER),
			}
			.into(),
		);
	});
}

#[test]
fn a_request_is_filled_by_several_deals_that_number_its_tasks_once() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(10);
		orders.request.volume = 5;
		orders.workerpool.volume = 2;
		assert_ok!(orders.submit());
		let first = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!((first.first_task, first.volume), (0, 2));

		// The pool offers more with a new order; the rest of the request is filled.
		orders.workerpool.volume = 10;
		orders.workerpool.salt = [1; 32];
		assert_ok!(orders.submit());
		let second_id = last_deal();
		let second = Deals::<Test>::get(second_id).unwrap();
		assert_eq!((second.first_task, second.volume), (2, 3));
		assert_ne!(Deals::<Test>::iter().count(), 1);

		assert_eq!(Marketplace::remaining_volume(&Order::Request(orders.request.clone())), 0);
		assert_eq!(Marketplace::remaining_volume(&Order::Workerpool(orders.workerpool.clone())), 7);
		assert_noop!(orders.submit(), Error::<Test>::RequestOrderConsumed);
	});
}

#[test]
fn a_sponsor_named_in_the_request_pays_and_nobody_can_make_the_requester_pay() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(4);
		orders.request.volume = 2;
		orders.request.payer = Payer::Sponsor(account(SPONSOR));
		assert_ok!(orders.submit_with_sponsor(SPONSOR));
		let deal = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!(deal.payer, account(SPONSOR));
		assert_eq!(deal.requester, account(REQUESTER));
		assert_eq!(Balances::balance(&account(REQUESTER)), START);
		assert_eq!(Balances::balance(&account(SPONSOR)), START - 26_000 * 2);

		// Flipping the payer back to the requester breaks the requester's signature.
		let mut flipped = orders.signed();
		flipped.request.order.payer = Payer::Requester;
		flipped.request.order.salt = [2; 32];
		assert_noop!(flipped.submit(), Error::<Test>::InvalidRequestOrderSignature);
	});
}

#[test]
fn a_match_without_dataset_charges_no_dataset_price() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.dataset = None;
		orders.request.dataset = None;
		assert_ok!(orders.submit());
		let deal = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!(deal.dataset, None);
		assert_eq!(deal.task_price(), APP_PRICE + POOL_PRICE);
	});
}

#[test]
fn the_deal_price_is_the_asking_price_and_trust_is_at_least_one() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.request.app_max_price = APP_PRICE * 10;
		orders.request.workerpool_max_price = POOL_PRICE * 10;
		orders.request.trust = 0;
		assert_ok!(orders.submit());
		let deal = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!(deal.app.price, APP_PRICE);
		assert_eq!(deal.workerpool.price, POOL_PRICE);
		assert_eq!(deal.trust, 1);
	});
}

#[test]
fn tags_combine_and_a_datasets_tee_framework_bits_are_ignored() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.app.tag = tag::TEE;
		orders.dataset.as_mut().unwrap().tag = tag::TEE | tag::SGX;
		orders.request.tag = tag::GPU;
		// The pool offers TEE and GPU but not SGX: the dataset's SGX bit does not count.
		orders.workerpool.tag = tag::TEE | tag::TDX | tag::GPU;
		assert_ok!(orders.submit());
		assert_eq!(Deals::<Test>::get(last_deal()).unwrap().tag, tag::TEE | tag::GPU);
	});
}

/// Makes the fixture's app an OCI image.
fn app_is_an_image() {
	Apps::<Test>::mutate(0, |app| app.as_mut().expect("the fixture's app").kind = AppKind::Oci);
}

#[test]
fn an_image_runs_only_on_pools_with_a_container_engine_and_never_in_a_tee() {
	refused(|_| app_is_an_image(), Error::<Test>::WorkerpoolRunsNoContainers);
	refused(
		|m| {
			app_is_an_image();
			m.app.tag = tag::TEE;
			m.request.tag = tag::TEE;
			m.workerpool.tag = tag::TEE | tag::CONTAINER;
		},
		Error::<Test>::ContainerAppInTee,
	);
	run_test(|| {
		register_resources();
		app_is_an_image();
		let mut orders = Match::new(1);
		orders.workerpool.tag = tag::CONTAINER | tag::GPU;
		assert_ok!(orders.submit());
		assert_eq!(Deals::<Test>::get(last_deal()).unwrap().tag, tag::CONTAINER, "required");
	});
}

#[test]
fn a_pool_owner_paying_for_its_own_request_must_afford_both_locks() {
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.request.requester = account(POOL_OWNER);
		orders.request.beneficiary = account(POOL_OWNER);
		// 26 000 payment + 6 000 stake; leave 31 999 + ED spendable.
		Balances::set_balance(&account(POOL_OWNER), 31_999 + ED);
		let submit = |orders: &Match| {
			let mut signed_orders = orders.signed();
			signed_orders.request = signed(POOL_OWNER, orders.request.clone());
			signed_orders.submit()
		};
		assert_noop!(submit(&orders), Error::<Test>::PayerCannotPay);
		Balances::set_balance(&account(POOL_OWNER), 32_000 + ED);
		assert_ok!(submit(&orders));
	});
}

#[test]
fn an_encrypted_dataset_is_sold_only_into_tee_deals() {
	run_test(|| {
		register_resources();
		Datasets::<Test>::mutate(0, |dataset| dataset.as_mut().unwrap().encrypted = true);
		let orders = Match::new(1);
		assert_noop!(orders.submit(), Error::<Test>::EncryptedDatasetOutsideTee);

		let mut orders = Match::new(1);
		orders.app.tag = tag::TEE;
		orders.workerpool.tag = tag::TEE;
		// Its result is sealed to the beneficiary, who must have a key for it.
		assert_ok!(Marketplace::set_result_encryption_key(signed_by(REQUESTER), Some([0x42; 32])));
		assert_ok!(orders.submit());
		assert_eq!(Deals::<Test>::get(last_deal()).unwrap().tag, tag::TEE);
	});
}

#[test]
fn an_encrypted_dataset_is_sold_only_to_a_beneficiary_with_a_result_key() {
	run_test(|| {
		register_resources();
		Datasets::<Test>::mutate(0, |dataset| dataset.as_mut().unwrap().encrypted = true);
		let mut orders = Match::new(1);
		orders.app.tag = tag::TEE;
		orders.workerpool.tag = tag::TEE;
		orders.request.beneficiary = account(OUTSIDER);
		assert_noop!(orders.submit(), Error::<Test>::BeneficiaryHasNoResultKey);
		// The requester's key does not help: the result is sealed to the beneficiary.
		assert_ok!(Marketplace::set_result_encryption_key(signed_by(REQUESTER), Some([0x42; 32])));
		assert_noop!(orders.submit(), Error::<Test>::BeneficiaryHasNoResultKey);
		assert_ok!(Marketplace::set_result_encryption_key(signed_by(OUTSIDER), Some([0x43; 32])));
		assert_ok!(orders.submit());
		let deal = Deals::<Test>::get(last_deal()).unwrap();
		assert_eq!(deal.beneficiary, account(OUTSIDER));
		// The deal does not copy the key: the enclave reads the beneficiary's when it seals.
		assert_eq!(ResultEncryptionKeys::<Test>::get(account(OUTSIDER)), Some([0x43; 32]));
	});
	// A TEE deal on data in the clear needs no key: its result may be served in the clear.
	run_test(|| {
		register_resources();
		let mut orders = Match::new(1);
		orders.app.tag = tag::TEE;
		orders.workerpool.tag = tag::TEE;
		assert!(!ResultEncryptionKeys::<Test>::contains_key(account(REQUESTER)));
		assert_ok!(orders.submit());
	});
}

#[test]
fn an_encrypted_dataset_is_sold_only_for_the_app_its_order_names() {
	run_test(|| {
		register_resources();
		Datasets::<Test>::mutate(0, |dataset| dataset.as_mut().unwrap().encrypted = true);
		let mut orders = Match::new(1);
		orders.app.tag = tag::TEE;
		orders.workerpool.tag = tag::TEE;
		orders.dataset.as_mut().unwrap().app_restriction = Restriction::Any;
		assert_noop!(orders.submit(), Error::<Test>::ConfidentialDatasetForAnyApp);
	});
}
