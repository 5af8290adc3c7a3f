//! Intel's collateral dates ("2025-06-19T10:56:11Z") as Unix seconds, without a calendar crate.

/// Seconds since the Unix epoch of an RFC 3339 UTC date-time `YYYY-MM-DDTHH:MM:SS[.frac]Z`, as
/// Intel's collateral writes them; `None` for anything else or before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
	let bytes = text.as_bytes();
	let digits = |range: core::ops::Range<usize>| -> Option<u64> {
		let field = bytes.get(range)?;
		field
			.iter()
			.try_fold(0u64, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0')))
	};
	let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
	if separators
		.iter()
		.any(|&(at, sep)| bytes.get(at).map(u8::to_ascii_uppercase) != Some(sep))
	{
		return None;
	}
	let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
	let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
	let zone = match bytes.get(19) {
		Some(b'.') => {
			let digits_end = 20 + bytes[20..].iter().take_while(|b| b.is_ascii_digit()).count();
			if digits_end == 20 {
				return None;
			}
			&bytes[digits_end..]
		}
		_ => &bytes[19..],
	};
	if !(zone == b"Z" || zone == b"z") {
		return None;
	}
	if !(1..=12).contains(&month)
		|| day < 1
		|| day > days_in_month(year, month)
		|| hour > 23
		|| minute > 59
		|| second > 60
	{
		return None;
	}
	let days = days_since_epoch(year, month, day)?;
	Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn is_leap(year: u64) -> bool {
	(year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u64, month: u64) -> u64 {
	match month {
		2 if is_leap(year) => 29,
		2 => 28,
		4 | 6 | 9 | 11 => 30,
		_ => 31,
	}
}

/// Days from 1970-01-01 to the given date (the proleptic Gregorian calendar).
fn days_since_epoch(year: u64, month: u64, day: u64) -> Option<u64> {
	if year < 1970 {
		return None;
	}
	let years: u64 = (1970..year).map(|y| if is_leap(y) { 366 } else { 365 }).sum();
	let months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
	Some(years + months + day - 1)
}

#[cfg(test)]
mod tests {
	use super::parse_rfc3339;

	#[test]
	fn intel_dates_parse_to_unix_seconds() {
		assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
		assert_eq!(parse_rfc3339("2025-06-19T10:56:11Z"), Some(1_750_330_571));
		assert_eq!(parse_rfc3339("2024-02-29T23:59:59.123Z"), Some(1_709_251_199));
	}

	#[test]
	fn anything_else_is_refused() {
		for text in [
			"2025-06-19 10:56:11Z",
			"2025-06-19T10:56:11+01:00",
			"2025-02-29T00:00:00Z",
			"2025-13-01T00:00:00Z",
			"1969-12-31T23:59:59Z",
			"2025-06-19T10:56:1Z",
			"",
		] {
			assert_eq!(parse_rfc3339(text), None, "{text}");
		}
	}
}
