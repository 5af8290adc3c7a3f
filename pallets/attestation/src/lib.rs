//! # Attestation pallet
//!
//! The registry of the enclaves compute nodes run confidential tasks in.
//!
//! ## Overview
//!
//! A worker registers its enclave with evidence that it is what it claims: the TEE kind, the
//! measurement of the code inside, and two keys the enclave generated and keeps inside itself (an
//! ed25519 key it signs results with, an X25519 key confidential datasets' keys are sealed to).
//! The contribution pallet asks this registry, through [`EnclaveRegistry`], whether a worker may
//! be assigned a TEE task of an app (attested, unexpired, of the task's TEE kind, of a
//! measurement the app allows) and whether a result signature is its enclave's.
//!
//! ## Design
//!
//! - **Binding.** Evidence commits to [`Pallet::report_data`]: a hash of the worker's account,
//!   the enclave's keys and the chain's genesis hash. Evidence produced for one worker or one
//!   chain is refused for another; the enclave keys cannot be swapped for keys outside it.
//! - **Expiry.** A registration holds for [`Config::AttestationLifetime`] from its evidence;
//!   after that the enclave is not trusted, the worker re-attests (registering again replaces the
//!   old registration), and anyone may [`Pallet::evict`] the stale entry to clear state.
//! - **Simulated evidence.** Machines without TEE hardware can still exercise the whole flow on
//!   development chains: [`Pallet::register_simulated`] takes the worker's word for the kind and
//!   measurement, and proves only that the worker holds the signing key (an ed25519 signature over
//!   the report data). Only a chain whose genesis sets `allow_simulated` accepts it (the dev and
//!   local presets do; production specs must not), and the registration and its event say
//!   [`Attester::Simulated`], so nothing it produces passes for real attestation.
//! - Hardware evidence (Intel DCAP quotes for SGX and TDX, verified in the runtime against
//!   on-chain collateral) is the next evidence kind; until it lands, only simulated enclaves
//!   exist and no production chain has any.
//!
//! ## Terms
//!
//! - *Enclave*: the isolated environment a compute node runs confidential tasks in.
//! - *Measurement*: the hash of the code an enclave was started with (SGX MRENCLAVE, TDX MRTD).
//! - *Report data*: the 64 bytes an enclave puts into its evidence; here, the binding hash
//!   followed by zeros.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use codec::Encode;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_contribution::{EnclaveRegistry, EnclaveSignature};
use pallet_marketplace::{Measurement, Tag};
use sp_core::ed25519;

/// The domain of the report data, so that no other signed or hashed message can be one.
const REPORT_DATA_DOMAIN: &[u8] = b"commons/enclave/v1";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::UnixTime};
	use frame_system::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The wall clock evidence and expiry are measured with.
		type UnixTime: UnixTime;

		/// How long a registration holds after its evidence, in milliseconds.
		#[pallet::constant]
		type AttestationLifetime: Get<Moment>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Each worker's registered enclave.
	#[pallet::storage]
	pub type Enclaves<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Enclave>;

	/// Whether this chain accepts simulated evidence; set in genesis only.
	#[pallet::storage]
	pub type SimulatedEvidenceAllowed<T: Config> = StorageValue<_, bool, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Accept simulated evidence: for development and local test chains only.
		pub allow_simulated: bool,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			SimulatedEvidenceAllowed::<T>::put(self.allow_simulated);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `worker` registered (or re-attested) an enclave; `attester` says what vouched for it.
		EnclaveRegistered {
			worker: T::AccountId,
			kind: TeeKind,
			measurement: Measurement,
			attester: Attester,
			expires_at: Moment,
		},
		/// `worker` withdrew its enclave.
		EnclaveDeregistered { worker: T::AccountId },
		/// `worker`'s expired enclave was removed by `by`.
		EnclaveEvicted { worker: T::AccountId, by: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// This chain does not accept simulated evidence (its genesis does not allow it).
		SimulatedEvidenceRefused,
		/// The measurement is not of the TEE kind's form (MRENCLAVE for SGX, MRTD for TDX).
		MeasurementKindMismatch,
		/// The proof is not the enclave signing key's signature over the report data.
		InvalidKeyProof,
		/// The account has no registered enclave.
		NotRegistered,
		/// The enclave has not expired: only its worker may remove it.
		NotExpired,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers (or replaces) the caller's enclave on simulated evidence: `proof` is the
		/// signature of `keys.signing` over [`Pallet::report_data`] for the caller. Refused
		/// unless the chain's genesis allows simulated evidence.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_simulated())]
		pub fn register_simulated(
			origin: OriginFor<T>,
			kind: TeeKind,
			measurement: Measurement,
			keys: EnclaveKeys,
			proof: EnclaveSignature,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(SimulatedEvidenceAllowed::<T>::get(), Error::<T>::SimulatedEvidenceRefused);
			ensure!(kind.measures(&measurement), Error::<T>::MeasurementKindMismatch);
			let report_data = Self::report_data(&worker, &keys);
			ensure!(
				Self::signed_by(&keys.signing, &report_data, &proof),
				Error::<T>::InvalidKeyProof
			);
			let attested_at = Self::now();
			let enclave = Enclave {
				kind,
				measurement,
				keys,
				attester: Attester::Simulated,
				attested_at,
				expires_at: attested_at.saturating_add(T::AttestationLifetime::get()),
			};
			Enclaves::<T>::insert(&worker, enclave);
			Self::deposit_event(Event::EnclaveRegistered {
				worker,
				kind,
				measurement,
				attester: Attester::Simulated,
				expires_at: enclave.expires_at,
			});
			Ok(())
		}

		/// Removes the caller's enclave.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deregister())]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Enclaves::<T>::take(&worker).ok_or(Error::<T>::NotRegistered)?;
			Self::deposit_event(Event::EnclaveDeregistered { worker });
			Ok(())
		}

		/// Removes `worker`'s expired enclave; anyone may.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::evict())]
		pub fn evict(origin: OriginFor<T>, worker: T::AccountId) -> DispatchResult {
			let by = ensure_signed(origin)?;
			let enclave = Enclaves::<T>::get(&worker).ok_or(Error::<T>::NotRegistered)?;
			ensure!(Self::now() >= enclave.expires_at, Error::<T>::NotExpired);
			Enclaves::<T>::remove(&worker);
			Self::deposit_event(Event::EnclaveEvicted { worker, by });
			Ok(())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}

