#!/usr/bin/env python3
"""upgrade_test.py - Upgrade handling, HTTP/2 and TLS/ALPN against the real server.

Unknown Upgrade values (CVE-2025-11677 in lws 4.1.6), h2c and HTTP/2 prior
knowledge with HTTP/2 off, then TLS: ALPN with HTTP/2 off and on, HSTS, and
the security headers on every response, lws's own error pages included.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, parse_response, sanitizer_clean  # noqa: E402

tap = Tap()

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def read_until_eof(sock, timeout=5.0):
    """Reads until EOF; returns (bytes, closed). closed is False on timeout."""
    deadline = time.time() + timeout
    out = b""
    while True:
        left = deadline - time.time()
        if left <= 0:
            return out, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return out, False
        except (ConnectionResetError, ssl.SSLError):
            return out, True
        if not chunk:
            return out, True
        out += chunk


def exchange(port, data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_until_eof(s, timeout)
    finally:
        s.close()


def security_headers_ok(h):
    """True when the lower-cased header dict H has our security headers."""
    csp = h.get("content-security-policy", "")
    return ("frame-ancestors 'none'" in csp and
            h.get("x-content-type-options") == "nosniff" and
            h.get("referrer-policy", "") != "")


def status_lines(raw):
    return [l for l in raw.split(b"\r\n") if l.startswith(b"HTTP/1.")]


def curl_info(srv, *args):
    """curl -D -: returns (http_code, http_version, last header dict, stderr)."""
    rc, out, err = srv.curl("-o", "/dev/null", "-D", "-",
                            "-w", "\n@@%{http_code} %{http_version}", *args)
    text = out.decode("latin-1")
    head, _, tail = text.rpartition("\n@@")
    code, _, version = tail.strip().partition(" ")
    blocks = [b for b in head.replace("\r\n", "\n").split("\n\n") if b.strip()]
    h = {}
    if blocks:
        for line in blocks[-1].split("\n")[1:]:
            k, _, v = line.partition(":")
            h[k.strip().lower()] = v.strip()
    return code, version, h, "rc=%d %s" % (rc, err)


def check_stop(srv, what):
    rc, log = srv.stop()
    tap.eq(rc, 0, "%s: SIGTERM stop exits 0" % what)
    tap.ok(sanitizer_clean(log), "%s: no sanitizer report" % what, log[-3000:])


# ---- cleartext, HTTP/2 off (the default) -----------------------------------

srv = Server()
try:
    raw, closed = exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                           b"Upgrade: foo\r\nConnection: Upgrade\r\n\r\n")
    st, h, _ = parse_response(raw)
    tap.ok(closed and len(status_lines(raw)) == 1 and st is not None and 400 <= st < 500
           and b"101" not in raw.split(b"\r\n")[0],
           "Upgrade: foo -> exactly one 4xx response, then closed",
           "closed=%r status=%r\n%r" % (closed, st, raw[:600]))
    tap.ok(security_headers_ok(h), "the lws-generated %r carries the security headers" % st, h)

    # a request pipelined behind the refused upgrade must not be answered
    raw, closed = exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                           b"Upgrade: foo\r\nConnection: Upgrade\r\n\r\n"
                           b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(closed and len(status_lines(raw)) == 1 and b"101" not in raw
           and b'"status":"ok"' not in raw,
           "a request pipelined after Upgrade: foo is not answered",
           "closed=%r\n%r" % (closed, raw[:600]))

    # the same on a keep-alive connection that already served a request:
    # lws frees the header table when it refuses, so the server must not read
    # the Upgrade value it was handed (a use-after-free under ASan before)
    c = srv.connect()
    c.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"</html>" not in first:
        chunk = c.recv(65536)
        if not chunk:
            break
        first += chunk
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foobar\r\n\r\n")
    raw, closed = read_until_eof(c)
    c.close()
    st = parse_response(raw)[0]
    tap.ok(first.startswith(b"HTTP/1.1 200") and closed and st is not None and 400 <= st < 500
           and len(status_lines(raw)) == 1,
           "Upgrade: foobar on a keep-alive connection -> one 4xx, then closed", raw[:300])

    raw, closed = exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                           b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
    st, h, body = parse_response(raw)
    tap.ok(closed and st == 400 and len(status_lines(raw)) == 1 and b"101" not in raw,
           "Upgrade: h2c with HTTP/2 off -> one 400, then closed",
           "closed=%r\n%r" % (closed, raw[:600]))
    tap.ok(h.get("content-type") == "application/problem+json" and b'"status":400' in body,
           "the h2c refusal is problem+json", raw[:600])
    tap.ok(security_headers_ok(h), "the h2c refusal carries the security headers", h)

    raw, closed = exchange(srv.port, H2_PREFACE + H2_EMPTY_SETTINGS)
    is_settings = len(raw) >= 9 and raw[3] == 0x04
    tap.ok(closed and not is_settings and (raw == b"" or raw.startswith(b"HTTP/1.")),
           "HTTP/2 prior knowledge with HTTP/2 off: no SETTINGS frame, closed",
           "closed=%r %r" % (closed, raw[:300]))
    st, h, _ = parse_response(raw)
    tap.ok(raw == b"" or (st is not None and 400 <= st < 500 and security_headers_ok(h)),
           "the answer to the preface, if any, is an HTTP/1 4xx with security headers",
           raw[:600])

    st, h, _ = srv.request("GET", "/healthz")
    tap.ok(st == 200 and security_headers_ok(h), "/healthz still 200 afterwards", (st, h))

    code, version, h, err = curl_info(srv, "--http2", srv.base + "/healthz")
    tap.ok(code not in ("101", "000", "") and version != "2",
           "curl --http2 (h2c upgrade) gets no 101 and no HTTP/2 (got %s, HTTP %s)"
           % (code, version), err)
    tap.ok(security_headers_ok(h), "curl's answer carries the security headers", h)
finally:
    check_stop(srv, "cleartext server")


# ---- cleartext, HTTP/2 on: HTTP/1.1 clients and WebSockets keep working ----

from wsclient import WebSocket  # noqa: E402

srv = Server("--http2", "on")
try:
    st, h, body = srv.request("GET", "/healthz")
    tap.ok(st == 200, "HTTP/2 on, cleartext: a plain HTTP/1.1 request is answered", (st, body[:200]))
    ws = WebSocket(srv.port)
    op, msg = ws.recv_message()
    tap.ok(b'"hello"' in msg, "HTTP/2 on, cleartext: a WebSocket still opens", msg[:200])
    ws.close()
finally:
    check_stop(srv, "cleartext server, HTTP/2 on")

# ---- TLS --------------------------------------------------------------------

tmp = tempfile.mkdtemp(prefix="tinchi-tls-")
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
gen = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                      "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                      "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
if not tap.ok(gen.returncode == 0, "openssl made a self-signed certificate",
              gen.stderr.decode("utf-8", "replace")):
    shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


def tls_connect(port, alpn):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def tls_exchange(port, data, alpn=("http/1.1",)):
    s = tls_connect(port, list(alpn))
    try:
        s.sendall(data)
        return read_until_eof(s)
    finally:
        s.close()


try:
    srv = Server("--tls-cert", cert, "--tls-key", key)
    try:
        s = tls_connect(srv.port, ["h2", "http/1.1"])
        tap.eq(s.selected_alpn_protocol(), "http/1.1",
               "TLS, HTTP/2 off: ALPN [h2, http/1.1] selects http/1.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw, closed = read_until_eof(s)
        s.close()
        st, h, body = parse_response(raw)
        tap.ok(st == 200 and b'"status":"ok"' in body, "GET /healthz over TLS is 200", raw[:400])
        tap.ok("max-age=" in h.get("strict-transport-security", ""),
               "it carries strict-transport-security", h)
        tap.ok(security_headers_ok(h), "and the security headers", h)

        base = "https://127.0.0.1:%d" % srv.port
        code, version, h, err = curl_info(srv, "-k", "--http2", base + "/healthz")
        tap.ok(code == "200" and version == "1.1",
               "curl -k --http2 falls back to HTTP/1.1 (got %s, HTTP %s)" % (code, version), err)

        raw, closed = tls_exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                                   b"Upgrade: foo\r\nConnection: Upgrade\r\n\r\n")
        st, h, _ = parse_response(raw)
        tap.ok(closed and len(status_lines(raw)) == 1 and st is not None and 400 <= st < 500
               and security_headers_ok(h),
               "Upgrade: foo over TLS -> one 4xx with security headers, closed",
               "closed=%r\n%r" % (closed, raw[:600]))
    finally:
        check_stop(srv, "TLS server, HTTP/2 off")

    import hashlib  # noqa: E402
    web = os.path.join(tmp, "web")
    os.makedirs(web)
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>h2</title>\n")
    blobs = {"20k.bin": os.urandom(20000), "3m.bin": os.urandom(3 * 1024 * 1024 + 7)}
    for name, data in blobs.items():
        with open(os.path.join(web, name), "wb") as f:
            f.write(data)
    srv = Server("--tls-cert", cert, "--tls-key", key, "--http2", "on", web=web)
    try:
        s = tls_connect(srv.port, ["h2", "http/1.1"])
        tap.eq(s.selected_alpn_protocol(), "h2", "TLS, HTTP/2 on: ALPN selects h2")
        s.close()
        s = tls_connect(srv.port, ["http/1.1"])
        tap.eq(s.selected_alpn_protocol(), "http/1.1", "a client offering only http/1.1 gets it")
        s.close()
        base = "https://127.0.0.1:%d" % srv.port
        for path in ("/healthz", "/"):
            code, version, h, err = curl_info(srv, "-k", "--http2", base + path)
            tap.ok(code == "200" and version == "2",
                   "curl -k --http2 %s: 200 over HTTP/2 (got %s, HTTP %s)" % (path, code, version),
                   err)
            tap.ok(security_headers_ok(h) and "strict-transport-security" in h,
                   "HTTP/2 %s carries the security headers and HSTS" % path, h)
        for name, data in blobs.items():
            p = subprocess.run(["curl", "-sS", "-k", "--http2", "--max-time", "20", "-o", "-",
                                "-w", "", base + "/" + name], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            tap.ok(p.returncode == 0 and hashlib.sha256(p.stdout).digest() == hashlib.sha256(data).digest(),
                   "HTTP/2 download of %s (%d bytes) arrives intact" % (name, len(data)),
                   "rc=%d got %d bytes %s" % (p.returncode, len(p.stdout), p.stderr[-300:]))
        code, version, h, err = curl_info(srv, "-k", "--http2", base + "/no/such/file")
        tap.ok(code == "404" and version == "2" and security_headers_ok(h),
               "HTTP/2 404 carries the security headers (got %s, HTTP %s)" % (code, version), h)
    finally:
        check_stop(srv, "TLS server, HTTP/2 on")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

tap.done()
