//! The market as a requester sees it: the chain's order book (the orders their owners
//! presigned, listed by market, best first), and the choice of offers a request can be matched
//! with ([`cheapest_offers`], or why there is none: [`NoCompatibleOffer`]).
//!
//! The book is read through the marketplace's runtime API, one call per market
//! ([`order_book`]); the client reads no block history, so finding offers costs the same on a
//! chain of any age.

use std::fmt;

use commons_runtime::{Balance, BlockNumber, Runtime};
use pallet_marketplace::{
	book::MAX_BOOK_PAGE, check_compatibility, AppId, AppKind, AppOrder, BookEntry, BookPage,
	CategoryId, DatasetId, DatasetOrder, Market, Order, RequestOrder, WorkerpoolOrder,
};

use crate::{Chain, ClientError};

/// A listed order that can still be matched: the order, its hash, who presigned it and how many
/// tasks it still sells.
pub type Published = BookEntry<Runtime>;

/// The most pages [`order_book`] reads of one market: what a client reads of a market crowded
/// with orders nobody can match is bounded too.
pub const MAX_PAGES: u32 = 10;

/// The orders listed in `market` that anyone can match in the next block, best first; workerpool
/// orders only if they serve at least `min_trust`; at most `limit`, read page by page (at most
/// [`MAX_PAGES`] pages of up to [`MAX_BOOK_PAGE`]).
pub async fn order_book(
	chain: &Chain,
	market: Market,
	min_trust: u32,
	limit: u32,
) -> Result<Vec<Published>, ClientError> {
	let mut listed = Vec::new();
	let mut after = None;
	for _ in 0..MAX_PAGES {
		let wanted = limit.saturating_sub(listed.len() as u32);
		if wanted == 0 {
			break;
		}
		let page: BookPage<Runtime> = chain
			.runtime_api("MarketplaceApi_order_book", (market, min_trust, after, wanted))
			.await?;
		listed.extend(page.entries);
		match page.next {
			Some(cursor) => after = Some(cursor),
			None => break,
		}
	}
	Ok(listed)
}

/// The listed offers `request` could be matched with: its app's and its dataset's orders, and
/// the workerpool orders of its category serving its trust, the cheapest of each market.
pub async fn offers_for(
	chain: &Chain,
	request: &RequestOrder<Runtime>,
) -> Result<Vec<Published>, ClientError> {
	let mut markets = vec![Market::App(request.app), Market::Workerpool(request.category)];
	markets.extend(request.dataset.map(Market::Dataset));
	let mut offers = Vec::new();
	for market in markets {
		offers.extend(order_book(chain, market, request.trust, MAX_BOOK_PAGE).await?);
	}
	Ok(offers)
}

/// The latest expiry the chain accepts now for an order: its best block plus the
/// `MaxOrderLifetime` governance set.
pub async fn latest_expiry(chain: &Chain) -> Result<BlockNumber, ClientError> {
	let lifetime = chain.protocol_parameters().await?.max_order_lifetime;
	Ok(chain.best_number().await?.saturating_add(lifetime))
}

/// The offers a request is matched with.
#[derive(Clone, Debug)]
pub struct Offers {
	/// The app's order.
	pub app: AppOrder<Runtime>,
	/// The dataset's order, if the request names a dataset.
	pub dataset: Option<DatasetOrder<Runtime>>,
	/// The workerpool's order.
	pub workerpool: WorkerpoolOrder<Runtime>,
}

impl Offers {
	/// What one task costs the payer.
	pub fn task_price(&self) -> Balance {
		self.app
			.price
			.saturating_add(self.dataset.as_ref().map(|order| order.price).unwrap_or_default())
			.saturating_add(self.workerpool.price)
	}
}

/// Why no published offers can be matched with a request.
#[derive(Debug)]
pub enum NoCompatibleOffer {
	/// No order of the requested app is published.
	NoAppOrder {
		/// The requested app.
		app: AppId,
	},
	/// No order of the requested dataset is published.
	NoDatasetOrder {
		/// The requested dataset.
		dataset: DatasetId,
	},
	/// No workerpool order is published.
	NoWorkerpoolOrder {
		/// The request's category.
		category: CategoryId,
	},
	/// The chain would refuse every combination of the published orders.
	Refused {
		/// The requested app.
		app: AppId,
		/// How many workerpool orders were tried.
		pools: usize,
		/// Why the chain refuses one of the combinations.
		example: pallet_marketplace::Error<Runtime>,
	},
}

