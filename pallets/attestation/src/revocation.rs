//! Eviction: of an expired registration, or of a registration on a quote that the chain's
//! current collateral or TCB policy would refuse now, judged from what its quote showed
//! ([`QuotedPlatforms`]) without the quote.

use crate::{
	collateral::StoredCollateral, types::*, Config, Enclaves, Error, Event, Pallet,
	QuotedPlatforms, RootEpoch, WeightInfo,
};
use frame_support::dispatch::DispatchResultWithPostInfo;

impl<T: Config> Pallet<T> {
	/// [`Pallet::evict`] of `worker`'s enclave, by `by`.
	pub(crate) fn do_evict(by: T::AccountId, worker: T::AccountId) -> DispatchResultWithPostInfo {
		let enclave = Enclaves::<T>::get(&worker).ok_or(Error::<T>::NotRegistered)?;
		if Self::now() >= enclave.expires_at {
			Self::remove_enclave(&worker);
			Self::deposit_event(Event::EnclaveEvicted { worker, by });
			// Nothing was regraded: refund the difference.
			return Ok(Some(<T as Config>::WeightInfo::evict()).into());
		}
		// Simulated evidence is not judged by collateral, and registrations from before
		// `QuotedPlatforms` have nothing to be judged by: for them only expiry counts.
		let platform = match enclave.attester {
			Attester::IntelDcap { .. } => QuotedPlatforms::<T>::get(&worker),
			Attester::Simulated => None,
		}
		.ok_or(Error::<T>::NotExpired)?;
		let reason = Self::revocation_reason(&platform).ok_or(Error::<T>::NotExpired)?;
		Self::remove_enclave(&worker);
		Self::deposit_event(Event::EnclaveRevoked { worker, by, reason });
		Ok(Some(<T as Config>::WeightInfo::evict_revoked()).into())
	}

	/// Why the chain's current collateral and policy would refuse `platform` now, if they
	/// would: what registering a quote of it would fail on, but for the quote's signatures and
	/// report data, which do not change.
	pub(crate) fn revocation_reason(platform: &QuotedPlatform) -> Option<RevocationReason> {
		// Collateral of a new root is looked up as if it vouched for the old chain; it does not.
		if platform.root_epoch != RootEpoch::<T>::get() {
			return Some(RevocationReason::RootCaChanged);
		}
		let now = Self::now_secs();
		let source = StoredCollateral::<T>::new();
		let regraded = match commons_dcap::regrade(&source, &platform.platform(), now) {
			Ok(regraded) => regraded,
			Err(commons_dcap::Error::CertificateRevoked) => {
				return Some(RevocationReason::PckRevoked)
			}
			// Collateral nobody renewed in time says nothing against the platform: evicting on
			// it would let anyone empty the registry whenever a relayer is late.
			Err(
				commons_dcap::Error::CrlExpired
				| commons_dcap::Error::CrlMissing
				| commons_dcap::Error::TcbInfoExpired
				| commons_dcap::Error::TcbInfoMissing
				| commons_dcap::Error::QeIdentityExpired
				| commons_dcap::Error::QeIdentityMissing,
			) => return None,
			Err(error) => return Some(RevocationReason::PlatformRefused(error)),
		};
		Self::with_policy(|policy| policy.admits_regraded(&regraded, now))
			.err()
			.map(RevocationReason::PolicyRefused)
	}
}
