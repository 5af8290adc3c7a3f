//! Collateral as chain state: the submitted pieces verified against the root CA and kept only if
//! newer, and the stored collateral of the current root epoch as the quote verifier reads it.

use crate::{
	types::*, Config, Error, Event, Pallet, PckCrls, QeIdentities, RootCa, RootCaCrl, RootEpoch,
	TcbInfos,
};
use commons_dcap::{
	collateral::{self as dcap_collateral, CollateralSource},
	pki::{Cert, Crl},
	quote::TeeType,
	QeIdentity, TcbInfo,
};
use frame_support::ensure;
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// [`Pallet::submit_root_ca_crl`], submitted by `by`.
	pub(crate) fn do_submit_root_ca_crl(by: T::AccountId, crl: CrlDer) -> DispatchResult {
		let (root, epoch) = Self::root()?;
		let verified = dcap_collateral::verify_root_crl(&root, &crl, Self::now_secs())
			.map_err(Error::<T>::Verification)?;
		let stored = StoredCrl { der: crl, this_update: verified.this_update, root_epoch: epoch };
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
		let (ca, verified) = dcap_collateral::verify_pck_crl(
			&root,
			&root_crl,
			&crl,
			&issuer_chain,
			Self::now_secs(),
		)
		.map_err(Error::<T>::Verification)?;
		let stored = StoredCrl { der: crl, this_update: verified.this_update, root_epoch: epoch };
		Self::ensure_newer_crl(PckCrls::<T>::get(ca), &stored)?;
		PckCrls::<T>::insert(ca, stored);
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
		let kind = TeeKind::from(info.tee);
		let stored = StoredJson {
			json,
			evaluation_number: info.evaluation_number,
			issue_date: info.issue_date,
			next_update: info.next_update,
			root_epoch: epoch,
		};
		Self::ensure_newer_json(TcbInfos::<T>::get(kind, info.fmspc), &stored)?;
		TcbInfos::<T>::insert(kind, info.fmspc, stored);
		let kind = CollateralKind::TcbInfo(kind, info.fmspc);
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
		let stored = StoredJson {
			json,
			evaluation_number: identity.evaluation_number,
			issue_date: identity.issue_date,
			next_update: identity.next_update,
			root_epoch: epoch,
		};
		Self::ensure_newer_json(QeIdentities::<T>::get(kind), &stored)?;
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

	fn root_crl(epoch: u32) -> Result<Crl, Error<T>> {
		let stored = RootCaCrl::<T>::get()
			.filter(|crl| crl.root_epoch == epoch)
			.ok_or(Error::<T>::RootCaCrlMissing)?;
		Crl::from_der(&stored.der).map_err(Error::<T>::Verification)
	}

	/// A revocation list replaces the stored one only if issued later (or the stored one is of
	/// an older root).
	fn ensure_newer_crl(stored: Option<StoredCrl>, new: &StoredCrl) -> Result<(), Error<T>> {
		match stored {
			Some(old) if old.root_epoch == new.root_epoch && old.this_update >= new.this_update => {
				Err(Error::<T>::CollateralNotNewer)
			}
			_ => Ok(()),
		}
	}

	/// TCB info or a QE identity replaces the stored one only with an evaluation data number
	/// at least as high and a later issue date (or if the stored one is of an older root).
	fn ensure_newer_json(stored: Option<StoredJson>, new: &StoredJson) -> Result<(), Error<T>> {
		match stored {
			Some(old) if old.root_epoch == new.root_epoch => {
				ensure!(
					new.evaluation_number >= old.evaluation_number,
					Error::<T>::TcbEvaluationRegressed
				);
				ensure!(new.issue_date > old.issue_date, Error::<T>::CollateralNotNewer);
				Ok(())
			}
			_ => Ok(()),
		}
	}
}

/// The collateral in storage, as the verifier looks it up: only what was verified under the
/// current root epoch.
pub(crate) struct StoredCollateral<T>(pub(crate) core::marker::PhantomData<T>);

impl<T: Config> StoredCollateral<T> {
	fn current_json(stored: Option<StoredJson>) -> Option<StoredJson> {
		stored.filter(|stored| stored.root_epoch == RootEpoch::<T>::get())
	}

	fn current_crl(stored: Option<StoredCrl>) -> Option<Crl> {
		let stored = stored.filter(|stored| stored.root_epoch == RootEpoch::<T>::get())?;
		Crl::from_der(&stored.der).ok()
	}
}

impl<T: Config> CollateralSource for StoredCollateral<T> {
	fn root_ca(&self) -> Option<Cert> {
		Cert::from_der(&RootCa::<T>::get()?).ok()
	}
	fn root_ca_crl(&self) -> Option<Crl> {
		Self::current_crl(RootCaCrl::<T>::get())
	}
	fn pck_crl(&self, ca: PckCa) -> Option<Crl> {
		Self::current_crl(PckCrls::<T>::get(ca))
	}
	fn tcb_info(&self, tee: TeeType, fmspc: [u8; 6]) -> Option<TcbInfo> {
		let stored = Self::current_json(TcbInfos::<T>::get(TeeKind::from(tee), fmspc))?;
		TcbInfo::parse(&stored.json).ok()
	}
	fn qe_identity(&self, tee: TeeType) -> Option<QeIdentity> {
		let stored = Self::current_json(QeIdentities::<T>::get(TeeKind::from(tee)))?;
		QeIdentity::parse(&stored.json).ok()
	}
}
