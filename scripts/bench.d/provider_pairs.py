#!/usr/bin/env python3
"""Callbacks for scripts/bench's figure 18 (signing in with another identity provider),
made ready as a browser gets them: GET /api/auth/providers/ID/start at Portcullis (303 to
the provider, with the state cookie), then the stand-in provider's authorization endpoint
(scripts/bench.d/upstream_provider.mjs: signs in the subject named by `sub` at once and
answers 302 back to the callback with a code).

    provider_pairs.py BASE PROVIDER_ID SUBJECT COUNT [CONNECTIONS]

SUBJECT is one subject for every callback (a returning person), or, ending in `{}`, a
template each callback fills with its own number (`new-{}`: a new person each). Writes
COUNT lines to stdout, `PATH STATE`: the callback's path and query on BASE, and the state
cookie the browser would send with it. On stderr, how long it took. Pending sign-ins live
10 minutes: make them just before they are used. Exits 1 at the first unexpected answer.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def cookie_value(set_cookies: list[str], name: str) -> str | None:
    for header in set_cookies:
        first = header.split(";", 1)[0]
        key, _, value = first.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def main() -> None:
    base, provider_id, subject = sys.argv[1:4]
    count = int(sys.argv[4])
    connections = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    portcullis = urllib.parse.urlsplit(base).netloc
    start_path = f"/api/auth/providers/{urllib.parse.quote(provider_id)}/start"
    pairs: list[str | None] = [None] * count
    lock = threading.Lock()
    next_index = [0]
    failure: list[str] = []

    def worker() -> None:
        ours = http.client.HTTPConnection(portcullis, timeout=30)
        theirs: http.client.HTTPConnection | None = None
        while not failure:
            with lock:
                i = next_index[0]
                if i >= count:
                    break
                next_index[0] += 1
            ours.request("GET", start_path)
            res = ours.getresponse()
            res.read()
            authorize = urllib.parse.urlsplit(res.getheader("Location") or "")
            state = cookie_value(res.headers.get_all("Set-Cookie") or [], "portcullis_upstream")
            if res.status != 303 or not state or not authorize.netloc:
                failure.append(f"start: {res.status} {res.getheader('Location')}")
                break
            if theirs is None:
                theirs = http.client.HTTPConnection(authorize.netloc, timeout=30)
            sub = subject.replace("{}", f"{i:07d}")
            theirs.request("GET", f"{authorize.path}?{authorize.query}&sub={urllib.parse.quote(sub)}")
            res = theirs.getresponse()
            res.read()
            back = urllib.parse.urlsplit(res.getheader("Location") or "")
            if res.status != 302 or "code=" not in back.query:
                failure.append(f"authorize: {res.status} {res.getheader('Location')}")
                break
            pairs[i] = f"{back.path}?{back.query} {state}"
        ours.close()
        if theirs is not None:
            theirs.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(min(connections, count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failure:
        print(f"provider_pairs: {failure[0]}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write("".join(f"{p}\n" for p in pairs))
    elapsed = time.monotonic() - started
    print(f"provider_pairs: {count} callbacks in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
