//! The attestation registry's types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use commons_dcap::{
	pki::Platform, quote::TeeType, PlatformTcb, QeIdentity, QeTcb, Revocations, TcbInfo, TdxTcb,
};
pub use commons_dcap::{PckCa, TcbStatus};
use commons_primitives::{tag, Measurement, PinnedEnclave, Tag, X25519PublicKey};
use core::marker::PhantomData;
use frame_support::{
	traits::{ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// A platform family: the key Intel publishes TCB info under.
pub type Fmspc = [u8; 6];

/// Intel's root CA certificate, DER.
pub type RootCertificate = BoundedVec<u8, ConstU32<4_096>>;
/// A certificate revocation list, DER. Intel's PCK CRLs grow with revocations.
pub type CrlDer = BoundedVec<u8, MaxCrlLen>;
/// The longest revocation list, DER.
pub type MaxCrlLen = ConstU32<65_536>;
/// A PEM certificate chain (issuer chains of collateral, or a quote's PCK chain).
pub type PemChain = BoundedVec<u8, ConstU32<8_192>>;
/// Signed JSON collateral (TCB info or QE identity), exactly as Intel signed it.
pub type CollateralJson = BoundedVec<u8, MaxCollateralJsonLen>;
/// The longest signed JSON collateral.
pub type MaxCollateralJsonLen = ConstU32<32_768>;
/// A DCAP quote.
pub type QuoteBytes = BoundedVec<u8, ConstU32<16_384>>;
/// An advisory id, such as `INTEL-SA-00615`.
pub type AdvisoryId = BoundedVec<u8, ConstU32<32>>;
/// A raw `r ‖ s` ECDSA P-256 signature.
pub type EcdsaSignature = [u8; 64];
/// A certificate's serial number as revocation lists name it: at most 20 octets by RFC 5280,
/// one more for the leading zero of a 20-octet value whose high bit is set, which `x509-cert`
/// (and so the verifier) accepts.
pub type CertSerial = BoundedVec<u8, ConstU32<21>>;

/// Milliseconds since the Unix epoch, as the timestamp pallet counts.
pub type Moment = u64;

/// An ed25519 public key.
pub type SigningKey = [u8; 32];

/// The trusted execution environment an enclave runs in.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum TeeKind {
	/// An Intel SGX enclave, measured by its MRENCLAVE.
	Sgx,
	/// An Intel TDX trust domain, measured by its MRTD.
	Tdx,
}

impl TeeKind {
	/// Whether a task with tags `tag` may run here: the framework bits it names, if any, must
	/// include this kind.
	pub fn serves(self, tag: Tag) -> bool {
		let frameworks = tag & tag::TEE_FRAMEWORKS;
		let mine = match self {
			TeeKind::Sgx => tag::SGX,
			TeeKind::Tdx => tag::TDX,
		};
		frameworks == 0 || frameworks & mine != 0
	}

	/// Whether `measurement` is of this kind's form.
	pub fn measures(self, measurement: &Measurement) -> bool {
		matches!(
			(self, measurement),
			(TeeKind::Sgx, Measurement::SgxMrEnclave(_)) | (TeeKind::Tdx, Measurement::Tdx(_))
		)
	}
}

impl From<TeeType> for TeeKind {
	fn from(tee: TeeType) -> Self {
		match tee {
			TeeType::Sgx => TeeKind::Sgx,
			TeeType::Tdx => TeeKind::Tdx,
		}
	}
}

impl From<TeeKind> for TeeType {
	fn from(kind: TeeKind) -> Self {
		match kind {
			TeeKind::Sgx => TeeType::Sgx,
			TeeKind::Tdx => TeeType::Tdx,
		}
	}
}

/// The keys an enclave generated inside itself: it signs results with the first and receives
/// confidential datasets' keys sealed to the second.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct EnclaveKeys {
	/// The ed25519 key the enclave signs its results with.
	pub signing: SigningKey,
	/// The X25519 key confidential datasets' keys are sealed to.
	pub encryption: X25519PublicKey,
}

/// What vouched for an enclave.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Attester {
	/// Nobody: the worker declared a simulated enclave, which only development chains accept.
	Simulated,
	/// Intel, through a DCAP quote verified on chain against Intel's collateral.
	IntelDcap {
		/// Intel's grade of the platform when it registered.
		status: TcbStatus,
		/// The platform family.
		fmspc: Fmspc,
		/// What the quote says besides the measurement.
		identity: QuotedIdentity,
	},
}

/// The parts of a quoted enclave's identity besides its measurement.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum QuotedIdentity {
	/// An SGX enclave's signer (MRSIGNER), product id and security version.
	Sgx {
		/// MRSIGNER: the SHA-256 hash of the enclave signer's RSA public key modulus.
		mr_signer: [u8; 32],
		/// ISVPRODID: the product id the enclave's signer assigned to it.
		isv_prod_id: u16,
		/// ISVSVN: the security version the enclave's signer assigned to it.
		isv_svn: u16,
	},
	/// A TD's run-time measurement registers RTMR0–3.
	Tdx {
		/// RTMR0–3, in order.
		rtmrs: [[u8; 48]; 4],
	},
}

