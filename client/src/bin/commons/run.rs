//! `commons run` and `commons result download`: a requester's task from the offers to the
//! checked result, and the result fetched and checked again later.

use std::{
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

use clap::Args;
use commons_client::{
	confidential::{open_result, unpack_output, ResultKey, SEALED_RESULT_FILE},
	digest::{digest, files},
	fetch::fetch_result,
	market::{cheapest_offers, latest_expiry, offers_for},
	Chain,
};
use commons_runtime::{
	AccountId, BlockNumber, Hash, Runtime, RuntimeCall, RuntimeEvent, Signature,
};
use pallet_contribution::{Task, TaskStatus};
use pallet_marketplace::{tag, DealId, Order, Payer, RequestOrder, Signed};
use sp_core::{sr25519, Pair};

use crate::{
	amount::{cmn, Amount},
	bounded,
	inspect::TaskRef,
	only, salt,
	tags::TagArg,
	view::{print, View},
};

/// What a requester asks for.
#[derive(Args, Debug)]
pub struct Request {
	/// The app to run.
	#[arg(long)]
	app: u32,
	/// The dataset to give it, if any.
	#[arg(long)]
	dataset: Option<u32>,
	/// The one workerpool that may run it (default: the cheapest compatible one).
	#[arg(long)]
	workerpool: Option<u32>,
	/// The app's arguments, separated by spaces (they may start with `-`).
	#[arg(long, default_value = "", allow_hyphen_values = true)]
	params: String,
	/// The category: the reference time the task may take.
	#[arg(long, default_value_t = 0)]
	category: u32,
	/// How sure the result must be: 1 trusts one worker, more asks for agreeing workers.
	#[arg(long, default_value_t = 1)]
	trust: u32,
	/// The tags the task needs, by name (`tee`, `tee,sgx`) or as a number.
	#[arg(long, default_value = "none")]
	tag: TagArg,
	/// The most one task may cost in all, in CMN (`1.5`) or units (`1500u`).
	#[arg(long)]
	max_price: Amount,
	/// How many tasks to run (the app runs once per task, each with its own seed).
	#[arg(long, default_value_t = 1)]
	volume: u32,
	/// Who receives the result (default: the requester).
	#[arg(long)]
	beneficiary: Option<AccountId>,
	/// Where to write the result's files (for several tasks: one directory per task index).
	#[arg(long, default_value = "result")]
	output: PathBuf,
	/// The beneficiary's result key file (`commons result-key`): a confidential (TEE) task's
	/// result is served sealed to the key registered with it, and opened with this one.
	#[arg(long)]
	result_key_file: Option<PathBuf>,
	/// How long to wait for the result, in seconds.
	#[arg(long, default_value_t = 900)]
	timeout: u64,
}

/// Matches `request` with the cheapest compatible published offers, waits for the task's result,
/// fetches it into `request.output` and checks it against the digest the chain agreed on.
pub async fn run(
	chain: &Chain,
	pair: &sr25519::Pair,
	request: Request,
	json: bool,
) -> Result<(), String> {
	let requester = AccountId::from(pair.public());
	let max = request.max_price.0;
	let mut order = RequestOrder::<Runtime> {
		app: request.app,
		app_max_price: max,
		dataset: request.dataset,
		dataset_max_price: max,
		workerpool_restriction: only(request.workerpool),
		workerpool_max_price: max,
		requester: requester.clone(),
		volume: request.volume,
		tag: request.tag.0,
		category: request.category,
		trust: request.trust,
		beneficiary: request.beneficiary.unwrap_or(requester.clone()),
		params: bounded("params", request.params.as_bytes())?,
		payer: Payer::Requester,
		salt: salt(&requester),
		expiry: Some(latest_expiry(chain).await?),
	};
	let app_kind = chain
		.app(request.app)
		.await?
		.ok_or(format!("app {} is not registered", request.app))?
		.kind;
	let dataset_encrypted = match request.dataset {
		None => false,
		Some(id) => {
			chain
				.dataset(id)
				.await?
				.ok_or(format!("dataset {id} is not registered"))?
				.encrypted
		}
	};
	let result_key = request.result_key_file.as_deref().map(ResultKey::load).transpose()?;
	let registered_key = chain.result_encryption_key(&order.beneficiary).await?;
	if let (Some(key), Some(registered)) = (&result_key, registered_key) {
		if key.public() != registered {
			return Err(format!(
				"the result key in --result-key-file is not the one {} registered: its results \
				 are sealed to the registered one",
				order.beneficiary
			));
		}
	}
	if dataset_encrypted && registered_key.is_none() {
		return Err(format!(
			"{} has no result key: a result computed on an encrypted dataset is delivered only \
			 sealed to its beneficiary; create one with `commons result-key --key-file <file>`",
			order.beneficiary
		));
	}
	let published = offers_for(chain, &order).await?;
	let offers = cheapest_offers(&published, &order, app_kind, dataset_encrypted)
		.map_err(|no_offer| no_offer.to_string())?;
	// A TEE deal's result is sealed to the beneficiary's key, when it has one: open it here, or
	// say before paying that it cannot be.
	let sealed = offers.app.tag & tag::TEE != 0 && registered_key.is_some();
	if sealed && result_key.is_none() && order.beneficiary == requester {
		return Err("the result will be sealed to your result key: pass its file with \
		            --result-key-file"
			.into());
	}
	let price = offers.task_price();
	if price > max {
		return Err(format!(
			"no compatible offer: the cheapest compatible offers cost {} in all, more than \
			 --max-price {}",
			cmn(price),
			cmn(max)
		));
	}
	order.app_max_price = offers.app.price;
	order.dataset_max_price = offers.dataset.as_ref().map(|data| data.price).unwrap_or_default();
	order.workerpool_max_price = offers.workerpool.price;
	let total = price.saturating_mul(request.volume.into());
	let free = chain.free_balance(&requester).await?;
	if free <= total {
		return Err(format!(
			"insufficient funds: {} task(s) cost {} and {requester} has {} free",
			request.volume,
			cmn(total),
			cmn(free)
		));
	}

	let payload: Vec<u8> = chain
		.runtime_api("MarketplaceApi_signing_payload", Order::Request(order.clone()))
		.await?;
	let signature = Signature::from(pair.sign(&payload));
	let call = pallet_marketplace::Call::match_orders {
		app_order: Signed { order: offers.app, signature: None },
		dataset_order: offers.dataset.map(|order| Signed { order, signature: None }),
		workerpool_order: Signed { order: offers.workerpool, signature: None },
		request_order: Box::new(Signed { order, signature: Some(signature) }),
		sponsor_signature: None,
	};
	let sent_at = Instant::now();
	let matched = chain
		.submit_and_follow(RuntimeCall::Marketplace(call), pair)
		.await
		.map_err(|error| format!("the match was refused: {error}"))?;
	let matched_in = chain.block_number(matched.block).await?;
	let (deal, volume) = matched
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated {
				deal,
				volume,
				..
			}) => Some((*deal, *volume)),
			_ => None,
		})
		.ok_or("the match emitted no deal")?;
	eprintln!("deal {deal:?}: {volume} task(s) at {} each", cmn(price));

	let (tasks, completed_by) =
		wait_for_results(chain, pair, deal, volume, Duration::from_secs(request.timeout)).await?;
	eprintln!(
		"{volume} task(s) finalized {:.1} s after the match was sent, by block #{completed_by}: \
		 {} block(s) after the match's #{matched_in}",
		sent_at.elapsed().as_secs_f64(),
		completed_by.saturating_sub(matched_in)
	);
	let mut outputs = Vec::new();
	for (index, task) in tasks.iter().enumerate() {
		let output = if volume == 1 {
			request.output.clone()
		} else {
			request.output.join(index.to_string())
		};
		fetch_checked_result(task, &output, sealed, result_key.as_ref()).await?;
		outputs.push(output.display().to_string());
	}
	if json {
		let view = View::new()
			.hex("deal", deal)
			.field("volume", volume)
			.field("matched_in", matched_in)
			.field("completed_by", completed_by)
			.field("outputs", outputs);
		print(&view, true);
	} else {
		outputs.iter().for_each(|output| println!("{output}"));
	}
	Ok(())
}

