//! Intel's sample quotes and collateral (shipped with the `dcap-qvl` crate, copied into
//! `fixtures/`), verified by this crate and by `dcap-qvl` as an independent oracle: on every
//! fixture and on random mutations of them, both must reach the same verdict.

use commons_dcap::{
	collateral::{Bundle, RawCollateral},
	regrade, verify_quote, Error, Regraded, TcbStatus, Verified,
};
use dcap_qvl::QuoteCollateralV3;
use proptest::prelude::*;

const ROOT_CA: &[u8] = commons_dcap::INTEL_SGX_ROOT_CA;

struct Fixture {
	name: &'static str,
	quote: &'static [u8],
	collateral: QuoteCollateralV3,
}

fn fixture(name: &'static str) -> Fixture {
	let (quote, collateral): (&[u8], &[u8]) = match name {
		"sgx" => (
			include_bytes!("fixtures/sgx_quote"),
			include_bytes!("fixtures/sgx_quote_collateral.json"),
		),
		"tdx" => (
			include_bytes!("fixtures/tdx_quote"),
			include_bytes!("fixtures/tdx_quote_collateral.json"),
		),
		"tdx-outdated" => (
			include_bytes!("fixtures/tdx_quote_outdated"),
			include_bytes!("fixtures/tdx_quote_outdated_collateral.json"),
		),
		"tdx-td15ex" => (
			include_bytes!("fixtures/tdx_quote_td15ex"),
			include_bytes!("fixtures/tdx_quote_td15ex_collateral.json"),
		),
		other => panic!("no fixture {other}"),
	};
	Fixture { name, quote, collateral: serde_json::from_slice(collateral).expect("collateral") }
}

const FIXTURES: [&str; 4] = ["sgx", "tdx", "tdx-outdated", "tdx-td15ex"];

/// A moment inside every piece of the collateral's validity window.
fn inside_window(collateral: &QuoteCollateralV3) -> u64 {
	let tcb = commons_dcap::TcbInfo::parse(collateral.tcb_info.as_bytes()).expect("tcb info");
	let qe = commons_dcap::QeIdentity::parse(collateral.qe_identity.as_bytes()).expect("qe id");
	let crls = [&collateral.root_ca_crl, &collateral.pck_crl]
		.map(|der| commons_dcap::Crl::from_der(der).expect("crl").unverified_revocations([0; 32]));
	let start = crls.iter().map(|crl| crl.this_update).chain([tcb.issue_date, qe.issue_date]);
	let end = crls.iter().filter_map(|crl| crl.next_update);
	let (start, end) =
		(start.max().unwrap(), end.chain([tcb.next_update, qe.next_update]).min().unwrap());
	assert!(start < end, "the collateral has no common validity window");
	end - 1
}

fn signature(bytes: &[u8]) -> [u8; 64] {
	bytes.try_into().unwrap_or([0; 64])
}

/// The fixture's collateral, verified as a chain verifies it on submission.
fn bundle(collateral: &QuoteCollateralV3, now: u64) -> Result<Bundle, Error> {
	let raw = RawCollateral {
		root_ca_crl: &collateral.root_ca_crl,
		pck_crl: &collateral.pck_crl,
		pck_crl_issuer_chain: collateral.pck_crl_issuer_chain.as_bytes(),
		tcb_info: collateral.tcb_info.as_bytes(),
		tcb_info_signature: signature(&collateral.tcb_info_signature),
		tcb_info_issuer_chain: collateral.tcb_info_issuer_chain.as_bytes(),
		qe_identity: collateral.qe_identity.as_bytes(),
		qe_identity_signature: signature(&collateral.qe_identity_signature),
		qe_identity_issuer_chain: collateral.qe_identity_issuer_chain.as_bytes(),
	};
	Bundle::verify(ROOT_CA, &raw, now)
}

fn ours(quote: &[u8], collateral: &QuoteCollateralV3, now: u64) -> Result<Verified, Error> {
	verify_quote(
		&bundle(collateral, now)?,
		quote,
		collateral.pck_certificate_chain.as_deref().map(str::as_bytes),
		now,
	)
}

fn theirs(
	quote: &[u8],
	collateral: &QuoteCollateralV3,
	now: u64,
) -> Result<(String, Vec<String>), String> {
	dcap_qvl::verify::rustcrypto::verify(quote, collateral, now)
		.map(|report| (report.status, report.advisory_ids))
		.map_err(|error| format!("{error:#}"))
}

/// Both verifiers' verdicts on one input; they must agree on acceptance, and on the status and
/// advisories of what they accept.
fn agree(
	quote: &[u8],
	collateral: &QuoteCollateralV3,
	now: u64,
) -> Result<Result<Verified, Error>, String> {
	let (ours, theirs) = (ours(quote, collateral, now), theirs(quote, collateral, now));
	match (&ours, &theirs) {
		(Ok(verified), Ok((status, advisories))) => {
			if &format!("{:?}", verified.status) != status || &verified.advisories != advisories {
				return Err(format!(
					"both accept, differently: {verified:?} vs {status} {advisories:?}"
				));
			}
		}
		(Err(_), Err(_)) => {}
		_ => return Err(format!("verdicts differ: ours {ours:?}, dcap-qvl {theirs:?}")),
	}
	Ok(ours)
}

