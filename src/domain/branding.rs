//! What an operator may put on the pages and mails (docs/API.md §2, "Branding"): a product
//! name, a primary colour, a footer link and a logo, each checked here once, so the layers
//! that show them hold only values that obey the rules.

/// The name shown when the operator set none.
pub const DEFAULT_PRODUCT_NAME: &str = "Portcullis";

/// A product name: 1 to 60 characters once trimmed, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub const MAX: usize = 60;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > Self::MAX {
            return Err(format!(
                "productName must be 1 to {} characters.",
                Self::MAX
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("productName must not hold control characters.".into());
        }
        Ok(ProductName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A colour as `#rrggbb`, kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colour(String);

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let hex = raw.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("primaryColor must be a colour as #rrggbb.".into());
        }
        Ok(Colour(format!("#{}", hex.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The colour buttons have without branding (Bootstrap's primary).
pub const DEFAULT_COLOUR: &str = "#0d6efd";

/// White when it meets WCAG 2.2's 4.5:1 for text on `#rrggbb` (Bootstrap's rule, so the
/// app and the mails agree), else whichever of black and white contrasts more.
pub fn text_on(colour: &str) -> &'static str {
    let channel = |i: usize| {
        let value = colour
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0) as f64
            / 255.0;
        if value <= 0.04045 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let (with_white, with_black) = (1.05 / (luminance + 0.05), (luminance + 0.05) / 0.05);
    if with_white >= 4.5 || with_white >= with_black {
        "#ffffff"
    } else {
        "#000000"
    }
}

/// A link in the pages' footer (a privacy policy, the operator's home page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FooterLink {
    pub text: String,
    pub url: String,
}

impl FooterLink {
    pub const MAX_TEXT: usize = 60;
    pub const MAX_URL: usize = 2000;

    pub fn parse(text: &str, url: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty()
            || text.chars().count() > Self::MAX_TEXT
            || text.chars().any(char::is_control)
        {
            return Err(format!(
                "footerLink.text must be 1 to {} characters.",
                Self::MAX_TEXT
            ));
        }
        // Only http(s): the link is put in an href on every page, where `javascript:` would run.
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
        match parsed {
            Some(u) if url.len() <= Self::MAX_URL => Ok(FooterLink {
                text: text.to_string(),
                url: u.to_string(),
            }),
            _ => Err(format!(
                "footerLink.url must be an http or https URL of at most {} characters.",
                Self::MAX_URL
            )),
        }
    }
}

/// The image formats a logo may have, each known by its first bytes as well as its
/// declared type, so a file cannot be served as something it is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoType {
    Png,
    Jpeg,
    Webp,
    Svg,
}

impl LogoType {
    /// Plenty for a logo a sign-in page shows, and the size of any request body
    /// (`http::json_body::MAX_BODY_BYTES`), so one limit holds everywhere.
    pub const MAX_BYTES: usize = 64 * 1024;

    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/png" => Some(LogoType::Png),
            "image/jpeg" => Some(LogoType::Jpeg),
            "image/webp" => Some(LogoType::Webp),
            "image/svg+xml" => Some(LogoType::Svg),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            LogoType::Png => "image/png",
            LogoType::Jpeg => "image/jpeg",
            LogoType::Webp => "image/webp",
            LogoType::Svg => "image/svg+xml",
        }
    }

    /// Whether `bytes` look like this format.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            LogoType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            LogoType::Jpeg => bytes.starts_with(&[0xff, 0xd8, 0xff]),
            LogoType::Webp => {
                bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP"
            }
            LogoType::Svg => std::str::from_utf8(bytes).is_ok_and(|text| {
                let head = text.trim_start_matches('\u{feff}').trim_start();
                (head.starts_with("<svg") || head.starts_with("<?xml")) && text.contains("<svg")
            }),
        }
    }

    /// A logo of the declared type whose bytes are that type, or why not.
    pub fn check(content_type: &str, bytes: &[u8]) -> Result<Self, LogoRejection> {
        let kind = Self::from_content_type(content_type).ok_or(LogoRejection::Type)?;
        if bytes.len() > Self::MAX_BYTES {
            return Err(LogoRejection::TooLarge);
        }
        if bytes.is_empty() || !kind.matches(bytes) {
            return Err(LogoRejection::NotThatType(kind.content_type()));
        }
        Ok(kind)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogoRejection {
    /// Not PNG, JPEG, WebP or SVG.
    Type,
    TooLarge,
    /// The bytes are not the declared type.
    NotThatType(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_are_trimmed_and_bounded() {
        assert_eq!(
            ProductName::parse("  Acme ID ").unwrap().as_str(),
            "Acme ID"
        );
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse(&"x".repeat(61)).is_err());
        assert!(ProductName::parse(&"é".repeat(60)).is_ok());
        assert!(ProductName::parse("Acme\u{7}").is_err());
    }

    #[test]
    fn colours_are_six_hex_digits() {
        assert_eq!(Colour::parse("#7A1FA2").unwrap().as_str(), "#7a1fa2");
        for bad in ["7a1fa2", "#7a1fa", "#7a1fa2ff", "#zzzzzz", "red", ""] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_takes_the_colour_that_contrasts_more() {
        assert_eq!(text_on("#0d6efd"), "#ffffff");
        assert_eq!(text_on("#7a1fa2"), "#ffffff");
        assert_eq!(text_on("#ffd54f"), "#000000");
        assert_eq!(text_on("#ffffff"), "#000000");
        assert_eq!(text_on("#000000"), "#ffffff");
    }

    #[test]
    fn footer_links_are_http_or_https() {
        let link = FooterLink::parse(" Privacy ", "https://example.com/privacy").unwrap();
        assert_eq!(link.text, "Privacy");
        assert_eq!(link.url, "https://example.com/privacy");
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/privacy",
            "https://",
            "",
        ] {
            assert!(FooterLink::parse("Privacy", bad).is_err(), "{bad}");
        }
        assert!(FooterLink::parse("", "https://example.com").is_err());
        let long = format!("https://example.com/{}", "a".repeat(2000));
        assert!(FooterLink::parse("Privacy", &long).is_err());
    }

    #[test]
    fn logos_must_be_what_they_say() {
        let png = b"\x89PNG\r\n\x1a\n rest";
        assert_eq!(LogoType::check("image/png", png), Ok(LogoType::Png));
        assert_eq!(
            LogoType::check("image/jpeg", png),
            Err(LogoRejection::NotThatType("image/jpeg"))
        );
        assert_eq!(LogoType::check("text/html", png), Err(LogoRejection::Type));
        assert_eq!(
            LogoType::check(
                "image/svg+xml; charset=utf-8",
                b"<?xml version=\"1.0\"?><svg/>"
            ),
            Ok(LogoType::Svg)
        );
        assert!(LogoType::check("image/svg+xml", b"<html><script>").is_err());
        assert_eq!(
            LogoType::check("image/webp", b"RIFF\x10\0\0\0WEBPVP8 "),
            Ok(LogoType::Webp)
        );
        let big = [&png[..], &vec![0u8; LogoType::MAX_BYTES][..]].concat();
        assert_eq!(
            LogoType::check("image/png", &big),
            Err(LogoRejection::TooLarge)
        );
        assert!(LogoType::check("image/png", b"").is_err());
    }
}
