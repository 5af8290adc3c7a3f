//! TEE measurements on the command line: `sgx:0x<32-byte MRENCLAVE>`, `tdx:0x<48-byte MRTD>`.

use std::str::FromStr;

use pallet_marketplace::Measurement;

/// A measurement named on a command line: one an app allows, or one a dataset owner trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeasurementArg(pub Measurement);

impl FromStr for MeasurementArg {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		let bad = || format!("{text} is not a measurement: write sgx:0x<64 hex> or tdx:0x<96 hex>");
		let (kind, hex) = text.split_once(':').ok_or_else(bad)?;
		let bytes = sp_core::bytes::from_hex(hex).map_err(|_| bad())?;
		let measurement = match kind {
			"sgx" => Measurement::SgxMrEnclave(bytes.try_into().map_err(|_| bad())?),
			"tdx" => Measurement::TdxMrTd(bytes.try_into().map_err(|_| bad())?),
			_ => return Err(bad()),
		};
		Ok(MeasurementArg(measurement))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn measurements_read_by_kind_and_length() {
		let sgx = format!("sgx:0x{}", "ab".repeat(32));
		assert_eq!(sgx.parse(), Ok(MeasurementArg(Measurement::SgxMrEnclave([0xab; 32]))));
		let tdx = format!("tdx:0x{}", "cd".repeat(48));
		assert_eq!(tdx.parse(), Ok(MeasurementArg(Measurement::TdxMrTd([0xcd; 48]))));
		assert!(format!("sgx:0x{}", "ab".repeat(48)).parse::<MeasurementArg>().is_err());
		assert!(format!("sev:0x{}", "ab".repeat(32)).parse::<MeasurementArg>().is_err());
		assert!("sgx".parse::<MeasurementArg>().is_err());
	}
}
