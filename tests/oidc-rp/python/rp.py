"""A real relying party, Authlib's requests client, signing alice in through Portcullis,
and a resource server checking the access tokens offline with PyJWT.

Run by tests/oidc-rp/run with ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, RP_USERNAME,
RP_EMAIL, RP_PASSWORD and EXPECTED_ALG set. The browser's part (sign-in, consent) is plain
HTTP with a cookie jar. Prints a line per step; exits 1 at the first failure.
"""

import base64
import json
import os
import secrets
import sys
import traceback
import urllib.parse
import warnings

import requests

# authlib.jose still works in Authlib 1.x but warns that joserfc is its successor.
warnings.filterwarnings("ignore", message=".*authlib.jose module is deprecated.*")

import jwt as pyjwt  # noqa: E402  (PyJWT)
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey  # noqa: E402
from authlib.jose import jwt as authlib_jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

ISSUER = os.environ["ISSUER"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
REDIRECT_URI = os.environ["REDIRECT_URI"]
USERNAME = os.environ["RP_USERNAME"]
EMAIL = os.environ["RP_EMAIL"]
PASSWORD = os.environ["RP_PASSWORD"]
EXPECTED_ALG = os.environ["EXPECTED_ALG"]
# Access tokens follow PORTCULLIS_ACCESS_TOKEN_ALG, ID tokens the client's registration.
EXPECTED_ACCESS_ALG = os.environ["EXPECTED_ACCESS_ALG"]
SCOPE = "openid profile email roles offline_access"

step = 0


def ok(what):
    global step
    step += 1
    print(f"  ok {step} - {what}", flush=True)


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header_of(token):
    return json.loads(b64url_decode(token.split(".")[0]))


def describe(res):
    return f"{res.request.method} {res.request.url} -> {res.status_code} {res.headers.get('location', '')} {res.text[:500]}"


def sign_in():
    """Signs alice in at Portcullis' own API, as the web app does: a browser with cookies."""
    browser = requests.Session()
    res = browser.post(f"{ISSUER}/api/auth/signin", json={"username": USERNAME, "password": PASSWORD})
    assert res.status_code == 200, describe(res)
    assert res.json().get("accessToken"), "signin answers accessToken"
    names = {c.name for c in browser.cookies}
    assert {"portcullis_access", "portcullis_refresh"} <= names, f"signin cookies: {names}"
    return browser


def authorize(browser, url):
    """Takes the browser to the authorization URL, consents if asked; the callback URL."""
    res = browser.get(url, allow_redirects=False)
    assert res.status_code == 302, describe(res)
    location = urllib.parse.urljoin(ISSUER, res.headers["location"])
    if location.startswith(REDIRECT_URI):
        return location
    assert location.startswith(f"{ISSUER}/oauth/consent?request="), f"authorize sent to {location}"
    request = requests.utils.unquote(location.split("request=", 1)[1].split("&")[0])
    res = browser.post(f"{ISSUER}/api/oauth/requests/{request}", json={"approve": True})
    assert res.status_code == 200, describe(res)
    redirect_to = res.json()["redirectTo"]
    assert redirect_to.startswith(REDIRECT_URI), redirect_to
    return redirect_to


def expect_status(res, status, what):
    assert res.status_code == status, f"{what}: {describe(res)}"


def main():
    print(f"Authlib + PyJWT relying party against {ISSUER} ({EXPECTED_ALG})", flush=True)

    meta = requests.get(f"{ISSUER}/.well-known/openid-configuration").json()
    assert meta["issuer"] == ISSUER, meta["issuer"]
    assert EXPECTED_ALG in meta["id_token_signing_alg_values_supported"], meta
    assert "client_credentials" in meta["grant_types_supported"], meta["grant_types_supported"]
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
    jwks = requests.get(meta["jwks_uri"]).json()
    assert jwks["keys"], "the JWKS has keys"
    for key in jwks["keys"]:
        assert key.get("kid") and key.get("use") == "sig" and key.get("alg"), key
        assert "d" not in key and "p" not in key, "no private key material is published"
    key_set = JsonWebKey.import_key_set(jwks)
    ok(f"discovery and JWKS ({', '.join(k['alg'] for k in jwks['keys'])})")

    # 1. Code flow with PKCE (S256), state and nonce; client_secret_basic at the token endpoint.
    session = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    code_verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in url and "code_challenge=" in url, url
    browser = sign_in()
    callback = authorize(browser, url)
    params = dict(requests.utils.urlparse(callback).query.split("=", 1) for _ in [0] for _ in [0]) if False else None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(callback).query)
    assert query["state"] == [state], query
    assert query["iss"] == [ISSUER], f"RFC 9207 iss: {query.get('iss')}"
    ok("signin, authorization request, consent, approval: callback with code, state, iss")

    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=code_verifier
    )
    assert token["token_type"].lower() == "bearer", token
    assert token.get("refresh_token") and token.get("id_token") and token.get("access_token"), token.keys()
    ok("code grant (client_secret_basic, code_verifier): access, ID and refresh tokens")

    # The ID token, checked with Authlib against the published keys: signature, iss, aud,
    # nonce, exp/iat, azp and at_hash (CodeIDToken).
    id_token = token["id_token"]
    assert header_of(id_token)["alg"] == EXPECTED_ALG, header_of(id_token)
    claims = authlib_jwt.decode(
        id_token,
        key_set,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": ISSUER},
            "aud": {"essential": True, "value": CLIENT_ID},
            "nonce": {"essential": True, "value": nonce},
            "sub": {"essential": True},
        },
        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate()
    assert claims["azp"] == CLIENT_ID
    assert claims["sub"].isdigit(), claims["sub"]
    assert claims["preferred_username"] == USERNAME
    assert claims["email"] == EMAIL and claims["email_verified"] is True
    assert "moderator" in claims["roles"], claims["roles"]
    assert claims["amr"] == ["pwd"] and claims["acr"] == "1", claims
    sub = claims["sub"]
    ok(f"ID token ({EXPECTED_ALG}) verified by Authlib: iss, aud, nonce, at_hash, azp; sub {sub}, alice, roles")

    res = session.get(meta["userinfo_endpoint"])
    expect_status(res, 200, "userinfo")
    info = res.json()
    assert info["sub"] == sub and info["preferred_username"] == USERNAME and info["email"] == EMAIL, info
    assert "moderator" in info["roles"], info
    ok("userinfo through the session: the same sub, alice, email, roles")

    # 2. The resource server: PyJWT checks the access token offline against the JWKS.
    access_token = token["access_token"]
    header = header_of(access_token)
    assert header["typ"] == "at+jwt", header
    assert header["alg"] == EXPECTED_ACCESS_ALG, header
    jwk_client = pyjwt.PyJWKClient(meta["jwks_uri"])
    signing_key = jwk_client.get_signing_key_from_jwt(access_token)
    at = pyjwt.decode(
        access_token,
        signing_key.key,
        algorithms=[header["alg"]],
        audience=CLIENT_ID,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert at["sub"] == sub and at["client_id"] == CLIENT_ID, at
    assert sorted(at["scope"].split()) == sorted(SCOPE.split()), at["scope"]
    assert at.get("sid"), "the access token names its grant"
    ok(f"PyJWT verifies the access token offline (typ at+jwt, {header['alg']}, aud, iss, sub)")

    # A payload character changed: PyJWT refuses it, and so does the server.
    h, p, sig = access_token.split(".")
    payload = b64url_decode(p).decode()
    i = payload.index('"sub":"') + len('"sub":"')
    tampered_payload = payload[:i] + ("9" if payload[i] != "9" else "8") + payload[i + 1 :]
    tampered = f"{h}.{b64url_encode(tampered_payload.encode())}.{sig}"
    try:
        pyjwt.decode(tampered, signing_key.key, algorithms=[header["alg"]], audience=CLIENT_ID, issuer=ISSUER)
        raise AssertionError("PyJWT accepted a tampered access token")
    except pyjwt.InvalidSignatureError:
        pass
    flipped = p[:10] + ("A" if p[10] != "A" else "B") + p[11:]
    try:
        pyjwt.decode(f"{h}.{flipped}.{sig}", signing_key.key, algorithms=[header["alg"]], audience=CLIENT_ID, issuer=ISSUER)
        raise AssertionError("PyJWT accepted an access token with a base64 character flipped")
    except pyjwt.InvalidTokenError:
        pass
    res = requests.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tampered}"})
    expect_status(res, 401, "userinfo with a tampered access token")
    ok("a tampered access token: PyJWT InvalidSignatureError, userinfo 401")

    # alg "none": PyJWT refuses it, and so does the server.
    none_header = dict(header, alg="none")
    none_token = f"{b64url_encode(json.dumps(none_header).encode())}.{p}."
    try:
        pyjwt.decode(none_token, signing_key.key, algorithms=[header["alg"]], audience=CLIENT_ID, issuer=ISSUER)
        raise AssertionError("PyJWT accepted an alg none token")
    except pyjwt.InvalidTokenError:
        pass
    res = requests.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {none_token}"})
    expect_status(res, 401, "userinfo with an alg none token")
    res = requests.post(meta["introspection_endpoint"], data={"token": none_token}, auth=(CLIENT_ID, CLIENT_SECRET))
    expect_status(res, 200, "introspection of an alg none token")
    assert res.json() == {"active": False}, res.json()
    ok("an alg none token: PyJWT refuses, userinfo 401, introspection inactive")

    # 3. The refresh_token grant.
    old_refresh = token["refresh_token"]
    new = session.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert new.get("access_token") and new["access_token"] != access_token, new.keys()
    assert new.get("refresh_token") and new["refresh_token"] != old_refresh, "rotated"
    res = requests.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {new['access_token']}"})
    expect_status(res, 200, "userinfo with the refreshed access token")
    assert res.json()["sub"] == sub
    refreshed_at = pyjwt.decode(
        new["access_token"],
        jwk_client.get_signing_key_from_jwt(new["access_token"]).key,
        algorithms=[EXPECTED_ACCESS_ALG],
        audience=CLIENT_ID,
        issuer=ISSUER,
    )
    assert refreshed_at["sid"] == at["sid"], "the same grant"
    ok("refresh_token grant: a new access token (userinfo 200, PyJWT verifies) and a rotated refresh token")

    # 4. client_credentials: a token for the client itself.
    machine = OAuth2Session(CLIENT_ID, CLIENT_SECRET, scope="roles", token_endpoint_auth_method="client_secret_basic")
    cc = machine.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert "refresh_token" not in cc and "id_token" not in cc, cc.keys()
    cc_header = header_of(cc["access_token"])
    assert cc_header["typ"] == "at+jwt" and cc_header["alg"] == EXPECTED_ACCESS_ALG, cc_header
    cc_claims = pyjwt.decode(
        cc["access_token"],
        jwk_client.get_signing_key_from_jwt(cc["access_token"]).key,
        algorithms=[cc_header["alg"]],
        audience=CLIENT_ID,
        issuer=ISSUER,
    )
    assert cc_claims["sub"] == CLIENT_ID and cc_claims["client_id"] == CLIENT_ID, cc_claims
    assert cc_claims["scope"] == "roles", cc_claims
    res = requests.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {cc['access_token']}"})
    expect_status(res, 401, "userinfo with a client_credentials token (no openid scope)")
    ok("client_credentials (scope roles): PyJWT verifies, sub == client_id, no refresh token; userinfo 401")

    print(f"Authlib + PyJWT: all {step} checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        print(f"  FAILED after step {step}:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
