//! What must hold between blocks ([`Pallet::do_try_state`]): stakes against votes, deals
//! against their tasks, tallies against voters' weights, scores without zeros.

use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use pallet_escrow::{Escrow, Purpose};
use pallet_marketplace::{DealId, Deals};
use sp_runtime::traits::{Saturating, Zero};

use crate::{types::Task, *};

impl<T: Config> Pallet<T> {
	/// Checks that the stakes held for workers are exactly those of unsettled tasks'
	/// contributions, that every live deal's unsettled count matches its unsettled opened tasks
	/// and its unopened ones, that every vote
	/// tally is the product of its voters' weights, and that scores are kept without zeros.
	///
	/// Compiled in every build, so that tests can call it after every step.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;

		let mut stakes = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		let mut unsettled_per_deal = BTreeMap::<DealId, u32>::new();
		let mut opened_per_deal = BTreeMap::<DealId, u32>::new();
		let mut queued = BTreeMap::<TaskId, BlockNumberFor<T>>::new();
		for (from, task, ()) in SettledTasks::<T>::iter() {
			ensure!(queued.insert(task, from).is_none(), "a task is queued for pruning twice");
		}
		for (task, entry) in Tasks::<T>::iter() {
			ensure!(
				Self::task_id(&entry.deal, entry.index) == task,
				"a task is stored under another id"
			);
			opened_per_deal.entry(entry.deal).or_default().saturating_inc();
			if entry.status.is_settled() {
				ensure!(entry.dataset_keys.is_empty(), "a settled task keeps dataset keys");
				let from =
					queued.remove(&task).ok_or("a settled task is not queued for pruning")?;
				// Not `final_deadline + TaskRetention`: governance may lengthen the retention
				// after a task was queued with the one of its day.
				ensure!(
					from > entry.final_deadline,
					"a settled task would be pruned before its final deadline passed"
				);
				continue;
			}
			unsettled_per_deal.entry(entry.deal).or_default().saturating_inc();
			ensure!(
				entry.dataset_keys.iter().all(|(worker, _)| entry.assigned.contains(worker)),
				"a dataset key was released to a worker not assigned"
			);
			ensure!(
				entry.dataset_keys.iter().all(|(worker, sealed)| {
					entry
						.enclave_of(worker)
						.is_some_and(|pinned| pinned.encryption == sealed.recipient)
				}),
				"a dataset key was sealed to another enclave than its worker was assigned with"
			);
			ensure!(
				entry.enclaves.iter().all(|(worker, _)| entry.assigned.contains(worker)),
				"an enclave is pinned for a worker not assigned"
			);
			ensure!(
				entry.assigned_at.len() == entry.assigned.len(),
				"a task's assigned workers and their blocks differ in number"
			);
			ensure!(Deals::<T>::contains_key(entry.deal), "an unsettled task has no deal");
			for contribution in &entry.contributions {
				ensure!(
					entry.assigned.contains(&contribution.worker),
					"a contributor was not assigned"
				);
				let held = stakes.entry(contribution.worker.clone()).or_default();
				*held = held.saturating_add(contribution.stake);
			}
			Self::check_tally(&entry)?;
		}

		let mut total = BalanceOf::<T>::zero();
		for (worker, stake) in &stakes {
			ensure!(
				T::Escrow::locked(worker, Purpose::WorkerStake) == *stake,
				"a worker's held stake differs from its contributions"
			);
			total = total.saturating_add(*stake);
		}
		ensure!(
			T::Escrow::total_locked(Purpose::WorkerStake) == total,
			"held worker stakes differ from the contributions of unsettled tasks"
		);

		ensure!(queued.is_empty(), "a task queued for pruning is not a stored settled task");

		let now = frame_system::Pallet::<T>::block_number();
		for (deal_id, deal) in Deals::<T>::iter() {
			let unsettled = unsettled_per_deal.get(&deal_id).copied().unwrap_or_default();
			let opened = opened_per_deal.get(&deal_id).copied().unwrap_or_default();
			let unopened = UnopenedTasks::<T>::get(deal_id);
			ensure!(
				deal.unsettled == unsettled.saturating_add(unopened),
				"a deal's unsettled count differs from its unsettled and unopened tasks"
			);
			let final_deadline = Self::deadlines(&deal)?.settlement;
			// Settled tasks are pruned only after the final deadline, so none is missing before.
			ensure!(
				opened.saturating_add(unopened) == deal.volume || now >= final_deadline,
				"a deal's tasks are neither opened nor counted as unopened before its deadline"
			);
			ensure!(
				ExpiringDeals::<T>::contains_key(final_deadline, deal_id),
				"a live deal is not queued for its expiry"
			);
		}
		for (deal_id, unopened) in UnopenedTasks::<T>::iter() {
			ensure!(unopened > 0, "a zero count of unopened tasks is stored");
			ensure!(Deals::<T>::contains_key(deal_id), "a settled deal keeps unopened tasks");
		}
		for (_, _, score) in Scores::<T>::iter() {
			ensure!(score > 0, "a zero score is stored");
		}
		Ok(())
	}

	/// Each group is the product of its live voters' weights, the total is one more than the
	/// groups' sum, and a revealing task's counters agree with its contributions.
	pub(crate) fn check_tally(entry: &Task<T>) -> Result<(), sp_runtime::TryRuntimeError> {
		use consensus::VoteWeight;

		let live = || {
			entry
				.contributions
				.iter()
				.filter(|contribution| contribution.status != ContributionStatus::Rejected)
		};
		let mut sum = VoteWeight::zero();
		for (hash, group) in entry.tally.groups() {
			let product = live()
				.filter(|contribution| contribution.result_hash == hash)
				.fold(VoteWeight::one(), |product, contribution| {
					product.saturating_mul(contribution.weight.into())
				});
			ensure!(group == product, "a group is not its voters' product of weights");
			sum = sum.saturating_add(group);
		}
		ensure!(entry.tally.total() == sum + 1, "a tally's total is not 1 + its groups");
		ensure!(
			live().all(|contribution| entry.tally.group(&contribution.result_hash) > 0.into()),
			"a vote is missing from its tally"
		);
		if entry.status == TaskStatus::Revealing {
			let consensus = entry.consensus.ok_or("a revealing task has no consensus")?;
			let winners = live().filter(|contribution| contribution.result_hash == consensus);
			ensure!(winners.clone().count() as u32 == entry.winners, "wrong winner count");
			let proved = winners
				.filter(|contribution| contribution.status == ContributionStatus::Revealed)
				.count() as u32;
			ensure!(proved == entry.reveals, "wrong reveal count");
		}
		Ok(())
	}
}
