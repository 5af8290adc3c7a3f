//! A single `--dev` node: it produces and finalizes blocks, serves the standard and new-spec RPC
//! and Prometheus, verifies Intel's sample quotes in its wasm runtime, and includes a balance
//! transfer signed with a dev key; the command line's commands that no other suite runs.

use std::time::Duration;

use commons_e2e::{
	chain::{best_block, events_between, fees_paid, free_at},
	cli, commons, commons_json, exclusive_network, free_port, suri, wait_for, TestDir, TestNode,
};
use commons_runtime::{
	signing::{self, Lifetime},
	BalancesCall, RuntimeEvent, CMN,
};
use frame_system::Phase;
use jsonrpsee::rpc_params;
use pallet_attestation::{
	runtime_api::{QuoteCollateral, QuoteVerdict},
	TcbStatus,
};
use sp_keyring::Sr25519Keyring;

const BLOCKS: Duration = Duration::from_secs(90);

#[tokio::test]
async fn dev_chain_produces_finalizes_and_includes_a_signed_transfer() {
	let _network = exclusive_network();
	let dir = TestDir::new("dev");
	let prometheus_port = free_port();
	let node = TestNode::start(
		&dir,
		"alice",
		&["--dev", "--prometheus-port", &prometheus_port.to_string()],
	);
	node.wait_until_serving().await;

	let chain: String = node.rpc("system_chain", rpc_params![]).await.unwrap();
	assert_eq!(chain, "Commons Development");
	// The RPC server may answer before the network logs which backend it runs.
	wait_for("the network to start", Duration::from_secs(30), || async {
		let log = node.log();
		if log.contains("Running libp2p network backend") {
			Ok(())
		} else if log.contains("network backend") {
			Err("libp2p is not the default".to_string())
		} else {
			Err("no network backend started yet".to_string())
		}
	})
	.await;

	wait_for("block #3 to be finalized", BLOCKS, || async {
		let finalized = node.finalized_number().await?;
		if finalized >= 3 {
			Ok(())
		} else {
			Err(format!("finalized #{finalized}, best #{}", node.best_number().await?))
		}
	})
	.await;

	// The new JSON-RPC spec is served beside the legacy methods.
	let methods: serde_json::Value = node.rpc("rpc_methods", rpc_params![]).await.unwrap();
	let methods = methods["methods"].as_array().expect("rpc_methods lists methods");
	for wanted in [
		"chainHead_v1_follow",
		"transaction_v1_broadcast",
		"chainSpec_v1_genesisHash",
		"author_submitExtrinsic",
		"payment_queryInfo",
		"system_accountNextIndex",
	] {
		assert!(methods.iter().any(|method| method == wanted), "RPC lacks {wanted}");
	}

	let metrics = TestNode::prometheus_metrics(prometheus_port).unwrap();
	assert!(metrics.contains("substrate_block_height"), "Prometheus serves no block height");

	the_wasm_runtime_verifies_intel_quotes(&node).await;

	// Alice pays Dave, who already exists, 42 CMN.
	let alice = Sr25519Keyring::Alice;
	let dave = Sr25519Keyring::Dave.to_account_id();
	let amount = 42 * CMN;
	let alice_before = node.free_balance(&alice.to_account_id()).await.unwrap();
	let dave_before = node.free_balance(&dave).await.unwrap();

	let identity = node.chain_identity().await.unwrap();
	let nonce = node.next_nonce(&alice.to_account_id()).await.unwrap();
	let from_number = node.best_number().await.unwrap();
	let from_hash = node.block_hash(from_number).await.unwrap();
	let transfer = signing::sign(
		BalancesCall::transfer_keep_alive { dest: dave.clone().into(), value: amount }.into(),
		&alice.pair(),
		nonce,
		Lifetime::Mortal { period: 64, from_number, from_hash },
		0,
		&identity,
	);
	node.submit(&transfer).await.unwrap();

	let (block_hash, index) = wait_for("the transfer to be included", BLOCKS, || async {
		Ok::<_, String>(node.find_extrinsic(&transfer, from_number).await?)
	})
	.await;
	let included_at = node.block_number(block_hash).await.unwrap();

	let events: Vec<RuntimeEvent> = node
		.events(block_hash)
		.await
		.unwrap()
		.into_iter()
		.filter(|record| record.phase == Phase::ApplyExtrinsic(index))
		.map(|record| record.event)
		.collect();
	assert!(
		events.contains(&RuntimeEvent::Balances(pallet_balances::Event::Transfer {
			from: alice.to_account_id(),
			to: dave.clone(),
			amount,
		})),
		"no Transfer event among {events:?}"
	);
	let fee = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
			) if *who == alice.to_account_id() && *tip == 0 => Some(*actual_fee),
			_ => None,
		})
		.unwrap_or_else(|| panic!("no TransactionFeePaid event among {events:?}"));
	assert!(fee > 0, "a signed transfer pays a fee");
	assert!(
		events.iter().any(|event| matches!(
			event,
			RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { .. })
		)),
		"the transfer did not succeed: {events:?}"
	);

	wait_for("the transfer's block to be finalized", BLOCKS, || async {
		let finalized = node.finalized_number().await?;
		(finalized >= included_at)
			.then_some(())
			.ok_or(format!("finalized #{finalized}, transfer in #{included_at}"))
	})
	.await;

	// Nothing else moved Alice's or Dave's money meanwhile: the balances move by exactly the
	// amount and the fee.
	assert_eq!(node.free_balance(&dave).await.unwrap(), dave_before + amount);
	assert_eq!(
		node.free_balance(&alice.to_account_id()).await.unwrap(),
		alice_before - amount - fee
	);
}

