//! `commons`: the requester's and providers' command line.
//!
//! Providers register apps, datasets and workerpools and publish (presign) or cancel their
//! orders; requesters list what is on offer (the chain's order book), `run` a task (match it
//! with the cheapest compatible offers, wait for the verified result, fetch it and check its
//! digest), watch tasks and download their results again. Everyone can show and list what the
//! chain holds (apps, datasets, pools, categories, workers and their scores, deals, tasks),
//! for people or as JSON (`--json`).
//! Owners of encrypted datasets run their key service with it (`key-service`); beneficiaries of
//! confidential tasks create the key their results are sealed to with it (`result-key`).
//! Everything is read and written through a node's JSON-RPC with the runtime's own types.

mod claim;
mod collateral;
mod config;
mod inspect;
mod run;
mod tags;
mod view;

use clap::{Args, CommandFactory, Parser, Subcommand};
use commons_client::{
	confidential::{encrypt_dataset, DatasetKey, ResultKey},
	fetch::fetch,
	market::order_book,
	Chain, RuntimeVersionSummary,
};
use commons_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent};
use pallet_marketplace::{
	AppKind, AppOrder, DatasetOrder, Market, Order, OrderHash, PoolPolicy, Restriction,
	WorkerpoolOrder,
};
use sha2::{Digest as _, Sha256};
use sp_core::Pair;
use sp_runtime::Percent;

use commons_client::{
	amount::{self, Amount},
	keys::signing_key,
	measurement::MeasurementArg,
};
use config::Config;
use tags::TagArg;

#[derive(Parser, Debug)]
#[command(name = "commons", about = "Buy and sell verified computation on a Commons chain")]
struct Cli {
	/// The JSON-RPC endpoint (HTTP) of a node of the chain; without it, `COMMONS_RPC`, else
	/// the configuration file's `rpc`, else http://127.0.0.1:9944.
	#[arg(long, global = true, value_name = "URL")]
	rpc: Option<String>,

	/// The key of the account acting: a secret URI (`//Bob` on a development chain), or the
	/// path of a file only you can read that holds one or an account exported from Polkadot-JS
	/// (its password from `COMMONS_KEY_PASSWORD` or asked). Without it, `COMMONS_KEY` holds the
	/// URI, else the configuration file's `key` names a key file, else a terminal is asked.
	/// Commands that only read need none; there is no default account.
	#[arg(long, global = true, value_name = "URI|FILE")]
	key: Option<String>,

