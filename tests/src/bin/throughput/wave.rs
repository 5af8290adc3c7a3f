//! One wave: transactions signed beforehand, submitted at once, and followed block by block
//! until each is in a finalized block or the chain stops taking them. Finalized blocks only, so
//! that a block a fork retracted is never counted, and the times are to finality.

use std::{
	collections::BTreeMap,
	sync::atomic::{AtomicBool, Ordering},
	time::{Duration, Instant},
};

use commons_client::Chain;
use commons_runtime::{
	AccountId, Balance, BlockNumber, Nonce, Runtime, RuntimeEvent, UncheckedExtrinsic,
};
use frame_support::dispatch::{DispatchClass, PerDispatchClass};
use futures::StreamExt;
use sp_runtime::{generic::Preamble, MultiAddress};

/// How many submissions are in flight at once.
const SUBMISSIONS_IN_FLIGHT: usize = 64;
/// How often the finalized block is read.
const POLL: Duration = Duration::from_millis(100);
/// After the last submission, how many blocks may pass without one of the wave's transactions
/// before the rest count as dropped.
const BLOCKS_WITHOUT_PROGRESS: u32 = 4;
/// The longest the chain may go without finalizing a block before the harness gives up.
const FINALITY_STALL: Duration = Duration::from_secs(120);

/// Transactions of one kind, signed beforehand.
pub struct Wave {
	/// What they are, as the report names them.
	pub name: String,
	/// The signed transactions, in submission order.
	pub extrinsics: Vec<UncheckedExtrinsic>,
}

/// A block that included some of a wave's transactions.
pub struct BlockRecord {
	/// Its number.
	pub number: BlockNumber,
	/// How many of the wave's transactions it included (normal-class extrinsics).
	pub included: u32,
	/// Of those, how many failed to dispatch (included and charged all the same).
	pub failed: u32,
	/// The normal-class weight it used, ref time in picoseconds.
	pub normal_ref_time: u64,
	/// When the harness first saw it finalized, from the wave's start.
	pub seen_after: Duration,
}

/// What became of a wave.
pub struct Outcome {
	/// The wave's name.
	pub name: String,
	/// How many transactions were submitted.
	pub submitted: usize,
	/// The pool's refusals at submission, by reason.
	pub refused: BTreeMap<String, usize>,
	/// How long submitting them all took.
	pub submission: Duration,
	/// Every block from the first after the wave started to the last that included one of its
	/// transactions.
	pub blocks: Vec<BlockRecord>,
	/// The events of the blocks that included the wave's transactions, in order.
	pub events: Vec<RuntimeEvent>,
	/// How many the senders' nonces on chain say were included (the other count, from events,
	/// includes anything else the blocks held).
	pub included_by_nonce: usize,
}

impl Outcome {
	/// How many were included, by the blocks' events.
	pub fn included(&self) -> u32 {
		self.blocks.iter().map(|block| block.included).sum()
	}

	/// How many were taken by the pool and never included.
	pub fn dropped(&self) -> usize {
		let refused: usize = self.refused.values().sum();
		self.submitted.saturating_sub(refused).saturating_sub(self.included_by_nonce)
	}

	/// Included transactions per second, from the wave's start to the block with its last.
	pub fn per_second(&self) -> f64 {
		match self.blocks.last() {
			Some(last) => f64::from(self.included()) / last.seen_after.as_secs_f64(),
			None => 0.0,
		}
	}

	/// The normal-class weight (ref time, ps) used per included transaction.
	pub fn ref_time_each(&self) -> f64 {
		let total: u64 = self.blocks.iter().map(|block| block.normal_ref_time).sum();
		total as f64 / f64::from(self.included().max(1))
	}

	/// The most of the wave's transactions one block included.
	pub fn best_block(&self) -> u32 {
		self.blocks.iter().map(|block| block.included).max().unwrap_or(0)
	}

	/// The `percent` percentile of the time from the wave's start to the block that included a
	/// transaction, over every included transaction.
	pub fn inclusion_percentile(&self, percent: u32) -> Duration {
		let mut times: Vec<Duration> = self
			.blocks
			.iter()
			.flat_map(|block| std::iter::repeat_n(block.seen_after, block.included as usize))
			.collect();
		times.sort();
		match times.len() {
			0 => Duration::ZERO,
			count => times[(count - 1) * percent as usize / 100],
		}
	}
}