/// A worker's registered enclave.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Enclave {
	/// The TEE it runs in.
	pub kind: TeeKind,
	/// Its measurement: MRENCLAVE for SGX, MRTD for TDX.
	pub measurement: Measurement,
	/// The keys it generated inside itself.
	pub keys: EnclaveKeys,
	/// What vouched for it; [`Attester::Simulated`] says it is not real hardware.
	pub attester: Attester,
	/// When it was registered or last re-attested.
	pub attested_at: Moment,
	/// From this moment on it is no longer trusted, and anyone may evict it.
	pub expires_at: Moment,
}

impl Enclave {
	/// Whether this enclave is one that `allowed` names: of that MRENCLAVE or TDX measurement,
	/// or, for [`Measurement::SgxSigner`], an SGX enclave whose quote showed that signer and
	/// product at that security version or later.
	pub fn satisfies(&self, allowed: &Measurement) -> bool {
		match allowed {
			Measurement::SgxSigner { mr_signer, isv_prod_id, min_isv_svn } => matches!(
				self.attester,
				Attester::IntelDcap {
					identity: QuotedIdentity::Sgx { mr_signer: signer, isv_prod_id: product, isv_svn },
					..
				} if signer == *mr_signer && product == *isv_prod_id && isv_svn >= *min_isv_svn
			),
			measurement => self.measurement == *measurement,
		}
	}

	/// The enclave as a task pins it: its measurement and keys.
	pub fn pinned(&self) -> PinnedEnclave {
		PinnedEnclave {
			measurement: self.measurement,
			signing: self.keys.signing,
			encryption: self.keys.encryption,
		}
	}
}

/// What the quote of a registration on hardware evidence showed about its platform
/// ([`commons_dcap::PlatformTcb`]), kept beside the registration so that anyone can show,
/// without the quote, that the chain's current collateral or TCB policy would refuse it now
/// ([`crate::Pallet::evict`]).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct QuotedPlatform {
	/// The root epoch its PCK certificate chain was verified under: collateral of another root
	/// does not vouch for it.
	pub root_epoch: u32,
	/// What identifies the quote's signed platform evidence ([`PlatformTcb::evidence`]): the
	/// worker's next quote with the same, under the same root, is not checked for those
	/// signatures again.
	pub evidence: [u8; 32],
	/// The TEE the quote reported on.
	pub kind: TeeKind,
	/// The CA that issued the PCK certificate: whose revocation list can revoke it.
	pub pck_ca: PckCa,
	/// The PCK CA certificate's serial number, as the root CA's revocation list names it.
	pub pck_ca_serial: CertSerial,
	/// The PCK certificate's serial number, as its CA's revocation list names it.
	pub pck_serial: CertSerial,
	/// When the PCK certificate or its CA expires, whichever is first: Unix seconds.
	pub pck_chain_not_after: u64,
	/// What the PCK certificate certifies: the family (FMSPC), the PCE, CPUSVN and PCESVN.
	pub certified: Platform,
	/// The quoting enclave, as its QE identity matches and grades it (ISVSVN among others).
	pub qe: QeTcb,
	/// TDX only: the TD's TEE_TCB_SVNs and its TDX module's signer and attributes.
	pub tdx: Option<TdxTcb>,
}

impl QuotedPlatform {
	/// `platform`, as a quote verified under root epoch `root_epoch` showed it; `None` if a
	/// serial number is longer than a certificate's may be.
	pub fn new(platform: &PlatformTcb, root_epoch: u32) -> Option<Self> {
		Some(Self {
			root_epoch,
			evidence: platform.evidence,
			kind: platform.tee.into(),
			pck_ca: platform.pck_ca,
			pck_ca_serial: platform.pck_ca_serial.clone().try_into().ok()?,
			pck_serial: platform.pck_serial.clone().try_into().ok()?,
			pck_chain_not_after: platform.pck_chain_not_after,
			certified: platform.certified,
			qe: platform.qe,
			tdx: platform.tdx,
		})
	}

	/// The platform as [`commons_dcap::regrade`] grades it.
	pub fn platform(&self) -> PlatformTcb {
		PlatformTcb {
			evidence: self.evidence,
			tee: self.kind.into(),
			pck_ca: self.pck_ca,
			pck_ca_serial: self.pck_ca_serial.to_vec(),
			pck_serial: self.pck_serial.to_vec(),
			pck_chain_not_after: self.pck_chain_not_after,
			certified: self.certified,
			qe: self.qe,
			tdx: self.tdx,
		}
	}
}