	/// Prints for scripts: one JSON object for one thing shown or created (`{"app": 3}`), a
	/// JSON array for a list; amounts as strings of units, tags by name.
	#[arg(long, global = true)]
	json: bool,

	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Prints the key's account (SS58) and its free balance.
	Account,
	/// Registers an app: a WASI module at a URI (its sha256 is computed from the URI's content),
	/// or an OCI image named by its digest, which workers with a container engine run.
	CreateApp {
		#[arg(long)]
		name: String,
		/// Where workers fetch the module (`https://`, `http://` or `file://`).
		#[arg(long, required_unless_present = "image", conflicts_with = "image")]
		uri: Option<String>,
		/// An OCI image, by its repository and the sha256 of its manifest:
		/// `registry.example/name@sha256:<64 hex digits>`. Workers pull it by that digest. An
		/// image lists no measurements: it never runs in a TEE.
		#[arg(long, conflicts_with = "measurements")]
		image: Option<String>,
		/// A TEE measurement the app's confidential tasks may run under: `sgx:0x<MRENCLAVE>`
		/// or `tdx:0x<MRTD>`; repeat for several.
		#[arg(long = "measurement")]
		measurements: Vec<MeasurementArg>,
	},
	/// Registers a dataset: a file at a URI. Its sha256 is computed from the URI's content.
	CreateDataset {
		#[arg(long)]
		name: String,
		#[arg(long)]
		uri: String,
		/// The file is encrypted (by `encrypt-dataset`): only TEE deals may buy it, and its key
		/// reaches their enclaves through the owner's key service (`commons key-service`).
		#[arg(long)]
		encrypted: bool,
	},
	/// Encrypts a file as a confidential dataset: writes the encrypted file, to publish where
	/// workers fetch it, and its new key, to keep in the key service's keys directory as
	/// `<dataset id>.key` once the dataset is registered.
	EncryptDataset {
		/// The data in the clear.
		#[arg(long)]
		input: std::path::PathBuf,
		/// Where the encrypted dataset is written.
		#[arg(long)]
		output: std::path::PathBuf,
		/// Where the new key is written (an existing file is never replaced).
		#[arg(long)]
		key_file: std::path::PathBuf,
	},
	/// Creates the key the results of the key's account's confidential (TEE) tasks are sealed
	/// to, as their beneficiary: writes its secret to `--key-file` and registers its public half
	/// on chain. Needed to buy tasks on encrypted datasets; `run --result-key-file` opens the
	/// results with it. Keep the key registered, and its file, until those tasks are settled.
	ResultKey {
		/// Where the new key's secret is written (an existing file is never replaced): it alone
		/// opens the results sealed to the key.
		#[arg(long, required_unless_present = "remove")]
		key_file: Option<std::path::PathBuf>,
		/// Registers the key already in `--key-file` (after a failed registration, or to
		/// register it again) instead of creating one.
		#[arg(long, requires = "key_file")]
		reuse: bool,
		/// Removes the registered key: the results of TEE tasks on public data are then
		/// served in the clear, and tasks on encrypted datasets cannot be bought or computed.
		#[arg(long, conflicts_with_all = ["key_file", "reuse"])]
		remove: bool,
	},
	/// Registers a workerpool scheduled by the account holding `--scheduler`'s key.
	CreateWorkerpool {
		#[arg(long)]
		description: String,
		/// The scheduler's account (SS58).
		#[arg(long)]
		scheduler: AccountId,
		/// What a worker stakes per contribution, in percent of the pool price.
		#[arg(long, default_value_t = 30)]
		worker_stake_percent: u8,
		/// The pool owner's share of the workers' reward, in percent.
		#[arg(long, default_value_t = 5)]
		pool_owner_reward_percent: u8,
		/// Only workers the owner allows may join.
		#[arg(long)]
		closed: bool,
	},
	/// Agrees to schedule a workerpool that names the key's account as its scheduler: until it
	/// does, no node schedules the pool.
	AcceptScheduling {
		#[arg(long)]
		workerpool: u32,
	},
	/// Removes an app the key owns, once no live deal uses it; its deposit goes back to whoever
	/// paid it.
	RemoveApp {
		#[arg(long)]
		app: u32,
	},
	/// Removes a dataset the key owns, once no live deal uses it; its deposit goes back to
	/// whoever paid it.
	RemoveDataset {
		#[arg(long)]
		dataset: u32,
	},
	/// Removes a workerpool the key owns, once no live deal uses it and it has no workers and
	/// allows none; its deposit goes back to whoever paid it.
	RemoveWorkerpool {
		#[arg(long)]
		workerpool: u32,
	},
	/// Publishes an order selling runs of an app the key owns.
	PublishAppOrder {
		#[arg(long)]
		app: u32,
		/// The one dataset the app may run with (default: any, or none).
		#[arg(long)]
		dataset: Option<u32>,
		/// The one workerpool that may run it (default: any).
		#[arg(long)]
		workerpool: Option<u32>,
		/// The one requester that may buy it (default: anyone).
		#[arg(long)]
		requester: Option<AccountId>,
		#[command(flatten)]
		offer: Offer,
	},
	/// Publishes an order selling uses of a dataset the key owns, for one app (`--app`) unless
	/// `--any-app` says otherwise; an encrypted dataset is sold only for an app it names.
	PublishDatasetOrder {
		#[arg(long)]
		dataset: u32,
		/// The one app the dataset may be used with.
		#[arg(long, required_unless_present = "any_app", conflicts_with = "any_app")]
		app: Option<u32>,
		/// Any app may use the dataset (not accepted for an encrypted dataset).
		#[arg(long)]
		any_app: bool,
		/// The one workerpool that may run it (default: any).
		#[arg(long)]
		workerpool: Option<u32>,
		/// The one requester that may buy it (default: anyone).
		#[arg(long)]
		requester: Option<AccountId>,
		#[command(flatten)]
		offer: Offer,
	},
	/// Publishes an order selling tasks of a workerpool the key owns.
	PublishWorkerpoolOrder {
		#[arg(long)]
		workerpool: u32,
		/// The category of the tasks (their reference time).
		#[arg(long, default_value_t = 0)]
		category: u32,
		/// The highest trust the pool serves.
		#[arg(long, default_value_t = 1)]
		trust: u32,
		/// The one app the pool sells tasks of (default: any).
		#[arg(long)]
		app: Option<u32>,
		/// The one dataset the tasks may use (default: any, or none).
		#[arg(long)]
		dataset: Option<u32>,
		/// The one requester that may buy them (default: anyone).
		#[arg(long)]
		requester: Option<AccountId>,
		#[command(flatten)]
		offer: Offer,
	},
	/// Lists one market of the chain's order book: the presigned orders that can still be
	/// matched, best first (offers cheapest first, requests best-paying first).
	#[command(group(clap::ArgGroup::new("market").required(true)))]
	Orders {
		/// The orders selling this app.
		#[arg(long, group = "market")]
		app: Option<u32>,
		/// The orders selling this dataset.
		#[arg(long, group = "market")]
		dataset: Option<u32>,
		/// The workerpool orders selling tasks of this category.
		#[arg(long, group = "market", value_name = "CATEGORY")]
		workerpools: Option<u32>,
		/// The requests buying tasks of this category.
		#[arg(long, group = "market", value_name = "CATEGORY")]
		requests: Option<u32>,
		/// Only workerpool orders serving at least this trust.
		#[arg(long, default_value_t = 0)]
		min_trust: u32,
		/// The most orders to list (the chain answers at most 1,000).
		#[arg(long, default_value_t = 100)]
		limit: u32,
	},
	/// Withdraws a presigned order the key made (or sponsors): it can no longer be matched and
	/// leaves the order book; its deposit goes back.
	CancelOrder {
		/// The order's hash, as publishing it printed and `orders` lists it.
		order: OrderHash,
	},
	/// Runs a task: matches a request with the cheapest compatible offers, waits for the verified
	/// result, fetches it and checks its digest.
	Run(run::Request),
	/// Shows a registered app.
	App { app: u32 },
	/// Lists the registered apps.
	Apps {
		/// Only the apps of this account.
		#[arg(long)]
		owner: Option<AccountId>,
	},
	/// Shows a registered dataset.
	Dataset { dataset: u32 },
	/// Lists the registered datasets.
	Datasets {
		/// Only the datasets of this account.
		#[arg(long)]
		owner: Option<AccountId>,
	},
	/// Shows a registered workerpool, whether its scheduler accepted and how many workers it has.
	Workerpool { workerpool: u32 },
	/// Lists the registered workerpools.
	Workerpools {
		/// Only the workerpools of this account.
		#[arg(long)]
		owner: Option<AccountId>,
	},
	/// Lists the task categories: how long a task of each may take.
	Categories,
	/// Lists a workerpool's workers with their scores, best first.
	Workers {
		#[arg(long)]
		workerpool: u32,
	},
	/// Shows a worker: its pool, score, endpoint, last heartbeat and enclave.
	Worker { account: AccountId },
	/// Shows a deal and its tasks.
	Deal { deal: sp_core::H256 },
	/// Lists the deals with tasks left to settle, newest first.
	Deals {
		#[command(flatten)]
		filter: inspect::DealFilter,
	},
	/// Shows a task; with `--watch`, follows it until it is settled.
	Task {
		#[command(flatten)]
		task: inspect::TaskRef,
		/// Reports each change (contributions, consensus, reveals) until the task is settled.
		#[arg(long)]
		watch: bool,
		/// How long to watch, in seconds.
		#[arg(long, default_value_t = 900, requires = "watch")]
		timeout: u64,
	},
	/// Lists the tasks on chain (open, or settled and not yet pruned), the latest due first.
	Tasks {
		#[command(flatten)]
		filter: inspect::TaskFilter,
	},
	/// What is done with tasks' results.
	#[command(subcommand)]
	Result(ResultCommand),
	/// Prints a completion script for a shell: `commons completions bash >
	/// ~/.local/share/bash-completion/completions/commons`.
	Completions { shell: clap_complete::Shell },
	/// Puts Intel's collateral for a platform on chain (root CA CRL, PCK CRL, TCB info, QE
	/// identity), from one quote's collateral as the `dcap-qvl` tool writes it; pieces the chain
	/// holds as new or newer are skipped.
	SubmitCollateral {
		#[arg(long)]
		file: std::path::PathBuf,
	},
	/// Settles a task past its final deadline (which the chain also does by itself in idle block
	/// time): a task whose winners revealed is finalized and paid, any other fails and its payer
	/// is refunded.
	Claim {
		#[arg(long)]
		deal: sp_core::H256,
		#[arg(long, default_value_t = 0)]
		index: u32,
	},
	/// Runs the key service of the datasets `--key` owns until it is stopped: follows the chain
	/// and releases each encrypted dataset's key, sealed, to the attested enclaves assigned to
	/// tasks using it.
	KeyService(commons_client::key_service::KeyServiceCmd),
}

