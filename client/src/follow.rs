//! Following a chain block by block: the one loop the compute node and the key service share.
//!
//! A [`Follower`] keeps the next block to read, in memory and in a [`Cursor`] file, so that a
//! restarted follower catches up on what it missed. Each [`Follower::round`] asks the node for
//! its best block and hands the new blocks, `next..=best`, to the caller's reader (which reads
//! their events, usually with [`events_between`]). Blocks the reader could not read are handed
//! over again on the next round; once read, the cursor moves past them and is saved. What the
//! caller does between rounds (its pending work, how long it sleeps and what wakes it) is its
//! own: [`POLL_INTERVAL`] is the usual wait.
//!
//! A block the reader keeps failing on is not retried forever: each new error is reported once,
//! and after [`GIVE_UP_AFTER`] failed rounds in a row on the same block the round says
//! [`Round::Stuck`], and the caller stops with the error (usually a block of a newer runtime
//! that this build cannot decode; [`Chain::ensure_same_runtime`] says which).

use std::{fmt::Display, future::Future, path::PathBuf, time::Duration};

use commons_runtime::{BlockNumber, RuntimeEvent};

use crate::{service::write_atomically, Chain, ClientError};

/// How long a follower usually waits between rounds: about a block's share of a second.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How many rounds in a row the reader may fail on the same block before the follower gives up
/// on it ([`Round::Stuck`]): about a minute at [`POLL_INTERVAL`], ten blocks.
pub const GIVE_UP_AFTER: u32 = 60;

/// The next block a chain follower reads events from, kept in a file across restarts so that a
/// restarted follower catches up on what it missed.
pub struct Cursor(PathBuf);

impl Cursor {
	/// The cursor kept in the file at `path`.
	pub fn new(path: PathBuf) -> Self {
		Self(path)
	}

	/// The block to read next, if one was saved.
	pub fn load(&self) -> Option<BlockNumber> {
		std::fs::read_to_string(&self.0).ok()?.trim().parse().ok()
	}

	/// Saves `next` as the block to read next.
	pub fn save(&self, next: BlockNumber) -> Result<(), ClientError> {
		write_atomically(&self.0, next.to_string().as_bytes()).map_err(|error| ClientError::Io {
			action: format!("cannot save the cursor {}", self.0.display()),
			error,
		})
	}
}

/// A chain follower: the next block to read, and where that is saved.
pub struct Follower {
	chain: Chain,
	cursor: Cursor,
	next: BlockNumber,
	/// Where the follower reports what went wrong in a round (the caller's log).
	warn: fn(&str),
	/// The reader's failures on `next` so far.
	failures: FailureStreak,
}

/// The reader's failed rounds in a row on one block, and the last error reported.
#[derive(Default)]
struct FailureStreak {
	rounds: u32,
	reported: Option<String>,
}

impl FailureStreak {
	/// Notes a failed round with `error`: whether to report it (it differs from the last one
	/// reported), and whether the follower should give up.
	fn failed(&mut self, error: String) -> (bool, bool) {
		self.rounds = self.rounds.saturating_add(1);
		let new = self.reported.as_ref() != Some(&error);
		if new {
			self.reported = Some(error);
		}
		(new, self.rounds >= GIVE_UP_AFTER)
	}
}

/// What one [`Follower::round`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Round {
	/// The node could not be reached (reported to the follower's `warn`).
	Unreachable,
	/// No block was added since the last round read; the node's best block is `best`.
	NoNewBlock {
		/// The node's best block.
		best: BlockNumber,
	},
	/// Blocks were added, up to the best block `best`. `read` says whether the reader read them;
	/// if it did not (the error was reported), they are handed over again next round.
	NewBlocks {
		/// The node's best block.
		best: BlockNumber,
		/// Whether the reader read the new blocks.
		read: bool,
	},
	/// The reader failed on block `at` [`GIVE_UP_AFTER`] rounds in a row, the last time with
	/// `error`: the caller should stop rather than try forever.
	Stuck {
		/// The first block not read.
		at: BlockNumber,
		/// The reader's last error.
		error: String,
	},
}

