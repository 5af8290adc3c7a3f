//! Checks of the runtime's own choices: presets, token, transaction format.

use super::*;
use frame_support::genesis_builder_helper::build_state;
use genesis_config_presets::{get_preset, preset_names, DEV_ENDOWMENT, STAGING_RUNTIME_PRESET};
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::Sr25519Keyring;

/// Builds the genesis state of the named preset as a node does: the preset's patch over the
/// default genesis config.
fn genesis_state(preset: &str) -> sp_io::TestExternalities {
	let patch = get_preset(&PresetId::from(preset)).expect("the runtime names this preset");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default())
		.expect("the default genesis config serializes");
	sc_chain_spec::json_merge(
		&mut config,
		serde_json::from_slice(&patch).expect("the preset is JSON"),
	);
	let mut ext = sp_io::TestExternalities::default();
	ext.execute_with(|| build_state::<RuntimeGenesisConfig>(config.to_string().into_bytes()))
		.expect("the preset's genesis builds");
	ext
}

#[test]
fn runtime_lists_exactly_its_three_presets() {
	let names = preset_names();
	assert_eq!(
		names,
		vec![
			PresetId::from(DEV_RUNTIME_PRESET),
			PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
			PresetId::from(STAGING_RUNTIME_PRESET)
		]
	);
	assert!(get_preset(&PresetId::from("mainnet")).is_none());
}

#[test]
fn development_genesis_has_alice_alone_as_validator_and_sudo() {
	genesis_state(DEV_RUNTIME_PRESET).execute_with(|| {
		let aura: Vec<_> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		assert_eq!(aura, vec![Sr25519Keyring::Alice.public().into()]);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		let alice = vec![Sr25519Keyring::Alice.to_account_id()];
		assert_eq!(pallet_validators::Validators::<Runtime>::get().into_inner(), alice);
		assert_eq!(pallet_session::Validators::<Runtime>::get(), alice);
		assert_eq!(pallet_validators::SessionLength::<Runtime>::get(), MINUTES);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
	});
}

#[test]
fn local_testnet_genesis_has_three_validators() {
	genesis_state(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let aura: Vec<_> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		let expected: Vec<sp_consensus_aura::sr25519::AuthorityId> =
			[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
				.into_iter()
				.map(|key| key.public().into())
				.collect();
		assert_eq!(aura, expected);
		let grandpa = Grandpa::grandpa_authorities();
		assert_eq!(grandpa.len(), 3);
		assert!(grandpa.iter().all(|(_, weight)| *weight == 1));
		assert_eq!(pallet_session::Validators::<Runtime>::get().len(), 3);
	});
}

#[test]
fn staging_sessions_last_an_hour_and_its_validators_are_those_of_local_testnet() {
	let validators = |preset| {
		genesis_state(preset).execute_with(|| {
			(
				pallet_validators::Validators::<Runtime>::get().into_inner(),
				pallet_validators::SessionLength::<Runtime>::get(),
			)
		})
	};
	assert_eq!(validators(STAGING_RUNTIME_PRESET).1, HOURS);
	assert_eq!(validators(STAGING_RUNTIME_PRESET).0, validators(LOCAL_TESTNET_RUNTIME_PRESET).0);
}

#[test]
fn only_development_presets_have_sudo_or_trust_simulated_enclaves() {
	for (preset, sudo, simulated, with_data) in [
		(DEV_RUNTIME_PRESET, true, true, true),
		(LOCAL_TESTNET_RUNTIME_PRESET, true, true, false),
		(STAGING_RUNTIME_PRESET, false, false, false),
	] {
		genesis_state(preset).execute_with(|| {
			assert_eq!(pallet_sudo::Key::<Runtime>::get().is_some(), sudo, "{preset}: sudo");
			assert_eq!(
				pallet_attestation::SimulatedEvidenceAllowed::<Runtime>::get(),
				simulated,
				"{preset}: simulated evidence"
			);
			assert_eq!(
				pallet_attestation::SimulatedConfidentialAllowed::<Runtime>::get(),
				with_data,
				"{preset}: simulated evidence for encrypted datasets"
			);
		});
	}
}

