//! The languages the pages and mails speak (docs/API.md §1, "Languages"). API answers keep
//! their English `message` and stable `code`; clients translate from the code.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    De,
    Es,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::De, Locale::Es];

    /// The BCP 47 tag, as stored and as the web app names its translations.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Es => "es",
        }
    }

    /// A language tag's primary language, if we speak it: `de-AT` is German.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Locale::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The best language we speak of an `Accept-Language` value (RFC 9110 §12.5.4): the
    /// highest weight, the first listed among equals; none when it names none of ours.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q));
            match weight {
                Some(q) if q > 0.0 && best.is_none_or(|(b, _)| q > b) => best = Some((q, locale)),
                _ => {}
            }
        }
        best.map(|(_, locale)| locale)
    }
}

#[cfg(test)]
mod tests {
    use super::Locale;

    #[test]
    fn tags_name_the_primary_language() {
        assert_eq!(Locale::parse("de-AT"), Some(Locale::De));
        assert_eq!(Locale::parse("ES"), Some(Locale::Es));
        assert_eq!(Locale::parse("en_GB"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_we_speak() {
        assert_eq!(
            Locale::negotiate("de-DE,de;q=0.9,en;q=0.8"),
            Some(Locale::De)
        );
        assert_eq!(
            Locale::negotiate("fr-FR, es;q=0.7, en;q=0.5"),
            Some(Locale::Es)
        );
        assert_eq!(Locale::negotiate("en;q=0.5, de;q=0.8"), Some(Locale::De));
        assert_eq!(
            Locale::negotiate("es, de"),
            Some(Locale::Es),
            "first among equals"
        );
        assert_eq!(Locale::negotiate("de;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::negotiate("fr, it"), None);
        assert_eq!(Locale::negotiate("de;q=bad, es;q=0.2"), Some(Locale::Es));
        assert_eq!(Locale::negotiate(""), None);
    }
}
