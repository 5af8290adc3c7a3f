//! The digests this compute node computed, one per task, and the step it has left on each, kept
//! in its work directory: a restarted node neither recomputes a task nor votes on it twice, still
//! votes on a task it computed but had not voted on when it stopped, still reveals where its vote
//! won, and knows when it last submitted each, so that it neither submits at once again what may
//! be on its way nor forgets what the transaction pool dropped.
//!
//! On disk it is the file `state` in the work directory: one line per task, its id and its
//! digest as `0x`-prefixed hex separated by a space, then the step left, if any: `vote` (or
//! `pending`, as nodes before the reveal step wrote it) or `reveal`, followed, once submitted, by
//! the best block at its last submission, the nonce it was signed at, and how many times it was
//! submitted. A task is forgotten once finalized or failed. The file is rewritten whole on every
//! change, atomically (a crash leaves the old file or the new one). Lines with fewer than two
//! fields are skipped.

use std::{
	collections::BTreeMap,
	fs,
	path::{Path, PathBuf},
};

use commons_client::service::write_atomically;
use commons_runtime::{BlockNumber, Nonce};
use pallet_contribution::{ResultDigest, TaskId};
use sp_core::H256;

/// The name of the file, in the work directory, the digests are kept in.
const FILE_NAME: &str = "state";

/// The step a compute node has left on a task it computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
	/// Its vote, until the chain shows it.
	Vote,
	/// Its reveal (its vote won the consensus), until the chain shows it.
	Reveal,
}

impl Step {
	/// The word the step is written as.
	fn word(self) -> &'static str {
		match self {
			Step::Vote => "vote",
			Step::Reveal => "reveal",
		}
	}

	/// The step written as `word`: `pending` is how nodes before the reveal step wrote a vote.
	fn parse(word: &str) -> Result<Self, String> {
		match word {
			"vote" | "pending" => Ok(Step::Vote),
			"reveal" => Ok(Step::Reveal),
			other => Err(format!("bad step {other}")),
		}
	}
}

/// A step left on a task, and its submissions so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
	/// The step.
	pub step: Step,
	/// Its last submission, if it was submitted.
	pub sent: Option<Sent>,
	/// How many times it was submitted.
	pub submissions: u32,
}

/// A step's last submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
	/// The best block when it was submitted (or last found still queued).
	pub at: BlockNumber,
	/// The nonce its transaction was signed at.
	pub nonce: Nonce,
}

impl Due {
	/// `step`, not submitted yet.
	fn new(step: Step) -> Self {
		Self { step, sent: None, submissions: 0 }
	}
}

/// The digest this compute node computed for each task, and the step left on it, backed by a
/// file.
pub struct DigestStore {
	path: PathBuf,
	digests: BTreeMap<TaskId, ResultDigest>,
	/// The tasks computed with a step left.
	due: BTreeMap<TaskId, Due>,
}

impl DigestStore {
	/// The digests kept in `work_dir`; none if it holds no file yet.
	pub fn load(work_dir: &Path) -> Result<Self, String> {
		let path = work_dir.join(FILE_NAME);
		let text = fs::read_to_string(&path).unwrap_or_default();
		let mut digests = BTreeMap::new();
		let mut due = BTreeMap::new();
		for line in text.lines() {
			let mut fields = line.split_whitespace();
			let (Some(task), Some(digest)) = (fields.next(), fields.next()) else { continue };
			let task = parse_hash(task)?;
			digests.insert(task, parse_hash(digest)?);
			let Some(step) = fields.next() else { continue };
			let mut left = Due::new(Step::parse(step)?);
			if let Some(at) = fields.next() {
				let (Some(nonce), Some(count)) = (fields.next(), fields.next()) else {
					return Err(format!("a submission without its nonce or count: {line}"));
				};
				let number = |field: &str| field.parse().map_err(|_| format!("bad number {field}"));
				left.sent = Some(Sent { at: number(at)?, nonce: number(nonce)? });
				left.submissions = number(count)?;
			}
			due.insert(task, left);
		}
		Ok(Self { path, digests, due })
	}

