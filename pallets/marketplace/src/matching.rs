//! `match_orders`: the reference protocol's compatibility rules ([`check_compatibility`]), then
//! authenticity, volume and funds, then the deal.

use alloc::vec;
use codec::Encode;
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_escrow::{Escrow, Purpose};
use sp_runtime::traits::{CheckedAdd, CheckedMul};

use crate::{
	compatibility::check_compatibility, types::*, Apps, BalanceOf, Categories, Config, Consumed,
	Datasets, Deals, Error, Event, Pallet, ResultEncryptionKeys, Workerpools,
};

/// An order, its hash, its remaining volume and its expiry, once checked.
struct Checked<BlockNumber> {
	hash: OrderHash,
	remaining: u32,
	expiry: Option<BlockNumber>,
}

impl<T: Config> Pallet<T> {
	/// Checks an order's expiry (bounded, then not passed), owner signature and remaining volume,
	/// in that order.
	fn check_order<O: crate::orders::Signable>(
		order: &O,
		volume: u32,
		expiry: Option<BlockNumberFor<T>>,
		signature: Option<&T::OrderSignature>,
		signer: &T::AccountId,
		errors: [Error<T>; 4],
	) -> Result<Checked<BlockNumberFor<T>>, Error<T>> {
		let [unbounded, expired, bad_signature, consumed] = errors;
		ensure!(Self::expiry_is_bounded(expiry), unbounded);
		ensure!(!Self::has_expired(expiry), expired);
		let hash = Self::order_hash(order);
		ensure!(Self::is_authorised(order, &hash, signature, signer), bad_signature);
		let remaining = volume.saturating_sub(Consumed::<T>::get(hash));
		ensure!(remaining > 0, consumed);
		Ok(Checked { hash, remaining, expiry })
	}

