//! The read commands: `app`, `apps`, `dataset`, `datasets`, `workerpool`, `workerpools`,
//! `categories`, `workers`, `worker`, `deal`, `deals`, `task` (with `--watch`) and `tasks`. Each
//! reads the chain's state at the best block and prints [`View`]s.

use std::time::{Duration, Instant};

use clap::Args;
use commons_client::{measurement::MeasurementArg, Chain};
use commons_runtime::{AccountId, Runtime};
use pallet_contribution::{Task, TaskId, TaskStatus};
use pallet_marketplace::{
	App, AppId, AppKind, Category, CategoryId, Dataset, DatasetId, Deal, DealId, Membership,
	Purchase, Workerpool, WorkerpoolId,
};

use crate::view::{print, print_all, View};

/// Which task: its id, or its deal and index.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true)))]
pub struct TaskRef {
	/// The task's id.
	#[arg(group = "which")]
	id: Option<TaskId>,
	/// The task's deal (with `--index`).
	#[arg(long, group = "which", requires = "index")]
	deal: Option<DealId>,
	/// The task's index among its request's tasks (with `--deal`): 0 for the first task of a
	/// request matched in one deal, as `commons run` makes them.
	#[arg(long, requires = "deal")]
	index: Option<u32>,
}

impl TaskRef {
	/// The task's id.
	pub fn id(&self) -> TaskId {
		match (self.id, self.deal) {
			(Some(id), _) => id,
			(None, Some(deal)) => pallet_contribution::Pallet::<Runtime>::task_id(
				&deal,
				self.index.unwrap_or_default(),
			),
			(None, None) => unreachable!("clap requires one of them"),
		}
	}

	/// The task, or an error saying it is not on chain.
	pub async fn read(&self, chain: &Chain) -> Result<Task<Runtime>, String> {
		let id = self.id();
		chain.task(id).await?.ok_or_else(|| {
			format!(
				"no task {id:?} on chain: not opened yet, or settled long enough ago to be pruned"
			)
		})
	}
}

/// Which deals `commons deals` lists: all of them, or those matching every option given.
#[derive(Args, Debug)]
pub struct DealFilter {
	/// Only the deals this account requested.
	#[arg(long)]
	requester: Option<AccountId>,
	/// Only the deals whose results are for this account.
	#[arg(long)]
	beneficiary: Option<AccountId>,
	/// Only the deals of this app.
	#[arg(long)]
	app: Option<AppId>,
	/// Only the deals using this dataset.
	#[arg(long)]
	dataset: Option<DatasetId>,
	/// Only the deals of this workerpool.
	#[arg(long)]
	workerpool: Option<WorkerpoolId>,
}

impl DealFilter {
	fn admits(&self, deal: &Deal<Runtime>) -> bool {
		self.requester.as_ref().is_none_or(|requester| *requester == deal.requester)
			&& self
				.beneficiary
				.as_ref()
				.is_none_or(|beneficiary| *beneficiary == deal.beneficiary)
			&& self.app.is_none_or(|app| app == deal.app.id)
			&& self.dataset.is_none_or(|dataset| {
				deal.dataset.as_ref().is_some_and(|purchase| purchase.id == dataset)
			}) && self.workerpool.is_none_or(|pool| pool == deal.workerpool.id)
	}
}

/// A task's status, as `commons tasks --status` names it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum StatusArg {
	Active,
	Revealing,
	Completed,
	Failed,
}

impl From<StatusArg> for TaskStatus {
	fn from(status: StatusArg) -> Self {
		match status {
			StatusArg::Active => TaskStatus::Active,
			StatusArg::Revealing => TaskStatus::Revealing,
			StatusArg::Completed => TaskStatus::Completed,
			StatusArg::Failed => TaskStatus::Failed,
		}
	}
}

/// Which tasks `commons tasks` lists: all of them, or those matching every option given.
#[derive(Args, Debug)]
pub struct TaskFilter {
	/// Only the tasks of this deal.
	#[arg(long)]
	deal: Option<DealId>,
	/// Only the tasks this worker was assigned or contributed to.
	#[arg(long)]
	worker: Option<AccountId>,
	/// Only the tasks in this status.
	#[arg(long, value_enum)]
	status: Option<StatusArg>,
}

impl TaskFilter {
	fn admits(&self, task: &Task<Runtime>) -> bool {
		self.deal.is_none_or(|deal| deal == task.deal)
			&& self.worker.as_ref().is_none_or(|worker| {
				task.assigned.contains(worker)
					|| task.contributions.iter().any(|contribution| contribution.worker == *worker)
			}) && self.status.is_none_or(|status| task.status == status.into())
	}
}

