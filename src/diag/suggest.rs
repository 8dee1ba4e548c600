//! "Did you mean" hints for misspelt keys and values, so a typo is fixed from the message alone.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&word, c), *c))
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    const KEYS: &[&str] = &["concurrency", "rate", "max_failures"];

    #[test]
    fn close_typos_are_suggested() {
        assert_eq!(did_you_mean("concurency", KEYS), Some("concurrency"));
        assert_eq!(did_you_mean("rtae", KEYS), Some("rate"));
        assert_eq!(did_you_mean("Max_Failures", KEYS), Some("max_failures"));
    }

    #[test]
    fn unrelated_words_are_not() {
        assert_eq!(did_you_mean("colour", KEYS), None);
        assert_eq!(did_you_mean("x", &[]), None);
    }
}
