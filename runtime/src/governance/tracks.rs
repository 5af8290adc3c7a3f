//! The referendum tracks: one per origin a referendum can dispatch with.
//!
//! Every track decides within [`periods::DECISION`] (a week); its curves are fractions of that
//! period, so they keep their shape when the periods change. Curves are written in 28ths of the
//! decision period (six hours each at a week), as Polkadot's are, and reuse Polkadot's shapes:
//!
//! - root and treasurer: approval from 100 % falling to 80 % at 4/28 and towards 50 %; support
//!   falling linearly from 50 % to 0 % over the whole period.
//! - protocol parameters and TEE policy (general-admin shape): the same approval; support
//!   falling faster, to 10 % at 7/28.
//! - validator set and referendum cancel/kill (staking-admin shape): approval falling linearly
//!   from 100 % to 50 % at 17/28; support falling to 1 % at 12/28.
//! - whitelisted caller: near-unanimous approval (96 % at 16/672 of the period, four hours) and
//!   support falling fast (20 % at 1/28, six hours; floor 5 %): the technical committee
//!   already vouched for the call.

use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::{str_array as s, FixedI64};

use super::{deposits, origins, periods, periods::Periods};
use crate::{Balance, BlockNumber, RuntimeOrigin};

/// The tracks' ids. They are stored in every referendum: never change one.
pub mod ids {
	/// Root: runtime upgrades and anything else.
	pub const ROOT: u16 = 0;
	/// Calls the technical committee whitelisted, dispatched as root.
	pub const WHITELISTED_CALLER: u16 = 1;
	/// The marketplace's protocol parameters.
	pub const PROTOCOL_PARAMETERS: u16 = 10;
	/// The TCB policy and Intel's root CA.
	pub const TEE_POLICY: u16 = 11;
	/// The validator set.
	pub const VALIDATOR_SET: u16 = 12;
	/// Treasury spends.
	pub const TREASURER: u16 = 13;
	/// Cancelling a referendum.
	pub const REFERENDUM_CANCELLER: u16 = 20;
	/// Killing a referendum.
	pub const REFERENDUM_KILLER: u16 = 21;
}

const fn percent(x: u128) -> FixedI64 {
	FixedI64::from_rational(x, 100)
}

const APP_ROOT: Curve = Curve::make_reciprocal(4, 28, percent(80), percent(50), percent(100));
const SUP_ROOT: Curve = Curve::make_linear(28, 28, percent(0), percent(50));
const APP_WHITELISTED_CALLER: Curve =
	Curve::make_reciprocal(16, 28 * 24, percent(96), percent(50), percent(100));
const SUP_WHITELISTED_CALLER: Curve =
	Curve::make_reciprocal(1, 28, percent(20), percent(5), percent(50));
const APP_ADMIN: Curve = Curve::make_reciprocal(4, 28, percent(80), percent(50), percent(100));
const SUP_ADMIN: Curve = Curve::make_reciprocal(7, 28, percent(10), percent(0), percent(50));
const APP_VALIDATOR_SET: Curve = Curve::make_linear(17, 28, percent(50), percent(100));
const SUP_VALIDATOR_SET: Curve =
	Curve::make_reciprocal(12, 28, percent(1), percent(0), percent(50));
const APP_TREASURER: Curve = Curve::make_reciprocal(4, 28, percent(80), percent(50), percent(100));
const SUP_TREASURER: Curve = Curve::make_linear(28, 28, percent(0), percent(50));
const APP_CANCEL: Curve = Curve::make_linear(17, 28, percent(50), percent(100));
const SUP_CANCEL: Curve = Curve::make_reciprocal(12, 28, percent(1), percent(0), percent(50));

/// One track, its name padded to the 25 bytes `TrackInfo` stores.
const fn track(
	id: u16,
	name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	p: Periods,
	min_approval: Curve,
	min_support: Curve,
) -> Track<u16, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: s(name),
			max_deciding,
			decision_deposit,
			prepare_period: p.prepare,
			decision_period: p.decision,
			confirm_period: p.confirm,
			min_enactment_period: p.min_enactment,
			min_approval,
			min_support,
		},
	}
}

/// `track` with [`Periods::short`] periods.
fn shortened(track: &Track<u16, Balance, BlockNumber>) -> Track<u16, Balance, BlockNumber> {
	let info = &track.info;
	let periods = Periods {
		prepare: info.prepare_period,
		decision: info.decision_period,
		confirm: info.confirm_period,
		min_enactment: info.min_enactment_period,
	}
	.short();
	let mut short = track.clone();
	short.info.prepare_period = periods.prepare;
	short.info.decision_period = periods.decision;
	short.info.confirm_period = periods.confirm;
	short.info.min_enactment_period = periods.min_enactment;
	short
}