#[test]
fn genesis_endows_every_well_known_account_and_only_creates_the_kitty_and_treasury_besides() {
	genesis_state(DEV_RUNTIME_PRESET).execute_with(|| {
		let accounts: Vec<_> = Sr25519Keyring::well_known().collect();
		for key in &accounts {
			assert_eq!(Balances::free_balance(key.to_account_id()), DEV_ENDOWMENT, "{key:?}");
		}
		assert_eq!(Balances::free_balance(Escrow::kitty_account()), EXISTENTIAL_DEPOSIT);
		// The treasury's genesis gives its pot the existential deposit.
		assert_eq!(Balances::free_balance(Treasury::account_id()), EXISTENTIAL_DEPOSIT);
		assert_eq!(
			Balances::total_issuance(),
			DEV_ENDOWMENT * accounts.len() as Balance + 2 * EXISTENTIAL_DEPOSIT
		);
	});
}

#[test]
fn genesis_has_the_reference_categories() {
	genesis_state(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let categories: Vec<(Vec<u8>, u32)> = (0..5)
			.map(|id| {
				let category = pallet_marketplace::Categories::<Runtime>::get(id).expect("exists");
				(category.name.to_vec(), category.reference_time_secs)
			})
			.collect();
		assert_eq!(
			categories,
			vec![
				(b"XS".to_vec(), 300),
				(b"S".to_vec(), 1_200),
				(b"M".to_vec(), 3_600),
				(b"L".to_vec(), 10_800),
				(b"XL".to_vec(), 36_000),
			]
		);
		assert!(pallet_marketplace::Categories::<Runtime>::get(5).is_none());
	});
}

#[test]
fn token_constants_agree() {
	assert_eq!(CMN, 10u128.pow(TOKEN_DECIMALS as u32));
	assert_eq!(<configs::SS58Prefix as frame_support::traits::Get<u16>>::get(), SS58_PREFIX);
	assert!(EXISTENTIAL_DEPOSIT > 0);
}

#[test]
fn a_transfer_costs_a_fee_well_below_one_cmn() {
	genesis_state(DEV_RUNTIME_PRESET).execute_with(|| {
		let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: CMN,
		});
		// A signed transfer is about 150 bytes long.
		let info = TransactionPayment::query_call_info(call, 150);
		assert!(info.partial_fee > 0);
		assert!(info.partial_fee < CMN / 100, "fee {}", info.partial_fee);
	});
}

#[test]
fn every_pallet_passes_its_integrity_test() {
	use frame_support::traits::IntegrityTest;
	genesis_state(DEV_RUNTIME_PRESET).execute_with(AllPalletsWithSystem::integrity_test);
}

#[test]
fn sweeping_an_expired_task_costs_a_small_share_of_a_block() {
	use frame_support::traits::Get;
	use pallet_contribution::WeightInfo;
	let per_task = <Runtime as pallet_contribution::Config>::WeightInfo::sweep_task(
		<Runtime as pallet_contribution::Config>::MaxContributors::get(),
	);
	let block = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	// An idle block can fail at least 20 of the largest tasks.
	assert!(per_task.ref_time() * 20 < block.ref_time(), "{per_task:?} against {block:?}");
}

#[test]
fn a_payout_below_the_real_existential_deposit_goes_to_the_kitty() {
	use pallet_escrow::{Escrow as _, Purpose};
	genesis_state(DEV_RUNTIME_PRESET).execute_with(|| {
		let payer = Sr25519Keyring::Alice.to_account_id();
		let nobody = AccountId::from([9; 32]);
		let subject = sp_core::H256::repeat_byte(1);
		assert!(Escrow::lock(&payer, Purpose::DealPayment, CMN, subject).is_ok());
		assert!(Escrow::pay(
			&payer,
			Purpose::DealPayment,
			&nobody,
			EXISTENTIAL_DEPOSIT - 1,
			subject
		)
		.is_ok());
		assert_eq!(Balances::free_balance(&nobody), 0);
		assert_eq!(pallet_escrow::Kitty::<Runtime>::get(), EXISTENTIAL_DEPOSIT - 1);
		// The existential deposit itself creates the account.
		assert!(Escrow::pay(&payer, Purpose::DealPayment, &nobody, EXISTENTIAL_DEPOSIT, subject)
			.is_ok());
		assert_eq!(Balances::free_balance(&nobody), EXISTENTIAL_DEPOSIT);
		assert!(Escrow::do_try_state().is_ok());
	});
}

