//! A compute node run with a hot key as the `ComputeNode` proxy of a cold worker account, which
//! joined its pool itself: all the node does on chain is the account's, paid by the hot key,
//! and the hot key can do nothing else for it.

use std::time::Duration;

use commons_client::{ClientError, Signer};
use commons_e2e::{
	chain::{pool_members, pool_of},
	cli::created_id,
	commons, compute_binary, exclusive_network, suri, wait_for, ComputeNode, TestDir, TestNode,
};
use commons_runtime::{governance::ProxyType, BalancesCall, RuntimeCall, CMN};
use pallet_marketplace::tag::{SGX, TEE};
use sp_keyring::Sr25519Keyring::{Charlie, Dave, Eve};

#[tokio::test]
async fn a_compute_node_works_for_a_cold_account_through_a_proxy() {
	let _network = exclusive_network();
	let dir = TestDir::new("proxy");
	let node = TestNode::start(&dir, "alice", &["--dev"]);
	node.wait_until_serving().await;
	let charlie = Charlie.to_account_id().to_string();
	let create = ["create-workerpool", "--description", "pool", "--scheduler", &charlie];
	let pool = created_id(&commons(&node, Charlie, &create).await, "workerpool");
	let (cold, hot) = (Dave.to_account_id(), Eve.to_account_id());

	// Dave, the cold account, joins the pool and lets Eve's key act for it as a compute node
	// only.
	let join = RuntimeCall::Marketplace(pallet_marketplace::Call::join_workerpool {
		workerpool: pool,
		endpoint: b"http://127.0.0.1:1".to_vec().try_into().unwrap(),
		capabilities: TEE | SGX,
	});
	node.submit_and_wait(join, &Dave.pair()).await.unwrap();
	let add = RuntimeCall::Proxy(pallet_proxy::Call::add_proxy {
		delegate: hot.clone().into(),
		proxy_type: ProxyType::ComputeNode,
		delay: 0,
	});
	node.submit_and_wait(add, &Dave.pair()).await.unwrap();

	let mut compute = ComputeNode::start(
		&dir,
		"compute",
		&node,
		&suri(Eve),
		pool,
		&["--proxy-for", &cold.to_string(), "--tee-simulated", "sgx"],
	);
	wait_for("Dave's enclave to be registered", Duration::from_secs(60), || async {
		match node.enclave(&cold).await {
			Ok(Some(_)) => Ok(()),
			other => Err(format!("Dave's enclave: {other:?}")),
		}
	})
	.await;
	// The hot key is nothing on chain itself.
	assert_eq!(pool_of(&node, &cold).await.unwrap(), Some(pool));
	assert_eq!(pool_of(&node, &hot).await.unwrap(), None);
	assert!(node.enclave(&hot).await.unwrap().is_none());
	assert_eq!(pool_members(&node, pool).await.unwrap(), 1);

	// A dry run of the same configuration (on the running node's work directory, whose enclave
	// keys it reads) finds everything ready and submits nothing; one for an account outside
	// the pool is told it must join from the account. Beside the running node, the dry run
	// finds its metrics port taken, and says so rather than failing to start.
	let dry_run = |account: &str, work_dir: std::path::PathBuf, extra: &[String]| {
		std::process::Command::new(compute_binary())
			.args([
				"--rpc",
				&node.rpc_url(),
				"--key",
				&suri(Eve),
				"--workerpool",
				&pool.to_string(),
			])
			.args(["--proxy-for", account, "--tee-simulated", "sgx", "--dry-run", "--work-dir"])
			.arg(work_dir)
			.args(extra)
			.output()
			.expect("commons-compute runs")
	};
	let ready = dry_run(&cold.to_string(), compute.work_dir.clone(), &[]);
	let said = String::from_utf8_lossy(&ready.stdout);
	assert!(ready.status.success(), "{said}{}", String::from_utf8_lossy(&ready.stderr));
	assert!(said.contains(&format!("{cold} is a member of workerpool {pool}")), "{said}");
	assert!(said.contains("enclave is registered with these keys"), "{said}");
	assert!(said.contains(&format!("acts for {cold} as its ComputeNode proxy")), "{said}");
	let taken = ["--prometheus-port".to_owned(), compute.prometheus_port.to_string()];
	let beside = dry_run(&cold.to_string(), compute.work_dir.clone(), &taken);
	let said = String::from_utf8_lossy(&beside.stdout);
	assert!(!beside.status.success(), "{said}");
	let port = compute.prometheus_port;
	assert!(said.contains(&format!("NOT READY: metrics cannot be served on 127.0.0.1:{port}")));
	let outsider = dry_run(&charlie, dir.path().join("dry-run-outsider"), &[]);
	let said = String::from_utf8_lossy(&outsider.stdout);
	assert!(!outsider.status.success(), "{said}");
	assert!(said.contains("NOT READY") && said.contains("join from the account"), "{said}");
	assert!(said.contains(&format!("{charlie} has not added")), "{said}");
	assert_eq!(pool_members(&node, pool).await.unwrap(), 1, "a dry run joins nothing");

	// And it cannot move Dave's funds: the proxy refuses a transfer, and leaving the pool Dave
	// chose (to join one whose owner would take his stakes).
	let before = node.free_balance(&cold).await.unwrap();
	let signer = Signer::proxy_of(Eve.pair(), cold.clone(), ProxyType::ComputeNode);
	let leave = RuntimeCall::Marketplace(pallet_marketplace::Call::leave_workerpool {});
	let refused = node.submit_and_wait(signer.call(leave), signer.pair()).await;
	assert!(matches!(refused, Err(ClientError::Dispatch(_))), "{refused:?}");
	assert_eq!(pool_of(&node, &cold).await.unwrap(), Some(pool));
	let transfer = BalancesCall::transfer_keep_alive { dest: hot.into(), value: 1_000 * CMN };
	let refused = node.submit_and_wait(signer.call(transfer.into()), signer.pair()).await;
	assert!(matches!(refused, Err(ClientError::Dispatch(_))), "{refused:?}");
	assert_eq!(node.free_balance(&cold).await.unwrap(), before);
	compute.kill();
}
