"""Figure 10: what one address can make the server store before anyone signs in.

Sends N authorization requests that must wait for consent and N passkey sign-in starts
from one address over one keep-alive connection each, then counts what the database holds
(rows, and the bytes of their stored state). Prints one line:
  authorize_ok authorize_429 passkey_ok passkey_429 pending_rows pending_bytes ceremony_rows ceremony_bytes
  python3 anonymous_storage.py BASE_URL DB_PATH CLIENT_ID REDIRECT_URI N
"""
import http.client
import sqlite3
import sys
import urllib.parse


def main():
    base, db_path, client_id, redirect_uri, n = sys.argv[1:6]
    n = int(n)
    url = urllib.parse.urlsplit(base)
    counts = {"authorize": {}, "passkey": {}}
    query = urllib.parse.urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": "s" * 32,
        "nonce": "n" * 32,
    })
    conn = http.client.HTTPConnection(url.hostname, url.port)
    for _ in range(n):
        conn.request("GET", f"/api/oauth/authorize?{query}")
        response = conn.getresponse()
        response.read()
        counts["authorize"][response.status] = counts["authorize"].get(response.status, 0) + 1
    conn.close()
    conn = http.client.HTTPConnection(url.hostname, url.port)
    for _ in range(n):
        # No body, as the web app sends it (a body the route never reads would make the
        # server close the kept-alive connection now and then).
        conn.request("POST", "/api/auth/passkeys/signin/start")
        response = conn.getresponse()
        response.read()
        counts["passkey"][response.status] = counts["passkey"].get(response.status, 0) + 1
    conn.close()
    db = sqlite3.connect(db_path)
    pending_rows, pending_bytes = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(request) + LENGTH(token_hash)), 0) FROM oauth_pending"
    ).fetchone()
    ceremony_rows, ceremony_bytes = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(state) + LENGTH(challenge_hash)), 0) FROM webauthn_ceremonies"
    ).fetchone()
    print(
        counts["authorize"].get(302, 0), counts["authorize"].get(429, 0),
        counts["passkey"].get(200, 0), counts["passkey"].get(429, 0),
        pending_rows, pending_bytes, ceremony_rows, ceremony_bytes,
    )


if __name__ == "__main__":
    main()