	/// Makes a deal of the four orders if every rule holds; changes nothing otherwise.
	pub(crate) fn do_match_orders(
		app_order: Signed<AppOrder<T>, T::OrderSignature>,
		dataset_order: Option<Signed<DatasetOrder<T>, T::OrderSignature>>,
		workerpool_order: Signed<WorkerpoolOrder<T>, T::OrderSignature>,
		request_order: Signed<RequestOrder<T>, T::OrderSignature>,
		sponsor_signature: Option<T::OrderSignature>,
	) -> Result<DealId, DispatchError> {
		let (app, dataset, pool, request) = (
			&app_order.order,
			dataset_order.as_ref().map(|signed| &signed.order),
			&workerpool_order.order,
			&request_order.order,
		);

		// Compatibility, from the orders and the app's kind and dataset's encryption (unknown
		// apps and datasets are refused below).
		let app_entry = Apps::<T>::get(app.app);
		let app_kind = app_entry.as_ref().map(|entry| entry.kind).unwrap_or_default();
		let dataset_encrypted = dataset
			.and_then(|order| Datasets::<T>::get(order.dataset))
			.is_some_and(|entry| entry.encrypted);
		let deal_tag =
			check_compatibility(app, app_kind, dataset, dataset_encrypted, pool, request)?;
		let dataset_price = dataset.map(|order| order.price).unwrap_or_default();
		// A result computed on confidential data is served only sealed to its beneficiary, so
		// a beneficiary without a key could never receive it. The deal does not copy the key:
		// the enclave reads the beneficiary's key when it seals.
		ensure!(
			!dataset_encrypted || ResultEncryptionKeys::<T>::contains_key(&request.beneficiary),
			Error::<T>::BeneficiaryHasNoResultKey
		);

		// Authenticity and volume: registered, unexpired, signed by the owner, not used up.
		ensure!(Categories::<T>::contains_key(request.category), Error::<T>::UnknownCategory);
		let app_entry = app_entry.ok_or(Error::<T>::UnknownApp)?;
		let app_checked = Self::check_order(
			app,
			app.volume,
			app.expiry,
			app_order.signature.as_ref(),
			&app_entry.owner,
			[
				Error::<T>::AppOrderExpiryUnbounded,
				Error::<T>::AppOrderExpired,
				Error::<T>::InvalidAppOrderSignature,
				Error::<T>::AppOrderConsumed,
			],
		)?;
		let dataset_checked = match &dataset_order {
			Some(signed) => {
				let entry =
					Datasets::<T>::get(signed.order.dataset).ok_or(Error::<T>::UnknownDataset)?;
				let checked = Self::check_order(
					&signed.order,
					signed.order.volume,
					signed.order.expiry,
					signed.signature.as_ref(),
					&entry.owner,
					[
						Error::<T>::DatasetOrderExpiryUnbounded,
						Error::<T>::DatasetOrderExpired,
						Error::<T>::InvalidDatasetOrderSignature,
						Error::<T>::DatasetOrderConsumed,
					],
				)?;
				Some((entry.owner, checked))
			}
			None => None,
		};
		let pool_entry =
			Workerpools::<T>::get(pool.workerpool).ok_or(Error::<T>::UnknownWorkerpool)?;
		let pool_checked = Self::check_order(
			pool,
			pool.volume,
			pool.expiry,
			workerpool_order.signature.as_ref(),
			&pool_entry.owner,
			[
				Error::<T>::WorkerpoolOrderExpiryUnbounded,
				Error::<T>::WorkerpoolOrderExpired,
				Error::<T>::InvalidWorkerpoolOrderSignature,
				Error::<T>::WorkerpoolOrderConsumed,
			],
		)?;
		let request_checked = Self::check_order(
			request,
			request.volume,
			request.expiry,
			request_order.signature.as_ref(),
			&request.requester,
			[
				Error::<T>::RequestOrderExpiryUnbounded,
				Error::<T>::RequestOrderExpired,
				Error::<T>::InvalidRequestOrderSignature,
				Error::<T>::RequestOrderConsumed,
			],
		)?;
		let payer = match (&request.payer, &sponsor_signature) {
			(Payer::Requester, None) => request.requester.clone(),
			(Payer::Requester, Some(_)) => {
				return Err(Error::<T>::UnexpectedSponsorSignature.into())
			}
			(Payer::Sponsor(_), None) => return Err(Error::<T>::MissingSponsorSignature.into()),
			(Payer::Sponsor(sponsor), Some(signature)) => {
				use sp_runtime::traits::Verify;
				ensure!(
					signature.verify(&Self::sponsorship_payload(request)[..], sponsor),
					Error::<T>::InvalidSponsorSignature
				);
				sponsor.clone()
			}
		};

		let volume = [
			Some(app_checked.remaining),
			dataset_checked.as_ref().map(|(_, checked)| checked.remaining),
			Some(pool_checked.remaining),
			Some(request_checked.remaining),
		]
		.into_iter()
		.flatten()
		.min()
		.unwrap_or_default()
		.min(T::MaxDealVolume::get());

		// Money: the payer's price for every task and the pool owner's stake.
		let task_price = app
			.price
			.checked_add(&dataset_price)
			.and_then(|sum| sum.checked_add(&pool.price))
			.ok_or(Error::<T>::PriceOverflow)?;
		let volume_balance = BalanceOf::<T>::from(volume);
		let payment = task_price.checked_mul(&volume_balance).ok_or(Error::<T>::PriceOverflow)?;
		let pool_owner_stake = T::PoolOwnerStakeRatio::get().mul_floor(pool.price);
		let total_stake =
			pool_owner_stake.checked_mul(&volume_balance).ok_or(Error::<T>::PriceOverflow)?;
		let pool_owner = pool_entry.owner.clone();
		if payer == pool_owner {
			let both = payment.checked_add(&total_stake).ok_or(Error::<T>::PriceOverflow)?;
			ensure!(
				T::Escrow::can_lock(&payer, Purpose::DealPayment, both),
				Error::<T>::PayerCannotPay
			);
		} else {
			ensure!(
				T::Escrow::can_lock(&payer, Purpose::DealPayment, payment),
				Error::<T>::PayerCannotPay
			);
			ensure!(
				T::Escrow::can_lock(&pool_owner, Purpose::PoolOwnerStake, total_stake),
				Error::<T>::PoolOwnerCannotStake
			);
		}

		// Every rule holds: record the deal.
		let consumed_before = Consumed::<T>::get(request_checked.hash);
		let deal_id: DealId =
			sp_io::hashing::blake2_256(&(request_checked.hash, consumed_before).encode()).into();
		let mut consumed = vec![&app_checked, &pool_checked, &request_checked];
		consumed.extend(dataset_checked.as_ref().map(|(_, checked)| checked));
		for order in consumed {
			Consumed::<T>::mutate(order.hash, |used| *used = used.saturating_add(volume));
			Self::record_expiry(order.hash, order.expiry);
			if volume == order.remaining {
				// Used up: nobody needs its presignature any more.
				Self::release_presignature(order.hash)?;
			}
		}
		T::Escrow::lock(&payer, Purpose::DealPayment, payment, deal_id)?;
		T::Escrow::lock(&pool_owner, Purpose::PoolOwnerStake, total_stake, deal_id)?;

		let deal =
			Deal::<T> {
				app: Purchase { id: app.app, owner: app_entry.owner, price: app.price },
				dataset: dataset.zip(dataset_checked.as_ref()).map(|(order, (owner, _))| {
					Purchase { id: order.dataset, owner: owner.clone(), price: order.price }
				}),
				workerpool: Purchase { id: pool.workerpool, owner: pool_owner, price: pool.price },
				requester: request.requester.clone(),
				payer: payer.clone(),
				beneficiary: request.beneficiary.clone(),
				category: request.category,
				trust: request.trust.max(1),
				tag: deal_tag,
				params: request.params.clone(),
				start: frame_system::Pallet::<T>::block_number(),
				first_task: consumed_before,
				volume,
				worker_stake: pool_entry.policy.worker_stake_ratio.mul_floor(pool.price),
				pool_owner_stake,
				pool_owner_reward_ratio: pool_entry.policy.pool_owner_reward_ratio,
				unsettled: volume,
			};
		debug_assert!(!Deals::<T>::contains_key(deal_id), "deal ids are unique per request volume");
		T::OnDealCreated::on_deal_created(&deal_id, &deal);
		Self::record_deal_use(&deal);
		Deals::<T>::insert(deal_id, deal);
		Self::deposit_event(Event::DealCreated {
			deal: deal_id,
			workerpool: pool.workerpool,
			app_order: app_checked.hash,
			dataset_order: dataset_checked.map(|(_, checked)| checked.hash),
			workerpool_order: pool_checked.hash,
			request_order: request_checked.hash,
			volume,
			payer,
		});
		Ok(deal_id)
	}
}