/// Intel's sample quotes, verified by the runtime the node executes (wasm) through
/// `AttestationApi_check_quote`, at a moment inside each sample collateral's window: the
/// verdicts the native tests and dcap-qvl give.
async fn the_wasm_runtime_verifies_intel_quotes(node: &TestNode) {
	const FIXTURES: &str =
		concat!(env!("CARGO_MANIFEST_DIR"), "/../pallets/attestation/dcap/tests/fixtures");
	let samples = [
		("sgx_quote", 1_751_328_000, TcbStatus::ConfigurationAndSWHardeningNeeded, 2),
		("tdx_quote", 1_751_328_000, TcbStatus::UpToDate, 0),
	];
	for (name, at, status, advisories) in samples {
		let quote = std::fs::read(format!("{FIXTURES}/{name}")).unwrap();
		let json: serde_json::Value = serde_json::from_slice(
			&std::fs::read(format!("{FIXTURES}/{name}_collateral.json")).unwrap(),
		)
		.unwrap();
		let text = |field: &str| json[field].as_str().unwrap().as_bytes().to_vec();
		let hex = |field: &str| sp_core::bytes::from_hex(json[field].as_str().unwrap()).unwrap();
		let collateral = QuoteCollateral {
			root_ca_crl: hex("root_ca_crl"),
			pck_crl: hex("pck_crl"),
			pck_crl_issuer_chain: text("pck_crl_issuer_chain"),
			tcb_info: text("tcb_info"),
			tcb_info_signature: hex("tcb_info_signature").try_into().unwrap(),
			tcb_info_issuer_chain: text("tcb_info_issuer_chain"),
			qe_identity: text("qe_identity"),
			qe_identity_signature: hex("qe_identity_signature").try_into().unwrap(),
			qe_identity_issuer_chain: text("qe_identity_issuer_chain"),
		};
		let check = |quote: Vec<u8>| {
			let collateral = collateral.clone();
			async move {
				let arguments = (quote, collateral, None::<Vec<u8>>, at as u64);
				let encoded = sp_core::bytes::to_hex(&codec::Encode::encode(&arguments), false);
				let result: String = node
					.rpc("state_call", rpc_params!["AttestationApi_check_quote", encoded])
					.await
					.unwrap();
				let bytes = sp_core::bytes::from_hex(&result).unwrap();
				<Result<QuoteVerdict, commons_dcap::Error> as codec::Decode>::decode(
					&mut &bytes[..],
				)
				.unwrap()
			}
		};
		let verdict =
			check(quote.clone()).await.unwrap_or_else(|error| panic!("{name}: {error:?}"));
		assert_eq!((verdict.status, verdict.advisories.len()), (status, advisories), "{name}");
		let mut tampered = quote;
		tampered[48 + 64] ^= 1; // inside the signed report
		assert_eq!(
			check(tampered).await,
			Err(commons_dcap::Error::QuoteSignatureInvalid),
			"{name}"
		);
	}
}

#[tokio::test]
async fn dev_chain_runs_on_litep2p_when_asked() {
	let _network = exclusive_network();
	let dir = TestDir::new("litep2p");
	let node = TestNode::start(&dir, "alice", &["--dev", "--network-backend", "litep2p"]);
	node.wait_until_serving().await;
	node.wait_for_log("Running litep2p network backend").await;
	wait_for("block #2 to be finalized on litep2p", BLOCKS, || async {
		let finalized = node.finalized_number().await?;
		(finalized >= 2).then_some(()).ok_or(format!("finalized #{finalized}"))
	})
	.await;
}

