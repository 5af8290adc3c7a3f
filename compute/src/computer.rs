//! Computing a task on this machine, the worker's real [`Compute`]: fetches the app's module and
//! the dataset the registry names, checks them against the registry's checksums, decrypts an
//! encrypted dataset with the key released to the enclave, and runs the task with [`run_task`]
//! in `results/<task>/` of the work directory, where the endpoint serves it. An app that is an
//! OCI image is run with [`run_image_task`] by the node's container engine, which pulls it by the
//! digest the registry records; its container writes into `running/<task>/` (the node's alone,
//! never served), moved to `results/<task>/` once checked. A node without an engine refuses it
//! (it does not announce [`pallet_marketplace::tag::CONTAINER`], so it is not assigned one).
//!
//! A result to be sealed (a TEE task's, to its beneficiary's result key) is computed in
//! `sealing/<task>/` instead, which the endpoint does not serve; it is digested there, sealed
//! into `results/<task>/`[`SEALED_RESULT_FILE`] ([`publish_sealed`]) and removed, whatever the
//! outcome, so that no file of it in the clear is kept. Under Gramine this process is the
//! enclave and the work directory an encrypted mount sealed to it (see [`crate::tee`]), so the
//! output in the clear never leaves the enclave on its way to being sealed.

use std::{
	fs,
	path::{Path, PathBuf},
};

use commons_client::{
	confidential::{decrypt_dataset, seal_output, SEALED_RESULT_FILE},
	fetch::fetch_checked,
	service::write_atomically,
	Chain,
};
use commons_runtime::Runtime;
use pallet_contribution::{ResultDigest, TaskId, X25519PublicKey};
use pallet_marketplace::{App, AppKind, Deal};

use crate::{
	container::{ContainerLimits, Engine, Image},
	digest,
	metrics::Metrics,
	task_runner::{
		remove_dir_if_there, run_image_task, run_task, ImageTaskInputs, RemovedOnDrop, TaskInputs,
	},
	worker::{Compute, DatasetInput},
	Limits,
};

/// Computes tasks with the registry of `chain`, in a work directory.
pub struct Computer {
	chain: Chain,
	work_dir: PathBuf,
	corrupt_results: bool,
	metrics: Option<Metrics>,
	containers: Option<Engine>,
}

impl Computer {
	/// A computer that reads the registry through `chain` and keeps its runs in `work_dir`,
	/// counting the bytes it fetches in `metrics`. With `corrupt_results` (TEST ONLY), it adds
	/// a file to every result before digesting it, to play a cheating worker.
	pub fn new(
		chain: Chain,
		work_dir: &Path,
		corrupt_results: bool,
		metrics: Option<Metrics>,
	) -> Self {
		Self { chain, work_dir: work_dir.to_owned(), corrupt_results, metrics, containers: None }
	}

	/// The same computer, running apps that are OCI images with `engine`.
	pub fn with_container_engine(self, engine: Engine) -> Self {
		Self { containers: Some(engine), ..self }
	}

	/// What `uri` holds, checked against `checksum`, its bytes counted.
	async fn fetch_counted(&self, uri: &[u8], checksum: &[u8; 32]) -> Result<Vec<u8>, String> {
		let bytes = fetch_checked(&String::from_utf8_lossy(uri), checksum).await?;
		if let Some(metrics) = &self.metrics {
			metrics.fetched_bytes.inc_by(bytes.len() as u64);
		}
		Ok(bytes)
	}

	/// Where `task`'s result is kept, and served from.
	fn results_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("results").join(format!("{task:?}"))
	}

	/// Where `task`'s dataset is kept during its run, and only then.
	fn input_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("inputs").join(format!("{task:?}"))
	}

	/// Where `task`'s container writes its output, until it is checked: never served.
	fn staging_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("running").join(format!("{task:?}"))
	}

	/// Where `task`'s output to be sealed is written, until it is sealed: never served.
	fn sealing_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("sealing").join(format!("{task:?}"))
	}
}

