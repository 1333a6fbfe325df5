#!/usr/bin/env python3
"""Authorization codes for scripts/bench's figures 13 and 14, minted as a signed-in browser
gets them from a first-party client: GET /api/oauth/authorize with the user's access token
answers 302 to the redirect URI with a code at once (no consent page).

    mint_codes.py BASE TOKEN CLIENT_ID REDIRECT_URI CODE_CHALLENGE SCOPE COUNT [CONNECTIONS]

Writes the COUNT codes to stdout, one a line, in the order they were minted (each of the
CONNECTIONS keep-alive connections, 16 by default, takes the next number); on stderr, how
long it took. Codes live 60 s: mint them just before they are exchanged. Exits 1 at the
first answer that is not a redirect with a code.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def main() -> None:
    base, token, client_id, redirect_uri, challenge, scope = sys.argv[1:7]
    count = int(sys.argv[7])
    connections = int(sys.argv[8]) if len(sys.argv) > 8 else 16
    host = urllib.parse.urlsplit(base).netloc
    path = "/api/oauth/authorize?" + urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "bench",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    headers = {"Authorization": f"Bearer {token}"}
    codes: list[str | None] = [None] * count
    lock = threading.Lock()
    next_index = [0]
    failure: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(host, timeout=30)
        while not failure:
            with lock:
                i = next_index[0]
                if i >= count:
                    break
                next_index[0] += 1
            conn.request("GET", path, headers=headers)
            res = conn.getresponse()
            body = res.read()
            location = res.getheader("Location") or ""
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
            if res.status != 302 or "code" not in query:
                failure.append(f"{res.status} {location} {body[:300]!r}")
                break
            codes[i] = query["code"][0]
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(min(connections, count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failure:
        print(f"mint_codes: the authorization endpoint answered {failure[0]}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write("".join(f"{c}\n" for c in codes))
    elapsed = time.monotonic() - started
    print(f"mint_codes: {count} codes in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
