//! Adversarial histories across the marketplace, the escrow and the contribution pallets: deals of
//! any price and volume (free ones, a pool owner buying from its own pool, an app owner with no
//! account, volumes far beyond the cap), silent and lying workers, and every call made by anyone
//! in any order. After every step:
//!
//! - every pallet's invariants hold: each hold equals the escrow's ledger, each payer and pool
//!   owner holds exactly what its live deals owe (so no payer is charged for another's deal),
//!   each worker exactly its stakes, each deal's count of unsettled tasks its opened and
//!   unopened ones;
//! - total issuance and the sum of every balance are unchanged (the tests dispatch without fees,
//!   and nothing the protocol does burns or mints);
//! - after an idle block, no deal past its final deadline is left unsettled.

use crate::{mock::*, Call as ContributionCall, Tasks};
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{fungible::Inspect, UnfilteredDispatchable},
	weights::Weight,
};
use pallet_marketplace::{DealId, Deals};
use proptest::{prelude::*, test_runner::TestRunner};
use sp_keyring::Sr25519Keyring;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The app the account without funds owns.
const NO_ACCOUNT_APP: pallet_marketplace::AppId = 1;
/// Who owns it: an account that never held anything.
const NO_ACCOUNT: Sr25519Keyring = Sr25519Keyring::Two;

/// Who buys what.
#[derive(Clone, Copy, Debug)]
enum DealKind {
	/// The fixture's prices, paid by the requester.
	Priced,
	/// Everything free.
	Free,
	/// The pool owner buys free tasks from its own pool.
	SelfDealt,
	/// An app owned by an account that does not exist, at the existential deposit.
	AppOwnerWithoutAccount,
}

#[derive(Clone, Debug)]
enum Step {
	MakeDeal { kind: DealKind, volume: u32, trust: u32 },
	Initialize { deal: usize, index: u32 },
	InitializeBatch { deal: usize, from: u32, count: u32 },
	OpenAndAssign { deal: usize, from: u32, workers: Vec<Vec<u8>> },
	Assign { deal: usize, index: u32, workers: Vec<u8> },
	Contribute { deal: usize, index: u32, worker: u8, honest: bool },
	ContributeAndFinalize { deal: usize, index: u32, worker: u8 },
	Reveal { deal: usize, index: u32, worker: u8, honest: bool },
	Finalize { deal: usize, index: u32 },
	Reopen { deal: usize, index: u32 },
	Claim { deal: usize, index: u32 },
	Advance { blocks: u64, idle: bool },
}

fn step() -> impl Strategy<Value = Step> {
	let deal = 0..8usize;
	let index = 0..6u32;
	let worker = 1..=WORKERS;
	let trust = prop_oneof![Just(1u32), Just(2), Just(4), Just(5)];
	let kind = prop_oneof![
		Just(DealKind::Priced),
		Just(DealKind::Free),
		Just(DealKind::SelfDealt),
		Just(DealKind::AppOwnerWithoutAccount),
	];
	prop_oneof![
		2 => (kind, prop_oneof![1..4u32, Just(u32::MAX)], trust)
			.prop_map(|(kind, volume, trust)| Step::MakeDeal { kind, volume, trust }),
		3 => (deal.clone(), index.clone()).prop_map(|(deal, index)| Step::Initialize { deal, index }),
		1 => (deal.clone(), index.clone(), 1..9u32)
			.prop_map(|(deal, from, count)| Step::InitializeBatch { deal, from, count }),
		2 => (
			deal.clone(),
			index.clone(),
			proptest::collection::vec(proptest::collection::vec(worker.clone(), 0..3), 1..5),
		)
			.prop_map(|(deal, from, workers)| Step::OpenAndAssign { deal, from, workers }),
		4 => (deal.clone(), index.clone(), proptest::collection::vec(worker.clone(), 1..4))
			.prop_map(|(deal, index, workers)| Step::Assign { deal, index, workers }),
		6 => (deal.clone(), index.clone(), worker.clone(), proptest::bool::weighted(0.8))
			.prop_map(|(deal, index, worker, honest)| Step::Contribute { deal, index, worker, honest }),
		1 => (deal.clone(), index.clone(), worker.clone())
			.prop_map(|(deal, index, worker)| Step::ContributeAndFinalize { deal, index, worker }),
		5 => (deal.clone(), index.clone(), worker, proptest::bool::weighted(0.9))
			.prop_map(|(deal, index, worker, honest)| Step::Reveal { deal, index, worker, honest }),
		1 => (deal.clone(), index.clone()).prop_map(|(deal, index)| Step::Finalize { deal, index }),
		1 => (deal.clone(), index.clone()).prop_map(|(deal, index)| Step::Reopen { deal, index }),
		1 => (deal, index).prop_map(|(deal, index)| Step::Claim { deal, index }),
		2 => (1..200u64, proptest::bool::weighted(0.7))
			.prop_map(|(blocks, idle)| Step::Advance { blocks, idle }),
	]
}