/// Fetches `task`'s result into `output` and checks it against the digest the workers agreed on.
///
/// When `sealed` (a TEE task, whose result is sealed if its beneficiary has a result key), a
/// result served as the one file [`SEALED_RESULT_FILE`] is opened with `result_key` and
/// replaced by the files it holds, and the digest agreed on is the digest of those (see
/// `commons_client::confidential`).
async fn fetch_checked_result(
	task: &Task<Runtime>,
	output: &Path,
	sealed: bool,
	result_key: Option<&ResultKey>,
) -> Result<(), String> {
	let agreed = task.result_digest.ok_or("the completed task has no digest")?;
	let location = String::from_utf8_lossy(&task.result_location).into_owned();
	std::fs::create_dir_all(output)
		.map_err(|error| format!("cannot create {}: {error}", output.display()))?;
	let mut fetched = Hash::from(fetch_result(&location, output).await?);
	let sealed_file = output.join(SEALED_RESULT_FILE);
	// The digest agreed on is of the output in the clear: a sealed file never matches it.
	let served_sealed = sealed
		&& fetched != agreed
		&& files(output).map_err(|error| error.to_string())? == [PathBuf::from(SEALED_RESULT_FILE)];
	if served_sealed {
		let key = result_key.ok_or(format!(
			"the result is sealed to the beneficiary's result key: it is in {}; pass the key's \
			 file with --result-key-file to open it",
			sealed_file.display()
		))?;
		let task_id = pallet_contribution::Pallet::<Runtime>::task_id(&task.deal, task.index);
		let bytes = std::fs::read(&sealed_file)
			.map_err(|error| format!("cannot read {}: {error}", sealed_file.display()))?;
		let packed = open_result(key.secret(), &task_id, &bytes)?;
		// Opened: the files in the clear take its place, and only they are digested.
		std::fs::remove_file(&sealed_file)
			.map_err(|error| format!("cannot remove {}: {error}", sealed_file.display()))?;
		unpack_output(&packed, output)?;
		fetched = Hash::from(digest(output).map_err(|error| error.to_string())?);
	} else if sealed && fetched == agreed && result_key.is_some() {
		eprintln!(
			"warning: the result at {location} was served in the clear, though its beneficiary \
			 has a result key"
		);
	}
	if fetched != agreed {
		return Err(format!(
			"result digest mismatch: the workers agreed on {agreed:?}, the result at {location} \
			 digests to {fetched:?}"
		));
	}
	Ok(())
}

