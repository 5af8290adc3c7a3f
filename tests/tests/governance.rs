//! A live `local` network governed without sudo. Its genesis sets short referendum periods (the
//! real tracks and curves, decided in minutes), so every change here passes a referendum:
//!
//! - Dave's operator registers fresh session keys; a referendum on the `validator_set` track
//!   adds him, and he authors once the session changes.
//! - Meanwhile a referendum on the root track authorizes a runtime upgrade: the upgrade
//!   rehearsal, this runtime one `spec_version` higher with one more migration. Its code is
//!   applied; blocks go on being produced and finalized across the upgrade, the new version is
//!   live, and its migration ran exactly once.
//! - Charlie's node goes down: the chain reports him absent.
//! - A referendum removes Charlie and Bob: Alice and Dave go on finalizing, and Bob, whose node
//!   still runs, authors no more.

use std::time::Duration;

use codec::{Decode, Encode};
use commons_e2e::{
	chain::wait_for_event, cli_binary, compute_binary, exclusive_network, start_validators,
	wait_for, TestDir, TestNode,
};
use commons_runtime::{
	genesis_config_presets::DEV_ENDOWMENT, governance::pallet_custom_origins::Origin as Track,
	opaque::SessionKeys, upgrade_rehearsal, AccountId, BlockNumber, OriginCaller, Runtime,
	RuntimeCall, RuntimeEvent,
};
use frame_support::traits::{schedule::DispatchTime, Bounded};
use jsonrpsee::rpc_params;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave};
use sp_runtime::traits::{BlakeTwo256, Hash as HashT};

/// Ten-block sessions: a change takes effect within two of them, with margin for slow blocks.
const TWO_SESSIONS: Duration = Duration::from_secs(240);
/// A referendum on short periods: about 25 blocks on the root track, with margin.
const REFERENDUM: Duration = Duration::from_secs(360);

/// The validators of the session at `node`'s best block.
async fn active_set(node: &TestNode) -> Result<Vec<AccountId>, String> {
	let key = pallet_session::Validators::<Runtime>::hashed_key();
	Ok(node.storage::<Vec<AccountId>>(&key, None).await?.unwrap_or_default())
}

/// Who authored a block in the session of block `at`, up to `at`.
async fn authors_at(node: &TestNode, at: BlockNumber) -> Result<Vec<AccountId>, String> {
	let hash = node.block_hash(at).await?;
	let key = pallet_validators::AuthorsThisSession::<Runtime>::hashed_key();
	Ok(node.storage::<Vec<AccountId>>(&key, Some(hash)).await?.unwrap_or_default())
}

/// The value of the storage item at `key` in block `number`, or its default.
async fn stored_at<T: Decode + Default>(
	node: &TestNode,
	key: &[u8],
	number: BlockNumber,
) -> Result<T, String> {
	let hash = node.block_hash(number).await?;
	Ok(node.storage::<T>(key, Some(hash)).await?.unwrap_or_default())
}

/// The spec version of the runtime `node` runs at its best block.
async fn spec_version(node: &TestNode) -> u64 {
	let version: serde_json::Value =
		node.rpc("state_getRuntimeVersion", rpc_params![]).await.unwrap();
	version["specVersion"].as_u64().expect("a runtime version has a spec version")
}

/// Waits until `node`'s active set is `expected`.
async fn wait_active_set(node: &TestNode, expected: &[AccountId]) {
	wait_for("the session to change the active set", TWO_SESSIONS, || async {
		let active = active_set(node).await?;
		(active == expected).then_some(()).ok_or(format!("active set {active:?}"))
	})
	.await;
}

/// Waits until every node in `nodes` has finalized block `number`.
async fn wait_finalized(nodes: &[&TestNode], number: BlockNumber) {
	for node in nodes {
		wait_for(&format!("{} to finalize #{number}", node.name), TWO_SESSIONS, || async {
			let finalized = node.finalized_number().await?;
			(finalized >= number).then_some(()).ok_or(format!("finalized #{finalized}"))
		})
		.await;
	}
}

/// Submitting a referendum for `proposal`, to be dispatched with `origin`, and placing its
/// decision deposit; the referendum will have index `index`.
fn open_referendum(
	index: u32,
	origin: OriginCaller,
	proposal: Bounded<RuntimeCall, BlakeTwo256>,
) -> [RuntimeCall; 2] {
	[
		RuntimeCall::Referenda(pallet_referenda::Call::submit {
			proposal_origin: Box::new(origin),
			proposal,
			enactment_moment: DispatchTime::After(0),
		}),
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index }),
	]
}

