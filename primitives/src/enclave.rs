//! Trusted enclaves as the protocol sees them: what an app allows them to run (a
//! [`Measurement`]), the keys and signatures by which they are reached and recognised, a dataset
//! key sealed to one of them, and the registry of attested enclaves ([`EnclaveRegistry`]) that
//! the task pallet asks and the attestation pallet answers.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::Tag;

/// A TEE measurement an app's trusted build may run under.
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
pub enum Measurement {
	/// An SGX enclave's MRENCLAVE.
	SgxMrEnclave([u8; 32]),
	/// A TDX trust domain's MRTD.
	TdxMrTd([u8; 48]),
}

/// A signature by an enclave's key (64 bytes: ed25519, sr25519, or ECDSA r ‖ s).
pub type EnclaveSignature = [u8; 64];

/// An X25519 public key: an enclave's encryption key, or a sealer's ephemeral key.
pub type X25519PublicKey = [u8; 32];

/// A confidential dataset's 32-byte key sealed to one enclave for one task, so that only that
/// enclave can read it: RFC 9180 HPKE, base mode, suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// ChaCha20-Poly1305, one single-shot seal with info [`crate::domains::DATASET_KEY_SEAL`] ‖ task
/// id and the task id as associated data, so any RFC 9180 implementation opens it. The chain
/// checks who it is for; only the enclave can check what it holds.
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
pub struct SealedDatasetKey {
	/// HPKE's `enc`: the dataset owner's one-time X25519 key.
	pub ephemeral: X25519PublicKey,
	/// The enclave's encryption key it was sealed to.
	pub recipient: X25519PublicKey,
	/// HPKE's ciphertext: the encrypted dataset key (32 bytes) and the AEAD tag (16 bytes).
	pub ciphertext: [u8; 48],
}

/// What the protocol asks about workers' enclaves: the registry of attested enclaves.
pub trait EnclaveRegistry<AccountId> {
	/// Whether `worker` has an attested, unexpired enclave of the TEE kind `tag` asks for, whose
	/// measurement is one of `allowed`.
	fn enclave_allowed(worker: &AccountId, tag: Tag, allowed: &[Measurement]) -> bool;

	/// Whether `signature` is `worker`'s enclave's signature over `message`.
	fn verify_enclave_signature(
		worker: &AccountId,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool;

	/// The encryption key of `worker`'s attested, unexpired enclave.
	fn encryption_key(worker: &AccountId) -> Option<X25519PublicKey>;

	/// Gives `worker` an attested enclave of `measurement` with encryption key `encryption`, for
	/// benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn attest_for_benchmark(
		worker: &AccountId,
		measurement: Measurement,
		encryption: X25519PublicKey,
	);

	/// `worker`'s enclave's signature over `message`, for benchmarks of the calls that check it.
	#[cfg(feature = "runtime-benchmarks")]
	fn sign_for_benchmark(worker: &AccountId, message: &[u8]) -> EnclaveSignature;
}
