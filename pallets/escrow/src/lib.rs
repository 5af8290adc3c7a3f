//! # Escrow pallet
//!
//! Every balance the Commons protocol locks, and the protocol's own pot, the *kitty*.
//!
//! ## Overview
//!
//! The marketplace locks a requester's payment and a pool owner's stake when orders match; the
//! contribution pallet locks a worker's stake when it contributes, then pays, returns or seizes
//! these funds when a task settles. None of them moves protocol money itself: they call the
//! [`Escrow`] trait this pallet implements, so every protocol balance is accounted for in one place.
//!
//! ## Design
//!
//! Locked funds stay in their owner's account, on a `fungible` hold with one [`HoldReason`] per
//! [`Purpose`]: they still count towards the owner's total balance, cannot be spent, and cannot be
//! double-counted by another pallet. The holds are the only record of what is locked: a second
//! ledger here would cost every movement of protocol money two more reads and writes (a quarter
//! of a task's storage writes) to say again what pallet-balances already keeps. What is held is
//! tied to what is owed by the pallets that decide amounts: their `try_state` checks compare each
//! account's hold with its deals, tasks and deposits, and the sum of all holds with the sum of
//! what is owed (see [`Escrow::total_locked`]), so a hold no protocol record explains, or a
//! record without its hold, is found there. Until spec 119 this pallet kept such a ledger; the
//! v1 migration removes it (see [`migrations`]).
//!
//! Settling a task moves held funds straight to whoever earns them ([`Escrow::pay`]) without a
//! detour through a pot. Only funds nobody earns are *seized* into the kitty: the stake of a
//! pool owner whose task failed. The kitty is the account of [`Config::PalletId`]; its funds are on
//! hold there under [`HoldReason::Kitty`], so a plain transfer to that account cannot be mistaken
//! for kitty money. The kitty account is created at genesis with the existential deposit, and
//! topped up to it on every runtime upgrade, so that seizures of any size can be deposited into
//! it.
//!
//! ### Nobody can earn the kitty by making others fail
//!
//! The reference protocol pays each successful task's pool owner a share of the kitty. On a chain
//! where a task costs a few fees, that share is farmed: whoever owns an app, a pool and a worker
//! completes zero-price tasks with itself and takes a share each time. Seized stakes would then
//! become profit for whoever forces a victim's tasks to fail (a requester is refunded in full, the
//! victim's stake goes to the kitty, the requester takes the kitty). No per-task share bounded by
//! the task's own stake avoids this, since a self-dealer's stake comes back to itself. So the
//! kitty pays nothing per task: it only grows, and only governance may spend it. Forcing a
//! victim's task to fail therefore earns the attacker nothing but its refund, at the cost of its
//! fees.
//!
//! ### A payee cannot block a settlement
//!
//! A payout can be impossible to credit: the payee's account does not exist and the amount is
//! below the existential deposit, or the account cannot take another provider. If such a payee
//! could make [`Escrow::pay`] fail, anyone could make every task of a deal unfinalizable by
//! naming an unfundable owner. So a payout that cannot be credited goes into the kitty instead
//! ([`Event::PayoutDiverted`]) and the settlement goes on. Held funds are moved with
//! `Fortitude::Force`: a freeze on the payer's account cannot block its refund or its payment.
//!
//! ## Terms
//!
//! - *Lock*: put an account's free funds on hold for a purpose.
//! - *Unlock*: release them back to the same account.
//! - *Pay*: move held funds to another account's free balance (a reward or a price).
//! - *Seize*: move held funds into the kitty.
//! - *Divert*: put a payout its payee cannot receive into the kitty.
//! - *Subject*: the deal or task a movement belongs to, named in every event.
//!
//! ## Assumptions
//!
//! - **Holds are kept apart by reason.** The currency (pallet-balances in the runtime) tracks a
//!   hold per [`HoldReason`], so funds locked for one [`Purpose`] can only be released, paid or
//!   seized as that purpose; no other pallet releases holds of these reasons.
//! - **The kitty account exists.** It is endowed with the existential deposit at genesis and
//!   topped up on every runtime upgrade; seizures and diverted payouts rely on it existing.
//! - **Callers keep their own books.** The escrow checks that a movement is covered by what is
//!   held, not that it is owed: the marketplace and contribution pallets decide amounts, and
//!   their `try_state` checks tie what is held here to their deals and tasks.
//! - **Nothing else holds funds for these reasons.** The hold reasons are this pallet's own, so
//!   a hold of one of them was put there by [`Escrow::lock`].
//!
//! ## Usage
//!
//! A runtime gives the pallet its currency, its hold reasons and the kitty's id, and hands it to
//! the pallets that move protocol money as their [`Escrow`] (the Commons runtime,
//! `runtime/src/configs/mod.rs`):
//!
//! ```ignore
//! impl pallet_escrow::Config for Runtime {
//! 	type Currency = Balances;
//! 	type RuntimeHoldReason = RuntimeHoldReason;
//! 	type PalletId = EscrowPalletId; // PalletId(*b"cmn/kitt")
//! }
//!
//! impl pallet_marketplace::Config for Runtime {
//! 	type Escrow = Escrow; // the contribution pallet reaches it through the marketplace's Config
//! 	// ...
//! }
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*,
	storage::with_storage_layer,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
	},
	PalletId,
};
use scale_info::TypeInfo;
use sp_runtime::traits::{AccountIdConversion, CheckedAdd, Saturating, Zero};

