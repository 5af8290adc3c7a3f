//! What the registry tells other pallets: [`EnclaveRegistry`] answered from the unexpired
//! registrations only.

use crate::{types::*, Config, Enclaves, Pallet, SimulatedConfidentialAllowed};
use commons_primitives::{EnclaveRegistry, EnclaveSignature, Measurement, PinnedEnclave, Tag};

impl<T: Config> Pallet<T> {
	/// `worker`'s enclave, if it has one that has not expired.
	pub fn trusted_enclave(worker: &T::AccountId) -> Option<Enclave> {
		Enclaves::<T>::get(worker).filter(|enclave| Self::now() < enclave.expires_at)
	}
}

impl<T: Config> EnclaveRegistry<T::AccountId> for Pallet<T> {
	fn allowed_enclave(
		worker: &T::AccountId,
		tag: Tag,
		allowed: &[Measurement],
		confidential: bool,
	) -> Option<PinnedEnclave> {
		let enclave = Self::trusted_enclave(worker)?;
		let trusted_with_data =
			enclave.attester != Attester::Simulated || SimulatedConfidentialAllowed::<T>::get();
		(enclave.kind.serves(tag)
			&& allowed.iter().any(|measurement| enclave.satisfies(measurement))
			&& (!confidential || trusted_with_data))
			.then(|| enclave.pinned())
	}

	fn is_current(worker: &T::AccountId, pinned: &PinnedEnclave) -> bool {
		Self::trusted_enclave(worker).is_some_and(|enclave| enclave.pinned() == *pinned)
	}

	fn verify_enclave_signature(
		worker: &T::AccountId,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool {
		Self::trusted_enclave(worker)
			.is_some_and(|enclave| Self::signed_by(&enclave.keys.signing, message, signature))
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn attest_for_benchmark(
		worker: &T::AccountId,
		measurement: Measurement,
		encryption: commons_primitives::X25519PublicKey,
	) {
		let kind = match measurement {
			Measurement::Tdx(_) => TeeKind::Tdx,
			_ => TeeKind::Sgx,
		};
		let now = Self::now();
		// A key of the benchmark's keystore, so that benchmarks can sign as the enclave.
		let signing = sp_io::crypto::ed25519_generate(BENCHMARK_KEY_TYPE, None).0;
		let enclave = Enclave {
			kind,
			measurement,
			keys: EnclaveKeys { signing, encryption },
			attester: Attester::Simulated,
			attested_at: now,
			expires_at: now.saturating_add(
				<T::AttestationLifetime as frame_support::traits::Get<Moment>>::get(),
			),
		};
		Enclaves::<T>::insert(worker, enclave);
		// Simulated: nothing quoted vouches for it.
		crate::QuotedPlatforms::<T>::remove(worker);
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn sign_for_benchmark(worker: &T::AccountId, message: &[u8]) -> EnclaveSignature {
		Enclaves::<T>::get(worker)
			.and_then(|enclave| {
				let public = sp_core::ed25519::Public::from_raw(enclave.keys.signing);
				sp_io::crypto::ed25519_sign(BENCHMARK_KEY_TYPE, &public, message)
			})
			.map(|signature| signature.0)
			.unwrap_or([0; 64])
	}
}

/// Where benchmarks keep the signing keys of the enclaves they attest.
#[cfg(feature = "runtime-benchmarks")]
const BENCHMARK_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"bnch");
