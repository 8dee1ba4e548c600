//! The report formats a run writes, as a type: each flag names one, and each format has one
//! writer, so the choice of writer is a match on a variant, never on a string.

use std::io::{self, Write};

use super::view::View;

/// One of the run report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `--report-json`: the contract's JSON report.
    Json,
    /// `--report-junit`: one testcase per stop, grouped by phase.
    Junit,
    /// `--report-md`: the review-ready Markdown summary.
    Markdown,
    /// `--report-html`: one self-contained page.
    Html,
}

impl Format {
    /// Every format, in the order a run writes them.
    pub const ALL: [Format; 4] = [Format::Json, Format::Junit, Format::Markdown, Format::Html];

    /// How messages name the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Junit => "JUnit",
            Format::Markdown => "Markdown",
            Format::Html => "HTML",
        }
    }

    /// Writes the run in `view` in this format.
    pub fn write<W: Write>(self, out: W, view: &View) -> io::Result<()> {
        match self {
            Format::Json => super::json::write(out, view),
            Format::Junit => super::junit::write(out, view),
            Format::Markdown => super::markdown::write(out, view),
            Format::Html => super::html::write(out, view),
        }
    }
}
