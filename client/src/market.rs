//! The market as a requester sees it: the orders their owners published (presigned) on chain,
//! and the choice of offers a request can be matched with.
//!
//! The chain stores only the hashes of presigned orders; their contents are in the
//! `presign_order` transactions of the blocks. [`published_orders`] reads them back from the
//! blocks and keeps those the chain still holds presigned, with volume left and not expired.

use codec::{Decode, Encode};
use commons_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use pallet_marketplace::{AppOrder, DatasetId, DatasetOrder, Order, RequestOrder, WorkerpoolOrder};
use serde_json::Value;
use sp_core::bytes::{from_hex, to_hex};

use crate::{rpc_params, Chain};

/// An order its owner published and that can still be matched.
#[derive(Clone, Debug)]
pub struct Published {
	pub order: Order<Runtime>,
	pub hash: Hash,
	pub owner: AccountId,
	/// Tasks still available from it.
	pub remaining: u32,
}

impl Chain {
	/// Calls the runtime API function `method` with SCALE-encoded `arguments` at the best block.
	pub async fn runtime_api<R: Decode>(
		&self,
		method: &str,
		arguments: impl Encode,
	) -> Result<R, String> {
		let hex: String = self
			.rpc("state_call", rpc_params![method, to_hex(&arguments.encode(), false)])
			.await?;
		let bytes = from_hex(&hex).map_err(|error| format!("{method}: bad hex: {error}"))?;
		R::decode(&mut &bytes[..]).map_err(|error| format!("{method}: undecodable: {error}"))
	}

	/// The calls of the transactions in block `number`.
	pub async fn block_calls(&self, number: BlockNumber) -> Result<Vec<RuntimeCall>, String> {
		let hash = self.block_hash(number).await?;
		let block: Value = self.rpc("chain_getBlock", rpc_params![hash]).await?;
		let extrinsics = block["block"]["extrinsics"]
			.as_array()
			.ok_or_else(|| format!("block {number} has no extrinsics list"))?;
		extrinsics
			.iter()
			.map(|hex| {
				let bytes = from_hex(hex.as_str().unwrap_or_default())
					.map_err(|error| format!("block {number}: bad extrinsic hex: {error}"))?;
				commons_runtime::UncheckedExtrinsic::decode(&mut &bytes[..])
					.map(|extrinsic| extrinsic.function)
					.map_err(|error| format!("block {number}: undecodable extrinsic: {error}"))
			})
			.collect()
	}
}

/// The orders published in blocks `from..=best` that can still be matched at the best block.
pub async fn published_orders(chain: &Chain, from: BlockNumber) -> Result<Vec<Published>, String> {
	let best = chain.best_number().await?;
	let mut found = Vec::new();
	for number in from..=best {
		for call in chain.block_calls(number).await? {
			let RuntimeCall::Marketplace(pallet_marketplace::Call::presign_order { order }) = call
			else {
				continue;
			};
			// A match lands in the next block at the earliest.
			if order.expiry().is_some_and(|last_block| best >= last_block) {
				continue;
			}
			let hash: Hash = chain.runtime_api("MarketplaceApi_order_hash", &order).await?;
			let presigned = pallet_marketplace::Presigned::<Runtime>::hashed_key_for(hash);
			let Some(owner) = chain.storage::<AccountId>(&presigned, None).await? else { continue };
			let remaining: u32 =
				chain.runtime_api("MarketplaceApi_remaining_volume", &order).await?;
			if remaining > 0 && !found.iter().any(|known: &Published| known.hash == hash) {
				found.push(Published { order, hash, owner, remaining });
			}
		}
	}
	Ok(found)
}

/// The latest expiry the chain accepts for an order made when `best` is the best block: its
/// `MaxOrderLifetime` ahead.
pub fn latest_expiry(best: BlockNumber) -> BlockNumber {
	best.saturating_add(<Runtime as pallet_marketplace::Config>::MaxOrderLifetime::get())
}

