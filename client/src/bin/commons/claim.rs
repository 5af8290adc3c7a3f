//! `commons claim`: settles a task past its final deadline. What the chain would refuse for
//! certain (a settled task, a deadline still ahead, no such deal or task) is said before
//! anything is signed, so no fee is paid for it; what the claim did is read from its events, since a task
//! whose winners revealed is finalized and paid, not refunded.

use std::ops::Range;

use commons_client::Chain;
use commons_runtime::{BlockNumber, Runtime, RuntimeCall, RuntimeEvent};
use pallet_contribution::{Task, TaskId};
use pallet_marketplace::DealId;
use sp_core::sr25519;

use crate::view::{self, View};

/// Claims task `index` of `deal` as `pair`, and says what became of it.
pub async fn claim(
	chain: &Chain,
	pair: &sr25519::Pair,
	deal: DealId,
	index: u32,
	json: bool,
) -> Result<(), String> {
	// Everything read at one block.
	let best = chain.best_number().await?;
	let at = chain.block_hash(best).await?;
	let pinned = chain.at(at);
	let task_id = pallet_contribution::Pallet::<Runtime>::task_id(&deal, index);
	let task = pinned.task(task_id).await?;
	let open_deal = match pinned.deal(deal).await? {
		None => None,
		Some(open) => {
			let category = pinned.category(open.category).await?.ok_or(format!(
				"deal {deal:?} is of category {}, which is not on chain",
				open.category
			))?;
			let unopened_key = pallet_contribution::UnopenedTasks::<Runtime>::hashed_key_for(deal);
			Some(OpenDeal {
				tasks: open.task_indices(),
				final_deadline: final_deadline(open.start, category.reference_time_secs),
				unopened: pinned.storage(&unopened_key, Some(at)).await?.unwrap_or(0),
			})
		}
	};
	if let Some(refusal) = refusal(deal, index, task.as_ref(), open_deal.as_ref(), best) {
		return Err(refusal);
	}
	let call = pallet_contribution::Call::claim { deal, index };
	let events = chain.submit_and_wait(RuntimeCall::Contribution(call), pair).await?;
	let (outcome, said) = outcome(&events, &deal, &task_id).ok_or(format!(
		"the claim of task {index} of deal {deal:?} was included, but settled nothing"
	))?;
	let shown = View::new().hex("deal", deal).field("index", index).field("outcome", outcome);
	match json {
		true => view::print(&shown, true),
		false => println!("task {index} of deal {deal:?}: {said}"),
	}
	Ok(())
}

/// What the chain holds of a deal with unsettled tasks that bears on a claim of one it never
/// opened.
#[derive(Debug)]
struct OpenDeal {
	/// The deal's task indices.
	tasks: Range<u32>,
	/// Its tasks' final deadline.
	final_deadline: BlockNumber,
	/// How many of its tasks nobody opened and are not settled yet.
	unopened: u32,
}

/// The final deadline of a deal started at block `start` in a category of reference time
/// `reference_time_secs`: ten reference times later, counted in whole blocks (at least one), as
/// the contribution pallet counts it (`Pallet::deadlines`; the test below holds the two equal).
fn final_deadline(start: BlockNumber, reference_time_secs: u32) -> BlockNumber {
	let millis = u64::from(reference_time_secs).saturating_mul(1_000);
	let reference_time = millis.div_ceil(commons_runtime::MILLISECS_PER_BLOCK).max(1);
	let reference_time = BlockNumber::try_from(reference_time).unwrap_or(BlockNumber::MAX);
	start.saturating_add(reference_time.saturating_mul(10))
}

/// Why the chain would refuse to settle task `index` of `deal` in the block after `best`:
/// `task` is the task on chain, if it was opened, and `open_deal` the deal, while it has
/// unsettled tasks.
fn refusal(
	deal: DealId,
	index: u32,
	task: Option<&Task<Runtime>>,
	open_deal: Option<&OpenDeal>,
	best: BlockNumber,
) -> Option<String> {
	let too_early = |final_deadline: BlockNumber| {
		(best.saturating_add(1) < final_deadline).then(|| {
			format!(
				"task {index} of deal {deal:?} can be claimed from block #{final_deadline}, its \
				 final deadline; the chain is at #{best}. After it, the chain also settles the \
				 task by itself in idle block time"
			)
		})
	};
	match (task, open_deal) {
		(Some(task), _) if task.status.is_settled() => Some(format!(
			"task {index} of deal {deal:?} is already settled ({:?}): there is nothing to claim",
			task.status
		)),
		(Some(task), _) => too_early(task.final_deadline),
		(None, None) => Some(format!(
			"no deal {deal:?} with unsettled tasks is on chain: its tasks are settled (`commons \
			 deal` shows them), or the id is wrong"
		)),
		(None, Some(open)) if !open.tasks.contains(&index) => Some(format!(
			"deal {deal:?} has tasks {} to {}: there is no task {index}",
			open.tasks.start,
			open.tasks.end.saturating_sub(1)
		)),
		(None, Some(open)) if open.unopened == 0 => Some(format!(
			"task {index} of deal {deal:?} was never opened and already failed with the deal's \
			 other unopened tasks: its payer was refunded"
		)),
		(None, Some(open)) => too_early(open.final_deadline),
	}
}