fn app_view(id: AppId, app: &App<Runtime>) -> View {
	let measurements: Vec<String> = app
		.measurements
		.iter()
		.map(|measurement| MeasurementArg(*measurement).to_string())
		.collect();
	View::new()
		.field("app", id)
		.text("name", &app.name)
		.account("owner", &app.owner)
		.field(
			"kind",
			match app.kind {
				AppKind::Wasi => "wasi",
				AppKind::Oci => "oci",
			},
		)
		.text("uri", &app.uri)
		.hex("checksum", app.checksum)
		.field("measurements", measurements)
}

fn dataset_view(id: DatasetId, dataset: &Dataset<Runtime>) -> View {
	View::new()
		.field("dataset", id)
		.text("name", &dataset.name)
		.account("owner", &dataset.owner)
		.text("uri", &dataset.uri)
		.hex("checksum", dataset.checksum)
		.field("encrypted", dataset.encrypted)
}

fn workerpool_view(id: WorkerpoolId, pool: &Workerpool<Runtime>) -> View {
	View::new()
		.field("workerpool", id)
		.text("description", &pool.description)
		.account("owner", &pool.owner)
		.account("scheduler", &pool.scheduler_key)
		.field("open", pool.open)
		.field("worker_stake_percent", pool.policy.worker_stake_ratio.deconstruct())
		.field("pool_owner_reward_percent", pool.policy.pool_owner_reward_ratio.deconstruct())
}

fn category_view(id: CategoryId, category: &Category<Runtime>) -> View {
	View::new()
		.field("category", id)
		.text("name", &category.name)
		.field("reference_time_secs", category.reference_time_secs)
}

fn member_view(worker: &AccountId, membership: &Membership<Runtime>, score: u32) -> View {
	View::new()
		.account("worker", worker)
		.field("workerpool", membership.workerpool)
		.field("score", score)
		.text("endpoint", &membership.endpoint)
		.tag("capabilities", membership.capabilities)
		.field("last_heartbeat", membership.last_heartbeat)
}

fn purchase_view<Id: Copy + Into<serde_json::Value>>(
	purchase: &Purchase<Id, AccountId, commons_runtime::Balance>,
) -> View {
	View::new()
		.field("id", purchase.id)
		.account("owner", &purchase.owner)
		.amount("price", purchase.price)
}

fn deal_view(id: DealId, deal: &Deal<Runtime>) -> View {
	View::new()
		.hex("deal", id)
		.nested("app", purchase_view(&deal.app))
		.field("dataset", deal.dataset.as_ref().map(|dataset| purchase_view(dataset).json()))
		.nested("workerpool", purchase_view(&deal.workerpool))
		.account("requester", &deal.requester)
		.account("payer", &deal.payer)
		.account("beneficiary", &deal.beneficiary)
		.field("category", deal.category)
		.field("trust", deal.trust)
		.tag("tag", deal.tag)
		.text("params", &deal.params)
		.field("start", deal.start)
		.field("first_task", deal.first_task)
		.field("volume", deal.volume)
		.field("unsettled", deal.unsettled)
		.amount("task_price", deal.task_price())
		.amount("worker_stake", deal.worker_stake)
		.amount("pool_owner_stake", deal.pool_owner_stake)
}

fn task_view(id: TaskId, task: &Task<Runtime>) -> View {
	let contributions: Vec<View> = task
		.contributions
		.iter()
		.map(|contribution| {
			View::new()
				.account("worker", &contribution.worker)
				.field("status", format!("{:?}", contribution.status))
				.field("weight", contribution.weight)
				.amount("stake", contribution.stake)
		})
		.collect();
	let assigned: Vec<View> = task
		.assigned
		.iter()
		.zip(&task.assigned_at)
		.map(|(worker, at)| View::new().account("worker", worker).field("at", *at))
		.collect();
	View::new()
		.hex("task", id)
		.hex("deal", task.deal)
		.field("index", task.index)
		.field("status", format!("{:?}", task.status))
		.field("contribution_deadline", task.contribution_deadline)
		.field("final_deadline", task.final_deadline)
		.field("reveal_deadline", task.reveal_deadline)
		.list("assigned", assigned)
		.list("contributions", contributions)
		.field("consensus", task.consensus.map(|hash| format!("{hash:?}")))
		.field("winners", task.winners)
		.field("reveals", task.reveals)
		.field("result_digest", task.result_digest.map(|digest| format!("{digest:?}")))
		.text("result_location", &task.result_location)
		.field("tee", !task.enclaves.is_empty())
}