fn spec(kind: DealKind, volume: u32, trust: u32) -> DealSpec {
	let free =
		DealSpec { app_price: 0, dataset_price: None, pool_price: 0, ..DealSpec::trust(trust) };
	let spec = match kind {
		DealKind::Priced => DealSpec::trust(trust),
		DealKind::Free => free,
		DealKind::SelfDealt => DealSpec { requester: POOL_OWNER, ..free },
		DealKind::AppOwnerWithoutAccount => DealSpec {
			app: NO_ACCOUNT_APP,
			app_owner: NO_ACCOUNT,
			app_price: ExistentialDeposit::get(),
			..DealSpec::trust(trust)
		},
	};
	DealSpec { volume, ..spec }
}

/// Dispatches `call` as `who` the way a block would (in its own storage layer); refusals are
/// expected and ignored.
fn dispatch(who: AccountId, call: ContributionCall<Test>) {
	let _ = call.get_dispatch_info();
	let _ = call.dispatch_bypass_filter(RuntimeOrigin::signed(who));
}

/// The deals made so far, each with its volume.
struct Made(Vec<(DealId, u32)>);

impl Made {
	/// Deal `n` (modulo how many there are) and task `index` of it (modulo its volume).
	fn task(&self, n: usize, index: u32) -> Option<(DealId, u32, crate::TaskId)> {
		let (deal, volume) = *self.0.get(n % self.0.len().max(1))?;
		let index = index % volume.max(1);
		Some((deal, index, Contribution::task_id(&deal, index)))
	}
}

fn vote(task: crate::TaskId, who: &AccountId, honest: bool) -> ContributionCall<Test> {
	let (result_hash, result_seal) =
		Contribution::result_hash_and_seal(&task, who, &digest(if honest { 1 } else { 2 }));
	ContributionCall::contribute { task, result_hash, result_seal, enclave_signature: None }
}

fn apply(step: &Step, made: &mut Made) {
	let location = || bounded(b"http://result");
	match step.clone() {
		Step::MakeDeal { kind, volume, trust } => {
			// A match the payer cannot afford is refused; that is part of the story too.
			if let Ok(deal) = spec(kind, volume, trust).try_make() {
				let volume = Deals::<Test>::get(deal).expect("just made").volume;
				made.0.push((deal, volume));
			}
		}
		Step::Initialize { deal, index } => {
			if let Some((deal, index, _)) = made.task(deal, index) {
				dispatch(account(OUTSIDER), ContributionCall::initialize { deal, index });
			}
		}
		Step::InitializeBatch { deal, from, count } => {
			if let Some((deal, _, _)) = made.task(deal, 0) {
				let tasks: Vec<_> =
					(from..from.saturating_add(count)).map(|index| (deal, index)).collect();
				if let Ok(tasks) = tasks.try_into() {
					dispatch(account(OUTSIDER), ContributionCall::initialize_batch { tasks });
				}
			}
		}
		Step::OpenAndAssign { deal, from, workers } => {
			if let Some((deal, _, _)) = made.task(deal, 0) {
				let tasks: Vec<_> = (from..)
					.zip(workers)
					.filter_map(|(index, mut workers)| {
						workers.dedup();
						let workers: Vec<AccountId> = workers.into_iter().map(worker).collect();
						Some((index, workers.try_into().ok()?))
					})
					.collect();
				if let Ok(tasks) = tasks.try_into() {
					dispatch(account(SCHEDULER), ContributionCall::open_and_assign { deal, tasks });
				}
			}
		}
		Step::Assign { deal, index, workers } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				let mut workers: Vec<AccountId> = workers.into_iter().map(worker).collect();
				workers.dedup();
				if let Ok(workers) = workers.try_into() {
					dispatch(account(SCHEDULER), ContributionCall::assign { task, workers });
				}
			}
		}
		Step::Contribute { deal, index, worker: n, honest } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				dispatch(worker(n), vote(task, &worker(n), honest));
			}
		}
		Step::ContributeAndFinalize { deal, index, worker: n } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				dispatch(
					worker(n),
					ContributionCall::contribute_and_finalize {
						task,
						digest: digest(1),
						location: location(),
						enclave_signature: None,
					},
				);
			}
		}
		Step::Reveal { deal, index, worker: n, honest } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				let digest = digest(if honest { 1 } else { 2 });
				dispatch(
					worker(n),
					ContributionCall::reveal { task, digest, location: location() },
				);
			}
		}
		Step::Finalize { deal, index } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				dispatch(account(OUTSIDER), ContributionCall::finalize { task });
			}
		}
		Step::Reopen { deal, index } => {
			if let Some((_, _, task)) = made.task(deal, index) {
				dispatch(account(SCHEDULER), ContributionCall::reopen { task });
			}
		}
		Step::Claim { deal, index } => {
			if let Some((deal, index, _)) = made.task(deal, index) {
				dispatch(account(OUTSIDER), ContributionCall::claim { deal, index });
			}
		}
		Step::Advance { blocks, idle } => {
			let weight = if idle { Weight::MAX } else { Weight::zero() };
			run_to_block(System::block_number() + blocks, weight);
		}
	}
}

