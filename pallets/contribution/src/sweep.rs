//! The idle-time sweep: fails the tasks whose final deadline passed, so that payers are refunded
//! without anyone having to claim.
//!
//! Every deal is queued at its final deadline when it is made ([`ExpiringDeals`]). The sweep
//! walks the queue from [`SweepCursor`] up to the current block, one task at a time, while the
//! block's idle weight lasts: a task that is not settled fails; a settled one is skipped.

use frame_support::{pallet_prelude::*, storage::with_storage_layer, traits::Defensive};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_marketplace::Deals;
use sp_runtime::traits::Saturating;

use crate::{Config, ExpiringDeals, Failure, Pallet, SweepCursor, Tasks, WeightInfo};

impl<T: Config> Pallet<T> {
	/// Fails expired tasks within `limit`; returns the weight used.
	pub(crate) fn sweep_expired(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let db = T::DbWeight::get();
		// Reading the queue or moving the cursor, and the worst task's settlement.
		let step = db.reads_writes(1, 1);
		let task_weight =
			<T as Config>::WeightInfo::sweep_task(<T as Config>::MaxContributors::get());
		let mut used = db.reads_writes(1, 1);
		if !limit.all_gte(used.saturating_add(step)) {
			return Weight::zero();
		}

		let start = SweepCursor::<T>::get();
		let mut cursor = start;
		while cursor <= now && limit.all_gte(used.saturating_add(step).saturating_add(task_weight))
		{
			used.saturating_accrue(step);
			let Some((deal_id, offset)) = ExpiringDeals::<T>::iter_prefix(cursor).next() else {
				cursor.saturating_inc();
				continue;
			};
			let Some(deal) = Deals::<T>::get(deal_id) else {
				// Every task of the deal settled before its deadline.
				ExpiringDeals::<T>::remove(cursor, deal_id);
				continue;
			};
			if offset >= deal.volume {
				ExpiringDeals::<T>::remove(cursor, deal_id);
				continue;
			}

			used.saturating_accrue(task_weight);
			let index = deal.first_task.saturating_add(offset);
			let task = Self::task_id(&deal_id, index);
			let existing = Tasks::<T>::get(task);
			if !existing.as_ref().is_some_and(|entry| entry.status.is_settled()) {
				// Settling an unsettled task of a live deal cannot fail: its funds are held.
				let _ = with_storage_layer(|| {
					Self::fail(
						task,
						deal_id,
						index,
						existing,
						&deal,
						Failure::SweptAfterFinalDeadline,
					)
				})
				.defensive_proof("an expired task's funds are held in escrow");
			}
			let next = offset.saturating_add(1);
			if next >= deal.volume {
				ExpiringDeals::<T>::remove(cursor, deal_id);
			} else {
				ExpiringDeals::<T>::insert(cursor, deal_id, next);
			}
		}
		if cursor != start {
			SweepCursor::<T>::put(cursor);
		}
		used
	}
}
