//! The order book: every presigned order, kept on chain with its contents and listed in its
//! market by price, so that a client finds the offers a request can be matched with in one
//! runtime API call ([`Pallet::order_book`]) instead of reading the chain's history.
//!
//! An order is listed when its owner presigns it ([`Pallet::presign_order`], whose deposit pays
//! for its contents and its listing) and delisted with its presignature: when it is used up,
//! cancelled, or pruned after its expiry. A listing is keyed by `(market, rank, hash)`: the
//! storage iterates a market's listings in the order of their keys, so the rank, a price in
//! big-endian bytes, puts them cheapest first. Requests are ranked the other way round, by what
//! they pay a workerpool at most, so a scheduler sees the best-paying first.
//!
//! Orders that are only signed (not presigned) are not listed: their owners hand them to whoever
//! matches them, as in iExec.

use alloc::vec::Vec;
use frame_support::{ensure, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto};

use crate::{types::*, Config, Consumed, OrderBook, Pallet, Presigned, PublishedOrders};

/// The most listings one [`Pallet::order_book`] answer holds.
pub const MAX_BOOK_PAGE: u32 = 1_000;

impl<T: Config> Pallet<T> {
	/// The market `order` is listed in.
	pub fn market_of(order: &Order<T>) -> Market {
		match order {
			Order::App(order) => Market::App(order.app),
			Order::Dataset(order) => Market::Dataset(order.dataset),
			Order::Workerpool(order) => Market::Workerpool(order.category),
			Order::Request(order) => Market::Request(order.category),
		}
	}

	/// Where `order` stands in its market: offers by their price, cheapest first; requests by
	/// the most they pay a workerpool, highest first.
	pub fn rank_of(order: &Order<T>) -> PriceRank {
		let price = |price: crate::BalanceOf<T>| -> u128 { price.unique_saturated_into() };
		let rank = match order {
			Order::App(order) => price(order.price),
			Order::Dataset(order) => price(order.price),
			Order::Workerpool(order) => price(order.price),
			Order::Request(order) => u128::MAX - price(order.workerpool_max_price),
		};
		rank.to_be_bytes()
	}

	/// Lists presigned `order`, whose hash is `hash`.
	pub(crate) fn list_order(hash: OrderHash, order: Order<T>) {
		OrderBook::<T>::insert((Self::market_of(&order), Self::rank_of(&order), hash), ());
		PublishedOrders::<T>::insert(hash, order);
	}

	/// Takes order `hash` out of the book, if it is listed.
	pub(crate) fn delist_order(hash: OrderHash) {
		if let Some(order) = PublishedOrders::<T>::take(hash) {
			OrderBook::<T>::remove((Self::market_of(&order), Self::rank_of(&order), hash));
		}
	}

	/// The bytes an order's listing takes besides its presignature: the order and its key in
	/// the book. Its owner's deposit pays for them.
	pub(crate) fn listing_bytes(order: &Order<T>) -> usize {
		use codec::{Encode, MaxEncodedLen};
		// The book's key: a 16-byte hash of the market, the market, the rank and the hash.
		let book_key = 16 + Market::max_encoded_len() + 16 + 32;
		order.encoded_size().saturating_add(book_key)
	}

	/// The orders listed in `market` that can be matched in the next block, best first (see
	/// [`Pallet::rank_of`]), at most `limit` of them and never more than [`MAX_BOOK_PAGE`].
	/// Workerpool orders are listed only if they serve at least `min_trust`; other kinds
	/// ignore it.
	///
	/// Reads one listing per order it answers or skips; what it skips (used up or expired
	/// orders whose records are not pruned yet) the chain removes in idle time.
	pub fn order_book(market: Market, min_trust: u32, limit: u32) -> Vec<BookEntry<T>> {
		let limit = limit.min(MAX_BOOK_PAGE) as usize;
		OrderBook::<T>::iter_key_prefix((market,))
			.filter_map(|(_, hash)| Self::matchable_listing(hash))
			.filter(|entry| match &entry.order {
				Order::Workerpool(order) => order.trust >= min_trust,
				_ => true,
			})
			.take(limit)
			.collect()
	}

	/// The listing of order `hash`, if it can be matched in the next block.
	fn matchable_listing(hash: OrderHash) -> Option<BookEntry<T>> {
		let order = PublishedOrders::<T>::get(hash)?;
		let owner = Presigned::<T>::get(hash)?;
		let next_block = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		if !Self::matchable_in(order.expiry(), next_block) {
			return None;
		}
		let remaining = order.volume().saturating_sub(Consumed::<T>::get(hash));
		(remaining > 0).then_some(BookEntry { hash, owner, remaining, order })
	}

	/// Whether an order with `expiry` may be matched in block `block`: not expired by then, and
	/// not further than [`Config::MaxOrderLifetime`] ahead of it (governance may have shortened
	/// the lifetime since the order was presigned).
	fn matchable_in(expiry: Option<BlockNumberFor<T>>, block: BlockNumberFor<T>) -> bool {
		expiry.is_some_and(|last_block| {
			block <= last_block && last_block <= block.saturating_add(T::MaxOrderLifetime::get())
		})
	}

	/// Checks that the book lists exactly the presigned orders whose contents it keeps, each
	/// in its market at its rank.
	pub(crate) fn check_book() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut listings = 0usize;
		for ((market, rank, hash), ()) in OrderBook::<T>::iter() {
			let order = PublishedOrders::<T>::get(hash).ok_or("a listing has no order")?;
			ensure!(Self::market_of(&order) == market, "an order is listed in another market");
			ensure!(Self::rank_of(&order) == rank, "an order is listed at another rank");
			ensure!(Presigned::<T>::contains_key(hash), "a listed order is not presigned");
			ensure!(Self::any_order_hash(&order) == hash, "an order is listed under another hash");
			listings.saturating_inc();
		}
		ensure!(
			PublishedOrders::<T>::iter_keys().count() == listings,
			"an order's contents are kept without a listing"
		);
		Ok(())
	}
}