/// Submits `wave` to `chain` and follows the finalized chain until every transaction the pool
/// took is included, or [`BLOCKS_WITHOUT_PROGRESS`] blocks pass without one after the last
/// submission.
pub async fn run(chain: &Chain, wave: Wave) -> Outcome {
	let senders = senders(&wave.extrinsics);
	let first = chain.finalized_number().await.expect("the node answers") + 1;
	let nonces_before = nonces(chain, senders.keys(), first - 1).await;
	let started = Instant::now();
	let submitted_all = AtomicBool::new(false);
	let submit = async {
		let refused = futures::stream::iter(&wave.extrinsics)
			.map(|extrinsic| chain.submit(extrinsic))
			.buffer_unordered(SUBMISSIONS_IN_FLIGHT)
			.filter_map(|result| async move { result.err().map(|error| error.to_string()) })
			.fold(BTreeMap::new(), |mut refused, reason| async move {
				*refused.entry(reason).or_insert(0) += 1;
				refused
			})
			.await;
		submitted_all.store(true, Ordering::Release);
		(refused, started.elapsed())
	};
	let follow = follow(chain, first, wave.extrinsics.len() as u32, &submitted_all, started);
	let ((refused, submission), (blocks, events, last)) = tokio::join!(submit, follow);
	let nonces_after = nonces(chain, senders.keys(), last).await;
	let included_by_nonce = senders
		.keys()
		.map(|sender| nonces_after[sender].saturating_sub(nonces_before[sender]) as usize)
		.sum();
	Outcome {
		name: wave.name,
		submitted: wave.extrinsics.len(),
		refused,
		submission,
		blocks,
		events,
		included_by_nonce,
	}
}

/// Reads finalized blocks from `first` on as they come, until `expected` normal-class
/// extrinsics were included, or the chain stopped including them after the submissions ended;
/// returns the blocks that included some, their events, and the last block read.
async fn follow(
	chain: &Chain,
	first: BlockNumber,
	expected: u32,
	submitted_all: &AtomicBool,
	started: Instant,
) -> (Vec<BlockRecord>, Vec<RuntimeEvent>, BlockNumber) {
	let mut blocks = Vec::new();
	let mut events = Vec::new();
	let mut next = first;
	let mut included = 0;
	let mut idle_since_submitted = 0;
	let mut last_progress = Instant::now();
	loop {
		let finalized = chain.finalized_number().await.expect("the node answers");
		if finalized < next {
			assert!(
				last_progress.elapsed() < FINALITY_STALL,
				"no block finalized for {FINALITY_STALL:?} after #{}",
				next - 1
			);
			tokio::time::sleep(POLL).await;
			continue;
		}
		last_progress = Instant::now();
		let seen_after = started.elapsed();
		let hash = chain.block_hash(next).await.expect("the chain has the finalized block");
		let (record, block_events) = read_block(chain, next, hash, seen_after).await;
		included += record.included;
		let done_submitting = submitted_all.load(Ordering::Acquire);
		idle_since_submitted = match (record.included, done_submitting) {
			(0, true) => idle_since_submitted + 1,
			_ => 0,
		};
		if record.included > 0 {
			events.extend(block_events);
		}
		blocks.push(record);
		next += 1;
		if included >= expected || idle_since_submitted >= BLOCKS_WITHOUT_PROGRESS {
			break;
		}
	}
	// Keep the blocks up to the last that included something.
	while blocks.last().is_some_and(|block| block.included == 0) {
		blocks.pop();
	}
	(blocks, events, next - 1)
}

/// Block `number`'s count of normal-class extrinsics and their weight, and its events.
async fn read_block(
	chain: &Chain,
	number: BlockNumber,
	hash: commons_runtime::Hash,
	seen_after: Duration,
) -> (BlockRecord, Vec<RuntimeEvent>) {
	let records = chain.events(hash).await.expect("a block's events decode");
	let mut record = BlockRecord { number, included: 0, failed: 0, normal_ref_time: 0, seen_after };
	for event in &records {
		let (class, failed) = match &event.event {
			RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info }) => {
				(dispatch_info.class, false)
			}
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_info, ..
			}) => (dispatch_info.class, true),
			_ => continue,
		};
		if class == DispatchClass::Normal {
			record.included += 1;
			record.failed += u32::from(failed);
		}
	}
	let key = frame_support::storage::storage_prefix(b"System", b"BlockWeight");
	let weight: PerDispatchClass<frame_support::weights::Weight> = chain
		.storage(&key, Some(hash))
		.await
		.expect("the block weight decodes")
		.unwrap_or_default();
	record.normal_ref_time = weight.get(DispatchClass::Normal).ref_time();
	(record, records.into_iter().map(|record| record.event).collect())
}

/// The accounts that signed `extrinsics`, each with how many it signed.
fn senders(extrinsics: &[UncheckedExtrinsic]) -> BTreeMap<AccountId, u32> {
	let mut senders = BTreeMap::new();
	for extrinsic in extrinsics {
		if let Preamble::Signed(MultiAddress::Id(account), _, _) = &extrinsic.preamble {
			*senders.entry(account.clone()).or_insert(0) += 1;
		}
	}
	senders
}

/// The nonce on chain of each of `accounts` after block `number` (not counting the pool's
/// transactions, as `system_accountNextIndex` would).
async fn nonces<'a>(
	chain: &Chain,
	accounts: impl Iterator<Item = &'a AccountId>,
	number: BlockNumber,
) -> BTreeMap<AccountId, Nonce> {
	let hash = chain.block_hash(number).await.expect("the chain has the block");
	let mut nonces = BTreeMap::new();
	for account in accounts {
		let key = frame_system::Account::<Runtime>::hashed_key_for(account);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			chain.storage(&key, Some(hash)).await.expect("an account decodes");
		nonces.insert(account.clone(), info.map(|info| info.nonce).unwrap_or_default());
	}
	nonces
}
