//! The reference protocol's weighted vote (iExec PoCo §4), exactly, on integers wide enough
//! that it never overflows.
//!
//! A worker's vote weight comes from its score: `weight = max(score / 3, 3) - 1`. Each result
//! hash's group is the product of its voters' weights, and the total starts at 1 and grows with
//! the groups: `total = 1 + Σ groups`. A hash reaches consensus when
//! `group × trust > total × (trust - 1)`, that is when its credibility `group / total` exceeds
//! `1 - 1/trust`.
//!
//! Weights are below 2³¹ (scores are `u32`), so a product of `n` weights is below 2^(31n), and
//! the condition's largest term, `total × (trust - 1)`, is below 2^(31n + 33). With [`VoteWeight`]
//! being 512 bits wide, up to [`MAX_EXACT_CONTRIBUTORS`] contributions are counted exactly;
//! the pallet's `integrity_test` holds `MaxContributors` to that.
//!
//! A [`Tally`] stores its weights as [`StoredWeight`]s, eight little-endian `u64` limbs: the
//! same bytes as `U512`'s encoding, but under a type every metadata-driven client decodes
//! (@polkadot/api knows no `U512`, and would fail to show a task at all).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::U512;

use crate::types::ResultHash;

/// A group's or the total's weight: a product of worker weights.
pub type VoteWeight = U512;

/// A [`VoteWeight`] as a tally stores it: its eight 64-bit limbs, least significant first.
///
/// Encoded exactly as `U512` is (64 little-endian bytes), so tasks stored before this type
/// existed decode unchanged.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct StoredWeight(pub [u64; 8]);

impl From<VoteWeight> for StoredWeight {
	fn from(weight: VoteWeight) -> Self {
		Self(weight.0)
	}
}

impl From<StoredWeight> for VoteWeight {
	fn from(stored: StoredWeight) -> Self {
		U512(stored.0)
	}
}

/// The most contributions whose products [`VoteWeight`] holds without overflow.
pub const MAX_EXACT_CONTRIBUTORS: u32 = (512 - 33) / 31;

/// A worker's vote weight from its score: `max(score / 3, 3) - 1`, at least 2.
pub fn worker_weight(score: u32) -> u32 {
	(score / 3).max(3) - 1
}

/// The fewest agreeing contributors a consensus needs: one at trust 1, two above it.
///
/// Commons' rule on top of the reference's vote: there, a worker whose weight alone meets the
/// trust (weight ≥ trust, a score of about 3 × trust) decides a task by itself, so a requester's
/// trust above 1 would buy no second opinion from a worker with a high enough score. Here a task
/// of trust above 1 always has at least two workers agreeing on its result.
pub fn min_agreeing(trust: u32) -> u32 {
	if trust > 1 {
		2
	} else {
		1
	}
}

/// A winner's share of the workers' reward: `floor(log2(weight))`, at least 1.
pub fn reward_share(weight: u32) -> u32 {
	weight.max(1).ilog2()
}

/// The vote on one task: each result hash's group and the total.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxGroups))]
#[codec(mel_bound())]
pub struct Tally<MaxGroups: Get<u32>> {
	/// Each hash voted for, with the product of its voters' weights.
	groups: BoundedVec<(ResultHash, StoredWeight), MaxGroups>,
	/// `1 + Σ groups`.
	total: StoredWeight,
}

impl<MaxGroups: Get<u32>> Default for Tally<MaxGroups> {
	fn default() -> Self {
		Self { groups: BoundedVec::new(), total: VoteWeight::one().into() }
	}
}

/// The vote could not be counted: more distinct results than contributions, or a product beyond
/// [`VoteWeight`] (both prevented by the pallet's bounds).
#[derive(Debug, PartialEq, Eq)]
pub struct TallyOverflow;

impl<MaxGroups: Get<u32>> Tally<MaxGroups> {
	/// The group of `hash`: the product of its voters' weights, or 0 if nobody voted for it.
	pub fn group(&self, hash: &ResultHash) -> VoteWeight {
		self.groups
			.iter()
			.find(|(voted, _)| voted == hash)
			.map(|(_, group)| VoteWeight::from(*group))
			.unwrap_or_default()
	}

	/// `1 + Σ groups`.
	pub fn total(&self) -> VoteWeight {
		self.total.into()
	}