/// `commons result …`.
#[derive(Subcommand, Debug)]
enum ResultCommand {
	/// Fetches a completed task's result, checks it against the digest its workers agreed on,
	/// and opens it with the result key if it was sealed to one.
	Download(run::Download),
}

/// What every offer states.
#[derive(Args, Debug)]
struct Offer {
	/// The price per task, in CMN (`1.5`) or in units (`1500000000000u`).
	#[arg(long)]
	price: Amount,
	/// How many tasks the order sells.
	#[arg(long, default_value_t = 1)]
	volume: u32,
	/// The tags the offer serves, by name (`tee`, `tee,sgx`, `gpu`) or as a number.
	#[arg(long, default_value = "none")]
	tag: TagArg,
	/// The last block the order can be matched in (by default the latest the chain accepts:
	/// its `MaxOrderLifetime`, thirty days unless governance changed it, from now).
	#[arg(long)]
	expiry: Option<u32>,
}

/// The restriction to `one`, or none if it is not given.
fn only<Id>(one: Option<Id>) -> Restriction<Id> {
	one.map_or(Restriction::Any, Restriction::Only)
}

impl Offer {
	/// The expiry asked for, or the latest the chain accepts.
	async fn expiry_or_latest(&self, chain: &Chain) -> Result<u32, String> {
		match self.expiry {
			Some(expiry) => Ok(expiry),
			None => Ok(commons_client::market::latest_expiry(chain).await?),
		}
	}
}

