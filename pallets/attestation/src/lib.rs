//! # Attestation pallet
//!
//! The registry of the enclaves compute nodes run confidential tasks in.
//!
//! ## Overview
//!
//! A worker registers its enclave with evidence that it is what it claims: the TEE kind, the
//! measurement of the code inside, and two keys the enclave generated and keeps inside itself (an
//! ed25519 key it signs results with, an X25519 key confidential datasets' keys are sealed to).
//! The contribution pallet asks this registry, through
//! [`EnclaveRegistry`](commons_primitives::EnclaveRegistry), whether a worker may be assigned a
//! TEE task of an app (attested, unexpired, of the task's TEE kind, of a measurement the app
//! allows), whether a result signature is its enclave's, and which key a confidential dataset's
//! key must be sealed to for it (see the contribution pallet's `release_dataset_key`).
//!
//! ## Design
//!
//! - **Binding.** Evidence commits to [`Pallet::report_data`]: a hash of the worker's account,
//!   the enclave's keys, the chain's genesis hash and the hash of a recent block of the chain
//!   (its *anchor*, named in the call). Evidence produced for one worker or one chain is
//!   refused for another; the enclave keys cannot be swapped for keys outside it.
//! - **Freshness.** The anchor must be a past block at most [`Config::MaxEvidenceAge`] blocks
//!   old: evidence is taken for the registration it is used in, so an old quote cannot
//!   re-register an enclave forever, and a registration shows the enclave answered recently.
//! - **Expiry.** A registration holds for [`Config::AttestationLifetime`] from its evidence;
//!   after that the enclave is not trusted, the worker re-attests (registering again replaces the
//!   old registration), and anyone may [`Pallet::evict`] the stale entry to clear state.
//! - **Revocation.** A registration on a quote keeps what the quote showed about its platform
//!   ([`QuotedPlatforms`]: the PCK certificate's CA and serial, the certified TCB, the quoting
//!   enclave's and TDX module's fields). Anyone may [`Pallet::evict`] it at once, before it
//!   expires, when the chain's current collateral and [`TcbPolicy`] would refuse that platform
//!   now ([`commons_dcap::regrade`]): a newer revocation list revokes its PCK certificate, newer
//!   TCB info or QE identity grades it lower or revoked, a stricter policy refuses its grade, or
//!   governance set a new root CA. Collateral missing or past its next update is not a reason:
//!   it says nothing against the platform, and a late relayer must not let anyone empty the
//!   registry. The chain's own state is the proof, so no quote is needed, and the event says
//!   why ([`Event::EnclaveRevoked`]). The registry's answers look at expiry only: eviction is
//!   what ends the trust, and an evicted enclave is no longer current for the tasks that
//!   pinned it (the contribution pallet asks
//!   [`is_current`](commons_primitives::EnclaveRegistry::is_current)), so it can neither
//!   submit their results nor be released their datasets' keys.
//! - **Simulated evidence.** Machines without TEE hardware can still exercise the whole flow on
//!   development chains: [`Pallet::register_simulated`] takes the worker's word for the kind and
//!   measurement, and proves only that the worker holds the signing key (an ed25519 signature over
//!   the report data). Only a chain whose genesis sets `allow_simulated` accepts it (the dev and
//!   local presets do; the staging preset and production specs do not), and the registration
//!   and its event say [`Attester::Simulated`], so nothing it produces passes for real
//!   attestation. A simulated enclave is never given a task on an encrypted dataset unless the
//!   genesis also sets `allow_simulated_confidential` (the dev preset only: test data).
//!   Encryption keys of small order are refused whatever the evidence.
//! - **Hardware evidence.** [`Pallet::register_quote`] takes an Intel DCAP quote (SGX v3, TDX
//!   v4 and v5) and verifies it in the runtime with [`commons_dcap`]: the PCK certificate chain
//!   to Intel's root CA with both revocation lists, the quoting enclave's report and identity,
//!   the quote's signature, and the platform's TCB level, whose status and advisories
//!   [`TcbPolicy`] (set by governance) must accept, with collateral at least as recent as its
//!   minimum TCB evaluation data number. Debug enclaves are refused. The quote's report data
//!   must be the binding hash above followed by zeros.
//! - **Collateral is chain state.** Intel's root CA is set in genesis and changed only by
//!   governance; changing it starts a new root epoch, and collateral verified under an older
//!   root is ignored. The root and PCK CAs' revocation lists, TCB info per (TEE, FMSPC) and the
//!   QE identities may be submitted by anyone, because the runtime checks Intel's signatures
//!   on them; a piece is refused outside its validity window, or when it is not newer than
//!   what is stored (a lower TCB evaluation data number is never accepted). A registration
//!   needs all of it current at the time it registers.
//! - **Verified once.** Collateral is stored as the verifier reads it (the revocation lists'
//!   dates and serial numbers, TCB info and QE identities parsed), so a registration neither
//!   parses it nor checks its signatures again. The PCK CA certificate that came with the CA's
//!   revocation list is remembered ([`VerifiedPckCas`]), and so is the platform evidence of
//!   each registration ([`QuotedPlatform::evidence`]: the PCK certificate, its CA, the QE
//!   report and its signature): a quote holding exactly those bytes is not checked for their
//!   signatures again. A renewal on the same machine verifies one signature, the report's;
//!   validity, revocation and the TCB grade are checked on every quote. The call is charged
//!   for every signature and refunded for those it skipped.
//!
//! ## Terms
//!
//! - *Enclave*: the isolated environment a compute node runs confidential tasks in.
//! - *Measurement*: the hash of the code an enclave was started with (SGX MRENCLAVE, TDX MRTD).
//! - *Report data*: the 64 bytes an enclave puts into its evidence; here, the binding hash
//!   followed by zeros.
//! - *Collateral*: what Intel publishes to judge quotes by: revocation lists, TCB info (the
//!   graded TCB levels of a platform family) and QE identities.
//! - *TCB status*: Intel's grade of a platform's patch level ([`TcbStatus`]).
//!
//! ## Assumptions
//!
//! - **Block hashes.** [`Pallet::report_data`] reads `frame_system`'s hashes of block 0 and of
//!   the anchor. Block 0's is the genesis hash from block 1 on (block 1's initialisation stores
//!   its parent hash there; during the genesis build it is a placeholder), and `frame_system`
//!   never prunes it; the anchor's is kept for `BlockHashCount` blocks, more than
//!   [`Config::MaxEvidenceAge`]. Compute nodes compute the same hash off-chain with
//!   [`Pallet::report_data_for`], linked from this crate, and the hashes they read over RPC.
//! - **Clock.** All time is [`Config::UnixTime`] in milliseconds: in the runtime,
//!   `pallet_timestamp`, so the block's timestamp as its author set it, not a trusted clock.
//!   Expiry ([`Config::AttestationLifetime`], in milliseconds) is judged against it, and
//!   collateral windows and the TCB policy's grace against it in Unix seconds (rounded down).
//! - **Root of trust.** Whatever certificate [`RootCa`] holds is trusted: the pallet checks only
//!   that it parses (genesis panics if it does not). It must be Intel's, set in genesis or by
//!   [`Config::GovernanceOrigin`].
//! - **Someone evicts.** A registration the current collateral or policy refuses is not
//!   removed by itself: it stays trusted until someone calls [`Pallet::evict`] (anyone may, and
//!   is refunded nothing for a registration still admitted), or until it expires, at most
//!   [`Config::AttestationLifetime`] later. Whoever relies on revocation (a collateral relayer,
//!   a dataset owner) evicts as soon as the collateral revoking it is on chain.
//! - **Collateral kept current.** While a piece of collateral a registration's grade needs is
//!   past its next update, that registration may be evicted, as a new quote would be refused:
//!   a late collateral relayer lets anyone evict every enclave of the affected platforms.
//!   Registrations made before [`QuotedPlatforms`] existed (spec 109 and earlier) have no
//!   entry there and can be evicted only on expiry.
//!
//! ## Usage
//!
//! A runtime adds the pallet with a clock, a lifetime and a governance origin, and hands it to
//! the contribution pallet as its `Enclaves` (the Commons runtime, `runtime/src/configs/mod.rs`):
//!
//! ```ignore
//! parameter_types! {
//! 	/// An enclave's evidence holds for a day; compute nodes re-attest before that.
//! 	pub const AttestationLifetime: u64 = 24 * 60 * 60 * 1000;
//! }
//!
//! impl pallet_attestation::Config for Runtime {
//! 	type UnixTime = Timestamp;
//! 	type AttestationLifetime = AttestationLifetime;
//! 	type GovernanceOrigin = EnsureRoot<AccountId>;
//! 	#[cfg(feature = "runtime-benchmarks")]
//! 	type BenchmarkHelper = AttestationBenchmarkClock; // sets `pallet_timestamp::Now`
//! 	type WeightInfo = pallet_attestation::weights::SubstrateWeight<Runtime>;
//! }
//!
//! impl pallet_contribution::Config for Runtime {
//! 	type Enclaves = Attestation; // read through `EnclaveRegistry`
//! 	// ...
//! }
//! ```
//!
//! Its genesis ([`GenesisConfig`]) says whether simulated evidence is accepted and gives Intel's
//! root CA (`commons_dcap::INTEL_SGX_ROOT_CA`) and, optionally, the TCB policy. The runtime
//! exposes [`runtime_api::AttestationApi`] by calling [`Pallet::check_quote`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod collateral;
pub mod migrations;
#[cfg(test)]
mod mock;
mod registry;
mod revocation;
#[cfg(test)]
mod tests;
pub mod types;
mod verification;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::Encode;
use commons_dcap::pki::Cert;
use commons_primitives::{domains, EnclaveSignature, Measurement};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::ed25519;

