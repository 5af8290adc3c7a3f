//! Amounts as people write them (on the command line): CMN with up to twelve decimals (`1.5`),
//! or units (`1500u`); and amounts printed for people, in CMN.

use std::str::FromStr;

use commons_runtime::{Balance, CMN};

/// An amount of the chain's currency, in units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Balance);

/// How many decimals a CMN has.
const DECIMALS: usize = 12;

impl FromStr for Amount {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		let bad = || format!("{text} is not an amount: write CMN (`1.5`) or units (`1500u`)");
		if let Some(units) = text.strip_suffix('u') {
			return units.parse().map(Amount).map_err(|_| bad());
		}
		let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
		if fraction.len() > DECIMALS || !fraction.chars().all(|c| c.is_ascii_digit()) {
			return Err(bad());
		}
		let whole: Balance = whole.parse().map_err(|_| bad())?;
		let fraction: Balance = format!("{fraction:0<DECIMALS$}").parse().map_err(|_| bad())?;
		whole
			.checked_mul(CMN)
			.and_then(|units| units.checked_add(fraction))
			.map(Amount)
			.ok_or_else(|| format!("{text} CMN is more than the chain can count"))
	}
}

/// `units` in CMN for people: `1.5 CMN`, every significant decimal kept.
pub fn cmn(units: Balance) -> String {
	let (whole, fraction) = (units / CMN, units % CMN);
	if fraction == 0 {
		return format!("{whole} CMN");
	}
	let fraction = format!("{fraction:0>DECIMALS$}");
	format!("{whole}.{} CMN", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_read_as_cmn_or_units() {
		assert_eq!("1.5".parse(), Ok(Amount(CMN + CMN / 2)));
		assert_eq!("10".parse(), Ok(Amount(10 * CMN)));
		assert_eq!("0.000000000001".parse(), Ok(Amount(1)));
		assert_eq!("42u".parse(), Ok(Amount(42)));
		assert!("1.0000000000001".parse::<Amount>().is_err());
		assert!("-1".parse::<Amount>().is_err());
		assert!("1e3".parse::<Amount>().is_err());
		assert!("999999999999999999999999999999".parse::<Amount>().is_err());
	}

	#[test]
	fn amounts_print_in_cmn_exactly() {
		assert_eq!(cmn(0), "0 CMN");
		assert_eq!(cmn(10 * CMN), "10 CMN");
		assert_eq!(cmn(CMN + CMN / 2), "1.5 CMN");
		assert_eq!(cmn(1), "0.000000000001 CMN");
		for units in [1, CMN / 3, 123 * CMN + 456, Balance::MAX / CMN * CMN] {
			let printed = cmn(units);
			assert_eq!(printed.trim_end_matches(" CMN").parse(), Ok(Amount(units)), "{printed}");
		}
	}
}