#[tokio::main]
async fn main() {
	let cli = Cli::parse();
	// The key service logs as a service does (time, level and target); the other commands print
	// their answers, and say on stderr how a transaction they wait for is going.
	match cli.command {
		Command::KeyService(_) => commons_client::service::init_logging("warn,commons=info"),
		_ => commons_client::service::init_terminal_logging("warn,commons=info"),
	}
	if let Command::Completions { shell } = cli.command {
		let mut script = Vec::new();
		clap_complete::generate(shell, &mut Cli::command(), "commons", &mut script);
		view::write_out(&script);
		return;
	}
	if let Err(error) = execute(cli).await {
		eprintln!("commons: {error}");
		std::process::exit(1);
	}
}

fn bounded<S: frame_support::traits::Get<u32>>(
	what: &str,
	bytes: &[u8],
) -> Result<frame_support::BoundedVec<u8, S>, String> {
	bytes
		.to_vec()
		.try_into()
		.map_err(|_| format!("the {what} is longer than the chain's {} bytes", S::get()))
}

/// A fresh salt, so that two otherwise equal orders have different hashes.
fn salt(account: &AccountId) -> [u8; 32] {
	let now = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap_or_default()
		.as_nanos();
	Sha256::digest(codec::Encode::encode(&(account, now, std::process::id()))).into()
}

async fn checksum_of(uri: &str) -> Result<[u8; 32], String> {
	Ok(Sha256::digest(fetch(uri).await?).into())
}

