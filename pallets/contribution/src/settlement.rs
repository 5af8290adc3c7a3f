//! Where a task's money goes when it settles: the reference protocol's `successWork`,
//! `distributeRewards`, `distributeRewardsFast` and `failedWork` (iExec PoCo §5.2), moved through
//! the escrow pallet.

use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use pallet_escrow::{Escrow, Purpose, Subject};
use pallet_marketplace::{Deal, DealId};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{SaturatedConversion, Saturating, Zero},
	Percent, Rounding,
};

use pallet_marketplace::DealTasks;

use crate::{
	consensus, types::Task, BalanceOf, Config, Contribution, ContributionStatus, Event, Failure,
	Finalization, Pallet, Scores, TaskId, TaskStatus, Tasks, UnopenedTasks, WeightInfo,
};

/// Held funds that pay a task's rewards: the payer's pool price, then the losers' stakes, drawn
/// in that order.
struct RewardFunds<T: Config> {
	sources: Vec<(T::AccountId, Purpose, BalanceOf<T>)>,
	task: TaskId,
}

impl<T: Config> RewardFunds<T> {
	/// Pays `amount` to `to` from the sources, in order.
	fn pay(&mut self, to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut owed = amount;
		for (from, purpose, available) in self.sources.iter_mut() {
			if owed.is_zero() {
				break;
			}
			let part = owed.min(*available);
			T::Escrow::pay(from, *purpose, to, part, self.task)?;
			*available = available.saturating_sub(part);
			owed = owed.saturating_sub(part);
		}
		// The rewards add up to the funds by construction.
		ensure!(owed.is_zero(), DispatchError::Other("task rewards exceed the task's funds"));
		Ok(())
	}
}

/// `amount × numerator / denominator`, rounded down, as the reference's `mulDiv`.
fn share_of<T: Config>(amount: BalanceOf<T>, numerator: u32, denominator: u32) -> BalanceOf<T> {
	multiply_by_rational_with_rounding(
		amount.saturated_into::<u128>(),
		numerator.into(),
		denominator.max(1).into(),
		Rounding::Down,
	)
	.unwrap_or_default()
	.saturated_into()
}

/// What the workers of a task share: `amount × (100 % - the pool owner's ratio)`, rounded down.
fn workers_part<T: Config>(amount: BalanceOf<T>, owner_ratio: Percent) -> BalanceOf<T> {
	Percent::from_parts(100u8.saturating_sub(owner_ratio.deconstruct())).mul_floor(amount)
}

impl<T: Config> Pallet<T> {
	/// Finalizes `entry` with its revealed result: pays everyone, updates scores, settles it.
	pub(crate) fn complete(
		task: TaskId,
		entry: Task<T>,
		deal: &Deal<T>,
		reason: Finalization,
	) -> DispatchResult {
		Self::pay_owners(deal, 1, task)?;
		match reason {
			Finalization::SingleContribution => {
				let worker = entry.contributions.first().map(|vote| &vote.worker);
				Self::pay_single_worker_rewards(deal, worker, 1, task)?;
				Self::note_single_worker_rewards(task, worker, deal);
			}
			_ => Self::reward_replicated(task, &entry, deal)?,
		}
		let deal_id = entry.deal;
		Self::store_completed(task, entry, reason);
		T::Market::settle_tasks(&deal_id, 1);
		Ok(())
	}

	/// Finalizes `completed`, trust-1 tasks of `deal_id` whose single result `worker` recorded in
	/// one batch: each as [`Self::complete`] would, with the money of all of them moved once
	/// per payee (the movements name the deal, the events each task).
	pub(crate) fn complete_single_batch(
		deal_id: DealId,
		deal: &Deal<T>,
		worker: &T::AccountId,
		completed: Vec<(TaskId, Task<T>)>,
	) -> DispatchResult {
		let count = completed.len() as u32;
		Self::pay_owners(deal, count, deal_id)?;
		Self::pay_single_worker_rewards(deal, Some(worker), count, deal_id)?;
		for (task, entry) in completed {
			Self::note_single_worker_rewards(task, Some(worker), deal);
			Self::store_completed(task, entry, Finalization::SingleContribution);
		}
		T::Market::settle_tasks(&deal_id, count);
		Ok(())
	}

	/// Stores `entry` as completed with its result, queued for pruning, and says so.
	fn store_completed(task: TaskId, mut entry: Task<T>, reason: Finalization) {
		entry.status = TaskStatus::Completed;
		entry.dataset_keys.clear();
		let deal = entry.deal;
		let digest = entry.result_digest.unwrap_or_default();
		let location = entry.result_location.clone();
		Self::queue_pruning(task, entry.final_deadline);
		Tasks::<T>::insert(task, entry);
		Self::deposit_event(Event::TaskFinalized { task, deal, digest, location, reason });
	}

