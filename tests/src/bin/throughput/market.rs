//! The market the harness trades in, and the waves of a task's life in it.
//!
//! Alice registers an app and a workerpool, presigns an order for each; the pool's
//! scheduler and workers are harness keys (so no node's off-chain worker schedules for it), and
//! requesters sign one request order per deal. A task then takes three transactions, each a wave
//! of its own: the match (one per deal), `open_and_assign` (one per 64 tasks of a deal, signed
//! by the scheduler as its off-chain worker does) and its worker's result: one
//! `contribute_and_finalize_batch` per worker and deal, or one `contribute_and_finalize` per
//! task. A replicated task (three workers at trust 5) takes the match, `open_and_assign`,
//! then a `contribute` and a `reveal` by each worker, the last reveal finalizing it.

use std::collections::BTreeMap;

use commons_client::Chain;
use commons_runtime::{
	signing::{sign, ChainIdentity, Lifetime},
	AccountId, Balance, Nonce, Runtime, RuntimeCall, RuntimeEvent, Signature, UncheckedExtrinsic,
	CMN, EXISTENTIAL_DEPOSIT,
};
use pallet_contribution::TaskId;
use pallet_marketplace::{
	AppId, AppOrder, DealId, Order, Payer, PoolPolicy, RequestOrder, Restriction, Signed,
	WorkerpoolId, WorkerpoolOrder,
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{
	traits::{BlakeTwo256, Hash as _},
	BoundedVec, Percent,
};

use crate::wave::Wave;

/// How long a harness transaction stays valid, in blocks: longer than any wave takes (the
/// lifetime is renewed before each wave).
const MORTAL_PERIOD: u64 = 1024;
/// The category the pool sells: the reference protocol's XS.
const CATEGORY: u32 = 0;
/// The app's and the pool's price per task: the least a non-zero price may be.
const PRICE: Balance = EXISTENTIAL_DEPOSIT;
/// The trust of replicated tasks: the least at which three fresh workers (weight 2 each) must
/// agree, two not being enough (see the contribution pallet's consensus). The pool's order
/// accepts it, and trust 1 below it.
pub const REPLICATED_TRUST: u32 = 5;
/// How many workers a replicated task takes.
pub const REPLICATED_WORKERS: usize = 3;
/// The digest every worker computes.
const DIGEST: H256 = H256::repeat_byte(7);
/// How many tasks one `open_and_assign` opens (the runtime's `MaxInitializeBatch`).
const OPEN_BATCH: usize = 64;

/// Signs calls for the live chain with keys the harness derives, counting each key's nonces.
pub struct Keys {
	identity: ChainIdentity,
	lifetime: Lifetime,
	nonces: BTreeMap<AccountId, Nonce>,
}

impl Keys {
	/// Keys for `chain` as it is now.
	pub async fn new(chain: &Chain) -> Self {
		let identity = chain.chain_identity().await.expect("the node answers");
		let lifetime = Self::from_now(chain).await;
		Self { identity, lifetime, nonces: BTreeMap::new() }
	}

	/// Makes the next transactions valid from the best block on, at the nonces the chain counts
	/// now: a wave whose transactions were refused or dropped leaves no gap for the next.
	pub async fn refresh(&mut self, chain: &Chain) {
		self.lifetime = Self::from_now(chain).await;
		self.nonces.clear();
	}

	async fn from_now(chain: &Chain) -> Lifetime {
		let best = chain.best_number().await.expect("the node answers");
		let from_hash = chain.block_hash(best).await.expect("the node answers");
		Lifetime::Mortal { period: MORTAL_PERIOD, from_number: best, from_hash }
	}

	/// The harness key called `name`.
	pub fn pair(name: &str) -> sr25519::Pair {
		sr25519::Pair::from_string(&format!("//Alice//bench//{name}"), None)
			.expect("a derivation of a development key")
	}

	/// `call` signed by `signer` at its next nonce (read from `chain` the first time).
	pub async fn sign(
		&mut self,
		chain: &Chain,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> UncheckedExtrinsic {
		let account = AccountId::from(signer.public());
		let nonce = match self.nonces.get(&account) {
			Some(nonce) => *nonce,
			None => chain.next_nonce(&account).await.expect("the node answers"),
		};
		self.nonces.insert(account, nonce + 1);
		sign(call, signer, nonce, self.lifetime, 0, &self.identity)
	}
}

/// Sends `amount` to each of `accounts` from Alice, in batches, waiting for each to finalize.
pub async fn fund(chain: &Chain, accounts: &[AccountId], amount: Balance) {
	let alice = sr25519::Pair::from_string("//Alice", None).expect("a development key");
	for chunk in accounts.chunks(500) {
		let calls = chunk
			.iter()
			.map(|account| {
				RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
					dest: account.clone().into(),
					value: amount,
				})
			})
			.collect();
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
		chain
			.submit_and_wait(batch, &alice)
			.await
			.expect("Alice funds the harness's accounts");
	}
}

