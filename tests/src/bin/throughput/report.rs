//! The harness's report: a Markdown table of the waves, the tasks of each kind as ratios to
//! transfers, and an SVG plot of transactions included per block.

use std::{fmt::Write as _, ops::Range};

use crate::wave::Outcome;

/// Tasks of one kind (trust, deal volume): which waves they took.
pub struct TaskRun {
	/// What the tasks were: their trust and deal volume.
	pub label: String,
	/// Their waves in the outcomes, from the match to the one that finalized them.
	pub waves: Range<usize>,
	/// How many tasks the last wave finalized.
	pub finalized: usize,
}

/// Where the figures were measured.
pub struct Machine {
	cpu: String,
	cores: usize,
	date: String,
	validators: usize,
}

impl Machine {
	/// This machine, today, with `validators` validators.
	pub fn here(validators: usize) -> Self {
		let cpu = std::fs::read_to_string("/proc/cpuinfo")
			.ok()
			.and_then(|info| {
				info.lines()
					.find(|line| line.starts_with("model name"))
					.and_then(|line| line.split(':').nth(1))
					.map(|name| name.trim().to_owned())
			})
			.unwrap_or_else(|| "unknown CPU".into());
		let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
		let date = std::process::Command::new("date")
			.arg("-u")
			.arg("+%Y-%m-%d %H:%M UTC")
			.output()
			.ok()
			.map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
			.unwrap_or_default();
		Self { cpu, cores, date, validators }
	}
}

/// The report: the machine, one row per wave, then the tasks per volume against transfers.
pub fn markdown(machine: &Machine, outcomes: &[Outcome], runs: &[TaskRun]) -> String {
	let mut text = String::new();
	let _ = writeln!(
		text,
		"Measured {} on {} ({} cores), {} validator(s), {} build.\n",
		machine.date,
		machine.cpu,
		machine.cores,
		machine.validators,
		if cfg!(debug_assertions) { "debug" } else { "optimized" }
	);
	text.push_str(
		"| wave | submitted (s to submit) | refused | dropped | included | blocks | best block \
		 | per second | weight each (µs) | finalized by (p50 / p95 / max, s) |\n\
		 |---|---|---|---|---|---|---|---|---|---|\n",
	);
	for outcome in outcomes {
		let _ = writeln!(
			text,
			"| {} | {} ({:.1}) | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} / {:.1} / {:.1} |",
			outcome.name,
			outcome.submitted,
			outcome.submission.as_secs_f64(),
			outcome.refused.values().sum::<usize>(),
			outcome.dropped(),
			outcome.included_by_nonce,
			blocks(outcome),
			outcome.best_block(),
			outcome.per_second(),
			outcome.ref_time_each() / 1e6,
			outcome.inclusion_percentile(50).as_secs_f64(),
			outcome.inclusion_percentile(95).as_secs_f64(),
			outcome.inclusion_percentile(100).as_secs_f64(),
		);
	}
	for outcome in outcomes {
		for (reason, count) in &outcome.refused {
			let _ = writeln!(text, "\n{}: {count} refused: {reason}", outcome.name);
		}
	}
	let Some(transfers) = outcomes.first() else { return text };
	let transfer_weight = transfers.ref_time_each();
	text.push_str(
		"\n| tasks | finalized | weight per task (µs) | in transfers of \
		 weight | tasks per block by weight | seconds for all its waves | tasks per second \
		 | in transfers per second |\n|---|---|---|---|---|---|---|---|\n",
	);
	for run in runs {
		let waves = &outcomes[run.waves.clone()];
		let weight: f64 = waves
			.iter()
			.map(|wave| wave.ref_time_each() * f64::from(wave.included()))
			.sum::<f64>()
			/ run.finalized.max(1) as f64;
		let seconds: f64 = waves
			.iter()
			.filter_map(|wave| wave.blocks.last())
			.map(|last| last.seen_after.as_secs_f64())
			.sum();
		let per_second = run.finalized as f64 / seconds.max(f64::EPSILON);
		let per_block = normal_block_ref_time() as f64 / weight.max(1.0);
		let _ = writeln!(
			text,
			"| {} | {} | {:.1} | {:.2} | {:.0} | {:.1} | {:.1} | {:.3} |",
			run.label,
			run.finalized,
			weight / 1e6,
			weight / transfer_weight.max(1.0),
			per_block,
			seconds,
			per_second,
			per_second / transfers.per_second().max(f64::EPSILON),
		);
	}
	text
}

