//! The protocol's parameters: the values governance changes by referendum, each within bounds
//! that keep the protocol working.
//!
//! ## Overview
//!
//! The pallets take their economic and timing parameters from the runtime as `Get` types. For
//! the ones listed in [`protocol_parameters!`] below, the runtime hands them a type of this
//! module ([`PoolOwnerStakeRatio`], [`TaskRetention`], ...) that reads the current value from
//! [`pallet_protocol_parameters::Values`]. A referendum changes one with
//! [`pallet_protocol_parameters::Pallet::set_parameter`]: the marketplace's and the
//! contribution's on the `protocol_parameters` track, the attestation's on the `tee_policy`
//! track (root may set any).
//!
//! ## Design
//!
//! - **Bounded.** Every parameter has a least and a greatest value, written beside it with the
//!   reason; a value outside is refused ([`pallet_protocol_parameters::Error::BelowMinimum`],
//!   [`pallet_protocol_parameters::Error::AboveMaximum`]) and changes nothing. The bounds are
//!   code: moving one takes a runtime upgrade, on the root track.
//! - **Typed.** A call names a parameter and its value in one enum variant
//!   ([`ProtocolParameter`]), so Polkadot-JS Apps shows each with its type and documentation,
//!   and a value of the wrong type cannot be encoded.
//! - **Safe to change under running work.** Nothing already made is recomputed from a new value:
//!   a deposit records what it holds, a deal its pool owner's stake, a settled task the block it
//!   is pruned at, an enclave its expiry. A new value applies to what is made after it.
//! - **One read.** All values live in one storage value, which holds the defaults until
//!   governance first sets one: a chain needs no genesis entry for a parameter. Adding a
//!   parameter changes that value's encoding, so the upgrade that adds one migrates it (and
//!   raises the pallet's storage version); `try_state` checks that every stored value is within
//!   its bounds.
//!
//! Clients outside the runtime (the CLI, the compute node) read [`ParameterValues`] from chain
//! state: the `Get` types need the runtime's storage.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::Get;
use scale_info::TypeInfo;
use sp_runtime::Percent;

use crate::{Balance, BlockNumber, Runtime, CMN, DAYS, HOURS, MILLISECS_PER_BLOCK, MINUTES};

pub mod weights;

pub use pallet_protocol_parameters::*;
pub use weights::WeightInfo;

/// Which referendum track decides a parameter (root decides any).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Authority {
	/// The `protocol_parameters` track: the market's economics and timing.
	Protocol,
	/// The `tee_policy` track: what enclave evidence the chain accepts.
	TeePolicy,
}

/// Why a value was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutOfBounds {
	/// Less than the parameter's least value.
	BelowMinimum,
	/// More than the parameter's greatest value.
	AboveMaximum,
}

