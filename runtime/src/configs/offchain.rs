//! How the runtime's off-chain workers build transactions: the workerpool scheduler's signed
//! assignments (see `pallet_contribution::scheduler`).

use codec::Encode;
use frame_system::offchain::{
	AppCrypto, CreateSignedTransaction, CreateTransactionBase, SigningTypes,
};
use sp_runtime::{generic::SignedPayload, traits::Verify};

use crate::{
	signing::{tx_extension, Lifetime},
	AccountId, Nonce, Runtime, RuntimeCall, Signature, System, UncheckedExtrinsic,
};

/// How many blocks an off-chain worker's transaction stays valid.
const OFFCHAIN_TRANSACTION_PERIOD: u64 = 64;

impl SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<LocalCall> CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = UncheckedExtrinsic;
}

impl<LocalCall> CreateSignedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_signed_transaction<C: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// The off-chain worker runs on the state after block `n`, whose own hash is not stored
		// yet: the era starts at its parent.
		let from_number = System::block_number().saturating_sub(1);
		let lifetime = Lifetime::Mortal {
			period: OFFCHAIN_TRANSACTION_PERIOD,
			from_number,
			from_hash: System::block_hash(from_number),
		};
		let extension = tx_extension(nonce, lifetime, 0);
		// The extensions fill in what the signature implicitly commits to (genesis, versions,
		// the era's block hash) from the chain's state.
		let payload = SignedPayload::new(call, extension).ok()?;
		let signature = payload.using_encoded(|bytes| C::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		Some(UncheckedExtrinsic::new_signed(call, account.into(), signature, extension))
	}
}
