//! The digests this compute node computed, one per task, kept in its work directory so that a
//! restarted node neither recomputes a task nor votes on it twice, and still votes on a task it
//! computed but had not voted on when it stopped.
//!
//! On disk it is the file `state` in the work directory: one line per task, its id and its
//! digest as `0x`-prefixed hex separated by a space, then ` pending` while the vote on it is not
//! submitted; rewritten whole on every change, atomically (a crash leaves the old file or the
//! new one). Lines with fewer than two fields are skipped.

use std::{
	collections::{BTreeMap, BTreeSet},
	fs,
	path::{Path, PathBuf},
};

use commons_client::service::write_atomically;
use pallet_contribution::{ResultDigest, TaskId};
use sp_core::H256;

/// The name of the file, in the work directory, the digests are kept in.
const FILE_NAME: &str = "state";

/// The third field of a task whose vote is not submitted yet.
const PENDING: &str = "pending";

/// The digest this compute node computed for each task, backed by a file.
pub struct DigestStore {
	path: PathBuf,
	digests: BTreeMap<TaskId, ResultDigest>,
	/// Tasks computed whose vote was not submitted yet.
	pending: BTreeSet<TaskId>,
}

impl DigestStore {
	/// The digests kept in `work_dir`; none if it holds no file yet.
	pub fn load(work_dir: &Path) -> Result<Self, String> {
		let path = work_dir.join(FILE_NAME);
		let text = fs::read_to_string(&path).unwrap_or_default();
		let mut digests = BTreeMap::new();
		let mut pending = BTreeSet::new();
		for line in text.lines() {
			let mut fields = line.split_whitespace();
			let (Some(task), Some(digest)) = (fields.next(), fields.next()) else { continue };
			let task = parse_hash(task)?;
			digests.insert(task, parse_hash(digest)?);
			if fields.next() == Some(PENDING) {
				pending.insert(task);
			}
		}
		Ok(Self { path, digests, pending })
	}

	/// The digest computed for `task`, if it was.
	pub fn get(&self, task: &TaskId) -> Option<ResultDigest> {
		self.digests.get(task).copied()
	}

	/// Whether a digest was computed for `task`.
	pub fn contains(&self, task: &TaskId) -> bool {
		self.digests.contains_key(task)
	}

	/// The tasks computed whose vote was not submitted: a node that stopped in between.
	pub fn pending(&self) -> impl Iterator<Item = TaskId> + '_ {
		self.pending.iter().copied()
	}

	/// Keeps `digest` as `task`'s, its vote pending, on disk before returning.
	pub fn remember(&mut self, task: TaskId, digest: ResultDigest) -> Result<(), String> {
		self.digests.insert(task, digest);
		self.pending.insert(task);
		self.save()
	}

	/// Notes that nothing is pending on `task` any more: its vote was submitted, or the chain
	/// shows nothing left for this worker to do on it.
	pub fn settle(&mut self, task: &TaskId) -> Result<(), String> {
		if self.pending.remove(task) {
			self.save()?;
		}
		Ok(())
	}

	/// Writes the whole store to its file.
	fn save(&self) -> Result<(), String> {
		let text: String = self
			.digests
			.iter()
			.map(|(task, digest)| match self.pending.contains(task) {
				true => format!("{task:?} {digest:?} {PENDING}\n"),
				false => format!("{task:?} {digest:?}\n"),
			})
			.collect();
		write_atomically(&self.path, text.as_bytes())
			.map_err(|error| format!("cannot save state: {error}"))
	}
}

/// A 32-byte hash written as hex, `0x`-prefixed or not.
fn parse_hash(text: &str) -> Result<H256, String> {
	let bytes =
		sp_core::bytes::from_hex(text).map_err(|error| format!("bad hash {text}: {error}"))?;
	(bytes.len() == 32)
		.then(|| H256::from_slice(&bytes))
		.ok_or(format!("bad hash {text}"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn digests_survive_a_restart_in_the_same_file_format() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = DigestStore::load(dir.path()).unwrap();
		assert!(!store.contains(&TaskId::repeat_byte(1)), "a first start knows nothing");
		store.remember(TaskId::repeat_byte(1), ResultDigest::repeat_byte(2)).unwrap();

		let line = format!("0x{} 0x{}", "01".repeat(32), "02".repeat(32));
		let text = fs::read_to_string(dir.path().join("state")).unwrap();
		assert_eq!(text, format!("{line} pending\n"), "computed, not voted yet");
		let mut again = DigestStore::load(dir.path()).unwrap();
		assert_eq!(again.get(&TaskId::repeat_byte(1)), Some(ResultDigest::repeat_byte(2)));
		assert_eq!(again.get(&TaskId::repeat_byte(3)), None);
		assert_eq!(again.pending().collect::<Vec<_>>(), [TaskId::repeat_byte(1)]);

		again.settle(&TaskId::repeat_byte(1)).unwrap();
		assert_eq!(fs::read_to_string(dir.path().join("state")).unwrap(), format!("{line}\n"));
		assert_eq!(DigestStore::load(dir.path()).unwrap().pending().count(), 0);
	}

	#[test]
	fn a_damaged_file_is_refused_rather_than_forgotten() {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("state"), "0x01 0x02\n").unwrap();
		assert!(DigestStore::load(dir.path()).is_err());
	}
}