	/// Fails `entry`: refunds the payer, gives the pool owner's stake to the kitty, returns
	/// every contributor's stake.
	pub(crate) fn fail(
		task: TaskId,
		mut entry: Task<T>,
		deal: &Deal<T>,
		reason: Failure,
	) -> DispatchResult {
		T::Escrow::unlock(&deal.payer, Purpose::DealPayment, deal.task_price(), task)?;
		T::Escrow::seize(
			&deal.workerpool.owner,
			Purpose::PoolOwnerStake,
			deal.pool_owner_stake,
			task,
		)?;
		for contribution in &entry.contributions {
			Self::return_stake(task, contribution)?;
		}
		entry.status = TaskStatus::Failed;
		entry.dataset_keys.clear();
		let deal_id = entry.deal;
		Self::queue_pruning(task, entry.final_deadline);
		Tasks::<T>::insert(task, entry);
		T::Market::settle_tasks(&deal_id, 1);
		Self::deposit_event(Event::TaskFailed { task, deal: deal_id, reason });
		Ok(())
	}

	/// Fails every task of `deal_id` that nobody opened, in one step whatever their number:
	/// refunds the payer their price and gives the pool owner's stakes on them to the kitty.
	/// Called only after the deal's final deadline, when no task can be opened any more.
	pub(crate) fn fail_unopened(
		deal_id: DealId,
		deal: &Deal<T>,
		reason: Failure,
	) -> DispatchResult {
		let count = UnopenedTasks::<T>::take(deal_id);
		if count == 0 {
			return Ok(());
		}
		let tasks = BalanceOf::<T>::from(count);
		T::Escrow::unlock(
			&deal.payer,
			Purpose::DealPayment,
			deal.task_price().saturating_mul(tasks),
			deal_id,
		)?;
		T::Escrow::seize(
			&deal.workerpool.owner,
			Purpose::PoolOwnerStake,
			deal.pool_owner_stake.saturating_mul(tasks),
			deal_id,
		)?;
		T::Market::settle_tasks(&deal_id, count);
		Self::deposit_event(Event::UnopenedTasksFailed { deal: deal_id, count, reason });
		Ok(())
	}

	/// Settles `entry` after its final deadline: a task with a revealed result is finalized
	/// with it (its reveal window closed before the final deadline), any other fails.
	pub(crate) fn settle_expired(
		task: TaskId,
		entry: Task<T>,
		deal: &Deal<T>,
		reason: Failure,
	) -> Result<Weight, DispatchError> {
		let weight = Self::expired_settlement_weight(&entry, reason);
		if Self::has_revealed_result(&entry) {
			Self::complete(task, entry, deal, Finalization::RevealDeadlinePassed)?;
		} else {
			Self::fail(task, entry, deal, reason)?;
		}
		Ok(weight)
	}

	/// What [`Self::settle_expired`] costs for `entry`, from the benchmark of the same work.
	pub(crate) fn expired_settlement_weight(entry: &Task<T>, reason: Failure) -> Weight {
		let contributors = entry.contributions.len() as u32;
		if Self::has_revealed_result(entry) {
			<T as Config>::WeightInfo::finalize(contributors)
		} else {
			match reason {
				Failure::ClaimedAfterFinalDeadline => {
					<T as Config>::WeightInfo::claim(contributors)
				}
				Failure::SweptAfterFinalDeadline => {
					<T as Config>::WeightInfo::sweep_task(contributors)
				}
			}
		}
	}

	/// The most [`Self::settle_expired`] or [`Self::fail_unopened`] may cost when claimed.
	pub fn settle_expired_weight(contributors: u32) -> Weight {
		<T as Config>::WeightInfo::claim(contributors)
			.max(<T as Config>::WeightInfo::finalize(contributors))
	}

	fn has_revealed_result(entry: &Task<T>) -> bool {
		entry.status == TaskStatus::Revealing && entry.reveals > 0
	}

	/// `successWork` for `count` tasks of `deal`: the app's and dataset's owners are paid and the
	/// pool owner's stake is released, each in one movement naming `subject`. Unlike the
	/// reference, the pool owner earns no kitty share: see the escrow pallet's design.
	fn pay_owners(deal: &Deal<T>, count: u32, subject: Subject) -> DispatchResult {
		let count = BalanceOf::<T>::from(count);
		let payer = &deal.payer;
		let app_price = deal.app.price.saturating_mul(count);
		T::Escrow::pay(payer, Purpose::DealPayment, &deal.app.owner, app_price, subject)?;
		if let Some(dataset) = &deal.dataset {
			let dataset_price = dataset.price.saturating_mul(count);
			T::Escrow::pay(payer, Purpose::DealPayment, &dataset.owner, dataset_price, subject)?;
		}
		T::Escrow::unlock(
			&deal.workerpool.owner,
			Purpose::PoolOwnerStake,
			deal.pool_owner_stake.saturating_mul(count),
			subject,
		)
	}