/// An error for a thing the chain does not hold.
fn missing(kind: &str, id: impl std::fmt::Display) -> String {
	format!("no {kind} {id} on chain")
}

/// `commons app <id>`.
pub async fn app(chain: &Chain, id: AppId, json: bool) -> Result<(), String> {
	let app = chain.app(id).await?.ok_or_else(|| missing("app", id))?;
	print(&app_view(id, &app), json);
	Ok(())
}

/// `commons apps [--owner]`.
pub async fn apps(chain: &Chain, owner: Option<AccountId>, json: bool) -> Result<(), String> {
	let views: Vec<View> = chain
		.apps()
		.await?
		.iter()
		.filter(|(_, app)| owner.as_ref().is_none_or(|owner| *owner == app.owner))
		.map(|(id, app)| app_view(*id, app))
		.collect();
	print_all(&views, json);
	Ok(())
}

/// `commons dataset <id>`.
pub async fn dataset(chain: &Chain, id: DatasetId, json: bool) -> Result<(), String> {
	let dataset = chain.dataset(id).await?.ok_or_else(|| missing("dataset", id))?;
	print(&dataset_view(id, &dataset), json);
	Ok(())
}

/// `commons datasets [--owner]`.
pub async fn datasets(chain: &Chain, owner: Option<AccountId>, json: bool) -> Result<(), String> {
	let views: Vec<View> = chain
		.datasets()
		.await?
		.iter()
		.filter(|(_, dataset)| owner.as_ref().is_none_or(|owner| *owner == dataset.owner))
		.map(|(id, dataset)| dataset_view(*id, dataset))
		.collect();
	print_all(&views, json);
	Ok(())
}

/// `commons workerpool <id>`: the pool, whether its scheduler accepted, and its members.
pub async fn workerpool(chain: &Chain, id: WorkerpoolId, json: bool) -> Result<(), String> {
	let pool = chain.workerpool(id).await?.ok_or_else(|| missing("workerpool", id))?;
	let accepted = chain.scheduler_accepted(id).await?;
	let members = chain.pool_members(id).await?;
	let view = workerpool_view(id, &pool)
		.field("scheduling_accepted", accepted.as_ref() == Some(&pool.scheduler_key))
		.field("members", members.len());
	print(&view, json);
	Ok(())
}

/// `commons workerpools [--owner]`.
pub async fn workerpools(
	chain: &Chain,
	owner: Option<AccountId>,
	json: bool,
) -> Result<(), String> {
	let views: Vec<View> = chain
		.workerpools()
		.await?
		.iter()
		.filter(|(_, pool)| owner.as_ref().is_none_or(|owner| *owner == pool.owner))
		.map(|(id, pool)| workerpool_view(*id, pool))
		.collect();
	print_all(&views, json);
	Ok(())
}

/// `commons categories`.
pub async fn categories(chain: &Chain, json: bool) -> Result<(), String> {
	let views: Vec<View> = chain
		.categories()
		.await?
		.iter()
		.map(|(id, category)| category_view(*id, category))
		.collect();
	print_all(&views, json);
	Ok(())
}

/// `commons workers --workerpool <id>`: the pool's members with their scores, best first.
pub async fn workers(chain: &Chain, workerpool: WorkerpoolId, json: bool) -> Result<(), String> {
	chain
		.workerpool(workerpool)
		.await?
		.ok_or_else(|| missing("workerpool", workerpool))?;
	let mut members = Vec::new();
	for (worker, membership) in chain.pool_members(workerpool).await? {
		let score = chain.score(workerpool, &worker).await?;
		members.push((score, member_view(&worker, &membership, score)));
	}
	members.sort_by(|(a, _), (b, _)| b.cmp(a));
	let views: Vec<View> = members.into_iter().map(|(_, view)| view).collect();
	print_all(&views, json);
	Ok(())
}

/// `commons worker <account>`: its pool, membership and score, and its enclave if it has one.
pub async fn worker(chain: &Chain, worker: AccountId, json: bool) -> Result<(), String> {
	let pool = chain
		.workerpool_of(&worker)
		.await?
		.ok_or_else(|| format!("{worker} is not a member of any workerpool"))?;
	let membership = chain
		.pool_member(pool, &worker)
		.await?
		.ok_or_else(|| missing("membership of", &worker))?;
	let score = chain.score(pool, &worker).await?;
	let enclave = chain.enclave(&worker).await?;
	let view = member_view(&worker, &membership, score).field(
		"enclave",
		enclave.map(|enclave| {
			serde_json::json!({
				"kind": format!("{:?}", enclave.kind),
				"measurement": MeasurementArg(enclave.measurement).to_string(),
				"simulated": matches!(enclave.attester, pallet_attestation::Attester::Simulated),
				"expires_at_ms": enclave.expires_at,
			})
		}),
	);
	print(&view, json);
	Ok(())
}