/// What the chain's current collateral or policy refuses in a registration it revoked
/// ([`crate::Event::EnclaveRevoked`]).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum RevocationReason {
	/// A revocation list on chain revokes its PCK certificate, or the PCK CA (or root) its
	/// certificate chains to.
	PckRevoked,
	/// Governance set a new root CA since it registered: its PCK certificate chain was verified
	/// under a root this chain no longer trusts.
	RootCaChanged,
	/// The current collateral no longer grades its platform: a piece it needs is missing or
	/// past its next update, the platform's TCB is revoked, or the current TCB info or QE
	/// identity no longer matches it. The error says which.
	PlatformRefused(commons_dcap::Error),
	/// The current TCB policy refuses the platform's current grade: its status, an advisory, or
	/// the evaluation of the collateral grading it. The error says which.
	PolicyRefused(commons_dcap::Error),
}

/// `T` parsed from a document of at most `S` bytes (DER or JSON), stored as the verifier
/// reads it so that no registration parses the document again. A parsed document encodes in
/// fewer bytes than its text; [`Parsed::new`] checks it, which is the bound its storage
/// declares.
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo)]
#[scale_info(skip_type_params(S))]
#[codec(encode_bound(T: Encode))]
#[codec(decode_bound(T: Decode))]
pub struct Parsed<T: Clone + core::fmt::Debug + PartialEq + Eq, S>(T, PhantomData<S>);

impl<T: Encode + Clone + core::fmt::Debug + PartialEq + Eq, S: Get<u32>> Parsed<T, S> {
	/// `value`, if its encoding fits in `S` bytes.
	pub fn new(value: T) -> Option<Self> {
		(value.encoded_size() <= S::get() as usize).then_some(Self(value, PhantomData))
	}
}

impl<T: Clone + core::fmt::Debug + PartialEq + Eq, S> Parsed<T, S> {
	/// The parsed value.
	pub fn get(&self) -> &T {
		&self.0
	}

	/// The parsed value, owned.
	pub fn into_inner(self) -> T {
		self.0
	}
}

impl<T: Encode + Clone + core::fmt::Debug + PartialEq + Eq, S: Get<u32>> MaxEncodedLen
	for Parsed<T, S>
{
	fn max_encoded_len() -> usize {
		S::get() as usize
	}
}

/// A revocation list as stored: what it says, verified when submitted under root CA generation
/// `root_epoch`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct StoredCrl {
	/// What the list says: its dates and the serial numbers it revokes.
	pub revocations: Parsed<Revocations, MaxCrlLen>,
	/// The root epoch it was verified under; it is not used under another.
	pub root_epoch: u32,
}

/// TCB info as stored: verified when submitted, under `root_epoch`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct StoredTcbInfo {
	/// The TCB info, parsed from the JSON Intel signed.
	pub info: Parsed<TcbInfo, MaxCollateralJsonLen>,
	/// The root epoch it was verified under; it is not used under another.
	pub root_epoch: u32,
}

/// A QE identity as stored: verified when submitted, under `root_epoch`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct StoredQeIdentity {
	/// The identity, parsed from the JSON Intel signed.
	pub identity: Parsed<QeIdentity, MaxCollateralJsonLen>,
	/// The root epoch it was verified under; it is not used under another.
	pub root_epoch: u32,
}

/// A PCK CA certificate verified as the root's when its revocation list was submitted: quotes
/// whose chain holds exactly it need its signature checked no more.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct VerifiedCertificate {
	/// SHA-256 of the certificate's DER ([`commons_dcap::pki::certificate_digest`]).
	pub digest: [u8; 32],
	/// The root epoch it was verified under; it is not trusted under another.
	pub root_epoch: u32,
}

/// Which piece of collateral an update was.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum CollateralKind {
	/// The root CA's revocation list.
	RootCaCrl,
	/// A PCK CA's revocation list.
	PckCrl(PckCa),
	/// The TCB info of a TEE kind and platform family.
	TcbInfo(TeeKind, Fmspc),
	/// The quoting enclave identity of a TEE kind.
	QeIdentity(TeeKind),
}

/// Which verified platforms this chain trusts; set by governance.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct TcbPolicy {
	/// Statuses accepted as they are.
	pub accepted: BoundedVec<TcbStatus, ConstU32<9>>,
	/// Seconds an out-of-date platform stays accepted after the date of its TCB level (time to
	/// apply Intel's TCB recovery); 0 for none.
	pub out_of_date_grace: u64,
	/// If set, every advisory affecting a platform must be listed here.
	pub allowed_advisories: Option<BoundedVec<AdvisoryId, ConstU32<64>>>,
	/// If set, a platform is graded only by TCB info and a quoting enclave identity of at least
	/// this TCB evaluation data number: collateral from before a TCB recovery Intel published
	/// (and governance adopted) grades nothing, even while it is unexpired.
	#[serde(default)]
	pub min_evaluation_data_number: Option<u32>,
}

impl Default for TcbPolicy {
	/// Up to date, or up to date but for mitigations enclaves apply in software; no grace, any
	/// advisory.
	fn default() -> Self {
		Self {
			accepted: BoundedVec::truncate_from(alloc::vec![
				TcbStatus::UpToDate,
				TcbStatus::SWHardeningNeeded
			]),
			out_of_date_grace: 0,
			allowed_advisories: None,
			min_evaluation_data_number: None,
		}
	}
}
