//! `commons`: the requester's and providers' command line.
//!
//! Providers register apps, datasets and workerpools and publish (presign) their orders;
//! requesters list what is on offer (the chain's order book), `run` a task (match it with the cheapest compatible offers,
//! wait for the verified result, fetch it and check its digest) and look at deals and tasks.
//! Owners of encrypted datasets run their key service with it (`key-service`); beneficiaries of
//! confidential tasks create the key their results are sealed to with it (`result-key`).
//! Everything is read and written through a node's JSON-RPC with the runtime's own types.

mod amount;
mod collateral;
mod run;

use clap::{Args, Parser, Subcommand};
use commons_client::{
	confidential::{encrypt_dataset, DatasetKey, ResultKey},
	fetch::fetch,
	market::order_book,
	Chain,
};
use commons_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent};
use pallet_marketplace::{
	AppOrder, DatasetOrder, Market, Order, PoolPolicy, Restriction, Tag, WorkerpoolOrder,
};
use sha2::{Digest as _, Sha256};
use sp_core::{sr25519, Pair};
use sp_runtime::Percent;

use amount::Amount;
use commons_client::{keys::signing_key, measurement::MeasurementArg};

#[derive(Parser, Debug)]
#[command(name = "commons", about = "Buy and sell verified computation on a Commons chain")]
struct Cli {
	/// The JSON-RPC endpoint (HTTP) of a node of the chain.
	#[arg(long, global = true, default_value = "http://127.0.0.1:9944")]
	rpc: String,

	/// The key of the account acting: a secret URI (`//Bob` on a development chain), or the
	/// path of a file only you can read that holds one. Without it, `COMMONS_KEY` holds the
	/// URI. Commands that only read (`orders`, `deal`) need none; there is no default account.
	#[arg(long, global = true, value_name = "URI|FILE")]
	key: Option<String>,