impl Round {
	/// The node's best block, if the node answered.
	pub fn best(&self) -> Option<BlockNumber> {
		match self {
			Round::Unreachable | Round::Stuck { .. } => None,
			Round::NoNewBlock { best } | Round::NewBlocks { best, .. } => Some(*best),
		}
	}
}

impl Follower {
	/// A follower of `chain` that starts at block `from`, or else where `cursor` says the last
	/// run stopped, or else (a first start) at the best block. It reports a round's errors to
	/// `warn`.
	///
	/// A cursor past the chain's next block is refused: it was saved following another chain
	/// (most often a development chain purged since, whose genesis is the same), and starting
	/// there would skip every block up to it, and the events in them, without a word.
	pub async fn start(
		chain: Chain,
		cursor: Cursor,
		from: Option<BlockNumber>,
		warn: fn(&str),
	) -> Result<Self, ClientError> {
		let next = match from {
			Some(block) => block,
			None => Self::resume_point(&cursor, chain.best_number().await?)?,
		};
		Ok(Self { chain, cursor, next, warn, failures: FailureStreak::default() })
	}

	/// Where `cursor` says to go on, the chain's best block being `best`: from the saved block,
	/// or (none saved) from the best block.
	fn resume_point(cursor: &Cursor, best: BlockNumber) -> Result<BlockNumber, ClientError> {
		match cursor.load() {
			Some(saved) if saved > best.saturating_add(1) => Err(ClientError::Other(format!(
				"{} says block #{saved} is the next to read, but the chain's best block is \
				 #{best}: it was saved following another chain (one purged since?). Remove it, \
				 or use another directory, to follow this chain from its best block",
				cursor.0.display()
			))),
			Some(saved) => Ok(saved),
			None => Ok(best),
		}
	}

	/// The next block to read.
	pub fn next_block(&self) -> BlockNumber {
		self.next
	}

	/// One round: asks the node for its best block and, if blocks were added since the last
	/// read, hands `reader` the range `next..=best` (first and last block). When `reader`
	/// succeeds, those blocks are done: the next round starts after them, and the cursor is
	/// saved. When it fails, a block could not be read: the same blocks, and any new ones, are
	/// handed over again next round, since their events may have been missed, until the reader
	/// has failed [`GIVE_UP_AFTER`] rounds in a row ([`Round::Stuck`]).
	pub async fn round<F, Fut, E>(&mut self, reader: F) -> Round
	where
		F: FnOnce(BlockNumber, BlockNumber) -> Fut,
		Fut: Future<Output = Result<(), E>>,
		E: Display,
	{
		let best = match self.chain.best_number().await {
			Ok(best) => best,
			Err(error) => {
				(self.warn)(&format!("cannot reach the node: {error}"));
				return Round::Unreachable;
			}
		};
		if best < self.next {
			return Round::NoNewBlock { best };
		}
		let read = match reader(self.next, best).await {
			Ok(()) => {
				self.next = best + 1;
				self.failures = FailureStreak::default();
				if let Err(error) = self.cursor.save(self.next) {
					(self.warn)(&error.to_string());
				}
				true
			}
			Err(error) => {
				let error = error.to_string();
				let (report, give_up) = self.failures.failed(error.clone());
				if report {
					(self.warn)(&format!(
						"cannot read blocks {}..={best} (retrying each round; said once): {error}",
						self.next
					));
				}
				if give_up {
					return Round::Stuck { at: self.next, error };
				}
				false
			}
		};
		Round::NewBlocks { best, read }
	}
}

impl Round {
	/// The error to stop with after [`Round::Stuck`] at block `at` with `error`, saying whether
	/// the chain now runs a runtime other than this program's (the usual reason a block cannot
	/// be decoded).
	pub async fn stuck_error(chain: &Chain, at: BlockNumber, error: &str) -> ClientError {
		let why = match chain.ensure_same_runtime().await {
			Err(mismatch) => mismatch.to_string(),
			Ok(()) => "the node runs this program's runtime".into(),
		};
		ClientError::Other(format!(
			"gave up on block {at} after {GIVE_UP_AFTER} rounds: {error} ({why})"
		))
	}
}

