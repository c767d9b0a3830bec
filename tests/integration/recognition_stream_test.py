"""recognition_stream_test.py - the recognition batch streams its NDJSON
(issue 8): HTTP/1.1 chunked, the first lines arrive while the batch is still
being computed, a client that stops reading holds the batch back
(back-pressure: the server's memory stays bounded), every line's access-log
entry is committed before the line is sent, and a client that leaves
mid-stream stops the batch and leaks nothing (the server's log is checked
for sanitizer reports when built with them).

The batch is learner 1, 2,999 imported learners and learner 2, each ID once
(three credentials each: about 2 KB a line, 6 MB in all, far more than the
socket buffers and the stream's bound): while the client has read only the
first lines and waits, learner 2 has not been read (no entry in their
access log). Each learner's consent is looked up when that learner is read:
learner 2 withdraws while a batch waits on its client, and the batch's
line for them is the 404, nothing read."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rs-"), "data")
cli = DataCli(data, COST)
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
cli.person("100000000008", "Phạm Quản Trị", "admin", "HUST")
for n in (1, 2):
    cli.person("20000000000%d" % n, "Học Viên %d" % n, "learner", "VNU")
srv = Server("--password-cost", COST, data=data)

vlec, vadmin, hadmin = ApiClient(srv, "100000000001"), ApiClient(srv, "100000000009"), ApiClient(srv, "100000000008")
L1, L2 = ApiClient(srv, "200000000001"), ApiClient(srv, "200000000002")


def token(admin, inst, scopes):
    st, h, j = admin.call("POST", "/api/v1/institutions/%s/tokens" % inst, {"name": "SIS " + inst, "scopes": scopes})
    assert st == 201, j
    return j["token"]


issuer, reader = token(vadmin, "VNU", ["credentials:issue"]), token(hadmin, "HUST", ["credits:read"])
for code in ("CS101", "CS102", "CS103"):
    st, h, j = vlec.call("POST", "/api/v1/institutions/VNU/courses",
                         {"code": code, "title": "Môn " + code, "language": "vi", "credits": "3"})
    assert st == 201, j
    body = {"credential": {"credentialSubject": {"national_id": "200000000001", "achievement": {"humanCode": code},
                                                 "grade": "8.5", "term": "2025 HK1", "completed_on": "2025-06-20"}}}
    st, h, j = ApiClient(srv).call("POST", "/credentials/issue", body, headers={"Authorization": "Bearer " + issuer})
    assert st == 201, j
consent = {}
for c in (L1, L2):
    st, h, j = c.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all", "purpose": "xét tuyển"})
    assert st == 201, j
    consent[c] = j["uid"]

# the other learners: imported (no password), three credentials each
# (imported), a consent each (written to the database as the API would)
N = 3000
OTHERS = ["3%011d" % i for i in range(N - 1)]
tmp = tempfile.mkdtemp(prefix="tinchi-rs-csv-")
with open(os.path.join(tmp, "learners.csv"), "w") as f:
    f.write("national_id,full_name\n" + "".join("%s,Học Viên %s\n" % (n, n) for n in OTHERS))
rc, out, err = cli("import", "learners", os.path.join(tmp, "learners.csv"), "--institution", "VNU")
assert rc == 0, err
rows = "national_id,course_code,grade,term,completed_on\n" + "".join(
    "%s,%s,8.5,2025 HK1,2025-06-20\n" % (n, code) for n in OTHERS for code in ("CS101", "CS102", "CS103"))
st, h, body = srv.request("POST", "/api/v1/institutions/VNU/credentials:import", body=rows.encode(),
                          headers={"Authorization": "Bearer " + issuer, "Content-Type": "text/csv"}, timeout=600)
assert st == 200 and json.loads(body)["issued"] == 3 * (N - 1), body[:300]
db = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=30)
with db:
    db.execute("INSERT INTO consents (uid, version, person_id, institution_id, state, all_credentials, purpose,"
               " valid_until, created_at, created_by) SELECT lower(hex(randomblob(16))), 1, p.id,"
               " c.institution_id, c.state, 1, c.purpose, c.valid_until, c.created_at, p.id FROM people p,"
               " consents c WHERE p.national_id LIKE '3%' AND c.uid = ?", (consent[L1],))
db.close()


def accesses(c):
    st, h, j = c.call("GET", "/api/v1/me/consents/accesses?limit=500")
    assert st == 200, j
    return len(j["accesses"]) + (1000000 if j.get("next_before") else 0)


def count_all():
    """Every learner's accesses."""
    db = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=30)
    n = db.execute("SELECT count(*) FROM consent_accesses").fetchone()[0]
    db.close()
    return n


