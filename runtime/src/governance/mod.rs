//! On-chain governance and the accounts' tools: OpenGov (referenda on tracks, conviction voting,
//! a whitelist the technical committee keeps), the treasury, and utility, multisig and proxy
//! accounts for operators.
//!
//! A referendum dispatches with root (runtime upgrades) or with one of the narrower origins of
//! [`pallet_custom_origins`], each decided on its own track ([`tracks`]). The technical
//! committee cannot dispatch anything itself: it whitelists a call, which then passes on the
//! fast `whitelisted_caller` track and is dispatched as root.
//!
//! Every duration governance uses is in [`periods`], and every deposit in [`deposits`].
//! Development and local test chains may set, at genesis, that referenda run on short periods
//! ([`pallet_custom_origins::ShortPeriods`], [`periods::short`]): the same tracks and curves,
//! decided in minutes, so that a referendum can be rehearsed end to end. Chains meant for real
//! use (`staging`) do not set it, and nothing changes it after genesis.

mod origins;
mod tracks;

pub use origins::{
	pallet_custom_origins, ProtocolParameters, ReferendumCanceller, ReferendumKiller, TeePolicy,
	Treasurer, TreasurerSpender, ValidatorSet, WhitelistedCaller,
};
pub use tracks::{ids as track_ids, TracksInfo};

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	parameter_types,
	traits::{
		fungible::{Credit, HoldConsideration},
		tokens::{imbalance::ResolveTo, PayFromAccount, UnityAssetBalanceConversion},
		ActiveIssuanceOf, ConstU32, EitherOf, EitherOfDiverse, EqualPrivilegeOnly, Imbalance,
		InstanceFilter, LinearStoragePrice, OnUnbalanced,
	},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use pallet_treasury::TreasuryAccountId;
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{AccountIdLookup, BlakeTwo256},
	Perbill, Permill,
};

use crate::{
	configs::RuntimeBlockWeights, AccountId, Balance, Balances, BlockNumber, OriginCaller,
	Preimage, Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin,
	Scheduler, System, Treasury, CMN,
};

/// Every duration governance uses, in blocks (six seconds each). The only place to change them.
pub mod periods {
	use crate::{BlockNumber, DAYS, HOURS, MINUTES};

	/// How long a track's referendum waits, decides, confirms and is enacted.
	#[derive(Clone, Copy)]
	pub struct Periods {
		/// From submission until it may start deciding (once its decision deposit is placed).
		pub prepare: BlockNumber,
		/// The most it may decide for before it is rejected.
		pub decision: BlockNumber,
		/// How long it must keep passing before it is approved.
		pub confirm: BlockNumber,
		/// The least time between approval and enactment.
		pub min_enactment: BlockNumber,
	}

	impl Periods {
		/// These periods on a chain with short periods: each divided by [`SHORT_DIVISOR`],
		/// at least one block.
		pub const fn short(self) -> Self {
			const fn shorten(blocks: BlockNumber) -> BlockNumber {
				let short = blocks / SHORT_DIVISOR;
				if short == 0 {
					1
				} else {
					short
				}
			}
			Self {
				prepare: shorten(self.prepare),
				decision: shorten(self.decision),
				confirm: shorten(self.confirm),
				min_enactment: shorten(self.min_enactment),
			}
		}
	}

	/// On a chain with short periods, a referendum's two hours take one block (six seconds),
	/// a day twelve and a week's decision period 84: a root referendum with enough support
	/// passes and is enacted in about 25 blocks.
	pub const SHORT_DIVISOR: BlockNumber = 2 * HOURS;

	/// Every track's decision period: a week. The tracks' curves are fractions of it.
	pub const DECISION: BlockNumber = 7 * DAYS;

