//! Whether four orders can make a deal, judged from the orders alone.
//!
//! [`check_compatibility`] is the one statement of the reference protocol's compatibility rules
//! (category, trust, prices, tags and restrictions): [`Pallet::match_orders`] applies it before it
//! looks at registrations, signatures, volumes and funds, and the client applies it to choose the
//! offers it matches a request with, so a requester is never shown a combination the chain would
//! refuse for these reasons. It reads no storage; the two facts it needs that the orders do not
//! carry, the app's kind and whether the dataset is encrypted, are arguments.
//!
//! [`Pallet::match_orders`]: crate::Pallet::match_orders

use frame_support::{ensure, traits::fungible::Inspect};
use sp_runtime::traits::Zero;

use crate::{
	tag, AppKind, AppOrder, BalanceOf, Config, DatasetOrder, Error, RequestOrder, Restriction, Tag,
	WorkerpoolOrder,
};

/// The tag of the deal `app`, `dataset`, `pool` and `request` would make, or the first rule they
/// break. `app_kind` is the app's registered kind; `dataset_encrypted` says whether the dataset
/// (if any) is registered as encrypted.
///
/// The deal's tag is the union of the app's, the dataset's and the request's, and of the tag
/// the app's kind requires ([`AppKind::required_tag`]); a dataset's TEE framework bits are left
/// out, since an encrypted dataset serves any framework the app runs on.
pub fn check_compatibility<T: Config>(
	app: &AppOrder<T>,
	app_kind: AppKind,
	dataset: Option<&DatasetOrder<T>>,
	dataset_encrypted: bool,
	pool: &WorkerpoolOrder<T>,
	request: &RequestOrder<T>,
) -> Result<Tag, Error<T>> {
	let dataset_id = dataset.map(|order| order.dataset);

	// Category, trust and prices.
	ensure!(request.category == pool.category, Error::<T>::CategoryMismatch);
	ensure!(request.trust <= pool.trust, Error::<T>::TrustAboveWorkerpoolLimit);
	ensure!(request.app_max_price >= app.price, Error::<T>::AppPriceAboveRequestCap);
	let dataset_price = dataset.map(|order| order.price).unwrap_or_default();
	ensure!(request.dataset_max_price >= dataset_price, Error::<T>::DatasetPriceAboveRequestCap);
	ensure!(request.workerpool_max_price >= pool.price, Error::<T>::WorkerpoolPriceAboveRequestCap);
	// A payment below the existential deposit could not be received by an empty account.
	let receivable =
		|price: BalanceOf<T>| price.is_zero() || price >= T::Currency::minimum_balance();
	ensure!(receivable(app.price), Error::<T>::AppPriceBelowExistentialDeposit);
	ensure!(receivable(dataset_price), Error::<T>::DatasetPriceBelowExistentialDeposit);
	ensure!(receivable(pool.price), Error::<T>::WorkerpoolPriceBelowExistentialDeposit);

	// Tags.
	let dataset_tag = dataset.map(|order| order.tag & !tag::TEE_FRAMEWORKS).unwrap_or_default();
	let deal_tag = app.tag | dataset_tag | request.tag;
	ensure!(deal_tag & !pool.tag == 0, Error::<T>::WorkerpoolLacksRequestedTag);
	// What runs the app is required of the pool as a tag of the deal.
	let deal_tag = deal_tag | app_kind.required_tag();
	ensure!(deal_tag & !pool.tag == 0, Error::<T>::WorkerpoolRunsNoContainers);
	ensure!(app_kind == AppKind::Wasi || deal_tag & tag::TEE == 0, Error::<T>::ContainerAppInTee);
	ensure!((deal_tag ^ app.tag) & tag::TEE == 0, Error::<T>::TeeRequiredButAppNotTee);
	ensure!(!dataset_encrypted || deal_tag & tag::TEE != 0, Error::<T>::EncryptedDatasetOutsideTee);
	// Anyone can create an app and list any enclave in it, a leaking one included: an encrypted
	// dataset's key may go only to an app its owner chose.
	ensure!(
		!dataset_encrypted
			|| dataset.is_some_and(|order| matches!(order.app_restriction, Restriction::Only(_))),
		Error::<T>::ConfidentialDatasetForAnyApp
	);

	// What each order is for, and whom each allows.
	ensure!(request.app == app.app, Error::<T>::AppMismatch);
	ensure!(request.dataset == dataset_id, Error::<T>::DatasetMismatch);
	ensure!(
		request.workerpool_restriction.allows(Some(&pool.workerpool)),
		Error::<T>::WorkerpoolNotAllowedByRequest
	);
	ensure!(
		app.dataset_restriction.allows(dataset_id.as_ref()),
		Error::<T>::DatasetNotAllowedByApp
	);
	ensure!(
		app.workerpool_restriction.allows(Some(&pool.workerpool)),
		Error::<T>::WorkerpoolNotAllowedByApp
	);
	ensure!(
		app.requester_restriction.allows(Some(&request.requester)),
		Error::<T>::RequesterNotAllowedByApp
	);
	if let Some(dataset) = dataset {
		ensure!(dataset.app_restriction.allows(Some(&app.app)), Error::<T>::AppNotAllowedByDataset);
		ensure!(
			dataset.workerpool_restriction.allows(Some(&pool.workerpool)),
			Error::<T>::WorkerpoolNotAllowedByDataset
		);
		ensure!(
			dataset.requester_restriction.allows(Some(&request.requester)),
			Error::<T>::RequesterNotAllowedByDataset
		);
	}
	ensure!(pool.app_restriction.allows(Some(&app.app)), Error::<T>::AppNotAllowedByWorkerpool);
	ensure!(
		pool.dataset_restriction.allows(dataset_id.as_ref()),
		Error::<T>::DatasetNotAllowedByWorkerpool
	);
	ensure!(
		pool.requester_restriction.allows(Some(&request.requester)),
		Error::<T>::RequesterNotAllowedByWorkerpool
	);
	Ok(deal_tag)
}
