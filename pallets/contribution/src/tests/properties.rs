//! Random interleavings of contributions, batches of results, reveals, finalizations,
//! reopenings, claims, expiry and dataset key releases over several tasks, confidential or not:
//! money is conserved, the holds always equal the accounting, and sealed keys exist only for
//! assigned workers of unsettled confidential tasks.

use crate::{mock::*, Call as ContributionCall, SealedDatasetKey, TaskId, Tasks};
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{fungible::Inspect, UnfilteredDispatchable},
	weights::Weight,
};
use pallet_escrow::{Escrow as _, Purpose};
use pallet_marketplace::Deals;
use proptest::prelude::*;

/// How many deals each case runs (two tasks each, the steps acting on the first).
const TASKS: usize = 4;

#[derive(Clone, Debug)]
enum Step {
	Contribute {
		task: usize,
		worker: u8,
		honest: bool,
	},
	ContributeAndFinalize {
		task: usize,
		worker: u8,
	},
	/// `worker` settles the listed task indexes of `task`'s deal in one batch: indexes 0 and 1
	/// are its tasks (0 the one the other steps act on), 2 is out of range, and a repeat is
	/// refused.
	ContributeAndFinalizeBatch {
		task: usize,
		worker: u8,
		indexes: Vec<u32>,
	},
	Reveal {
		task: usize,
		worker: u8,
		honest: bool,
	},
	Finalize {
		task: usize,
	},
	Reopen {
		task: usize,
	},
	Claim {
		task: usize,
	},
	Advance {
		blocks: u64,
		idle: bool,
	},
	/// The dataset's owner releases its key to `worker`, sealed to its enclave's key unless
	/// `misdirected`; a `rekeyed` enclave re-registered with a new key first.
	ReleaseKey {
		task: usize,
		worker: u8,
		rekeyed: bool,
		misdirected: bool,
	},
}

fn step() -> impl Strategy<Value = Step> {
	let task = 0..TASKS;
	let worker = 1..=WORKERS;
	// Mostly honest workers, so that many tasks reach consensus and settle.
	let honest = || proptest::bool::weighted(0.8);
	prop_oneof![
		4 => (task.clone(), worker.clone(), honest())
			.prop_map(|(task, worker, honest)| Step::Contribute { task, worker, honest }),
		1 => (task.clone(), worker.clone())
			.prop_map(|(task, worker)| Step::ContributeAndFinalize { task, worker }),
		1 => (task.clone(), worker.clone(), proptest::collection::vec(prop_oneof![4 => Just(0u32), 4 => Just(1), 1 => Just(2)], 0..4))
			.prop_map(|(task, worker, indexes)| Step::ContributeAndFinalizeBatch { task, worker, indexes }),
		4 => (task.clone(), worker, honest())
			.prop_map(|(task, worker, honest)| Step::Reveal { task, worker, honest }),
		1 => task.clone().prop_map(|task| Step::Finalize { task }),
		1 => task.clone().prop_map(|task| Step::Reopen { task }),
		1 => task.prop_map(|task| Step::Claim { task }),
		2 => (1..120u64, any::<bool>()).prop_map(|(blocks, idle)| Step::Advance { blocks, idle }),
		2 => (0..TASKS, 1..=WORKERS, proptest::bool::weighted(0.2), proptest::bool::weighted(0.1))
			.prop_map(|(task, worker, rekeyed, misdirected)| {
				Step::ReleaseKey { task, worker, rekeyed, misdirected }
			}),
	]
}

fn digest_for(honest: bool) -> crate::ResultDigest {
	digest(if honest { 1 } else { 2 })
}

/// Dispatches `call` as `who` the way a block would (in its own storage layer); refusals are
/// expected and ignored.
fn dispatch(who: AccountId, call: ContributionCall<Test>) {
	let _ = call.get_dispatch_info();
	let _ = call.dispatch_bypass_filter(RuntimeOrigin::signed(who));
}