	/// Runtime upgrades and anything else root does: confirmed for a day, enacted a day later.
	pub const ROOT: Periods =
		Periods { prepare: 2 * HOURS, decision: DECISION, confirm: DAYS, min_enactment: DAYS };
	/// Whitelisted calls: the fast path for fixes the technical committee vouched for.
	pub const WHITELISTED_CALLER: Periods = Periods {
		prepare: 30 * MINUTES,
		decision: DECISION,
		confirm: 10 * MINUTES,
		min_enactment: 10 * MINUTES,
	};
	/// Protocol parameters.
	pub const PROTOCOL_PARAMETERS: Periods = Periods {
		prepare: 2 * HOURS,
		decision: DECISION,
		confirm: 12 * HOURS,
		min_enactment: HOURS,
	};
	/// TEE policy: a revoked TCB should stop being accepted within hours, not days.
	pub const TEE_POLICY: Periods = Periods {
		prepare: HOURS,
		decision: DECISION,
		confirm: 3 * HOURS,
		min_enactment: 10 * MINUTES,
	};
	/// The validator set.
	pub const VALIDATOR_SET: Periods =
		Periods { prepare: 2 * HOURS, decision: DECISION, confirm: DAYS, min_enactment: HOURS };
	/// Treasury spends.
	pub const TREASURER: Periods =
		Periods { prepare: 2 * HOURS, decision: DECISION, confirm: DAYS, min_enactment: DAYS };
	/// Cancelling a referendum: must be able to beat the referendum it cancels.
	pub const REFERENDUM_CANCELLER: Periods = Periods {
		prepare: HOURS,
		decision: DECISION,
		confirm: 3 * HOURS,
		min_enactment: 10 * MINUTES,
	};
	/// Killing a referendum.
	pub const REFERENDUM_KILLER: Periods = REFERENDUM_CANCELLER;

	/// How long a vote with 1x conviction stays locked after its referendum ends (doubling
	/// with each conviction step, up to 32x at 6x).
	pub const VOTE_LOCKING: BlockNumber = 7 * DAYS;
	/// How long a referendum may wait for its decision deposit before it times out.
	pub const UNDECIDING_TIMEOUT: BlockNumber = 14 * DAYS;
	/// How often referenda's alarms may fire (every block).
	pub const ALARM_INTERVAL: BlockNumber = 1;
	/// How long a technical committee motion stays open.
	pub const TECHNICAL_MOTION: BlockNumber = 3 * DAYS;
	/// How long a call approved on the whitelisted track waits for the committee's whitelisting.
	pub const WHITELIST_DEFERRED_DISPATCH: BlockNumber = DECISION;
	/// How often the treasury pays out approved `spend_local` proposals.
	pub const TREASURY_SPEND_PERIOD: BlockNumber = 6 * DAYS;
	/// How long an approved `spend` may be claimed.
	pub const TREASURY_PAYOUT_PERIOD: BlockNumber = 30 * DAYS;
}

/// Every deposit governance and the account tools take. The only place to change them.
pub mod deposits {
	use crate::{Balance, CMN};

	/// Taken from whoever submits a referendum; refunded if it is approved or cancelled.
	pub const SUBMISSION: Balance = 10 * CMN;
	/// The decision deposits: what someone backing a referendum places so it may be decided.
	pub const ROOT: Balance = 1_000 * CMN;
	/// See [`ROOT`].
	pub const WHITELISTED_CALLER: Balance = 100 * CMN;
	/// See [`ROOT`].
	pub const PROTOCOL_PARAMETERS: Balance = 200 * CMN;
	/// See [`ROOT`].
	pub const TEE_POLICY: Balance = 200 * CMN;
	/// See [`ROOT`].
	pub const VALIDATOR_SET: Balance = 500 * CMN;
	/// See [`ROOT`].
	pub const TREASURER: Balance = 200 * CMN;
	/// See [`ROOT`].
	pub const REFERENDUM_CANCELLER: Balance = 200 * CMN;
	/// See [`ROOT`].
	pub const REFERENDUM_KILLER: Balance = 500 * CMN;

	/// The deposit for `items` storage items holding `bytes` bytes: a tenth of a CMN per item
	/// and a ten-thousandth per byte, as the marketplace's `DepositPerItem`/`DepositPerByte`.
	pub const fn storage(items: u32, bytes: u32) -> Balance {
		items as Balance * (CMN / 10) + bytes as Balance * (CMN / 10_000)
	}
}

/// The most the treasurer track may spend at once.
pub const TREASURER_MAX_SPEND: Balance = 100_000 * CMN;

/// The share of transaction fees (and tips) paid to the treasury, in percent; the rest is burnt.
pub const FEES_TO_TREASURY_PERCENT: u32 = 20;