#[test]
fn every_fixture_verifies_as_the_oracle_says() {
	// The outdated sample's CPU SVN is below every level of its TCB info (dcap-qvl's own tests
	// use it with an overridden TCB info): both must refuse it.
	let expected = [
		("sgx", Ok(TcbStatus::ConfigurationAndSWHardeningNeeded)),
		("tdx", Ok(TcbStatus::UpToDate)),
		("tdx-outdated", Err(Error::TcbLevelNotFound)),
		("tdx-td15ex", Ok(TcbStatus::UpToDate)),
	];
	for (name, expected) in expected {
		let Fixture { quote, collateral, .. } = fixture(name);
		let now = inside_window(&collateral);
		let verdict = agree(quote, &collateral, now).unwrap_or_else(|d| panic!("{name}: {d}"));
		assert_eq!(verdict.map(|verified| verified.status), expected, "{name}");
	}
}

#[test]
fn regrading_what_each_sample_showed_gives_its_grade_again() {
	for name in ["sgx", "tdx", "tdx-td15ex"] {
		let Fixture { quote, collateral, .. } = fixture(name);
		let now = inside_window(&collateral);
		let source = bundle(&collateral, now).unwrap();
		let verified = ours(quote, &collateral, now).unwrap();
		assert_eq!(verified.platform.tdx.is_some(), name != "sgx", "{name}");
		let regraded = regrade(&source, &verified.platform, now).unwrap();
		assert_eq!(
			regraded,
			Regraded {
				status: verified.status,
				advisories: verified.advisories.clone(),
				tcb_date: verified.tcb_date,
				tcb_evaluation_data_number: verified.tcb_evaluation_data_number,
				qe_evaluation_data_number: verified.qe_evaluation_data_number,
			},
			"{name}"
		);
	}
}

#[test]
fn the_sgx_sample_names_its_advisories() {
	let Fixture { quote, collateral, .. } = fixture("sgx");
	let verified = ours(quote, &collateral, inside_window(&collateral)).unwrap();
	assert_eq!(verified.advisories, ["INTEL-SA-00289", "INTEL-SA-00615"]);
}

#[test]
fn collateral_outside_its_window_is_expired() {
	let Fixture { quote, collateral, .. } = fixture("tdx");
	let tcb = commons_dcap::TcbInfo::parse(collateral.tcb_info.as_bytes()).unwrap();
	let late = tcb.next_update + 1;
	let early = tcb.issue_date - 1;
	assert!(matches!(
		ours(quote, &collateral, late),
		Err(Error::CrlExpired | Error::TcbInfoExpired | Error::QeIdentityExpired)
	));
	assert!(ours(quote, &collateral, early).is_err());
	agree(quote, &collateral, late).unwrap().unwrap_err();
	agree(quote, &collateral, early).unwrap().unwrap_err();
}

/// Which input a mutation hits.
#[derive(Clone, Copy, Debug)]
enum Target {
	Quote,
	RootCaCrl,
	PckCrl,
	TcbInfo,
	TcbInfoSignature,
	QeIdentity,
	IssuerChain,
}

fn mutate(bytes: &mut [u8], at: usize, xor: u8) {
	if !bytes.is_empty() {
		let at = at % bytes.len();
		bytes[at] ^= xor;
	}
}

/// Text collateral (JSON, PEM) is mutated within printable ASCII so it stays a string.
fn mutate_text(text: &mut String, at: usize, xor: u8) {
	let mut bytes = text.clone().into_bytes();
	mutate(&mut bytes, at, xor & 0x1f);
	if let Ok(mutated) = String::from_utf8(bytes) {
		*text = mutated;
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

	/// Flipping bits anywhere in a quote or its collateral never makes the two verifiers
	/// disagree.
	#[test]
	fn mutations_get_the_same_verdict(
		which in 0usize..4,
		target in prop_oneof![
			4 => Just(Target::Quote),
			1 => Just(Target::RootCaCrl),
			1 => Just(Target::PckCrl),
			1 => Just(Target::TcbInfo),
			1 => Just(Target::TcbInfoSignature),
			1 => Just(Target::QeIdentity),
			1 => Just(Target::IssuerChain),
		],
		at in any::<usize>(),
		xor in 1u8..=255,
	) {
		let Fixture { name, quote, mut collateral } = fixture(FIXTURES[which]);
		let now = inside_window(&collateral);
		let mut quote = quote.to_vec();
		match target {
			Target::Quote => mutate(&mut quote, at, xor),
			Target::RootCaCrl => mutate(&mut collateral.root_ca_crl, at, xor),
			Target::PckCrl => mutate(&mut collateral.pck_crl, at, xor),
			Target::TcbInfo => mutate_text(&mut collateral.tcb_info, at, xor),
			Target::TcbInfoSignature => mutate(&mut collateral.tcb_info_signature, at, xor),
			Target::QeIdentity => mutate_text(&mut collateral.qe_identity, at, xor),
			Target::IssuerChain => mutate_text(&mut collateral.tcb_info_issuer_chain, at, xor),
		}
		if let Err(disagreement) = agree(&quote, &collateral, now) {
			prop_assert!(false, "{name} {target:?} at {at} ^ {xor:#x}: {disagreement}");
		}
	}
}