	/// Prints the answer of `account` and what a registration or publication created as one
	/// JSON object, for scripts (`{"app": 3}`, `{"account": "5G…", "free": "1000"}`), and the
	/// listings of `orders` as a JSON array.
	#[arg(long, global = true)]
	json: bool,

	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Prints the key's account (SS58) and its free balance in units.
	Account,
	/// Registers an app: a WASI module at a URI. Its sha256 is computed from the URI's content.
	CreateApp {
		#[arg(long)]
		name: String,
		/// Where workers fetch the module (`https://`, `http://` or `file://`).
		#[arg(long)]
		uri: String,
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
	/// Runs a task: matches a request with the cheapest compatible offers, waits for the verified
	/// result, fetches it and checks its digest.
	Run(run::Request),
	/// Shows a deal and its tasks.
	Deal { deal: sp_core::H256 },
	/// Puts Intel's collateral for a platform on chain (root CA CRL, PCK CRL, TCB info, QE
	/// identity), from one quote's collateral as the `dcap-qvl` tool writes it; pieces the chain
	/// holds as new or newer are skipped.
	SubmitCollateral {
		#[arg(long)]
		file: std::path::PathBuf,
	},
	/// Settles a task past its final deadline: refunds its payer.
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

/// What every offer states.
#[derive(Args, Debug)]
struct Offer {
	/// The price per task, in CMN (`1.5`) or in units (`1500000000000u`).
	#[arg(long)]
	price: Amount,
	/// How many tasks the order sells.
	#[arg(long, default_value_t = 1)]
	volume: u32,
	/// The tags the offer serves (bit 0: TEE).
	#[arg(long, default_value_t = 0)]
	tag: Tag,
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
	// Only the key service logs (its lines go to stderr, with time and level); the other
	// commands print their answers.
	commons_client::service::init_logging("warn,commons=info");
	let cli = Cli::parse();
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

/// A listing of the order book as JSON: the order's kind, what it sells or buys, its price per
/// task in units (for a request, the most it pays a workerpool) and its terms.
fn book_entry_json(entry: &commons_client::market::Published) -> serde_json::Value {
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
	serde_json::json!({
		"hash": format!("{:?}", entry.hash),
		"owner": entry.owner.to_string(),
		"kind": kind,
		"id": id,
		"price": price.to_string(),
		"remaining": entry.remaining,
		"volume": entry.order.volume(),
		"category": category,
		"trust": trust,
		"tag": tag,
		"expiry": entry.order.expiry(),
	})
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
	let chain = Chain::new("node", &cli.rpc)?;
	// What only reads needs no key.
	match cli.command {
		Command::Orders { app, dataset, workerpools, requests, min_trust, limit } => {
			let market = app
				.map(Market::App)
				.or(dataset.map(Market::Dataset))
				.or(workerpools.map(Market::Workerpool))
				.or(requests.map(Market::Request))
				.ok_or("name the market: --app, --dataset, --workerpools or --requests")?;
			let book = order_book(&chain, market, min_trust, limit).await?;
			if cli.json {
				let listed: Vec<_> = book.iter().map(book_entry_json).collect();
				println!("{}", serde_json::Value::Array(listed));
			} else {
				for entry in &book {
					println!(
						"{:?} by {} ({} left): {:?}",
						entry.hash, entry.owner, entry.remaining, entry.order
					);
				}
			}
			return Ok(());
		}
		Command::Deal { deal } => return run::show_deal(&chain, deal).await,
		_ => {}
	}
	let pair = signing_key(cli.key.as_deref(), |warning| eprintln!("commons: {warning}"))?;
	let account = AccountId::from(pair.public());
	let call = match cli.command {
		Command::Account => {
			let free = chain.free_balance(&account).await?;
			if cli.json {
				let answer =
					serde_json::json!({ "account": account.to_string(), "free": free.to_string() });
				println!("{answer}");
			} else {
				println!("{account}");
				println!("{free}");
			}
			return Ok(());
		}
		Command::CreateApp { name, uri, measurements } => pallet_marketplace::Call::create_app {
			name: bounded("name", name.as_bytes())?,
			checksum: checksum_of(&uri).await?,
			uri: bounded("URI", uri.as_bytes())?,
			measurements: measurements
				.into_iter()
				.map(|measurement| measurement.0)
				.collect::<Vec<_>>()
				.try_into()
				.map_err(|_| "more measurements than the chain allows an app".to_string())?,
		},
		Command::CreateDataset { name, uri, encrypted } => {
			pallet_marketplace::Call::create_dataset {
				name: bounded("name", name.as_bytes())?,
				checksum: checksum_of(&uri).await?,
				uri: bounded("URI", uri.as_bytes())?,
				encrypted,
			}
		}
		Command::EncryptDataset { input, output, key_file } => {
			let data = std::fs::read(&input)
				.map_err(|error| format!("cannot read {}: {error}", input.display()))?;
			let key = DatasetKey::generate();
			let encrypted = encrypt_dataset(&key, &data)?;
			key.save(&key_file)?;
			std::fs::write(&output, &encrypted)
				.map_err(|error| format!("cannot write {}: {error}", output.display()))?;
			println!("{}", sp_core::bytes::to_hex(&Sha256::digest(&encrypted), false));
			return Ok(());
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
		Command::PublishAppOrder { app, offer } => presign(Order::App(AppOrder {
			app,
			price: offer.price.0,
			volume: offer.volume,
			tag: offer.tag,
			dataset_restriction: Restriction::Any,
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: salt(&account),
			expiry: Some(offer.expiry_or_latest(&chain).await?),
		})),
		Command::PublishDatasetOrder { dataset, app, any_app: _, workerpool, requester, offer } => {
			presign(Order::Dataset(DatasetOrder {
				dataset,
				price: offer.price.0,
				volume: offer.volume,
				tag: offer.tag,
				app_restriction: only(app),
				workerpool_restriction: only(workerpool),
				requester_restriction: only(requester),
				salt: salt(&account),
				expiry: Some(offer.expiry_or_latest(&chain).await?),
			}))
		}
		Command::PublishWorkerpoolOrder { workerpool, category, trust, offer } => {
			presign(Order::Workerpool(WorkerpoolOrder {
				workerpool,
				price: offer.price.0,
				volume: offer.volume,
				tag: offer.tag,
				category,
				trust,
				app_restriction: Restriction::Any,
				dataset_restriction: Restriction::Any,
				requester_restriction: Restriction::Any,
				salt: salt(&account),
				expiry: Some(offer.expiry_or_latest(&chain).await?),
			}))
		}
		Command::Orders { .. } | Command::Deal { .. } => unreachable!("answered above"),
		Command::Run(request) => return run::run(&chain, &pair, request).await,
		Command::Claim { deal, index } => return claim(&chain, &pair, deal, index).await,
		Command::SubmitCollateral { file } => {
			return collateral::submit(&chain, &pair, &file).await
		}
		Command::KeyService(service) => return Ok(service.run(chain, pair).await?),
	};
	let events = chain.submit_and_wait(RuntimeCall::Marketplace(call), &pair).await?;
	match (created(&events), cli.json) {
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

async fn claim(
	chain: &Chain,
	pair: &sr25519::Pair,
	deal: sp_core::H256,
	index: u32,
) -> Result<(), String> {
	let call = pallet_contribution::Call::claim { deal, index };
	chain.submit_and_wait(RuntimeCall::Contribution(call), pair).await?;
	println!("task {index} of deal {deal:?} refunded");
	Ok(())
}
