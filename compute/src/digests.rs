//! The digests this compute node computed, one per task, kept in its work directory so that a
//! restarted node neither recomputes a task nor votes on it twice.
//!
//! On disk it is the file `state` in the work directory: one line per task, its id and its
//! digest as `0x`-prefixed hex separated by a space, rewritten whole on every change. Lines
//! with fewer than two fields are skipped.

use std::{
	collections::BTreeMap,
	fs,
	path::{Path, PathBuf},
};

use pallet_contribution::{ResultDigest, TaskId};
use sp_core::H256;

/// The name of the file, in the work directory, the digests are kept in.
const FILE_NAME: &str = "state";

/// The digest this compute node computed for each task, backed by a file.
pub struct DigestStore {
	path: PathBuf,
	digests: BTreeMap<TaskId, ResultDigest>,
}

impl DigestStore {
	/// The digests kept in `work_dir`; none if it holds no file yet.
	pub fn load(work_dir: &Path) -> Result<Self, String> {
		let path = work_dir.join(FILE_NAME);
		let text = fs::read_to_string(&path).unwrap_or_default();
		let mut digests = BTreeMap::new();
		for line in text.lines() {
			let mut fields = line.split_whitespace();
			let (Some(task), Some(digest)) = (fields.next(), fields.next()) else { continue };
			digests.insert(parse_hash(task)?, parse_hash(digest)?);
		}
		Ok(Self { path, digests })
	}

	/// The digest computed for `task`, if it was.
	pub fn get(&self, task: &TaskId) -> Option<ResultDigest> {
		self.digests.get(task).copied()
	}

	/// Whether a digest was computed for `task`.
	pub fn contains(&self, task: &TaskId) -> bool {
		self.digests.contains_key(task)
	}

	/// Keeps `digest` as `task`'s, on disk before returning.
	pub fn remember(&mut self, task: TaskId, digest: ResultDigest) -> Result<(), String> {
		self.digests.insert(task, digest);
		let text: String = self
			.digests
			.iter()
			.map(|(task, digest)| format!("{task:?} {digest:?}\n"))
			.collect();
		fs::write(&self.path, text).map_err(|error| format!("cannot save state: {error}"))
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

		let text = fs::read_to_string(dir.path().join("state")).unwrap();
		assert_eq!(text, format!("0x{} 0x{}\n", "01".repeat(32), "02".repeat(32)));
		let again = DigestStore::load(dir.path()).unwrap();
		assert_eq!(again.get(&TaskId::repeat_byte(1)), Some(ResultDigest::repeat_byte(2)));
		assert_eq!(again.get(&TaskId::repeat_byte(3)), None);
	}

	#[test]
	fn a_damaged_file_is_refused_rather_than_forgotten() {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("state"), "0x01 0x02\n").unwrap();
		assert!(DigestStore::load(dir.path()).is_err());
	}
}
