//! TEE measurements on the command line: `sgx:0x<32-byte MRENCLAVE>`, or an SGX signer's
//! enclaves, `sgx-signer:0x<32-byte MRSIGNER>,<ISVPRODID>,<lowest ISVSVN>`; for TDX either the
//! measurement itself, `tdx:0x<48 bytes>`, or the registers it is made of,
//! `tdx-registers:0x<MRTD>,0x<RTMR0>,0x<RTMR1>,0x<RTMR2>,0x<RTMR3>` (48 bytes each), from which
//! it is computed ([`commons_primitives::tdx_measurement`]).

use std::str::FromStr;

use pallet_marketplace::Measurement;

/// A measurement named on a command line: one an app allows, or one a dataset owner trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeasurementArg(pub Measurement);

impl FromStr for MeasurementArg {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		let bad = || {
			format!(
				"{text} is not a measurement: write sgx:0x<64 hex>, \
				 sgx-signer:0x<MRSIGNER, 64 hex>,<ISVPRODID>,<lowest ISVSVN>, tdx:0x<96 hex> or \
				 tdx-registers:0x<MRTD>,0x<RTMR0>,0x<RTMR1>,0x<RTMR2>,0x<RTMR3> (96 hex each)"
			)
		};
		let (kind, hex) = text.split_once(':').ok_or_else(bad)?;
		let bytes = |hex: &str| sp_core::bytes::from_hex(hex).map_err(|_| bad());
		let measurement = match kind {
			"sgx" => Measurement::SgxMrEnclave(bytes(hex)?.try_into().map_err(|_| bad())?),
			"sgx-signer" => {
				let [signer, product, version] = hex.split(',').collect::<Vec<_>>()[..] else {
					return Err(bad());
				};
				Measurement::SgxSigner {
					mr_signer: bytes(signer)?.try_into().map_err(|_| bad())?,
					isv_prod_id: product.trim().parse().map_err(|_| bad())?,
					min_isv_svn: version.trim().parse().map_err(|_| bad())?,
				}
			}
			"tdx" => Measurement::Tdx(bytes(hex)?.try_into().map_err(|_| bad())?),
			"tdx-registers" => {
				let registers = hex
					.split(',')
					.map(|register| bytes(register)?.try_into().map_err(|_| bad()))
					.collect::<Result<Vec<[u8; 48]>, String>>()?;
				let [mr_td, rtmrs @ ..] = registers.as_slice() else { return Err(bad()) };
				let rtmrs: [[u8; 48]; 4] = rtmrs.try_into().map_err(|_| bad())?;
				Measurement::Tdx(commons_primitives::tdx_measurement(mr_td, &rtmrs))
			}
			_ => return Err(bad()),
		};
		Ok(MeasurementArg(measurement))
	}
}

/// The measurement as the command line writes it (`sgx:0x…`, `sgx-signer:0x…,1,2`, `tdx:0x…`),
/// so that what is printed can be given back.
impl std::fmt::Display for MeasurementArg {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		let hex = |bytes: &[u8]| sp_core::bytes::to_hex(bytes, false);
		match &self.0 {
			Measurement::SgxMrEnclave(mr_enclave) => write!(f, "sgx:{}", hex(mr_enclave)),
			Measurement::SgxSigner { mr_signer, isv_prod_id, min_isv_svn } => {
				write!(f, "sgx-signer:{},{isv_prod_id},{min_isv_svn}", hex(mr_signer))
			}
			Measurement::Tdx(measurement) => write!(f, "tdx:{}", hex(measurement)),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn measurements_print_as_they_are_written() {
		let measurements = [
			Measurement::SgxMrEnclave([7; 32]),
			Measurement::SgxSigner { mr_signer: [9; 32], isv_prod_id: 3, min_isv_svn: 12 },
			Measurement::Tdx([5; 48]),
		];
		for measurement in measurements {
			let printed = MeasurementArg(measurement).to_string();
			assert_eq!(printed.parse(), Ok(MeasurementArg(measurement)), "{printed}");
		}
		assert!(MeasurementArg(Measurement::SgxMrEnclave([7; 32]))
			.to_string()
			.starts_with("sgx:0x0707"));
	}

	#[test]
	fn measurements_read_by_kind_and_length() {
		let sgx = format!("sgx:0x{}", "ab".repeat(32));
		assert_eq!(sgx.parse(), Ok(MeasurementArg(Measurement::SgxMrEnclave([0xab; 32]))));
		let tdx = format!("tdx:0x{}", "cd".repeat(48));
		assert_eq!(tdx.parse(), Ok(MeasurementArg(Measurement::Tdx([0xcd; 48]))));
		assert!(format!("sgx:0x{}", "ab".repeat(48)).parse::<MeasurementArg>().is_err());
		assert!(format!("sev:0x{}", "ab".repeat(32)).parse::<MeasurementArg>().is_err());
		assert!("sgx".parse::<MeasurementArg>().is_err());
		let registers = |count: usize| {
			let values: Vec<String> =
				(0..count).map(|n| format!("0x{}", format!("{n:02x}").repeat(48))).collect();
			format!("tdx-registers:{}", values.join(","))
		};
		let expected =
			commons_primitives::tdx_measurement(&[0; 48], &[[1; 48], [2; 48], [3; 48], [4; 48]]);
		assert_eq!(registers(5).parse(), Ok(MeasurementArg(Measurement::Tdx(expected))));
		assert!(registers(4).parse::<MeasurementArg>().is_err());
		assert!(registers(6).parse::<MeasurementArg>().is_err());
		let signer = format!("sgx-signer:0x{},7,3", "ef".repeat(32));
		assert_eq!(
			signer.parse(),
			Ok(MeasurementArg(Measurement::SgxSigner {
				mr_signer: [0xef; 32],
				isv_prod_id: 7,
				min_isv_svn: 3
			}))
		);
		assert!(format!("sgx-signer:0x{},7", "ef".repeat(32)).parse::<MeasurementArg>().is_err());
		assert!(format!("sgx-signer:0x{},x,3", "ef".repeat(32))
			.parse::<MeasurementArg>()
			.is_err());
	}
}
