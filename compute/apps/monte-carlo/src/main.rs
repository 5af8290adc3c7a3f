//! Estimates π by sampling points in the unit square, seeded by its arguments:
//! `--samples N --seed S`. Writes `/out/result.json`. Deterministic: same arguments, same bytes.

use std::{fs, process::ExitCode};

/// A small, fast generator (xorshift64*): the estimate depends only on the seed.
struct XorShift(u64);

impl XorShift {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// A float in [0, 1) from the top 53 bits.
	fn unit(&mut self) -> f64 {
		(self.next() >> 11) as f64 / (1u64 << 53) as f64
	}
}

fn argument(args: &[String], name: &str) -> Result<u64, String> {
	let position = args.iter().position(|arg| arg == name).ok_or(format!("missing {name}"))?;
	let value = args.get(position + 1).ok_or(format!("{name} needs a value"))?;
	value
		.parse()
		.map_err(|_| format!("{name} must be a whole number, not {value:?}"))
}

fn run() -> Result<(), String> {
	let args: Vec<String> = std::env::args().collect();
	let samples = argument(&args, "--samples")?;
	let seed = argument(&args, "--seed")?;
	let mut generator = XorShift(seed | 1);
	let inside = (0..samples)
		.filter(|_| {
			let (x, y) = (generator.unit(), generator.unit());
			x * x + y * y < 1.0
		})
		.count() as u64;
	let estimate = 4.0 * inside as f64 / samples.max(1) as f64;
	let result = format!(
		"{{\"samples\":{samples},\"seed\":{seed},\"inside\":{inside},\"pi\":{estimate}}}\n"
	);
	fs::write("/out/result.json", result).map_err(|error| format!("cannot write: {error}"))
}

fn main() -> ExitCode {
	match run() {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("monte-carlo: {error}");
			ExitCode::from(2)
		}
	}
}