/// Who may set the marketplace's protocol parameters: root or the `protocol_parameters` track.
pub type ProtocolParametersOrigin = EitherOf<EnsureRoot<AccountId>, ProtocolParameters>;
/// Who may set the TCB policy and Intel's root CA: root or the `tee_policy` track.
pub type TeePolicyOrigin = EitherOf<EnsureRoot<AccountId>, TeePolicy>;
/// Who may add and remove validators and set the session length: root or the `validator_set`
/// track.
pub type ValidatorSetOrigin = EitherOf<EnsureRoot<AccountId>, ValidatorSet>;

impl pallet_custom_origins::Config for Runtime {}

// ---------------------------------------------------------------------------------------------
// Scheduler and preimages: what referenda enact with.
// ---------------------------------------------------------------------------------------------

parameter_types! {
	/// Scheduled calls may fill 80 % of a block.
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	/// Referenda schedule through the pallet's traits, not its calls: only root calls them.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// A preimage holds two items' deposit...
	pub const PreimageBaseDeposit: Balance = deposits::storage(2, 64);
	/// ... and a ten-thousandth of a CMN per byte (about 105 CMN for a 1 MiB runtime).
	pub const PreimageByteDeposit: Balance = deposits::storage(0, 1);
	/// The hold reason of preimage deposits.
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

// ---------------------------------------------------------------------------------------------
// Referenda and conviction voting.
// ---------------------------------------------------------------------------------------------

parameter_types! {
	/// See [`periods::VOTE_LOCKING`].
	pub const VoteLockingPeriod: BlockNumber = periods::VOTE_LOCKING;
	/// See [`deposits::SUBMISSION`].
	pub const SubmissionDeposit: Balance = deposits::SUBMISSION;
	/// See [`periods::UNDECIDING_TIMEOUT`].
	pub const UndecidingTimeout: BlockNumber = periods::UNDECIDING_TIMEOUT;
	/// See [`periods::ALARM_INTERVAL`].
	pub const AlarmInterval: BlockNumber = periods::ALARM_INTERVAL;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	/// Support is measured against the active issuance.
	type MaxTurnout = ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Anyone may submit a referendum, on the track of the origin it asks for.
	type SubmitOrigin = EnsureSigned<AccountId>;
	type CancelOrigin = EitherOf<EnsureRoot<AccountId>, ReferendumCanceller>;
	type KillOrigin = EitherOf<EnsureRoot<AccountId>, ReferendumKiller>;
	/// Deposits of killed referenda go to the treasury.
	type Slash = Treasury;
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = AlarmInterval;
	type Tracks = TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

// ---------------------------------------------------------------------------------------------
// The technical committee and its whitelist.
// ---------------------------------------------------------------------------------------------

/// The technical committee's instance of `pallet_collective`.
pub type TechnicalCollective = pallet_collective::Instance1;

parameter_types! {
	/// See [`periods::TECHNICAL_MOTION`].
	pub const TechnicalMotionDuration: BlockNumber = periods::TECHNICAL_MOTION;
	/// A committee proposal may use at most half a block.
	pub MaxCollectivesProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
	/// See [`periods::WHITELIST_DEFERRED_DISPATCH`].
	pub const WhitelistDeferredDispatchExpiration: BlockNumber = periods::WHITELIST_DEFERRED_DISPATCH;
}

impl pallet_collective::Config<TechnicalCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = TechnicalMotionDuration;
	type MaxProposals = ConstU32<64>;
	type MaxMembers = ConstU32<32>;
	/// Abstentions count as the prime's vote only once a majority voted: a prime alone never
	/// whitelists a call.
	type DefaultVote = pallet_collective::MoreThanMajorityThenPrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	/// Members are named by a root referendum (and at genesis).
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCollectivesProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	/// Members propose without a deposit.
	type Consideration = ();
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	/// Two thirds of the technical committee whitelist a call.
	type WhitelistOrigin = EitherOfDiverse<
		EnsureRoot<AccountId>,
		pallet_collective::EnsureProportionAtLeast<AccountId, TechnicalCollective, 2, 3>,
	>;
	type DispatchWhitelistedOrigin = EitherOf<EnsureRoot<AccountId>, WhitelistedCaller>;
	type Preimages = Preimage;
	type DeferredDispatchExpiration = WhitelistDeferredDispatchExpiration;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

// ---------------------------------------------------------------------------------------------
// Treasury, and the share of fees it receives.
// ---------------------------------------------------------------------------------------------

/// The treasury's pot: the account its pallet id derives.
pub type TreasuryAccount = TreasuryAccountId<Runtime>;

parameter_types! {
	/// The id the treasury's pot derives from.
	pub const TreasuryPalletId: PalletId = PalletId(*b"cmn/trsy");
	/// See [`periods::TREASURY_SPEND_PERIOD`].
	pub const SpendPeriod: BlockNumber = periods::TREASURY_SPEND_PERIOD;
	/// See [`periods::TREASURY_PAYOUT_PERIOD`].
	pub const PayoutPeriod: BlockNumber = periods::TREASURY_PAYOUT_PERIOD;
	/// Unspent funds are kept, not burnt, while the chain is young.
	pub const TreasuryBurn: Permill = Permill::from_percent(0);
	/// What root may spend: anything.
	pub const MaxBalance: Balance = Balance::MAX;
}

/// Who may spend from the treasury, and up to how much at once.
pub type TreasurySpender = EitherOf<EnsureRootWithSuccess<AccountId, MaxBalance>, TreasurerSpender>;

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EitherOf<EnsureRoot<AccountId>, Treasurer>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = TreasuryBurn;
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = TreasurySpender;
	/// Only the native token.
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = AccountIdLookup<AccountId, ()>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}

/// What becomes of transaction fees and tips: [`FEES_TO_TREASURY_PERCENT`] goes to the
/// treasury, the rest is burnt (no validator profits from filling blocks). For
/// `pallet_transaction_payment::FungibleAdapter<Balances, DealWithFees>`.
///
/// A credit smaller than the existential deposit cannot create the treasury's account and is
/// burnt instead; the pot exists from genesis on new chains.
pub struct DealWithFees;
impl OnUnbalanced<Credit<AccountId, Balances>> for DealWithFees {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = Credit<AccountId, Balances>>) {
		if let Some(mut fees) = fees_then_tips.next() {
			if let Some(tips) = fees_then_tips.next() {
				tips.merge_into(&mut fees);
			}
			// Dropping the second part burns it.
			let (to_treasury, _burnt) =
				fees.ration(FEES_TO_TREASURY_PERCENT, 100 - FEES_TO_TREASURY_PERCENT);
			ResolveTo::<TreasuryAccount, Balances>::on_unbalanced(to_treasury);
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Utility, multisig and proxy accounts.
// ---------------------------------------------------------------------------------------------

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A multisig operation holds one item of 88 bytes...
	pub const MultisigDepositBase: Balance = deposits::storage(1, 88);
	/// ... and 32 bytes per signatory.
	pub const MultisigDepositFactor: Balance = deposits::storage(0, 32);
}

impl pallet_multisig::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type DepositBase = MultisigDepositBase;
	type DepositFactor = MultisigDepositFactor;
	type MaxSignatories = ConstU32<100>;
	type WeightInfo = pallet_multisig::weights::SubstrateWeight<Runtime>;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// An account's proxy list holds one item...
	pub const ProxyDepositBase: Balance = deposits::storage(1, 8);
	/// ... and 33 bytes per proxy.
	pub const ProxyDepositFactor: Balance = deposits::storage(0, 33);
	/// An account's announcements hold one item...
	pub const AnnouncementDepositBase: Balance = deposits::storage(1, 8);
	/// ... and 66 bytes per announcement.
	pub const AnnouncementDepositFactor: Balance = deposits::storage(0, 66);
}

/// What a proxy may do for the account it acts for.
///
/// The encoding is part of the transaction format: never reorder or reuse an index.
#[derive(
	Copy,
	Clone,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Debug,
	MaxEncodedLen,
	TypeInfo,
	Default,
)]
pub enum ProxyType {
	/// Anything.
	#[default]
	#[codec(index = 0)]
	Any,
	/// Anything that neither moves the account's funds or assets nor stakes or sells them: no
	/// balance transfers, no sudo, no transfer of apps, datasets or workerpools, no presigned
	/// orders (they sell or buy in the account's name), no contributions (they stake), no
	/// joining or leaving a pool (where the account's compute node stakes), no change of a
	/// pool's scheduler, policy or of the key results are sealed to, no multisig,
	/// and of the proxy calls only managing its own proxies. Votes and governance deposits
	/// may still lock or hold funds, as on Polkadot.
	#[codec(index = 1)]
	NonTransfer,
	/// Referenda, voting, the technical committee, the whitelist, treasury and preimages.
	#[codec(index = 2)]
	Governance,
	/// What a compute node does for its worker account in the pool the account joined itself:
	/// attest its enclave, send heartbeats, contribute (staking on its vote) and reveal
	/// results, finalize and claim tasks, and submit Intel collateral. Not joining or leaving
	/// a pool: a stolen key could otherwise move the account into a pool whose owner takes its
	/// stakes.
	#[codec(index = 3)]
	ComputeNode,
	/// What a pool's scheduler does: open, assign, finalize, reopen and claim tasks, accept
	/// scheduling, manage the pool's workers and access, and match orders others signed. Not
	/// presigning or cancelling the pool's orders, nor changing its policy: those are the
	/// owner's.
	#[codec(index = 4)]
	Scheduler,
	/// What a dataset owner's key service does for the owner: release its encrypted datasets'
	/// keys, sealed to the enclaves assigned to tasks using them. Nothing else: a stolen key
	/// can send a key only where the chain's own checks let the owner send it.
	#[codec(index = 5)]
	KeyService,
}