pub mod runtime_api;

/// What benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Sets what `Config::UnixTime` reads, in milliseconds.
	fn set_time(moment: Moment);
}

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
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type AttestationLifetime: Get<Moment>;

		/// How many blocks old the block that evidence binds (its anchor) may be. At most the
		/// number of block hashes `frame_system` keeps (`BlockHashCount`).
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type MaxEvidenceAge: Get<BlockNumberFor<Self>>;

		/// Who sets Intel's root CA and the TCB policy.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Sets the clock for benchmarks, whose collateral is valid only at some times.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The layout version of this pallet's storage: see [`crate::migrations`].
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Each worker's registered enclave.
	#[pallet::storage]
	pub type Enclaves<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Enclave>;

	/// What the quote of each worker's enclave registered on a quote showed about its platform:
	/// what [`Pallet::evict`] judges it by again, against the current collateral and policy.
	/// Exactly the enclaves attested by [`Attester::IntelDcap`] have one (but those registered
	/// before it existed); it goes with the registration.
	#[pallet::storage]
	pub type QuotedPlatforms<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, QuotedPlatform>;

	/// Whether this chain accepts simulated evidence; set in genesis only.
	#[pallet::storage]
	pub type SimulatedEvidenceAllowed<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Whether a simulated enclave may also be given encrypted datasets' keys and tasks; set in
	/// genesis only, by development chains. Elsewhere only hardware evidence counts for them.
	#[pallet::storage]
	pub type SimulatedConfidentialAllowed<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Intel's root CA certificate (DER) every quote and piece of collateral must chain to.
	#[pallet::storage]
	pub type RootCa<T: Config> = StorageValue<_, RootCertificate>;

	/// How many times the root CA was set; collateral of an older epoch is not used.
	#[pallet::storage]
	pub type RootEpoch<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The root CA's revocation list (of PCK CAs and signing certificates), as it was verified.
	#[pallet::storage]
	pub type RootCaCrl<T: Config> = StorageValue<_, StoredCrl>;

	/// Each PCK CA's revocation list (of PCK certificates), as it was verified.
	#[pallet::storage]
	pub type PckCrls<T: Config> = StorageMap<_, Twox64Concat, PckCa, StoredCrl>;

	/// Each PCK CA's certificate verified as the root's with the CA's latest revocation list:
	/// a quote whose chain holds exactly it is not checked for its signature again.
	#[pallet::storage]
	pub type VerifiedPckCas<T: Config> = StorageMap<_, Twox64Concat, PckCa, VerifiedCertificate>;

	/// TCB info per TEE kind and platform family, parsed.
	#[pallet::storage]
	pub type TcbInfos<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TeeKind, Twox64Concat, Fmspc, StoredTcbInfo>;

	/// The quoting enclave's identity per TEE kind, parsed.
	#[pallet::storage]
	pub type QeIdentities<T: Config> = StorageMap<_, Twox64Concat, TeeKind, StoredQeIdentity>;

	/// Which TCB statuses and advisories registrations are accepted with.
	#[pallet::storage]
	pub type Policy<T: Config> = StorageValue<_, TcbPolicy, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Accept simulated evidence: for development and local test chains only.
		pub allow_simulated: bool,
		/// Let simulated enclaves run tasks on encrypted datasets too: for development chains
		/// only, where the data is a test's. Needs `allow_simulated`.
		pub allow_simulated_confidential: bool,
		/// Intel's root CA certificate, DER; without one no quote verifies.
		pub root_ca: Option<Vec<u8>>,
		/// The TCB policy; [`TcbPolicy::default`] if not given.
		pub tcb_policy: Option<TcbPolicy>,
		/// Ties the config to `T`; holds nothing.
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				self.allow_simulated || !self.allow_simulated_confidential,
				"simulated evidence for confidential data needs simulated evidence allowed"
			);
			SimulatedEvidenceAllowed::<T>::put(self.allow_simulated);
			SimulatedConfidentialAllowed::<T>::put(self.allow_simulated_confidential);
			if let Some(root) = &self.root_ca {
				let root: RootCertificate =
					root.clone().try_into().expect("the genesis root CA fits its bound");
				Cert::from_der(&root).expect("the genesis root CA is a certificate");
				RootCa::<T>::put(root);
				RootEpoch::<T>::put(1);
			}
			Policy::<T>::put(self.tcb_policy.clone().unwrap_or_default());
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `worker` registered (or re-attested) an enclave; `attester` says what vouched for it.
		EnclaveRegistered {
			/// The worker the enclave is registered for.
			worker: T::AccountId,
			/// The TEE it runs in.
			kind: TeeKind,
			/// Its measurement: MRENCLAVE for SGX, MRTD for TDX.
			measurement: Measurement,
			/// What vouched for it.
			attester: Attester,
			/// When the registration expires, milliseconds since the Unix epoch.
			expires_at: Moment,
		},
		/// `worker` withdrew its enclave.
		EnclaveDeregistered {
			/// The worker whose enclave was removed.
			worker: T::AccountId,
		},
		/// `worker`'s expired enclave was removed by `by`.
		EnclaveEvicted {
			/// The worker whose enclave had expired.
			worker: T::AccountId,
			/// The account that removed it.
			by: T::AccountId,
		},
		/// Governance set Intel's root CA; collateral must be submitted again under it.
		RootCaSet {
			/// The new root epoch: how many times the root CA has been set.
			epoch: u32,
		},
		/// `by` submitted newer, verified collateral.
		CollateralUpdated {
			/// Which piece of collateral it replaced.
			kind: CollateralKind,
			/// The account that submitted it.
			by: T::AccountId,
		},
		/// Governance set the TCB policy.
		TcbPolicySet {
			/// The policy now in force.
			policy: TcbPolicy,
		},
		/// `worker`'s unexpired enclave was removed by `by` because the chain's current
		/// collateral or TCB policy would refuse the platform its quote showed.
		EnclaveRevoked {
			/// The worker whose enclave was revoked.
			worker: T::AccountId,
			/// The account that removed it.
			by: T::AccountId,
			/// What the current collateral or policy refuses.
			reason: RevocationReason,
		},
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
		/// The enclave has not expired and current collateral and policy still admit it: only its
		/// worker may remove it.
		NotExpired,
		/// The quote or the collateral failed verification; the inner error says which check.
		Verification(commons_dcap::Error),
		/// The quote's report data is not [`Pallet::report_data`] for the caller and the keys
		/// (followed by zeros): it was produced for another worker, keys or chain.
		ReportDataMismatch,
		/// No root CA is set, so nothing can be verified.
		NoRootCa,
		/// The collateral is not newer than what is stored (same or earlier issue).
		CollateralNotNewer,
		/// The TCB info or QE identity has a lower TCB evaluation data number than the stored
		/// one: Intel never goes back, so it is a replay of older collateral.
		TcbEvaluationRegressed,
		/// Collateral needs the root CA's revocation list first.
		RootCaCrlMissing,
		/// The enclave's encryption key is an X25519 point of small order: anything sealed to it
		/// would be readable by everyone.
		SmallOrderEncryptionKey,
		/// The block the evidence binds is not a past block: evidence binds a block before the
		/// one it is registered in.
		EvidenceAnchorNotPast,
		/// The block the evidence binds is more than [`Config::MaxEvidenceAge`] blocks old:
		/// take new evidence.
		EvidenceTooOld,
		/// The root CA was changed as many times as an epoch counts: a new root could not be
		/// told from an old one, whose collateral and verified certificates it must not reuse.
		RootEpochExhausted,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers (or replaces) the caller's enclave on simulated evidence: `proof` is the
		/// signature of `keys.signing` over [`Pallet::report_data`] for the caller and the block
		/// `anchor`. Refused unless the chain's genesis allows simulated evidence.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_simulated())]
		pub fn register_simulated(
			origin: OriginFor<T>,
			kind: TeeKind,
			measurement: Measurement,
			keys: EnclaveKeys,
			proof: EnclaveSignature,
			anchor: BlockNumberFor<T>,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(SimulatedEvidenceAllowed::<T>::get(), Error::<T>::SimulatedEvidenceRefused);
			ensure!(kind.measures(&measurement), Error::<T>::MeasurementKindMismatch);
			Self::ensure_usable_keys(&keys)?;
			let report_data = Self::report_data(&worker, &keys, anchor)?;
			ensure!(
				Self::signed_by(&keys.signing, &report_data, &proof),
				Error::<T>::InvalidKeyProof
			);
			// Nothing quoted vouches for the new registration.
			QuotedPlatforms::<T>::remove(&worker);
			Self::store_enclave(worker, kind, measurement, keys, Attester::Simulated);
			Ok(())
		}

		/// Removes the caller's enclave.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deregister())]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(Enclaves::<T>::contains_key(&worker), Error::<T>::NotRegistered);
			Self::remove_enclave(&worker);
			Self::deposit_event(Event::EnclaveDeregistered { worker });
			Ok(())
		}

		/// Removes `worker`'s enclave; anyone may, once it has expired ([`Event::EnclaveEvicted`])
		/// or, for an enclave registered on a quote, as soon as the chain's current collateral
		/// and [`TcbPolicy`] would refuse the platform its quote showed
		/// ([`Event::EnclaveRevoked`], with the reason): the chain's state is the proof.
		///
		/// Charged up front for regrading the platform against the largest collateral; an
		/// expired enclave is refunded the difference. A refused eviction is not refunded.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::evict().max(T::WeightInfo::evict_revoked()))]
		pub fn evict(origin: OriginFor<T>, worker: T::AccountId) -> DispatchResultWithPostInfo {
			let by = ensure_signed(origin)?;
			Self::do_evict(by, worker)
		}

		/// Sets Intel's root CA certificate (DER). Starts a new root epoch: collateral verified
		/// under the previous root is no longer used and must be submitted again.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_root_ca())]
		pub fn set_root_ca(origin: OriginFor<T>, certificate: RootCertificate) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Cert::from_der(&certificate).map_err(Error::<T>::Verification)?;
			let epoch =
				RootEpoch::<T>::get().checked_add(1).ok_or(Error::<T>::RootEpochExhausted)?;
			RootCa::<T>::put(certificate);
			RootEpoch::<T>::put(epoch);
			Self::deposit_event(Event::RootCaSet { epoch });
			Ok(())
		}

		/// Submits the root CA's revocation list (DER): it must be signed by the root, current,
		/// and issued after the stored one.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::submit_root_ca_crl())]
		pub fn submit_root_ca_crl(origin: OriginFor<T>, crl: CrlDer) -> DispatchResult {
			let by = ensure_signed(origin)?;
			Self::do_submit_root_ca_crl(by, crl)
		}

		/// Submits a PCK CA's revocation list (DER) with the CA's chain (PEM: the CA, then the
		/// root): the CA must chain to the root unrevoked, and the list be its, current, and
		/// issued after the stored one.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::submit_pck_crl())]
		pub fn submit_pck_crl(
			origin: OriginFor<T>,
			crl: CrlDer,
			issuer_chain: PemChain,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			Self::do_submit_pck_crl(by, crl, issuer_chain)
		}

		/// Submits TCB info: `json` exactly as Intel signed it, its `signature` (raw `r ‖ s`)
		/// and the signing certificate's chain (PEM: signer, then root). It must be current,
		/// and newer than the stored info of its TEE kind and FMSPC.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::submit_tcb_info())]
		pub fn submit_tcb_info(
			origin: OriginFor<T>,
			json: CollateralJson,
			signature: EcdsaSignature,
			issuer_chain: PemChain,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			Self::do_submit_tcb_info(by, json, signature, issuer_chain)
		}

		/// Submits a QE identity, as [`Pallet::submit_tcb_info`] does TCB info.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::submit_qe_identity())]
		pub fn submit_qe_identity(
			origin: OriginFor<T>,
			json: CollateralJson,
			signature: EcdsaSignature,
			issuer_chain: PemChain,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			Self::do_submit_qe_identity(by, json, signature, issuer_chain)
		}

		/// Sets which TCB statuses and advisories registrations are accepted with. Enclaves
		/// already registered that it refuses may be evicted by anyone ([`Pallet::evict`]).
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_tcb_policy())]
		pub fn set_tcb_policy(origin: OriginFor<T>, policy: TcbPolicy) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Policy::<T>::put(policy.clone());
			Self::deposit_event(Event::TcbPolicySet { policy });
			Ok(())
		}

		/// Registers (or replaces) the caller's enclave on an Intel DCAP quote: verified
		/// against the stored collateral now, accepted by the TCB policy, not a debug enclave,
		/// and with report data committing to the caller, `keys`, this chain and its block
		/// `anchor` ([`Pallet::report_data`]). `pck_chain` is for quotes that identify their PCK
		/// certificate instead of carrying its chain.
		///
		/// Charged for checking every signature; refunded for those the chain had verified
		/// before over exactly the same bytes: the PCK CA certificate verified with its
		/// revocation list, and the platform evidence of the caller's current registration.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::register_quote())]
		pub fn register_quote(
			origin: OriginFor<T>,
			quote: QuoteBytes,
			pck_chain: Option<PemChain>,
			keys: EnclaveKeys,
			anchor: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_register_quote(worker, quote, pck_chain, keys, anchor)
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
	/// What an enclave's evidence must carry for `worker` and `keys` on this chain, taken after
	/// block `anchor`: a hash of the worker, the keys, the genesis hash and `anchor`'s hash,
	/// under this pallet's domain. Refused unless `anchor` is a past block at most
	/// [`Config::MaxEvidenceAge`] blocks old.
	pub fn report_data(
		worker: &T::AccountId,
		keys: &EnclaveKeys,
		anchor: BlockNumberFor<T>,
	) -> Result<[u8; 32], Error<T>> {
		use frame_support::traits::Get;
		use sp_runtime::traits::{Saturating, Zero};
		let now = frame_system::Pallet::<T>::block_number();
		// The current block's own hash is not known until it is built.
		frame_support::ensure!(anchor < now, Error::<T>::EvidenceAnchorNotPast);
		frame_support::ensure!(
			now.saturating_sub(anchor) <= T::MaxEvidenceAge::get(),
			Error::<T>::EvidenceTooOld
		);
		let anchor_hash = frame_system::Pallet::<T>::block_hash(anchor);
		// A hash `frame_system` no longer keeps reads as the default.
		frame_support::ensure!(anchor_hash != T::Hash::default(), Error::<T>::EvidenceTooOld);
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		Ok(Self::report_data_for(worker, keys, genesis.as_ref(), anchor_hash.as_ref()))
	}

	/// [`Pallet::report_data`] for the chain whose genesis hash is `genesis`, taken after the
	/// block whose hash is `anchor`: what a compute node computes off-chain.
	pub fn report_data_for(
		worker: &T::AccountId,
		keys: &EnclaveKeys,
		genesis: &[u8],
		anchor: &[u8],
	) -> [u8; 32] {
		sp_io::hashing::blake2_256(
			&(domains::ENCLAVE_REPORT_DATA, worker, keys, genesis, anchor).encode(),
		)
	}

	pub(crate) fn now() -> Moment {
		use frame_support::traits::UnixTime;
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(Moment::MAX)
	}

	pub(crate) fn now_secs() -> u64 {
		Self::now() / 1000
	}

	/// Removes `worker`'s registration and what its quote showed.
	pub(crate) fn remove_enclave(worker: &T::AccountId) {
		Enclaves::<T>::remove(worker);
		QuotedPlatforms::<T>::remove(worker);
	}

	pub(crate) fn store_enclave(
		worker: T::AccountId,
		kind: TeeKind,
		measurement: Measurement,
		keys: EnclaveKeys,
		attester: Attester,
	) {
		use frame_support::traits::Get;
		let attested_at = Self::now();
		let expires_at = attested_at.saturating_add(T::AttestationLifetime::get());
		let enclave = Enclave { kind, measurement, keys, attester, attested_at, expires_at };
		Enclaves::<T>::insert(&worker, enclave);
		Self::deposit_event(Event::EnclaveRegistered {
			worker,
			kind,
			measurement,
			attester,
			expires_at,
		});
	}

	/// Refuses keys nothing could safely be sealed to.
	pub(crate) fn ensure_usable_keys(keys: &EnclaveKeys) -> sp_runtime::DispatchResult {
		frame_support::ensure!(
			!commons_primitives::is_small_order_x25519(&keys.encryption),
			Error::<T>::SmallOrderEncryptionKey
		);
		Ok(())
	}

	pub(crate) fn signed_by(
		key: &SigningKey,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool {
		sp_io::crypto::ed25519_verify(
			&ed25519::Signature::from_raw(*signature),
			message,
			&ed25519::Public::from_raw(*key),
		)
	}

	/// Every registration is consistent: its measurement is of its kind's form and it expires
	/// after its evidence (one lifetime after, as the lifetime was then); simulated ones exist
	/// only where allowed. What a
	/// quote showed is kept only for registrations on a quote, of their kind and family. (Not
	/// every registration on a quote has it: those made before [`QuotedPlatforms`] existed have
	/// none, and can only expire.)
	///
	/// Compiled in every build, so that the tests of pallets built on this one can call it.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let simulated_allowed = SimulatedEvidenceAllowed::<T>::get();
		frame_support::ensure!(
			simulated_allowed || !SimulatedConfidentialAllowed::<T>::get(),
			"simulated evidence allowed for confidential data but not at all"
		);
		for enclave in Enclaves::<T>::iter_values() {
			frame_support::ensure!(
				enclave.kind.measures(&enclave.measurement),
				"an enclave's measurement is of another TEE kind"
			);
			// Not exactly one `AttestationLifetime` after: governance may have changed the
			// lifetime since the enclave registered with the one of its day.
			frame_support::ensure!(
				enclave.expires_at > enclave.attested_at,
				"an enclave expires no later than its evidence was taken"
			);
			frame_support::ensure!(
				!commons_primitives::is_small_order_x25519(&enclave.keys.encryption),
				"an enclave's encryption key is of small order"
			);
			frame_support::ensure!(
				simulated_allowed || enclave.attester != Attester::Simulated,
				"a simulated enclave on a chain that refuses simulated evidence"
			);
		}
		for (worker, platform) in QuotedPlatforms::<T>::iter() {
			let enclave =
				Enclaves::<T>::get(&worker).ok_or("what a quote showed, without its enclave")?;
			let Attester::IntelDcap { fmspc, .. } = enclave.attester else {
				return Err("what a quote showed, with an enclave not registered on a quote".into());
			};
			frame_support::ensure!(
				platform.kind == enclave.kind && platform.certified.fmspc == fmspc,
				"what a quote showed is of another kind or family than its enclave"
			);
			frame_support::ensure!(
				platform.tdx.is_some() == (platform.kind == TeeKind::Tdx),
				"what a quote showed has TDX fields exactly for TDX"
			);
		}
		Ok(())
	}
}
