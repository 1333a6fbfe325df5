//! GET /api/test/{all,user,mod,admin} for anonymous, user, moderator and admin, with the
//! access token sent each of the three ways docs/API.md accepts (one test per way).
use portcullis::domain::Role;
use serde_json::Value;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    role_matrix_holds_with_the_authorization_bearer_header,
    role_matrix_holds_with_the_x_access_token_header,
    role_matrix_holds_with_the_access_cookie,
);

async fn role_matrix_holds_with_the_authorization_bearer_header(db: DbKind) {
    role_matrix(db, Transport::Bearer).await
}

async fn role_matrix_holds_with_the_x_access_token_header(db: DbKind) {
    role_matrix(db, Transport::XAccessToken).await
}

async fn role_matrix_holds_with_the_access_cookie(db: DbKind) {
    role_matrix(db, Transport::Cookie).await
}

#[derive(Clone, Copy, Debug)]
enum Transport {
    Bearer,
    XAccessToken,
    Cookie,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    Content(&'static str),
    Forbidden(&'static str),
    NoToken,
}

use Expect::*;

const ROUTES: [&str; 4] = [
    "/api/test/all",
    "/api/test/user",
    "/api/test/mod",
    "/api/test/admin",
];

/// One row per caller, one column per route of `ROUTES`.
const MATRIX: [(&str, [Expect; 4]); 4] = [
    (
        "anonymous",
        [Content("Public Content."), NoToken, NoToken, NoToken],
    ),
    (
        "user",
        [
            Content("Public Content."),
            Content("User Content."),
            Forbidden("Require Moderator Role!"),
            Forbidden("Require Admin Role!"),
        ],
    ),
    (
        "moderator",
        [
            Content("Public Content."),
            Content("User Content."),
            Content("Moderator Content."),
            Forbidden("Require Admin Role!"),
        ],
    ),
    (
        "admin",
        [
            Content("Public Content."),
            Content("User Content."),
            Content("Moderator Content."),
            Content("Admin Content."),
        ],
    ),
];

async fn role_matrix(db: DbKind, transport: Transport) {
    let app = TestApp::spawn(db).await;
    let user = app.user_session("plain_user", &[]).await;
    let moderator = app.user_session("the_moderator", &[Role::Moderator]).await;
    // An admin without the moderator role still sees moderator content.
    let admin = app.user_session("the_admin", &[Role::Admin]).await;

    for (caller, expectations) in MATRIX {
        let session = match caller {
            "anonymous" => None,
            "user" => Some(&user),
            "moderator" => Some(&moderator),
            _ => Some(&admin),
        };
        for (route, expect) in ROUTES.iter().zip(expectations) {
            let mut request = app.client.get(app.url(route));
            if let Some(session) = session {
                let token = session.access.as_deref().expect("access token in body");
                request = match transport {
                    Transport::Bearer => request.header("Authorization", format!("Bearer {token}")),
                    Transport::XAccessToken => request.header("x-access-token", token),
                    Transport::Cookie => {
                        assert_eq!(
                            session.cookies["portcullis_access"].value, token,
                            "the access cookie holds the body's token"
                        );
                        request.header("Cookie", format!("portcullis_access={token}"))
                    }
                };
            }
            let response = request.send().await.expect("request");
            let cell = format!("{caller} GET {route} via {transport:?}");
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let text = response.text().await.expect("body");
            match expect {
                Content(body) => {
                    assert_eq!(status, 200, "{cell}: {text}");
                    assert_eq!(content_type, "text/plain; charset=utf-8", "{cell}");
                    assert_eq!(text, body, "{cell}");
                }
                Forbidden(message) => {
                    assert_eq!(status, 403, "{cell}: {text}");
                    assert_json_error(&cell, &content_type, &text, message, "forbidden");
                }
                NoToken => {
                    assert_eq!(status, 401, "{cell}: {text}");
                    assert_json_error(
                        &cell,
                        &content_type,
                        &text,
                        "No token provided!",
                        "unauthenticated",
                    );
                }
            }
        }
    }
    app.stop().await;
}

fn assert_json_error(cell: &str, content_type: &str, text: &str, message: &str, code: &str) {
    assert!(
        content_type.starts_with("application/json"),
        "{cell}: errors are JSON, got {content_type}"
    );
    let body: Value = serde_json::from_str(text).expect("json error body");
    assert_eq!(body["message"], message, "{cell}: {body}");
    assert_eq!(body["code"], code, "{cell}: {body}");
}