/// Every account that can hold funds here, and the kitty's.
fn everyone() -> Vec<AccountId> {
	[APP_OWNER, DATASET_OWNER, POOL_OWNER, REQUESTER, OUTSIDER, SCHEDULER, NO_ACCOUNT]
		.into_iter()
		.map(account)
		.chain((1..=WORKERS).map(worker))
		.chain([Escrow::kitty_account()])
		.collect()
}

/// After a block with all the idle weight it needs, no deal past its final deadline is live.
fn check_sweep_caught_up() {
	let now = System::block_number();
	for (deal_id, deal) in Deals::<Test>::iter() {
		let final_deadline = Contribution::deadlines(&deal).expect("a category").settlement;
		assert!(now < final_deadline, "deal {deal_id:?} expired at {final_deadline}, now {now}");
	}
}

/// One history: returns how many calls it made.
fn run_history(steps: &[Step]) -> usize {
	new_test_ext().execute_with(|| {
		// Registered (and its deposit paid) by a funded account, then handed to nobody.
		assert!(Marketplace::create_app(
			RuntimeOrigin::signed(account(APP_OWNER)),
			bounded(b"nobody's"),
			bounded(b"file:///apps/nobody.wasm"),
			[9; 32],
			Default::default(),
			Default::default(),
		)
		.is_ok());
		assert!(Marketplace::transfer_app(
			RuntimeOrigin::signed(account(APP_OWNER)),
			NO_ACCOUNT_APP,
			account(NO_ACCOUNT),
		)
		.is_ok());
		let issuance = Balances::total_issuance();
		let held_by_everyone = || everyone().iter().map(Balances::total_balance).sum::<Balance>();
		let total = held_by_everyone();
		let mut made = Made(Vec::new());
		for step in steps {
			apply(step, &mut made);
			check_invariants();
			assert_eq!(Balances::total_issuance(), issuance, "after {step:?}");
			assert_eq!(held_by_everyone(), total, "after {step:?}");
			if matches!(step, Step::Advance { idle: true, .. }) {
				check_sweep_caught_up();
			}
		}
		// Past every deadline, the sweep settles everything and releases every hold.
		run_to_block(System::block_number() + 10 * T_BLOCKS + 1, Weight::MAX);
		check_invariants();
		assert_eq!(Deals::<Test>::iter().count(), 0);
		assert!(Tasks::<Test>::iter().all(|(_, task)| task.status.is_settled()));
		assert_eq!(held_by_everyone(), total);
		steps.len()
	})
}

#[test]
fn adversarial_histories_conserve_money_and_settle_every_deal() {
	static CALLS: AtomicUsize = AtomicUsize::new(0);
	let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
	runner
		.run(&proptest::collection::vec(step(), 300..500), |steps| {
			CALLS.fetch_add(run_history(&steps), Ordering::Relaxed);
			Ok(())
		})
		.unwrap();
	// The protocol's claims are checked over many calls, not a handful.
	assert!(CALLS.load(Ordering::Relaxed) >= 100_000, "{} calls", CALLS.load(Ordering::Relaxed));
}
