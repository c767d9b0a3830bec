#!/usr/bin/env python3
"""ws_test.py - the /ws endpoint (subprotocol tinchi.v1) against the real server.

Handshake and hello, the ping message, errors, close codes (1007, 1003, 1009,
1008), protocol-level pings both ways, the send-queue cap, the WebSocket gauge
in /metrics, refused handshakes, and who is connected: anonymous, a session
cookie (with its Origin check), an API token, a bad token.
"""
import http.client
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, DataCli, Server, Tap, sanitizer_clean  # noqa: E402
from wsclient import (OP_CLOSE, OP_CONT, OP_BIN, OP_PING, OP_PONG,  # noqa: E402
                      OP_TEXT, HandshakeError, WebSocket, close_code)

tap = Tap()


def now_ms():
    return int(time.time() * 1000)


def poll(fn, timeout=5.0, step=0.05):
    """Calls FN until it returns a true value or TIMEOUT passes; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def metric(srv, name):
    st, _, body = srv.request("GET", "/metrics")
    if st != 200:
        return None
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def recv_json(ws):
    op, data = ws.recv_message()
    if op != OP_TEXT:
        return op, data
    return op, json.loads(data.decode("utf-8"))


def open_client(srv, **kw):
    """Connects and consumes the hello message."""
    return open_hello(srv, **kw)[0]


def open_hello(srv, **kw):
    """Connects; returns (the WebSocket, its hello message)."""
    ws = WebSocket(srv.port, **kw)
    op, hello = recv_json(ws)
    if op != OP_TEXT or hello.get("type") != "hello":
        raise AssertionError("no hello: %r" % (hello,))
    return ws, hello


def try_hello(srv, headers, tls=False):
    """Connects with HEADERS: (hello message, None), or (None, (status, raw
    response)) when the handshake is refused."""
    try:
        ws, hello = open_hello(srv, headers=headers, tls=tls)
    except HandshakeError as e:
        return None, (e.status, e.raw)
    ws.close()
    return hello, None


def refusal(raw):
    """The headers (lower-case names) and JSON body of a refused handshake."""
    head, _, body = raw.partition(b"\r\n\r\n")
    h = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
    n = int(h.get("content-length", "-1"))
    try:
        j = json.loads(body[:n].decode("utf-8")) if n > 0 else None
    except ValueError:
        j = None
    return h, j


def expect_close(ws, timeout=5.0):
    """Reads until the server closes. Returns (close code or None, closed):
    closed is True when the connection ended (close frame, EOF or reset)
    before TIMEOUT."""
    ws.sock.settimeout(timeout)
    code = None
    try:
        while True:
            op, data = ws.recv_message(answer_pings=False)
            if op == OP_CLOSE:
                code = close_code(data)
                break
    except socket.timeout:
        return code, False
    except (ConnectionError, OSError):
        return code, True
    # after its close frame the server hangs up
    try:
        while ws.sock.recv(65536):
            pass
    except socket.timeout:
        return code, False
    except OSError:
        pass
    return code, True


def ping_msg(ident):
    return json.dumps({"type": "ping", "id": ident})


def check_stop(srv, what):
    rc, log = srv.stop()
    tap.eq(rc, 0, "%s: SIGTERM stop exits 0" % what)
    tap.ok(sanitizer_clean(log), "%s: no sanitizer report" % what, log[-3000:])
    return log


# ---- server A: defaults ---------------------------------------------------

srv = Server()
try:
    ws = WebSocket(srv.port)
    tap.eq(ws.headers.get("sec-websocket-protocol"), "tinchi.v1",
           "101 selects the subprotocol tinchi.v1")
    op, hello = recv_json(ws)
    tap.ok(op == OP_TEXT and hello.get("type") == "hello" and
           hello.get("protocol") == "tinchi.v1",
           "first message is hello with protocol tinchi.v1", hello)

    ws.send_text(ping_msg(7))
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("type") == "pong" and m.get("id") == 7 and
           isinstance(m.get("time"), int) and abs(m["time"] - now_ms()) < 60000,
           "ping id 7 -> pong id 7 with the current time", m)

    ids = ["seven", 7.5, None, True, [1, "a"], {"k": {"n": [None]}}]
    got = []
    for ident in ids:
        ws.send_text(ping_msg(ident))
        op, m = recv_json(ws)
        got.append(m.get("id", "<missing>") if isinstance(m, dict) else m)
    tap.eq(got, ids, "ping ids of every JSON type are echoed")

    ws.send_text(json.dumps({"type": "no_such_type", "id": 1}))
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("type") == "error" and m.get("error") == "unknown_type",
           "unknown type -> error unknown_type", m)
    ws.send_text(ping_msg(8))
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("type") == "pong" and m.get("id") == 8,
           "connection still usable after unknown_type", m)

    ws.send_text(json.dumps({"id": 9}))
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("type") == "error" and m.get("error") == "invalid",
           "message without type -> error invalid", m)
    ws.send_text(json.dumps({"type": 5}))
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("error") == "invalid",
           "non-string type -> error invalid", m)

    ws.send_frame(OP_PING, b"probe-123")
    op, data, fin = ws.recv_frame()
    tap.ok(op == OP_PONG and data == b"probe-123" and fin,
           "client ping frame -> pong frame with the same payload", (op, data))

    # a fragmented message under the limit is reassembled
    text = ping_msg("frag-" + "z" * 30000)
    parts = [text[:10], text[10:20000], text[20000:]]
    ws.send_frame(OP_TEXT, parts[0], fin=False)
    ws.send_frame(OP_CONT, parts[1], fin=False)
    ws.send_frame(OP_CONT, parts[2], fin=True)
    op, m = recv_json(ws)
    tap.ok(op == OP_TEXT and m.get("type") == "pong" and m.get("id") == "frag-" + "z" * 30000,
           "fragmented message is reassembled", str(m)[:200])

    # exactly 64 KiB is allowed
    pad = 65536 - len(ping_msg(""))
    text = ping_msg("p" * pad)
    ws.send_text(text)
    op, m = recv_json(ws)
    tap.ok(len(text.encode()) == 65536 and op == OP_TEXT and m.get("id") == "p" * pad,
           "a message of exactly 64 KiB is answered", str(m)[:200])

    ws.send_text('{"type": "ping", "id": ')
    code, closed = expect_close(ws)
    tap.ok(code == 1007 and closed, "invalid JSON -> close 1007",
           (code, closed))

    ws = open_client(srv)
    ws.send_text("[1, 2]")
    code, closed = expect_close(ws)
    tap.ok(code == 1007 and closed, "JSON that is not an object -> close 1007", (code, closed))

    ws = open_client(srv)
    ws.send_frame(OP_BIN, b"\x00\x01\x02")
    code, closed = expect_close(ws)
    tap.ok(code == 1003 and closed, "binary frame -> close 1003", (code, closed))

    ws = open_client(srv)
    ws.send_text(ping_msg("b" * 70000))
    code, closed = expect_close(ws)
    tap.ok(code == 1009 and closed, "one 70 KB frame -> close 1009", (code, closed))

    ws = open_client(srv)
    try:
        for i in range(5):
            ws.send_frame(OP_TEXT if i == 0 else OP_CONT, "f" * 16000, fin=(i == 4))
    except OSError:
        pass
    code, closed = expect_close(ws)
    tap.ok(code == 1009 and closed, "80 KB in 16 KB fragments -> close 1009", (code, closed))

    # the gauge follows open WebSockets
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 0),
           "gauge is 0 once the closed clients are gone",
           metric(srv, "tinchi_websocket_connections_open"))
    a = open_client(srv)
    b = open_client(srv)
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 2),
           "gauge is 2 with two clients open", metric(srv, "tinchi_websocket_connections_open"))
    a.close()
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 1),
           "gauge is 1 after one client closed", metric(srv, "tinchi_websocket_connections_open"))
    b.sock.close()      # no close frame: a dropped TCP connection
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 0),
           "gauge is 0 after both closed", metric(srv, "tinchi_websocket_connections_open"))

    # refused handshakes
    for path, proto, want, name in (("/other", "tinchi.v1", 404, "wrong path /other"),
                                    ("/ws", None, 400, "missing subprotocol"),
                                    ("/ws", "chat", 400, "other subprotocol")):
        try:
            WebSocket(srv.port, path=path, protocol=proto)
            status, raw = 101, b""
        except HandshakeError as e:
            status, raw = e.status, e.raw
        tap.ok(status == want and b"application/problem+json" in raw.lower(),
               "%s -> %d problem+json" % (name, want), raw[:300])
    tap.eq(srv.request("GET", "/healthz")[0], 200, "server A still answers /healthz")

    # the queue is bounded in bytes too: 200 answers of 50 KB (10 MB, more
    # than the kernel's buffers take) to a client that does not read, below
    # 256 messages, close it
    hog = open_client(srv, rcvbuf=4096)
    big = ping_msg("b" * 50000)
    try:
        for _ in range(200):
            hog.send_text(big)
    except OSError:
        pass
    code, closed = expect_close(hog, timeout=10.0)
    tap.ok(closed and code in (None, 1008),
           "a reader 10 MB behind is closed before 256 messages (1008 or hang-up)", (code, closed))
finally:
    check_stop(srv, "server A")


# ---- server B: protocol pings every second --------------------------------

srv = Server("--ws-ping-interval", "1")
try:
    silent = open_client(srv)
    silent.sock.settimeout(3.5)
    t0 = time.time()
    try:
        op, data, fin = silent.recv_frame()
    except (socket.timeout, OSError):
        op, data = None, b""
    tap.ok(op == OP_PING and time.time() - t0 < 3.5,
           "server sends a ping frame within ~3 s", (op, data))
    # answer nothing: the server must hang up
    t1 = time.time()
    code, closed = expect_close(silent, timeout=5.0)
    tap.ok(closed and time.time() - t1 < 5.0,
           "a client that never answers is closed within 5 s more",
           (code, closed, time.time() - t1))

    # a client that answers pings stays connected
    lively = open_client(srv)
    pings = 0
    alive = True
    deadline = time.time() + 4.0
    while time.time() < deadline:
        if not lively.buf:
            r, _, _ = select.select([lively.sock], [], [], min(0.2, max(0, deadline - time.time())))
            if not r:
                continue
        lively.sock.settimeout(5)
        try:
            op, data, fin = lively.recv_frame()
        except (ConnectionError, OSError):
            alive = False
            break
        if op == OP_PING:
            pings += 1
            lively.send_frame(OP_PONG, data)
        elif op == OP_CLOSE:
            alive = False
            break
    tap.ok(alive and pings >= 2, "a client answering pings stays connected for 4 s",
           "alive=%r pings=%d" % (alive, pings))
    if alive:
        lively.sock.settimeout(5)
        lively.send_text(ping_msg("still-here"))
        try:
            op, data = lively.recv_message(answer_pings=True)
            m = json.loads(data.decode()) if op == OP_TEXT else {}
        except (ConnectionError, OSError):
            m = {}
        tap.eq(m.get("id"), "still-here", "and it still gets answers")
        lively.close()
    else:
        tap.ok(False, "and it still gets answers")
finally:
    check_stop(srv, "server B")


# ---- server C: a send queue of 4 messages ----------------------------------

srv = Server("--ws-queue-max", "4")
try:
    bystander = open_client(srv)
    rss_before = rss_kb(srv.proc.pid)
    hog = open_client(srv, rcvbuf=4096)
    big = ping_msg("q" * 50000)
    sent = 0
    try:
        for _ in range(400):
            hog.send_text(big)
            sent += 1
    except OSError:
        pass        # the server hung up while we were still sending
    code, closed = expect_close(hog, timeout=10.0)
    tap.ok(closed and code in (None, 1008),
           "a client that does not read is closed (1008 or hang-up)",
           "code=%r closed=%r sent=%d" % (code, closed, sent))
    tap.diag("queue-cap client: %d messages sent, close code %r" % (sent, code))
    tap.ok(poll(lambda: "send queue" in srv.read_log()),
           "the server logged the full send queue", srv.read_log()[-2000:])
    tap.eq(srv.request("GET", "/healthz")[0], 200, "server still answers /healthz")
    bystander.send_text(ping_msg("other"))
    op, m = recv_json(bystander)
    tap.ok(op == OP_TEXT and m.get("id") == "other", "another WebSocket is still served", m)
    rss_after = rss_kb(srv.proc.pid)
    tap.ok(rss_after - rss_before < 64 * 1024,
           "RSS grew by less than 64 MiB (%d -> %d KiB)" % (rss_before, rss_after))
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 1),
           "gauge counts only the bystander", metric(srv, "tinchi_websocket_connections_open"))
    bystander.close()
finally:
    check_stop(srv, "server C")



# ---- server D: who is connected --------------------------------------------

COST = "12"   # scrypt log2(N): fast hashes for test accounts
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-ws-"), "data")


cli = DataCli(data)


rc, out, err = cli("institution", "add", "VNU", "--name", "Đại học Quốc gia Hà Nội",
                   "--kind", "university")
tap.eq(rc, 0, "setup: tinchi institution add VNU")
rc, out, err = cli("person", "add", "--national-id", "079123456789", "--name", "Nguyễn Thị Ánh",
                   "--role", "admin", "--institution", "VNU", "--password-stdin",
                   "--password-cost", COST, stdin=b"ws-admin-password-1\n")
m = re.match(r"^([0-9a-f-]{36})\t", out)
tap.ok(rc == 0 and m, "setup: tinchi person add prints the admin's uid", out + err)
admin_uid = m.group(1) if m else None
rc, out, err = cli("person", "add", "--national-id", "079123456780", "--name", "Lê Văn Học",
                   "--role", "learner", "--institution", "VNU", "--password-stdin",
                   "--password-cost", COST, stdin=b"ws-learner-password-1\n")
m = re.match(r"^([0-9a-f-]{36})\t", out)
tap.ok(rc == 0 and m, "setup: tinchi person add prints the learner's uid", out + err)
learner_uid = m.group(1) if m else None


def sign_in(srv, nid, password, tls=False):
    """POST /api/v1/session: (the "name=value" of the session cookie, CSRF token)."""
    body = json.dumps({"national_id": nid, "password": password}).encode()
    hdrs = {"Content-Type": "application/json"}
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=10, context=ctx)
        try:
            c.request("POST", "/api/v1/session", body=body, headers=hdrs)
            r = c.getresponse()
            st, h, body = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()
    else:
        st, h, body = srv.request("POST", "/api/v1/session", body, hdrs)
    m = re.match(r"([^=]+=[^;]+)", h.get("set-cookie", ""))
    j = json.loads(body.decode()) if st == 200 else {}
    return (m.group(1) if m else None), j.get("csrf_token")


srv = Server("--password-cost", COST, data=data)
try:
    origin = "http://127.0.0.1:%d" % srv.port

    hello, ref = try_hello(srv, {})
    tap.ok(hello and "person" in hello and hello["person"] is None and
           hello.get("auth") == "none",
           "no credentials: anonymous, hello has \"person\": null", (hello, ref))

    cookie, csrf = sign_in(srv, "079123456789", "ws-admin-password-1")
    tap.ok(cookie and cookie.startswith("tinchi_session=") and csrf, "the admin signs in", cookie)
    hello, ref = try_hello(srv, {"Cookie": cookie})
    tap.ok(hello and hello.get("person") == admin_uid and hello.get("auth") == "session",
           "session cookie, no Origin: hello names the person's uid", (hello, ref, admin_uid))
    hello, ref = try_hello(srv, {"Cookie": "theme=dark; " + cookie + "; lang=vi"})
    tap.ok(hello and hello.get("person") == admin_uid,
           "the session cookie among other cookies is found", (hello, ref))

    hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": origin})
    tap.ok(hello and hello.get("person") == admin_uid,
           "session cookie with a same-origin Origin is accepted", (hello, ref))
    hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": "HTTP://LocalHost:%d" % srv.port,
                                 "Host": "localhost:%d" % srv.port})
    tap.ok(hello and hello.get("person") == admin_uid,
           "Origin is compared with the Host header sent, scheme and host without case",
           (hello, ref))
    hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": "http://localhost",
                                 "Host": "localhost:80"})
    tap.ok(hello and hello.get("person") == admin_uid,
           "a missing port is the scheme's (http://localhost = localhost:80)", (hello, ref))
    hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": "http://[::1]:%d" % srv.port,
                                 "Host": "[::1]:%d" % srv.port})
    tap.ok(hello and hello.get("person") == admin_uid,
           "an IPv6 literal host [::1]:port matches", (hello, ref))

    for bad, name in (("https://evil.example", "another site"),
                      ("http://127.0.0.1:%d" % (srv.port + 1 if srv.port < 65535 else 1), "another port"),
                      ("http://localhost:%d" % srv.port, "another host name"),
                      ("null", "an opaque origin (null)"),
                      ("http://127.0.0.1:%d.evil.example" % srv.port, "a look-alike host"),
                      ("ftp://127.0.0.1:%d" % srv.port, "another scheme")):
        hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": bad})
        h, j = refusal(ref[1]) if ref else ({}, None)
        tap.ok(hello is None and ref[0] == 403 and j and j.get("status") == 403 and
               "application/problem+json" in h.get("content-type", ""),
               "session cookie with Origin from %s -> 403 problem+json" % name,
               (hello, ref))
    hello, ref = try_hello(srv, {"Origin": "https://evil.example"})
    tap.ok(hello and hello.get("person") is None,
           "a foreign Origin without credentials is an anonymous connection", (hello, ref))

    st, h, body = srv.request("POST", "/api/v1/institutions/VNU/tokens",
                              json.dumps({"name": "Notifier", "scopes": ["credits:read"]}).encode(),
                              {"Content-Type": "application/json", "Cookie": cookie,
                               "X-CSRF-Token": csrf})
    token = json.loads(body.decode()).get("token") if st == 201 else None
    tap.ok(token and token.startswith("tct_"), "setup: the admin creates an API token", (st, body))
    hello, ref = try_hello(srv, {"Authorization": "Bearer %s" % token})
    tap.ok(hello and hello.get("auth") == "token" and "person" in hello and hello["person"] is None,
           "a bearer API token is accepted (auth token, no person)", (hello, ref))
    hello, ref = try_hello(srv, {"Authorization": "Bearer %s" % token,
                                 "Origin": "https://evil.example"})
    tap.ok(hello and hello.get("auth") == "token",
           "a bearer token is not subject to the Origin check", (hello, ref))

    for auth, name in (("Bearer tct_" + "0" * 43, "an unknown bearer token"),
                       ("Bearer " + (token or "")[:-2] + "xx", "a mangled bearer token"),
                       ("Basic YWRtaW46YWRtaW4=", "Basic credentials")):
        hello, ref = try_hello(srv, {"Authorization": auth, "Cookie": cookie})
        h, j = refusal(ref[1]) if ref else ({}, None)
        tap.ok(hello is None and ref[0] == 401 and j and j.get("status") == 401 and
               "invalid_token" in h.get("www-authenticate", ""),
               "%s -> 401 with WWW-Authenticate, even beside a good cookie" % name, (hello, ref))
    hello, ref = try_hello(srv, {"Authorization": "Bearer " + "a" * 1100})
    tap.ok(hello is None and ref[0] == 431, "an over-long Authorization header -> 431", (hello, ref))

    # several connections of two people, closed in a mixed order: the
    # index by person and the gauge stay right (ASan checks the links)
    lcookie, _ = sign_in(srv, "079123456780", "ws-learner-password-1")
    conns = []
    for i in range(12):
        ws, hello = open_hello(srv, headers={"Cookie": cookie if i % 3 else lcookie})
        conns.append((ws, hello))
    tap.ok(all(h.get("person") == (admin_uid if i % 3 else learner_uid)
               for i, (_, h) in enumerate(conns)),
           "twelve connections of two people each know who they are",
           [h.get("person") for _, h in conns])
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 12),
           "gauge is 12", metric(srv, "tinchi_websocket_connections_open"))
    for i in (5, 0, 11, 3, 6, 1):
        conns[i][0].close()
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 6),
           "gauge is 6 after closing half", metric(srv, "tinchi_websocket_connections_open"))
    ok = True
    for i in (2, 4, 7, 8, 9, 10):
        conns[i][0].send_text(ping_msg(i))
        op, m = recv_json(conns[i][0])
        ok = ok and op == OP_TEXT and m.get("id") == i
    tap.ok(ok, "the other six still answer")
    for i in (2, 4, 7, 8, 9, 10):
        conns[i][0].close()

    # identity is fixed for the connection's life
    lcookie2, lcsrf2 = sign_in(srv, "079123456780", "ws-learner-password-1")
    ws2, hello2 = open_hello(srv, headers={"Cookie": lcookie2})
    st, _, _ = srv.request("DELETE", "/api/v1/session",
                           headers={"Cookie": lcookie2, "X-CSRF-Token": lcsrf2})
    tap.ok(st in (200, 204), "the learner signs out one session", st)
    hello3, ref = try_hello(srv, {"Cookie": lcookie2})
    tap.ok(hello3 and hello3.get("person") is None,
           "a signed-out session's cookie now connects anonymously", (hello3, ref))
    ws2.send_text(ping_msg("after"))
    op, m = recv_json(ws2)
    tap.ok(hello2.get("person") == learner_uid and op == OP_TEXT and m.get("id") == "after",
           "a connection opened before signing out stays open (identity fixed)", m)
    ws2.close()
    tap.ok(poll(lambda: metric(srv, "tinchi_websocket_connections_open") == 0),
           "gauge is 0 at the end", metric(srv, "tinchi_websocket_connections_open"))
    tap.ok(poll(lambda: "refused a WebSocket with 403" in srv.read_log()),
           "refusals are logged", srv.read_log()[-2000:])
finally:
    check_stop(srv, "server D")


# ---- server E: TLS ----------------------------------------------------------

tmp = tempfile.mkdtemp(prefix="tinchi-ws-tls-")
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
gen = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                      "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                      "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
if tap.ok(gen.returncode == 0, "openssl made a self-signed certificate",
          gen.stderr.decode("utf-8", "replace")):
    srv = Server("--password-cost", COST, "--tls-cert", cert, "--tls-key", key, data=data)
    try:
        cookie, _ = sign_in(srv, "079123456789", "ws-admin-password-1", tls=True)
        tap.ok(cookie and cookie.startswith("__Host-tinchi_session="),
               "TLS: the admin signs in with the __Host- cookie", cookie)
        hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": "https://127.0.0.1:%d" % srv.port},
                               tls=True)
        tap.ok(hello and hello.get("person") == admin_uid,
               "TLS: __Host- cookie with Origin https://same-host accepted", (hello, ref))
        hello, ref = try_hello(srv, {"Cookie": cookie, "Origin": "http://127.0.0.1:%d" % srv.port},
                               tls=True)
        tap.ok(hello is None and ref[0] == 403,
               "TLS: the same host over http:// is another origin -> 403", (hello, ref))
        plain = "tinchi_session=" + cookie.partition("=")[2]
        hello, ref = try_hello(srv, {"Cookie": plain}, tls=True)
        tap.ok(hello and hello.get("person") is None and hello.get("auth") == "none",
               "TLS: the token under the plain cookie name is not a session", (hello, ref))
    finally:
        check_stop(srv, "server E")
shutil.rmtree(tmp, ignore_errors=True)
shutil.rmtree(os.path.dirname(data), ignore_errors=True)

tap.done()