/// The enclave signature `who` gives a vote for `digest` on `task`, if the task is confidential.
fn signature(
	confidential: bool,
	who: &AccountId,
	task: TaskId,
	digest: crate::ResultDigest,
) -> Option<crate::EnclaveSignature> {
	let (hash, seal) = Contribution::result_hash_and_seal(&task, who, &digest);
	confidential
		.then(|| TestEnclaves::sign(who, &Contribution::enclave_message(&task, &hash, &seal)))
}

fn apply(
	step: &Step,
	tasks: &[TaskId],
	deals: &[pallet_marketplace::DealId],
	confidential: &[bool],
) {
	match *step {
		Step::Contribute { task, worker: n, honest } => {
			let who = worker(n);
			let (result_hash, result_seal) =
				Contribution::result_hash_and_seal(&tasks[task], &who, &digest_for(honest));
			let enclave_signature =
				signature(confidential[task], &who, tasks[task], digest_for(honest));
			dispatch(
				who,
				ContributionCall::contribute {
					task: tasks[task],
					result_hash,
					result_seal,
					enclave_signature,
				},
			);
		}
		Step::ContributeAndFinalize { task, worker: n } => dispatch(
			worker(n),
			ContributionCall::contribute_and_finalize {
				task: tasks[task],
				digest: digest(1),
				location: bounded(b"http://result"),
				enclave_signature: signature(
					confidential[task],
					&worker(n),
					tasks[task],
					digest(1),
				),
			},
		),
		Step::ContributeAndFinalizeBatch { task, worker: n, ref indexes } => {
			let results: Vec<_> = indexes
				.iter()
				.map(|&index| crate::SingleResult {
					index,
					digest: digest(1),
					location: bounded(b"http://result"),
					enclave_signature: signature(
						confidential[task],
						&worker(n),
						Contribution::task_id(&deals[task], index),
						digest(1),
					),
				})
				.collect();
			dispatch(
				worker(n),
				ContributionCall::contribute_and_finalize_batch {
					deal: deals[task],
					results: results.try_into().expect("within the mock's batch bound"),
				},
			)
		}
		Step::Reveal { task, worker: n, honest } => dispatch(
			worker(n),
			ContributionCall::reveal {
				task: tasks[task],
				digest: digest_for(honest),
				location: bounded(b"http://result"),
			},
		),
		Step::Finalize { task } => {
			dispatch(account(OUTSIDER), ContributionCall::finalize { task: tasks[task] })
		}
		Step::Reopen { task } => {
			dispatch(account(SCHEDULER), ContributionCall::reopen { task: tasks[task] })
		}
		Step::Claim { task } => {
			dispatch(account(OUTSIDER), ContributionCall::claim { deal: deals[task], index: 0 })
		}
		Step::Advance { blocks, idle } => {
			let weight = if idle { Weight::MAX } else { Weight::zero() };
			run_to_block(System::block_number() + blocks, weight);
		}
		Step::ReleaseKey { task, worker: n, rekeyed, misdirected } => {
			let who = worker(n);
			if rekeyed {
				// Never the misdirected key below.
				TestEnclaves::rekey(&who, [(System::block_number() as u8 ^ n) & 0x7f; 32]);
			}
			let enclave_key = TestEnclaves::encryption_key(&who).unwrap_or_default();
			let recipient = if misdirected { [0xff; 32] } else { enclave_key };
			let sealed = SealedDatasetKey { ephemeral: [n; 32], recipient, ciphertext: [n; 48] };
			dispatch(
				account(DATASET_OWNER),
				ContributionCall::release_dataset_key { task: tasks[task], worker: who, sealed },
			);
		}
	}
}