/// The tracks, sorted by id (`pallet_referenda` checks it in its integrity test).
static TRACKS: [Track<u16, Balance, BlockNumber>; 8] = [
	track(ids::ROOT, "root", 10, deposits::ROOT, periods::ROOT, APP_ROOT, SUP_ROOT),
	track(
		ids::WHITELISTED_CALLER,
		"whitelisted_caller",
		10,
		deposits::WHITELISTED_CALLER,
		periods::WHITELISTED_CALLER,
		APP_WHITELISTED_CALLER,
		SUP_WHITELISTED_CALLER,
	),
	track(
		ids::PROTOCOL_PARAMETERS,
		"protocol_parameters",
		10,
		deposits::PROTOCOL_PARAMETERS,
		periods::PROTOCOL_PARAMETERS,
		APP_ADMIN,
		SUP_ADMIN,
	),
	track(
		ids::TEE_POLICY,
		"tee_policy",
		10,
		deposits::TEE_POLICY,
		periods::TEE_POLICY,
		APP_ADMIN,
		SUP_ADMIN,
	),
	track(
		ids::VALIDATOR_SET,
		"validator_set",
		5,
		deposits::VALIDATOR_SET,
		periods::VALIDATOR_SET,
		APP_VALIDATOR_SET,
		SUP_VALIDATOR_SET,
	),
	track(
		ids::TREASURER,
		"treasurer",
		10,
		deposits::TREASURER,
		periods::TREASURER,
		APP_TREASURER,
		SUP_TREASURER,
	),
	track(
		ids::REFERENDUM_CANCELLER,
		"referendum_canceller",
		100,
		deposits::REFERENDUM_CANCELLER,
		periods::REFERENDUM_CANCELLER,
		APP_CANCEL,
		SUP_CANCEL,
	),
	track(
		ids::REFERENDUM_KILLER,
		"referendum_killer",
		100,
		deposits::REFERENDUM_KILLER,
		periods::REFERENDUM_KILLER,
		APP_CANCEL,
		SUP_CANCEL,
	),
];

/// The runtime's tracks, for `pallet_referenda::Config::Tracks`.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as frame_support::traits::OriginTrait>::PalletsOrigin;

	/// The tracks, with short periods on a chain that set them at genesis.
	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		// A release build for a real chain ignores the flag: its metadata (which lists the
		// tracks) is then the same whatever the chain's state.
		let short = !cfg!(feature = "on-chain-release-build")
			&& origins::ShortPeriods::<crate::Runtime>::get();
		TRACKS.iter().map(
			move |track| {
				if short {
					Cow::Owned(shortened(track))
				} else {
					Cow::Borrowed(track)
				}
			},
		)
	}

	fn track_for(id: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		if let Ok(system_origin) = frame_system::RawOrigin::try_from(id.clone()) {
			match system_origin {
				frame_system::RawOrigin::Root => Ok(ids::ROOT),
				_ => Err(()),
			}
		} else if let Ok(custom_origin) = origins::Origin::try_from(id.clone()) {
			match custom_origin {
				origins::Origin::WhitelistedCaller => Ok(ids::WHITELISTED_CALLER),
				origins::Origin::ProtocolParameters => Ok(ids::PROTOCOL_PARAMETERS),
				origins::Origin::TeePolicy => Ok(ids::TEE_POLICY),
				origins::Origin::ValidatorSet => Ok(ids::VALIDATOR_SET),
				origins::Origin::Treasurer => Ok(ids::TREASURER),
				origins::Origin::ReferendumCanceller => Ok(ids::REFERENDUM_CANCELLER),
				origins::Origin::ReferendumKiller => Ok(ids::REFERENDUM_KILLER),
			}
		} else {
			Err(())
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{AccountId, OriginCaller};
	use pallet_referenda::TracksInfo as _;

	/// The tracks read whether the chain has short periods from its state.
	fn with_state<R>(test: impl FnOnce() -> R) -> R {
		sp_io::TestExternalities::default().execute_with(test)
	}

	#[test]
	fn tracks_are_sorted_and_distinctly_named() {
		with_state(|| {
			<TracksInfo as pallet_referenda::TracksInfo<Balance, BlockNumber>>::check_integrity()
				.unwrap()
		});
		let mut names: alloc::vec::Vec<_> = TRACKS.iter().map(|t| t.info.name).collect();
		names.sort();
		names.dedup();
		assert_eq!(names.len(), TRACKS.len());
	}

	#[test]
	fn root_and_every_custom_origin_has_its_own_track() {
		let callers: [(OriginCaller, u16); 8] = [
			(frame_system::RawOrigin::<AccountId>::Root.into(), ids::ROOT),
			(origins::Origin::WhitelistedCaller.into(), ids::WHITELISTED_CALLER),
			(origins::Origin::ProtocolParameters.into(), ids::PROTOCOL_PARAMETERS),
			(origins::Origin::TeePolicy.into(), ids::TEE_POLICY),
			(origins::Origin::ValidatorSet.into(), ids::VALIDATOR_SET),
			(origins::Origin::Treasurer.into(), ids::TREASURER),
			(origins::Origin::ReferendumCanceller.into(), ids::REFERENDUM_CANCELLER),
			(origins::Origin::ReferendumKiller.into(), ids::REFERENDUM_KILLER),
		];
		for (caller, id) in callers {
			assert_eq!(TracksInfo::track_for(&caller), Ok(id), "{caller:?}");
			assert!(with_state(|| TracksInfo::info(id).is_some()));
		}
		let signed: OriginCaller = frame_system::RawOrigin::Signed(AccountId::new([1; 32])).into();
		assert_eq!(TracksInfo::track_for(&signed), Err(()));
	}
}
