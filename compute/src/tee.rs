//! The simulated enclave: what a compute node's TEE mode runs in on machines without TEE
//! hardware, on development chains only (the chain refuses simulated evidence elsewhere).
//!
//! It plays the enclave's part honestly except for the hardware: it generates the enclave's
//! signing (ed25519) and encryption (X25519) keys once and keeps them in the work directory, gives
//! the chain its proof of holding the signing key over the report data, opens the dataset keys
//! released to it, and signs results. Without the hardware, its secrets and the decrypted data
//! are only as safe as the machine's disk: that is why only development chains accept it. Its
//! measurement is a fixed value per TEE kind, so that an app can name it among the measurements
//! it allows.
//!
//! On TEE hardware the same keys serve the real enclave, because there the whole compute node
//! runs inside it (a Gramine-SGX enclave, or a TDX trust domain): they are generated in the
//! enclave's memory, and only the evidence changes ([`crate::evidence`], a DCAP quote instead of
//! a signature). They are kept in another file, [`HARDWARE_SECRETS`], so that keys generated
//! outside an enclave are never registered with hardware evidence. That file must be protected
//! by the TEE: under Gramine the work directory must be an encrypted mount sealed to the
//! enclave's MRENCLAVE (`type = "encrypted"`, `key_name = "_sgx_mrenclave"`, see
//! `compute/gramine/`); under TDX, the trust domain's disk must be encrypted with a key only
//! the TD holds.

use std::{fs, path::Path};

use commons_client::{
	confidential::{open_dataset_key, DatasetKey},
	service::write_atomically,
};
use pallet_attestation::{EnclaveKeys, TeeKind};
use pallet_contribution::{SealedDatasetKey, TaskId};
use pallet_marketplace::Measurement;
use sha2::{Digest as _, Sha256, Sha384};
use sp_core::{ed25519, Pair};

/// The file, in the work directory, a simulated enclave keeps its secrets in.
pub const SIMULATED_SECRETS: &str = "enclave-secrets";

/// The file, in the work directory, an enclave on TEE hardware keeps its secrets in.
pub const HARDWARE_SECRETS: &str = "hardware-enclave-secrets";

/// What the simulated measurement is derived from.
const SIMULATED_MEASUREMENT_SEED: &[u8] = b"commons-compute simulated enclave v1";

/// The measurement a simulated enclave of `kind` reports.
pub fn simulated_measurement(kind: TeeKind) -> Measurement {
	match kind {
		TeeKind::Sgx => {
			Measurement::SgxMrEnclave(Sha256::digest(SIMULATED_MEASUREMENT_SEED).into())
		}
		TeeKind::Tdx => Measurement::Tdx(Sha384::digest(SIMULATED_MEASUREMENT_SEED).into()),
	}
}

/// A simulated enclave's keys; with hardware evidence, the real enclave's (see the module's
/// documentation).
pub struct SimulatedEnclave {
	/// Its TEE kind: which hardware it plays.
	pub kind: TeeKind,
	signer: ed25519::Pair,
	decrypter: x25519_dalek::StaticSecret,
	/// Its public keys, as registered on chain.
	pub keys: EnclaveKeys,
}

impl SimulatedEnclave {
	/// The enclave whose secrets are kept in `dir/`[`SIMULATED_SECRETS`], created on first use.
	pub fn load_or_create(dir: &Path, kind: TeeKind) -> Result<Self, String> {
		Self::load_or_create_at(&dir.join(SIMULATED_SECRETS), kind)
	}

	/// The enclave whose secrets are kept in the file `path`, created on first use.
	pub fn load_or_create_at(path: &Path, kind: TeeKind) -> Result<Self, String> {
		if let Some(enclave) = Self::load_at(path, kind)? {
			return Ok(enclave);
		}
		let secrets = Self::new_secrets();
		write_atomically(path, &secrets)
			.map_err(|error| format!("cannot keep the enclave's secrets: {error}"))?;
		Ok(Self::from_secrets(kind, &secrets))
	}

