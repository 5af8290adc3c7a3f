//! The contribution pallet's runtime API: enough for a compute node, a scheduler and a CLI to
//! follow a task without re-implementing its ids or hashes.

use alloc::vec::Vec;
use codec::Codec;
use pallet_marketplace::{DealId, WorkerpoolId};

use crate::types::{ResultDigest, ResultHash, ResultSeal, TaskId};

sp_api::decl_runtime_apis! {
	/// Reads of tasks and scores. `Task` is the runtime's `Task<Runtime>`.
	///
	/// Version 2 (spec 106): scores are per workerpool, so `score` names the pool.
	#[api_version(2)]
	pub trait ContributionApi<AccountId, Task>
	where
		AccountId: Codec,
		Task: Codec,
	{
		/// The id of task `index` of `deal`.
		fn task_id(deal: DealId, index: u32) -> TaskId;

		/// The task with id `task`, once initialized: its status, deadlines, assigned workers,
		/// contributions, vote tally, consensus and result.
		fn task(task: TaskId) -> Option<Task>;

		/// `worker`'s score in `workerpool` and the vote weight it gives there.
		fn score(workerpool: WorkerpoolId, worker: AccountId) -> (u32, u32);

		/// `worker`'s score and vote weight when scores were global (version 1).
		#[changed_in(2)]
		fn score(worker: AccountId) -> (u32, u32);

		/// The result hash and seal `worker` contributes for `digest` on `task`.
		fn result_hash_and_seal(
			task: TaskId,
			worker: AccountId,
			digest: ResultDigest,
		) -> (ResultHash, ResultSeal);

		/// The message a worker's enclave signs over its result on `task`.
		fn enclave_message(task: TaskId, result_hash: ResultHash, result_seal: ResultSeal) -> Vec<u8>;
	}
}
