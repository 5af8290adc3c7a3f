//! Statistics over the dataset `/in/dataset`, a CSV file with a header line: for each column
//! whose every value is a number, its count, sum, minimum, maximum and mean. Writes
//! `/out/result.json`.

use std::{fs, process::ExitCode};

struct Column {
	name: String,
	values: Vec<f64>,
	numeric: bool,
}

fn run() -> Result<(), String> {
	let text =
		fs::read_to_string("/in/dataset").map_err(|error| format!("cannot read: {error}"))?;
	let mut lines = text.lines().filter(|line| !line.trim().is_empty());
	let header = lines.next().ok_or("the dataset is empty")?;
	let mut columns: Vec<Column> = header
		.split(',')
		.map(|name| Column { name: name.trim().to_owned(), values: Vec::new(), numeric: true })
		.collect();
	for (number, line) in lines.enumerate() {
		let fields: Vec<&str> = line.split(',').collect();
		if fields.len() != columns.len() {
			return Err(format!(
				"row {} has {} fields, not {}",
				number + 2,
				fields.len(),
				columns.len()
			));
		}
		for (column, field) in columns.iter_mut().zip(fields) {
			match field.trim().parse::<f64>() {
				Ok(value) => column.values.push(value),
				Err(_) => column.numeric = false,
			}
		}
	}
	let stats: Vec<String> = columns
		.iter()
		.filter(|column| column.numeric && !column.values.is_empty())
		.map(|column| {
			let count = column.values.len();
			let sum: f64 = column.values.iter().sum();
			let min = column.values.iter().copied().fold(f64::INFINITY, f64::min);
			let max = column.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
			let mean = sum / count as f64;
			format!(
				"{{\"column\":{:?},\"count\":{count},\"sum\":{sum},\"min\":{min},\"max\":{max},\"mean\":{mean}}}",
				column.name
			)
		})
		.collect();
	let result = format!("[{}]\n", stats.join(","));
	fs::write("/out/result.json", result).map_err(|error| format!("cannot write: {error}"))
}

fn main() -> ExitCode {
	match run() {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("csv-stats: {error}");
			ExitCode::from(2)
		}
	}
}
