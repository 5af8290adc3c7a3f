//! # Commons DCAP verifier
//!
//! Verifies Intel DCAP quotes, SGX (version 3) and TDX (versions 4 and 5), against Intel's
//! collateral, inside the Commons runtime: `no_std`, on RustCrypto (p256, sha2, x509-cert, der,
//! serde_json with `alloc`) so it builds for `wasm32v1-none`.
//!
//! ## Overview
//!
//! A quote is an enclave's (or trust domain's) report signed by an attestation key, which Intel's
//! quoting enclave (QE) vouches for in its own report, signed by the platform's PCK certificate,
//! which chains to Intel's root CA. Collateral says how much to trust that: certificate
//! revocation lists, the TCB levels of the platform's family (TCB info, per FMSPC) and the
//! quoting enclave's identity, each signed by Intel. [`verify_quote`] checks all of it and
//! returns the [`Verified`] report with the platform's [`TcbStatus`] and advisories;
//! [`TcbPolicy::admits`] decides whether that status is good enough. [`regrade`] grades the
//! same platform again later, from what the quote showed ([`PlatformTcb`]) and the collateral
//! as it is then, without the quote; [`TcbPolicy::admits_regraded`] judges that grade.
//!
//! ## Design
//!
//! - **Collateral verified once, looked up per quote.** [`collateral`] verifies each piece
//!   (signature to the root, validity window) when it is submitted and returns it parsed (a
//!   revocation list as the [`Revocations`] it states); [`verify_quote`] reads the pieces it
//!   needs through [`CollateralSource`] (the TCB info of the quote's FMSPC, the CRL of the PCK
//!   CA in its chain) and checks only that they are still valid at `now`. A chain stores
//!   collateral as state; a test passes a [`collateral::Bundle`].
//! - **Signatures verified once.** A source may also say which PCK CA certificate it verified
//!   with that CA's list, and which platform evidence ([`platform_evidence`]: the PCK
//!   certificate, its CA, the QE report and its signature) it verified in an earlier quote; a
//!   quote holding exactly those bytes is not checked for those signatures again
//!   ([`Verified::verified_before`] says which were skipped). The report's signature, and
//!   everything that changes with time, are checked on every quote.
//! - **Same verdicts as the reference verifier.** Status convergence, TCB level ordering and
//!   matching, TDX module identities and the TD 1.5 relaunch rule follow Intel's QVL as the
//!   `dcap-qvl` crate implements it; its tests compare the two on Intel's samples and on
//!   mutations of them.
//! - **A grade can be taken again.** Revocation lists, TCB info and QE identities change after
//!   a quote is verified. [`Verified::platform`] keeps every input of the grade that is not a
//!   signature (the PCK certificate's and its CA's serials, the certified TCB, the quoting
//!   enclave's and the TDX module's fields), and [`regrade`] runs the same level matching
//!   and status convergence as [`verify_quote`] on them, so a chain can judge a registration
//!   by today's collateral without keeping the quote.
//! - **Every failure names itself.** [`Error`] has one variant per reason a quote or a piece of
//!   collateral is refused, so a chain can report exactly which.
//!
//! ## Terms
//!
//! - *PCK*: the Provisioning Certification Key, the platform's certified signing key.
//! - *FMSPC*: the platform family; TCB info is published per FMSPC.
//! - *TCB*: the platform's trusted computing base (microcode, firmware, TDX module versions),
//!   graded by Intel into a [`TcbStatus`].
//! - *Measurement*: MRENCLAVE and MRSIGNER of an SGX enclave; MRTD and RTMR0–3 of a TD.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod collateral;
pub mod pki;
pub mod quote;
mod reader;
pub mod tcb;
mod time;
mod verify;

pub use collateral::{CollateralSource, QeIdentity, TcbInfo};
pub use pki::{Crl, PckCa, Revocations};
pub use quote::{Quote, Report, TeeType};
pub use tcb::{TcbPolicy, TcbStatus};
pub use time::parse_rfc3339;
pub use verify::{
	platform_evidence, regrade, verify_quote, PlatformTcb, QeTcb, Regraded, TdxTcb, Verified,
	VerifiedBefore,
};

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Intel's SGX root CA certificate (DER): "Intel SGX Root CA", valid 2018-05-21 to 2049-12-31,
/// SHA-256 fingerprint 44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3.
/// Every genuine PCK certificate and collateral signature chains to it.
pub const INTEL_SGX_ROOT_CA: &[u8] = include_bytes!("intel_sgx_root_ca.der");

