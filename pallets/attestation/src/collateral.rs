//! Collateral as chain state: the submitted pieces verified against the root CA and kept only if
//! newer, and the stored collateral of the current root epoch as the quote verifier reads it.

use crate::{
	types::*, Config, Error, Event, Pallet, PckCrls, QeIdentities, RootCa, RootCaCrl, RootEpoch,
	TcbInfos, VerifiedPckCas,
};
use commons_dcap::{
	collateral::{self as dcap_collateral, CollateralSource},
	pki::Cert,
	quote::TeeType,
	QeIdentity, Revocations, TcbInfo,
};
use frame_support::ensure;
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// [`Pallet::submit_root_ca_crl`], submitted by `by`.
	pub(crate) fn do_submit_root_ca_crl(by: T::AccountId, crl: CrlDer) -> DispatchResult {
		let (root, epoch) = Self::root()?;
		let revocations = dcap_collateral::verify_root_crl(&root, &crl, Self::now_secs())
			.map_err(Error::<T>::Verification)?;
		let stored = StoredCrl { revocations: Self::parsed_crl(revocations)?, root_epoch: epoch };
		Self::ensure_newer_crl(RootCaCrl::<T>::get(), &stored)?;
		RootCaCrl::<T>::put(stored);
		Self::deposit_event(Event::CollateralUpdated { kind: CollateralKind::RootCaCrl, by });
		Ok(())
	}

	/// [`Pallet::submit_pck_crl`], submitted by `by`.
	pub(crate) fn do_submit_pck_crl(
		by: T::AccountId,
		crl: CrlDer,
		issuer_chain: PemChain,
	) -> DispatchResult {
		let (root, epoch) = Self::root()?;
		let root_crl = Self::root_crl(epoch)?;
		let verified = dcap_collateral::verify_pck_crl(
			&root,
			&root_crl,
			&crl,
			&issuer_chain,
			Self::now_secs(),
		)
		.map_err(Error::<T>::Verification)?;
		let ca = verified.ca;
		let stored =
			StoredCrl { revocations: Self::parsed_crl(verified.revocations)?, root_epoch: epoch };
		Self::ensure_newer_crl(PckCrls::<T>::get(ca), &stored)?;
		PckCrls::<T>::insert(ca, stored);
		VerifiedPckCas::<T>::insert(
			ca,
			VerifiedCertificate { digest: verified.ca_digest, root_epoch: epoch },
		);
		Self::deposit_event(Event::CollateralUpdated { kind: CollateralKind::PckCrl(ca), by });
		Ok(())
	}

	/// [`Pallet::submit_tcb_info`], submitted by `by`.
	pub(crate) fn do_submit_tcb_info(
		by: T::AccountId,
		json: CollateralJson,
		signature: EcdsaSignature,
		issuer_chain: PemChain,
	) -> DispatchResult {
		let (root, epoch) = Self::root()?;
		let info = dcap_collateral::verify_tcb_info(
			&root,
			&Self::root_crl(epoch)?,
			&json,
			&signature,
			&issuer_chain,
			Self::now_secs(),
		)
		.map_err(Error::<T>::Verification)?;
		let (kind, fmspc) = (TeeKind::from(info.tee), info.fmspc);
		let issued = (info.evaluation_number, info.issue_date);
		let stored = StoredTcbInfo {
			info: Parsed::new(info)
				.ok_or(Error::<T>::Verification(commons_dcap::Error::TcbInfoMalformed))?,
			root_epoch: epoch,
		};
		let old = TcbInfos::<T>::get(kind, fmspc).map(|old| {
			let info = old.info.get();
			(old.root_epoch, info.evaluation_number, info.issue_date)
		});
		Self::ensure_newer_json(old, epoch, issued)?;
		TcbInfos::<T>::insert(kind, fmspc, stored);
		let kind = CollateralKind::TcbInfo(kind, fmspc);
		Self::deposit_event(Event::CollateralUpdated { kind, by });
		Ok(())
	}

	/// [`Pallet::submit_qe_identity`], submitted by `by`.
	pub(crate) fn do_submit_qe_identity(
		by: T::AccountId,
		json: CollateralJson,
		signature: EcdsaSignature,
		issuer_chain: PemChain,
	) -> DispatchResult {
		let (root, epoch) = Self::root()?;
		let identity = dcap_collateral::verify_qe_identity(
			&root,
			&Self::root_crl(epoch)?,
			&json,
			&signature,
			&issuer_chain,
			Self::now_secs(),
		)
		.map_err(Error::<T>::Verification)?;
		let kind = TeeKind::from(identity.tee);
		let issued = (identity.evaluation_number, identity.issue_date);
		let stored = StoredQeIdentity {
			identity: Parsed::new(identity)
				.ok_or(Error::<T>::Verification(commons_dcap::Error::QeIdentityMalformed))?,
			root_epoch: epoch,
		};
		let old = QeIdentities::<T>::get(kind).map(|old| {
			let identity = old.identity.get();
			(old.root_epoch, identity.evaluation_number, identity.issue_date)
		});
		Self::ensure_newer_json(old, epoch, issued)?;
		QeIdentities::<T>::insert(kind, stored);
		Self::deposit_event(Event::CollateralUpdated {
			kind: CollateralKind::QeIdentity(kind),
			by,
		});
		Ok(())
	}

	/// The root CA and its epoch.
	fn root() -> Result<(Cert, u32), Error<T>> {
		let root = RootCa::<T>::get().ok_or(Error::<T>::NoRootCa)?;
		let root = Cert::from_der(&root).map_err(Error::<T>::Verification)?;
		Ok((root, RootEpoch::<T>::get()))
	}

	fn root_crl(epoch: u32) -> Result<Revocations, Error<T>> {
		RootCaCrl::<T>::get()
			.filter(|crl| crl.root_epoch == epoch)
			.map(|crl| crl.revocations.into_inner())
			.ok_or(Error::<T>::RootCaCrlMissing)
	}

	/// A verified list, to be stored. Its encoding is shorter than the DER it was parsed
	/// from, so this fails only on a list no CA issues.
	fn parsed_crl(revocations: Revocations) -> Result<Parsed<Revocations, MaxCrlLen>, Error<T>> {
		Parsed::new(revocations).ok_or(Error::<T>::Verification(commons_dcap::Error::CrlMalformed))
	}

	/// A revocation list replaces the stored one only if issued later (or the stored one is of
	/// an older root).
	fn ensure_newer_crl(stored: Option<StoredCrl>, new: &StoredCrl) -> Result<(), Error<T>> {
		match stored {
			Some(old)
				if old.root_epoch == new.root_epoch
					&& old.revocations.get().this_update >= new.revocations.get().this_update =>
			{
				Err(Error::<T>::CollateralNotNewer)
			}
			_ => Ok(()),
		}
	}

	/// TCB info or a QE identity (`new`: its evaluation data number and issue date, under
	/// `epoch`) replaces the stored one (`old`: its epoch, evaluation data number and issue
	/// date) only with an evaluation data number at least as high and a later issue date (or
	/// if the stored one is of an older root).
	fn ensure_newer_json(
		old: Option<(u32, u32, u64)>,
		epoch: u32,
		(evaluation_number, issue_date): (u32, u64),
	) -> Result<(), Error<T>> {
		match old {
			Some((old_epoch, old_evaluation, old_issue)) if old_epoch == epoch => {
				ensure!(evaluation_number >= old_evaluation, Error::<T>::TcbEvaluationRegressed);
				ensure!(issue_date > old_issue, Error::<T>::CollateralNotNewer);
				Ok(())
			}
			_ => Ok(()),
		}
	}
}

