//! The marketplace's runtime API: clients read deals and orders and compute order hashes and
//! signing payloads through it, so that no client re-implements the encoding.

use alloc::vec::Vec;
use codec::Codec;

use crate::types::{BookCursor, DealId, Market, OrderHash};

sp_api::decl_runtime_apis! {
	/// Reads of the marketplace. `Order`, `Deal` and `BookPage` are the runtime's
	/// `Order<Runtime>`, `Deal<Runtime>` and `BookPage<Runtime>`.
	///
	/// Version 2 added [`MarketplaceApi::order_book`].
	#[api_version(2)]
	pub trait MarketplaceApi<Order, Deal, BookPage>
	where
		Order: Codec,
		Deal: Codec,
		BookPage: Codec,
	{
		/// The deal with id `deal`, while it has unsettled tasks.
		fn deal(deal: DealId) -> Option<Deal>;

		/// How much of `order`'s volume can still be matched (0 once cancelled).
		fn remaining_volume(order: Order) -> u32;

		/// The hash of `order` on this chain.
		fn order_hash(order: Order) -> OrderHash;

		/// The bytes `order`'s owner signs on this chain.
		fn signing_payload(order: Order) -> Vec<u8>;

		/// A page of the presigned orders of `market` that anyone can match in the next block,
		/// best first (offers cheapest first, requests best-paying first), from the listing
		/// after `after`; workerpool orders only if they serve at least `min_trust`; at most
		/// `limit` and 1,000 orders, from at most 4,000 listings read. The page says where the
		/// next one starts.
		#[api_version(2)]
		fn order_book(
			market: Market,
			min_trust: u32,
			after: Option<BookCursor>,
			limit: u32,
		) -> BookPage;
	}
}