/// Why a quote or a piece of collateral was refused.
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
#[cfg_attr(feature = "frame", derive(frame_support::PalletError))]
pub enum Error {
	/// The quote is truncated or its structure is inconsistent.
	QuoteMalformed,
	/// The quote's version is not 3 (SGX) or 4 and 5 (TDX).
	QuoteVersionUnsupported,
	/// The quote is neither SGX nor TDX, or its body is not of its TEE type.
	TeeTypeUnsupported,
	/// The attestation key is not ECDSA P-256.
	AttestationKeyTypeUnsupported,
	/// The quoting enclave is not Intel's.
	QeVendorUnknown,
	/// The quote carries no PCK certificate chain and none was supplied.
	PckChainMissing,
	/// A certificate or certificate chain does not parse.
	CertificateMalformed,
	/// A chain is not leaf, issuing CA, root, each issued by the next.
	CertificateChainInvalid,
	/// A chain does not end in the root CA this chain trusts.
	UntrustedRoot,
	/// A certificate's signature does not verify under its issuer's key.
	CertificateSignatureInvalid,
	/// A certificate is not yet valid or has expired.
	CertificateExpired,
	/// A certificate is on its issuer's revocation list.
	CertificateRevoked,
	/// A certificate revocation list does not parse.
	CrlMalformed,
	/// A revocation list is not signed by the CA it names.
	CrlSignatureInvalid,
	/// A revocation list is not yet valid or past its next update.
	CrlExpired,
	/// No revocation list is known for a CA in the chain.
	CrlMissing,
	/// TCB info does not parse.
	TcbInfoMalformed,
	/// TCB info is not signed by Intel's TCB signing certificate.
	TcbInfoSignatureInvalid,
	/// TCB info is not yet valid or past its next update.
	TcbInfoExpired,
	/// No TCB info is known for the platform's FMSPC and TEE type.
	TcbInfoMissing,
	/// QE identity does not parse.
	QeIdentityMalformed,
	/// QE identity is not signed by Intel's TCB signing certificate.
	QeIdentitySignatureInvalid,
	/// QE identity is not yet valid or past its next update.
	QeIdentityExpired,
	/// No QE identity is known for the quote's TEE type.
	QeIdentityMissing,
	/// The PCK certificate's Intel SGX extension is missing or does not parse.
	PckExtensionMalformed,
	/// The QE report is not signed by the PCK certificate.
	QeReportSignatureInvalid,
	/// The QE report does not commit to the attestation key.
	QeReportDataMismatch,
	/// The quoting enclave is not the one Intel's QE identity describes.
	QeIdentityMismatch,
	/// The quoting enclave's security version is below every level of its identity.
	QeSvnTooLow,
	/// The report is not signed by the attestation key.
	QuoteSignatureInvalid,
	/// The platform's TCB is below every level Intel publishes.
	TcbLevelNotFound,
	/// The TD's TDX module is not one the TCB info describes.
	TdxModuleMismatch,
	/// Intel revoked the platform's TCB.
	TcbRevoked,
	/// The enclave or TD runs in debug mode: its memory is readable by the host.
	DebugEnclave,
	/// The TD's attributes are unsafe (profiling, migration, reserved bits, EPT violations
	/// not converted, service TDs).
	TdAttributesRefused,
	/// The platform's TCB status is not one the policy accepts.
	TcbStatusRefused,
	/// The platform is affected by an advisory the policy does not allow.
	AdvisoryRefused,
	/// TCB info or a QE identity is signed by a certificate the root issued that is not Intel's
	/// TCB signing certificate (common name [`pki::TCB_SIGNER_COMMON_NAME`]), such as a PCK CA.
	TcbSignerUnexpected,
	/// The PCK certificate is not named [`pki::PCK_COMMON_NAME`]: its CA issued it for something
	/// other than a platform's provisioning certification key.
	PckCertificateNameUnexpected,
	/// The TCB info grades another Provisioning Certification Enclave: its `pceId` is not the
	/// PCEID of the PCK certificate.
	PceIdMismatch,
	/// The TCB info or the QE identity comes from an older TCB evaluation
	/// (`tcbEvaluationDataNumber`) than the policy's minimum.
	TcbEvaluationTooOld,
}

/// What every step returns.
pub type Result<T> = core::result::Result<T, Error>;
