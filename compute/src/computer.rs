//! Computing a task on this machine, the worker's real [`Compute`]: fetches the app's module and
//! the dataset the registry names, checks them against the registry's checksums, decrypts an
//! encrypted dataset with the key released to the enclave, and runs the task with [`run_task`]
//! in `results/<task>/` of the work directory, where the endpoint serves it.

use std::{
	fs,
	path::{Path, PathBuf},
};

use commons_client::{confidential::decrypt_dataset, fetch::fetch_checked, Chain};
use commons_runtime::Runtime;
use pallet_contribution::{ResultDigest, TaskId};
use pallet_marketplace::Deal;

use crate::{
	digest,
	task_runner::{run_task, TaskInputs},
	worker::{Compute, DatasetInput},
	Limits,
};

/// Computes tasks with the registry of `chain`, in a work directory.
pub struct Computer {
	chain: Chain,
	work_dir: PathBuf,
	corrupt_results: bool,
}

impl Computer {
	/// A computer that reads the registry through `chain` and keeps its runs in `work_dir`.
	/// With `corrupt_results` (TEST ONLY), it adds a file to every result before digesting it,
	/// to play a cheating worker.
	pub fn new(chain: Chain, work_dir: &Path, corrupt_results: bool) -> Self {
		Self { chain, work_dir: work_dir.to_owned(), corrupt_results }
	}

	/// Where `task`'s result is kept, and served from.
	fn results_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("results").join(format!("{task:?}"))
	}

	/// Where `task`'s dataset is kept during its run, and only then.
	fn input_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("inputs").join(format!("{task:?}"))
	}
}

impl Compute for Computer {
	async fn compute(
		&self,
		task: TaskId,
		deal: &Deal<Runtime>,
		dataset: Option<DatasetInput>,
	) -> Result<ResultDigest, String> {
		let app = self.chain.app(deal.app.id).await?.ok_or("the deal's app is not registered")?;
		let module = fetch_checked(&String::from_utf8_lossy(&app.uri), &app.checksum).await?;
		let category = self
			.chain
			.category(deal.category)
			.await?
			.ok_or("the deal's category is unknown")?;
		let data = match dataset {
			Some(DatasetInput { record, key }) => {
				// The checksum is of the stored file, encrypted or not.
				let stored =
					fetch_checked(&String::from_utf8_lossy(&record.uri), &record.checksum).await?;
				Some(match key {
					Some(key) => decrypt_dataset(&key, &stored)?,
					None => stored,
				})
			}
			None => None,
		};

		let params = deal.params.to_vec();
		let limits = Limits::for_reference_time(category.reference_time_secs);
		let (input, output) = (self.input_dir(task), self.results_dir(task));
		let run_output = output.clone();
		// The executor blocks (wasmtime's WASI drives its own runtime), so it runs off the async
		// threads.
		let (_, computed) = tokio::task::spawn_blocking(move || {
			let inputs = TaskInputs {
				module: &module,
				params: &params,
				dataset: data.as_deref(),
				seed: task.0,
				limits,
			};
			run_task(&inputs, &input, &run_output)
		})
		.await
		.map_err(|error| format!("the executor panicked: {error}"))?
		.map_err(|error| error.to_string())?;
		if !self.corrupt_results {
			return Ok(computed);
		}
		fs::write(output.join("corrupted"), b"a cheating worker's extra output")
			.map_err(|error| error.to_string())?;
		digest(&output).map(ResultDigest::from).map_err(|error| error.to_string())
	}
}