/// The WASI module against native code, as a Markdown table.
pub fn execution(compared: &crate::execution::Comparison) -> String {
	format!(
		"\n| monte-carlo `{}`, median of {} runs | seconds |\n|---|---|\n\
		 | WASI module, its first run (compiling it included) | {:.3} |\n\
		 | WASI module, compiled (wasmtime, fuel metered, NaNs canonical where seen) | {:.3} |\n\
		 | native static binary | {:.3} |\n\
		 | WASI / native | {:.2} |\n\nSame result bytes both ways: {}.\n",
		compared.params,
		compared.runs,
		compared.wasi_first.as_secs_f64(),
		compared.wasi.as_secs_f64(),
		compared.native.as_secs_f64(),
		compared.ratio(),
		if compared.same_result { "yes" } else { "NO" },
	)
}

/// The blocks a wave took: how many, first and last.
fn blocks(outcome: &Outcome) -> String {
	match (outcome.blocks.first(), outcome.blocks.last()) {
		(Some(first), Some(last)) => {
			format!("{} (#{}–#{})", outcome.blocks.len(), first.number, last.number)
		}
		_ => "0".into(),
	}
}

/// The normal-class weight (ref time) a block may hold.
fn normal_block_ref_time() -> u64 {
	use frame_support::dispatch::DispatchClass;
	let weights = <commons_runtime::Runtime as frame_system::Config>::BlockWeights::get();
	weights
		.get(DispatchClass::Normal)
		.max_total
		.unwrap_or(weights.max_block)
		.ref_time()
}

/// An SVG plot of the transactions each block included, the waves one after another, coloured
/// by kind of transaction.
pub fn svg(outcomes: &[Outcome]) -> String {
	const WIDTH: f64 = 960.0;
	const HEIGHT: f64 = 360.0;
	const MARGIN: f64 = 40.0;
	const COLOURS: [&str; 6] = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];
	// A wave's kind is its name without the volume: "match (volume 10)" is a match.
	let kind = |outcome: &Outcome| outcome.name.split(" (").next().unwrap_or_default().to_owned();
	let mut kinds: Vec<String> = Vec::new();
	for outcome in outcomes {
		if !kinds.contains(&kind(outcome)) {
			kinds.push(kind(outcome));
		}
	}
	let colour = |outcome: &Outcome| {
		let index = kinds.iter().position(|known| *known == kind(outcome)).unwrap_or(0);
		COLOURS[index % COLOURS.len()]
	};
	let bars: Vec<(&str, u32)> = outcomes
		.iter()
		.flat_map(|outcome| {
			outcome.blocks.iter().map(move |block| (colour(outcome), block.included))
		})
		.collect();
	let highest = bars.iter().map(|(_, count)| *count).max().unwrap_or(1).max(1);
	let width = (WIDTH - 2.0 * MARGIN) / bars.len().max(1) as f64;
	let mut svg = format!(
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
		 font-family=\"sans-serif\" font-size=\"11\">\n<text x=\"{MARGIN}\" y=\"20\">\
		 transactions included per block, waves in order (tallest bar: {highest})</text>\n"
	);
	for (position, (fill, count)) in bars.iter().enumerate() {
		let height = (HEIGHT - 2.0 * MARGIN) * f64::from(*count) / f64::from(highest);
		let _ = writeln!(
			svg,
			"<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"{fill}\"/>",
			MARGIN + position as f64 * width,
			HEIGHT - MARGIN - height,
			(width - 1.0).max(0.5),
		);
	}
	for (index, name) in kinds.iter().enumerate() {
		let _ = writeln!(
			svg,
			"<text x=\"{:.0}\" y=\"{:.0}\" fill=\"{}\">{name}</text>",
			MARGIN + index as f64 * 170.0,
			HEIGHT - MARGIN + 20.0,
			COLOURS[index % COLOURS.len()],
		);
	}
	svg.push_str("</svg>\n");
	svg
}
