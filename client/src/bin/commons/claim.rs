//! `commons claim`: settles a task past its final deadline. What the chain would refuse for
//! certain (a settled task, a deadline still ahead, no such deal) is said before anything is
//! signed, so no fee is paid for it; what the claim did is read from its events, since a task
//! whose winners revealed is finalized and paid, not refunded.

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
	let task_id = pallet_contribution::Pallet::<Runtime>::task_id(&deal, index);
	let task = chain.task(task_id).await?;
	let deal_is_open = chain.deal(deal).await?.is_some();
	let best = chain.best_number().await?;
	if let Some(refusal) = refusal(deal, index, task.as_ref(), deal_is_open, best) {
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

/// Why the chain would refuse to settle task `index` of `deal` in the block after `best`, as far
/// as the client can tell: `task` is the task on chain, if it was opened, and `deal_is_open`
/// whether the deal still has unsettled tasks. A task never opened has the deal's final
/// deadline, which the chain checks.
fn refusal(
	deal: DealId,
	index: u32,
	task: Option<&Task<Runtime>>,
	deal_is_open: bool,
	best: BlockNumber,
) -> Option<String> {
	match task {
		Some(task) if task.status.is_settled() => Some(format!(
			"task {index} of deal {deal:?} is already settled ({:?}): there is nothing to claim",
			task.status
		)),
		Some(task) if best.saturating_add(1) < task.final_deadline => Some(format!(
			"task {index} of deal {deal:?} can be claimed from block #{}, its final deadline; \
			 the chain is at #{best}. After it, the chain also settles the task by itself in idle \
			 block time",
			task.final_deadline
		)),
		Some(_) => None,
		None if deal_is_open => None,
		None => Some(format!(
			"no deal {deal:?} with unsettled tasks is on chain: its tasks are settled (`commons \
			 deal` shows them), or the id is wrong"
		)),
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
		let said = refusal(deal, 0, Some(&settled), true, 200).unwrap();
		assert!(said.contains("already settled (Completed)"), "{said}");
		// The claim runs in the next block at the earliest: from the block before the deadline.
		let active = task(TaskStatus::Active, 100);
		let said = refusal(deal, 0, Some(&active), true, 98).unwrap();
		assert!(said.contains("from block #100") && said.contains("at #98"), "{said}");
		assert_eq!(refusal(deal, 0, Some(&active), true, 99), None);
		assert_eq!(refusal(deal, 0, Some(&active), false, 150), None);
		// Never opened: the chain knows the deal's deadline.
		assert_eq!(refusal(deal, 3, None, true, 1), None);
		let said = refusal(deal, 3, None, false, 1).unwrap();
		assert!(said.contains("no deal"), "{said}");
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