/// The offers a request is matched with.
#[derive(Clone, Debug)]
pub struct Offers {
	pub app: AppOrder<Runtime>,
	pub dataset: Option<DatasetOrder<Runtime>>,
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

/// The cheapest published offers `request` can be matched with, or why there are none.
///
/// This applies the marketplace's matching rules that depend on the orders alone (ids, prices,
/// restrictions, category, trust and tags); the chain checks them all again when matching.
pub fn cheapest_offers(
	published: &[Published],
	request: &RequestOrder<Runtime>,
) -> Result<Offers, String> {
	let requester = Some(&request.requester);
	let app = published
		.iter()
		.filter_map(|entry| match &entry.order {
			Order::App(order) => Some(order),
			_ => None,
		})
		.filter(|order| {
			order.app == request.app
				&& order.price <= request.app_max_price
				&& order.dataset_restriction.allows(request.dataset.as_ref())
				&& order.requester_restriction.allows(requester)
		})
		.min_by_key(|order| order.price)
		.ok_or(format!(
			"no compatible offer: no published order of app {} at most {} for this requester",
			request.app, request.app_max_price
		))?;
	let dataset = match request.dataset {
		None => None,
		Some(dataset) => Some(cheapest_dataset_order(published, request, dataset)?),
	};
	let tag = app.tag | dataset.as_ref().map(|order| order.tag).unwrap_or_default() | request.tag;
	let workerpool = published
		.iter()
		.filter_map(|entry| match &entry.order {
			Order::Workerpool(order) => Some(order),
			_ => None,
		})
		.filter(|order| {
			order.category == request.category
				&& order.trust >= request.trust
				&& order.price <= request.workerpool_max_price
				&& tag & !order.tag == 0
				&& order.app_restriction.allows(Some(&request.app))
				&& order.dataset_restriction.allows(request.dataset.as_ref())
				&& order.requester_restriction.allows(requester)
				&& request.workerpool_restriction.allows(Some(&order.workerpool))
				&& app.workerpool_restriction.allows(Some(&order.workerpool))
				&& dataset
					.as_ref()
					.is_none_or(|data| data.workerpool_restriction.allows(Some(&order.workerpool)))
		})
		.min_by_key(|order| order.price)
		.ok_or(format!(
			"no compatible offer: no published workerpool order for category {} at trust {} \
			 or more, tags {tag:#x}, at most {}",
			request.category, request.trust, request.workerpool_max_price
		))?;
	Ok(Offers { app: app.clone(), dataset, workerpool: workerpool.clone() })
}

fn cheapest_dataset_order(
	published: &[Published],
	request: &RequestOrder<Runtime>,
	dataset: DatasetId,
) -> Result<DatasetOrder<Runtime>, String> {
	published
		.iter()
		.filter_map(|entry| match &entry.order {
			Order::Dataset(order) => Some(order),
			_ => None,
		})
		.filter(|order| {
			order.dataset == dataset
				&& order.price <= request.dataset_max_price
				&& order.app_restriction.allows(Some(&request.app))
				&& order.requester_restriction.allows(Some(&request.requester))
		})
		.min_by_key(|order| order.price)
		.cloned()
		.ok_or(format!(
			"no compatible offer: no published order of dataset {dataset} at most {} for app {}",
			request.dataset_max_price, request.app
		))
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_runtime::CMN;
	use pallet_marketplace::{Payer, Restriction};

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
				hash: Hash::repeat_byte(index as u8),
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
		let offers = cheapest_offers(&book, &request(3, 10 * CMN)).unwrap();
		assert_eq!(offers.app.price, CMN);
		assert_eq!(offers.workerpool.workerpool, 2, "pool 1 serves trust 1 only");
		assert_eq!(offers.task_price(), 3 * CMN);
	}

	#[test]
	fn missing_offers_are_named() {
		let book = published(vec![pool_order(0, CMN, 5)]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN)).unwrap_err();
		assert!(error.starts_with("no compatible offer: no published order of app 0"), "{error}");

		let book = published(vec![app_order(CMN), pool_order(0, 5 * CMN, 5)]);
		let error = cheapest_offers(&book, &request(1, 2 * CMN)).unwrap_err();
		assert!(error.contains("no published workerpool order for category 0"), "{error}");

		let mut dataset_request = request(1, 10 * CMN);
		dataset_request.dataset = Some(4);
		let book = published(vec![app_order(CMN), pool_order(0, CMN, 5)]);
		let error = cheapest_offers(&book, &dataset_request).unwrap_err();
		assert!(error.contains("no published order of dataset 4"), "{error}");
	}

	#[test]
	fn restrictions_exclude_offers() {
		let mut restricted = pool_order(0, CMN, 5);
		if let Order::Workerpool(order) = &mut restricted {
			order.requester_restriction = Restriction::Only(account(1));
		}
		let book = published(vec![app_order(CMN), restricted]);
		let error = cheapest_offers(&book, &request(1, 10 * CMN)).unwrap_err();
		assert!(error.contains("no published workerpool order"), "{error}");
	}
}