impl Compute for Computer {
	async fn compute(
		&self,
		task: TaskId,
		deal: &Deal<Runtime>,
		dataset: Option<DatasetInput>,
		seal_to: Option<X25519PublicKey>,
	) -> Result<ResultDigest, String> {
		let app = self.chain.app(deal.app.id).await?.ok_or("the deal's app is not registered")?;
		let image = match app.kind {
			AppKind::Wasi => None,
			AppKind::Oci => Some(self.image_to_run(&app, seal_to.is_some(), &dataset).await?),
		};
		let category = self
			.chain
			.category(deal.category)
			.await?
			.ok_or("the deal's category is unknown")?;
		let data = match dataset {
			Some(DatasetInput { record, key }) => {
				// The checksum is of the stored file, encrypted or not.
				let stored = self.fetch_counted(&record.uri, &record.checksum).await?;
				Some(match key {
					Some(key) => decrypt_dataset(&key, &stored)?,
					None => stored,
				})
			}
			None => None,
		};
		let reference_time_secs = category.reference_time_secs;
		match image {
			None => self.run_module(task, &app, deal, data, reference_time_secs, seal_to).await,
			Some((engine, image)) => {
				self.run_image(task, engine, &image, deal, data, reference_time_secs).await
			}
		}
	}
}

impl Computer {
	/// The engine and the image to run `app`, an OCI image, with: checked, and pulled if the
	/// engine lacks it, before anything else is fetched. The chain never matches an image with a
	/// TEE deal (`sealed`, or a `dataset` with a key), so nothing here is sealed or decrypted.
	async fn image_to_run(
		&self,
		app: &App<Runtime>,
		sealed: bool,
		dataset: &Option<DatasetInput>,
	) -> Result<(&Engine, Image), String> {
		let engine = self.containers.as_ref().ok_or(
			"the app is an OCI image, and this compute node has no container engine \
			 (--container-engine)",
		)?;
		if sealed || dataset.as_ref().is_some_and(|input| input.key.is_some()) {
			return Err("an OCI image does not run in an enclave".into());
		}
		// The registry records an image as its repository and its manifest's digest.
		let image = Image::new(&String::from_utf8_lossy(&app.uri), app.checksum)
			.map_err(|error| error.to_string())?;
		engine.ensure_image(&image).await.map_err(|error| error.to_string())?;
		Ok((engine, image))
	}

	/// Runs `task` of `app`, a WASI module, and digests its output, sealed to `seal_to` if given.
	async fn run_module(
		&self,
		task: TaskId,
		app: &App<Runtime>,
		deal: &Deal<Runtime>,
		data: Option<Vec<u8>>,
		reference_time_secs: u32,
		seal_to: Option<X25519PublicKey>,
	) -> Result<ResultDigest, String> {
		let module = self.fetch_counted(&app.uri, &app.checksum).await?;
		let params = deal.params.to_vec();
		let limits = Limits::for_reference_time(reference_time_secs);
		let (input, results, plain) =
			(self.input_dir(task), self.results_dir(task), self.sealing_dir(task));
		let corrupt = self.corrupt_results;
		// The executor blocks (wasmtime's WASI drives its own runtime), so it runs off the async
		// threads, and so does sealing, which reads the whole output.
		tokio::task::spawn_blocking(move || -> Result<ResultDigest, String> {
			let inputs = TaskInputs {
				module: &module,
				params: &params,
				dataset: data.as_deref(),
				seed: task.0,
				limits,
			};
			match seal_to {
				None => run_and_digest(&inputs, &input, &results, corrupt),
				Some(recipient) => {
					// The output in the clear is removed however this ends.
					let _plain_removed = RemovedOnDrop(&plain);
					let computed = run_and_digest(&inputs, &input, &plain, corrupt)?;
					publish_sealed(&recipient, &task, &plain, &results)?;
					Ok(computed)
				}
			}
		})
		.await
		.map_err(|error| format!("the executor panicked: {error}"))?
	}

	/// Runs `task` of the app that is `image` in a container of `engine`, and digests its output.
	async fn run_image(
		&self,
		task: TaskId,
		engine: &Engine,
		image: &Image,
		deal: &Deal<Runtime>,
		data: Option<Vec<u8>>,
		reference_time_secs: u32,
	) -> Result<ResultDigest, String> {
		let inputs = ImageTaskInputs {
			image,
			params: &deal.params,
			dataset: data.as_deref(),
			seed: task.0,
			limits: ContainerLimits::for_reference_time(reference_time_secs),
		};
		let (results, staging) = (self.results_dir(task), self.staging_dir(task));
		create_private_dir(staging.parent().unwrap_or(&self.work_dir))?;
		let computed = run_image_task(engine, &inputs, &self.input_dir(task), &staging, &results)
			.await
			.map_err(|error| error.to_string())?;
		if !self.corrupt_results {
			return Ok(computed);
		}
		tokio::task::spawn_blocking(move || corrupt(&results))
			.await
			.map_err(|error| format!("corrupting panicked: {error}"))?
	}
}