/// A listing of the order book: the order's kind, what it sells or buys, its price per task
/// (for a request, the most it pays a workerpool) and its terms.
fn book_entry_view(entry: &commons_client::market::Published) -> view::View {
	let (kind, id, price, category, trust, tag) = match &entry.order {
		Order::App(order) => ("app", order.app, order.price, None, None, order.tag),
		Order::Dataset(order) => ("dataset", order.dataset, order.price, None, None, order.tag),
		Order::Workerpool(order) => (
			"workerpool",
			order.workerpool,
			order.price,
			Some(order.category),
			Some(order.trust),
			order.tag,
		),
		Order::Request(order) => (
			"request",
			order.app,
			order.workerpool_max_price,
			Some(order.category),
			Some(order.trust),
			order.tag,
		),
	};
	view::View::new()
		.field("hash", format!("{:?}", entry.hash))
		.account("owner", &entry.owner)
		.field("kind", kind)
		.field("id", id)
		.amount("price", price)
		.field("remaining", entry.remaining)
		.field("volume", entry.order.volume())
		.field("category", category)
		.field("trust", trust)
		.tag("tag", tag)
		.field("expiry", entry.order.expiry())
}

/// What a registration or a publication created: its kind and its id.
fn created(events: &[RuntimeEvent]) -> Option<(&'static str, serde_json::Value)> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::Marketplace(pallet_marketplace::Event::AppCreated { app, .. }) => {
			Some(("app", (*app).into()))
		}
		RuntimeEvent::Marketplace(pallet_marketplace::Event::DatasetCreated {
			dataset, ..
		}) => Some(("dataset", (*dataset).into())),
		RuntimeEvent::Marketplace(pallet_marketplace::Event::WorkerpoolCreated {
			workerpool,
			..
		}) => Some(("workerpool", (*workerpool).into())),
		RuntimeEvent::Marketplace(pallet_marketplace::Event::OrderPresigned { order, .. }) => {
			Some(("order", format!("{order:?}").into()))
		}
		RuntimeEvent::Marketplace(pallet_marketplace::Event::ResultEncryptionKeySet {
			key: Some(key),
			..
		}) => Some(("result_key", sp_core::bytes::to_hex(key, false).into())),
		_ => None,
	})
}

