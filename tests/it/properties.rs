//! Property tests: no input panics the loader, and planning is a pure function of the runbook.

use std::path::Path;

use proptest::prelude::*;
use stopbook::plan::Plan;
use stopbook::runbook::load_str;

fn load(text: &str) -> Option<stopbook::runbook::Runbook> {
    load_str("prop.yaml", text.to_owned(), Path::new("/nonexistent")).ok()
}

const QUICKSTART: &str = include_str!("../../runbooks/quickstart.yaml");

/// Text made of YAML's structural characters and runbook words, so that many cases parse.
fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "version: ",
        "name: ",
        "phases:",
        "stops:",
        "  - ",
        "job: ",
        "force: ",
        "true",
        "1",
        "\n",
        "  ",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "&a ",
        "*a",
        "<<: ",
        "\"",
        "'",
        "#",
        "wait: false",
        "expect: ",
        "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
        "limits: { concurrency: 2 }",
        "30s",
        "5/s",
        "~",
        "!!str ",
        "|",
        ">",
        "---\n",
        "...",
        "\t",
        "é",
        "\u{feff}",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn yamlish_text_never_panics(text in yamlish()) {
        let _ = load(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = load(&text);
    }

    #[test]
    fn damaged_runbooks_never_panic(cut in 0usize..QUICKSTART.len(), insert in ".{0,8}") {
        let cut = (0..=cut).rev().find(|&i| QUICKSTART.is_char_boundary(i)).unwrap_or(0);
        let text = format!("{}{}{}", &QUICKSTART[..cut], insert, &QUICKSTART[cut..]);
        let _ = load(&text);
    }

    #[test]
    fn planning_is_deterministic(
        phases in prop::collection::vec(
            (1u32..4, prop::collection::vec((any::<bool>(), prop::option::of("[a-z]{1,8}"), 0u8..3), 1..6)),
            1..4,
        ),
        concurrency in 3u32..10,
    ) {
        let mut text = format!("version: 1\nname: generated\nlimits: {{ concurrency: {concurrency}, max_failures: 10% }}\nphases:\n");
        let mut n = 0u32;
        for (i, (phase_concurrency, stops)) in phases.iter().enumerate() {
            text.push_str(&format!("  - name: phase-{i}\n    concurrency: {phase_concurrency}\n    stops:\n"));
            for (force, label, expect) in stops {
                n += 1;
                text.push_str(&format!("      - job: {n:08}-0000-4000-8000-00000000jb{:02}\n", n % 100));
                text.push_str(&format!("        force: {force}\n"));
                if let Some(label) = label {
                    text.push_str(&format!("        label: {label}\n"));
                }
                text.push_str(match expect {
                    0 => "        expect: stopped\n",
                    1 => "        expect: accepted\n",
                    _ => "        expect: { http: 400, error_code: DRS.10000010 }\n",
                });
            }
        }
        let first = Plan::new(load(&text).expect("generated runbooks are valid"));
        let second = Plan::new(load(&text).expect("generated runbooks are valid"));
        prop_assert_eq!(&first.plan_id, &second.plan_id);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        first.write_json(&mut a).unwrap();
        second.write_json(&mut b).unwrap();
        prop_assert_eq!(&a, &b);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        first.write_markdown(&mut a).unwrap();
        second.write_markdown(&mut b).unwrap();
        prop_assert_eq!(a, b);
        prop_assert_eq!(first.totals().stops as u32, n);
    }
}
