#!/usr/bin/env python3
"""Opens N keep-alive connections to a server, makes one request on each, and holds them,
for scripts/bench (figure 5: resident memory with 1,000 open connections).

    hold_conns.py HOST:PORT N PATH [SECONDS]

Prints `held N` once every connection has had its answer, then keeps them open until it is
killed or SECONDS (default 60) pass: it always stops by itself.
"""
import socket
import sys
import time


def read_response(sock: socket.socket) -> None:
    """Reads one HTTP/1.1 response (Content-Length or chunked), leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise ConnectionError(f"unexpected answer: {lines[0]}")
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    if headers.get("connection", "").lower() == "close":
        raise ConnectionError("the server closes the connection")
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            body += chunk
    else:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            body += chunk


def main() -> None:
    host, port = sys.argv[1].rsplit(":", 1)
    count, path = int(sys.argv[2]), sys.argv[3]
    hold_for = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    held = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(request)
        read_response(sock)
        held.append(sock)
    print(f"held {len(held)}", flush=True)
    time.sleep(hold_for)
    for sock in held:
        sock.close()


if __name__ == "__main__":
    main()
