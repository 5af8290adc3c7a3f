//! The origins a referendum can dispatch with besides root. Each is a narrow authority over one
//! part of the protocol, decided on its own track ([`super::tracks`]) with its own deposit,
//! periods and curves, so that changing a TCB policy does not need the quorum of a runtime
//! upgrade, and a runtime upgrade cannot hide on a track meant for something smaller.

pub use pallet_custom_origins::*;

/// A pallet with no calls: it adds its [`Origin`] to the runtime's origins, and keeps, from
/// genesis, whether referenda run on short periods ([`ShortPeriods`]).
#[frame_support::pallet]
pub mod pallet_custom_origins {
	use crate::Balance;
	use frame_support::pallet_prelude::*;

	/// Whether this chain's referenda run on short periods ([`super::super::periods::short`]):
	/// minutes where a real chain takes days. Set at genesis on development and local test
	/// chains, so that a referendum can be rehearsed end to end; `staging` and any chain meant
	/// for real use leave it unset, and no call changes it.
	#[pallet::storage]
	pub type ShortPeriods<T> = StorageValue<_, bool, ValueQuery>;

	/// The genesis of the origins pallet.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Whether referenda run on short periods: for development and test chains only.
		pub short_periods: bool,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			ShortPeriods::<T>::put(self.short_periods);
		}
	}

	/// The pallet needs nothing from the runtime.
	#[pallet::config]
	pub trait Config: frame_system::Config {}

	/// The origins pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The governance origins. Indices are part of the encoding of scheduled calls and of
	/// `OriginCaller`: never reorder or reuse one.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Sets the market's protocol parameters: task categories and the parameters of
		/// [`crate::parameters`] that are not the TEE policy's.
		#[codec(index = 0)]
		ProtocolParameters,
		/// Sets what enclave evidence the chain accepts: the TCB policy, Intel's root CA, and
		/// how long evidence holds and how old its anchor may be.
		#[codec(index = 1)]
		TeePolicy,
		/// Changes the validator set.
		#[codec(index = 2)]
		ValidatorSet,
		/// Spends from the treasury, up to [`crate::governance::TREASURER_MAX_SPEND`] at once.
		#[codec(index = 3)]
		Treasurer,
		/// Cancels a referendum, refunding its deposits.
		#[codec(index = 4)]
		ReferendumCanceller,
		/// Kills a referendum, slashing its deposits.
		#[codec(index = 5)]
		ReferendumKiller,
		/// Dispatches, as root, a call the technical committee whitelisted.
		#[codec(index = 6)]
		WhitelistedCaller,
	}

	/// Declares, for each named variant of [`Origin`], a unit struct of the same name that is an
	/// `EnsureOrigin` accepting exactly that origin, with `()` as its success.
	macro_rules! decl_unit_ensures {
		( $( $name:ident ),* $(,)? ) => {
			$(
				#[doc = concat!("Accepts [`Origin::", stringify!($name), "`] only.")]
				pub struct $name;
				impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for $name
				where
					for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
				{
					type Success = ();
					fn try_origin(o: O) -> Result<Self::Success, O> {
						match o.caller().try_into() {
							Ok(Origin::$name) => return Ok(()),
							_ => (),
						}
						Err(o)
					}
					#[cfg(feature = "runtime-benchmarks")]
					fn try_successful_origin() -> Result<O, ()> {
						Ok(O::from(Origin::$name))
					}
				}
			)*
		};
	}

	decl_unit_ensures!(
		ProtocolParameters,
		TeePolicy,
		ValidatorSet,
		Treasurer,
		ReferendumCanceller,
		ReferendumKiller,
		WhitelistedCaller,
	);

	/// [`Origin::Treasurer`] as the treasury's spend origin: its success is the most it may
	/// spend at once.
	pub struct TreasurerSpender;
	impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for TreasurerSpender
	where
		for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
	{
		type Success = Balance;
		fn try_origin(o: O) -> Result<Self::Success, O> {
			match o.caller().try_into() {
				Ok(Origin::Treasurer) => return Ok(crate::governance::TREASURER_MAX_SPEND),
				_ => (),
			}
			Err(o)
		}
		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::Treasurer))
		}
	}
}