impl<T: Config> Pallet<T> {
	/// What an enclave's evidence must carry for `worker` and `keys` on this chain: a hash of the
	/// worker, the keys and the genesis hash, under this pallet's domain.
	pub fn report_data(worker: &T::AccountId, keys: &EnclaveKeys) -> [u8; 32] {
		let genesis_number: BlockNumberFor<T> = sp_runtime::traits::Zero::zero();
		let genesis = frame_system::Pallet::<T>::block_hash(genesis_number);
		Self::report_data_for(worker, keys, genesis.as_ref())
	}

	/// [`Pallet::report_data`] for the chain whose genesis hash is `genesis`: what a compute
	/// node computes off-chain.
	pub fn report_data_for(worker: &T::AccountId, keys: &EnclaveKeys, genesis: &[u8]) -> [u8; 32] {
		sp_io::hashing::blake2_256(&(REPORT_DATA_DOMAIN, worker, keys, genesis).encode())
	}

	pub(crate) fn now() -> Moment {
		use frame_support::traits::UnixTime;
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(Moment::MAX)
	}

	fn signed_by(key: &SigningKey, message: &[u8], signature: &EnclaveSignature) -> bool {
		sp_io::crypto::ed25519_verify(
			&ed25519::Signature::from_raw(*signature),
			message,
			&ed25519::Public::from_raw(*key),
		)
	}

	/// `worker`'s enclave, if it has one that has not expired.
	pub fn trusted_enclave(worker: &T::AccountId) -> Option<Enclave> {
		Enclaves::<T>::get(worker).filter(|enclave| Self::now() < enclave.expires_at)
	}

	/// Every registration is consistent: its measurement is of its kind's form and it expires
	/// exactly one lifetime after its evidence; simulated ones exist only where allowed.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::Get;
		let simulated_allowed = SimulatedEvidenceAllowed::<T>::get();
		for (_, enclave) in Enclaves::<T>::iter() {
			frame_support::ensure!(
				enclave.kind.measures(&enclave.measurement),
				"an enclave's measurement is of another TEE kind"
			);
			frame_support::ensure!(
				enclave.expires_at
					== enclave.attested_at.saturating_add(T::AttestationLifetime::get()),
				"an enclave's expiry is not one lifetime after its evidence"
			);
			frame_support::ensure!(
				simulated_allowed || enclave.attester != Attester::Simulated,
				"a simulated enclave on a chain that refuses simulated evidence"
			);
		}
		Ok(())
	}
}

impl<T: Config> EnclaveRegistry<T::AccountId> for Pallet<T> {
	fn enclave_allowed(worker: &T::AccountId, tag: Tag, allowed: &[Measurement]) -> bool {
		Self::trusted_enclave(worker).is_some_and(|enclave| {
			enclave.kind.serves(tag) && allowed.contains(&enclave.measurement)
		})
	}

	fn verify_enclave_signature(
		worker: &T::AccountId,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool {
		Self::trusted_enclave(worker)
			.is_some_and(|enclave| Self::signed_by(&enclave.keys.signing, message, signature))
	}
}