/// Calls that neither move nor commit funds or assets (see [`ProxyType::NonTransfer`]).
/// Exhaustive on purpose: a new pallet's calls must be classified here.
fn is_non_transfer(c: &RuntimeCall) -> bool {
	use pallet_contribution::Call as Contrib;
	use pallet_marketplace::Call as Market;
	match c {
		RuntimeCall::Balances(..) | RuntimeCall::Sudo(..) | RuntimeCall::Multisig(..) => false,
		RuntimeCall::Marketplace(
			Market::transfer_app { .. }
			| Market::transfer_dataset { .. }
			| Market::transfer_workerpool { .. }
			| Market::set_scheduler { .. }
			| Market::set_result_encryption_key { .. }
			| Market::set_workerpool_policy { .. }
			| Market::presign_order { .. }
			// Which pool the account's compute node stakes in is the account's choice.
			| Market::join_workerpool { .. }
			| Market::leave_workerpool { .. },
		) => false,
		// A contribution stakes the account's funds on its vote.
		RuntimeCall::Contribution(
			Contrib::contribute { .. }
			| Contrib::contribute_and_finalize { .. }
			| Contrib::contribute_and_finalize_batch { .. },
		) => false,
		// Only managing its own proxies: no call made as another account, no announcement
		// that another delegate could carry out, no pure proxies.
		RuntimeCall::Proxy(
			pallet_proxy::Call::add_proxy { .. }
			| pallet_proxy::Call::remove_proxy { .. }
			| pallet_proxy::Call::remove_announcement { .. }
			| pallet_proxy::Call::reject_announcement { .. },
		) => true,
		RuntimeCall::Proxy(..) => false,
		RuntimeCall::System(..)
		| RuntimeCall::Timestamp(..)
		| RuntimeCall::Grandpa(..)
		// Session keys hold a small deposit, returned when purged: an operator's key sets them.
		| RuntimeCall::Session(..)
		| RuntimeCall::Validators(..)
		| RuntimeCall::Marketplace(..)
		| RuntimeCall::Contribution(..)
		| RuntimeCall::Attestation(..)
		| RuntimeCall::Utility(..)
		| RuntimeCall::Scheduler(..)
		| RuntimeCall::Preimage(..)
		| RuntimeCall::Treasury(..)
		| RuntimeCall::ConvictionVoting(..)
		| RuntimeCall::Referenda(..)
		| RuntimeCall::Whitelist(..)
		| RuntimeCall::TechnicalCommittee(..)
		// Only governance origins may call it.
		| RuntimeCall::ProtocolParameters(..) => true,
	}
}

