//! The marketplace's runtime API: clients read deals and orders and compute order hashes and
//! signing payloads through it, so that no client re-implements the encoding.

use alloc::vec::Vec;
use codec::Codec;

use crate::types::{DealId, OrderHash};

sp_api::decl_runtime_apis! {
	/// Reads of the marketplace. `Order` and `Deal` are the runtime's `Order<Runtime>` and
	/// `Deal<Runtime>`.
	pub trait MarketplaceApi<Order, Deal>
	where
		Order: Codec,
		Deal: Codec,
	{
		/// The deal with id `deal`, while it has unsettled tasks.
		fn deal(deal: DealId) -> Option<Deal>;

		/// How much of `order`'s volume can still be matched (0 once cancelled).
		fn remaining_volume(order: Order) -> u32;

		/// The hash of `order` on this chain.
		fn order_hash(order: Order) -> OrderHash;

		/// The bytes `order`'s owner signs on this chain.
		fn signing_payload(order: Order) -> Vec<u8>;
	}
}