/// The collateral in storage, as the verifier looks it up: only what was verified under the
/// current root epoch, and the platform evidence of the registration a quote would replace.
pub(crate) struct StoredCollateral<T> {
	epoch: u32,
	known_platform: Option<[u8; 32]>,
	_config: core::marker::PhantomData<T>,
}

impl<T: Config> StoredCollateral<T> {
	/// The stored collateral, knowing no platform.
	pub(crate) fn new() -> Self {
		Self { epoch: RootEpoch::<T>::get(), known_platform: None, _config: Default::default() }
	}

	/// The stored collateral, knowing the platform of `previous` if it was verified under the
	/// current root.
	pub(crate) fn knowing(previous: Option<QuotedPlatform>) -> Self {
		let source = Self::new();
		let known_platform = previous
			.filter(|platform| platform.root_epoch == source.epoch)
			.map(|platform| platform.evidence);
		Self { known_platform, ..source }
	}
}

impl<T: Config> CollateralSource for StoredCollateral<T> {
	fn root_ca(&self) -> Option<Cert> {
		Cert::from_der(&RootCa::<T>::get()?).ok()
	}
	fn root_ca_crl(&self) -> Option<Revocations> {
		let stored = RootCaCrl::<T>::get().filter(|stored| stored.root_epoch == self.epoch)?;
		Some(stored.revocations.into_inner())
	}
	fn pck_crl(&self, ca: PckCa) -> Option<Revocations> {
		let stored = PckCrls::<T>::get(ca).filter(|stored| stored.root_epoch == self.epoch)?;
		Some(stored.revocations.into_inner())
	}
	fn tcb_info(&self, tee: TeeType, fmspc: [u8; 6]) -> Option<TcbInfo> {
		let stored = TcbInfos::<T>::get(TeeKind::from(tee), fmspc)
			.filter(|stored| stored.root_epoch == self.epoch)?;
		Some(stored.info.into_inner())
	}
	fn qe_identity(&self, tee: TeeType) -> Option<QeIdentity> {
		let stored = QeIdentities::<T>::get(TeeKind::from(tee))
			.filter(|stored| stored.root_epoch == self.epoch)?;
		Some(stored.identity.into_inner())
	}
	fn verified_pck_ca(&self, ca: PckCa) -> Option<[u8; 32]> {
		let verified =
			VerifiedPckCas::<T>::get(ca).filter(|verified| verified.root_epoch == self.epoch)?;
		Some(verified.digest)
	}
	fn verified_platform(&self, evidence: &[u8; 32]) -> bool {
		self.known_platform.as_ref() == Some(evidence)
	}
}
