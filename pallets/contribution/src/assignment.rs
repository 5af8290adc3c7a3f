//! Who works on a task: the scheduler key assigns workers ([`Pallet::assign`]), silent ones
//! lose their places, and a task whose winners all failed to reveal is reopened
//! ([`Pallet::reopen`]).

use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use pallet_marketplace::{Deal, PoolMembers};
use sp_runtime::traits::Saturating;

use pallet_marketplace::DealTasks;

use crate::{types::Task, *};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_assign(
		caller: T::AccountId,
		task: TaskId,
		workers: BoundedVec<T::AccountId, T::MaxContributors>,
	) -> DispatchResultWithPostInfo {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		Self::ensure_scheduler(&caller, &deal)?;
		ensure!(entry.status == TaskStatus::Active, Error::<T>::TaskNotActive);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < entry.contribution_deadline, Error::<T>::ContributionDeadlinePassed);
		ensure!(!workers.is_empty(), Error::<T>::NoWorkers);
		let replaced = Self::replace_silent_workers(task, &mut entry, &deal, now);

		let requirement = Self::enclave_requirement(&deal);
		Self::add_workers(&mut entry, &deal, &workers, requirement.as_ref(), now)?;
		Tasks::<T>::insert(task, entry);
		let weight = <T as Config>::WeightInfo::assign(workers.len() as u32, replaced);
		Self::deposit_event(Event::WorkersAssigned { task, workers });
		Ok(Some(weight).into())
	}

	/// Opens the tasks `tasks` names of `deal_id` and assigns each its workers, for the deal's
	/// scheduler; returns what the call cost (see [`Pallet::open_and_assign`]).
	pub(crate) fn do_open_and_assign(
		caller: T::AccountId,
		deal_id: DealId,
		tasks: BoundedVec<
			(u32, BoundedVec<T::AccountId, T::MaxContributors>),
			T::MaxInitializeBatch,
		>,
	) -> DispatchResultWithPostInfo {
		let deal = Deals::<T>::get(deal_id).ok_or(Error::<T>::UnknownDeal)?;
		Self::ensure_scheduler(&caller, &deal)?;
		let deadlines = Self::deadlines(&deal)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < deadlines.contribution, Error::<T>::ContributionDeadlinePassed);
		let requirement = Self::enclave_requirement(&deal);
		let count = tasks.len() as u32;
		// The workers of the tasks opened, assigned or left out: each was read.
		let mut listed = 0u32;
		let mut unopened = UnopenedTasks::<T>::get(deal_id);
		for (index, workers) in tasks {
			ensure!(Self::has_task(&deal, index), Error::<T>::TaskIndexOutOfRange);
			let task = Self::task_id(&deal_id, index);
			if Tasks::<T>::contains_key(task) {
				continue;
			}
			unopened = unopened.checked_sub(1).ok_or(Error::<T>::TaskSettled)?;
			let mut entry = Self::new_task(deal_id, index, &deadlines);
			listed.saturating_accrue(workers.len() as u32);
			for worker in &workers {
				// A worker that left the pool or lost its enclave since the scheduler chose it
				// is left out rather than failing the batch: otherwise any one chosen worker,
				// told of its task before the call lands, could keep a deal's tasks unopened.
				// The scheduler assigns another to the open task.
				if let Ok(enclave) = Self::fit_worker(worker, &deal, requirement.as_ref()) {
					Self::add_worker(&mut entry, worker, enclave, now)?;
				}
			}
			let assigned = entry.assigned.clone();
			Tasks::<T>::insert(task, entry);
			Self::deposit_event(Event::TaskInitialized { task, deal: deal_id, index });
			if !assigned.is_empty() {
				Self::deposit_event(Event::WorkersAssigned { task, workers: assigned });
			}
		}
		Self::set_unopened(&deal_id, unopened);
		Ok(Some(Self::open_and_assign_weight(count, listed, requirement.is_some())).into())
	}

	/// What `open_and_assign` costs for `tasks` tasks and `workers` assignments, in a TEE deal
	/// (`in_tee`: each worker's enclave checked) or not.
	pub(crate) fn open_and_assign_weight(tasks: u32, workers: u32, in_tee: bool) -> Weight {
		let plain = <T as Config>::WeightInfo::open_and_assign(tasks, workers);
		if in_tee {
			// It does all the plain call does, and checks enclaves.
			<T as Config>::WeightInfo::open_and_assign_in_tee(tasks, workers).max(plain)
		} else {
			plain
		}
	}

	/// Adds `workers` to `entry`'s assigned workers at block `now`: each a member of the deal's
	/// pool that declared every capability of its tag, not assigned already and, for a TEE deal
	/// (`requirement`), with an enclave the app allows, which is pinned now.
	fn add_workers(
		entry: &mut Task<T>,
		deal: &Deal<T>,
		workers: &[T::AccountId],
		requirement: Option<&EnclaveRequirement>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		for worker in workers {
			let enclave = Self::fit_worker(worker, deal, requirement)?;
			Self::add_worker(entry, worker, enclave, now)?;
		}
		Ok(())
	}

	/// Whether `worker` may take a task of `deal`: a member of its pool that declared every
	/// capability of its tag and, for a TEE deal (`requirement`), with an enclave the app
	/// allows, which it returns to be pinned.
	fn fit_worker(
		worker: &T::AccountId,
		deal: &Deal<T>,
		requirement: Option<&EnclaveRequirement>,
	) -> Result<Option<PinnedEnclave>, Error<T>> {
		let membership =
			PoolMembers::<T>::get(deal.workerpool.id, worker).ok_or(Error::<T>::NotPoolMember)?;
		ensure!(deal.tag & !membership.capabilities == 0, Error::<T>::WorkerLacksCapabilities);
		requirement
			.map(|requirement| {
				Self::allowed_enclave(worker, deal, requirement)
					.ok_or(Error::<T>::EnclaveNotAllowed)
			})
			.transpose()
	}

	/// Assigns `worker` to `entry` at block `now`, pinning `enclave` (a TEE deal's).
	fn add_worker(
		entry: &mut Task<T>,
		worker: &T::AccountId,
		enclave: Option<PinnedEnclave>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		ensure!(!entry.assigned.contains(worker), Error::<T>::AlreadyAssigned);
		if let Some(enclave) = enclave {
			// The enclave is pinned now: results and the dataset's key are for it alone.
			entry
				.enclaves
				.try_push((worker.clone(), enclave))
				.map_err(|_| Error::<T>::TooManyWorkers)?;
		}
		entry
			.assigned
			.try_push(worker.clone())
			.map_err(|_| Error::<T>::TooManyWorkers)?;
		// Assigned workers and their blocks are bounded alike.
		entry.assigned_at.try_push(now).map_err(|_| Error::<T>::TooManyWorkers)?;
		Ok(())
	}

	pub(crate) fn do_reopen(caller: T::AccountId, task: TaskId) -> DispatchResultWithPostInfo {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		Self::ensure_scheduler(&caller, &deal)?;
		ensure!(entry.status == TaskStatus::Revealing, Error::<T>::TaskNotRevealing);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < entry.final_deadline, Error::<T>::FinalDeadlinePassed);
		ensure!(
			entry.reveal_deadline.is_some_and(|deadline| deadline <= now),
			Error::<T>::RevealWindowOpen
		);
		ensure!(entry.reveals == 0, Error::<T>::AlreadyRevealed);

		let rejected_hash = entry.consensus.take().ok_or(Error::<T>::TaskNotRevealing)?;
		let mut rejected = 0u32;
		for contribution in entry.contributions.iter_mut() {
			if contribution.result_hash == rejected_hash
				&& contribution.status == ContributionStatus::Contributed
			{
				contribution.status = ContributionStatus::Rejected;
				rejected.saturating_inc();
			}
		}
		entry.tally.remove_group(&rejected_hash);
		entry.status = TaskStatus::Active;
		entry.reveal_deadline = None;
		entry.winners = 0;
		// A worker that had not voted could not while the task was revealing: its time to
		// answer starts again now, so that it is not taken for silent.
		let Task { assigned, assigned_at, contributions, .. } = &mut entry;
		for (worker, at) in assigned.iter().zip(assigned_at.iter_mut()) {
			if !contributions.iter().any(|contribution| contribution.worker == *worker) {
				*at = now;
			}
		}
		let contributors = entry.contributions.len() as u32;
		Tasks::<T>::insert(task, entry);
		Self::deposit_event(Event::TaskReopened { task, rejected });
		Ok(Some(<T as Config>::WeightInfo::reopen(contributors)).into())
	}

	/// Takes the places of `entry`'s silent workers (see [`Task::silent_workers`]) and returns
	/// how many there were; cuts each
	/// one's score in the deal's pool to two thirds, as for a wrong vote, and takes its place in
	/// the pool: a worker that takes a task and never answers holds up its consensus and would
	/// otherwise lose nothing, and a newcomer has no score to lose. It may join again (a paid
	/// call), once it is back.
	pub(crate) fn replace_silent_workers(
		task: TaskId,
		entry: &mut Task<T>,
		deal: &Deal<T>,
		now: BlockNumberFor<T>,
	) -> u32 {
		let silent = entry.silent_workers(now);
		let replaced = silent.len() as u32;
		for worker in silent {
			if let Some(position) = entry.assigned.iter().position(|assigned| *assigned == worker) {
				entry.assigned.remove(position);
				entry.assigned_at.remove(position);
			}
			entry.dataset_keys.retain(|(keyed, _)| *keyed != worker);
			entry.enclaves.retain(|(pinned, _)| *pinned != worker);
			let score = Self::cut_score(deal.workerpool.id, &worker);
			T::Market::expel_silent_member(deal.workerpool.id, &worker);
			Self::deposit_event(Event::SilentWorkerReplaced { task, worker, score });
		}
		replaced
	}

	/// Checks that `caller` schedules the deal's pool: the pool names it and it accepted.
	pub(crate) fn ensure_scheduler(caller: &T::AccountId, deal: &Deal<T>) -> DispatchResult {
		ensure!(
			pallet_marketplace::Pallet::<T>::active_scheduler(deal.workerpool.id).as_ref()
				== Some(caller),
			Error::<T>::NotScheduler
		);
		Ok(())
	}
}