/// `commons deal <id>`: the deal while it has unsettled tasks, and its tasks on chain.
pub async fn deal(chain: &Chain, id: DealId, json: bool) -> Result<(), String> {
	let deal = chain.deal(id).await?;
	// A settled deal is gone from state; its tasks stay a while, numbered from 0.
	let indices = deal.as_ref().map_or(0..u32::MAX, Deal::task_indices);
	let mut tasks = Vec::new();
	for index in indices {
		let task_id = pallet_contribution::Pallet::<Runtime>::task_id(&id, index);
		match chain.task(task_id).await? {
			Some(task) => tasks.push(task_view(task_id, &task)),
			None if deal.is_some() => tasks.push(
				View::new()
					.hex("task", task_id)
					.field("index", index)
					.field("status", "NotOpened"),
			),
			None => break,
		}
	}
	if deal.is_none() && tasks.is_empty() {
		return Err(format!("no deal {id:?} with open or settled tasks on chain"));
	}
	let view = match &deal {
		Some(deal) => deal_view(id, deal).field("settled", false),
		None => View::new().hex("deal", id).field("settled", true),
	};
	print(&view.list("tasks", tasks), json);
	Ok(())
}

/// `commons deals`: the deals with unsettled tasks that `filter` admits, newest first.
pub async fn deals(chain: &Chain, filter: &DealFilter, json: bool) -> Result<(), String> {
	let mut deals: Vec<(DealId, Deal<Runtime>)> = chain
		.deals()
		.await?
		.into_iter()
		.filter(|(_, deal)| filter.admits(deal))
		.collect();
	deals.sort_by(|(a_id, a), (b_id, b)| b.start.cmp(&a.start).then(a_id.cmp(b_id)));
	let views: Vec<View> = deals.iter().map(|(id, deal)| deal_view(*id, deal)).collect();
	print_all(&views, json);
	Ok(())
}

/// `commons tasks`: the tasks on chain that `filter` admits, the latest due first, a deal's in
/// order.
pub async fn tasks(chain: &Chain, filter: &TaskFilter, json: bool) -> Result<(), String> {
	let mut tasks: Vec<(TaskId, Task<Runtime>)> = chain
		.tasks()
		.await?
		.into_iter()
		.filter(|(_, task)| filter.admits(task))
		.collect();
	tasks.sort_by(|(_, a), (_, b)| {
		b.final_deadline
			.cmp(&a.final_deadline)
			.then(a.deal.cmp(&b.deal))
			.then(a.index.cmp(&b.index))
	});
	let views: Vec<View> = tasks.iter().map(|(id, task)| task_view(*id, task)).collect();
	print_all(&views, json);
	Ok(())
}

/// `commons task`: the task; with `watch`, each change of its status until it is settled or
/// `timeout` passes, then the task.
pub async fn task(
	chain: &Chain,
	which: &TaskRef,
	watch: bool,
	timeout: Duration,
	json: bool,
) -> Result<(), String> {
	let id = which.id();
	if !watch {
		print(&task_view(id, &which.read(chain).await?), json);
		return Ok(());
	}
	let started = Instant::now();
	let mut last: Option<(TaskStatus, usize, u32)> = None;
	let mut said_unopened = false;
	loop {
		let read = match chain.task(id).await {
			Ok(read) => read,
			// A node that does not answer once does not end the watch; the timeout does.
			Err(error) if started.elapsed() <= timeout => {
				eprintln!("cannot read the task ({error}); trying again");
				tokio::time::sleep(Duration::from_secs(2)).await;
				continue;
			}
			Err(error) => return Err(error.into()),
		};
		if let Some(task) = read {
			let now = (task.status, task.contributions.len(), task.reveals);
			if last != Some(now) {
				eprintln!(
					"#{} {:?}: {} assigned, {} contribution(s), {} reveal(s)",
					chain.best_number().await?,
					task.status,
					task.assigned.len(),
					task.contributions.len(),
					task.reveals
				);
				last = Some(now);
			}
			if task.status.is_settled() {
				print(&task_view(id, &task), json);
				return Ok(());
			}
		} else if !said_unopened {
			said_unopened = true;
			eprintln!("#{} not opened yet", chain.best_number().await?);
		}
		if started.elapsed() > timeout {
			return Err(format!("task {id:?} was not settled within {timeout:?}"));
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
}