/// Transfers in a ring: each of `senders` sends `per_sender` small transfers to the next.
pub async fn transfers(
	chain: &Chain,
	keys: &mut Keys,
	senders: &[sr25519::Pair],
	per_sender: usize,
) -> Wave {
	let mut extrinsics = Vec::new();
	for round in 0..per_sender {
		for (index, sender) in senders.iter().enumerate() {
			let next = &senders[(index + 1) % senders.len()];
			let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: AccountId::from(next.public()).into(),
				value: EXISTENTIAL_DEPOSIT + round as Balance,
			});
			extrinsics.push(keys.sign(chain, sender, call).await);
		}
	}
	Wave { name: "balance transfer".into(), extrinsics }
}

/// A task the harness's scheduler opened, and the workers it gave it (indexes into the
/// market's workers).
pub struct Assigned {
	pub deal: DealId,
	pub index: u32,
	pub task: TaskId,
	pub workers: Vec<usize>,
}

/// An app and a trust-1 workerpool with presigned orders, its scheduler and its workers.
pub struct Market {
	app_order: AppOrder<Runtime>,
	pool_order: WorkerpoolOrder<Runtime>,
	scheduler: sr25519::Pair,
	workers: Vec<sr25519::Pair>,
}

impl Market {
	/// Registers the app and a pool, funds and joins `workers` new workers (keys named after
	/// `name`), presigns the orders. A new market's workers have no score yet.
	pub async fn open(chain: &Chain, name: &str, workers: usize) -> Self {
		let alice = sr25519::Pair::from_string("//Alice", None).expect("a development key");
		let scheduler = Keys::pair(&format!("{name}-scheduler"));
		let workers: Vec<_> =
			(0..workers).map(|i| Keys::pair(&format!("{name}-worker{i}"))).collect();
		let mut funded: Vec<AccountId> =
			workers.iter().map(|worker| AccountId::from(worker.public())).collect();
		funded.push(AccountId::from(scheduler.public()));
		fund(chain, &funded, 1_000 * CMN).await;

		let events = submit(
			chain,
			&alice,
			marketplace(pallet_marketplace::Call::create_app {
				name: bounded(b"bench"),
				uri: bounded(b"file:///bench.wasm"),
				checksum: [1; 32],
				measurements: BoundedVec::default(),
				kind: pallet_marketplace::AppKind::Wasi,
			}),
		)
		.await;
		let app = created_app(&events);
		let call = pallet_marketplace::Call::create_workerpool {
			description: bounded(b"bench"),
			policy: PoolPolicy {
				worker_stake_ratio: Percent::from_percent(30),
				pool_owner_reward_ratio: Percent::from_percent(10),
			},
			scheduler: AccountId::from(scheduler.public()),
			open: true,
		};
		let pool = created_pool(&submit(chain, &alice, marketplace(call)).await);
		submit(
			chain,
			&scheduler,
			marketplace(pallet_marketplace::Call::accept_scheduling { workerpool: pool }),
		)
		.await;
		// Each worker signs its own, so they may all be in one block.
		futures::future::join_all(workers.iter().map(|worker| {
			let join = pallet_marketplace::Call::join_workerpool {
				workerpool: pool,
				endpoint: bounded(b"http://127.0.0.1:9/"),
				capabilities: 0,
			};
			submit(chain, worker, marketplace(join))
		}))
		.await;

		let expiry = Some(commons_client::market::latest_expiry(chain).await.expect("answers"));
		let app_order = AppOrder::<Runtime> {
			app,
			price: PRICE,
			volume: u32::MAX,
			tag: 0,
			dataset_restriction: Restriction::Any,
			workerpool_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: [1; 32],
			expiry,
		};
		let pool_order = WorkerpoolOrder::<Runtime> {
			workerpool: pool,
			price: PRICE,
			volume: u32::MAX,
			tag: 0,
			category: CATEGORY,
			trust: REPLICATED_TRUST,
			app_restriction: Restriction::Any,
			dataset_restriction: Restriction::Any,
			requester_restriction: Restriction::Any,
			salt: [2; 32],
			expiry,
		};
		let presign = |order| marketplace(pallet_marketplace::Call::presign_order { order });
		let both = vec![
			presign(Order::App(app_order.clone())),
			presign(Order::Workerpool(pool_order.clone())),
		];
		submit(
			chain,
			&alice,
			RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: both }),
		)
		.await;
		Self { app_order, pool_order, scheduler, workers }
	}

	/// One match per deal of `volume` tasks at `trust`, `tasks` tasks in all, each signed by one
	/// of `requesters` (who pay).
	pub async fn matches(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		requesters: &[sr25519::Pair],
		tasks: usize,
		(volume, trust): (u32, u32),
	) -> Wave {
		let expiry = Some(commons_client::market::latest_expiry(chain).await.expect("answers"));
		let mut extrinsics = Vec::new();
		for deal in 0..tasks.div_ceil(volume as usize) {
			let requester = &requesters[deal % requesters.len()];
			let account = AccountId::from(requester.public());
			let order = RequestOrder::<Runtime> {
				app: self.app_order.app,
				app_max_price: PRICE,
				dataset: None,
				dataset_max_price: 0,
				workerpool_restriction: Restriction::Any,
				workerpool_max_price: PRICE,
				requester: account.clone(),
				volume,
				tag: 0,
				category: CATEGORY,
				trust,
				beneficiary: account,
				params: bounded(b"bench"),
				payer: Payer::Requester,
				salt: BlakeTwo256::hash_of(&(volume, trust, deal as u64)).0,
				expiry,
			};
			let payload: Vec<u8> = chain
				.runtime_api("MarketplaceApi_signing_payload", Order::Request(order.clone()))
				.await
				.expect("the node answers");
			let signature = Signature::from(requester.sign(&payload));
			let call = pallet_marketplace::Call::match_orders {
				app_order: Signed { order: self.app_order.clone(), signature: None },
				dataset_order: None,
				workerpool_order: Signed { order: self.pool_order.clone(), signature: None },
				request_order: Box::new(Signed { order, signature: Some(signature) }),
				sponsor_signature: None,
			};
			extrinsics.push(keys.sign(chain, requester, marketplace(call)).await);
		}
		Wave { name: format!("match (volume {volume}, trust {trust})"), extrinsics }
	}

	/// `open_and_assign` for every task of `deals`, a batch of one deal's tasks per call, signed
	/// by the scheduler as its off-chain worker does, each task given `per_task` workers, the
	/// workers taking turns; returns the wave and each task's workers.
	pub async fn openings(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		deals: &[(DealId, u32)],
		per_task: usize,
	) -> (Wave, Vec<Assigned>) {
		let mut extrinsics = Vec::new();
		let mut assigned = Vec::new();
		let mut turn = 0;
		for (deal, volume) in deals {
			let indices: Vec<u32> = (0..*volume).collect();
			for chunk in indices.chunks(OPEN_BATCH) {
				let mut tasks = Vec::new();
				for index in chunk {
					let chosen: Vec<usize> =
						(0..per_task).map(|k| (turn + k) % self.workers.len()).collect();
					turn += per_task;
					let workers: Vec<AccountId> = chosen
						.iter()
						.map(|worker| AccountId::from(self.workers[*worker].public()))
						.collect();
					tasks.push((*index, workers.try_into().expect("at most MaxContributors")));
					let task = pallet_contribution::Pallet::<Runtime>::task_id(deal, *index);
					assigned.push(Assigned { deal: *deal, index: *index, task, workers: chosen });
				}
				let call = pallet_contribution::Call::open_and_assign {
					deal: *deal,
					tasks: tasks.try_into().expect("at most the batch's bound"),
				};
				let call = RuntimeCall::Contribution(call);
				extrinsics.push(keys.sign(chain, &self.scheduler, call).await);
			}
		}
		(Wave { name: "open_and_assign".into(), extrinsics }, assigned)
	}

	/// One `contribute_and_finalize` per assigned trust-1 task, signed by its worker.
	pub async fn contributions(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		assigned: &[Assigned],
	) -> Wave {
		let mut extrinsics = Vec::new();
		for Assigned { task, workers, .. } in assigned {
			let call = pallet_contribution::Call::contribute_and_finalize {
				task: *task,
				digest: DIGEST,
				location: bounded(b"file:///result"),
				enclave_signature: None,
			};
			let call = RuntimeCall::Contribution(call);
			extrinsics.push(keys.sign(chain, &self.workers[workers[0]], call).await);
		}
		Wave { name: "contribute_and_finalize".into(), extrinsics }
	}

	/// The same results as [`Self::contributions`], each worker sending its tasks of a deal
	/// together: one `contribute_and_finalize_batch` per worker and deal (per 64 tasks).
	pub async fn batched_contributions(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		assigned: &[Assigned],
	) -> Wave {
		let mut by_worker_and_deal: BTreeMap<(usize, DealId), Vec<u32>> = BTreeMap::new();
		for Assigned { deal, index, workers, .. } in assigned {
			by_worker_and_deal.entry((workers[0], *deal)).or_default().push(*index);
		}
		let mut extrinsics = Vec::new();
		for ((worker, deal), indexes) in by_worker_and_deal {
			for chunk in indexes.chunks(OPEN_BATCH) {
				let results: Vec<_> = chunk
					.iter()
					.map(|&index| pallet_contribution::SingleResult {
						index,
						digest: DIGEST,
						location: bounded(b"file:///result"),
						enclave_signature: None,
					})
					.collect();
				let call = pallet_contribution::Call::contribute_and_finalize_batch {
					deal,
					results: results.try_into().expect("at most the batch's bound"),
				};
				let call = RuntimeCall::Contribution(call);
				extrinsics.push(keys.sign(chain, &self.workers[worker], call).await);
			}
		}
		Wave { name: "contribute_and_finalize_batch".into(), extrinsics }
	}

	/// One `contribute` per worker of each assigned task, all for the same digest; with
	/// `batched`, each worker's votes of a deal in one `utility.force_batch` (per 64).
	pub async fn votes(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		assigned: &[Assigned],
		batched: bool,
	) -> Wave {
		let calls = self.each_workers_calls(assigned, |task, worker| {
			let (result_hash, result_seal) =
				pallet_contribution::Pallet::<Runtime>::result_hash_and_seal(
					task,
					&AccountId::from(worker.public()),
					&DIGEST,
				);
			pallet_contribution::Call::contribute {
				task: *task,
				result_hash,
				result_seal,
				enclave_signature: None,
			}
		});
		self.signed(chain, keys, calls, batched, "contribute").await
	}

	/// One `reveal` per worker of each assigned task: the last of each finalizes it; with
	/// `batched`, each worker's reveals of a deal in one `utility.force_batch` (per 64).
	pub async fn reveals(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		assigned: &[Assigned],
		batched: bool,
	) -> Wave {
		let calls =
			self.each_workers_calls(assigned, |task, _| pallet_contribution::Call::reveal {
				task: *task,
				digest: DIGEST,
				location: bounded(b"file:///result"),
			});
		self.signed(chain, keys, calls, batched, "reveal").await
	}

	/// `call` for each worker of each assigned task, grouped by worker and deal, in the order
	/// the tasks were assigned.
	fn each_workers_calls(
		&self,
		assigned: &[Assigned],
		call: impl Fn(&TaskId, &sr25519::Pair) -> pallet_contribution::Call<Runtime>,
	) -> BTreeMap<(usize, DealId), Vec<RuntimeCall>> {
		let mut calls: BTreeMap<(usize, DealId), Vec<RuntimeCall>> = BTreeMap::new();
		for Assigned { deal, task, workers, .. } in assigned {
			for worker in workers {
				let made = RuntimeCall::Contribution(call(task, &self.workers[*worker]));
				calls.entry((*worker, *deal)).or_default().push(made);
			}
		}
		calls
	}

	/// Each worker's `calls` signed by it: one extrinsic per call, or with `batched` one
	/// `utility.force_batch` per 64 calls of a deal (as a compute node would batch votes: each
	/// stands or fails on its own).
	async fn signed(
		&self,
		chain: &Chain,
		keys: &mut Keys,
		calls: BTreeMap<(usize, DealId), Vec<RuntimeCall>>,
		batched: bool,
		name: &str,
	) -> Wave {
		let mut extrinsics = Vec::new();
		for ((worker, _), calls) in calls {
			let signer = &self.workers[worker];
			if batched {
				for chunk in calls.chunks(OPEN_BATCH) {
					let batch = pallet_utility::Call::force_batch { calls: chunk.to_vec() };
					extrinsics.push(keys.sign(chain, signer, RuntimeCall::Utility(batch)).await);
				}
			} else {
				for call in calls {
					extrinsics.push(keys.sign(chain, signer, call).await);
				}
			}
		}
		let name = if batched { format!("{name} (utility.force_batch)") } else { name.into() };
		Wave { name, extrinsics }
	}
}

