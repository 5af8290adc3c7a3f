//! Storage migrations of the attestation pallet.
//!
//! - **v1** (spec 109): the TCB policy may require a minimum TCB evaluation data number; the
//!   policy stored before requires none.
//! - **v2** (spec 110): collateral is stored as the verifier reads it (revocation lists' dates
//!   and serials, TCB info and QE identities parsed), so that no registration parses or
//!   verifies it again; registrations remember their platform evidence. Stored collateral is
//!   parsed once (its signatures were verified when it was submitted; a piece that no longer
//!   parses is dropped, to be submitted again). The PCK CAs' lists are dropped: a list is now
//!   bound to the CA that signed it, whose certificate v1 did not keep, so they must be
//!   submitted again (quotes are refused with `CrlMissing` until they are). Platforms quoted
//!   before v2 are given no evidence: the next quote of each is checked in full.

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

use crate::{
	types::*, Config, Pallet, PckCrls, Policy, QeIdentities, QuotedPlatforms, RootCa, RootCaCrl,
	RootEpoch, TcbInfos,
};
use commons_dcap::{
	pki::{issuer_id, Cert, Platform},
	Crl, QeIdentity, QeTcb, TcbInfo, TdxTcb,
};

/// The attestation pallet's layouts before v1.
pub mod v0 {
	use super::*;

	/// The TCB policy as stored before v1 (spec 109 and before).
	#[derive(Encode, Decode)]
	pub struct TcbPolicy {
		/// Statuses accepted as they are.
		pub accepted: BoundedVec<TcbStatus, ConstU32<9>>,
		/// Seconds an out-of-date platform stays accepted after the date of its TCB level.
		pub out_of_date_grace: u64,
		/// If set, every advisory affecting a platform must be listed here.
		pub allowed_advisories: Option<BoundedVec<AdvisoryId, ConstU32<64>>>,
	}
}

/// Moves the stored TCB policy to the v1 layout, requiring no minimum evaluation number.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		// A policy that does not decode is dropped, and the default (the strictest) applies.
		let _ = Policy::<T>::translate::<v0::TcbPolicy, _>(|old| {
			old.map(|old| TcbPolicy {
				accepted: old.accepted,
				out_of_date_grace: old.out_of_date_grace,
				allowed_advisories: old.allowed_advisories,
				min_evaluation_data_number: None,
			})
		});
		T::DbWeight::get().reads_writes(1, 1)
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

/// The attestation pallet's layouts before v2.
pub mod v1 {
	use super::*;

	/// A revocation list as stored before v2: its DER.
	#[derive(Encode, Decode)]
	pub struct StoredCrl {
		/// The list, DER, as submitted.
		pub der: CrlDer,
		/// Its `thisUpdate`, Unix seconds.
		pub this_update: u64,
		/// The root epoch it was verified under.
		pub root_epoch: u32,
	}

	/// TCB info or a QE identity as stored before v2: its JSON.
	#[derive(Encode, Decode)]
	pub struct StoredJson {
		/// The JSON body, exactly as Intel signed it.
		pub json: CollateralJson,
		/// Intel's TCB evaluation data number.
		pub evaluation_number: u32,
		/// Unix seconds.
		pub issue_date: u64,
		/// Unix seconds.
		pub next_update: u64,
		/// The root epoch it was verified under.
		pub root_epoch: u32,
	}

	/// A registration's platform as stored before v2: without its evidence.
	#[derive(Encode, Decode)]
	pub struct QuotedPlatform {
		/// The root epoch its PCK certificate chain was verified under.
		pub root_epoch: u32,
		/// The TEE the quote reported on.
		pub kind: TeeKind,
		/// The CA that issued the PCK certificate.
		pub pck_ca: PckCa,
		/// The PCK CA certificate's serial number.
		pub pck_ca_serial: CertSerial,
		/// The PCK certificate's serial number.
		pub pck_serial: CertSerial,
		/// When the PCK certificate or its CA expires, whichever is first: Unix seconds.
		pub pck_chain_not_after: u64,
		/// What the PCK certificate certifies.
		pub certified: Platform,
		/// The quoting enclave.
		pub qe: QeTcb,
		/// TDX only: the TD's TCB and TDX module.
		pub tdx: Option<TdxTcb>,
	}
}

/// Parses the collateral stored as DER and JSON into what the verifier reads, and gives the
/// platforms quoted before no evidence.
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> InnerMigrateToV2<T> {
	/// The root CA's list, which the stored root (of its epoch) signed.
	fn root_crl(old: v1::StoredCrl) -> Option<StoredCrl> {
		if old.root_epoch != RootEpoch::<T>::get() {
			return None;
		}
		let root = Cert::from_der(&RootCa::<T>::get()?).ok()?;
		let revocations =
			Crl::from_der(&old.der).ok()?.unverified_revocations(issuer_id(&root).ok()?);
		Some(StoredCrl { revocations: Parsed::new(revocations)?, root_epoch: old.root_epoch })
	}
}

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		// Collateral is a handful of items (two CRLs, a QE identity per TEE, TCB info per
		// platform family); each is parsed once.
		let mut collateral = 0u64;
		let _ = RootCaCrl::<T>::translate::<v1::StoredCrl, _>(|old| {
			collateral += 1;
			old.and_then(Self::root_crl)
		});
		// A PCK CA's list is bound to the CA that signed it, whose certificate v1 did not
		// keep: the lists are dropped, to be submitted again with their issuer chains.
		let pck_crls = PckCrls::<T>::clear(u32::MAX, None).unique;
		collateral += u64::from(pck_crls);
		TcbInfos::<T>::translate::<v1::StoredJson, _>(|_, _, old| {
			collateral += 1;
			let info = TcbInfo::parse(&old.json).ok()?;
			Some(StoredTcbInfo { info: Parsed::new(info)?, root_epoch: old.root_epoch })
		});
		QeIdentities::<T>::translate::<v1::StoredJson, _>(|_, old| {
			collateral += 1;
			let identity = QeIdentity::parse(&old.json).ok()?;
			Some(StoredQeIdentity { identity: Parsed::new(identity)?, root_epoch: old.root_epoch })
		});
		let mut platforms = 0u64;
		QuotedPlatforms::<T>::translate::<v1::QuotedPlatform, _>(|_, old| {
			platforms += 1;
			Some(QuotedPlatform {
				root_epoch: old.root_epoch,
				// No digest of real evidence is all zeros: nothing is known about it.
				evidence: [0; 32],
				kind: old.kind,
				pck_ca: old.pck_ca,
				pck_ca_serial: old.pck_ca_serial,
				pck_serial: old.pck_serial,
				pck_chain_not_after: old.pck_chain_not_after,
				certified: old.certified,
				qe: old.qe,
				tdx: old.tdx,
			})
		});
		let items = collateral.saturating_add(platforms);
		// Parsing the largest list or JSON takes about two milliseconds (its submission's
		// benchmark, which also verifies it, takes six); charge ten for each.
		T::DbWeight::get()
			.reads_writes(items, items)
			.saturating_add(Weight::from_parts(10_000_000_000, 0).saturating_mul(collateral))
	}
}

/// [`InnerMigrateToV2`], run once: only while the pallet's stored version is 1.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