	/// `distributeRewards`: winners who revealed share the pool price and the others' stakes by
	/// `floor(log2(weight))`; the pool owner gets its ratio and the rounding remainder.
	fn reward_replicated(task: TaskId, entry: &Task<T>, deal: &Deal<T>) -> DispatchResult {
		let pool_price = deal.workerpool.price;
		let mut funds = RewardFunds::<T> {
			sources: alloc::vec![(deal.payer.clone(), Purpose::DealPayment, pool_price)],
			task,
		};
		let mut total_reward = pool_price;
		let mut total_shares = 0u32;
		for contribution in &entry.contributions {
			if contribution.status == ContributionStatus::Revealed {
				Self::return_stake(task, contribution)?;
				total_shares =
					total_shares.saturating_add(consensus::reward_share(contribution.weight));
			} else {
				total_reward = total_reward.saturating_add(contribution.stake);
				funds.sources.push((
					contribution.worker.clone(),
					Purpose::WorkerStake,
					contribution.stake,
				));
			}
		}

		let workers_reward = workers_part::<T>(total_reward, deal.pool_owner_reward_ratio);
		let mut paid = BalanceOf::<T>::zero();
		// Reputation is earned only where something was at risk: with more than one contributor
		// and a stake that a wrong vote would have lost.
		let earns_score = entry.contributions.len() > 1 && !deal.worker_stake.is_zero();
		let pool = deal.workerpool.id;
		for contribution in &entry.contributions {
			let worker = &contribution.worker;
			if contribution.status == ContributionStatus::Revealed {
				let share = consensus::reward_share(contribution.weight);
				let reward = share_of::<T>(workers_reward, share, total_shares);
				funds.pay(worker, reward)?;
				paid = paid.saturating_add(reward);
				Self::deposit_event(Event::WorkerRewarded { task, worker: worker.clone(), reward });
				if earns_score {
					let score = Scores::<T>::get(pool, worker).saturating_add(1);
					Scores::<T>::insert(pool, worker, score);
					Self::deposit_event(Event::ContributionAccurate {
						task,
						worker: worker.clone(),
						score,
					});
				}
			} else {
				let score = Self::cut_score(pool, worker);
				Self::deposit_event(Event::ContributionFaulty {
					task,
					worker: worker.clone(),
					score,
					stake_lost: contribution.stake,
				});
			}
		}
		let owner = &deal.workerpool.owner;
		let rest = total_reward.saturating_sub(paid);
		funds.pay(owner, rest)?;
		Self::deposit_event(Event::PoolOwnerRewarded { task, owner: owner.clone(), reward: rest });
		Ok(())
	}

	/// `distributeRewardsFast`: of a trust-1 task's pool price, the single worker's part (the
	/// workers' part) and the pool owner's (the rest); no stake, no score change.
	fn single_worker_rewards(deal: &Deal<T>) -> (BalanceOf<T>, BalanceOf<T>) {
		let pool_price = deal.workerpool.price;
		let worker_reward = workers_part::<T>(pool_price, deal.pool_owner_reward_ratio);
		(worker_reward, pool_price.saturating_sub(worker_reward))
	}

	/// Pays the single worker and the pool owner their parts of `count` trust-1 tasks of
	/// `deal`, each in one movement naming `subject`.
	fn pay_single_worker_rewards(
		deal: &Deal<T>,
		worker: Option<&T::AccountId>,
		count: u32,
		subject: Subject,
	) -> DispatchResult {
		let (worker_reward, rest) = Self::single_worker_rewards(deal);
		let count = BalanceOf::<T>::from(count);
		let payer = &deal.payer;
		if let Some(worker) = worker {
			let reward = worker_reward.saturating_mul(count);
			T::Escrow::pay(payer, Purpose::DealPayment, worker, reward, subject)?;
		}
		let owner = &deal.workerpool.owner;
		T::Escrow::pay(payer, Purpose::DealPayment, owner, rest.saturating_mul(count), subject)
	}

	/// Says what trust-1 `task` of `deal` paid its worker and its pool owner.
	fn note_single_worker_rewards(task: TaskId, worker: Option<&T::AccountId>, deal: &Deal<T>) {
		let (worker_reward, rest) = Self::single_worker_rewards(deal);
		if let Some(worker) = worker {
			Self::deposit_event(Event::WorkerRewarded {
				task,
				worker: worker.clone(),
				reward: worker_reward,
			});
		}
		let owner = deal.workerpool.owner.clone();
		Self::deposit_event(Event::PoolOwnerRewarded { task, owner, reward: rest });
	}

	fn return_stake(task: TaskId, contribution: &Contribution<T>) -> DispatchResult {
		T::Escrow::unlock(&contribution.worker, Purpose::WorkerStake, contribution.stake, task)
	}

	/// Cuts `worker`'s score in `pool` to two thirds (a fault) and returns the new score.
	pub(crate) fn cut_score(pool: pallet_marketplace::WorkerpoolId, worker: &T::AccountId) -> u32 {
		// Computed wide, so that no score saturates first.
		let score = (u64::from(Scores::<T>::get(pool, worker)) * 2 / 3) as u32;
		if score == 0 {
			Scores::<T>::remove(pool, worker);
		} else {
			Scores::<T>::insert(pool, worker, score);
		}
		score
	}
}
