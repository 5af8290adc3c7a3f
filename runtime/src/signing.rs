//! Signing transactions outside the runtime.
//!
//! The node's benchmarks, our command-line tools and the end-to-end tests all build signed
//! transactions from the runtime's own types through this module, so the transaction format is
//! written down once, here, next to [`TxExtension`]. The scheduler's off-chain worker, inside the
//! runtime, builds its transactions' extensions here too.

use sp_runtime::generic::Era;
#[cfg(feature = "std")]
use {
	codec::Encode,
	sp_core::Pair,
	sp_runtime::{traits::IdentifyAccount, MultiSigner},
};

use crate::{Balance, BlockNumber, Hash, Nonce, TxExtension, VERSION};
#[cfg(feature = "std")]
use crate::{RuntimeCall, Signature, SignedPayload, UncheckedExtrinsic};

/// What a signature commits to besides the call: which chain and which runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
	/// The hash of the chain's genesis block: a transaction is valid on this chain only.
	pub genesis_hash: Hash,
	/// The `spec_version` of the runtime the chain runs now.
	pub spec_version: u32,
	/// The `transaction_version` of the runtime the chain runs now.
	pub transaction_version: u32,
}

impl ChainIdentity {
	/// The chain with genesis `genesis_hash`, running the runtime this crate was built as.
	pub fn with_native_runtime(genesis_hash: Hash) -> Self {
		Self {
			genesis_hash,
			spec_version: VERSION.spec_version,
			transaction_version: VERSION.transaction_version,
		}
	}
}

/// How long a transaction stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
	/// Valid until its nonce is used. Simple, but a lost transaction can be replayed for as long
	/// as the nonce is free.
	Immortal,
	/// Valid for about `period` blocks from block `from_number`, whose hash is `from_hash`.
	Mortal {
		/// How many blocks it stays valid for (rounded to a power of two by the era).
		period: u64,
		/// The block its validity starts at.
		from_number: BlockNumber,
		/// That block's hash, which the signature covers.
		from_hash: Hash,
	},
}

impl Lifetime {
	fn era(&self) -> Era {
		match *self {
			Lifetime::Immortal => Era::Immortal,
			Lifetime::Mortal { period, from_number, .. } => Era::mortal(period, from_number.into()),
		}
	}

	/// The block hash the signature commits to: genesis for immortal transactions.
	#[cfg(feature = "std")]
	fn checkpoint(&self, chain: &ChainIdentity) -> Hash {
		match *self {
			Lifetime::Immortal => chain.genesis_hash,
			Lifetime::Mortal { from_hash, .. } => from_hash,
		}
	}
}

/// The transaction extensions of a transaction with `nonce`, `lifetime` and `tip`.
pub fn tx_extension(nonce: Nonce, lifetime: Lifetime, tip: Balance) -> TxExtension {
	(
		frame_system::AuthorizeCall::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(lifetime.era()),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(tip),
		// Offline signers could ask for the metadata hash; our own tools read the metadata
		// directly, so they leave the check off.
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	)
}

/// `call` signed by `signer` with `nonce`, ready to submit to `chain`.
#[cfg(feature = "std")]
pub fn sign<P>(
	call: RuntimeCall,
	signer: &P,
	nonce: Nonce,
	lifetime: Lifetime,
	tip: Balance,
	chain: &ChainIdentity,
) -> UncheckedExtrinsic
where
	P: Pair,
	P::Public: Into<MultiSigner>,
	P::Signature: Into<Signature>,
{
	let extension = tx_extension(nonce, lifetime, tip);
	// What the extensions add to the signed payload without sending it: versions, genesis, the
	// era's checkpoint, and no metadata hash.
	let implicit = (
		(),
		(),
		chain.spec_version,
		chain.transaction_version,
		chain.genesis_hash,
		lifetime.checkpoint(chain),
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let account = signer.public().into().into_account();
	UncheckedExtrinsic::new_signed(call, account.into(), signature.into(), extension)
}
