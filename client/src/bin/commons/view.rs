//! What the read commands print: each thing shown is a [`View`], a list of named fields, written
//! for people (`name: value` lines, amounts in CMN, tags by name) or, with `--json`, as one
//! JSON object for scripts (amounts as strings of units, so that no digit is lost).

use commons_runtime::{AccountId, Balance};
use serde_json::{Map, Value};

use crate::{amount::cmn, tags::tag_names};

/// One thing shown: its fields, each as JSON and as text.
#[derive(Default)]
pub struct View {
	fields: Vec<(&'static str, Value, String)>,
}

impl View {
	/// A view of nothing yet.
	pub fn new() -> Self {
		Self::default()
	}

	/// A field shown the same way to both: a number, or a string.
	pub fn field(mut self, name: &'static str, value: impl Into<Value>) -> Self {
		let value = value.into();
		let text = match &value {
			Value::String(text) => text.clone(),
			Value::Null => "-".into(),
			other => other.to_string(),
		};
		self.fields.push((name, value, text));
		self
	}

	/// Bytes the chain holds as text (a name, a URI): their UTF-8 reading.
	pub fn text(self, name: &'static str, bytes: &[u8]) -> Self {
		self.field(name, String::from_utf8_lossy(bytes).into_owned())
	}

	/// An account, in SS58.
	pub fn account(self, name: &'static str, account: &AccountId) -> Self {
		self.field(name, account.to_string())
	}

	/// A hash or other fixed bytes, in hex.
	pub fn hex(self, name: &'static str, bytes: impl AsRef<[u8]>) -> Self {
		self.field(name, sp_core::bytes::to_hex(bytes.as_ref(), false))
	}

	/// An amount: a string of units in JSON, CMN for people.
	pub fn amount(mut self, name: &'static str, units: Balance) -> Self {
		self.fields.push((name, units.to_string().into(), cmn(units)));
		self
	}

	/// A tag, by name.
	pub fn tag(self, name: &'static str, bits: u64) -> Self {
		self.field(name, tag_names(bits))
	}

	/// A field that is itself a view (a deal's app), on one line for people.
	pub fn nested(mut self, name: &'static str, view: View) -> Self {
		self.fields.push((name, view.json(), view.inline()));
		self
	}

	/// A field that is a list of views (a task's contributions), for people one item per line
	/// when it is short, else its lines indented under a dash.
	pub fn list(mut self, name: &'static str, views: Vec<View>) -> Self {
		let json = Value::Array(views.iter().map(View::json).collect());
		let text: String = views.iter().map(View::list_item).collect();
		self.fields.push((name, json, if text.is_empty() { "-".into() } else { text }));
		self
	}

	/// This view as an item of a list, starting with a line break: `- worker …, at 23` on one
	/// line, or, if that would be long or a field spans lines, its own lines indented.
	fn list_item(&self) -> String {
		const LONGEST_LINE: usize = 100;
		let inline = self.inline();
		if !inline.contains('\n') && inline.len() <= LONGEST_LINE {
			return format!("\n  - {inline}");
		}
		self.text_lines()
			.lines()
			.enumerate()
			.map(|(index, line)| format!("\n{}{line}", if index == 0 { "  - " } else { "    " }))
			.collect()
	}

	/// The fields on one line: `id 3, price 1 CMN`.
	fn inline(&self) -> String {
		let fields: Vec<String> =
			self.fields.iter().map(|(name, _, text)| format!("{name} {text}")).collect();
		fields.join(", ")
	}

	/// The JSON object.
	pub fn json(&self) -> Value {
		let object: Map<String, Value> = self
			.fields
			.iter()
			.map(|(name, value, _)| ((*name).to_owned(), value.clone()))
			.collect();
		Value::Object(object)
	}

	/// The lines for people.
	pub fn text_lines(&self) -> String {
		let width = self.fields.iter().map(|(name, _, _)| name.len() + 1).max().unwrap_or_default();
		self.fields
			.iter()
			.map(|(name, _, text)| match text.starts_with('\n') {
				// A list: its items on the lines below.
				true => format!("{name}:{text}\n"),
				false => format!("{:width$}  {text}\n", format!("{name}:")),
			})
			.collect()
	}
}

/// Prints `view`: one JSON object with `json`, else its lines.
pub fn print(view: &View, json: bool) {
	match json {
		true => write_out(format!("{}\n", view.json()).as_bytes()),
		false => write_out(view.text_lines().as_bytes()),
	}
}

/// Prints `views`: a JSON array with `json`, else each view's lines, a blank line between.
pub fn print_all(views: &[View], json: bool) {
	if json {
		let list = Value::Array(views.iter().map(View::json).collect());
		write_out(format!("{list}\n").as_bytes());
	} else {
		let blocks: Vec<String> = views.iter().map(View::text_lines).collect();
		write_out(blocks.join("\n").as_bytes());
	}
}

/// Writes `bytes` to standard output. A reader that stops reading (`commons tasks | head`) ends
/// the command quietly, as it ends `cat`, where `print!` would panic; the program keeps
/// ignoring SIGPIPE, which would otherwise kill it on a socket its node closed.
pub fn write_out(bytes: &[u8]) {
	use std::io::Write;
	let mut stdout = std::io::stdout().lock();
	if let Err(error) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
		if error.kind() == std::io::ErrorKind::BrokenPipe {
			std::process::exit(0);
		}
		eprintln!("commons: cannot write the output: {error}");
		std::process::exit(1);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_runtime::CMN;

	#[test]
	fn one_view_two_writings() {
		let owner = AccountId::from([1; 32]);
		let view = View::new()
			.field("id", 3)
			.text("name", b"monte-carlo")
			.account("owner", &owner)
			.amount("price", CMN / 2)
			.tag("tag", 1)
			.field("expiry", Value::Null)
			.list("members", vec![View::new().field("score", 15)]);
		let json = view.json();
		assert_eq!(json["id"], 3);
		assert_eq!(json["name"], "monte-carlo");
		assert_eq!(json["owner"], owner.to_string());
		assert_eq!(json["price"], (CMN / 2).to_string());
		assert_eq!(json["tag"], "tee");
		assert_eq!(json["expiry"], Value::Null);
		assert_eq!(json["members"][0]["score"], 15);
		let text = view.text_lines();
		assert!(text.contains("price:    0.5 CMN\n"), "{text}");
		assert!(text.contains("name:     monte-carlo\n"), "{text}");
		assert!(text.contains("expiry:   -\n"), "{text}");
		assert!(text.contains("members:\n  - score 15\n"), "{text}");
	}

	#[test]
	fn a_long_or_nested_item_of_a_list_is_written_as_indented_lines() {
		let worker = View::new().field("worker", "5DAAnrj7").field("at", 23);
		let task = View::new()
			.field("task", "0xba42")
			.field("result_location", "http://127.0.0.1:7301/results/".repeat(3))
			.list("assigned", vec![worker]);
		let text = View::new().field("deal", "0xe302").list("tasks", vec![task]).text_lines();
		let expected = "deal:   0xe302\ntasks:\n  - task:             0xba42\n    \
		                result_location:  ";
		assert!(text.starts_with(expected), "{text}");
		assert!(text.ends_with("\n    assigned:\n      - worker 5DAAnrj7, at 23\n"), "{text}");
	}
}
