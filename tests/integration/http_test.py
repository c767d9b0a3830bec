"""http_test.py - the real server over HTTP/1.1 with real clients (curl,
http.client, raw sockets): static files, validators, the API's health and
metrics, problem+json errors, keep-alive, path traversal."""
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, parse_response, raw_exchange, sanitizer_clean  # noqa: E402

t = Tap()

# A web folder of our own: a page, a stylesheet, a 1 MiB file (streamed from
# disk, over the in-memory limit) and a hidden file that must never be served.
web = tempfile.mkdtemp(prefix="tinchi-web-")
os.makedirs(os.path.join(web, "css"))
with open(os.path.join(web, "index.html"), "w", encoding="utf-8") as f:
    f.write("<!doctype html><title>Lập trình C</title><p>xin chào</p>\n")
with open(os.path.join(web, "css", "site.css"), "w") as f:
    f.write("body { color: black }\n")
big = os.urandom(1024 * 1024 + 17)
with open(os.path.join(web, "lecture.m4s"), "wb") as f:
    f.write(big)
with open(os.path.join(web, ".env"), "w") as f:
    f.write("SECRET=1\n")

srv = Server("--max-body", "1K", web=web)

# --- static files with curl ---
rc, out, err = srv.curl("-i", srv.base + "/")
st, h, body = parse_response(out)
t.eq(st, 200, "GET / is 200")
t.eq(h.get("content-type"), "text/html; charset=utf-8", "index.html has an HTML content type")
t.ok("Lập trình C".encode() in body, "GET / serves index.html byte for byte")
t.ok("frame-ancestors 'none'" in h.get("content-security-policy", ""), "CSP with frame-ancestors on a page")
t.ok("'unsafe-inline'" not in h.get("content-security-policy", ""), "CSP has no unsafe-inline")
t.eq(h.get("x-content-type-options"), "nosniff", "nosniff header")
t.eq(h.get("referrer-policy"), "no-referrer", "Referrer-Policy header")
t.ok("strict-transport-security" not in h, "no HSTS over plain HTTP")
etag, lastmod = h.get("etag"), h.get("last-modified")
t.ok(etag and etag.startswith('"') and etag.endswith('"'), "a strong ETag", etag)
t.ok(lastmod and lastmod.endswith(" GMT"), "a Last-Modified date", lastmod)
t.eq(h.get("cache-control"), "no-cache", "HTML is revalidated (no-cache)")