/// `call`, small enough to be a referendum's proposal itself.
fn inline(call: RuntimeCall) -> Bounded<RuntimeCall, BlakeTwo256> {
	Bounded::Inline(call.encode().try_into().expect("the call fits inline"))
}

/// Every well-known account votes aye on the referenda `indices` with four fifths of its
/// endowment: four fifths of the issuance supports them, more than any track needs.
async fn everyone_votes_aye(node: &TestNode, indices: &[u32]) {
	let votes = Sr25519Keyring::well_known().map(|key| {
		let calls = indices
			.iter()
			.map(|&poll_index| {
				RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
					poll_index,
					vote: pallet_conviction_voting::AccountVote::Standard {
						vote: pallet_conviction_voting::Vote {
							aye: true,
							conviction: pallet_conviction_voting::Conviction::Locked1x,
						},
						balance: DEV_ENDOWMENT / 5 * 4,
					},
				})
			})
			.collect();
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
		async move { node.submit_and_wait(batch, &key.pair()).await }
	});
	for result in futures::future::join_all(votes).await {
		result.expect("a vote is included");
	}
}

#[tokio::test]
async fn validators_join_the_runtime_upgrades_and_validators_leave_by_referendum() {
	let _network = exclusive_network();
	let dir = TestDir::new("governance");
	// Dave's node runs from the start, with the role of a validator, but Dave is not one.
	let mut nodes = start_validators(
		&dir,
		"local",
		&[("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie"), ("dave", "--dave")],
		&[],
	)
	.await;
	let [alice, bob, charlie, dave] = [Alice, Bob, Charlie, Dave].map(|key| key.to_account_id());
	let [alice_node, bob_node, charlie_node, dave_node] = &mut nodes[..] else {
		unreachable!("four nodes were started")
	};
	let node = &*alice_node;
	assert_eq!(active_set(node).await.unwrap(), vec![alice.clone(), bob.clone(), charlie.clone()]);

	// Dave's operator has his node make fresh session keys, with their proof of ownership for
	// his account, and registers them.
	let generated: serde_json::Value = dave_node
		.rpc(
			"author_rotateKeysWithOwner",
			rpc_params![sp_core::bytes::to_hex(dave.as_ref(), false)],
		)
		.await
		.unwrap();
	let hex = |field: &str| {
		sp_core::bytes::from_hex(generated[field].as_str().expect("a hex field")).unwrap()
	};
	let keys = SessionKeys::decode(&mut &hex("keys")[..]).unwrap();
	let set_keys =
		RuntimeCall::Session(pallet_session::Call::set_keys { keys, proof: hex("proof") });
	node.submit_and_wait(set_keys, &Dave.pair()).await.unwrap();

	// Two referenda at once: the root track authorizes the upgrade (its call noted as a
	// preimage, as Polkadot-JS Apps does), the validator-set track adds Dave.
	let code = upgrade_rehearsal::WASM_BINARY.expect("the upgrade rehearsal is built");
	let code_hash = <BlakeTwo256 as HashT>::hash(code);
	let authorize = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
	let add_dave =
		RuntimeCall::Validators(pallet_validators::Call::add_validator { validator: dave.clone() });
	let first = stored_at::<u32>(
		node,
		&pallet_referenda::ReferendumCount::<Runtime>::hashed_key(),
		node.best_number().await.unwrap(),
	)
	.await
	.unwrap();
	let root: OriginCaller = frame_system::RawOrigin::Root.into();
	let preimage = Bounded::Lookup {
		hash: <BlakeTwo256 as HashT>::hash(&authorize.encode()),
		len: authorize.encode().len() as u32,
	};
	let mut calls = vec![RuntimeCall::Preimage(pallet_preimage::Call::note_preimage {
		bytes: authorize.encode(),
	})];
	calls.extend(open_referendum(first, root, preimage));
	calls.extend(open_referendum(first + 1, Track::ValidatorSet.into(), inline(add_dave)));
	let opened_at = node.best_number().await.unwrap();
	node.submit_and_wait(
		RuntimeCall::Utility(pallet_utility::Call::batch_all { calls }),
		&Alice.pair(),
	)
	.await
	.unwrap();
	everyone_votes_aye(node, &[first, first + 1]).await;

	let (added_at, ()) =
		wait_for_event(node, "the referendum to add Dave", opened_at, REFERENDUM, |event| {
			match event {
				RuntimeEvent::Validators(pallet_validators::Event::ValidatorAdded {
					validator,
				}) if validator == dave => Some(()),
				_ => None,
			}
		})
		.await;
	let (authorized_at, ()) = wait_for_event(
		node,
		"the referendum to authorize the upgrade",
		opened_at,
		REFERENDUM,
		|event| match event {
			RuntimeEvent::System(frame_system::Event::UpgradeAuthorized {
				code_hash: authorized,
				check_version: true,
			}) if authorized == code_hash => Some(()),
			_ => None,
		},
	)
	.await;
	println!(
		"referenda opened at #{opened_at}: Dave added at #{added_at}, upgrade authorized at \
		 #{authorized_at}"
	);

	// Anyone may now apply the authorized code, free of charge.
	let version_before = spec_version(node).await;
	let apply =
		RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code: code.to_vec() });
	let events = node.submit_and_wait(apply, &Bob.pair()).await.unwrap();
	assert!(
		events.iter().any(|event| matches!(
			event,
			RuntimeEvent::System(frame_system::Event::CodeUpdated { .. })
		)),
		"{events:?}"
	);
	let (upgraded_at, ()) =
		wait_for_event(node, "the code update", authorized_at, TWO_SESSIONS, |event| match event {
			RuntimeEvent::System(frame_system::Event::CodeUpdated { .. }) => Some(()),
			_ => None,
		})
		.await;
	let running = [&*alice_node, &*bob_node, &*charlie_node, &*dave_node];
	wait_finalized(&running, upgraded_at + 6).await;
	assert_eq!(spec_version(node).await, version_before + 1);
	let rehearsals = upgrade_rehearsal::Rehearsals::hashed_key();
	assert_eq!(stored_at::<u32>(node, &rehearsals, upgraded_at).await.unwrap(), 0);
	assert_eq!(stored_at::<u32>(node, &rehearsals, upgraded_at + 1).await.unwrap(), 1);
	assert_eq!(stored_at::<u32>(node, &rehearsals, upgraded_at + 6).await.unwrap(), 1, "ran again");
	// A compute node built for the runtime before the upgrade refuses to work on the new one
	// (its native task ids and hashes may differ now); the client library keeps signing for it,
	// since the upgrade kept the calls' encoding (the referendum below is signed by this build).
	let stale = std::process::Command::new(compute_binary())
		.args(["--rpc", &node.rpc_url(), "--key", "//Eve", "--work-dir"])
		.arg(dir.path().join("stale-compute"))
		.output()
		.expect("commons-compute runs");
	let said = String::from_utf8_lossy(&stale.stderr);
	assert!(!stale.status.success(), "a stale compute node started: {said}");
	assert!(said.contains("but this program was built with"), "{said}");
	// The command line built for it still reads, and says the node runs a newer release.
	let reading = std::process::Command::new(cli_binary())
		.args(["--rpc", &node.rpc_url(), "categories"])
		.output()
		.expect("commons runs");
	let warned = String::from_utf8_lossy(&reading.stderr);
	assert!(reading.status.success(), "{warned}");
	for said in [
		format!("the node runs runtime commons {} ", version_before + 1),
		format!("newer than the runtime commons {version_before} "),
	] {
		assert!(warned.contains(&said), "{said:?} not in {warned}");
	}
	// Downtime: the slots around the upgrade in which no block was made.
	let now = pallet_timestamp::Now::<Runtime>::hashed_key();
	let mut missed = 0;
	for number in upgraded_at - 2..upgraded_at + 6 {
		let [before, after] = [number, number + 1];
		let gap = stored_at::<u64>(node, &now, after).await.unwrap()
			- stored_at::<u64>(node, &now, before).await.unwrap();
		// Authors stamp blocks with their clocks, a little after their slot began.
		let slot = commons_runtime::MILLISECS_PER_BLOCK;
		missed += ((gap + slot / 2) / slot).saturating_sub(1);
	}
	println!(
		"runtime upgraded at #{upgraded_at} ({} blocks after the referenda opened): {missed} \
		 slots without a block from #{} to #{}",
		upgraded_at - opened_at,
		upgraded_at - 2,
		upgraded_at + 6
	);
	// How many slots go without a block is a measure of this machine (every node compiles the
	// new runtime when it first runs it), not a pass mark: the waits above are the test.

	// Dave authors within two sessions of being added.
	let first_authored = wait_for("Dave to author a block", TWO_SESSIONS, || async {
		let best = node.best_number().await?;
		for number in added_at..=best {
			if authors_at(node, number).await?.contains(&dave) {
				return Ok(number);
			}
		}
		Err(format!("no block by Dave in #{added_at}..=#{best}"))
	})
	.await;
	println!(
		"Dave authored block #{first_authored}: {} blocks after the referendum was opened, {} \
		 after it added him",
		first_authored - opened_at,
		first_authored - added_at
	);
	assert_eq!(
		active_set(node).await.unwrap(),
		vec![alice.clone(), bob.clone(), charlie.clone(), dave.clone()]
	);

	// The set change that made Dave a voter is enacted once the old set (all three) finalizes
	// the block announcing it: only then may one of four go down.
	wait_finalized(&running, first_authored).await;

	// Charlie's node goes down: three of four still finalize, and the chain reports him absent
	// when a session he had turns in ends without a block of his.
	let down_at = node.best_number().await.unwrap();
	charlie_node.kill();
	let (_, absent) =
		wait_for_event(node, "Charlie to be reported absent", down_at, TWO_SESSIONS, |event| {
			match event {
				RuntimeEvent::Validators(pallet_validators::Event::ValidatorAbsent {
					validator,
					in_a_row,
					..
				}) if validator == charlie => Some(in_a_row),
				_ => None,
			}
		})
		.await;
	assert_eq!(absent, 1);
	wait_finalized(&[node, &*bob_node, &*dave_node], down_at + 3).await;

	// A referendum removes him, and Bob, whose node still runs, in one batch (so in one
	// session): Alice and Dave are left, both online, so finality goes on once the new set is
	// active.
	let remove = |validator: &AccountId| {
		RuntimeCall::Validators(pallet_validators::Call::remove_validator {
			validator: validator.clone(),
		})
	};
	let removal = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![remove(&charlie), remove(&bob)],
	});
	let index = first + 2;
	let opened_at = node.best_number().await.unwrap();
	let calls = open_referendum(index, Track::ValidatorSet.into(), inline(removal)).to_vec();
	node.submit_and_wait(
		RuntimeCall::Utility(pallet_utility::Call::batch_all { calls }),
		&Alice.pair(),
	)
	.await
	.unwrap();
	everyone_votes_aye(node, &[index]).await;
	let governance = pallet_validators::Removal::Governance;
	let (removed_at, ()) =
		wait_for_event(node, "the referendum to remove Bob", opened_at, REFERENDUM, |event| {
			match event {
				RuntimeEvent::Validators(pallet_validators::Event::ValidatorRemoved {
					validator,
					reason,
				}) if validator == bob && reason == governance => Some(()),
				_ => None,
			}
		})
		.await;
	println!("the referendum opened at #{opened_at} removed Charlie and Bob at #{removed_at}");
	wait_active_set(node, &[alice.clone(), dave.clone()]).await;
	let from = node.best_number().await.unwrap();
	let session_key = &pallet_session::CurrentIndex::<Runtime>::hashed_key();
	let session_at =
		|number: BlockNumber| async move { stored_at::<u32>(node, session_key, number).await };
	let session = session_at(from).await.unwrap();
	// A whole session later, Bob (still running and importing) authored none of its blocks.
	let last = wait_for("a session of the new set to end", TWO_SESSIONS, || async {
		let best = node.best_number().await?;
		for number in from..=best {
			if session_at(number).await? > session {
				return Ok(number - 1);
			}
		}
		Err(format!("session {session} still running at #{best}"))
	})
	.await;
	let authors = authors_at(node, last).await.unwrap();
	assert!(!authors.contains(&bob), "Bob authored after his removal: {authors:?}");
	assert_eq!(authors.len(), 2, "authors of the session: {authors:?}");
	let bob_best = bob_node.best_number().await.unwrap();
	assert!(bob_best >= last, "Bob's node stopped following: #{bob_best}");
	wait_finalized(&[node, &*dave_node], last + 2).await;
}
