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
//! A query answers only what anyone holding the book can match, and reads a bounded number of
//! listings whatever is in the book, answering with where to go on ([`BookPage::next`]): orders
//! nobody can match (their presigner handed over what they sell, or they are expired and not
//! pruned yet) cost their owner a deposit each and cannot make a query unbounded.
//!
//! Orders that are only signed (not presigned) are not listed: their owners hand them to whoever
//! matches them, as in iExec. Orders presigned before the book existed have no contents on chain
//! and are not listed either; they are matched all the same until they expire.

use alloc::vec::Vec;
use frame_support::{ensure, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto};

use crate::{types::*, Config, Consumed, OrderBook, Pallet, Presigned, PublishedOrders};

/// The most listings one [`Pallet::order_book`] answer holds.
pub const MAX_BOOK_PAGE: u32 = 1_000;

/// The most listings one [`Pallet::order_book`] call reads, answered or not.
pub const MAX_BOOK_SCAN: u32 = 4 * MAX_BOOK_PAGE;

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

	/// The bytes an order's listing takes besides its presignature: the order and the keys it
	/// is stored under. Its owner's deposit pays for them.
	pub(crate) fn listing_bytes(order: &Order<T>) -> usize {
		use codec::{Encode, MaxEncodedLen};
		// The book's key: a 16-byte hash of the market, the market, the rank and the hash; and
		// the hash again, as the key of the order's contents.
		let book_key = 16 + Market::max_encoded_len() + 16 + 32;
		order.encoded_size().saturating_add(book_key).saturating_add(32)
	}

	/// A page of the listings of `market` that can be matched in the next block, best first
	/// (see [`Pallet::rank_of`]): at most `limit` of them (and never more than
	/// [`MAX_BOOK_PAGE`]), read from the listing after `after` (from the best without one).
	/// Workerpool orders are answered only if they serve at least `min_trust`; other kinds
	/// ignore it.
	///
	/// A listing is answered if its order can be matched by anyone holding the book: its
	/// presigner still owns what it sells, it has volume left, it is within its expiry and the
	/// lifetime, and, for a request, its requester pays (a sponsor's signature is not on chain).
	/// One call reads at most [`MAX_BOOK_SCAN`] listings, answered or not, so that listings
	/// nobody can match cannot make it unbounded: [`BookPage::next`] says where to go on.
	pub fn order_book(
		market: Market,
		min_trust: u32,
		after: Option<BookCursor>,
		limit: u32,
	) -> BookPage<T> {
		let limit = limit.min(MAX_BOOK_PAGE) as usize;
		let listings = match after {
			None => OrderBook::<T>::iter_key_prefix((market,)),
			Some((rank, hash)) => OrderBook::<T>::iter_key_prefix_from(
				(market,),
				OrderBook::<T>::hashed_key_for((market, rank, hash)),
			),
		};
		let mut page = BookPage { entries: Vec::new(), next: None };
		if limit == 0 {
			return page;
		}
		for (read, (rank, hash)) in (1..).zip(listings) {
			page.entries.extend(Self::matchable_listing(hash, min_trust));
			if page.entries.len() == limit || read == MAX_BOOK_SCAN {
				page.next = Some((rank, hash));
				break;
			}
		}
		page
	}

	/// The listing of order `hash`, if anyone holding the book can match it in the next block
	/// and, for a workerpool order, it serves at least `min_trust`.
	fn matchable_listing(hash: OrderHash, min_trust: u32) -> Option<BookEntry<T>> {
		let order = PublishedOrders::<T>::get(hash)?;
		let next_block = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		let answered = match &order {
			Order::Workerpool(order) => order.trust >= min_trust,
			Order::Request(order) => order.payer == Payer::Requester,
			_ => true,
		};
		if !answered || !Self::matchable_in(order.expiry(), next_block) {
			return None;
		}
		let owner = Presigned::<T>::get(hash)?;
		if Self::owner_of(&order).ok().as_ref() != Some(&owner) {
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