/// The deals (and their volumes) that `events` created.
pub fn deals_created(events: &[RuntimeEvent]) -> Vec<(DealId, u32)> {
	events
		.iter()
		.filter_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::DealCreated {
				deal,
				volume,
				..
			}) => Some((*deal, *volume)),
			_ => None,
		})
		.collect()
}

/// How many tasks `events` finalized.
pub fn tasks_finalized(events: &[RuntimeEvent]) -> usize {
	events
		.iter()
		.filter(|event| {
			matches!(
				event,
				RuntimeEvent::Contribution(pallet_contribution::Event::TaskFinalized { .. })
			)
		})
		.count()
}

/// Submits `call` signed by `signer` and waits for it to finalize; the harness stops if it
/// fails.
async fn submit(chain: &Chain, signer: &sr25519::Pair, call: RuntimeCall) -> Vec<RuntimeEvent> {
	chain
		.submit_and_wait(call, signer)
		.await
		.unwrap_or_else(|error| panic!("setup: {error}"))
}

fn marketplace(call: pallet_marketplace::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Marketplace(call)
}

fn bounded<S: sp_core::Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().expect("a short constant")
}

fn created_app(events: &[RuntimeEvent]) -> AppId {
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::AppCreated { app, .. }) => {
				Some(*app)
			}
			_ => None,
		})
		.expect("create_app created an app")
}

fn created_pool(events: &[RuntimeEvent]) -> WorkerpoolId {
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Marketplace(pallet_marketplace::Event::WorkerpoolCreated {
				workerpool,
				..
			}) => Some(*workerpool),
			_ => None,
		})
		.expect("create_workerpool created a workerpool")
}