/// What the claim did to task `task` of `deal`, from its events: a short name for scripts and
/// the sentence for people.
fn outcome(
	events: &[RuntimeEvent],
	deal: &DealId,
	task: &TaskId,
) -> Option<(&'static str, String)> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::Contribution(pallet_contribution::Event::TaskFinalized {
			task: settled,
			..
		}) if settled == task => Some((
			"finalized",
			"finalized with the result its winners revealed: they and the owners are paid".into(),
		)),
		RuntimeEvent::Contribution(pallet_contribution::Event::TaskFailed {
			task: settled,
			..
		}) if settled == task => {
			Some(("failed", "failed: its payer is refunded the task's price".into()))
		}
		RuntimeEvent::Contribution(pallet_contribution::Event::UnopenedTasksFailed {
			deal: settled,
			count,
			..
		}) if settled == deal => Some((
			"unopened_failed",
			format!(
				"never opened: it failed with the deal's other unopened tasks, {count} in all, \
				 and their payer is refunded their price"
			),
		)),
		_ => None,
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_contribution::{Failure, Finalization, TaskStatus};

	fn task(status: TaskStatus, final_deadline: BlockNumber) -> Task<Runtime> {
		Task {
			deal: DealId::repeat_byte(1),
			index: 0,
			status,
			reference_time: 5,
			contribution_deadline: final_deadline.saturating_sub(15),
			final_deadline,
			reveal_deadline: None,
			assigned: Default::default(),
			assigned_at: Default::default(),
			contributions: Default::default(),
			tally: Default::default(),
			consensus: None,
			winners: 0,
			reveals: 0,
			result_digest: None,
			result_location: Default::default(),
			dataset_keys: Default::default(),
			enclaves: Default::default(),
		}
	}

	#[test]
	fn what_the_chain_would_refuse_is_said_before_signing() {
		let deal = DealId::repeat_byte(1);
		let settled = task(TaskStatus::Completed, 100);
		let said = refusal(deal, 0, Some(&settled), None, 200).unwrap();
		assert!(said.contains("already settled (Completed)"), "{said}");
		// The claim runs in the next block at the earliest: from the block before the deadline.
		let active = task(TaskStatus::Active, 100);
		let open = OpenDeal { tasks: 2..5, final_deadline: 100, unopened: 1 };
		let said = refusal(deal, 0, Some(&active), Some(&open), 98).unwrap();
		assert!(said.contains("from block #100") && said.contains("at #98"), "{said}");
		assert_eq!(refusal(deal, 0, Some(&active), Some(&open), 99), None);
		// Never opened: the deal's deadline, its range of tasks, and whether they failed already.
		assert!(refusal(deal, 3, None, Some(&open), 98).unwrap().contains("from block #100"));
		assert_eq!(refusal(deal, 3, None, Some(&open), 99), None);
		let said = refusal(deal, 5, None, Some(&open), 200).unwrap();
		assert!(said.contains("has tasks 2 to 4: there is no task 5"), "{said}");
		let failed = OpenDeal { unopened: 0, ..open };
		assert!(refusal(deal, 3, None, Some(&failed), 200).unwrap().contains("already failed"));
		let said = refusal(deal, 3, None, None, 1).unwrap();
		assert!(said.contains("no deal"), "{said}");
	}

	#[test]
	fn the_final_deadline_is_counted_as_the_chain_counts_it() {
		use pallet_marketplace::{Category, Deal, Purchase};
		let account = commons_runtime::AccountId::new([1; 32]);
		let purchase = Purchase { id: 0, owner: account.clone(), price: 1 };
		let mut deal = Deal::<Runtime> {
			app: purchase.clone(),
			dataset: None,
			workerpool: purchase,
			requester: account.clone(),
			payer: account.clone(),
			beneficiary: account,
			category: 0,
			trust: 1,
			tag: 0,
			params: Default::default(),
			start: 0,
			first_task: 0,
			volume: 1,
			worker_stake: 0,
			pool_owner_stake: 0,
			pool_owner_reward_ratio: Default::default(),
			unsettled: 1,
		};
		sp_io::TestExternalities::default().execute_with(|| {
			for reference_time_secs in [0, 1, 5, 6, 7, 30, 300, 36_000, u32::MAX] {
				let name = b"c".to_vec().try_into().unwrap();
				pallet_marketplace::Categories::<Runtime>::insert(
					0,
					Category { name, reference_time_secs },
				);
				for start in [0, 17, 1_000_000, BlockNumber::MAX - 3] {
					deal.start = start;
					let chain = pallet_contribution::Pallet::<Runtime>::deadlines(&deal).unwrap();
					assert_eq!(
						final_deadline(start, reference_time_secs),
						chain.settlement,
						"started at {start}, T = {reference_time_secs} s"
					);
				}
			}
		});
	}

	#[test]
	fn the_claim_says_whether_the_task_was_paid_or_refunded() {
		let deal = DealId::repeat_byte(1);
		let task = TaskId::repeat_byte(2);
		let other = TaskId::repeat_byte(3);
		let finalized = |task| {
			RuntimeEvent::Contribution(pallet_contribution::Event::TaskFinalized {
				task,
				deal,
				digest: Default::default(),
				location: Default::default(),
				reason: Finalization::RevealDeadlinePassed,
			})
		};
		let failed = |task| {
			RuntimeEvent::Contribution(pallet_contribution::Event::TaskFailed {
				task,
				deal,
				reason: Failure::ClaimedAfterFinalDeadline,
			})
		};
		assert_eq!(outcome(&[finalized(other)], &deal, &task), None);
		assert_eq!(outcome(&[finalized(task)], &deal, &task).unwrap().0, "finalized");
		assert_eq!(outcome(&[failed(other), failed(task)], &deal, &task).unwrap().0, "failed");
		let unopened =
			RuntimeEvent::Contribution(pallet_contribution::Event::UnopenedTasksFailed {
				deal,
				count: 4,
				reason: Failure::ClaimedAfterFinalDeadline,
			});
		let (name, said) = outcome(&[unopened], &deal, &task).unwrap();
		assert_eq!(name, "unopened_failed");
		assert!(said.contains("4 in all"), "{said}");
	}
}