/// The commands no other suite runs, as a script runs them (`--json`, parsed): an account's
/// balance, shell completions, a dataset, an app and a workerpool registered, listed and removed
/// with their deposits returned, a claim refused before signing and stale collateral refused by
/// the chain, by name.
#[tokio::test]
async fn the_command_line_registers_lists_and_removes() {
	let _network = exclusive_network();
	let dir = TestDir::new("dev-cli");
	let node = TestNode::start(&dir, "alice", &["--dev"]);
	node.wait_until_serving().await;
	let (bob, charlie) = (Sr25519Keyring::Bob, Sr25519Keyring::Charlie);

	let account = commons_json(&node, bob, &["account"]).await;
	assert_eq!(account["account"], bob.to_account_id().to_string());
	let free = node.free_balance(&bob.to_account_id()).await.unwrap();
	assert_eq!(account["free"], free.to_string(), "amounts in --json are strings of units");

	let completions = commons(&node, bob, &["completions", "bash"]).await;
	for command in ["remove-dataset", "claim", "submit-collateral", "result"] {
		let arm = format!("commons,{command})");
		assert!(completions.contains(&arm), "bash completions lack the command {command}");
	}

	// Bob registers what he sells, lists it and removes it: he gets back everything but fees.
	let file = dir.path().join("points.csv");
	std::fs::write(&file, "1,2\n3,4\n").unwrap();
	let uri = format!("file://{}", file.display());
	let (before, before_hash) = best_block(&node).await;
	let bob_before = free_at(&node, &bob.to_account_id(), before_hash).await;
	let dataset = commons_json(&node, bob, &["create-dataset", "--name", "points", "--uri", &uri])
		.await["dataset"]
		.as_u64()
		.expect("the dataset's id");
	let app = commons_json(&node, bob, &["create-app", "--name", "sum", "--uri", &uri]).await
		["app"]
		.as_u64()
		.expect("the app's id");
	let scheduler = charlie.to_account_id().to_string();
	let workerpool = commons_json(
		&node,
		bob,
		&["create-workerpool", "--description", "bob's", "--scheduler", &scheduler],
	)
	.await["workerpool"]
		.as_u64()
		.expect("the workerpool's id");
	let owner = bob.to_account_id().to_string();
	let listed = |kind: &'static str, id: u64| {
		let node = &node;
		let owner = owner.clone();
		async move {
			let plural = format!("{kind}s");
			let list = commons_json(node, bob, &[plural.as_str(), "--owner", owner.as_str()]).await;
			let list = list.as_array().unwrap_or_else(|| panic!("{plural} is a list")).clone();
			list.into_iter().find(|entry| entry[kind] == id)
		}
	};
	let shown = listed("dataset", dataset).await.expect("the dataset is listed");
	assert_eq!(
		(shown["name"].clone(), shown["encrypted"].clone()),
		("points".into(), false.into())
	);
	let checksum = {
		use sha2::Digest as _;
		sp_core::bytes::to_hex(&sha2::Sha256::digest(b"1,2\n3,4\n"), false)
	};
	assert_eq!(shown["checksum"], checksum);
	assert_eq!(listed("app", app).await.expect("the app is listed")["checksum"], checksum);
	let pool = listed("workerpool", workerpool).await.expect("the workerpool is listed");
	assert_eq!(
		(pool["scheduler"].clone(), pool["owner"].clone()),
		(scheduler.into(), owner.clone().into())
	);

	for (command, kind, id) in [
		("remove-dataset", "dataset", dataset),
		("remove-app", "app", app),
		("remove-workerpool", "workerpool", workerpool),
	] {
		let (option, id_arg) = (format!("--{kind}"), id.to_string());
		let removed = commons_json(&node, bob, &[command, option.as_str(), id_arg.as_str()]).await;
		assert_eq!(removed, serde_json::json!({}));
		assert_eq!(listed(kind, id).await, None, "{kind} {id} is still listed");
	}
	let (after, after_hash) = best_block(&node).await;
	let fees = fees_paid(&events_between(&node, before + 1, after).await);
	let bob_after = free_at(&node, &bob.to_account_id(), after_hash).await;
	assert_eq!(bob_after, bob_before - fees[&bob.to_account_id()], "deposits are returned");

	// A claim the chain would refuse for certain is refused before it is signed: no fee.
	let nonce = node.next_nonce(&bob.to_account_id()).await.unwrap();
	let unknown_deal = format!("{:?}", sp_core::H256::repeat_byte(9));
	let refused = cli(&node, &suri(bob), &["claim", "--deal", &unknown_deal]).await;
	let error = refused.expect_err("there is no such deal");
	assert!(error.contains("no deal") && error.contains("with unsettled tasks"), "{error}");
	assert_eq!(node.next_nonce(&bob.to_account_id()).await.unwrap(), nonce, "nothing was sent");
	// The chain's refusals come back with the runtime's error by name and its documentation.
	let collateral = concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../pallets/attestation/dcap/tests/fixtures/sgx_quote_collateral.json"
	);
	let refused = cli(&node, &suri(bob), &["submit-collateral", "--file", collateral]).await;
	let error = refused.expect_err("the fixture's collateral is years old");
	assert!(error.contains("Attestation::Verification(CrlExpired): The quote"), "{error}");
}