#[test]
fn a_deal_of_the_most_tasks_is_swept_within_a_few_blocks() {
	use pallet_contribution::WeightInfo;
	// The worst deal at expiry, at the greatest volume governance may set: every task opened and unsettled, each failed on its own. Its
	// delay to the deals expiring after it is bounded by a few blocks' weight.
	let per_task = <Runtime as pallet_contribution::Config>::WeightInfo::sweep_task(0);
	let greatest =
		crate::parameters::ProtocolParameter::extremes()
			.into_iter()
			.find_map(|(_, greatest)| match greatest {
				crate::parameters::ProtocolParameter::MaxDealVolume(volume) => Some(volume),
				_ => None,
			});
	let tasks = greatest.expect("MaxDealVolume is a parameter") as u64;
	let block = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	assert!(per_task.ref_time() * tasks < block.ref_time() * 4, "{per_task:?} × {tasks}");
}

/// Governance without sudo: referenda on their tracks, each origin good for its own calls only.
mod governance {
	use super::*;
	use crate::governance::{pallet_custom_origins::Origin as Track, periods};
	use codec::Encode;
	use frame_support::traits::{Hooks, StorePreimage};
	use pallet_attestation::types::{TcbPolicy, TcbStatus};
	use pallet_conviction_voting::{AccountVote, Conviction, Vote};
	use sp_runtime::traits::Dispatchable;

	/// A TCB policy other than the default.
	fn strict_policy() -> TcbPolicy {
		TcbPolicy {
			accepted: vec![TcbStatus::UpToDate].try_into().unwrap(),
			out_of_date_grace: 0,
			allowed_advisories: None,
			min_evaluation_data_number: Some(17),
		}
	}

	fn set_policy() -> RuntimeCall {
		RuntimeCall::Attestation(pallet_attestation::Call::set_tcb_policy {
			policy: strict_policy(),
		})
	}

	/// Advances the chain to block `to`, running the scheduler that referenda decide and enact
	/// through, and the session pallet that rotates validators; the active validators author
	/// the blocks in turn, as Aura has them do.
	fn run_to(to: BlockNumber) {
		use pallet_authorship::EventHandler;
		while System::block_number() < to {
			let next = System::block_number() + 1;
			System::set_block_number(next);
			let active = pallet_session::Validators::<Runtime>::get();
			Validators::note_author(active[next as usize % active.len()].clone());
			Scheduler::on_initialize(next);
			Session::on_initialize(next);
		}
	}

	/// Opens a referendum on `track` for `call`, places its decision deposit and has nine tenths
	/// of every well-known account's funds vote aye.
	fn pass_referendum(track: Track, call: RuntimeCall) {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let proposal = <Preimage as StorePreimage>::bound(call).unwrap();
		let index = pallet_referenda::ReferendumCount::<Runtime>::get();
		assert!(Referenda::submit(
			RuntimeOrigin::signed(alice.clone()),
			Box::new(OriginCaller::Origins(track)),
			proposal,
			frame_support::traits::schedule::DispatchTime::After(0),
		)
		.is_ok());
		assert!(Referenda::place_decision_deposit(RuntimeOrigin::signed(alice), index).is_ok());
		for key in Sr25519Keyring::well_known() {
			let vote = AccountVote::Standard {
				vote: Vote { aye: true, conviction: Conviction::Locked1x },
				balance: DEV_ENDOWMENT / 10 * 9,
			};
			let voter = RuntimeOrigin::signed(key.to_account_id());
			assert!(ConvictionVoting::vote(voter, index, vote).is_ok());
		}
	}