/// Runs `inputs` with its dataset in `input` and its output in `output`, and returns the
/// output's digest. With `corrupt` (TEST ONLY), a file is added to the output first.
fn run_and_digest(
	inputs: &TaskInputs,
	input: &Path,
	output: &Path,
	corrupt: bool,
) -> Result<ResultDigest, String> {
	let (_, computed) = run_task(inputs, input, output).map_err(|error| error.to_string())?;
	match corrupt {
		false => Ok(computed),
		true => self::corrupt(output),
	}
}

/// TEST ONLY: adds a file to `output`, as a cheating worker would, and returns its new digest.
fn corrupt(output: &Path) -> Result<ResultDigest, String> {
	fs::write(output.join("corrupted"), b"a cheating worker's extra output")
		.map_err(|error| error.to_string())?;
	digest(output).map(ResultDigest::from).map_err(|error| error.to_string())
}

/// Creates `dir` if it is not there, and makes it this node's user's alone: what a container is
/// writing there is no other local user's to read or change.
fn create_private_dir(dir: &Path) -> Result<(), String> {
	use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
	fs::DirBuilder::new()
		.recursive(true)
		.mode(0o700)
		.create(dir)
		.and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o700)))
		.map_err(|error| format!("cannot create {}: {error}", dir.display()))
}

/// Seals the output `plain` of `task` to the beneficiary's result key `recipient`, makes it the
/// one file of `results`, [`SEALED_RESULT_FILE`] (what the endpoint serves for the task), and
/// removes `plain`. Whatever `results` held before, an earlier try's output included, goes
/// first: nothing in the clear is served beside the sealed result.
pub fn publish_sealed(
	recipient: &X25519PublicKey,
	task: &TaskId,
	plain: &Path,
	results: &Path,
) -> Result<(), String> {
	let sealed = seal_output(recipient, task, plain)?;
	remove_dir_if_there(results)?;
	fs::create_dir_all(results)
		.map_err(|error| format!("cannot create {}: {error}", results.display()))?;
	let file = results.join(SEALED_RESULT_FILE);
	write_atomically(&file, &sealed)
		.map_err(|error| format!("cannot write {}: {error}", file.display()))?;
	fs::remove_dir_all(plain)
		.map_err(|error| format!("cannot remove the sealed output {}: {error}", plain.display()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_client::confidential::{open_output, ResultKey};

	/// The output of a sealed task is replaced by its sealed form, in a results directory that
	/// held an earlier try's output in the clear: only the sealed file is left, and it opens, with
	/// the beneficiary's key only, to the output whose digest the worker votes with.
	#[test]
	fn a_sealed_result_is_all_that_is_left_and_opens_to_the_digested_output() {
		let dir = tempfile::tempdir().unwrap();
		let (plain, results) = (dir.path().join("sealing/task"), dir.path().join("results/task"));
		fs::create_dir_all(plain.join("plots")).unwrap();
		fs::write(plain.join("result.json"), b"{\"mean\":9.5}").unwrap();
		fs::write(plain.join("plots/histogram.csv"), b"1,2,3").unwrap();
		let computed = digest(&plain).unwrap();
		fs::create_dir_all(&results).unwrap();
		fs::write(results.join("result.json"), b"an earlier try, in the clear").unwrap();

		let key = ResultKey::generate();
		let task = TaskId::repeat_byte(0x7a);
		publish_sealed(&key.public(), &task, &plain, &results).unwrap();
		assert!(!plain.exists(), "the output in the clear is gone");
		let served = commons_client::digest::files(&results).unwrap();
		assert_eq!(served, [PathBuf::from(SEALED_RESULT_FILE)]);
		let sealed = fs::read(results.join(SEALED_RESULT_FILE)).unwrap();
		assert_ne!(digest(&results).unwrap(), computed, "the digest is of the clear output");

		let opened = dir.path().join("opened");
		open_output(&key, &task, &sealed, &opened).unwrap();
		assert_eq!(digest(&opened).unwrap(), computed);
		let elsewhere = dir.path().join("elsewhere");
		assert!(open_output(&ResultKey::generate(), &task, &sealed, &elsewhere).is_err());
		assert!(open_output(&key, &TaskId::repeat_byte(1), &sealed, &elsewhere).is_err());
	}
}
