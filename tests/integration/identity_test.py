"""identity_test.py - identity and access over real HTTP: the operator's
command line, institutions and keys, people and activation codes, sign-in
sessions with CSRF, lockout, API tokens, the learner import, the audit log,
and every route tried as every role (the authorization table)."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DataCli, Server, TOP, Tap, sanitizer_clean  # noqa: E402

t = Tap()
COST = "12"   # scrypt log2(N) for this test's hashes: fast; the default 17 is unit-tested
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-id-"), "data")


cli = DataCli(data)


# ---- the operator bootstraps from the command line ----------------------------
rc, out, err = cli("person", "add", "--national-id", "000000000001", "--name", "Trần Văn Vận Hành",
                   "--role", "operator", "--password-stdin", "--password-cost", COST,
                   stdin=b"operator-password-1\n")
t.ok(rc == 0 and "operator" in out, "tinchi person add makes an operator", out + err)
rc, out, err = cli("person", "add", "--national-id", "12345", "--name", "X", "--role", "operator")
t.ok(rc == 2 and "12 digits" in err and len(err.strip().splitlines()) == 1,
     "a malformed national ID on the command line: exit 2, one line", err)
rc, out, err = cli("institution", "add", "HUST", "--name", "Đại học Bách khoa Hà Nội",
                   "--kind", "university", "--website", "https://hust.edu.vn")
t.ok(rc == 0 and re.search(r"^HUST\tdid:key:z6Mk\w+$", out.strip()), "tinchi institution add prints the did:key", out + err)
rc, out, err = cli("institution", "add", "HUST", "--name", "again", "--kind", "university")
t.ok(rc == 1 and "exists" in err, "a duplicate institution code is refused", err)
rc, out, err = cli("institution", "add", "bad code", "--name", "x", "--kind", "university")
t.eq(rc, 2, "a malformed institution code exits 2")
keyfiles = [f for f in os.listdir(os.path.join(data, "keys")) if f.endswith(".pem")]
t.ok(len(keyfiles) == 1 and all(os.stat(os.path.join(data, "keys", f)).st_mode & 0o077 == 0 for f in keyfiles),
     "the institution's private key is a file only the server's user can read", keyfiles)

srv = Server("--password-cost", COST, data=data)


class Client:
    """A browser-like client: keeps the session cookie and the CSRF token."""

    def __init__(self):
        self.cookie = None
        self.csrf = None
        self.bearer = None

    def call(self, method, path, body=None, ctype="application/json", csrf=True, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if self.bearer:
            h["Authorization"] = "Bearer " + self.bearer
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None:
            h["Content-Type"] = ctype
        st, rh, data_ = srv.request(method, path, body=body, headers=h, timeout=60)
        try:
            j = json.loads(data_) if data_ else None
        except ValueError:
            j = None
        return st, rh, j

    def login(self, nid, password):
        st, h, j = self.call("POST", "/api/v1/session", {"national_id": nid, "password": password})
        if st == 200:
            m = re.match(r"([^=]+=[^;]+)", h.get("set-cookie", ""))
            self.cookie = m.group(1) if m else None
            self.csrf = j.get("csrf_token")
        return st, h, j


op = Client()
st, h, j = op.login("000000000001", "operator-password-1")
t.eq(st, 200, "the operator signs in")
cookie = h.get("set-cookie", "")
t.ok("HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie and "tinchi_session=tcs_" in cookie,
     "the session cookie is HttpOnly, SameSite=Lax, random", cookie)
t.ok(j and len(j.get("csrf_token", "")) == 64 and {"role": "operator"} in [
    {k: v for k, v in r.items() if v is not None} for r in j["person"]["roles"]],
     "the sign-in answer names the roles and gives a CSRF token", j)
st, h, j = op.call("GET", "/api/v1/session")
t.ok(st == 200 and j["person"]["full_name"] == "Trần Văn Vận Hành", "GET /api/v1/session knows who is signed in", j)

# ---- institutions ---------------------------------------------------------------
st, h, j = op.call("POST", "/api/v1/institutions", {"code": "VNU", "name": "Đại học Quốc gia Hà Nội",
                                                      "kind": "university"}, csrf=False)
t.eq(st, 403, "a change without the CSRF token is refused (403)")
st, h, j = op.call("POST", "/api/v1/institutions", {"code": "VNU", "name": "Đại học Quốc gia Hà Nội",
                                                      "kind": "university"})
t.ok(st == 201 and j["did"].startswith("did:key:z6Mk"), "the operator creates an institution with a did:key", j)
st, h, j = op.call("POST", "/api/v1/institutions", {"code": "VNU", "name": "x", "kind": "university"})
t.eq(st, 409, "a duplicate code is 409")
st, h, j = op.call("POST", "/api/v1/institutions", {"code": "X1", "name": "x", "kind": "castle"})
t.ok(st == 400 and "kind" in j["detail"], "a bad kind is 400 with the reason", j)
st, h, j = srv.json("GET", "/api/v1/institutions/VNU")
first_did = j["did"]
t.ok(st == 200 and len(j["keys"]) == 1 and j["keys"][0]["valid_until"] is None,
     "GET /api/v1/institutions/{code} is public and lists the key", j)
st, h, j = op.call("POST", "/api/v1/institutions/VNU/keys")
t.ok(st == 201 and j["did"] != first_did, "key rotation makes a new did:key", j)
st, h, j = srv.json("GET", "/api/v1/institutions/VNU")
t.ok(len(j["keys"]) == 2 and j["keys"][0]["did"] == first_did and j["keys"][0]["valid_until"]
     and j["did"] != first_did, "the old key stays published with its end date", j)
st, h, j = srv.json("GET", "/api/v1/institutions")
t.ok(st == 200 and {i["code"] for i in j["institutions"]} == {"HUST", "VNU"}, "the registry lists both", j)
st, h, j = srv.json("GET", "/api/v1/institutions/NOPE")
t.eq(st, 404, "an unknown institution is 404")

# ---- people, activation ----------------------------------------------------------
st, h, j = op.call("POST", "/api/v1/institutions/VNU/people",
                   {"national_id": "079123456789", "full_name": "Nguyễn Thị Ánh", "role": "admin"})
t.ok(st == 201 and re.match(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$", j.get("activation_code", "")),
     "the operator adds an institution admin, who gets a one-time activation code", j)
admin_code = j["activation_code"]
st, h, j = op.call("POST", "/api/v1/institutions/VNU/people",
                   {"national_id": "07912345678", "full_name": "X", "role": "admin"})
t.ok(st == 400 and "12 digits" in j["detail"], "an 11-digit national ID is refused", j)
st, h, j = op.call("POST", "/api/v1/institutions/VNU/people",
                   {"national_id": "07912345678a", "full_name": "X", "role": "admin"})
t.eq(st, 400, "a national ID with a letter is refused")

admin = Client()
st, h, j = admin.login("079123456789", "whatever-password")
t.eq(st, 401, "an account that was never activated cannot sign in")
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "079123456789",
                    "code": "AAAAA-AAAAA", "password": "admin-password-1"}), {"Content-Type": "application/json"})
t.ok(st == 400 and "activation code" in j["detail"], "a wrong activation code is refused", j)
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "079123456789",
                    "code": admin_code, "password": "short"}), {"Content-Type": "application/json"})
t.ok(st == 400 and "password" in j["detail"], "a too-short password is refused with the rule", j)
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "079123456789",
                    "code": admin_code.lower(), "password": "admin-password-1"}), {"Content-Type": "application/json"})
t.ok(st == 200 and j["activated"] is True, "the activation code turns into a password", j)
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "079123456789",
                    "code": admin_code, "password": "admin-password-2"}), {"Content-Type": "application/json"})
t.eq(st, 400, "an activation code works only once")
st, h, j = admin.login("079123456789", "admin-password-1")
t.eq(st, 200, "the admin signs in with the chosen password")

# lecturer at VNU, verifier at HUST for the table below
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/people",
                      {"national_id": "001099000111", "full_name": "Lê Văn Giảng", "role": "lecturer",
                       "email": "giang@vnu.edu.vn"})
t.eq(st, 201, "the admin adds a lecturer")
lect_code = j["activation_code"]
st, h, j = admin.call("POST", "/api/v1/institutions/HUST/people",
                      {"national_id": "001099000112", "full_name": "X", "role": "lecturer"})
t.eq(st, 403, "an admin cannot manage another institution's people")
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/people?role=lecturer")
t.ok(st == 200 and [p["full_name"] for p in j["people"]] == ["Lê Văn Giảng"] and j["people"][0]["activated"] is False,
     "the admin lists the lecturers", j)

# ---- CSRF and logout ---------------------------------------------------------------
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/keys", csrf=False)
t.eq(st, 403, "a cookie-authenticated POST without X-CSRF-Token is 403")
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/keys", headers={"X-CSRF-Token": "0" * 64}, csrf=False)
t.eq(st, 403, "a wrong CSRF token is 403")
throwaway = Client()
throwaway.login("079123456789", "admin-password-1")
# a sign-out that cannot be written is not reported done: the session stays
lock = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=10, isolation_level=None)
lock.execute("BEGIN IMMEDIATE")
st, h, j = throwaway.call("DELETE", "/api/v1/session")
lock.execute("ROLLBACK")
lock.close()
t.ok(st == 503 and "Max-Age=0" not in h.get("set-cookie", "") and h.get("retry-after") == "2",
     "a sign-out while the database is locked is 503 and keeps the cookie (%d)" % st, j)
st, h, j = throwaway.call("GET", "/api/v1/session")
t.eq(st, 200, "and the session is still there")
st, h, j = throwaway.call("DELETE", "/api/v1/session")
t.ok(st == 204 and "Max-Age=0" in h.get("set-cookie", ""), "logout clears the cookie")
st, h, j = throwaway.call("GET", "/api/v1/session")
t.eq(st, 401, "the session is gone after logout")
st, h, j = admin.call("GET", "/api/v1/session")
t.eq(st, 200, "other sessions of the same person are unaffected")
st, h, j = srv.json("GET", "/api/v1/session", headers={"Cookie": "tinchi_session=tcs_forged"})
t.eq(st, 401, "a forged session cookie is not a session")

# ---- API tokens ------------------------------------------------------------------------
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/tokens", {"name": "Admissions system",
                                                                   "scopes": ["learners:import", "credits:read"]})
t.ok(st == 201 and j["token"].startswith("tct_") and j["scopes"] == "learners:import credits:read",
     "the admin creates an API token, shown once", j)
token, token_uid = j["token"], j["uid"]
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/tokens", {"name": "x", "scopes": ["root"]})
t.eq(st, 400, "an unknown scope is refused")
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/tokens")
t.ok(st == 200 and len(j["tokens"]) == 1 and "token" not in j["tokens"][0] and j["tokens"][0]["last_used_at"] is None,
     "the token list never shows the secret", j)

# ---- the learner import ---------------------------------------------------------------
good = ("national_id,full_name,date_of_birth,email,student_code\r\n"
        "040205000001,Phạm Minh Đức,2005-03-14,duc@example.vn,SV001\r\n"
        "040205000002,\"Hoàng, Thị Lan\",2006-11-02,,SV002\r\n")
tok = Client()
tok.bearer = token
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", good, ctype="text/csv")
t.ok(st == 200 and j["imported"] and j["created"] == 2 and len(j["activation_codes"]) == 2,
     "an API token with learners:import imports a CSV file", j)
first_codes = {c["national_id"]: c["activation_code"] for c in j["activation_codes"]}
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", good, ctype="text/csv")
t.ok(st == 200 and j["created"] == 0 and j["updated"] == 2, "importing the same people again updates them", j)
t.ok(j["codes_issued"] == 0 and j["codes_pending"] == 2 and j["activation_codes"] == [],
     "a re-import keeps the activation codes already handed out", j)
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "040205000001",
                    "code": first_codes["040205000001"], "password": "learner-password-9"}),
                    {"Content-Type": "application/json"})
t.eq(st, 200, "a code from the first import still works after the re-import")
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/people?role=learner")
t.eq(len(j["people"]), 2, "no duplicates after re-import")
odd = 'national_id,full_name,student_code\n040205000007,Đỗ Quỳnh,"SV""7\\"\n'
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", odd, ctype="text/csv")
t.ok(st == 200 and j["activation_codes"][0]["student_code"] == 'SV"7\\',
     "a student code with a quote and a backslash comes back intact in valid JSON", j)
bad = ("national_id,full_name,date_of_birth\n"
       "040205000003,Good Row,2001-01-01\n"
       "04020500000,Short ID,2001-01-01\n"
       "040205000005,Bad Date,2001-02-30\n"
       "040205000003,Duplicate,2001-01-01\n")
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/people?role=learner")
learners_before = len(j["people"])
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", bad, ctype="text/csv")
cols = sorted((e["row"], e["column"]) for e in j["errors"]) if j else None
t.ok(st == 422 and not j["imported"] and j["error_count"] == 3 and
     cols == [(2, "national_id"), (3, "date_of_birth"), (4, "national_id")],
     "bad rows are reported by row and column, and nothing is imported", j)
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/people?role=learner")
t.eq(len(j["people"]), learners_before, "a refused import changed nothing")
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import?partial=true", bad, ctype="text/csv")
t.ok(st == 200 and j["imported"] and j["created"] == 1 and j["error_count"] == 3,
     "partial=true imports the valid rows and reports the rest", j)
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import",
                    b"national_id,full_name\n040205000009,\xff\xfe bad\n", ctype="text/csv")
t.ok(st == 422 and j["errors"] and "UTF-8" in json.dumps(j["errors"]), "non-UTF-8 text is refused", j)
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", b"", ctype="text/csv")
t.eq(st, 422, "an empty file is refused")
garbage = os.urandom(10 * 1024 * 1024)
t0 = time.time()
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", garbage, ctype="text/csv")
t.ok(st == 422 and j and not j["imported"], "10 MB of random bytes is refused (%.1f s)" % (time.time() - t0), j and j.get("detail"))
import socket  # noqa: E402
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
t0 = time.time()
s_.sendall(b"POST /api/v1/institutions/VNU/learners:import HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: text/csv\r\nContent-Length: 209715200\r\n\r\nnational_id")
answer = b""
try:
    while b"\r\n\r\n" not in answer:
        chunk = s_.recv(4096)
        if not chunk:
            break
        answer += chunk
except OSError:
    pass
s_.close()
t.ok(answer.startswith(b"HTTP/1.1 401") and time.time() - t0 < 5,
     "an anonymous 200 MB import is refused as soon as its headers arrive", answer[:200])
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", good, ctype="application/json")
t.eq(st, 415, "an import that is not text/csv is 415")
st, h, j = tok.call("POST", "/api/v1/institutions/HUST/learners:import", good, ctype="text/csv")
t.eq(st, 403, "a token of another institution cannot import here")
gen = os.path.join(TOP, "scripts", "bench", "gen_learners.py")
if os.path.exists(gen):
    csv5k = subprocess.run([sys.executable, gen, "5000", "--seed", "7"], stdout=subprocess.PIPE).stdout
    t0 = time.time()
    st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", csv5k, ctype="text/csv")
    t.ok(st == 200 and j["created"] == 5000, "5,000 generated learners import in %.2f s" % (time.time() - t0),
         j and {k: j[k] for k in ("rows", "error_count", "errors") if k in j})
else:
    t.ok(True, "# SKIP generator absent")
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/tokens")
t.ok(j["tokens"][0]["last_used_at"] is not None, "the token's last use is recorded", j)
st, h, j = admin.call("DELETE", "/api/v1/institutions/VNU/tokens/" + token_uid)
t.eq(st, 204, "the admin revokes the token")
st, h, j = tok.call("POST", "/api/v1/institutions/VNU/learners:import", good, ctype="text/csv")
t.ok(st == 401 and "invalid_token" in h.get("www-authenticate", ""), "a revoked token is 401", (st, h))
st, h, j = admin.call("DELETE", "/api/v1/institutions/VNU/tokens/" + token_uid)
t.eq(st, 409, "revoking twice is 409")

# ---- one person, several institutions: nobody else's details to change ------------------------
st, h, j = op.call("POST", "/api/v1/institutions/HUST/people",
                   {"national_id": "000000000077", "full_name": "Vũ Quản Trị", "role": "admin"})
hust_admin = Client()
srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "000000000077", "code": j["activation_code"],
         "password": "hust-admin-password"}), {"Content-Type": "application/json"})
t.eq(hust_admin.login("000000000077", "hust-admin-password")[0], 200, "HUST's admin signs in")
st, h, j = hust_admin.call("POST", "/api/v1/institutions/HUST/people",
                           {"national_id": "001099000111", "full_name": "Kẻ Mạo Danh", "role": "lecturer",
                            "email": "evil@example.com"})
t.ok(st == 200 and j["activation"] == "withheld" and "activation_code" not in j and j["full_name"] == "Lê Văn Giảng",
     "another institution's admin cannot rename VNU's lecturer nor get an activation code for them", j)
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/people?role=lecturer")
t.ok([p["full_name"] for p in j["people"]] == ["Lê Văn Giảng"], "VNU still sees its lecturer's own name", j)
st, h, j = op.call("POST", "/api/v1/institutions/VNU/people",
                   {"national_id": "001099000111", "full_name": "Lê Văn Giảng", "role": "lecturer"})
t.ok(st == 200 and j["activation"] == "issued" and j.get("activation_code"),
     "an operator can still issue a code for a person of several institutions", j)

# ---- lockout -------------------------------------------------------------------------------
import threading  # noqa: E402
burst = []
def attempt(i):
    burst.append(Client().login("001099000112", "wrong-%d" % i)[0])
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/people",
                      {"national_id": "001099000112", "full_name": "Trịnh Song Song", "role": "lecturer"})
srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "001099000112", "code": j["activation_code"],
         "password": "parallel-password-1"}), {"Content-Type": "application/json"})
threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.ok(burst.count(401) <= 10 and burst.count(429) >= 20,
     "30 wrong passwords at once: at most 10 are tried, the rest are 429 (%d x 401, %d x 429)"
     % (burst.count(401), burst.count(429)), burst)
st, h, j = Client().login("001099000112", "parallel-password-1")
t.eq(st, 429, "after the burst even the right password is refused for now")

victim = Client()
codes = [victim.login("001099000111", "wrong-password-%d" % i)[0] for i in range(10)]
t.eq(codes, [401] * 10, "ten wrong passwords are 401")
st, h, j = victim.login("001099000111", "wrong-password-x")
t.ok(st == 429 and int(h.get("retry-after", "0")) > 0, "the eleventh attempt is 429 with Retry-After", (st, h))
st, h, j = srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "001099000111",
                    "code": lect_code, "password": "lecturer-password-1"}), {"Content-Type": "application/json"})
t.eq(st, 429, "the locked account cannot be activated either meanwhile")
st, h, j = Client().login("079123456789", "admin-password-1")
t.eq(st, 200, "other accounts are unaffected by the lockout")

# ---- an import whose client leaves before the answer is still audited ---------------------------
def imported_events():
    st, h, j = admin.call("GET", "/api/v1/institutions/VNU/audit?limit=200")
    return sum(1 for e in (j or {}).get("events", []) if e["event"] == "learners.imported")


n_imports = imported_events()
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/tokens", {"name": "SIS 2", "scopes": ["learners:import"]})
token2 = j["token"] if st == 201 else ""
rows = "".join("0402060%05d,Học viên %d,2006-01-01,,SV9%05d\r\n" % (i, i, i) for i in range(3000))
body = ("national_id,full_name,date_of_birth,email,student_code\r\n" + rows).encode()
with srv.connect() as sock:
    sock.sendall(b"POST /api/v1/institutions/VNU/learners:import HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + token2.encode() + b"\r\nContent-Type: text/csv\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
deadline = time.time() + 30
while imported_events() == n_imports and time.time() < deadline:
    time.sleep(0.2)
dbc = sqlite3.connect(os.path.join(data, "tinchi.db"))
saved = dbc.execute("SELECT count(*) FROM people WHERE national_id LIKE '0402060%'").fetchone()[0]
dbc.close()
t.ok(imported_events() == n_imports + 1 and saved == 3000,
     "an import whose client closed the connection before the answer is saved and audited",
     (n_imports, imported_events(), saved))

# ---- audit ----------------------------------------------------------------------------------
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/audit?limit=200")
events = [e["event"] for e in j["events"]] if j else []
t.ok(st == 200 and {"role.granted", "token.created", "token.revoked", "learners.imported",
                    "key.rotated", "institution.created"} <= set(events),
     "the institution's audit trail has roles, tokens, imports and keys", events)
st, h, j = admin.call("GET", "/api/v1/institutions/HUST/audit")
t.eq(st, 403, "an admin cannot read another institution's audit trail")
t.ok({"login.ok", "login.failed", "account.activated"} <= set(events),
     "sign-ins, failures and activations of the institution's people are in its trail", events)
st, h, j = op.call("GET", "/api/v1/audit")
t.ok(st == 200 and "login.ok" in [e["event"] for e in j["events"]], "operators read platform-wide events", j)
st, h, j = admin.call("GET", "/api/v1/audit")
t.eq(st, 403, "an institution admin cannot read platform-wide events")
rot = Client()
rot.login("079123456789", "admin-password-1")
old_cookie = rot.cookie
rot.login("079123456789", "admin-password-1")
st, h, j = srv.json("GET", "/api/v1/session", headers={"Cookie": old_cookie})
t.ok(st == 401 and rot.cookie != old_cookie, "signing in again with a session cookie replaces that session")

# ---- every route as every role: the authorization table -------------------------------------
anon = Client()
roles = {"anonymous": anon, "operator": op, "admin": admin}
lec = Client()
srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "040205000001", "code":
         "unused", "password": "x"}), {"Content-Type": "application/json"})
learner_code = None
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/people",
                      {"national_id": "040205000002", "full_name": "Hoàng Thị Lan", "role": "learner"})
learner_code = j.get("activation_code")
learner = Client()
srv.json("POST", "/api/v1/activate", json.dumps({"national_id": "040205000002", "code": learner_code,
         "password": "learner-password-1"}), {"Content-Type": "application/json"})
learner.login("040205000002", "learner-password-1")
roles["learner"] = learner
table = [
    # method, path, body, {role: expected status}
    ("GET", "/api/v1/institutions", None, {"anonymous": 200, "learner": 200, "admin": 200, "operator": 200}),
    ("GET", "/api/v1/institutions/VNU", None, {"anonymous": 200, "learner": 200, "admin": 200, "operator": 200}),
    ("POST", "/api/v1/institutions", {"code": "ZZ", "name": "z", "kind": "other"},
     {"anonymous": 401, "learner": 403, "admin": 403}),
    ("POST", "/api/v1/institutions/VNU/keys", None, {"anonymous": 401, "learner": 403}),
    ("POST", "/api/v1/institutions/HUST/keys", None, {"admin": 403}),
    ("GET", "/api/v1/institutions/VNU/people", None, {"anonymous": 401, "learner": 403, "admin": 200, "operator": 200}),
    ("GET", "/api/v1/institutions/HUST/people", None, {"admin": 403, "operator": 200}),
    ("POST", "/api/v1/institutions/VNU/people", {"national_id": "009999999999", "full_name": "T", "role": "learner"},
     {"anonymous": 401, "learner": 403}),
    ("POST", "/api/v1/institutions/VNU/learners:import", "national_id,full_name\n",
     {"anonymous": 401, "learner": 403, "operator": 403}),
    ("GET", "/api/v1/institutions/VNU/tokens", None, {"anonymous": 401, "learner": 403, "operator": 403, "admin": 200}),
    ("POST", "/api/v1/institutions/VNU/tokens", {"name": "n", "scopes": ["credits:read"]},
     {"anonymous": 401, "learner": 403, "operator": 403}),
    ("DELETE", "/api/v1/institutions/VNU/tokens/nope", None, {"anonymous": 401, "learner": 403, "admin": 404}),
    ("GET", "/api/v1/institutions/VNU/audit", None, {"anonymous": 401, "learner": 403, "admin": 200, "operator": 200}),
    ("GET", "/api/v1/session", None, {"anonymous": 401, "learner": 200, "admin": 200, "operator": 200}),
    ("DELETE", "/api/v1/session", None, {"anonymous": 401}),
]
for method, path, body, want in table:
    for role, exp in want.items():
        c = roles[role]
        ctype = "text/csv" if "import" in path else "application/json"
        st, h, j = c.call(method, path, body, ctype=ctype)
        t.eq(st, exp, "%s %s as %s is %d" % (method, path, role, exp))

# a password stored at an older cost is re-hashed at today's cost on sign-in
import sqlite3  # noqa: E402
rc, out, err = cli("person", "add", "--national-id", "000000000055", "--name", "Người Cũ", "--role", "operator",
                   "--password-stdin", "--password-cost", "11", stdin=b"old-cost-password\n")
def stored_hash():
    db = sqlite3.connect(os.path.join(data, "tinchi.db"))
    try:
        return db.execute("SELECT password_hash FROM people WHERE national_id = '000000000055'").fetchone()[0]
    finally:
        db.close()
before = stored_hash()
st, h, j = Client().login("000000000055", "old-cost-password")
after = stored_hash()
t.ok(rc == 0 and st == 200 and before.startswith("$scrypt$ln=11,") and after.startswith("$scrypt$ln=%s," % COST),
     "a sign-in re-hashes a password stored at another cost", (before[:20], after[:20]))
t.eq(Client().login("000000000055", "old-cost-password")[0], 200, "the re-hashed password still works")

# a person with many roles keeps all of them: a learner of 20 institutions
# who is also the admin of a 21st (the roles were cut at 16 before)
for k in range(1, 22):
    cli("institution", "add", "M%02d" % k, "--name", "Trường %d" % k, "--kind", "school")
for k in range(1, 21):
    cli("person", "add", "--national-id", "000000000077", "--name", "Người Nhiều Trường", "--role", "learner",
        "--institution", "M%02d" % k, "--password-stdin", stdin=b"many-roles-password\n")
cli("person", "add", "--national-id", "000000000077", "--name", "Người Nhiều Trường", "--role", "admin",
    "--institution", "M21", "--password-stdin", stdin=b"many-roles-password\n")
many = Client()
t.eq(many.login("000000000077", "many-roles-password")[0], 200, "the person with 21 roles signs in")
st, h, j = many.call("GET", "/api/v1/institutions/M21/people?role=learner")
t.eq(st, 200, "and acts as admin of the 21st institution")

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.ok("079123456789" not in log, "national IDs never appear in the server log")

# ---- after a change of --password-cost, an unknown ID costs what the stored hashes cost ----
# Two accounts hashed at ln=10, the server then run at ln=11: until they sign
# in again their hashes stay at ln=10, so the stand-in hash of an unknown ID
# must be ln=10 too (at ln=11 its answer would take twice as long: a timing
# oracle for registered IDs). The cost each sign-in hashed at is counted in
# /metrics (tinchi_signin_hashes_total{account,ln}).
data2 = os.path.join(tempfile.mkdtemp(prefix="tinchi-id-cost-"), "data")
cli2 = DataCli(data2, cost="10")
for nid in ("000000000101", "000000000102"):
    rc, out, err = cli2("person", "add", "--national-id", nid, "--name", "Người Cũ", "--role", "operator",
                        "--password-stdin", stdin=b"password-" + nid.encode() + b"\n")
    t.eq(rc, 0, "an account hashed at ln=10 (%s)" % nid)
srv = Server("--password-cost", "11", data=data2)


def signin_hashes():
    st, h, body = srv.request("GET", "/metrics")
    return {(m.group(1), m.group(2)): int(m.group(3)) for m in re.finditer(
        r'^tinchi_signin_hashes_total\{account="(\w+)",ln="(\d+)"\} (\d+)$', body.decode(), re.M)}


t.eq(Client().login("000000000999", "no-such-account-pw")[0], 401, "an unknown ID: 401")
t.eq(signin_hashes(), {("unknown", "10"): 1},
     "its stand-in was hashed at ln=10, the cost of the stored hashes, not today's ln=11")
t.eq(Client().login("000000000101", "a-wrong-password")[0], 401, "a known ID, wrong password: 401")
t.eq(signin_hashes().get(("known", "10")), 1, "its own hash: ln=10 as well")
t.eq(Client().login("000000000101", "password-000000000101")[0], 200, "the right password (re-hashed at ln=11)")
t.eq(Client().login("000000000999", "no-such-account-pw")[0], 401, "an unknown ID again")
t.eq(signin_hashes().get(("unknown", "11")), 1,
     "one account of two now at ln=11: the tie goes to today's cost, the count followed the re-hash")
code, log = srv.stop()
t.eq(code, 0, "that server exits 0 too")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
