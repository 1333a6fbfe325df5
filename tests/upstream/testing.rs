/// Serves the router `app(base)` builds, where `base` is the server's own
/// `http://127.0.0.1:port` (discovery documents name their own URLs).
pub async fn serve(app: impl FnOnce(&str) -> axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(&base);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A provider's JSON answer. Not `axum::Json`: our own answers' rules (clippy.toml)
/// are no business of a stand-in for someone else's server.
pub fn json(value: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    let content_type = (axum::http::header::CONTENT_TYPE, "application/json");
    ([content_type], value.to_string()).into_response()
}
