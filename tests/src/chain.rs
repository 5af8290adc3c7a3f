//! What the tests read from a chain to check the protocol: events, balances, scores, pools,
//! deals, tasks and registrations.
//!
//! Each reader takes a node's [`Chain`] (a [`crate::TestNode`] derefs to one). Those that return a
//! `Result` are for the probes of [`crate::wait_for`]; the others fail the test on an RPC error.

use std::{
	cell::{Cell, RefCell},
	collections::BTreeMap,
	time::Duration,
};

use commons_client::Chain;
use commons_runtime::{AccountId, Balance, BlockNumber, Hash, Nonce, Runtime, RuntimeEvent};
use pallet_contribution::{Task, TaskId};
use pallet_marketplace::{DatasetId, DealId, WorkerpoolId};

use crate::wait_for;

/// The events of blocks `from..=to`, each with the number of its block.
pub async fn numbered_events(
	chain: &Chain,
	from: BlockNumber,
	to: BlockNumber,
) -> Result<Vec<(BlockNumber, RuntimeEvent)>, String> {
	let mut events = Vec::new();
	for number in from..=to {
		let hash = chain.block_hash(number).await?;
		events.extend(chain.events(hash).await?.into_iter().map(|record| (number, record.event)));
	}
	Ok(events)
}

/// The events of blocks `from..=to`.
pub async fn events_between(
	chain: &Chain,
	from: BlockNumber,
	to: BlockNumber,
) -> Vec<RuntimeEvent> {
	commons_client::follow::events_between(chain, from, to)
		.await
		.unwrap_or_else(|error| panic!("reading the events of blocks {from}..={to}: {error}"))
}

/// What `pick` takes from the events of blocks `from..=to`, in their order.
pub async fn picked_events<T>(
	chain: &Chain,
	from: BlockNumber,
	to: BlockNumber,
	pick: impl FnMut(RuntimeEvent) -> Option<T>,
) -> Vec<T> {
	events_between(chain, from, to).await.into_iter().filter_map(pick).collect()
}

/// Waits up to `timeout` for `what`: an event that `pick` takes, in a block from `from` on.
/// Returns the block's number and what `pick` took. Each block is read once.
pub async fn wait_for_event<T>(
	chain: &Chain,
	what: &str,
	from: BlockNumber,
	timeout: Duration,
	pick: impl FnMut(RuntimeEvent) -> Option<T>,
) -> (BlockNumber, T) {
	let next = Cell::new(from);
	let pick = RefCell::new(pick);
	wait_for(what, timeout, || async {
		let best = chain.best_number().await?;
		let events = numbered_events(chain, next.get(), best).await?;
		next.set(best + 1);
		let mut pick = pick.borrow_mut();
		events
			.into_iter()
			.find_map(|(number, event)| Some((number, (*pick)(event)?)))
			.ok_or(format!("no such event in blocks {from}..={best}"))
	})
	.await
}

/// The number and hash of the best block.
pub async fn best_block(chain: &Chain) -> (BlockNumber, Hash) {
	let number = chain.best_number().await.unwrap_or_else(|error| panic!("{error}"));
	let hash = chain.block_hash(number).await.unwrap_or_else(|error| panic!("{error}"));
	(number, hash)
}

/// The transaction fees, tips included, each account paid in `events`.
pub fn fees_paid(events: &[RuntimeEvent]) -> BTreeMap<AccountId, Balance> {
	let mut fees: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for event in events {
		if let RuntimeEvent::TransactionPayment(
			pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
		) = event
		{
			*fees.entry(who.clone()).or_default() += actual_fee + tip;
		}
	}
	fees
}

/// `who`'s free balance in block `at`.
pub async fn free_at(chain: &Chain, who: &AccountId, at: Hash) -> Balance {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let info: frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>> =
		chain.storage(&key, Some(at)).await.unwrap().unwrap_or_default();
	info.data.free
}

/// The escrow's kitty in block `at`.
pub async fn kitty_at(chain: &Chain, at: Hash) -> Balance {
	let key = pallet_escrow::Kitty::<Runtime>::hashed_key();
	chain.storage::<Balance>(&key, Some(at)).await.unwrap().unwrap_or_default()
}

/// `who`'s score in `pool`.
pub async fn score(chain: &Chain, pool: WorkerpoolId, who: &AccountId) -> u32 {
	let key = pallet_contribution::Scores::<Runtime>::hashed_key_for(pool, who);
	chain.storage::<u32>(&key, None).await.unwrap().unwrap_or_default()
}

/// How many workers `pool` has.
pub async fn pool_members(chain: &Chain, pool: WorkerpoolId) -> Result<u32, String> {
	let key = pallet_marketplace::PoolMemberCount::<Runtime>::hashed_key_for(pool);
	Ok(chain.storage::<u32>(&key, None).await?.unwrap_or_default())
}

/// The pool `worker` belongs to, if any.
pub async fn pool_of(chain: &Chain, worker: &AccountId) -> Result<Option<WorkerpoolId>, String> {
	Ok(chain.workerpool_of(worker).await?)
}

/// The first deal created in blocks `from..=best`: the one a `commons run` since `from` made.
pub async fn deal_since(chain: &Chain, from: BlockNumber) -> DealId {
	let (best, _) = best_block(chain).await;
	picked_events(chain, from, best, |event| match event {
		RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated { deal, .. }) => {
			Some(deal)
		}
		_ => None,
	})
	.await
	.into_iter()
	.next()
	.expect("a deal was created")
}

/// The task `id`, which must be on chain.
pub async fn task(chain: &Chain, id: TaskId) -> Task<Runtime> {
	chain.task(id).await.unwrap().expect("the task is on chain")
}

/// The first task of the first deal created since block `from`, with its id: the only task of
/// a one-task `commons run` since `from`.
pub async fn only_task(chain: &Chain, from: BlockNumber) -> (TaskId, Task<Runtime>) {
	let deal = deal_since(chain, from).await;
	let id = pallet_contribution::Pallet::<Runtime>::task_id(&deal, 0);
	(id, task(chain, id).await)
}

/// The registered dataset `id`, which must be registered.
pub async fn dataset(chain: &Chain, id: DatasetId) -> pallet_marketplace::Dataset<Runtime> {
	chain.dataset(id).await.unwrap().expect("the dataset is registered")
}

/// The enclave `worker` registered, which must be registered.
pub async fn enclave_of(chain: &Chain, worker: &AccountId) -> pallet_attestation::Enclave {
	chain
		.enclave(worker)
		.await
		.unwrap()
		.expect("the worker's enclave is registered")
}
