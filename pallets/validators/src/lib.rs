//! # Validators pallet
//!
//! Who validates Commons: the accounts whose session keys author blocks (Aura) and finalize them
//! (GRANDPA). Governance adds and removes them; a validator that stops authoring is reported and,
//! after a few sessions of absence, removed.
//!
//! ## Overview
//!
//! The pallet is `pallet-session`'s session manager. It keeps the validator set governance chose
//! ([`Validators`]) and hands it to the session pallet at session boundaries; the session pallet
//! then rotates the keys Aura and GRANDPA use. It also decides when a session ends (every
//! [`SessionLength`] blocks, a length governance sets within bounds) and watches, through
//! `pallet-authorship`, which validators author blocks.
//!
//! ## Design
//!
//! ### Changes take effect at session boundaries
//!
//! `pallet-session` plans a set one session ahead: the set handed over when session `s` starts is
//! the set of session `s + 1`. A validator added during session `s` therefore authors from
//! session `s + 2`, and one removed during `s` authors for the last time in `s + 1`. The pallet
//! hands a set over only when it changed ([`PlanPending`]): an unchanged set keeps GRANDPA's
//! authority set (and its set id) as it is.
//!
//! ### Only validators with keys
//!
//! An account becomes a validator only once its session keys are registered (`session.set_keys`,
//! with the proof of ownership `author_rotateKeysWithOwner` returns). A member that later purges
//! its keys stays in [`Validators`] but is left out of the sets handed to the session pallet until
//! it sets keys again; the pallet hands a new set over whenever the members with keys differ from
//! the active set, so Aura, GRANDPA and the session pallet always agree on who validates. The set
//! never has fewer than [`Config::MinValidators`] members with keys (a removal that would leave
//! fewer is refused, and a plan with fewer is not handed over) and never more than
//! [`Config::MaxValidators`] members (Aura's and GRANDPA's bound on authorities).
//!
//! ### Absence is judged per session, where every validator had its turns
//!
//! Aura gives the slots to the session's validators in turn, so in a session of at least
//! `2 × validators` blocks each online validator had at least two slots. When such a session
//! ends, every validator of it that authored no block in it is *absent*
//! ([`Event::ValidatorAbsent`]). After [`Config::AbsenceLimit`] absent sessions in a row the
//! validator is removed from the set ([`Event::ValidatorRemoved`] with [`Removal::Absent`]); it may
//! be added back by governance once it runs again. Removing the absent keeps finality healthy:
//! GRANDPA needs more than two thirds of the set online, and every absent member counts against
//! that.
//!
//! Absence never removes more than a third of the active set (counting validators already
//! leaving it): the two halves of a split network each see the other absent, and whichever
//! fork wins must not have removed half of the validators that are online. A set of three
//! therefore loses nobody to absence; with one of three down GRANDPA stops anyway, and a removal
//! could not take effect, since GRANDPA enacts set changes only in blocks it finalizes.
//!
//! There is no stake and so no slashing: a validator is trusted by governance, and the worst
//! the chain does to one that fails is to remove it.
//!
//! ## Terms
//!
//! - *Validator set*: [`Validators`], the accounts governance chose.
//! - *Active set*: the validators of the current session (`pallet_session::Validators`); it follows
//!   the validator set with a delay of up to two sessions.
//! - *Absent*: a member of the active set that authored no block in a whole session.
//!
//! ## Assumptions
//!
//! - **The runtime wires the pallet into the session pallet** as its `SessionManager`,
//!   `ShouldEndSession` and `NextSessionRotation`, with validator ids equal to account ids, and
//!   into `pallet-authorship` as its `EventHandler`.
//! - **Its genesis is built before the session pallet's**, which asks it for the first sets. A
//!   chain that adds the pallet by a runtime upgrade needs a migration writing the set, the
//!   session length and the validators' keys; until then sessions never end.
//! - **Authors are the session's validators**: `pallet-authorship` names the block's author
//!   among the active set (`pallet_session::FindAccountFromAuthorIndex` over Aura).
//!
//! ## Usage
//!
//! ```ignore
//! impl pallet_validators::Config for Runtime {
//! 	type GovernanceOrigin = EitherOf<EnsureRoot<AccountId>, ValidatorSet>;
//! 	type MaxValidators = ConstU32<32>;
//! 	type MinValidators = ConstU32<1>;
//! 	type MinSessionLength = ConstU32<{ MINUTES }>;
//! 	type MaxSessionLength = ConstU32<{ DAYS }>;
//! 	type AbsenceLimit = ConstU32<3>;
//! 	type WeightInfo = pallet_validators::weights::SubstrateWeight<Runtime>;
//! }
//! impl pallet_session::Config for Runtime {
//! 	type ValidatorId = AccountId;
//! 	type SessionManager = Validators;
//! 	type ShouldEndSession = Validators;
//! 	type NextSessionRotation = Validators;
//! 	// ...
//! }
//! impl pallet_authorship::Config for Runtime {
//! 	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
//! 	type EventHandler = Validators;
//! }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod invariants;
#[cfg(test)]
mod mock;
mod session;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::ValidatorRegistration};
	use frame_system::pallet_prelude::*;
	use sp_staking::SessionIndex;

	/// The storage layout's version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_session::Config<ValidatorId = <Self as frame_system::Config>::AccountId>
	{
		/// Who adds and removes validators and sets the session length.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most validators the set holds (no more than Aura and GRANDPA take as authorities).
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// The fewest validators the set keeps: neither governance nor an absence removes below.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// The shortest session, in blocks, governance may set.
		#[pallet::constant]
		type MinSessionLength: Get<BlockNumberFor<Self>>;

		/// The longest session, in blocks, governance may set.
		#[pallet::constant]
		type MaxSessionLength: Get<BlockNumberFor<Self>>;

		/// How many absent sessions in a row remove a validator from the set.
		#[pallet::constant]
		type AbsenceLimit: Get<u32>;

		/// The weights of the calls and of noting a block's author, from the benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The validator set governance chose, in the order it was built. The session pallet makes
	/// it the active set at the session boundaries that follow a change.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether [`Validators`] changed since it was last handed to the session pallet.
	#[pallet::storage]
	pub type PlanPending<T> = StorageValue<_, bool, ValueQuery>;

	/// How many blocks a session lasts.
	#[pallet::storage]
	pub type SessionLength<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The block the current session started at.
	#[pallet::storage]
	pub type SessionStart<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The validators of the active set that authored at least one block in the current session.
	#[pallet::storage]
	pub type AuthorsThisSession<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// For each member of [`Validators`] absent from the last sessions: how many in a row.
	#[pallet::storage]
	pub type AbsentSessions<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, u32>;

	/// The validators and session length a chain starts with.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The validator set of the first sessions; each needs session keys in the session
		/// pallet's genesis.
		pub validators: alloc::vec::Vec<T::AccountId>,
		/// How many blocks a session lasts; within the configured bounds.
		pub session_length: BlockNumberFor<T>,
	}

	/// No validators (the session pallet then takes those of its genesis keys) and the shortest
	/// session: the genesis of a test, not of a chain.
	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self { validators: Default::default(), session_length: T::MinSessionLength::get() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let validators = BoundedVec::<_, T::MaxValidators>::try_from(self.validators.clone())
				.expect("the genesis validator set is within MaxValidators");
			assert!(
				validators.is_empty() || validators.len() as u32 >= T::MinValidators::get(),
				"the genesis validator set has at least MinValidators"
			);
			let mut unique = validators.to_vec();
			unique.sort();
			unique.dedup();
			assert_eq!(unique.len(), validators.len(), "genesis validators are distinct");
			assert!(
				Pallet::<T>::session_length_allowed(self.session_length),
				"the genesis session length is within its bounds"
			);
			Validators::<T>::put(validators);
			SessionLength::<T>::put(self.session_length);
		}
	}

	/// What the pallet reports.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `validator` joined the validator set; it authors from the session after next.
		ValidatorAdded {
			/// The account added.
			validator: T::AccountId,
		},
		/// `validator` left the validator set; it stops authoring after the next session.
		ValidatorRemoved {
			/// The account removed.
			validator: T::AccountId,
			/// Who removed it.
			reason: Removal,
		},
		/// `validator` authored no block in `session`, its `in_a_row`-th such session in a row.
		ValidatorAbsent {
			/// The absent validator.
			validator: T::AccountId,
			/// The session it was absent from.
			session: SessionIndex,
			/// How many sessions in a row it has been absent from.
			in_a_row: u32,
		},
		/// Sessions now last `length` blocks, from the current one on.
		SessionLengthSet {
			/// The new length, in blocks.
			length: BlockNumberFor<T>,
		},
	}

	/// Why a validator left the set.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
	)]
	pub enum Removal {
		/// Governance removed it.
		Governance,
		/// It was absent for [`Config::AbsenceLimit`] sessions in a row.
		Absent,
	}

	/// Why a call was refused.
	#[pallet::error]
	pub enum Error<T> {
		/// The account is already in the validator set.
		AlreadyValidator,
		/// The account is not in the validator set.
		NotValidator,
		/// The account has no session keys registered: it must call `session.set_keys` first.
		NoSessionKeys,
		/// The set already holds `MaxValidators` validators.
		TooManyValidators,
		/// Removing the validator would leave fewer than `MinValidators` with session keys.
		TooFewValidators,
		/// The session length is outside `MinSessionLength ..= MaxSessionLength`.
		SessionLengthOutOfBounds,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Accounts for noting the block's author: `pallet-authorship` calls the pallet from its
		/// own `on_initialize` and counts nothing for it.
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			<T as Config>::WeightInfo::note_author()
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Adds `validator` to the validator set; it authors from the session after next.
		///
		/// The origin must be [`Config::GovernanceOrigin`]; the account must have session keys.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, validator: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let mut validators = Validators::<T>::get();
			ensure!(!validators.contains(&validator), Error::<T>::AlreadyValidator);
			ensure!(
				pallet_session::Pallet::<T>::is_registered(&validator),
				Error::<T>::NoSessionKeys
			);
			validators
				.try_push(validator.clone())
				.map_err(|_| Error::<T>::TooManyValidators)?;
			Validators::<T>::put(validators);
			PlanPending::<T>::put(true);
			Self::deposit_event(Event::ValidatorAdded { validator });
			Ok(())
		}

		/// Removes `validator` from the validator set; it authors for the last time in the next
		/// session.
		///
		/// The origin must be [`Config::GovernanceOrigin`].
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, validator: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::remove(&validator, Removal::Governance)
		}

		/// Sets how many blocks a session lasts, from the current session on: it ends once it is
		/// `length` blocks old (at the next block if it already is).
		///
		/// The origin must be [`Config::GovernanceOrigin`].
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::set_session_length())]
		pub fn set_session_length(
			origin: OriginFor<T>,
			length: BlockNumberFor<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::session_length_allowed(length), Error::<T>::SessionLengthOutOfBounds);
			SessionLength::<T>::put(length);
			Self::deposit_event(Event::SessionLengthSet { length });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether `length` is within `MinSessionLength ..= MaxSessionLength`.
		pub(crate) fn session_length_allowed(length: BlockNumberFor<T>) -> bool {
			(T::MinSessionLength::get()..=T::MaxSessionLength::get()).contains(&length)
		}

		/// Removes `validator` from the set for `reason`, keeping at least `MinValidators` with
		/// session keys.
		pub(crate) fn remove(validator: &T::AccountId, reason: Removal) -> DispatchResult {
			let mut validators = Validators::<T>::get();
			let position =
				validators.iter().position(|v| v == validator).ok_or(Error::<T>::NotValidator)?;
			validators.remove(position);
			ensure!(
				Self::with_keys(validators.to_vec()).len() as u32 >= T::MinValidators::get(),
				Error::<T>::TooFewValidators
			);
			Validators::<T>::put(validators);
			AbsentSessions::<T>::remove(validator);
			PlanPending::<T>::put(true);
			Self::deposit_event(Event::ValidatorRemoved { validator: validator.clone(), reason });
			Ok(())
		}
	}
}
