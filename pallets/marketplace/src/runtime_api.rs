//! The marketplace's runtime API: clients read deals and orders and compute order hashes and
//! signing payloads through it, so that no client re-implements the encoding.

use alloc::vec::Vec;
use codec::Codec;

use crate::types::{DealId, Market, OrderHash};

sp_api::decl_runtime_apis! {
	/// Reads of the marketplace. `Order`, `Deal` and `BookEntry` are the runtime's
	/// `Order<Runtime>`, `Deal<Runtime>` and `BookEntry<Runtime>`.
	///
	/// Version 2 added [`MarketplaceApi::order_book`].
	#[api_version(2)]
	pub trait MarketplaceApi<Order, Deal, BookEntry>
	where
		Order: Codec,
		Deal: Codec,
		BookEntry: Codec,
	{
		/// The deal with id `deal`, while it has unsettled tasks.
		fn deal(deal: DealId) -> Option<Deal>;

		/// How much of `order`'s volume can still be matched (0 once cancelled).
		fn remaining_volume(order: Order) -> u32;

		/// The hash of `order` on this chain.
		fn order_hash(order: Order) -> OrderHash;

		/// The bytes `order`'s owner signs on this chain.
		fn signing_payload(order: Order) -> Vec<u8>;

		/// The presigned orders of `market` that can be matched in the next block, best first
		/// (offers cheapest first, requests best-paying first), workerpool orders only if they
		/// serve at least `min_trust`; at most `limit`, and at most 1,000.
		#[api_version(2)]
		fn order_book(market: Market, min_trust: u32, limit: u32) -> Vec<BookEntry>;
	}
}
