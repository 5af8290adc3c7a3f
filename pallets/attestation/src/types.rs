//! The attestation registry's types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_marketplace::{tag, Measurement, Tag};
use scale_info::TypeInfo;

/// Milliseconds since the Unix epoch, as the timestamp pallet counts.
pub type Moment = u64;

/// An ed25519 public key.
pub type SigningKey = [u8; 32];

/// An X25519 public key.
pub type EncryptionKey = [u8; 32];

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
			(TeeKind::Sgx, Measurement::SgxMrEnclave(_)) | (TeeKind::Tdx, Measurement::TdxMrTd(_))
		)
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
	pub signing: SigningKey,
	pub encryption: EncryptionKey,
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
	pub kind: TeeKind,
	pub measurement: Measurement,
	pub keys: EnclaveKeys,
	/// What vouched for it; [`Attester::Simulated`] says it is not real hardware.
	pub attester: Attester,
	/// When it was registered or last re-attested.
	pub attested_at: Moment,
	/// From this moment on it is no longer trusted, and anyone may evict it.
	pub expires_at: Moment,
}
