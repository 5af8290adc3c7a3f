//! Removing settled tasks once clients had time to read them.
//!
//! A settled task keeps its result digest and location on chain for [`Config::TaskRetention`]
//! blocks, counted from the later of its settlement and its final deadline
//! ([`SettledTasks`]); then the idle-time pruning removes it. Waiting for the final deadline
//! matters: until then a task with no entry could be opened again by `initialize`, and be paid
//! twice; after it, nothing can open a task of that deal, and the sweep and `claim` treat a
//! missing task as settled. The results stay in the chain's history (`TaskFinalized` events).

use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

use crate::{Config, Pallet, SettledTasks, TaskId, TaskPruneCursor, Tasks, WeightInfo};

impl<T: Config> Pallet<T> {
	/// Queues settled `task` for removal once its retention has passed.
	pub(crate) fn queue_pruning(task: TaskId, final_deadline: BlockNumberFor<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let from = now.max(final_deadline).saturating_add(T::TaskRetention::get());
		SettledTasks::<T>::insert(from, task, ());
	}

	/// Removes the settled tasks whose retention has passed, within `limit`; returns the weight
	/// used.
	pub(crate) fn prune_settled_tasks(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let db = T::DbWeight::get();
		// Looking for the next task at the cursor's block, or moving the cursor on.
		let step = db.reads(1);
		let per_task = <T as Config>::WeightInfo::prune_task();
		let mut used = db.reads_writes(1, 1);
		let fits = |used: Weight, more: Weight| limit.all_gte(used.saturating_add(more));
		if !fits(used, step) {
			return Weight::zero();
		}

		let start = TaskPruneCursor::<T>::get();
		let mut cursor = start;
		while cursor <= now && fits(used, step) {
			used.saturating_accrue(step);
			let Some(task) = SettledTasks::<T>::iter_key_prefix(cursor).next() else {
				cursor.saturating_inc();
				continue;
			};
			if !fits(used, per_task) {
				break;
			}
			used.saturating_accrue(per_task);
			SettledTasks::<T>::remove(cursor, task);
			Tasks::<T>::remove(task);
		}
		if cursor != start {
			TaskPruneCursor::<T>::put(cursor);
		}
		used
	}
}
