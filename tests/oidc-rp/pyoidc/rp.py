"""A real relying party, pyoidc (the `oic` package's `oic.oic.Client`), signing alice in
through Portcullis with the authorization code flow.

Run by tests/oidc-rp/run with ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
POST_LOGOUT_REDIRECT_URI, RP_USERNAME, RP_EMAIL, RP_PASSWORD and EXPECTED_ALG set. The
library does the relying party's work: discovery and the provider's keys, the authorization
request (state, nonce), parsing the callback, the code exchange with client_secret_basic and
the ID token's checks (signature against the JWKS, alg, iss, aud, azp, exp, iat; the nonce
against the request's), userinfo (its sub against the ID token's), the end-session request.
The browser's part (sign-in, consent) is plain HTTP with a cookie jar, as the web app's
pages make it. Prints a line per step; exits 1 at the first failure.
"""

import base64
import json
import os
import sys
import traceback
import urllib.parse
import warnings

import requests

warnings.filterwarnings("ignore", category=DeprecationWarning)

from jwkest import BadSignature  # noqa: E402
from oic import rndstr  # noqa: E402
from oic.oauth2.message import WrongSigningAlgorithm  # noqa: E402
from oic.oic import Client  # noqa: E402
from oic.oic.message import (  # noqa: E402
    AccessTokenResponse,
    AuthorizationRequest,
    AuthorizationResponse,
    IdToken,
    OpenIDSchema,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD  # noqa: E402

ISSUER = os.environ["ISSUER"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
REDIRECT_URI = os.environ["REDIRECT_URI"]
POST_LOGOUT_REDIRECT_URI = os.environ["POST_LOGOUT_REDIRECT_URI"]
USERNAME = os.environ["RP_USERNAME"]
EMAIL = os.environ["RP_EMAIL"]
PASSWORD = os.environ["RP_PASSWORD"]
EXPECTED_ALG = os.environ["EXPECTED_ALG"]
SCOPE = ["openid", "profile", "email"]
# The JWK key type each signing algorithm needs.
KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}

step = 0


def ok(what):
    global step
    step += 1
    print(f"  ok {step} - {what}", flush=True)


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def describe(res):
    return f"{res.request.method} {res.request.url} -> {res.status_code} {res.headers.get('location', '')} {res.text[:500]}"


class RelyingParty(Client):
    """oic's Client, unchanged but for a hook that can alter the token endpoint's answer
    on its way in (for the tampering checks); off unless `tamper` is set."""

    tamper = None

    def http_request(self, url, method="GET", **kwargs):
        res = super().http_request(url, method, **kwargs)
        if self.tamper is not None and url == self.token_endpoint and res.status_code == 200:
            body = res.json()
            body["id_token"] = self.tamper(body["id_token"])
            res._content = json.dumps(body).encode()
        return res


# ---- the browser: Portcullis's own API, as the web app's pages call it -------------------


def sign_in():
    browser = requests.Session()
    res = browser.post(f"{ISSUER}/api/auth/signin", json={"username": USERNAME, "password": PASSWORD})
    assert res.status_code == 200, describe(res)
    names = {c.name for c in browser.cookies}
    assert {"portcullis_access", "portcullis_refresh"} <= names, f"signin cookies: {names}"
    return browser


def authorize(browser, url):
    """The browser at the authorization URL; consents if asked. (callback URL, consent asked)."""
    res = browser.get(url, allow_redirects=False)
    assert res.status_code == 302, describe(res)
    location = urllib.parse.urljoin(ISSUER, res.headers["location"])
    if location.startswith(REDIRECT_URI):
        return location, False
    assert location.startswith(f"{ISSUER}/oauth/consent?request="), f"authorize sent to {location}"
    request = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["request"][0]
    api = f"{ISSUER}/api/oauth/requests/{urllib.parse.quote(request, safe='')}"
    res = browser.get(api)
    assert res.status_code == 200, describe(res)
    details = res.json()
    assert details["client"]["clientId"] == CLIENT_ID, details
    assert sorted(details["scopes"]) == sorted(SCOPE), details
    res = browser.post(api, json={"approve": True})
    assert res.status_code == 200, describe(res)
    redirect_to = res.json()["redirectTo"]
    assert redirect_to.startswith(REDIRECT_URI), redirect_to
    return redirect_to, True


# ---- the relying party ---------------------------------------------------------------------


def new_client():
    client = RelyingParty(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(ISSUER)
    client.store_registration_info(
        RegistrationResponse(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uris=[REDIRECT_URI],
            post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI],
            token_endpoint_auth_method="client_secret_basic",
            # What ID tokens must be signed with: oic refuses any other alg.
            id_token_signed_response_alg=EXPECTED_ALG,
        )
    )
    return client


def start(client):
    """The authorization request, built by the library: (URL, state, nonce)."""
    state, nonce = rndstr(32), rndstr(32)
    url, _body, _headers, _req = client.request_info(
        AuthorizationRequest,
        method="GET",
        request_args={
            "response_type": "code",
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "redirect_uri": REDIRECT_URI,
        },
    )
    return url, state, nonce


def callback_response(client, callback, state):
    """The callback parsed and checked by the library."""
    query = urllib.parse.urlparse(callback).query
    aresp = client.parse_response(AuthorizationResponse, info=query, sformat="urlencoded")
    assert isinstance(aresp, AuthorizationResponse), f"the callback: {aresp!r}"
    assert aresp["state"] == state, aresp.to_dict()
    return aresp


def exchange(client, aresp, state):
    return client.do_access_token_request(
        state=state,
        request_args={"code": aresp["code"], "redirect_uri": REDIRECT_URI},
        authn_method="client_secret_basic",
        # the alg oic insists on (id_token_signed_response_alg)
        algs=client.sign_enc_algs("id_token"),
    )


def expect_refused(client, aresp, state, tamper, what):
    client.tamper = tamper
    try:
        exchange(client, aresp, state)
    except Exception as e:  # noqa: BLE001 -- oic raises several kinds; any refusal will do
        return e
    finally:
        client.tamper = None
    raise AssertionError(f"oic accepted {what}")


def main():
    print(f"pyoidc (oic) relying party against {ISSUER} ({EXPECTED_ALG})", flush=True)

    # 1. Discovery: the provider's metadata and keys.
    client = new_client()
    pi = client.provider_info
    assert pi["issuer"] == ISSUER, pi["issuer"]
    assert client.authorization_endpoint == f"{ISSUER}/api/oauth/authorize", client.authorization_endpoint
    assert client.token_endpoint == f"{ISSUER}/api/oauth/token"
    assert client.userinfo_endpoint == f"{ISSUER}/api/oauth/userinfo"
    assert client.end_session_endpoint == f"{ISSUER}/api/oauth/logout"
    assert EXPECTED_ALG in pi["id_token_signing_alg_values_supported"], pi["id_token_signing_alg_values_supported"]
    keys = client.keyjar.get_issuer_keys(ISSUER)
    kinds = sorted({k.kty for k in keys})
    assert KTY[EXPECTED_ALG[:2]] in kinds, f"no {EXPECTED_ALG} key in the key jar: {kinds}"
    ok(f"provider_config: issuer, endpoints, {EXPECTED_ALG} listed; the JWKS in oic's key jar ({', '.join(kinds)})")

    # 2. The code flow: the request built by oic (state, nonce; a confidential client, no PKCE).
    url, state, nonce = start(client)
    q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert url.startswith(client.authorization_endpoint + "?"), url
    assert q["client_id"] == [CLIENT_ID] and q["response_type"] == ["code"], q
    assert q["state"] == [state] and q["nonce"] == [nonce] and q["redirect_uri"] == [REDIRECT_URI], q
    assert sorted(q["scope"][0].split()) == sorted(SCOPE), q
    assert "code_challenge" not in q, q
    browser = sign_in()
    callback, consented = authorize(browser, url)
    assert consented, "the first request asks for consent"
    aresp = callback_response(client, callback, state)
    assert aresp.get("iss") == ISSUER, f"RFC 9207 iss: {aresp.to_dict()}"
    ok("request_info: code, state, nonce; signin, consent; the callback parsed by oic (AuthorizationResponse, state, iss)")

    # 3. The code exchange; oic verifies the ID token against the provider's keys.
    token = exchange(client, aresp, state)
    assert isinstance(token, AccessTokenResponse), f"token response: {token!r}"
    idt = token["id_token"]
    assert isinstance(idt, IdToken), f"the ID token was not verified into an IdToken: {type(idt)}"
    assert idt.jws_header["alg"] == EXPECTED_ALG and idt.jws_header.get("kid"), idt.jws_header
    raw = token["id_token_jwt"]
    assert json.loads(b64url_decode(raw.split(".")[0]))["alg"] == EXPECTED_ALG
    sub = idt["sub"]
    assert sub.isdigit(), sub
    assert idt["iss"] == ISSUER and idt["aud"] == [CLIENT_ID], idt.to_dict()
    assert idt["nonce"] == nonce, idt.to_dict()
    assert idt["preferred_username"] == USERNAME and idt["email"] == EMAIL, idt.to_dict()
    assert token["token_type"].lower() == "bearer" and token["access_token"], token.to_dict()
    assert client.get_grant(state).get_id_token()["sub"] == sub, "the grant keeps the verified ID token"
    ok(f"do_access_token_request (client_secret_basic): ID token verified by oic ({idt.jws_header['alg']}, kid) into an IdToken; sub {sub}, aud, iss, nonce, alice, email")

    # 4. userinfo, its sub checked by oic against the ID token's.
    info = client.do_user_info_request(state=state)
    assert isinstance(info, OpenIDSchema), f"userinfo: {info!r}"
    assert info["sub"] == sub and info["preferred_username"] == USERNAME and info["email"] == EMAIL, info.to_dict()
    assert info["email_verified"] is True, info.to_dict()
    ok("do_user_info_request: OpenIDSchema with the same sub, alice, email, email_verified")

    # 5. Tampered ID tokens: a second flow (signed in, consent remembered), its token
    #    responses altered on the way in; oic must refuse each.
    url2, state2, _nonce2 = start(client)
    callback2, consented2 = authorize(browser, url2)
    assert not consented2, "consent remembered: the code at once"
    aresp2 = callback_response(client, callback2, state2)

    def damage_signature(jws):
        h, p, s = jws.split(".")
        i = len(s) // 2
        return f"{h}.{p}.{s[:i]}{'B' if s[i] == 'A' else 'A'}{s[i + 1:]}"

    def change_sub(jws):
        h, p, s = jws.split(".")
        claims = json.loads(b64url_decode(p))
        claims["sub"] = str(int(claims["sub"]) + 1)
        return f"{h}.{b64url_encode(json.dumps(claims).encode())}.{s}"

    def alg_none(jws):
        h, p, _s = jws.split(".")
        header = json.loads(b64url_decode(h))
        header["alg"] = "none"
        return f"{b64url_encode(json.dumps(header).encode())}.{p}."

    # The same code is spent by the first try: each try gets a fresh code.
    errors = []
    for tamper, what, expected in [
        (damage_signature, "an ID token with a damaged signature", BadSignature),
        (change_sub, "an ID token with another sub under the original signature", BadSignature),
        (alg_none, "an unsigned ID token (alg none)", WrongSigningAlgorithm),
    ]:
        if errors:
            url_n, state_n, _ = start(client)
            callback_n, _ = authorize(browser, url_n)
            aresp_n = callback_response(client, callback_n, state_n)
        else:
            state_n, aresp_n = state2, aresp2
        e = expect_refused(client, aresp_n, state_n, tamper, what)
        assert isinstance(e, expected), f"{what}: {type(e).__name__} {e}, {expected.__name__} expected"
        errors.append(type(e).__name__)
    ok(f"tampered ID tokens in the token response refused by oic: damaged signature ({errors[0]}), changed sub ({errors[1]}), alg none ({errors[2]})")

    # The same flow untampered passes: the refusals above were the tampering's doing.
    url3, state3, nonce3 = start(client)
    callback3, _ = authorize(browser, url3)
    token3 = exchange(client, callback_response(client, callback3, state3), state3)
    assert isinstance(token3["id_token"], IdToken) and token3["id_token"]["sub"] == sub
    assert token3["id_token"]["nonce"] == nonce3
    ok("the same flow untampered: accepted, the same sub, its own nonce")

    # 6. RP-initiated logout with oic's end-session request (id_token_hint from the grant).
    logout_state = rndstr(16)
    end = client.construct_EndSessionRequest(
        state=state3,
        request_args={"post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URI, "state": logout_state},
    )
    end_url = end.request(client.end_session_endpoint)
    eq = urllib.parse.parse_qs(urllib.parse.urlparse(end_url).query)
    assert eq["id_token_hint"] == [token3["id_token_jwt"]], eq
    me = f"{ISSUER}/api/auth/me"
    assert browser.get(me).status_code == 200, "signed in before the logout"
    cookies = {c.name: c.value for c in browser.cookies}
    res = browser.get(end_url, allow_redirects=False)
    assert res.status_code == 302, describe(res)
    back = urllib.parse.urlparse(res.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == POST_LOGOUT_REDIRECT_URI, res.headers["location"]
    assert urllib.parse.parse_qs(back.query).get("state") == [logout_state], back.query
    res = requests.get(me, cookies=cookies)
    assert res.status_code == 401, f"/api/auth/me with the cookies of before the logout: {describe(res)}"
    ok("construct_EndSessionRequest: id_token_hint, post_logout_redirect_uri, state; 302 back with the state; the Portcullis session ended")

    print(f"pyoidc: all {step} checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        print(f"  FAILED after step {step}:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
