//! Following a chain block by block: the one loop the compute node and the key service share.
//!
//! A [`Follower`] keeps the next block to read, in memory and in a [`Cursor`] file, so that a
//! restarted follower catches up on what it missed. Each [`Follower::round`] asks the node for
//! its best block and hands the new blocks, `next..=best`, to the caller's reader (which reads
//! their events, usually with [`events_between`]). Blocks the reader could not read are handed
//! over again on the next round; once read, the cursor moves past them and is saved. What the
//! caller does between rounds (its pending work, how long it sleeps and what wakes it) is its
//! own: [`POLL_INTERVAL`] is the usual wait.

use std::{fmt::Display, future::Future, path::PathBuf, time::Duration};

use commons_runtime::{BlockNumber, RuntimeEvent};

use crate::{Chain, ClientError};

/// How long a follower usually waits between rounds: about a block's share of a second.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

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
		std::fs::write(&self.0, next.to_string()).map_err(|error| ClientError::Io {
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
}

/// What one [`Follower::round`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl Round {
	/// The node's best block, if the node answered.
	pub fn best(&self) -> Option<BlockNumber> {
		match self {
			Round::Unreachable => None,
			Round::NoNewBlock { best } | Round::NewBlocks { best, .. } => Some(*best),
		}
	}
}

impl Follower {
	/// A follower of `chain` that starts at block `from`, or else where `cursor` says the last
	/// run stopped, or else (a first start) at the best block. It reports a round's errors to
	/// `warn`.
	pub async fn start(
		chain: Chain,
		cursor: Cursor,
		from: Option<BlockNumber>,
		warn: fn(&str),
	) -> Result<Self, ClientError> {
		let next = match from.or_else(|| cursor.load()) {
			Some(block) => block,
			None => chain.best_number().await?,
		};
		Ok(Self { chain, cursor, next, warn })
	}

	/// The next block to read.
	pub fn next_block(&self) -> BlockNumber {
		self.next
	}

	/// One round: asks the node for its best block and, if blocks were added since the last
	/// read, hands `reader` the range `next..=best` (first and last block). When `reader`
	/// succeeds, those blocks are done: the next round starts after them, and the cursor is
	/// saved. When it fails, a block could not be read: the same blocks, and any new ones, are
	/// handed over again next round, since their events may have been missed.
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
				if let Err(error) = self.cursor.save(self.next) {
					(self.warn)(&error.to_string());
				}
				true
			}
			Err(error) => {
				(self.warn)(&format!("cannot read blocks {}..={best}: {error}", self.next));
				false
			}
		};
		Round::NewBlocks { best, read }
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
	async fn a_follower_starts_where_it_is_told_or_where_its_cursor_stopped() {
		let dir = tempfile::tempdir().unwrap();
		// No node answers here: a follower that has a place to start does not ask one.
		let chain = Chain::new("nowhere", "http://127.0.0.1:9").unwrap();
		let cursor = Cursor::new(dir.path().join("cursor"));
		cursor.save(7).unwrap();
		let resumed = Follower::start(chain.clone(), cursor, None, |_| {}).await.unwrap();
		assert_eq!(resumed.next_block(), 7);
		let cursor = Cursor::new(dir.path().join("cursor"));
		let told = Follower::start(chain, cursor, Some(3), |_| {}).await.unwrap();
		assert_eq!(told.next_block(), 3);
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