async fn execute(cli: Cli) -> Result<(), String> {
	let config = Config::load()?;
	let chain = Chain::new("node", &config.rpc(cli.rpc))?;
	let json = cli.json;
	if !matches!(cli.command, Command::EncryptDataset { .. }) {
		// A node that does not answer is the command's own error to report.
		if let Ok(live) = chain.runtime_version().await {
			if let Some(warning) = live.other_release_warning(&RuntimeVersionSummary::native()) {
				eprintln!("commons: {warning}");
			}
		}
	}
	// What only reads, or works on files alone, needs no key.
	match cli.command {
		Command::Orders { app, dataset, workerpools, requests, min_trust, limit } => {
			let market = app
				.map(Market::App)
				.or(dataset.map(Market::Dataset))
				.or(workerpools.map(Market::Workerpool))
				.or(requests.map(Market::Request))
				.ok_or("name the market: --app, --dataset, --workerpools or --requests")?;
			let book = order_book(&chain, market, min_trust, limit).await?;
			let views: Vec<_> = book.iter().map(book_entry_view).collect();
			view::print_all(&views, json);
			return Ok(());
		}
		Command::App { app } => return inspect::app(&chain, app, json).await,
		Command::Apps { owner } => return inspect::apps(&chain, owner, json).await,
		Command::Dataset { dataset } => return inspect::dataset(&chain, dataset, json).await,
		Command::Datasets { owner } => return inspect::datasets(&chain, owner, json).await,
		Command::Workerpool { workerpool } => {
			return inspect::workerpool(&chain, workerpool, json).await
		}
		Command::Workerpools { owner } => return inspect::workerpools(&chain, owner, json).await,
		Command::Categories => return inspect::categories(&chain, json).await,
		Command::Workers { workerpool } => return inspect::workers(&chain, workerpool, json).await,
		Command::Worker { account } => return inspect::worker(&chain, account, json).await,
		Command::Deal { deal } => return inspect::deal(&chain, deal, json).await,
		Command::Deals { filter } => return inspect::deals(&chain, &filter, json).await,
		Command::Tasks { filter } => return inspect::tasks(&chain, &filter, json).await,
		Command::Task { task, watch, timeout } => {
			let timeout = std::time::Duration::from_secs(timeout);
			return inspect::task(&chain, &task, watch, timeout, json).await;
		}
		Command::Result(ResultCommand::Download(download)) => {
			return run::download(&chain, download, json).await
		}
		// Works on files alone: no node, no key.
		Command::EncryptDataset { input, output, key_file } => {
			let data = std::fs::read(&input)
				.map_err(|error| format!("cannot read {}: {error}", input.display()))?;
			let key = DatasetKey::generate();
			let encrypted = encrypt_dataset(&key, &data)?;
			key.save(&key_file)?;
			std::fs::write(&output, &encrypted)
				.map_err(|error| format!("cannot write {}: {error}", output.display()))?;
			let checksum = Sha256::digest(&encrypted);
			if json {
				let view = view::View::new()
					.hex("checksum", checksum)
					.field("output", output.display().to_string())
					.field("key_file", key_file.display().to_string());
				view::print(&view, true);
			} else {
				println!("{}", sp_core::bytes::to_hex(&checksum, false));
			}
			return Ok(());
		}
		_ => {}
	}
	let key = config.key(cli.key);
	let pair = signing_key(key.as_deref(), |warning| eprintln!("commons: {warning}"))?;
	let account = AccountId::from(pair.public());
	let call = match cli.command {
		Command::Account => {
			let free = chain.free_balance(&account).await?;
			view::print(&view::View::new().account("account", &account).amount("free", free), json);
			return Ok(());
		}
		Command::CreateApp { name, uri, image, measurements } => {
			let (kind, uri, checksum) = match (uri, image) {
				(Some(uri), _) => {
					let checksum = checksum_of(&uri).await?;
					(AppKind::Wasi, uri, checksum)
				}
				(None, Some(image)) => {
					let (repository, digest) = commons_client::image::parse_reference(&image)?;
					(AppKind::Oci, repository, digest)
				}
				(None, None) => return Err("--uri or --image is needed".into()),
			};
			pallet_marketplace::Call::create_app {
				name: bounded("name", name.as_bytes())?,
				checksum,
				uri: bounded("URI", uri.as_bytes())?,
				kind,
				measurements: measurements
					.into_iter()
					.map(|measurement| measurement.0)
					.collect::<Vec<_>>()
					.try_into()
					.map_err(|_| "more measurements than the chain allows an app".to_string())?,
			}
		}
		Command::CreateDataset { name, uri, encrypted } => {
			pallet_marketplace::Call::create_dataset {
				name: bounded("name", name.as_bytes())?,
				checksum: checksum_of(&uri).await?,
				uri: bounded("URI", uri.as_bytes())?,
				encrypted,
			}
		}
		Command::ResultKey { key_file, reuse, remove } => {
			let key = match (key_file, reuse, remove) {
				(_, _, true) => None,
				(Some(path), true, false) => Some(ResultKey::load(&path)?.public()),
				(Some(path), false, false) => {
					let key = ResultKey::generate();
					key.save(&path).map_err(|error| {
						format!("{error} (`--reuse` registers the key an existing file holds)")
					})?;
					Some(key.public())
				}
				(None, _, false) => return Err("result-key needs --key-file or --remove".into()),
			};
			pallet_marketplace::Call::set_result_encryption_key { key }
		}
		Command::CreateWorkerpool {
			description,
			scheduler,
			worker_stake_percent,
			pool_owner_reward_percent,
			closed,
		} => pallet_marketplace::Call::create_workerpool {
			description: bounded("description", description.as_bytes())?,
			policy: PoolPolicy {
				worker_stake_ratio: Percent::from_percent(worker_stake_percent),
				pool_owner_reward_ratio: Percent::from_percent(pool_owner_reward_percent),
			},
			scheduler,
			open: !closed,
		},
		Command::AcceptScheduling { workerpool } => {
			pallet_marketplace::Call::accept_scheduling { workerpool }
		}
		Command::RemoveApp { app } => pallet_marketplace::Call::remove_app { app },
		Command::RemoveDataset { dataset } => pallet_marketplace::Call::remove_dataset { dataset },
		Command::RemoveWorkerpool { workerpool } => {
			pallet_marketplace::Call::remove_workerpool { workerpool }
		}
		Command::PublishAppOrder { app, dataset, workerpool, requester, offer } => {
			presign(Order::App(AppOrder {
				app,
				price: offer.price.0,
				volume: offer.volume,
				tag: offer.tag.0,
				dataset_restriction: only(dataset),
				workerpool_restriction: only(workerpool),
				requester_restriction: only(requester),
				salt: salt(&account),
				expiry: Some(offer.expiry_or_latest(&chain).await?),
			}))
		}
		Command::PublishDatasetOrder { dataset, app, any_app: _, workerpool, requester, offer } => {
			presign(Order::Dataset(DatasetOrder {
				dataset,
				price: offer.price.0,
				volume: offer.volume,
				tag: offer.tag.0,
				app_restriction: only(app),
				workerpool_restriction: only(workerpool),
				requester_restriction: only(requester),
				salt: salt(&account),
				expiry: Some(offer.expiry_or_latest(&chain).await?),
			}))
		}
		Command::PublishWorkerpoolOrder {
			workerpool,
			category,
			trust,
			app,
			dataset,
			requester,
			offer,
		} => presign(Order::Workerpool(WorkerpoolOrder {
			workerpool,
			price: offer.price.0,
			volume: offer.volume,
			tag: offer.tag.0,
			category,
			trust,
			app_restriction: only(app),
			dataset_restriction: only(dataset),
			requester_restriction: only(requester),
			salt: salt(&account),
			expiry: Some(offer.expiry_or_latest(&chain).await?),
		})),
		Command::CancelOrder { order } => {
			let order = chain.published_order(order).await?.ok_or_else(|| {
				format!(
					"no presigned order {order:?} on chain: used up, cancelled or expired (an \
					 order presigned before runtime 113 has no contents on chain to cancel by \
					 hash)"
				)
			})?;
			pallet_marketplace::Call::cancel_order { order }
		}
		Command::Orders { .. }
		| Command::App { .. }
		| Command::Apps { .. }
		| Command::Dataset { .. }
		| Command::Datasets { .. }
		| Command::Workerpool { .. }
		| Command::Workerpools { .. }
		| Command::Categories
		| Command::Workers { .. }
		| Command::Worker { .. }
		| Command::Deal { .. }
		| Command::Deals { .. }
		| Command::Task { .. }
		| Command::Tasks { .. }
		| Command::Result(_)
		| Command::EncryptDataset { .. }
		| Command::Completions { .. } => unreachable!("answered above"),
		Command::Run(request) => return run::run(&chain, &pair, request, json).await,
		Command::Claim { deal, index } => {
			return claim::claim(&chain, &pair, deal, index, json).await
		}
		Command::SubmitCollateral { file } => {
			return collateral::submit(&chain, &pair, &file, json).await
		}
		Command::KeyService(service) => return Ok(service.run(chain, pair).await?),
	};
	let events = chain.submit_and_wait(RuntimeCall::Marketplace(call), &pair).await?;
	match (created(&events), json) {
		(Some((kind, id)), true) => {
			let answer: serde_json::Map<_, _> = [(kind.to_owned(), id)].into_iter().collect();
			println!("{}", serde_json::Value::Object(answer));
		}
		(Some((kind, id)), false) => match id.as_str() {
			Some(text) => println!("{kind} {text}"),
			None => println!("{kind} {id}"),
		},
		(None, true) => println!("{{}}"),
		(None, false) => println!("done"),
	}
	Ok(())
}

fn presign(order: Order<Runtime>) -> pallet_marketplace::Call<Runtime> {
	pallet_marketplace::Call::presign_order { order }
}