/// The amount type of the currency the escrow holds.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A deal or task id, named in every escrow event; for a storage deposit, the `blake2_256` of
/// what it pays for (the marketplace's `Footprint`).
pub type Subject = sp_core::H256;

/// Why the protocol locks funds.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Purpose {
	/// A requester's (or sponsor's) payment for a deal's tasks.
	DealPayment,
	/// A pool owner's stake on a deal's tasks, lost if a task fails.
	PoolOwnerStake,
	/// A worker's stake on its contribution, lost if its result is outvoted.
	WorkerStake,
	/// A deposit for something the chain stores on the owner's behalf (a registration, a
	/// presigned order), returned when it is removed.
	StorageDeposit,
}

impl Purpose {
	/// Every purpose, for checks that walk them all.
	pub const ALL: [Purpose; 4] = [
		Purpose::DealPayment,
		Purpose::PoolOwnerStake,
		Purpose::WorkerStake,
		Purpose::StorageDeposit,
	];
}

/// What the protocol's pallets may do with protocol money. Implemented by this pallet.
pub trait Escrow<AccountId> {
	/// The amount type.
	type Balance;

	/// Puts `amount` of `who`'s free funds on hold for `purpose`.
	fn lock(
		who: &AccountId,
		purpose: Purpose,
		amount: Self::Balance,
		subject: Subject,
	) -> DispatchResult;

	/// Releases `amount` that is held from `who` for `purpose` back to `who`.
	fn unlock(
		who: &AccountId,
		purpose: Purpose,
		amount: Self::Balance,
		subject: Subject,
	) -> DispatchResult;

	/// Moves `amount` held from `from` for `purpose` to `to`'s free balance, or into the kitty
	/// if `to` cannot receive it: only a shortfall of held funds makes it fail.
	fn pay(
		from: &AccountId,
		purpose: Purpose,
		to: &AccountId,
		amount: Self::Balance,
		subject: Subject,
	) -> DispatchResult;

	/// Moves `amount` held from `from` for `purpose` into the kitty.
	fn seize(
		from: &AccountId,
		purpose: Purpose,
		amount: Self::Balance,
		subject: Subject,
	) -> DispatchResult;

	/// Whether `who` has `amount` of free funds that could be locked for `purpose`.
	fn can_lock(who: &AccountId, purpose: Purpose, amount: Self::Balance) -> bool;

	/// How much is held from `who` for `purpose`.
	fn locked(who: &AccountId, purpose: Purpose) -> Self::Balance;