impl fmt::Display for NoCompatibleOffer {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			NoCompatibleOffer::NoAppOrder { app } => {
				write!(f, "no compatible offer: no published order of app {app}")
			}
			NoCompatibleOffer::NoDatasetOrder { dataset } => {
				write!(f, "no compatible offer: no published order of dataset {dataset}")
			}
			NoCompatibleOffer::NoWorkerpoolOrder { category } => write!(
				f,
				"no compatible offer: no published workerpool order (category {category})"
			),
			NoCompatibleOffer::Refused { app, pools, example } => write!(
				f,
				"no compatible offer: the chain would refuse every combination of the published \
				 orders for app {app} with the {pools} published workerpool order(s), for example \
				 with Marketplace::{example:?}"
			),
		}
	}
}

impl std::error::Error for NoCompatibleOffer {}

/// The cheapest published offers `request` can be matched with, or why there are none.
/// `app_kind` is the request's app's kind; `dataset_encrypted` says whether the request's
/// dataset is registered as encrypted.
///
/// Every combination of published orders for the request's app and dataset with a workerpool
/// order is judged by the marketplace's own [`check_compatibility`], the rules the chain applies
/// first when matching; the chain checks registrations, signatures, volumes and funds after it.
pub fn cheapest_offers(
	published: &[Published],
	request: &RequestOrder<Runtime>,
	app_kind: AppKind,
	dataset_encrypted: bool,
) -> Result<Offers, NoCompatibleOffer> {
	let apps: Vec<&AppOrder<Runtime>> = published
		.iter()
		.filter_map(|entry| match &entry.order {
			Order::App(order) if order.app == request.app => Some(order),
			_ => None,
		})
		.collect();
	if apps.is_empty() {
		return Err(NoCompatibleOffer::NoAppOrder { app: request.app });
	}
	let datasets: Vec<Option<&DatasetOrder<Runtime>>> = match request.dataset {
		None => vec![None],
		Some(dataset) => {
			let orders: Vec<_> = published
				.iter()
				.filter_map(|entry| match &entry.order {
					Order::Dataset(order) if order.dataset == dataset => Some(Some(order)),
					_ => None,
				})
				.collect();
			if orders.is_empty() {
				return Err(NoCompatibleOffer::NoDatasetOrder { dataset });
			}
			orders
		}
	};
	let mut pools: Vec<&WorkerpoolOrder<Runtime>> = published
		.iter()
		.filter_map(|entry| match &entry.order {
			Order::Workerpool(order) => Some(order),
			_ => None,
		})
		.collect();
	// Cheapest first, so that the first pool compatible with an app and dataset is the one to
	// offer with them.
	pools.sort_by_key(|pool| pool.price);

	let mut cheapest: Option<Offers> = None;
	let mut refusal = None;
	for app in &apps {
		for dataset in &datasets {
			for pool in &pools {
				let offers = Offers {
					app: (*app).clone(),
					dataset: dataset.cloned(),
					workerpool: (*pool).clone(),
				};
				match check_compatibility(app, app_kind, *dataset, dataset_encrypted, pool, request)
				{
					Ok(_) => {
						if cheapest
							.as_ref()
							.is_none_or(|best| offers.task_price() < best.task_price())
						{
							cheapest = Some(offers);
						}
						break;
					}
					Err(why) => refusal = refusal.or(Some(why)),
				}
			}
		}
	}
	cheapest.ok_or_else(|| match refusal {
		None => NoCompatibleOffer::NoWorkerpoolOrder { category: request.category },
		Some(example) => {
			NoCompatibleOffer::Refused { app: request.app, pools: pools.len(), example }
		}
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_runtime::{AccountId, CMN};
	use pallet_marketplace::{tag, Payer, Restriction, Tag};

	fn account(byte: u8) -> AccountId {
		AccountId::from([byte; 32])
	}

	fn app_order(price: Balance) -> Order<Runtime> {
		Order::App(AppOrder {
			app: 0,
			price,
			volume: 1,
			tag: 0,
			dataset_restriction: Restriction::Any,
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: [price as u8; 32],
			expiry: Some(1_000),
		})
	}

	fn pool_order(workerpool: u32, price: Balance, trust: u32) -> Order<Runtime> {
		Order::Workerpool(WorkerpoolOrder {
			workerpool,
			price,
			volume: 1,
			tag: 0,
			category: 0,
			trust,
			app_restriction: Restriction::Any,
			dataset_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: [workerpool as u8; 32],
			expiry: Some(1_000),
		})
	}

	fn published(orders: Vec<Order<Runtime>>) -> Vec<Published> {
		orders
			.into_iter()
			.enumerate()
			.map(|(index, order)| Published {
				order,
				hash: commons_runtime::Hash::repeat_byte(index as u8),
				owner: account(index as u8),
				remaining: 1,
			})
			.collect()
	}

	fn request(trust: u32, max: Balance) -> RequestOrder<Runtime> {
		RequestOrder {
			app: 0,
			app_max_price: max,
			dataset: None,
			dataset_max_price: max,
			workerpool_restriction: Restriction::Any,
			workerpool_max_price: max,
			requester: account(9),
			volume: 1,
			tag: 0,
			category: 0,
			trust,
			beneficiary: account(9),
			params: Default::default(),
			payer: Payer::Requester,
			salt: [0; 32],
			expiry: Some(1_000),
		}
	}

	#[test]
	fn the_cheapest_pool_serving_the_trust_is_chosen() {
		let book = published(vec![
			app_order(2 * CMN),
			app_order(CMN),
			pool_order(0, 3 * CMN, 5),
			pool_order(1, CMN, 1),
			pool_order(2, 2 * CMN, 4),
		]);
		let offers = cheapest_offers(&book, &request(3, 10 * CMN), AppKind::Wasi, false).unwrap();
		assert_eq!(offers.app.price, CMN);
		assert_eq!(offers.workerpool.workerpool, 2, "pool 1 serves trust 1 only");
		assert_eq!(offers.task_price(), 3 * CMN);
	}

	#[test]
	fn missing_offers_are_named() {
		let book = published(vec![pool_order(0, CMN, 5)]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Wasi, false)
			.unwrap_err()
			.to_string();
		assert!(error.starts_with("no compatible offer: no published order of app 0"), "{error}");

		let book = published(vec![app_order(CMN)]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Wasi, false)
			.unwrap_err()
			.to_string();
		assert!(error.contains("no published workerpool order (category 0)"), "{error}");

		let book = published(vec![app_order(CMN), pool_order(0, 5 * CMN, 5)]);
		let error = cheapest_offers(&book, &request(1, 2 * CMN), AppKind::Wasi, false)
			.unwrap_err()
			.to_string();
		assert!(error.contains("Marketplace::WorkerpoolPriceAboveRequestCap"), "{error}");

		let mut dataset_request = request(1, 10 * CMN);
		dataset_request.dataset = Some(4);
		let book = published(vec![app_order(CMN), pool_order(0, CMN, 5)]);
		let error = cheapest_offers(&book, &dataset_request, AppKind::Wasi, false)
			.unwrap_err()
			.to_string();
		assert!(error.contains("no published order of dataset 4"), "{error}");
	}

	#[test]
	fn restrictions_exclude_offers() {
		let mut restricted = pool_order(0, CMN, 5);
		if let Order::Workerpool(order) = &mut restricted {
			order.requester_restriction = Restriction::Only(account(1));
		}
		let book = published(vec![app_order(CMN), restricted]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Wasi, false)
			.unwrap_err()
			.to_string();
		assert!(error.contains("Marketplace::RequesterNotAllowedByWorkerpool"), "{error}");
	}

	#[test]
	fn a_dataset_s_tee_framework_does_not_demand_it_of_the_pool() {
		// The chain masks a dataset's framework bits out of the deal's tag; the client's former
		// copy of the rules did not, and found no pool for a TEE app on an SGX-tagged dataset.
		let Order::App(mut app) = app_order(CMN) else { unreachable!() };
		app.tag = tag::TEE | tag::TDX;
		let Order::Workerpool(mut pool) = pool_order(0, CMN, 5) else { unreachable!() };
		pool.tag = tag::TEE | tag::TDX;
		let mut request = request(1, 10 * CMN);
		request.dataset = Some(3);
		let book = published(vec![
			Order::App(app),
			dataset_order(3, tag::TEE | tag::SGX),
			Order::Workerpool(pool),
		]);
		assert!(cheapest_offers(&book, &request, AppKind::Wasi, true).is_ok());
	}

	#[test]
	fn an_encrypted_dataset_is_offered_only_inside_a_tee() {
		let mut request = request(1, 10 * CMN);
		request.dataset = Some(3);
		let book = published(vec![app_order(CMN), dataset_order(3, 0), pool_order(0, CMN, 5)]);
		assert!(cheapest_offers(&book, &request, AppKind::Wasi, false).is_ok());
		let error = cheapest_offers(&book, &request, AppKind::Wasi, true).unwrap_err().to_string();
		assert!(error.contains("Marketplace::EncryptedDatasetOutsideTee"), "{error}");
	}

	#[test]
	fn an_encrypted_dataset_is_offered_only_for_the_app_its_order_names() {
		let Order::App(mut app) = app_order(CMN) else { unreachable!() };
		app.tag = tag::TEE;
		let Order::Workerpool(mut pool) = pool_order(0, CMN, 5) else { unreachable!() };
		pool.tag = tag::TEE;
		let Order::Dataset(mut dataset) = dataset_order(3, 0) else { unreachable!() };
		dataset.app_restriction = Restriction::Any;
		let mut request = request(1, 10 * CMN);
		request.dataset = Some(3);
		let book =
			published(vec![Order::App(app), Order::Dataset(dataset), Order::Workerpool(pool)]);
		assert!(cheapest_offers(&book, &request, AppKind::Wasi, false).is_ok());
		let error = cheapest_offers(&book, &request, AppKind::Wasi, true).unwrap_err().to_string();
		assert!(error.contains("Marketplace::ConfidentialDatasetForAnyApp"), "{error}");
	}

	#[test]
	fn an_image_is_offered_only_by_pools_that_run_containers() {
		let Order::Workerpool(mut container_pool) = pool_order(1, 2 * CMN, 5) else {
			unreachable!()
		};
		container_pool.tag = tag::CONTAINER;
		let book = published(vec![
			app_order(CMN),
			pool_order(0, CMN, 5),
			Order::Workerpool(container_pool),
		]);
		let offers = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Oci, false).unwrap();
		assert_eq!(offers.workerpool.workerpool, 1, "the dearer pool, the only one to run it");
		let offers = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Wasi, false).unwrap();
		assert_eq!(offers.workerpool.workerpool, 0, "a module goes to the cheapest");

		let book = published(vec![app_order(CMN), pool_order(0, CMN, 5)]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN), AppKind::Oci, false)
			.unwrap_err()
			.to_string();
		assert!(error.contains("Marketplace::WorkerpoolRunsNoContainers"), "{error}");
	}

	fn dataset_order(dataset: u32, tag: Tag) -> Order<Runtime> {
		Order::Dataset(DatasetOrder {
			dataset,
			price: CMN,
			volume: 1,
			tag,
			app_restriction: Restriction::Only(0),
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: [dataset as u8; 32],
			expiry: Some(1_000),
		})
	}

	/// Random orders drawn from small domains, so that every rule is met and broken often.
	mod agreement {
		use super::*;
		use proptest::prelude::*;

		// Each rule holds more often than not, so that whole combinations are often accepted
		// and each rule is also often the only one broken.
		fn small_tag() -> impl Strategy<Value = Tag> {
			prop::sample::select(vec![
				0,
				0,
				0,
				0,
				tag::TEE,
				tag::TEE | tag::SGX,
				tag::TEE | tag::TDX,
				tag::SGX,
				tag::GPU,
				tag::TEE | tag::GPU,
				tag::TEE | tag::SGX | tag::TDX | tag::GPU,
			])
		}

		fn id() -> impl Strategy<Value = u32> {
			prop_oneof![4 => Just(0u32), 1 => Just(1u32)]
		}

		fn restriction() -> impl Strategy<Value = Restriction<u32>> {
			prop_oneof![
				4 => Just(Restriction::Any),
				1 => Just(Restriction::Only(0)),
				1 => Just(Restriction::Only(1)),
			]
		}

		fn requester_restriction() -> impl Strategy<Value = Restriction<AccountId>> {
			prop_oneof![
				4 => Just(Restriction::Any),
				1 => Just(Restriction::Only(account(8))),
				1 => Just(Restriction::Only(account(9))),
			]
		}

		fn price() -> impl Strategy<Value = Balance> {
			prop::sample::select(vec![0, 0, CMN, CMN, 2 * CMN, 1])
		}

		fn max_price() -> impl Strategy<Value = Balance> {
			prop::sample::select(vec![2 * CMN, 2 * CMN, 2 * CMN, CMN, 0])
		}

		fn pool_tag() -> impl Strategy<Value = Tag> {
			let all = tag::TEE | tag::SGX | tag::TDX | tag::GPU;
			prop_oneof![
				2 => Just(all),
				1 => Just(all | tag::CONTAINER),
				1 => Just(tag::CONTAINER),
				2 => small_tag()
			]
		}

		prop_compose! {
			fn app()(app in id(), price in price(), tag in small_tag(),
				datasets in restriction(), pools in restriction(),
				requesters in requester_restriction()) -> AppOrder<Runtime> {
				let Order::App(mut order) = app_order(price) else { unreachable!() };
				order.app = app;
				order.tag = tag;
				order.dataset_restriction = datasets;
				order.workerpool_restriction = pools;
				order.requester_restriction = requesters;
				order
			}
		}

		prop_compose! {
			fn dataset()(dataset in id(), price in price(), tag in small_tag(),
				apps in restriction(), pools in restriction(),
				requesters in requester_restriction()) -> DatasetOrder<Runtime> {
				let Order::Dataset(mut order) = dataset_order(dataset, tag) else { unreachable!() };
				order.price = price;
				order.app_restriction = apps;
				order.workerpool_restriction = pools;
				order.requester_restriction = requesters;
				order
			}
		}

		prop_compose! {
			fn pool()(workerpool in id(), price in price(), trust in 0u32..4,
				tag in pool_tag(), category in id(), apps in restriction(),
				datasets in restriction(), requesters in requester_restriction())
				-> WorkerpoolOrder<Runtime> {
				let Order::Workerpool(mut order) = pool_order(workerpool, price, trust) else {
					unreachable!()
				};
				order.tag = tag;
				order.category = category;
				order.app_restriction = apps;
				order.dataset_restriction = datasets;
				order.requester_restriction = requesters;
				order
			}
		}

		prop_compose! {
			fn request_order()(app in id(), dataset in prop::option::of(id()),
				max in max_price(), trust in 0u32..3, tag in small_tag(), category in id(),
				pools in restriction(), requester in 8u8..10) -> RequestOrder<Runtime> {
				let mut order = request(trust, max);
				order.app = app;
				order.dataset = dataset;
				order.tag = tag;
				order.category = category;
				order.workerpool_restriction = pools;
				order.requester = account(requester);
				order
			}
		}

		proptest! {
			#![proptest_config(ProptestConfig::with_cases(2_000))]

			/// The client offers a combination exactly when the chain's rules accept it.
			#[test]
			fn the_client_offers_what_the_chain_accepts(
				app in app(), dataset in dataset(), pool in pool(), request in request_order(),
				encrypted in any::<bool>(),
				kind in prop_oneof![Just(AppKind::Wasi), Just(AppKind::Oci)],
			) {
				// The dataset order is published for the request's dataset when it names one.
				let dataset = request.dataset.map(|id| {
					let mut order = dataset.clone();
					order.dataset = id;
					order
				});
				let mut orders = vec![Order::App(app.clone()), Order::Workerpool(pool.clone())];
				orders.extend(dataset.clone().map(Order::Dataset));
				let offered = cheapest_offers(&published(orders), &request, kind, encrypted);
				let accepted =
					check_compatibility(&app, kind, dataset.as_ref(), encrypted, &pool, &request);
				prop_assert_eq!(offered.is_ok(), accepted.is_ok(), "{:?} / {:?}", offered, accepted);
			}
		}
	}
}