	#[test]
	fn each_governance_origin_passes_only_its_own_pallets_checks() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			let as_track = |track: Track| RuntimeOrigin::from(OriginCaller::Origins(track));
			assert!(set_policy().dispatch(as_track(Track::ProtocolParameters)).is_err());
			assert!(set_policy().dispatch(as_track(Track::Treasurer)).is_err());
			assert!(set_policy().dispatch(as_track(Track::TeePolicy)).is_ok());
			assert_eq!(pallet_attestation::Policy::<Runtime>::get(), strict_policy());
			let category = || {
				RuntimeCall::Marketplace(pallet_marketplace::Call::create_category {
					name: b"XXL".to_vec().try_into().unwrap(),
					reference_time_secs: 72_000,
				})
			};
			assert!(category().dispatch(as_track(Track::TeePolicy)).is_err());
			assert!(category().dispatch(as_track(Track::ProtocolParameters)).is_ok());
		});
	}

	#[test]
	fn a_referendum_on_the_tee_policy_track_sets_the_policy_on_a_chain_without_sudo() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
			pass_referendum(Track::TeePolicy, set_policy());
			let track = periods::TEE_POLICY;
			// Still preparing: nothing decided.
			run_to(track.prepare - 1);
			assert_ne!(pallet_attestation::Policy::<Runtime>::get(), strict_policy());
			// Deciding, confirming, then enacted after the least enactment period.
			run_to(track.prepare + track.confirm + track.min_enactment + 10);
			assert_eq!(pallet_attestation::Policy::<Runtime>::get(), strict_policy());
			assert!(matches!(
				pallet_referenda::ReferendumInfoFor::<Runtime>::get(0),
				Some(pallet_referenda::ReferendumInfo::Approved(..))
			));
		});
	}

	#[test]
	fn a_referendum_on_a_chain_with_short_periods_sets_a_parameter_within_minutes() {
		use crate::parameters::ProtocolParameter;
		use frame_support::traits::Get;
		genesis_state(DEV_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			let retention = || <Runtime as pallet_contribution::Config>::TaskRetention::get();
			assert_eq!(retention(), 7 * DAYS);
			let call = RuntimeCall::ProtocolParameters(crate::parameters::Call::set_parameter {
				parameter: ProtocolParameter::TaskRetention(DAYS),
			});
			pass_referendum(Track::ProtocolParameters, call);
			let track = periods::PROTOCOL_PARAMETERS.short();
			run_to(1 + track.prepare + track.confirm + track.min_enactment + 2);
			assert_eq!(retention(), DAYS);
			// Ten minutes of six-second blocks, where the real track takes more than a day.
			assert!(System::block_number() <= 100, "at #{}", System::block_number());
		});
	}

	/// Dave's session keys, from his development seed, and their proof of ownership for his
	/// account, as `author_rotateKeysWithOwner` returns them.
	fn dave_session_keys() -> (opaque::SessionKeys, Vec<u8>) {
		use sp_core::{crypto::Pair, proof_of_possession::ProofOfPossessionGenerator};
		let owner = Sr25519Keyring::Dave.to_account_id().encode();
		let mut aura = sp_core::sr25519::Pair::from_string("//Dave", None).unwrap();
		let mut grandpa = sp_core::ed25519::Pair::from_string("//Dave", None).unwrap();
		let keys =
			opaque::SessionKeys { aura: aura.public().into(), grandpa: grandpa.public().into() };
		let proof = (
			aura.generate_proof_of_possession(&owner),
			grandpa.generate_proof_of_possession(&owner),
		)
			.encode();
		(keys, proof)
	}

	#[test]
	fn a_referendum_on_the_validator_set_track_adds_a_validator_that_authors_two_sessions_later() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			let dave = Sr25519Keyring::Dave.to_account_id();
			let (keys, proof) = dave_session_keys();
			assert!(Session::set_keys(RuntimeOrigin::signed(dave.clone()), keys, proof).is_ok());
			let add = RuntimeCall::Validators(pallet_validators::Call::add_validator {
				validator: dave.clone(),
			});
			// Not by a track of another purpose.
			let as_track = |track: Track| RuntimeOrigin::from(OriginCaller::Origins(track));
			assert!(add.clone().dispatch(as_track(Track::ProtocolParameters)).is_err());
			pass_referendum(Track::ValidatorSet, add);
			let track = periods::VALIDATOR_SET;
			let enacted = track.prepare + track.confirm + track.min_enactment + 10;
			run_to(enacted);
			assert!(pallet_validators::Validators::<Runtime>::get().contains(&dave));
			let dave_aura: sp_consensus_aura::sr25519::AuthorityId =
				Sr25519Keyring::Dave.public().into();
			assert!(!pallet_aura::Authorities::<Runtime>::get().contains(&dave_aura));
			// Two session boundaries later Dave is one of Aura's authorities.
			run_to(enacted + 2 * HOURS);
			assert!(pallet_session::Validators::<Runtime>::get().contains(&dave));
			assert!(pallet_aura::Authorities::<Runtime>::get().contains(&dave_aura));
			// Nobody was absent on the way.
			assert!(!System::events().iter().any(|record| matches!(
				record.event,
				RuntimeEvent::Validators(pallet_validators::Event::ValidatorAbsent { .. })
			)));
		});
	}
}