	/// Every hash voted for, with its group.
	pub fn groups(&self) -> impl Iterator<Item = (ResultHash, VoteWeight)> + '_ {
		self.groups.iter().map(|(hash, group)| (*hash, VoteWeight::from(*group)))
	}

	/// Counts a vote of `weight` for `hash`: `group = max(group, 1) × weight`, and the total grows
	/// by as much as the group did.
	pub fn add_vote(&mut self, hash: ResultHash, weight: u32) -> Result<(), TallyOverflow> {
		let old = self.group(&hash);
		let new = old.max(VoteWeight::one()).checked_mul(weight.into()).ok_or(TallyOverflow)?;
		self.total = (self.total() - old).checked_add(new).ok_or(TallyOverflow)?.into();
		match self.groups.iter_mut().find(|(voted, _)| *voted == hash) {
			Some(entry) => entry.1 = new.into(),
			None => self.groups.try_push((hash, new.into())).map_err(|_| TallyOverflow)?,
		}
		Ok(())
	}

	/// Drops every vote for `hash`, as when its voters all failed to reveal.
	pub fn remove_group(&mut self, hash: &ResultHash) {
		let group = self.group(hash);
		self.total = self.total().saturating_sub(group).into();
		self.groups.retain(|(voted, _)| voted != hash);
	}

	/// Whether `hash` has consensus at `trust` (at least 1): `group × trust > total × (trust - 1)`.
	pub fn has_consensus(&self, hash: &ResultHash, trust: u32) -> bool {
		let trust = trust.max(1);
		let group = self.group(hash);
		// Neither product overflows: see the module's documentation.
		group.saturating_mul(trust.into()) > self.total().saturating_mul((trust - 1).into())
	}
}

