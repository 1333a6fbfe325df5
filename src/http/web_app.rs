//! The web app (`web/`), built into `web/dist/browser` and embedded in release binaries:
//! served at `/` with `index.html` for client-side routes, so one process serves the API
//! and the app on one origin. Debug builds read the folder from disk. The build writes a
//! brotli and a gzip copy of each text file (`web/scripts/precompress.mjs`); a browser
//! that accepts one gets it, and no request pays for compressing.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;

#[derive(Embed)]
#[folder = "web/dist/browser/"]
#[allow_missing = true]
struct Assets;

/// Scripts only from our origin; Angular adds component styles at run time, hence inline styles.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The router's fallback: the API's unknown paths get our JSON 404; everything else is the app.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/health")
        || path == "/metrics"
    {
        return ApiError::not_found().into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "Method not allowed.",
        )
        .into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(asset) = (!file.is_empty()).then(|| Assets::get(file)).flatten() {
        return asset_response(file, asset.data.into_owned(), &headers);
    }
    // A path with an extension names a file that is not there; anything else is a client
    // route (/login, /admin/users) that the app's router resolves.
    let last = file.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return ApiError::not_found().into_response();
    }
    match Assets::get("index.html") {
        Some(index) => asset_response("index.html", index.data.into_owned(), &headers),
        None => not_built(),
    }
}

/// The encodings the build wrote, best first, by file suffix and `Content-Encoding`.
const ENCODINGS: [(&str, &str); 2] = [("br", "br"), ("gz", "gzip")];

/// The file's precompressed copy in the best encoding the request accepts, if any.
fn compressed(file: &str, request: &HeaderMap) -> Option<(&'static str, Vec<u8>)> {
    let accepted = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    ENCODINGS.iter().find_map(|(suffix, encoding)| {
        if !accepts(&accepted, encoding) {
            return None;
        }
        Assets::get(&format!("{file}.{suffix}")).map(|a| (*encoding, a.data.into_owned()))
    })
}

/// Whether an `Accept-Encoding` value takes `encoding` (RFC 9110 §12.5.3): named, or by
/// `*`, with a weight above zero.
fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    let mut star = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let weight_zero = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case(encoding) {
            return !weight_zero;
        }
        if name == "*" {
            star = !weight_zero;
        }
    }
    star
}

fn asset_response(file: &str, bytes: Vec<u8>, request: &HeaderMap) -> Response {
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let (encoding, bytes) = match compressed(file, request) {
        Some((encoding, smaller)) => (Some(encoding), smaller),
        None => (None, bytes),
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    // Whether a copy exists is the build's business; the answer depends on the header.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // Angular's build puts a content hash in every file name but index.html.
    let cache = if file == "index.html" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if file.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Portcullis</title><p>The web app is not built into this binary. \
         Build it with <code>scripts/run</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>) \
         and rebuild Portcullis. The API is at <a href=\"/api/docs\">/api/docs</a>.</p>",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip, deflate", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*;q=0", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "gzip"));
    }
}