/// Sealed keys exist only on confidential tasks, and never for a key other than the enclave's
/// the worker was assigned with (the pallet's own invariants cover the rest: only assigned
/// workers, only to their pinned enclaves, none once settled).
fn check_sealed_keys(tasks: &[TaskId], confidential: &[bool]) {
	for (task, confidential) in tasks.iter().zip(confidential) {
		// A task pruned after its retention keeps no key.
		let Some(entry) = Tasks::<Test>::get(task) else { continue };
		assert!(*confidential || entry.dataset_keys.is_empty(), "a key on a plain task");
		for (_, sealed) in &entry.dataset_keys {
			assert_ne!(sealed.recipient, [0xff; 32], "a misdirected key was accepted");
		}
	}
}

/// Every account the tests fund, and the kitty's.
fn everyone() -> Vec<AccountId> {
	[APP_OWNER, DATASET_OWNER, POOL_OWNER, REQUESTER, OUTSIDER, SCHEDULER]
		.into_iter()
		.map(account)
		.chain((1..=WORKERS).map(worker))
		.chain([stranger(), Escrow::kitty_account()])
		.collect()
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn random_task_histories_conserve_money(
		trusts in proptest::collection::vec(prop_oneof![Just(1u32), Just(3), Just(4), Just(16)], TASKS),
		confidential in proptest::collection::vec(any::<bool>(), TASKS),
		steps in proptest::collection::vec(step(), 1..80),
	) {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let held_by_everyone = || everyone().iter().map(Balances::total_balance).sum::<Balance>();
			let total = held_by_everyone();

			// Workers 1 to 5 have enclaves the app allows; worker 6 has none.
			for n in 1..=5 {
				TestEnclaves::attest(&worker(n), APP_MEASUREMENT);
			}
			let mut deals = Vec::new();
			let mut tasks = Vec::new();
			for (trust, confidential) in trusts.iter().zip(&confidential) {
				let spec = match confidential {
					true => DealSpec {
						tag: pallet_marketplace::tag::TEE | pallet_marketplace::tag::SGX,
						dataset: ENCRYPTED_DATASET,
						..DealSpec::trust(*trust)
					},
					false => DealSpec::trust(*trust),
				};
				// Two tasks, so that a batch may settle more than one; the other steps act on
				// the first, and the second is settled by a batch or at the final deadline.
				let deal = DealSpec { volume: 2, ..spec }.make();
				for index in 0..2 {
					let task = Contribution::task_id(&deal, index);
					dispatch(account(OUTSIDER), ContributionCall::initialize { deal, index });
					// Workers 1 to 5 are assigned; worker 6 never is.
					dispatch(
						account(SCHEDULER),
						ContributionCall::assign {
							task,
							workers: (1..=5).map(worker).collect::<Vec<_>>().try_into().unwrap(),
						},
					);
				}
				deals.push(deal);
				tasks.push(Contribution::task_id(&deal, 0));
			}

			for step in &steps {
				apply(step, &tasks, &deals, &confidential);
				check_invariants();
				check_sealed_keys(&tasks, &confidential);
				assert_eq!(Balances::total_issuance(), issuance, "after {step:?}");
				assert_eq!(held_by_everyone(), total, "after {step:?}");
			}

			// Past every deadline, the sweep settles everything and releases every hold.
			run_to_block(System::block_number() + 10 * T_BLOCKS + 1, Weight::MAX);
			check_invariants();
			for task in &tasks {
				// Settled, and maybe pruned already.
				assert!(Tasks::<Test>::get(task).is_none_or(|task| task.dataset_keys.is_empty()));
			}
			for deal in &deals {
				assert!(Deals::<Test>::get(deal).is_none());
			}
			// Only the registrations' deposits stay held.
			for purpose in Purpose::ALL.into_iter().filter(|p| *p != Purpose::StorageDeposit) {
				assert_eq!(Escrow::total_locked(purpose), 0);
			}
			assert_eq!(Balances::total_issuance(), issuance);
			assert_eq!(held_by_everyone(), total);
		});
	}
}
