//! Tags by name: `--tag tee,sgx` on the command line, `tee+sgx` in what is printed; a bit
//! without a name is `bit<n>`, and a number (`--tag 3`, `--tag 0x101`) names any bits.

use std::str::FromStr;

use commons_primitives::tag::{self, Tag};

/// The bits with a name, as the command line writes them.
const NAMES: [(&str, Tag); 5] = [
	("tee", tag::TEE),
	("sgx", tag::SGX),
	("tdx", tag::TDX),
	("gpu", tag::GPU),
	("container", tag::CONTAINER),
];

/// A tag written as names joined by `,` or `+`, or as a number; `none` is no bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagArg(pub Tag);

impl FromStr for TagArg {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		let text = text.trim();
		if text.is_empty() || text == "none" {
			return Ok(TagArg(0));
		}
		if let Some(hex) = text.strip_prefix("0x") {
			return Tag::from_str_radix(hex, 16)
				.map(TagArg)
				.map_err(|_| format!("{text} is not a tag in hex"));
		}
		if text.chars().all(|c| c.is_ascii_digit()) {
			return text.parse().map(TagArg).map_err(|_| format!("{text} is not a tag"));
		}
		text.split([',', '+']).try_fold(TagArg(0), |TagArg(bits), name| {
			let name = name.trim().to_ascii_lowercase();
			if let Some(index) = name.strip_prefix("bit").and_then(|n| n.parse::<u32>().ok()) {
				let bit = Tag::checked_shl(1, index)
					.ok_or_else(|| format!("a tag has bits 0 to {}, not {index}", Tag::BITS - 1))?;
				return Ok(TagArg(bits | bit));
			}
			let (_, bit) = NAMES.iter().find(|(known, _)| *known == name).ok_or_else(|| {
				let known: Vec<_> = NAMES.iter().map(|(known, _)| *known).collect();
				format!(
					"unknown tag {name}: name {} or give the bits as a number",
					known.join(", ")
				)
			})?;
			Ok(TagArg(bits | bit))
		})
	}
}

/// `bits` written with names (`tee+sgx`), unnamed bits as `bit<n>`, no bit as `none`.
pub fn tag_names(bits: Tag) -> String {
	if bits == 0 {
		return "none".into();
	}
	(0..Tag::BITS)
		.map(|bit| 1 << bit)
		.filter(|mask| bits & mask != 0)
		.map(|mask| match NAMES.iter().find(|(_, named)| *named == mask) {
			Some((name, _)) => (*name).to_owned(),
			None => format!("bit{}", mask.trailing_zeros()),
		})
		.collect::<Vec<_>>()
		.join("+")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn tags_read_by_name_or_number() {
		assert_eq!("tee".parse(), Ok(TagArg(tag::TEE)));
		assert_eq!("TEE,sgx".parse(), Ok(TagArg(tag::TEE | tag::SGX)));
		assert_eq!("tee+tdx+gpu".parse(), Ok(TagArg(tag::TEE | tag::TDX | tag::GPU)));
		assert_eq!("3".parse(), Ok(TagArg(3)));
		assert_eq!("0x101".parse(), Ok(TagArg(0x101)));
		assert_eq!("none".parse(), Ok(TagArg(0)));
		assert!("tee,fpga".parse::<TagArg>().unwrap_err().contains("unknown tag fpga"));
		assert!("0xzz".parse::<TagArg>().is_err());
		assert_eq!("tee,bit20".parse(), Ok(TagArg(tag::TEE | 1 << 20)));
		assert!("bit64".parse::<TagArg>().unwrap_err().contains("bits 0 to 63"));
	}

	#[test]
	fn tags_print_by_name() {
		assert_eq!(tag_names(0), "none");
		assert_eq!(tag_names(tag::TEE | tag::SGX), "tee+sgx");
		assert_eq!(tag_names(tag::TEE | 1 << 20), "tee+bit20");
		for bits in [0, 1, 0b1011, 1 << 8, 0x1_0009] {
			let named = tag_names(bits);
			assert_eq!(named.parse(), Ok(TagArg(bits)), "{named}");
		}
	}
}