/// Protocol parameters: set by their own track, only within their bounds, applied to what is
/// made after the change and never to what exists.
mod parameters {
	use super::*;
	use crate::{
		governance::pallet_custom_origins::Origin as Track,
		parameters::{Error, ParameterValues, ProtocolParameter as P, Values},
	};
	use frame_support::{assert_noop, assert_ok, traits::Get};
	use sp_runtime::{DispatchError, Percent};

	fn set(origin: RuntimeOrigin, parameter: P) -> sp_runtime::DispatchResult {
		ProtocolParameters::set_parameter(origin, parameter)
	}

	fn track(track: Track) -> RuntimeOrigin {
		RuntimeOrigin::from(OriginCaller::Origins(track))
	}

	#[test]
	fn a_chain_starts_with_the_documented_defaults() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			assert!(!Values::<Runtime>::exists());
			let defaults = ParameterValues::default();
			assert_eq!(defaults.pool_owner_stake_ratio, Percent::from_percent(30));
			assert_eq!(defaults.max_deal_volume, 1_000);
			assert_eq!(defaults.deposit_per_item, CMN / 10);
			assert_eq!(defaults.task_retention, 7 * DAYS);
			assert_eq!(defaults.worker_liveness_window, 100);
			assert_eq!(defaults.attestation_lifetime, 24 * 60 * 60 * 1000);
			assert_eq!(defaults.max_evidence_age, 100);
			assert_eq!(<Runtime as pallet_marketplace::Config>::DepositPerItem::get(), CMN / 10);
			assert_eq!(<Runtime as pallet_contribution::Config>::TaskRetention::get(), 7 * DAYS);
		});
	}

	#[test]
	fn every_parameter_is_accepted_at_its_bounds_and_refused_beyond_them() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			for (least, greatest) in P::extremes() {
				for value in [least, greatest] {
					assert_ok!(set(RuntimeOrigin::root(), value));
					let mut expected = Values::<Runtime>::get();
					value.apply_to(&mut expected);
					assert_eq!(Values::<Runtime>::get(), expected);
				}
			}
			let below = [
				P::PoolOwnerStakeRatio(Percent::from_percent(9)),
				P::MaxDealVolume(0),
				P::DepositPerItem(CMN / 1_000 - 1),
				P::DepositPerByte(CMN / 1_000_000 - 1),
				P::MaxOrderLifetime(DAYS - 1),
				P::TaskRetention(HOURS - 1),
				P::WorkerLivenessWindow(3 * MINUTES - 1),
				P::AttestationLifetime(2 * 60 * 60 * 1000 - 1),
				P::MaxEvidenceAge(9),
			];
			let above = [
				P::MaxDealVolume(1_001),
				P::DepositPerItem(100 * CMN + 1),
				P::DepositPerByte(CMN / 100 + 1),
				P::MaxOrderLifetime(90 * DAYS + 1),
				P::TaskRetention(30 * DAYS + 1),
				P::WorkerLivenessWindow(DAYS + 1),
				P::AttestationLifetime(7 * 24 * 60 * 60 * 1000 + 1),
				P::MaxEvidenceAge(HOURS + 1),
			];
			for value in below {
				assert_noop!(set(RuntimeOrigin::root(), value), Error::<Runtime>::BelowMinimum);
			}
			for value in above {
				assert_noop!(set(RuntimeOrigin::root(), value), Error::<Runtime>::AboveMaximum);
			}
			assert!(ProtocolParameters::do_try_state().is_ok());
		});
	}

	#[test]
	fn each_parameter_is_set_by_its_own_track_only() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			let market = P::TaskRetention(DAYS);
			let tee = P::AttestationLifetime(12 * 60 * 60 * 1000);
			let alice = RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id());
			for (value, wrong) in [
				(market, vec![track(Track::TeePolicy), track(Track::Treasurer), alice.clone()]),
				(tee, vec![track(Track::ProtocolParameters), track(Track::ValidatorSet), alice]),
			] {
				for origin in wrong {
					assert_noop!(set(origin, value), DispatchError::BadOrigin);
				}
			}
			assert_ok!(set(track(Track::ProtocolParameters), market));
			assert_ok!(set(track(Track::TeePolicy), tee));
			assert_eq!(<Runtime as pallet_contribution::Config>::TaskRetention::get(), DAYS);
			assert_eq!(
				<Runtime as pallet_attestation::Config>::AttestationLifetime::get(),
				12 * 60 * 60 * 1000
			);
			System::assert_last_event(RuntimeEvent::ProtocolParameters(
				crate::parameters::Event::ParameterSet { parameter: tee },
			));
		});
	}

	#[test]
	fn a_new_deposit_applies_to_new_items_and_an_old_item_returns_what_it_held() {
		genesis_state(STAGING_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			let bob = Sr25519Keyring::Bob.to_account_id();
			let create_app = |name: &[u8]| {
				Marketplace::create_app(
					RuntimeOrigin::signed(bob.clone()),
					name.to_vec().try_into().unwrap(),
					b"https://apps.example/app.wasm".to_vec().try_into().unwrap(),
					[7; 32].into(),
					Default::default(),
					Default::default(),
				)
			};
			let before = Balances::free_balance(&bob);
			assert_ok!(create_app(b"old"));
			let old_deposit = before - Balances::free_balance(&bob);
			assert_ok!(set(RuntimeOrigin::root(), P::DepositPerItem(10 * CMN)));
			let between = Balances::free_balance(&bob);
			assert_ok!(create_app(b"new"));
			let new_deposit = between - Balances::free_balance(&bob);
			assert_eq!(new_deposit - old_deposit, 10 * CMN - CMN / 10);
			assert_ok!(Marketplace::remove_app(RuntimeOrigin::signed(bob.clone()), 0));
			assert_ok!(Marketplace::remove_app(RuntimeOrigin::signed(bob.clone()), 1));
			assert_eq!(Balances::free_balance(&bob), before);
			assert!(Marketplace::do_try_state().is_ok());
			assert!(Escrow::do_try_state().is_ok());
		});
	}

	#[test]
	fn short_periods_are_set_on_development_chains_only_and_keep_every_track_valid() {
		use crate::governance::{periods, track_ids, TracksInfo};
		use pallet_referenda::TracksInfo as _;
		for (preset, short) in [
			(DEV_RUNTIME_PRESET, true),
			(LOCAL_TESTNET_RUNTIME_PRESET, true),
			(STAGING_RUNTIME_PRESET, false),
		] {
			genesis_state(preset).execute_with(|| {
				assert_eq!(
					crate::governance::pallet_custom_origins::ShortPeriods::<Runtime>::get(),
					short
				);
				TracksInfo::check_integrity().unwrap();
				let root = TracksInfo::info(track_ids::ROOT).unwrap();
				let expected = if short { periods::ROOT.short() } else { periods::ROOT };
				assert_eq!(root.prepare_period, expected.prepare);
				assert_eq!(root.decision_period, expected.decision);
				assert_eq!(root.confirm_period, expected.confirm);
				assert_eq!(root.min_enactment_period, expected.min_enactment);
				if short {
					assert_eq!(
						(root.prepare_period, root.decision_period, root.confirm_period),
						(1, 84, 12)
					);
				}
			});
		}
	}
}

