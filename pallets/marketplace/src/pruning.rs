//! Removing the records of orders that have expired.
//!
//! The chain keeps two records per order: how much of its volume was consumed ([`Consumed`]),
//! which is what stops a signed order being matched twice, and its presignature ([`Presigned`]),
//! for which its owner holds a deposit. Once an order's expiry block has passed it can never be
//! matched again, so neither record serves any purpose: every order that gets a record is queued
//! at its expiry block ([`ExpiringOrders`]), and the idle-time pruning removes
//! both records after it, returning the presignature's deposit. The chain records nothing for an
//! order without an expiry, or whose expiry is more than [`Config::MaxOrderLifetime`] ahead (it
//! cannot be matched, presigned or cancelled until then), so no record lives longer than that.

use frame_support::{pallet_prelude::*, storage::with_storage_layer, traits::Defensive};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

use crate::{
	types::OrderHash, Config, Consumed, ExpiringOrders, OrderPruneCursor, Pallet, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// Whether an order with `expiry` may have records on chain: it has an expiry, at most
	/// [`Config::MaxOrderLifetime`] ahead.
	pub(crate) fn expiry_is_bounded(expiry: Option<BlockNumberFor<T>>) -> bool {
		let now = frame_system::Pallet::<T>::block_number();
		expiry
			.is_some_and(|last_block| last_block <= now.saturating_add(T::MaxOrderLifetime::get()))
	}

	/// Whether an order with `expiry` can no longer be matched.
	pub(crate) fn has_expired(expiry: Option<BlockNumberFor<T>>) -> bool {
		expiry.is_some_and(|last_block| frame_system::Pallet::<T>::block_number() > last_block)
	}

	/// Queues the records of order `hash` for removal after `expiry`, if it has one.
	pub(crate) fn record_expiry(hash: OrderHash, expiry: Option<BlockNumberFor<T>>) {
		if let Some(last_block) = expiry {
			ExpiringOrders::<T>::insert(last_block, hash, ());
		}
	}

	/// Removes the records of orders whose expiry block has passed, within `limit`; returns the
	/// weight used.
	pub(crate) fn prune_expired_orders(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let db = T::DbWeight::get();
		// Looking for the next order at the cursor's block, or moving the cursor on.
		let step = db.reads(1);
		let per_order = T::WeightInfo::prune_expired_order();
		let mut used = db.reads_writes(1, 1);
		let fits = |used: Weight, more: Weight| limit.all_gte(used.saturating_add(more));
		if !fits(used, step) {
			return Weight::zero();
		}

		let start = OrderPruneCursor::<T>::get();
		let mut cursor = start;
		// An order expiring at block `cursor` may still be matched in that block.
		while cursor < now && fits(used, step) {
			used.saturating_accrue(step);
			let Some(hash) = ExpiringOrders::<T>::iter_key_prefix(cursor).next() else {
				cursor.saturating_inc();
				continue;
			};
			if !fits(used, per_order) {
				break;
			}
			used.saturating_accrue(per_order);
			ExpiringOrders::<T>::remove(cursor, hash);
			Consumed::<T>::remove(hash);
			// The deposit was held when the order was presigned.
			let _ = with_storage_layer(|| Self::release_presignature(hash))
				.defensive_proof("a presignature's deposit is held until it is released");
		}
		if cursor != start {
			OrderPruneCursor::<T>::put(cursor);
		}
		used
	}
}