rc, out, err = srv.curl("-i", "-H", "If-None-Match: " + etag, srv.base + "/")
st, h, body = parse_response(out)
t.eq(st, 304, "If-None-Match with the ETag gives 304")
t.eq(body, b"", "a 304 has no body")
t.eq(h.get("etag"), etag, "the 304 repeats the ETag")
rc, out, err = srv.curl("-i", "-H", 'If-None-Match: "other", W/' + etag, srv.base + "/")
t.eq(parse_response(out)[0], 304, "a weak match in a list of ETags gives 304")
rc, out, err = srv.curl("-i", "-H", 'If-None-Match: "nope"', srv.base + "/")
t.eq(parse_response(out)[0], 200, "a different ETag gives 200")
rc, out, err = srv.curl("-i", "-H", "If-Modified-Since: " + lastmod, srv.base + "/")
t.eq(parse_response(out)[0], 304, "If-Modified-Since equal to Last-Modified gives 304")
rc, out, err = srv.curl("-i", "-H", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", srv.base + "/")
t.eq(parse_response(out)[0], 200, "an older If-Modified-Since gives 200")

rc, out, err = srv.curl("-I", srv.base + "/css/site.css")
st, h, body = parse_response(out)
t.eq(st, 200, "HEAD of a stylesheet is 200")
t.eq(h.get("content-type"), "text/css; charset=utf-8", "stylesheet content type")
t.eq(h.get("content-length"), str(len("body { color: black }\n")), "HEAD tells the length")
t.eq(body, b"", "HEAD has no body")

rc, out, err = srv.curl("-o", "-", srv.base + "/lecture.m4s")
t.ok(rc == 0 and hashlib.sha256(out).digest() == hashlib.sha256(big).digest(),
     "a 1 MiB file streamed from disk arrives intact", "rc=%d len=%d" % (rc, len(out)))
st, h, _ = srv.request("HEAD", "/lecture.m4s")
t.eq(h.get("content-type"), "video/iso.segment", "fMP4 segment content type")

for path in ("/.env", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/css/../../etc/passwd",
             "/css/%2e%2e/%2e%2e/%2e%2e/etc/passwd"):
    raw = raw_exchange(srv.port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    st, h, body = parse_response(raw)
    t.ok(st in (400, 403, 404) and b"root:" not in body and b"SECRET" not in body,
         "no file outside the site and no hidden file: " + path, raw[:300])

# --- the API ---
st, h, j = srv.json("GET", "/healthz")
t.eq(st, 200, "healthz is 200")
t.eq(h.get("content-type"), "application/json", "healthz is JSON")
t.ok(j and j.get("status") == "ok" and j["database"]["ok"] is True and j["version"],
     "healthz reports status, version and database ok", j)
t.ok("frame-ancestors" in h.get("content-security-policy", ""), "security headers on API responses too")

st, h, j = srv.json("GET", "/api/v1")
t.ok(st == 200 and j.get("api") == "v1", "the API index answers", j)

for method, path, want in (("GET", "/nope", 404), ("GET", "/api/v1/nope", 404),
                           ("DELETE", "/api/v1", 405), ("POST", "/healthz", 405),
                           ("PUT", "/index.html", 405)):
    st, h, j = srv.json(method, path, body=b"" if method in ("POST", "PUT") else None)
    t.eq(st, want, "%s %s is %d" % (method, path, want))
    t.eq(h.get("content-type"), "application/problem+json", "%s %s has a problem+json body" % (method, path))
    t.ok(isinstance(j, dict) and j.get("status") == want and j.get("title") and j.get("type")
         and j.get("detail"), "problem body has type, title, status, detail", j)
    if want == 405:
        t.ok(h.get("allow") and "GET" in h["allow"], "405 carries Allow: " + str(h.get("allow")))

st, h, j = srv.json("POST", "/api/v1", body=b"x" * 1025)
t.eq(st, 413, "a body over --max-body is 413")
t.ok(j and j.get("status") == 413 and "1024" in j.get("detail", ""), "413 says the limit", j)
rc, out, err = srv.curl("-i", "-X", "POST", "--data-binary", "@-", srv.base + "/api/v1")
t.eq(parse_response(out)[0], 405, "a body within the limit reaches the router (405 here)")

# --- keep-alive: many requests on one connection ---
import http.client  # noqa: E402
c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
statuses = []
for i in range(20):
    c.request("GET", "/healthz" if i % 2 else "/css/site.css")
    r = c.getresponse()
    r.read()
    statuses.append(r.status)
sock_before = c.sock
c.request("GET", "/nope")
r = c.getresponse()
r.read()
t.ok(statuses == [200] * 20 and r.status == 404 and c.sock is sock_before,
     "20 requests and a 404 on one keep-alive connection", statuses)
c.close()

# pipelined requests in one write are answered in order
raw = raw_exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
codes = re.findall(rb"HTTP/1\.1 (\d{3})", raw)
t.eq(codes, [b"200", b"404"], "pipelined requests answered in order")

# --- metrics ---
rc, out, err = srv.curl("-i", srv.base + "/metrics")
st, h, body = parse_response(out)
text = body.decode()
t.eq(st, 200, "metrics is 200")
t.ok(h.get("content-type", "").startswith("text/plain; version=0.0.4"), "Prometheus content type")
m = re.search(r'^tinchi_http_requests_total\{route="healthz",status="200"\} (\d+)$', text, re.M)
t.ok(m and int(m.group(1)) >= 2, "requests counted by route and status", text[:400])
t.ok(re.search(r'^tinchi_http_requests_total\{route="not_found",status="404"\} \d+$', text, re.M),
     "404s counted")
t.ok(re.search(r'^tinchi_http_request_duration_seconds_bucket\{route="healthz",le="\+Inf"\} \d+$', text, re.M),
     "latency histogram")
m = re.search(r"^tinchi_http_connections_open (\d+)$", text, re.M)
t.ok(m and int(m.group(1)) >= 1, "open connections gauge counts this one", m and m.group(0))
m = re.search(r"^tinchi_database_size_bytes (\d+)$", text, re.M)
t.ok(m and int(m.group(1)) > 0, "database size gauge")
for line in text.splitlines():
    if line and not line.startswith("#") and not re.match(
            r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.e+-]+$', line):
        t.ok(False, "metrics line in exposition format: " + line)
        break
else:
    t.ok(True, "every metrics line is in the exposition format")

# the connections gauge goes down again when clients leave
s1, s2 = srv.connect(), srv.connect()
s1.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
s1.recv(4096)
s2.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
s2.recv(4096)
st, h, body = srv.request("GET", "/metrics")
n_open = int(re.search(rb"^tinchi_http_connections_open (\d+)$", body, re.M).group(1))
s1.close()
s2.close()
import time  # noqa: E402
deadline = time.time() + 5
while time.time() < deadline:
    st, h, body = srv.request("GET", "/metrics")
    n_after = int(re.search(rb"^tinchi_http_connections_open (\d+)$", body, re.M).group(1))
    if n_after <= n_open - 2:
        break
    time.sleep(0.05)
t.ok(n_open >= 3 and n_after <= n_open - 2, "the gauge follows connections (%d -> %d)" % (n_open, n_after))

code, log = srv.stop()
t.eq(code, 0, "server exits 0 on SIGTERM")
t.ok(re.search(r'access 127\.0\.0\.1 "GET /healthz" 200 \d+ \d+us', log), "an access log line per request")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-2000:])
shutil.rmtree(web, ignore_errors=True)
t.done()
