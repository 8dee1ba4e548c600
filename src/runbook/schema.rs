//! The runbook's JSON Schema (draft-07), generated from [`super::raw`] for editors such as the
//! YAML language server. `schema/runbook.schema.json` is this output, kept in sync by a test.

use schemars::generate::SchemaSettings;

use super::raw::RawRunbook;

/// The schema as pretty JSON with a trailing newline, exactly as committed.
pub fn runbook_schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawRunbook>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
