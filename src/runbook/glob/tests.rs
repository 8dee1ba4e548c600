//! The matcher on the usual globs, on characters, on any number of alternatives, and against
//! `globset` itself wherever the two mean the same (ASCII names, no empty alternative).

use proptest::prelude::*;

use super::NameGlob;

fn m(glob: &str, name: &str) -> bool {
    NameGlob::new(glob).expect("compiles").matches(name)
}

#[test]
fn characters_not_bytes() {
    assert!(m("?clair", "éclair"));
    assert!(m("cr[!e]me", "crème"));
    assert!(m("cr[è]me", "crème"));
    assert!(!m("?clair", "clair"));
}

#[test]
fn the_usual_glob() {
    assert!(m("orders-*-cdc", "orders-01-cdc"));
    assert!(!m("orders-*-cdc", "orders-01-cdc2"));
    assert!(m("*", ""));
    assert!(m("a*b*c", "aXbYbZc"));
    assert!(m("[a-c]x", "bx"));
    assert!(!m("[!a-c]x", "bx"));
    assert!(m("{orders,ledger}-*", "ledger-1"));
    assert!(!m("{orders,ledger}-*", "x-1"));
    assert!(m("a\\*b", "a*b"));
    assert!(!m("a\\*b", "aXb"));
    assert!(m("[]a]", "]"));
    assert!(m("[a-]", "-"));
}

/// A `name_glob` means the same, whatever its number of `{…}` alternatives and however they
/// nest: `?` takes one character (`é` included) in every one.
#[test]
fn a_glob_matches_the_same_names_however_many_alternatives_it_has() {
    // 2^10 = 1,024 alternatives, then 2^11.
    for groups in [10, 11] {
        let glob = format!("{}?clair", "{a,b}".repeat(groups));
        let name = format!("{}éclair", "a".repeat(groups));
        let compiled = NameGlob::new(&glob).expect("a glob");
        assert!(compiled.matches(&name), "{groups} groups: {glob} / {name}");
    }
    let nested = NameGlob::new("{x,{y,z}}?clair").expect("a glob");
    assert!(nested.matches("zéclair"), "nested alternatives");
}

#[test]
fn alternatives_are_never_multiplied_out() {
    // 2^64 alternatives as a list; a few hundred states as an automaton.
    let glob = NameGlob::new(&"{a,b}".repeat(64)).expect("a glob");
    assert!(glob.automaton.states.len() < 1000);
    assert!(glob.matches(&"ab".repeat(32)));
    assert!(!glob.matches(&"ab".repeat(31)));
}

#[test]
fn the_readings_globset_and_a_shell_differ_on_keep_their_old_meaning() {
    // An empty alternative takes the empty string.
    assert!(m("x{a,}", "x"));
    // POSIX classes, as globset reads them.
    assert!(m("[[:digit:]]-*", "7-x"));
    assert!(!m("[[:digit:]]-*", "x-7"));
    assert!(m("[[:nope:]]", "["));
    // Errors are globset's.
    let err = NameGlob::new("orders-[").unwrap_err();
    assert_eq!(err.to_string(), "unclosed character class; missing ']'");
}

/// Globs of a small alphabet full of syntax, and names of its plain characters.
fn glob() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            "a",
            "b",
            "-",
            "?",
            "*",
            "[",
            "]",
            "!",
            "^",
            "{",
            "}",
            ",",
            "\\",
            "é",
            "[:alpha:]",
            "[a-",
            "-]",
            "[!",
            "{a,",
            ",b}",
            "b]",
        ]),
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', '-', '!', ']', ',']),
        0..8,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Every glob globset reads, this reads; and on ASCII, without an empty alternative (which
    /// globset drops), both match the same names.
    #[test]
    fn reads_what_globset_reads_and_matches_as_it_does(glob in glob(), names in proptest::collection::vec(name(), 8)) {
        let Ok(theirs) = globset::GlobBuilder::new(&glob).literal_separator(false).build() else {
            return Ok(());
        };
        let ours = NameGlob::new(&glob);
        prop_assert!(ours.is_ok(), "{glob}: {ours:?}");
        let ours = ours.unwrap();
        let comparable = glob.is_ascii()
            && !["{,", ",,", ",}"].iter().any(|empty| glob.contains(empty));
        if comparable {
            let theirs = theirs.compile_matcher();
            for name in &names {
                prop_assert_eq!(ours.matches(name), theirs.is_match(name), "{} / {}", glob, name);
            }
        }
    }
}