/// Declares the parameters: for each, its variant of [`ProtocolParameter`], its field of
/// [`ParameterValues`], a `Get` type of the same name as the variant, its default and bounds and
/// the track that sets it.
macro_rules! protocol_parameters {
	($(
		$(#[doc = $doc:expr])*
		$name:ident($field:ident): $type:ty = $default:expr,
			within $min:expr, $max:expr, by $authority:ident;
	)*) => {
		/// A protocol parameter and a value for it, as `set_parameter` takes it.
		#[derive(
			Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking,
			MaxEncodedLen, TypeInfo,
		)]
		pub enum ProtocolParameter {
			$( $(#[doc = $doc])* $name($type), )*
		}

		/// The value of every protocol parameter.
		#[derive(
			Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking,
			MaxEncodedLen, TypeInfo,
		)]
		pub struct ParameterValues {
			$( $(#[doc = $doc])* pub $field: $type, )*
		}

		impl Default for ParameterValues {
			/// The values a chain starts with.
			fn default() -> Self {
				Self { $( $field: $default, )* }
			}
		}

		impl ProtocolParameter {
			/// The track that decides this parameter.
			pub fn authority(&self) -> Authority {
				match self { $( Self::$name(_) => Authority::$authority, )* }
			}

			/// Whether its value is within the parameter's bounds.
			pub fn check_bounds(&self) -> Result<(), OutOfBounds> {
				match *self {
					$( Self::$name(value) => {
						if value < $min {
							Err(OutOfBounds::BelowMinimum)
						} else if value > $max {
							Err(OutOfBounds::AboveMaximum)
						} else {
							Ok(())
						}
					} )*
				}
			}

			/// Writes its value into `values`.
			pub fn apply_to(self, values: &mut ParameterValues) {
				match self { $( Self::$name(value) => values.$field = value, )* }
			}

			/// Every parameter with its value in `values`.
			pub fn all_in(values: &ParameterValues) -> alloc::vec::Vec<Self> {
				alloc::vec![ $( Self::$name(values.$field), )* ]
			}

			/// Every parameter at its least and at its greatest value.
			pub fn extremes() -> alloc::vec::Vec<(Self, Self)> {
				alloc::vec![ $( (Self::$name($min), Self::$name($max)), )* ]
			}
		}

		$(
			$(#[doc = $doc])*
			pub struct $name;
			impl Get<$type> for $name {
				fn get() -> $type {
					pallet_protocol_parameters::Values::<Runtime>::get().$field
				}
			}
		)*
	};
}

/// The number of blocks in `millis` milliseconds.
const fn blocks(millis: u64) -> BlockNumber {
	(millis / MILLISECS_PER_BLOCK) as BlockNumber
}

const HOUR_MS: u64 = 60 * 60 * 1000;

protocol_parameters! {
	/// The share of its price per task a workerpool's owner stakes when a deal is made, lost
	/// to the kitty if the task fails (30 %, as in the reference protocol). At least 10 %, so
	/// that failing costs a pool owner something; at most all of it.
	PoolOwnerStakeRatio(pool_owner_stake_ratio): Percent = Percent::from_percent(30),
		within Percent::from_percent(10), Percent::from_percent(100), by Protocol;
	/// The most tasks one deal buys (1,000). At least one; at most 1,000, the volume whose
	/// expiry the contribution pallet's idle-time sweep was sized for.
	MaxDealVolume(max_deal_volume): u32 = 1_000, within 1, 1_000, by Protocol;
	/// The deposit for each thing the chain stores for an account: an app, dataset, workerpool,
	/// allowed worker or presigned order (0.1 CMN). Between a thousandth of a CMN, so that
	/// storage is never free, and 100 CMN, so that publishing stays open to everyone.
	DepositPerItem(deposit_per_item): Balance = CMN / 10, within CMN / 1_000, 100 * CMN,
		by Protocol;
	/// The deposit for each byte such a thing takes (0.0001 CMN). Between a millionth of a CMN
	/// and a hundredth.
	DepositPerByte(deposit_per_byte): Balance = CMN / 10_000, within CMN / 1_000_000, CMN / 100,
		by Protocol;
	/// How far ahead an order may expire and still have records on chain (30 days). At least a
	/// day, so that orders stay usable; at most 90 days, which bounds how long the chain keeps
	/// any order's record.
	MaxOrderLifetime(max_order_lifetime): BlockNumber = 30 * DAYS, within DAYS, 90 * DAYS,
		by Protocol;
	/// How long a settled task stays readable on chain (7 days). At least an hour, for clients
	/// to read the result; at most 30 days.
	TaskRetention(task_retention): BlockNumber = 7 * DAYS, within HOURS, 30 * DAYS,
		by Protocol;
	/// How long a worker counts as alive after its last heartbeat (10 minutes); compute nodes
	/// send one every third of it. At least 3 minutes, so that a heartbeat every minute is
	/// not too often for the chain; at most a day.
	WorkerLivenessWindow(worker_liveness_window): BlockNumber = blocks(10 * 60_000),
		within 3 * MINUTES, DAYS, by Protocol;
	/// How long an enclave's evidence holds, in milliseconds (a day). At least two hours,
	/// since compute nodes re-attest an hour before expiry; at most a week.
	AttestationLifetime(attestation_lifetime): u64 = 24 * HOUR_MS, within 2 * HOUR_MS,
		7 * 24 * HOUR_MS, by TeePolicy;
	/// How old a block enclave evidence binds may be, in blocks (100, ten minutes). At least 10,
	/// time to take a quote and have it included; at most an hour, well within the block
	/// hashes the chain keeps (`BlockHashCount`).
	MaxEvidenceAge(max_evidence_age): BlockNumber = 100, within 10, HOURS, by TeePolicy;
}

// The anchor of enclave evidence must still be among the block hashes `frame_system` keeps.
const _: () = assert!(
	HOURS < crate::configs::BlockHashCount::get(),
	"MaxEvidenceAge's bound within BlockHashCount"
);

/// The pallet that stores the parameters and lets governance set them.
#[frame_support::pallet]
pub mod pallet_protocol_parameters {
	use super::{Authority, OutOfBounds, ParameterValues, ProtocolParameter, WeightInfo};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// What the pallet needs from the runtime.
	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Who sets the market's parameters.
		type ProtocolOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Who sets the attestation's parameters.
		type TeePolicyOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The weight of `set_parameter`.
		type WeightInfo: WeightInfo;
	}

	/// The layout version of [`Values`].
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	/// The protocol parameters pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Every stored value is within its parameter's bounds (a later upgrade that narrows a
		/// bound must migrate the values outside it).
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for parameter in ProtocolParameter::all_in(&Values::<T>::get()) {
				ensure!(parameter.check_bounds().is_ok(), "a protocol parameter is out of bounds");
			}
			Ok(())
		}
	}

	/// The current value of every parameter; the defaults until governance sets one.
	#[pallet::storage]
	pub type Values<T> = StorageValue<_, ParameterValues, ValueQuery>;

	/// What happened to the parameters.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A parameter was set to the value it carries.
		ParameterSet { parameter: ProtocolParameter },
	}

	/// Why `set_parameter` refused a value.
	#[pallet::error]
	pub enum Error<T> {
		/// The value is less than the parameter's least value (see the parameter's docs).
		BelowMinimum,
		/// The value is more than the parameter's greatest value (see the parameter's docs).
		AboveMaximum,
	}

	impl<T> From<OutOfBounds> for Error<T> {
		fn from(reason: OutOfBounds) -> Self {
			match reason {
				OutOfBounds::BelowMinimum => Error::BelowMinimum,
				OutOfBounds::AboveMaximum => Error::AboveMaximum,
			}
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets `parameter` to the value it carries, from the next call that reads it on.
		///
		/// The origin is the parameter's track (`protocol_parameters` or `tee_policy`) or root.
		/// A value outside the parameter's bounds is refused.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_parameter())]
		pub fn set_parameter(origin: OriginFor<T>, parameter: ProtocolParameter) -> DispatchResult {
			match parameter.authority() {
				Authority::Protocol => T::ProtocolOrigin::ensure_origin(origin).map(|_| ())?,
				Authority::TeePolicy => T::TeePolicyOrigin::ensure_origin(origin).map(|_| ())?,
			}
			parameter.check_bounds().map_err(Error::<T>::from)?;
			Values::<T>::mutate(|values| parameter.apply_to(values));
			Self::deposit_event(Event::ParameterSet { parameter });
			Ok(())
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	#[frame_benchmarking::v2::benchmarks]
	mod benchmarks {
		use super::*;
		use frame_benchmarking::v2::*;

		/// Setting a parameter: one read and one write of the values, whichever it is.
		#[benchmark]
		fn set_parameter() -> Result<(), BenchmarkError> {
			let origin = T::ProtocolOrigin::try_successful_origin()
				.map_err(|_| BenchmarkError::Weightless)?;
			let parameter = ProtocolParameter::DepositPerItem(crate::CMN);
			#[extrinsic_call]
			_(origin as T::RuntimeOrigin, parameter);
			assert_eq!(Values::<T>::get().deposit_per_item, crate::CMN);
			Ok(())
		}
	}
}
