"""xapi_test.py - the learning record store over real HTTP: LRS credentials
issued and revoked by an institution admin, HTTP Basic, versions, the
statements resource (PUT, POST batches all or nothing, idempotent replay,
409 on other content, voiding, queries and `more` links), tenancy between
institutions, the document resources with ETag concurrency, activities,
agents, about, and bad input answered with 400 and nothing stored."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean  # noqa: E402

t = Tap()
COST = "10"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-xapi-"), "data")


cli = DataCli(data, COST)


for code in ("VNU", "HUST"):
    assert cli("institution", "add", code, "--name", code, "--kind", "university")[0] == 0
for nid, role, inst in (("100000000009", "admin", "VNU"), ("100000000008", "admin", "HUST"),
                        ("100000000001", "lecturer", "VNU")):
    rc, out, err = cli("person", "add", "--national-id", nid, "--name", "Người " + nid[-1], "--role", role,
                       "--institution", inst, "--password-stdin", stdin=("password-" + nid + "\n").encode())
    assert rc == 0, err

srv = Server("--password-cost", COST, "--public-url", "https://tinchi.example.vn", data=data)
admin = ApiClient(srv, "100000000009")
admin_b = ApiClient(srv, "100000000008")
lecturer = ApiClient(srv, "100000000001")

# ---- credentials ----
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/lrs-credentials", {"name": "Moodle"})
t.eq(st, 201, "an admin creates an LRS credential")
t.ok(j["key"].startswith("tlk_") and j["secret"].startswith("tlx_"), "with a key and a secret shown once", j)
t.eq(j["endpoint"], "https://tinchi.example.vn/xapi/", "and the endpoint on the public URL")
cred_a = j
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/lrs-credentials")
t.ok(st == 200 and len(j["credentials"]) == 1 and "secret" not in j["credentials"][0], "the list has no secrets", j)
st, h, j = lecturer.call("POST", "/api/v1/institutions/VNU/lrs-credentials", {"name": "x"})
t.eq(st, 403, "a lecturer cannot create one")
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/lrs-credentials", {"name": ""})
t.eq(st, 400, "a credential needs a name")
st, h, j = admin_b.call("POST", "/api/v1/institutions/HUST/lrs-credentials", {"name": "B"})
cred_b = j
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/lrs-credentials", {"name": "to revoke"})
cred_r = j


def auth(c, secret=None):
    return "Basic " + base64.b64encode(("%s:%s" % (c["key"], secret or c["secret"])).encode()).decode()


def x(method, path, body=None, cred=cred_a, version="2.0.0", ctype="application/json", headers=None, raw=None):
    hd = {"X-Experience-API-Version": version} if version else {}
    if cred:
        hd["Authorization"] = auth(cred)
    if body is not None or raw is not None:
        hd["Content-Type"] = ctype
    hd.update(headers or {})
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    st, rh, d = srv.request(method, path, body=payload, headers=hd)
    try:
        return st, rh, json.loads(d) if d else None
    except ValueError:
        return st, rh, d


def stmt(actor="mailto:ana@example.vn", verb="http://adlnet.gov/expapi/verbs/completed",
         activity="http://tinchi.example.vn/units/1", **kw):
    s = {"actor": {"mbox": actor, "name": "Ana"}, "verb": {"id": verb, "display": {"vi": "hoàn thành"}},
         "object": {"id": activity, "definition": {"name": {"vi": "Bài 1"}}}}
    s.update(kw)
    return s


st, h, j = x("GET", "/xapi/statements", cred=None)
t.eq(st, 401, "no credentials: 401")
t.eq(h.get("www-authenticate"), 'Basic realm="tinchi xAPI"', "with the Basic challenge")
st, h, j = x("GET", "/xapi/statements", headers={"Authorization": auth(cred_a, "tlx_wrong")})
t.eq(st, 401, "a wrong secret: 401")
st, h, j = x("GET", "/xapi/statements", version=None)
t.eq(st, 400, "no X-Experience-API-Version: 400")
st, h, j = x("GET", "/xapi/statements", version="0.95")
t.eq(st, 400, "an unsupported version: 400")
t.ok(h.get("x-experience-api-version") == "2.0.0", "every answer carries the version header")
st, h, j = x("GET", "/xapi/about", cred=None, version=None)
t.ok(st == 200 and "2.0.0" in j["version"] and "1.0.3" in j["version"], "about needs neither", j)
st, h, j = admin.call("DELETE", "/api/v1/institutions/VNU/lrs-credentials/" + cred_r["uid"])
t.eq(st, 204, "the admin revokes a credential")
st, h, j = x("GET", "/xapi/statements", cred=cred_r)
t.eq(st, 401, "a revoked credential is refused")
st, h, j = admin.call("DELETE", "/api/v1/institutions/VNU/lrs-credentials/" + cred_r["uid"])
t.eq(st, 409, "revoking twice: 409")

# ---- statements ----
sid = str(uuid.uuid4())
st, h, j = x("PUT", "/xapi/statements?statementId=" + sid, stmt())
t.eq(st, 204, "PUT a statement")
st, h, j = x("PUT", "/xapi/statements?statementId=" + sid, stmt())
t.eq(st, 204, "the same statement again is accepted (offline replay)")
st, h, j = x("PUT", "/xapi/statements?statementId=" + sid, stmt(verb="http://adlnet.gov/expapi/verbs/failed"))
t.eq(st, 409, "the same id with other content: 409")
st, h, j = x("GET", "/xapi/statements?statementId=" + sid)
t.ok(st == 200 and j["id"] == sid and j["stored"] and j["authority"]["account"]["homePage"] ==
     "https://tinchi.example.vn" and j["version"] == "2.0.0", "GET by id: stored, authority, version filled", j)
t.ok("last-modified" in h and "x-experience-api-consistent-through" in h, "with Last-Modified and Consistent-Through")
st, h, j = x("HEAD", "/xapi/statements?statementId=" + sid)
t.eq(st, 200, "HEAD answers too")

batch = [stmt(actor="mailto:b%d@example.vn" % i) for i in range(5)]
st, h, ids = x("POST", "/xapi/statements", batch)
t.ok(st == 200 and len(ids) == 5, "POST a batch: the ids", ids)
again = dict(stmt(actor="mailto:new@example.vn"), id=str(uuid.uuid4()))
bad_batch = [again, dict(stmt(verb="http://x/other"), id=sid)]
st, h, j = x("POST", "/xapi/statements", bad_batch)
t.eq(st, 409, "a batch with a conflicting statement: 409")
st, h, j = x("GET", "/xapi/statements?statementId=" + again["id"])
t.eq(st, 404, "and none of the batch was stored")
for what, body in (("no actor", {"verb": {"id": "http://x/v"}, "object": {"id": "http://x/a"}}),
                   ("a bad mbox", stmt(actor="ana@example.vn")),
                   ("a bad id", dict(stmt(), id="not-a-uuid")),
                   ("an unknown property", dict(stmt(), colour="red"))):
    st, h, j = x("POST", "/xapi/statements", [again, body])
    t.ok(st == 400 and isinstance(j, dict) and j.get("detail"), "%s: 400 with the reason" % what, j)
st, h, j = x("GET", "/xapi/statements?statementId=" + again["id"])
t.eq(st, 404, "nothing of a refused batch was stored")
st, h, j = x("POST", "/xapi/statements", raw=b"{not json")
t.eq(st, 400, "a body that is not JSON: 400")
att = dict(stmt(), attachments=[{"usageType": "http://x/u", "display": {"en": "a"}, "contentType": "text/plain",
                                 "length": 1, "sha2": "ab"}])
st, h, j = x("POST", "/xapi/statements", att)
t.eq(st, 400, "an attachment without fileUrl in an application/json request: 400 (its data has no part)")


# voiding
st, h, j = x("POST", "/xapi/statements", stmt(verb="http://adlnet.gov/expapi/verbs/voided",
                                              **{"object": {"objectType": "StatementRef", "id": ids[0]}}))
t.eq(st, 200, "a voiding statement")
voiding = j[0]
st, h, j = x("GET", "/xapi/statements?statementId=" + ids[0])
t.eq(st, 404, "a voided statement is not given by statementId")
st, h, j = x("GET", "/xapi/statements?voidedStatementId=" + ids[0])
t.ok(st == 200 and j["id"] == ids[0], "but by voidedStatementId", j)
st, h, j = x("POST", "/xapi/statements", stmt(verb="http://adlnet.gov/expapi/verbs/voided",
                                              **{"object": {"objectType": "StatementRef", "id": voiding}}))
t.eq(st, 400, "voiding a voiding statement is refused")
st, h, j = x("GET", "/xapi/statements?statementId=%s&agent=x" % sid)
t.eq(st, 400, "statementId with other parameters: 400")

# queries and more links
agent = urllib.parse.quote(json.dumps({"mbox": "mailto:b3@example.vn"}))
st, h, j = x("GET", "/xapi/statements?agent=" + agent)
t.ok(st == 200 and len(j["statements"]) == 1 and j["more"] == "", "agent filter", j)
st, h, j = x("GET", "/xapi/statements?agent=" + urllib.parse.quote('{"name": "x"}'))
t.eq(st, 400, "an agent without an identifier: 400")
st, h, j = x("GET", "/xapi/statements?since=yesterday")
t.eq(st, 400, "a bad since: 400")
st, h, j = x("GET", "/xapi/statements?colour=red")
t.eq(st, 400, "an unknown parameter: 400")
seen, url, pages = [], "/xapi/statements?limit=2", 0
while url and pages < 10:
    st, h, j = x("GET", url)
    seen += [s["id"] for s in j["statements"]]
    url, pages = j["more"], pages + 1
t.eq(len(seen), 6, "following more links gives every statement not voided once (%d pages)" % pages)
t.eq(len(set(seen)), 6, "without duplicates")
st, h, j = x("GET", "/xapi/statements?format=ids&limit=1&ascending=true")
t.ok(st == 200 and "display" not in j["statements"][0]["verb"], "format=ids", j)
st, h, j = x("GET", "/xapi/statements?format=ids&statementId=" + sid)
t.eq(j["object"], {"id": "http://tinchi.example.vn/units/1"}, "format=ids: an activity is its id alone")

# tenancy
st, h, j = x("GET", "/xapi/statements?statementId=" + sid, cred=cred_b)
t.eq(st, 404, "institution B's credential cannot read A's statement")
st, h, j = x("GET", "/xapi/statements", cred=cred_b)
t.eq(len(j["statements"]), 0, "and B's queries see none of A's")
st, h, j = x("PUT", "/xapi/statements?statementId=" + sid, stmt(verb="http://x/other"), cred=cred_b)
t.eq(st, 204, "the same id at B is B's own statement")

# ---- attachments in multipart/mixed ----
import hashlib  # noqa: E402
BOUNDARY = "tinchi-test-boundary-42"


def multipart(statements, parts, boundary=BOUNDARY):
    b = ("--%s\r\nContent-Type: application/json\r\n\r\n" % boundary).encode() + json.dumps(statements).encode()
    for ctype, data, h in parts:
        b += ("\r\n--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: binary\r\n"
              "X-Experience-API-Hash: %s\r\n\r\n" % (boundary, ctype, h)).encode() + data
    return b + ("\r\n--%s--\r\n" % boundary).encode()


def attachment(data, ctype="application/pdf", usage="http://id.tincanapi.com/attachment/certificate"):
    return {"usageType": usage, "display": {"vi": "chứng chỉ"}, "contentType": ctype,
            "length": len(data), "sha2": hashlib.sha256(data).hexdigest()}


MP = "multipart/mixed; boundary=" + BOUNDARY
pdf = b"%PDF-1.4\r\n\x00\x01\x02 binary \xff\xfe\r\n--not-the-boundary\r\n"
with_att = dict(stmt(), id=str(uuid.uuid4()), attachments=[attachment(pdf)])
st, h, j = x("POST", "/xapi/statements", raw=multipart(with_att, [("application/pdf", pdf, attachment(pdf)["sha2"])]),
             ctype=MP)
t.ok(st == 200 and j == [with_att["id"]], "multipart/mixed: a statement with its attachment data is stored", j)
st, h, body = x("GET", "/xapi/statements?attachments=true&statementId=" + with_att["id"])
ct = h.get("content-type", "")
t.ok(st == 200 and ct.startswith("multipart/mixed; boundary="), "GET attachments=true answers multipart/mixed", ct)
bnd = ct.split("boundary=", 1)[1].encode()
raw = body if isinstance(body, bytes) else json.dumps(body).encode()
segs = raw.split(b"--" + bnd)
first = segs[1].split(b"\r\n\r\n", 1)
t.ok(b"application/json" in first[0] and json.loads(first[1].rstrip(b"\r\n"))["id"] == with_att["id"],
     "the statement is the first part", segs[1][:200])
second = segs[2].split(b"\r\n\r\n", 1)
t.ok(("X-Experience-API-Hash: " + attachment(pdf)["sha2"]).encode() in second[0] and
     second[1][:-2] == pdf, "then the attachment's exact bytes with their hash", segs[2][:300])
st, h, body = x("GET", "/xapi/statements?attachments=true&limit=1")
t.ok(st == 200 and h.get("content-type", "").startswith("multipart/mixed") and pdf in body,
     "a StatementResult with attachments=true carries the parts too")
st, h, j = x("GET", "/xapi/statements?attachments=false&statementId=" + with_att["id"])
t.ok(st == 200 and h.get("content-type", "").startswith("application/json") and j["id"] == with_att["id"],
     "attachments=false: plain JSON", h.get("content-type"))
st, h, j = x("POST", "/xapi/statements", raw=multipart(dict(stmt(), id=str(uuid.uuid4())), []), ctype=MP)
t.eq(st, 200, "multipart/mixed without attachments is accepted")
bad_id = str(uuid.uuid4())
mismatch = dict(stmt(), id=bad_id, attachments=[attachment(pdf)])
st, h, j = x("POST", "/xapi/statements", raw=multipart(mismatch, [("application/pdf", pdf + b"x",
                                                                     attachment(pdf)["sha2"])]), ctype=MP)
t.ok(st == 400 and "SHA-2" in j.get("detail", ""), "a part whose bytes do not have its hash: 400", j)
st, h, j = x("POST", "/xapi/statements", raw=multipart(mismatch, []), ctype=MP)
t.ok(st == 400 and "no part" in j.get("detail", ""), "an attachment without its part: 400", j)
st, h, j = x("POST", "/xapi/statements", raw=multipart(dict(stmt(), id=bad_id),
                                                       [("text/plain", b"hi", hashlib.sha256(b"hi").hexdigest())]),
             ctype=MP)
t.eq(st, 400, "a part no attachment names: 400")
st, h, j = x("POST", "/xapi/statements", raw=multipart(mismatch, [("application/pdf", pdf, attachment(pdf)["sha2"])])
             .replace(b"--" + BOUNDARY.encode() + b"--", b""), ctype=MP)
t.eq(st, 400, "a multipart body that is not closed: 400")
st, h, j = x("GET", "/xapi/statements?statementId=" + bad_id)
t.eq(st, 404, "none of the refused ones was stored")

# ---- signed statements (JWS, RS256 with an x5c certificate) ----
keydir = tempfile.mkdtemp(prefix="tinchi-jws-")
kf, cf = os.path.join(keydir, "k.pem"), os.path.join(keydir, "c.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", kf, "-out", cf,
                "-subj", "/CN=tinchi test", "-days", "2"], check=True, capture_output=True)
cert_der = subprocess.run(["openssl", "x509", "-in", cf, "-outform", "DER"], check=True,
                          capture_output=True).stdout


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def jws(payload, alg="RS256", x5c=True, tamper=False):
    hdr = {"alg": alg}
    if x5c:
        hdr["x5c"] = [base64.b64encode(cert_der).decode()]
    inp = b64u(json.dumps(hdr).encode()) + b"." + b64u(json.dumps(payload).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha" + alg[2:], "-sign", kf], input=inp, check=True,
                         capture_output=True).stdout
    if tamper:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return inp + b"." + b64u(sig)


def signed(statement, token, ctype="application/octet-stream"):
    a = attachment(token, ctype, "http://adlnet.gov/expapi/attachments/signature")
    return dict(statement, attachments=[a]), [(ctype, token, a["sha2"])]


plain = dict(stmt(), id=str(uuid.uuid4()), result={"duration": "PT1M2.5S"})
s1, parts = signed(plain, jws(plain))
st, h, j = x("POST", "/xapi/statements", raw=multipart(s1, parts), ctype=MP)
t.ok(st == 200 and j == [plain["id"]], "a signed statement (RS256, x5c) is accepted", j)
for what, statement, token in (
        ("a signature of another statement", dict(plain, id=str(uuid.uuid4())),
         jws(dict(plain, verb={"id": "http://x/other"}))),
        ("a signature that does not verify", dict(plain, id=str(uuid.uuid4())), jws(plain, tamper=True)),
        ("HS256", dict(plain, id=str(uuid.uuid4())), jws(plain, alg="RS256")[:0] + b64u(b'{"alg":"HS256"}') +
         b"." + b64u(json.dumps(plain).encode()) + b".c2ln"),
        ("a signature that is not a JWS", dict(plain, id=str(uuid.uuid4())), b"not a jws")):
    s2, parts = signed(statement, token)
    st, h, j = x("POST", "/xapi/statements", raw=multipart(s2, parts), ctype=MP)
    t.ok(st == 400 and j.get("detail"), "signed: %s is refused with 400" % what, j)
s3, parts = signed(dict(plain, id=str(uuid.uuid4())), jws(plain), ctype="text/plain")
st, h, j = x("POST", "/xapi/statements", raw=multipart(s3, parts), ctype=MP)
t.eq(st, 400, "a signature whose contentType is not application/octet-stream: 400")

# ---- filters follow StatementRefs ----
fverb = "http://tinchi.example.vn/verbs/" + str(uuid.uuid4())
target = dict(stmt(verb=fverb), id=str(uuid.uuid4()))
ref = dict(stmt(verb="http://x/comments"), id=str(uuid.uuid4()),
           object={"objectType": "StatementRef", "id": target["id"]})
ref2 = dict(stmt(verb="http://x/replies"), id=str(uuid.uuid4()),
            object={"objectType": "StatementRef", "id": ref["id"]})
st, h, j = x("POST", "/xapi/statements", [target, ref, ref2])
void = dict(stmt(verb="http://adlnet.gov/expapi/verbs/voided"), id=str(uuid.uuid4()),
            object={"objectType": "StatementRef", "id": target["id"]})
st, h, j = x("POST", "/xapi/statements", void)
st, h, j = x("GET", "/xapi/statements?verb=" + urllib.parse.quote(fverb))
got = sorted(s["id"] for s in j["statements"])
t.eq(got, sorted([ref["id"], ref2["id"], void["id"]]),
     "a filter returns the statements that refer (recursively) to a match, the voided target itself not")
st, h, j = x("GET", "/xapi/statements?limit=1&verb=" + urllib.parse.quote(fverb))
t.ok(st == 200 and len(j["statements"]) == 1 and j["statements"][0]["id"] == void["id"],
     "newest first, limit applies to them", j)


# ---- documents ----
ag = urllib.parse.quote(json.dumps({"mbox": "mailto:ana@example.vn"}))
state = "/xapi/activities/state?activityId=%s&agent=%s&stateId=bookmark" % (
    urllib.parse.quote("http://tinchi.example.vn/units/1"), ag)
st, h, j = x("PUT", state, {"page": 3})
t.eq(st, 204, "PUT a state")
st, h, j = x("GET", state)
t.ok(st == 200 and j == {"page": 3} and h["etag"].startswith('"'), "GET it with an ETag", (j, h))
etag = h["etag"]
st, h, j = x("POST", state, {"time": 10})
st, h, j = x("GET", state)
t.eq(j, {"page": 3, "time": 10}, "POST merges JSON objects")
st, h, j = x("POST", state, raw=b"plain", ctype="text/plain")
t.eq(st, 400, "POST of a non-JSON body onto a JSON document: 400")
st, h, j = x("GET", state, cred=cred_b)
t.eq(st, 404, "B does not see A's state")
prof = "/xapi/activities/profile?activityId=%s&profileId=p1" % urllib.parse.quote("http://tinchi.example.vn/units/1")
st, h, j = x("PUT", prof, raw=b"hello", ctype="text/plain")
t.eq(st, 204, "PUT an activity profile")
st, h, j = x("GET", prof)
t.ok(st == 200 and j == b"hello" and h["content-type"] == "text/plain", "its bytes and type kept", (j, h))
etag = h["etag"]
st, h, j = x("PUT", prof, raw=b"again", ctype="text/plain")
t.eq(st, 409, "PUT over an existing profile without If-Match: 409")
st, h, j = x("PUT", prof, raw=b"again", ctype="text/plain", headers={"If-Match": '"0000"'})
t.eq(st, 412, "with a stale If-Match: 412")
st, h, j = x("PUT", prof, raw=b"again", ctype="text/plain", headers={"If-Match": etag})
t.eq(st, 204, "with the current ETag: 204")
st, h, j = x("PUT", prof, raw=b"x", ctype="text/plain", headers={"If-None-Match": "*"})
t.eq(st, 412, "If-None-Match: * on an existing one: 412")
st, h, j = x("GET", "/xapi/activities/profile?activityId=" + urllib.parse.quote("http://tinchi.example.vn/units/1"))
t.eq(j, ["p1"], "the profile ids")
st, h, j = x("DELETE", prof, headers={"If-Match": '"0000"'})
t.eq(st, 412, "DELETE with a stale If-Match: 412")
st, h, j = x("DELETE", prof)
t.eq(st, 204, "DELETE")
st, h, j = x("GET", prof)
t.eq(st, 404, "gone")
aprof = "/xapi/agents/profile?agent=%s&profileId=pref" % ag
st, h, j = x("PUT", aprof, {"lang": "vi"})
t.eq(st, 204, "PUT an agent profile")
st, h, j = x("GET", "/xapi/agents/profile?profileId=pref")
t.eq(st, 400, "without agent: 400")
st, h, j = x("DELETE", state.replace("&stateId=bookmark", ""))
t.eq(st, 204, "DELETE all states of the activity and agent")
st, h, j = x("GET", state)
t.eq(st, 404, "the state is gone")

# ---- activities, agents ----
st, h, j = x("GET", "/xapi/activities?activityId=" + urllib.parse.quote("http://tinchi.example.vn/units/1"))
t.ok(st == 200 and j["definition"]["name"]["vi"] == "Bài 1", "the activity's definition", j)
st, h, j = x("GET", "/xapi/agents?agent=" + ag)
t.ok(st == 200 and j["objectType"] == "Person" and j["mbox"] == ["mailto:ana@example.vn"], "the agent's Person", j)

# ---- alternate syntax: 1.0.3 only ----
form = urllib.parse.urlencode({"X-Experience-API-Version": "1.0.3", "Authorization": auth(cred_a),
                               "content": json.dumps(stmt()), "Content-Type": "application/json",
                               "statementId": str(uuid.uuid4())}).encode()
st, h, j = srv.request("POST", "/xapi/statements?method=PUT", body=form,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
t.eq(st, 204, "1.0.3 alternate request syntax: PUT inside a POST")
st, h, j = x("POST", "/xapi/statements?method=PUT", raw=b"x=1", ctype="application/x-www-form-urlencoded")
t.eq(st, 400, "2.0.0 has no alternate syntax")

# ---- 1.0.3 clients ----
prof = "/xapi/agents/profile?agent=%s&profileId=%s" % (ag, uuid.uuid4())
st, h, j = x("PUT", prof.replace("agents/profile?agent=%s" % ag,
                                 "activities/profile?activityId=http%3A%2F%2Fx%2Fa"), {"a": 1})
t.eq(st, 204, "2.0.0: a new profile needs no precondition")
st, h, j = x("PUT", prof, {"a": 1}, version="1.0.3")
t.eq(st, 400, "1.0.3: a profile PUT without If-Match / If-None-Match is refused")
st, h, j = x("PUT", prof, {"a": 1}, version="1.0.3", headers={"If-None-Match": "*"})
t.eq(st, 204, "1.0.3: with If-None-Match: * it creates")
st, h, j = x("PUT", prof, {"a": 2}, version="1.0.3")
t.eq(st, 409, "1.0.3: over an existing profile without a precondition: 409")
st, h, j = x("GET", "/xapi/statements", version=None)
t.ok(st == 400 and h.get("x-experience-api-version") == "1.0.3",
     "an unversioned request is refused in the version its credential last spoke", h.get("x-experience-api-version"))
st, h, j = x("GET", "/xapi/statements", version=None, cred=cred_b)
t.ok(st == 400 and h.get("x-experience-api-version") == "2.0.0", "another credential's: 2.0.0",
     h.get("x-experience-api-version"))

# a voiding statement naming its target in upper case (a valid UUID all the same) voids it
st, h, j = x("POST", "/xapi/statements", stmt(actor="mailto:vo@example.vn"))
target = j[0] if st == 200 else ""
st, h, j = x("POST", "/xapi/statements", stmt(actor="mailto:vo@example.vn", verb="http://adlnet.gov/expapi/verbs/voided",
                                              **{"object": {"objectType": "StatementRef", "id": target.upper()}}))
t.eq(st, 200, "a voiding statement with the target's id in upper case")
st, h, j = x("GET", "/xapi/statements?statementId=" + target)
t.eq(st, 404, "its target is voided (not given by statementId)")
st, h, j = x("GET", "/xapi/statements?voidedStatementId=" + target)
t.ok(st == 200 and j.get("id") == target, "and given by voidedStatementId", j)

# a void of a statement in the same request is refused (it would void nothing, or a voiding one)
a_id, v_id = str(uuid.uuid4()), str(uuid.uuid4())
pair = [dict(stmt(actor="mailto:vo@example.vn", verb="http://adlnet.gov/expapi/verbs/voided"), id=v_id,
             **{"object": {"objectType": "StatementRef", "id": a_id}}),
        dict(stmt(actor="mailto:vo@example.vn"), id=a_id)]
st, h, j = x("POST", "/xapi/statements", pair)
t.ok(st == 400 and "same request" in (j or {}).get("detail", ""), "a void of a statement sent with it: 400", j)
st, h, j = x("GET", "/xapi/statements?statementId=" + a_id)
t.eq(st, 404, "and nothing of that request is stored")
chain = [dict(stmt(actor="mailto:vo@example.vn", verb="http://adlnet.gov/expapi/verbs/voided"), id=a_id,
              **{"object": {"objectType": "StatementRef", "id": target}}),
         dict(stmt(actor="mailto:vo@example.vn", verb="http://adlnet.gov/expapi/verbs/voided"), id=v_id,
              **{"object": {"objectType": "StatementRef", "id": a_id}})]
st, h, j = x("POST", "/xapi/statements", chain)
t.eq(st, 400, "a void of a voiding statement sent with it: 400")

rc, log = srv.stop()
t.eq(rc, 0, "the server stops cleanly")
t.ok(sanitizer_clean(log), "no sanitizer reports", log[-2000:])
t.done()