	/// How much is held for `purpose` from all accounts together. Walks every account on chain:
	/// for `try_state` checks and tests only, never in a call or a hook.
	fn total_locked(purpose: Purpose) -> Self::Balance;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency whose funds are held.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Identifies the kitty's account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
	}

	/// The layout version of this pallet's storage: v1 keeps no ledger besides the holds.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The kitty: what was seized or diverted, held on the kitty's account for governance.
	#[pallet::storage]
	pub type Kitty<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Why this pallet holds funds: one reason per [`Purpose`], and the kitty.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A requester's or sponsor's payment for a deal.
		#[codec(index = 0)]
		DealPayment,
		/// A pool owner's stake on a deal's tasks.
		#[codec(index = 1)]
		PoolOwnerStake,
		/// A worker's stake on a contribution.
		#[codec(index = 2)]
		WorkerStake,
		/// The kitty, held on the kitty's own account.
		#[codec(index = 3)]
		Kitty,
		/// A deposit for state the chain keeps on the owner's behalf.
		#[codec(index = 4)]
		StorageDeposit,
	}

	/// Creates the kitty's account.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Unused: ties the genesis configuration to the runtime `T`.
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::ensure_kitty_account_exists();
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` of `who`'s funds were put on hold for `purpose`.
		Locked {
			/// The account whose free funds were put on hold.
			who: T::AccountId,
			/// What the funds are held for.
			purpose: Purpose,
			/// How much was put on hold.
			amount: BalanceOf<T>,
			/// What the movement belongs to: a deal, a task or a storage deposit (see [`Subject`]).
			subject: Subject,
		},
		/// `amount` held from `who` for `purpose` was released to `who`.
		Unlocked {
			/// The account the funds were held from and released to.
			who: T::AccountId,
			/// What the funds had been held for.
			purpose: Purpose,
			/// How much was released.
			amount: BalanceOf<T>,
			/// What the movement belongs to: a deal, a task or a storage deposit (see [`Subject`]).
			subject: Subject,
		},
		/// `amount` held from `from` for `purpose` was paid to `to`.
		Paid {
			/// The account the funds were held from.
			from: T::AccountId,
			/// What the funds had been held for.
			purpose: Purpose,
			/// The account whose free balance received them.
			to: T::AccountId,
			/// How much was paid.
			amount: BalanceOf<T>,
			/// What the movement belongs to: a deal, a task or a storage deposit (see [`Subject`]).
			subject: Subject,
		},
		/// `amount` held from `from` for `purpose` went into the kitty.
		Seized {
			/// The account the funds were held from.
			from: T::AccountId,
			/// What the funds had been held for.
			purpose: Purpose,
			/// How much went into the kitty.
			amount: BalanceOf<T>,
			/// What the movement belongs to: a deal, a task or a storage deposit (see [`Subject`]).
			subject: Subject,
		},
		/// `to` could not receive `amount` held from `from` for `purpose` (its account cannot
		/// exist with that balance, or refuses it): the amount went into the kitty instead.
		PayoutDiverted {
			/// The account the funds were held from.
			from: T::AccountId,
			/// What the funds had been held for.
			purpose: Purpose,
			/// The payee that could not receive them.
			to: T::AccountId,
			/// How much went into the kitty instead.
			amount: BalanceOf<T>,
			/// What the movement belongs to: a deal, a task or a storage deposit (see [`Subject`]).
			subject: Subject,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account does not have enough free funds to lock that amount.
		InsufficientFunds,
		/// Less is held for that purpose from that account than the amount asked for.
		InsufficientLocked,
		/// The kitty's account cannot receive that amount (it was removed: the chain is broken).
		CannotReceive,
		/// The kitty's total would overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// An upgrade may raise the existential deposit: the kitty's account keeps it free, or
		/// seizures smaller than the rise could no longer be deposited into it.
		fn on_runtime_upgrade() -> Weight {
			Self::ensure_kitty_account_exists();
			T::DbWeight::get().reads_writes(2, 2)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}

impl From<Purpose> for HoldReason {
	fn from(purpose: Purpose) -> Self {
		match purpose {
			Purpose::DealPayment => HoldReason::DealPayment,
			Purpose::PoolOwnerStake => HoldReason::PoolOwnerStake,
			Purpose::WorkerStake => HoldReason::WorkerStake,
			Purpose::StorageDeposit => HoldReason::StorageDeposit,
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The kitty's account.
	pub fn kitty_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Gives the kitty's account the existential deposit if it has less, so that any seizure can
	/// be deposited into it. Called at genesis and on every runtime upgrade (which is when the
	/// existential deposit can change); it mints at most the deposit's rise.
	pub fn ensure_kitty_account_exists() {
		let account = Self::kitty_account();
		let minimum = T::Currency::minimum_balance();
		let balance = T::Currency::balance(&account);
		if balance < minimum {
			// Minting at genesis cannot fail for an amount that keeps issuance in range.
			let _ = T::Currency::mint_into(&account, minimum.saturating_sub(balance));
		}
	}

	fn hold_reason(purpose: Purpose) -> T::RuntimeHoldReason {
		HoldReason::from(purpose).into()
	}

	/// Checks that at least `amount` is held from `who` for `purpose`, so that a shortfall is
	/// told apart from a payee that cannot receive. The movement that follows reads the same
	/// hold, so this costs no storage access of its own.
	fn ensure_held(who: &T::AccountId, purpose: Purpose, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(
			T::Currency::balance_on_hold(&Self::hold_reason(purpose), who) >= amount,
			Error::<T>::InsufficientLocked
		);
		Ok(())
	}

	/// Moves `amount` held from `from` for `purpose` to `to`'s free balance. Fails, changing
	/// nothing, when `to` cannot receive it.
	fn transfer_held(
		from: &T::AccountId,
		purpose: Purpose,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		with_storage_layer(|| {
			T::Currency::transfer_on_hold(
				&Self::hold_reason(purpose),
				from,
				to,
				amount,
				Precision::Exact,
				Restriction::Free,
				// Escrowed funds belong to the protocol until settled: no freeze may keep them.
				Fortitude::Force,
			)
			.map(|_| ())
		})
	}

	/// Moves `amount` held from `from` for `purpose` onto the kitty's hold.
	fn into_kitty(from: &T::AccountId, purpose: Purpose, amount: BalanceOf<T>) -> DispatchResult {
		let kitty_account = Self::kitty_account();
		// The kitty's account exists from genesis, so it can receive any amount.
		Self::transfer_held(from, purpose, &kitty_account, amount)
			.map_err(|_| Error::<T>::CannotReceive)?;
		T::Currency::hold(&HoldReason::Kitty.into(), &kitty_account, amount)
			.map_err(|_| Error::<T>::CannotReceive)?;
		let kitty = Kitty::<T>::get().checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		Kitty::<T>::put(kitty);
		Ok(())
	}

	/// Checks that the kitty is all on hold and that no other account holds kitty funds. What
	/// is held for each purpose is checked against what is owed by the pallets that decide it.
	/// Walks every account, as those checks do through [`Escrow::total_locked`].
	///
	/// Compiled in every build, so that the tests of pallets built on this one can call it.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let kitty_account = Self::kitty_account();
		let kitty_held = T::Currency::balance_on_hold(&HoldReason::Kitty.into(), &kitty_account);
		ensure!(kitty_held == Kitty::<T>::get(), "the kitty differs from what is held for it");
		for who in frame_system::Account::<T>::iter_keys() {
			ensure!(
				who == kitty_account
					|| T::Currency::balance_on_hold(&HoldReason::Kitty.into(), &who).is_zero(),
				"an account other than the kitty's holds kitty funds"
			);
		}
		Ok(())
	}
}

impl<T: Config> Escrow<T::AccountId> for Pallet<T> {
	type Balance = BalanceOf<T>;

	fn lock(
		who: &T::AccountId,
		purpose: Purpose,
		amount: BalanceOf<T>,
		subject: Subject,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		with_storage_layer(|| {
			T::Currency::hold(&Self::hold_reason(purpose), who, amount)
				.map_err(|_| Error::<T>::InsufficientFunds)?;
			Self::deposit_event(Event::Locked { who: who.clone(), purpose, amount, subject });
			Ok(())
		})
	}

	fn unlock(
		who: &T::AccountId,
		purpose: Purpose,
		amount: BalanceOf<T>,
		subject: Subject,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		with_storage_layer(|| {
			Self::ensure_held(who, purpose, amount)?;
			T::Currency::release(&Self::hold_reason(purpose), who, amount, Precision::Exact)
				.map_err(|_| Error::<T>::InsufficientLocked)?;
			Self::deposit_event(Event::Unlocked { who: who.clone(), purpose, amount, subject });
			Ok(())
		})
	}

	fn pay(
		from: &T::AccountId,
		purpose: Purpose,
		to: &T::AccountId,
		amount: BalanceOf<T>,
		subject: Subject,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		with_storage_layer(|| {
			Self::ensure_held(from, purpose, amount)?;
			let (from, to) = (from.clone(), to.clone());
			if Self::transfer_held(&from, purpose, &to, amount).is_ok() {
				Self::deposit_event(Event::Paid { from, purpose, to, amount, subject });
			} else {
				Self::into_kitty(&from, purpose, amount)?;
				Self::deposit_event(Event::PayoutDiverted { from, purpose, to, amount, subject });
			}
			Ok(())
		})
	}

	fn seize(
		from: &T::AccountId,
		purpose: Purpose,
		amount: BalanceOf<T>,
		subject: Subject,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		with_storage_layer(|| {
			Self::ensure_held(from, purpose, amount)?;
			Self::into_kitty(from, purpose, amount)?;
			Self::deposit_event(Event::Seized { from: from.clone(), purpose, amount, subject });
			Ok(())
		})
	}

	fn can_lock(who: &T::AccountId, purpose: Purpose, amount: BalanceOf<T>) -> bool {
		T::Currency::can_hold(&Self::hold_reason(purpose), who, amount)
	}

	fn locked(who: &T::AccountId, purpose: Purpose) -> BalanceOf<T> {
		T::Currency::balance_on_hold(&Self::hold_reason(purpose), who)
	}

	fn total_locked(purpose: Purpose) -> BalanceOf<T> {
		frame_system::Account::<T>::iter_keys()
			.fold(Zero::zero(), |total, who| total.saturating_add(Self::locked(&who, purpose)))
	}
}