/// Every type in the runtime's metadata is one that clients built from metadata alone decode:
/// nothing from `primitive_types` but the hashes they know by name. @polkadot/api resolves those
/// paths by their last segment and has no `U512`, so a task whose tally held one could not be
/// shown at all ("Unable to resolve type U512"); the tally now stores `StoredWeight` limbs.
#[test]
fn every_type_in_the_metadata_is_one_standard_clients_decode() {
	use codec::Decode;
	use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};

	const KNOWN: [&str; 3] =
		["primitive_types::H160", "primitive_types::H256", "primitive_types::H512"];
	// Some pallets read storage for their constants' metadata.
	let bytes = sp_io::TestExternalities::default()
		.execute_with(|| Runtime::metadata_at_version(15))
		.expect("the runtime offers metadata v15");
	let RuntimeMetadataPrefixed(_, RuntimeMetadata::V15(metadata)) =
		RuntimeMetadataPrefixed::decode(&mut &bytes[..]).expect("its metadata decodes")
	else {
		panic!("metadata_at_version(15) returned another version")
	};
	let paths: Vec<String> =
		metadata.types.types.iter().map(|ty| ty.ty.path.segments.join("::")).collect();
	let unknown: Vec<&String> = paths
		.iter()
		.filter(|path| path.starts_with("primitive_types::") && !KNOWN.contains(&path.as_str()))
		.collect();
	assert!(unknown.is_empty(), "types clients cannot resolve by name: {unknown:?}");
	assert!(
		paths.iter().any(|path| path.ends_with("::StoredWeight")),
		"the tally's weights are in the metadata under their own name"
	);
}