ids = ["200000000001"] + OTHERS + ["200000000002"]
payload = json.dumps(ids).encode()


def start_batch():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(("POST /api/v1/recognition/HUST/learners:batch HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % (reader, len(payload))).encode() + payload)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.decode().lower(), rest


class Chunked:
    """Reads a chunked body from S (after REST), line by line."""

    def __init__(self, s, rest):
        self.s, self.raw, self.body, self.ended = s, rest, b"", False

    def _more(self):
        got = self.s.recv(65536)
        if not got:
            raise EOFError
        self.raw += got

    def _decode(self):
        while True:
            nl = self.raw.find(b"\r\n")
            if nl < 0:
                return
            size = int(self.raw[:nl], 16)
            if len(self.raw) < nl + 2 + size + 2:
                return
            if size == 0:
                self.ended = True
                return
            self.body += self.raw[nl + 2:nl + 2 + size]
            self.raw = self.raw[nl + 2 + size + 2:]

    def line(self):
        while b"\n" not in self.body:
            if self.ended:
                return None
            self._more()
            self._decode()
        ln, _, self.body = self.body.partition(b"\n")
        return json.loads(ln)


before1 = count_all()
s, head, rest = start_batch()
t.ok(head.startswith("http/1.1 200") and "transfer-encoding: chunked" in head and "content-length" not in head
     and "application/x-ndjson" in head, "the batch answers 200 NDJSON, chunked, without a length", head)
r = Chunked(s, rest)
first = [r.line() for _ in range(20)]
t.ok(all(x and x.get("status") == 200 and x.get("national_id") == ids[i] and
         len(x.get("credentials", [])) == 3 for i, x in enumerate(first)), "the first lines arrive", first[:1])
got1 = count_all() - before1
t.ok(got1 >= 20, "the learners of the lines received are in the access log already (%d >= 20)" % got1)
time.sleep(1.5)
held = count_all() - before1
t.ok(held < N, "a client that does not read holds the batch back (%d of %d read, not all)" % (held, N))
t.eq(accesses(L2), 0, "... so the last learner is not computed yet while the first lines are in")
# the held batch has a thread of its own: an upload (a learner import, bulk
# work) is answered meanwhile; the institution's second batch is 429
t0 = time.time()
try:
    st, h, j = vadmin.call("POST", "/api/v1/institutions/VNU/learners:import",
                           raw="national_id,full_name\n400000000001,Học Viên Mới\n".encode(), ctype="text/csv",
                           timeout=20)
except Exception as e:  # noqa: BLE001 - a time-out is the failure shown
    st, j = None, repr(e)
t.ok(st == 200, "a learner import completes while a batch is held by its client (%.1f s)" % (time.time() - t0),
     (st, j))
st, h, body = srv.request("POST", "/api/v1/recognition/HUST/learners:batch", body=b'["200000000002"]',
                          headers={"Authorization": "Bearer " + reader, "Content-Type": "application/json"},
                          timeout=20)
t.ok(st == 429 and h.get("retry-after") and accesses(L2) == 0,
     "HUST's second batch meanwhile: 429 with Retry-After, nothing read", (st, h, body[:200]))
n, last = 20, None
while True:
    x = r.line()
    if x is None:
        break
    n += 1
    last = x
s.close()
t.ok(r.ended and n == N + 2 and last.get("summary", {}).get("learners") == N + 1 and
     last["summary"]["answered"] == N + 1, "then the whole batch: every line, the summary, the end chunk",
     (n, last))
t.eq(accesses(L2), 1, "the last learner is read at the end")
t.eq(count_all() - before1, N + 1, "each of the %d learners was read once, and logged" % (N + 1))

# a client that leaves mid-stream: the batch stops (no more reads logged)
before1 = count_all()
s, head, rest = start_batch()
r = Chunked(s, rest)
r.line()
s.close()
time.sleep(1.5)
a = count_all() - before1
time.sleep(1.0)
b = count_all() - before1
t.ok(0 < a < N and a == b, "a client that leaves mid-stream stops the batch (%d read, then no more)" % a)
st, h, body = srv.request("POST", "/api/v1/recognition/HUST/learners:batch", body=b'["200000000002"]',
                          headers={"Authorization": "Bearer " + reader, "Content-Type": "application/json"})
t.ok(st == 200 and len(body.decode().splitlines()) == 2, "the server answers the next batch", (st, body[:200]))

# learner 2 withdraws while a batch that names them last waits on its client
# (a second later than the batch began): their line is the 404, unread
was = accesses(L2)
s, head, rest = start_batch()
r = Chunked(s, rest)
lines = [r.line() for _ in range(20)]
time.sleep(1.5)
unread = accesses(L2) == was
st, h, j = L2.call("DELETE", "/api/v1/me/consents/%s" % consent[L2])
assert st == 200, j
while True:
    x = r.line()
    if x is None:
        break
    lines.append(x)
s.close()
t.ok(unread and len(lines) == N + 2 and lines[-2].get("national_id") == "200000000002" and
     lines[-2].get("status") == 404 and "credentials" not in lines[-2] and
     lines[-1].get("summary", {}).get("not_found") == 1,
     "consent withdrawn while the batch runs: the learner's line is the 404", (unread, len(lines), lines[-2:]))
t.eq(accesses(L2), was, "... and the withdrawn learner's log has no read")

rc, log = srv.stop()
t.ok(sanitizer_clean(log), "no sanitizer report (leaks included) after the streams",
     [x for x in log.splitlines() if "Sanitizer" in x or "runtime error" in x][:5])

# over TLS: HTTP/1.1 chunked through lws_write, and HTTP/2 DATA frames
tmp = tempfile.mkdtemp(prefix="tinchi-rs-tls-")
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
gen = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
assert gen.returncode == 0, gen.stderr
srv = Server("--password-cost", COST, "--tls-cert", cert, "--tls-key", key, "--http2", "on", data=data)
small = os.path.join(tmp, "ids.json")
with open(small, "w") as f:
    json.dump(ids[:2000] + ["200000000002"], f)
for proto, want in (("--http1.1", "HTTP/1.1 200"), ("--http2", "HTTP/2 200")):
    p = subprocess.run(["curl", "-sS", "-k", proto, "--max-time", "120", "-D", "-", "-H", "Authorization: Bearer " + reader,
                        "-H", "Content-Type: application/json", "--data-binary", "@" + small,
                        "https://127.0.0.1:%d/api/v1/recognition/HUST/learners:batch" % srv.port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head, _, body = p.stdout.decode("utf-8", "replace").partition("\r\n\r\n")
    lines = body.splitlines()
    t.ok(p.returncode == 0 and head.startswith(want) and "content-length" not in head.lower() and
         len(lines) == 2002 and json.loads(lines[-1]).get("summary", {}).get("learners") == 2001,
         "TLS %s: the whole streamed batch, no length" % proto[2:], (p.returncode, head[:200], len(lines),
                                                                      p.stderr[-300:]))
rc, log = srv.stop()
t.ok(sanitizer_clean(log), "no sanitizer report after the TLS streams",
     [x for x in log.splitlines() if "Sanitizer" in x or "runtime error" in x][:5])
t.done()