	/// The digest computed for `task`, if it was.
	pub fn get(&self, task: &TaskId) -> Option<ResultDigest> {
		self.digests.get(task).copied()
	}

	/// Whether a digest was computed for `task`.
	pub fn contains(&self, task: &TaskId) -> bool {
		self.digests.contains_key(task)
	}

	/// The tasks computed with a step left, and the step: what a node that stopped had not
	/// seen on chain.
	pub fn due(&self) -> impl Iterator<Item = (TaskId, Due)> + '_ {
		self.due.iter().map(|(task, due)| (*task, *due))
	}

	/// The step left on `task`, if any.
	pub fn due_on(&self, task: &TaskId) -> Option<Due> {
		self.due.get(task).copied()
	}

	/// Keeps `digest` as `task`'s, its vote due, on disk before returning.
	pub fn remember(&mut self, task: TaskId, digest: ResultDigest) -> Result<(), String> {
		self.digests.insert(task, digest);
		self.due.insert(task, Due::new(Step::Vote));
		self.save()
	}

	/// Notes that `step` is due on `task`, unless it is already or `task` was not computed here.
	pub fn make_due(&mut self, task: TaskId, step: Step) -> Result<(), String> {
		if !self.digests.contains_key(&task)
			|| self.due.get(&task).is_some_and(|due| due.step == step)
		{
			return Ok(());
		}
		self.due.insert(task, Due::new(step));
		self.save()
	}

	/// Notes that the step due on `task` is being submitted at `nonce`, `best` being the best
	/// block: kept before the transaction leaves, so that a node stopped in between does not
	/// take it as never sent.
	pub fn submitting(
		&mut self,
		task: &TaskId,
		best: BlockNumber,
		nonce: Nonce,
	) -> Result<(), String> {
		let Some(due) = self.due.get_mut(task) else { return Ok(()) };
		due.sent = Some(Sent { at: best, nonce });
		due.submissions = due.submissions.saturating_add(1);
		self.save()
	}

	/// Undoes [`DigestStore::submitting`] for a transaction the pool did not take: the step
	/// due on `task` is back to its submission before, `previous`.
	pub fn not_taken(&mut self, task: &TaskId, previous: Option<Sent>) -> Result<(), String> {
		let Some(due) = self.due.get_mut(task) else { return Ok(()) };
		due.sent = previous;
		due.submissions = due.submissions.saturating_sub(1);
		self.save()
	}

	/// Notes that the step due on `task` was found still queued at `best`: it is given as long
	/// again to show on chain.
	pub fn still_queued(&mut self, task: &TaskId, best: BlockNumber) -> Result<(), String> {
		let Some(Due { sent: Some(sent), .. }) = self.due.get_mut(task) else { return Ok(()) };
		sent.at = best;
		self.save()
	}

	/// Notes that `step` is no longer due on `task`: the chain shows it, or nothing left for
	/// this node to do. Another step due stays.
	pub fn settle(&mut self, task: &TaskId, step: Step) -> Result<(), String> {
		if self.due.get(task).is_some_and(|due| due.step == step) {
			self.due.remove(task);
			self.save()?;
		}
		Ok(())
	}

	/// Forgets `task`, finalized or failed: nothing is left to do on it, and its digest is not
	/// needed any more.
	pub fn forget(&mut self, task: &TaskId) -> Result<(), String> {
		let known = self.digests.remove(task).is_some();
		if self.due.remove(task).is_some() || known {
			self.save()?;
		}
		Ok(())
	}

	/// Writes the whole store to its file.
	fn save(&self) -> Result<(), String> {
		let text: String = self
			.digests
			.iter()
			.map(|(task, digest)| match self.due.get(task) {
				None => format!("{task:?} {digest:?}\n"),
				Some(Due { step, sent: None, .. }) => {
					format!("{task:?} {digest:?} {}\n", step.word())
				}
				Some(Due { step, sent: Some(Sent { at, nonce }), submissions }) => {
					format!("{task:?} {digest:?} {} {at} {nonce} {submissions}\n", step.word())
				}
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
	fn digests_and_steps_survive_a_restart_in_the_same_file_format() {
		let dir = tempfile::tempdir().unwrap();
		let (task, other) = (TaskId::repeat_byte(1), TaskId::repeat_byte(3));
		let mut store = DigestStore::load(dir.path()).unwrap();
		assert!(!store.contains(&task), "a first start knows nothing");
		store.remember(task, ResultDigest::repeat_byte(2)).unwrap();

		let line = format!("0x{} 0x{}", "01".repeat(32), "02".repeat(32));
		let read = || fs::read_to_string(dir.path().join("state")).unwrap();
		assert_eq!(read(), format!("{line} vote\n"), "computed, not voted yet");
		let mut again = DigestStore::load(dir.path()).unwrap();
		assert_eq!(again.get(&task), Some(ResultDigest::repeat_byte(2)));
		assert_eq!(again.get(&other), None);
		assert_eq!(again.due().collect::<Vec<_>>(), [(task, Due::new(Step::Vote))]);

		again.submitting(&task, 40, 7).unwrap();
		again.submitting(&task, 52, 9).unwrap();
		again.still_queued(&task, 55).unwrap();
		assert_eq!(read(), format!("{line} vote 55 9 2\n"), "sent twice, last at nonce 9");
		let voted = Due { step: Step::Vote, sent: Some(Sent { at: 55, nonce: 9 }), submissions: 2 };
		assert_eq!(DigestStore::load(dir.path()).unwrap().due_on(&task), Some(voted));

		again.make_due(task, Step::Reveal).unwrap();
		again.make_due(other, Step::Reveal).unwrap();
		assert_eq!(read(), format!("{line} reveal\n"), "a reveal due, not on a task not computed");
		again.submitting(&task, 60, 11).unwrap();
		again.make_due(task, Step::Reveal).unwrap();
		assert_eq!(read(), format!("{line} reveal 60 11 1\n"), "a reveal due again is the same");

		again.settle(&task, Step::Vote).unwrap();
		assert_eq!(read(), format!("{line} reveal 60 11 1\n"), "only the step named is settled");
		again.settle(&task, Step::Reveal).unwrap();
		assert_eq!(read(), format!("{line}\n"));
		assert_eq!(DigestStore::load(dir.path()).unwrap().due().count(), 0);
		again.forget(&task).unwrap();
		assert_eq!(read(), "", "a task over is forgotten");
	}

	/// Nodes before the reveal step wrote a vote due as `pending`.
	#[test]
	fn a_vote_written_as_pending_is_read_as_due() {
		let dir = tempfile::tempdir().unwrap();
		let line = format!("0x{} 0x{} pending\n", "01".repeat(32), "02".repeat(32));
		fs::write(dir.path().join("state"), line).unwrap();
		let store = DigestStore::load(dir.path()).unwrap();
		assert_eq!(store.due_on(&TaskId::repeat_byte(1)), Some(Due::new(Step::Vote)));
	}

	#[test]
	fn a_damaged_file_is_refused_rather_than_forgotten() {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("state"), "0x01 0x02\n").unwrap();
		assert!(DigestStore::load(dir.path()).is_err());
		let line = format!("0x{} 0x{}", "01".repeat(32), "02".repeat(32));
		for step in ["later", "vote 3 4", "vote x 1 1", "reveal 3 y"] {
			fs::write(dir.path().join("state"), format!("{line} {step}\n")).unwrap();
			assert!(DigestStore::load(dir.path()).is_err(), "{step}");
		}
	}
}
