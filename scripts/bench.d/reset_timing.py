#!/usr/bin/env python3
"""Figure 6 of scripts/bench: how long POST /api/auth/password-reset takes to answer for an
address with an account and for one without, on one keep-alive connection.

    reset_timing.py HOST:PORT SECONDS

Requests alternate between the two kinds (known, unknown, unknown, known, ...), so whatever
else the server does meanwhile (its sender mailing the known ones, a neighbour on the
machine) weighs on both alike. Known addresses are u0000100..u0000999@bench.example
(seeded by seed_users.py), unknown ones nobody0000100..@bench.example. Every answer must be
202. Prints: known_median_ms unknown_median_ms known_p99_ms unknown_p99_ms requests
"""
import http.client
import statistics
import sys
import time


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    host, port = sys.argv[1].rsplit(":", 1)
    seconds = float(sys.argv[2])
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": "application/json"}
    times = {"known": [], "unknown": []}
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        order = ("known", "unknown") if n % 2 == 0 else ("unknown", "known")
        for who in order:
            prefix = "u" if who == "known" else "nobody"
            body = '{"email":"%s%07d@bench.example"}' % (prefix, 100 + n % 900)
            started = time.perf_counter_ns()
            conn.request("POST", "/api/auth/password-reset", body, headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter_ns() - started) / 1e6
            if response.status != 202:
                sys.exit(f"reset_timing: {who} request {n} answered {response.status}")
            times[who].append(elapsed)
        n += 1
    k, u = times["known"], times["unknown"]
    print(
        round(statistics.median(k), 3),
        round(statistics.median(u), 3),
        round(quantile(k, 0.99), 3),
        round(quantile(u, 0.99), 3),
        len(k) + len(u),
    )


if __name__ == "__main__":
    main()