/// Whether the votes cast, joined by the votes of the `pending` workers' weights, would reach
/// consensus at `trust` if every pending worker agreed with the leading result: the scheduler's
/// replication policy of the reference (§4.5). It assigns more workers while this is false.
pub fn predicts_consensus<MaxGroups: Get<u32>>(
	tally: &Tally<MaxGroups>,
	pending: &[u32],
	trust: u32,
) -> bool {
	let trust = trust.max(1);
	let leading = tally.groups().map(|(_, group)| group).max().unwrap_or_default();
	let others = tally.total().saturating_sub(VoteWeight::one()).saturating_sub(leading);
	let predicted = pending.iter().fold(leading.max(VoteWeight::one()), |group, weight| {
		group.saturating_mul((*weight).into())
	});
	// With nobody pending, the prediction is the vote as it stands.
	let predicted = if pending.is_empty() { leading } else { predicted };
	let total = VoteWeight::one().saturating_add(predicted).saturating_add(others);
	predicted.saturating_mul(trust.into()) > total.saturating_mul((trust - 1).into())
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::ConstU32;

	type TestTally = Tally<ConstU32<{ MAX_EXACT_CONTRIBUTORS }>>;

	fn hash(byte: u8) -> ResultHash {
		ResultHash::repeat_byte(byte)
	}

	#[test]
	fn a_stored_weight_is_encoded_as_u512_was() {
		// Tasks stored while the tally held `U512` decode as `StoredWeight`, and back.
		let wide = (U512::one() << 500) + U512::from(u64::MAX) * 3 + 7;
		for weight in [U512::zero(), U512::one(), U512::from(3172), wide, U512::MAX] {
			let stored = StoredWeight::from(weight);
			assert_eq!(stored.encode(), weight.encode(), "bytes of {weight}");
			assert_eq!(StoredWeight::decode(&mut &weight.encode()[..]), Ok(stored));
			assert_eq!(VoteWeight::from(stored), weight);
		}
		let mut tally = TestTally::default();
		tally.add_vote(hash(b'A'), 3).unwrap();
		let mut old_layout = vec![1u8 << 2];
		old_layout.extend(hash(b'A').encode());
		old_layout.extend(U512::from(3).encode());
		old_layout.extend(U512::from(4).encode());
		assert_eq!(tally.encode(), old_layout);
	}

	#[test]
	fn weights_follow_the_reference_examples() {
		// iExec PoCo §4.1: score 0–11 → 2, 12 → 3, 100 → 32, 300 → 99; log2 1, 1, 5, 6.
		let expected = [(0, 2, 1), (11, 2, 1), (12, 3, 1), (100, 32, 5), (300, 99, 6)];
		for (score, weight, share) in expected {
			assert_eq!(worker_weight(score), weight, "weight of score {score}");
			assert_eq!(reward_share(worker_weight(score)), share, "share of score {score}");
		}
		assert_eq!(worker_weight(u32::MAX), u32::MAX / 3 - 1);
	}

	#[test]
	fn the_reference_vote_reaches_consensus_on_the_third_contribution() {
		// iExec PoCo §4.3, trust 100: w1 (weight 3) votes A, w2 (32) and w3 (99) vote B.
		let mut tally = TestTally::default();
		tally.add_vote(hash(b'A'), 3).unwrap();
		assert_eq!((tally.group(&hash(b'A')), tally.total()), (3.into(), 4.into()));
		assert!(!tally.has_consensus(&hash(b'A'), 100));
		tally.add_vote(hash(b'B'), 32).unwrap();
		assert_eq!((tally.group(&hash(b'B')), tally.total()), (32.into(), 36.into()));
		assert!(!tally.has_consensus(&hash(b'B'), 100));
		tally.add_vote(hash(b'B'), 99).unwrap();
		assert_eq!((tally.group(&hash(b'B')), tally.total()), (3168.into(), 3172.into()));
		assert!(tally.has_consensus(&hash(b'B'), 100));
	}

	#[test]
	fn agreeing_fresh_workers_meet_trust_up_to_two_to_their_number() {
		// With n fresh workers agreeing, group = 2^n and total = 2^n + 1: trust ≤ 2^n suffices.
		for workers in 1..=6u32 {
			let mut tally = TestTally::default();
			for _ in 0..workers {
				tally.add_vote(hash(1), 2).unwrap();
			}
			assert!(tally.has_consensus(&hash(1), 1 << workers));
			assert!(!tally.has_consensus(&hash(1), (1 << workers) + 1));
		}
	}

	#[test]
	fn removing_a_group_takes_its_weight_out_of_the_total() {
		let mut tally = TestTally::default();
		tally.add_vote(hash(1), 5).unwrap();
		tally.add_vote(hash(2), 7).unwrap();
		tally.remove_group(&hash(1));
		assert_eq!(tally.group(&hash(1)), VoteWeight::zero());
		assert_eq!(tally.total(), 8.into());
		assert_eq!(tally.groups().collect::<Vec<_>>(), vec![(hash(2), 7.into())]);
	}

	#[test]
	fn the_heaviest_possible_votes_are_counted_exactly() {
		let mut tally = TestTally::default();
		let heaviest = worker_weight(u32::MAX);
		for round in 0..MAX_EXACT_CONTRIBUTORS {
			tally.add_vote(hash((round % 2) as u8), heaviest).unwrap();
		}
		// Two groups, each a product of heaviest weights, and nothing saturated.
		let product = |count: u32| {
			(0..count).fold(VoteWeight::one(), |acc, _| acc * VoteWeight::from(heaviest))
		};
		let (even, odd) = (MAX_EXACT_CONTRIBUTORS.div_ceil(2), MAX_EXACT_CONTRIBUTORS / 2);
		assert_eq!(tally.total(), VoteWeight::one() + product(even) + product(odd));
		assert!(tally.total().checked_mul(VoteWeight::from(u32::MAX)).is_some());
	}

	#[test]
	fn the_scheduler_assigns_until_the_prediction_reaches_consensus() {
		let empty = TestTally::default();
		// Nobody assigned: never enough.
		assert!(!predicts_consensus(&empty, &[], 1));
		// Trust 1 or 2: one fresh worker; trust 3 or 4: two; trust 5: three.
		assert!(predicts_consensus(&empty, &[2], 1));
		assert!(predicts_consensus(&empty, &[2], 2));
		assert!(!predicts_consensus(&empty, &[2], 3));
		assert!(predicts_consensus(&empty, &[2, 2], 4));
		assert!(!predicts_consensus(&empty, &[2, 2], 5));
		assert!(predicts_consensus(&empty, &[2, 2, 2], 5));
	}

	#[test]
	fn disagreement_asks_for_more_workers() {
		// Trust 5: a weight-4 worker and a newcomer (weight 2) are predicted to agree.
		let empty = TestTally::default();
		assert!(predicts_consensus(&empty, &[4, 2], 5));
		// They disagree: no prediction holds until another weight-4 worker is pending...
		let mut tally = TestTally::default();
		tally.add_vote(hash(1), 4).unwrap();
		tally.add_vote(hash(2), 2).unwrap();
		assert!(!predicts_consensus(&tally, &[], 5));
		assert!(!predicts_consensus(&tally, &[2], 5));
		assert!(predicts_consensus(&tally, &[4], 5));
		// ...whose agreeing vote then does reach consensus.
		tally.add_vote(hash(1), 4).unwrap();
		assert!(tally.has_consensus(&hash(1), 5));
	}

	#[test]
	fn a_replicated_task_needs_two_agreeing_workers_whatever_their_weight() {
		assert_eq!(min_agreeing(0), 1);
		assert_eq!(min_agreeing(1), 1);
		assert_eq!(min_agreeing(2), 2);
		assert_eq!(min_agreeing(u32::MAX), 2);
	}

	#[test]
	fn a_reached_consensus_needs_nobody_more() {
		let mut tally = TestTally::default();
		tally.add_vote(hash(1), 2).unwrap();
		tally.add_vote(hash(1), 2).unwrap();
		assert!(predicts_consensus(&tally, &[], 4));
	}
}