/// The events of blocks `from..=to` of the best chain, in order. An error means some block
/// could not be read: its events are not silently left out.
pub async fn events_between(
	chain: &Chain,
	from: BlockNumber,
	to: BlockNumber,
) -> Result<Vec<RuntimeEvent>, ClientError> {
	let mut events = Vec::new();
	for number in from..=to {
		events.extend(chain.block_events(number).await?);
	}
	Ok(events)
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::atomic::{AtomicUsize, Ordering};

	#[test]
	fn a_failing_block_is_reported_once_per_error_and_given_up_on() {
		let mut streak = FailureStreak::default();
		assert_eq!(streak.failed("undecodable event".into()), (true, false));
		for _ in 2..GIVE_UP_AFTER {
			assert_eq!(streak.failed("undecodable event".into()), (false, false), "said once");
		}
		assert_eq!(streak.failed("node timed out".into()), (true, true), "a new error, and done");
	}

	#[test]
	fn a_cursor_remembers_the_next_block_and_starts_empty() {
		let dir = tempfile::tempdir().unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		assert_eq!(cursor.load(), None);
		cursor.save(42).unwrap();
		assert_eq!(Cursor::new(dir.path().join("cursor")).load(), Some(42));
		let unwritable = Cursor::new(dir.path().join("missing").join("cursor"));
		let error = unwritable.save(1).unwrap_err();
		assert!(error.to_string().starts_with("cannot save the cursor"), "{error}");
	}

	#[tokio::test]
	async fn a_follower_starts_where_it_is_told() {
		let dir = tempfile::tempdir().unwrap();
		// No node answers here: a follower told where to start does not ask one.
		let chain = Chain::new("nowhere", "http://127.0.0.1:9").unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		cursor.save(7).unwrap();
		let told = Follower::start(chain, cursor, Some(3), |_| {}).await.unwrap();
		assert_eq!(told.next_block(), 3);
	}

	#[test]
	fn a_follower_resumes_where_its_cursor_stopped_but_not_past_the_chain() {
		let dir = tempfile::tempdir().unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		assert_eq!(Follower::resume_point(&cursor, 10).unwrap(), 10, "a first start: the best");
		cursor.save(7).unwrap();
		assert_eq!(Follower::resume_point(&cursor, 10).unwrap(), 7);
		cursor.save(11).unwrap();
		assert_eq!(Follower::resume_point(&cursor, 10).unwrap(), 11, "the block to come");
		// Saved following a chain that had gone further: starting there would skip block 11.
		cursor.save(12).unwrap();
		let error = Follower::resume_point(&cursor, 10).unwrap_err().to_string();
		assert!(error.contains("block #12") && error.contains("best block is #10"), "{error}");
		assert!(error.contains(&dir.path().join("cursor").display().to_string()), "{error}");
	}

	#[tokio::test]
	async fn a_round_without_the_node_reads_nothing_and_keeps_its_place() {
		static WARNINGS: AtomicUsize = AtomicUsize::new(0);
		let dir = tempfile::tempdir().unwrap();
		let chain = Chain::new("nowhere", "http://127.0.0.1:9").unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		let mut follower = Follower::start(chain, cursor, Some(3), |_| {
			WARNINGS.fetch_add(1, Ordering::Relaxed);
		})
		.await
		.unwrap();
		let mut called = false;
		let round = follower
			.round(|_, _| {
				called = true;
				async { Ok::<(), String>(()) }
			})
			.await;
		assert_eq!(round, Round::Unreachable);
		assert_eq!(round.best(), None);
		assert!(!called, "no blocks were handed over");
		assert_eq!(WARNINGS.load(Ordering::Relaxed), 1, "the failure was reported");
		assert_eq!(follower.next_block(), 3);
		assert_eq!(Cursor::new(dir.path().join("cursor")).load(), None, "nothing was saved");
	}
}