/// A batch of calls (`utility.batch`, `batchAll`, `forceBatch`): the proxy's filter applies to
/// each call in it. Not `utility.asDerivative`, which would carry a service proxy's calls over
/// to the account's derivative accounts, nor the calls only Root may make.
fn is_batch(c: &RuntimeCall) -> bool {
	matches!(
		c,
		RuntimeCall::Utility(
			pallet_utility::Call::batch { .. }
				| pallet_utility::Call::batch_all { .. }
				| pallet_utility::Call::force_batch { .. }
		)
	)
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, c: &RuntimeCall) -> bool {
		use pallet_attestation::Call as Attest;
		use pallet_contribution::Call as Contrib;
		use pallet_marketplace::Call as Market;
		match self {
			ProxyType::Any => true,
			ProxyType::NonTransfer => is_non_transfer(c),
			ProxyType::Governance => matches!(
				c,
				RuntimeCall::Referenda(..)
					| RuntimeCall::ConvictionVoting(..)
					| RuntimeCall::TechnicalCommittee(..)
					| RuntimeCall::Whitelist(..)
					| RuntimeCall::Treasury(..)
					| RuntimeCall::Preimage(..)
					| RuntimeCall::Utility(..)
			),
			ProxyType::ComputeNode => {
				matches!(
					c,
					RuntimeCall::Attestation(
						Attest::register_quote { .. }
							| Attest::register_simulated { .. }
							| Attest::deregister { .. }
							| Attest::submit_root_ca_crl { .. }
							| Attest::submit_pck_crl { .. }
							| Attest::submit_tcb_info { .. }
							| Attest::submit_qe_identity { .. }
					) | RuntimeCall::Marketplace(Market::heartbeat { .. })
						| RuntimeCall::Contribution(
							Contrib::contribute { .. }
								| Contrib::reveal { .. } | Contrib::contribute_and_finalize { .. }
								| Contrib::contribute_and_finalize_batch { .. }
								| Contrib::finalize { .. }
								| Contrib::claim { .. }
						)
				) || is_batch(c)
			}
			ProxyType::Scheduler => {
				matches!(
					c,
					RuntimeCall::Contribution(
						Contrib::initialize { .. }
							| Contrib::initialize_batch { .. }
							| Contrib::open_and_assign { .. }
							| Contrib::assign { .. }
							| Contrib::finalize { .. }
							| Contrib::reopen { .. }
							| Contrib::claim { .. }
					) | RuntimeCall::Marketplace(
						Market::accept_scheduling { .. }
							| Market::set_workerpool_access { .. }
							| Market::allow_worker { .. }
							| Market::disallow_worker { .. }
							| Market::remove_worker { .. }
							| Market::match_orders { .. }
					)
				) || is_batch(c)
			}
			ProxyType::KeyService => {
				matches!(c, RuntimeCall::Contribution(Contrib::release_dataset_key { .. }))
					|| is_batch(c)
			}
		}
	}

	/// Only `Any` covers another type: the narrower types' calls overlap without one holding
	/// another (a compute node stakes on its votes, which `NonTransfer` may not).
	fn is_superset(&self, o: &Self) -> bool {
		self == o || *self == ProxyType::Any
	}
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = ConstU32<32>;
	type WeightInfo = pallet_proxy::weights::SubstrateWeight<Runtime>;
	type MaxPending = ConstU32<32>;
	type CallHasher = BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = System;
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::{fungible::Balanced, Currency};

	#[test]
	fn only_any_covers_other_proxy_types_and_none_but_any_transfers() {
		let narrower = [
			ProxyType::Governance,
			ProxyType::ComputeNode,
			ProxyType::Scheduler,
			ProxyType::KeyService,
		];
		for narrow in narrower {
			assert!(!ProxyType::NonTransfer.is_superset(&narrow));
			assert!(ProxyType::Any.is_superset(&narrow));
			assert!(narrow.is_superset(&narrow));
			assert!(!narrow.is_superset(&ProxyType::NonTransfer));
		}
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: AccountId::new([2; 32]).into(),
			value: CMN,
		});
		for proxy in [ProxyType::NonTransfer].into_iter().chain(narrower) {
			assert!(!proxy.filter(&transfer), "{proxy:?}");
		}
		assert!(ProxyType::Any.filter(&transfer));
	}

	#[test]
	fn no_narrow_proxy_stakes_sells_moves_pools_or_acts_through_another_delegate() {
		use pallet_marketplace::Call as Market;
		let real = AccountId::new([3; 32]);
		let inner = Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] }));
		let refused = [
			// Moving a worker into a pool whose owner would take its stakes.
			RuntimeCall::Marketplace(Market::join_workerpool {
				workerpool: 0,
				endpoint: Default::default(),
				capabilities: 0,
			}),
			RuntimeCall::Marketplace(Market::leave_workerpool {}),
			// Announcing a call another delegate of `real` could then make.
			RuntimeCall::Proxy(pallet_proxy::Call::announce {
				real: real.clone().into(),
				call_hash: Default::default(),
			}),
			RuntimeCall::Proxy(pallet_proxy::Call::proxy {
				real: real.clone().into(),
				force_proxy_type: None,
				call: inner,
			}),
			RuntimeCall::Proxy(pallet_proxy::Call::create_pure {
				proxy_type: ProxyType::Any,
				delay: 0,
				index: 0,
			}),
		];
		for proxy in [
			ProxyType::NonTransfer,
			ProxyType::ComputeNode,
			ProxyType::Scheduler,
			ProxyType::KeyService,
		] {
			for call in &refused {
				assert!(!proxy.filter(call), "{proxy:?} allows {call:?}");
			}
		}
		// Staking on a vote is a compute node's job, and nobody else's.
		let contribute = RuntimeCall::Contribution(pallet_contribution::Call::contribute {
			task: Default::default(),
			result_hash: Default::default(),
			result_seal: Default::default(),
			enclave_signature: None,
		});
		let settle_several =
			RuntimeCall::Contribution(pallet_contribution::Call::contribute_and_finalize_batch {
				deal: Default::default(),
				results: Default::default(),
			});
		for call in [contribute, settle_several] {
			assert!(ProxyType::ComputeNode.filter(&call), "{call:?}");
			assert!(!ProxyType::NonTransfer.filter(&call), "{call:?}");
			assert!(!ProxyType::Scheduler.filter(&call), "{call:?}");
			assert!(!ProxyType::KeyService.filter(&call), "{call:?}");
		}
	}

	#[test]
	fn a_key_service_proxy_releases_dataset_keys_and_does_nothing_else() {
		use pallet_contribution::Call as Contrib;
		use pallet_marketplace::Call as Market;
		let release = RuntimeCall::Contribution(Contrib::release_dataset_key {
			task: Default::default(),
			worker: AccountId::new([4; 32]),
			sealed: pallet_contribution::SealedDatasetKey {
				ephemeral: [1; 32],
				recipient: [2; 32],
				ciphertext: [3; 48],
			},
		});
		assert!(ProxyType::KeyService.filter(&release));
		assert!(!ProxyType::ComputeNode.filter(&release));
		assert!(!ProxyType::Scheduler.filter(&release));
		// What else an owner of datasets does is the owner's: selling them, changing or
		// removing them.
		for call in [
			RuntimeCall::Marketplace(Market::remove_dataset { dataset: 0 }),
			RuntimeCall::Marketplace(Market::transfer_dataset {
				dataset: 0,
				to: AccountId::new([4; 32]),
			}),
		] {
			assert!(!ProxyType::KeyService.filter(&call), "{call:?}");
		}
		// A batch is let through to its calls, each filtered in turn when it runs; acting as a
		// derivative account of the owner is not, for any service's proxy.
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: vec![release] });
		let derivative = RuntimeCall::Utility(pallet_utility::Call::as_derivative {
			index: 0,
			call: Box::new(batch.clone()),
		});
		for service in [ProxyType::ComputeNode, ProxyType::Scheduler, ProxyType::KeyService] {
			assert!(service.filter(&batch) && !service.filter(&derivative), "{service:?}");
		}
	}

	#[test]
	fn fees_and_tips_go_partly_to_the_treasury_and_the_rest_is_burnt() {
		sp_io::TestExternalities::default().execute_with(|| {
			let treasury = Treasury::account_id();
			let ed = crate::EXISTENTIAL_DEPOSIT;
			let _ = <Balances as Currency<AccountId>>::deposit_creating(&treasury, ed);
			let issuance = <Balances as Currency<AccountId>>::total_issuance();
			let fee = <Balances as Balanced<AccountId>>::issue(900 * crate::MILLI_CMN);
			let tip = <Balances as Balanced<AccountId>>::issue(100 * crate::MILLI_CMN);
			DealWithFees::on_unbalanceds([fee, tip].into_iter());
			let to_treasury = 1_000 * crate::MILLI_CMN * FEES_TO_TREASURY_PERCENT as Balance / 100;
			assert_eq!(
				<Balances as Currency<AccountId>>::free_balance(&treasury),
				ed + to_treasury
			);
			assert_eq!(<Balances as Currency<AccountId>>::total_issuance(), issuance + to_treasury);
		});
	}
}