/// Waits until the first `volume` tasks of `deal` complete, and returns them with the best block
/// by which the last had completed; past a task's final deadline, claims its refund and reports
/// the failure. `run` signs every request with a fresh salt, so
/// nothing of it was consumed before its deal and the deal's tasks are numbered from 0 (see
/// `Deal::task_indices`).
async fn wait_for_results(
	chain: &Chain,
	pair: &sr25519::Pair,
	deal: DealId,
	volume: u32,
	timeout: Duration,
) -> Result<(Vec<Task<Runtime>>, BlockNumber), String> {
	let started = Instant::now();
	let mut statuses: Vec<Option<TaskStatus>> = vec![None; volume as usize];
	loop {
		let mut completed = Vec::new();
		for index in 0..volume {
			let task_id = pallet_contribution::Pallet::<Runtime>::task_id(&deal, index);
			let Some(task) = chain.task(task_id).await? else { continue };
			let last = &mut statuses[index as usize];
			if *last != Some(task.status) {
				eprintln!("task {index} {task_id:?}: {:?}", task.status);
				*last = Some(task.status);
			}
			match task.status {
				TaskStatus::Completed => completed.push(task),
				TaskStatus::Failed => {
					return Err(format!(
						"deadline passed: task {task_id:?} failed and its payment was refunded"
					))
				}
				_ if chain.best_number().await? >= task.final_deadline => {
					let claim = pallet_contribution::Call::claim { deal, index };
					chain.submit_and_wait(RuntimeCall::Contribution(claim), pair).await?;
					return Err(format!(
						"deadline passed: task {task_id:?} was not finalized by block {}; its \
						 payment was refunded",
						task.final_deadline
					));
				}
				_ => {}
			}
		}
		if completed.len() == volume as usize {
			// Read after the tasks: every task seen completed had completed by this block.
			return Ok((completed, chain.best_number().await?));
		}
		if started.elapsed() > timeout {
			return Err(format!(
				"no result within {timeout:?}: {} of {volume} task(s) of deal {deal:?} completed; \
				 `commons deal {deal:?}` shows them later, `commons result download` fetches \
				 their results, `commons claim` refunds a task after its final deadline",
				completed.len()
			));
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

/// What `commons result download` fetches.
#[derive(Args, Debug)]
pub struct Download {
	#[command(flatten)]
	task: TaskRef,
	/// Where to write the result's files.
	#[arg(long, default_value = "result")]
	output: PathBuf,
	/// The beneficiary's result key file, to open a confidential task's sealed result.
	#[arg(long)]
	result_key_file: Option<PathBuf>,
}

/// Fetches a completed task's result into `request.output` and checks it against the digest
/// its workers agreed on; a confidential task's sealed result is opened with the result key.
pub async fn download(chain: &Chain, request: Download, json: bool) -> Result<(), String> {
	let task = request.task.read(chain).await?;
	if task.status != TaskStatus::Completed {
		return Err(format!(
			"task {:?} is {:?}: only a completed task has a result",
			request.task.id(),
			task.status
		));
	}
	let result_key = request.result_key_file.as_deref().map(ResultKey::load).transpose()?;
	let tee = !task.enclaves.is_empty();
	fetch_checked_result(&task, &request.output, tee, result_key.as_ref()).await?;
	if json {
		let view = View::new()
			.hex("task", request.task.id())
			.field("output", request.output.display().to_string())
			.hex("digest", task.result_digest.unwrap_or_default());
		print(&view, true);
	} else {
		println!("{}", request.output.display());
	}
	Ok(())
}