	/// The enclave whose secrets are kept in the file `path`, if there are any yet. Secrets
	/// that exist but cannot be read are an error, never silently replaced: the enclave's
	/// registration names their keys.
	pub fn load_at(path: &Path, kind: TeeKind) -> Result<Option<Self>, String> {
		match fs::read(path) {
			Ok(bytes) => {
				let secrets: [u8; 64] = bytes.try_into().map_err(|_| {
					format!("{} is not 64 bytes of enclave secrets", path.display())
				})?;
				Ok(Some(Self::from_secrets(kind, &secrets)))
			}
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(error) => {
				Err(format!("cannot read the enclave's secrets {}: {error}", path.display()))
			}
		}
	}

	/// An enclave with new secrets, kept nowhere: what a dry run checks in place of the one a
	/// first start would create.
	pub fn unsaved(kind: TeeKind) -> Self {
		Self::from_secrets(kind, &Self::new_secrets())
	}

	/// New secrets: a signing seed, then an encryption secret.
	fn new_secrets() -> [u8; 64] {
		let mut secrets = [0u8; 64];
		let (_, signing_seed) = ed25519::Pair::generate();
		let (_, encryption_seed) = ed25519::Pair::generate();
		secrets[..32].copy_from_slice(&signing_seed);
		secrets[32..].copy_from_slice(&encryption_seed);
		secrets
	}

	fn from_secrets(kind: TeeKind, secrets: &[u8; 64]) -> Self {
		let mut signing_seed = [0u8; 32];
		signing_seed.copy_from_slice(&secrets[..32]);
		let mut encryption_secret = [0u8; 32];
		encryption_secret.copy_from_slice(&secrets[32..]);
		let signer = ed25519::Pair::from_seed(&signing_seed);
		let decrypter = x25519_dalek::StaticSecret::from(encryption_secret);
		let encryption = x25519_dalek::PublicKey::from(&decrypter);
		let keys = EnclaveKeys { signing: signer.public().0, encryption: encryption.to_bytes() };
		Self { kind, signer, decrypter, keys }
	}

	/// The enclave's measurement.
	pub fn measurement(&self) -> Measurement {
		simulated_measurement(self.kind)
	}

	/// Opens a dataset key released to this enclave for `task`.
	pub fn open_dataset_key(
		&self,
		sealed: &SealedDatasetKey,
		task: &TaskId,
	) -> Result<DatasetKey, String> {
		Ok(open_dataset_key(&self.decrypter, sealed, task)?)
	}

	/// The enclave's signature over `message` (a result, or the report data as proof of
	/// holding the key).
	pub fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.signer.sign(message).0
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_enclave_keeps_its_keys_across_restarts() {
		let dir = tempfile::tempdir().unwrap();
		let first = SimulatedEnclave::load_or_create(dir.path(), TeeKind::Sgx).unwrap();
		let again = SimulatedEnclave::load_or_create(dir.path(), TeeKind::Sgx).unwrap();
		assert_eq!(first.keys, again.keys);
		let signature = first.sign(b"result");
		assert!(ed25519::Pair::verify(
			&ed25519::Signature::from_raw(signature),
			b"result",
			&ed25519::Public::from_raw(again.keys.signing)
		));
		let other = tempfile::tempdir().unwrap();
		let secrets = other.path().join(SIMULATED_SECRETS);
		assert!(SimulatedEnclave::load_at(&secrets, TeeKind::Sgx).unwrap().is_none());
		let unsaved = SimulatedEnclave::unsaved(TeeKind::Sgx);
		assert!(!secrets.exists(), "an unsaved enclave is kept nowhere");
		let fresh = SimulatedEnclave::load_or_create(other.path(), TeeKind::Sgx).unwrap();
		assert_ne!(fresh.keys, unsaved.keys);
		assert_ne!(fresh.keys, first.keys);

		// A dataset key sealed to the enclave's registered key opens after a restart, and only
		// there.
		let task = TaskId::repeat_byte(4);
		let key = DatasetKey::generate();
		let sealed =
			commons_client::confidential::seal_dataset_key(&key, &first.keys.encryption, &task)
				.unwrap();
		assert_eq!(again.open_dataset_key(&sealed, &task).unwrap(), key);
		assert!(fresh.open_dataset_key(&sealed, &task).is_err());
		assert!(matches!(first.measurement(), Measurement::SgxMrEnclave(_)));
	}
}
