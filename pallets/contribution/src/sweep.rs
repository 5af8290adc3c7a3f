//! The idle-time sweep: settles the tasks whose final deadline passed, so that payers are refunded
//! and revealed results paid out without anyone having to claim.
//!
//! Every deal is queued at its final deadline when it is made ([`ExpiringDeals`]). The sweep
//! walks the queue from [`SweepCursor`] up to the current block while the block's idle weight
//! lasts. For each deal it first fails, in one step, every task nobody opened
//! ([`UnopenedTasks`]); then it looks at the opened ones in turn: a task with a revealed result
//! is finalized with it, any other unsettled one fails, a settled one is skipped.
//!
//! Each step is charged what it costs: a look at a settled or missing task one read, a
//! settlement the benchmark of its kind at its number of contributors. Since a deal has at most
//! `MaxDealVolume` tasks and its unopened ones cost one step together, no deal holds the sweep
//! up for more than that many task settlements, and a task nobody opened never costs a write.

use frame_support::{pallet_prelude::*, storage::with_storage_layer, traits::Defensive};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_marketplace::Deals;
use sp_runtime::traits::Saturating;

use crate::{
	Config, ExpiringDeals, Failure, Pallet, SweepCursor, Tasks, UnopenedTasks, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// Settles expired tasks within `limit`; returns the weight used.
	pub(crate) fn sweep_expired(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let db = T::DbWeight::get();
		// Reading the queue, the deal and its unopened count, or moving the cursor.
		let step = db.reads_writes(3, 1);
		let mut used = db.reads_writes(1, 1);
		let fits = |used: Weight, more: Weight| limit.all_gte(used.saturating_add(more));
		if !fits(used, step) {
			return Weight::zero();
		}

		let start = SweepCursor::<T>::get();
		let mut cursor = start;
		while cursor <= now && fits(used, step) {
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

			if UnopenedTasks::<T>::contains_key(deal_id) {
				let weight = <T as Config>::WeightInfo::sweep_task(0);
				if !fits(used, weight) {
					break;
				}
				used.saturating_accrue(weight);
				// The unopened tasks' funds are held for the live deal.
				let failed = with_storage_layer(|| {
					Self::fail_unopened(deal_id, &deal, Failure::SweptAfterFinalDeadline)
				})
				.defensive_proof("a live deal's unopened tasks are paid for in escrow");
				if failed.is_err() {
					// Retried next block rather than spinning on it in this one.
					break;
				}
				continue;
			}
			if offset >= deal.volume {
				ExpiringDeals::<T>::remove(cursor, deal_id);
				continue;
			}

			let index = deal.first_task.saturating_add(offset);
			let task = Self::task_id(&deal_id, index);
			used.saturating_accrue(db.reads(1));
			if let Some(entry) = Tasks::<T>::get(task).filter(|entry| !entry.status.is_settled()) {
				let weight =
					Self::expired_settlement_weight(&entry, Failure::SweptAfterFinalDeadline);
				if !fits(used, weight) {
					break;
				}
				used.saturating_accrue(weight);
				// Settling an unsettled task of a live deal cannot fail: its funds are held.
				let _ = with_storage_layer(|| {
					Self::settle_expired(task, entry, &deal, Failure::SweptAfterFinalDeadline)
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
