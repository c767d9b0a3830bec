"""recognition_test.py - the registry (trust list) and recognition agreements
over real HTTP: the public registry lists every institution with its DIDs
and key history (a rotation shows the old key's end), with an ETag that
changes when a key does (304 otherwise); a course's ISCED-F field is set by
its editors; an admin of B creates, lists, changes (a new version each
time, history kept, a stale ?version= is 409) and expires agreements; other
institutions' admins, lecturers and the anonymous may not; every bad input
is a 400 naming its path and changes nothing; and it is all audited."""
import os
import sys
import tempfile
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rg-"), "data")
cli = DataCli(data, COST)
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "HUST")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "HUST")
cli.person("100000000008", "Phạm Quản Trị", "admin", "VNU")
rc, out, err = cli("person", "add", "--national-id", "100000000007", "--name", "Vận Hành", "--role", "operator",
                   "--password-stdin", stdin=b"password-100000000007\n")
assert rc == 0, err

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(srv, nid)


anon, lec, admin, vnu_admin = Client(), Client("100000000001"), Client("100000000009"), Client("100000000008")

# ---- the registry --------------------------------------------------------------
st, h, j = anon.call("GET", "/api/v1/registry")
insts = {i["code"]: i for i in j.get("institutions", [])} if st == 200 else {}
t.ok(st == 200 and set(insts) == {"VNU", "HUST"}, "the registry is public and lists both", j)
vnu = insts.get("VNU", {})
t.ok(vnu.get("name") == "Trường VNU" and vnu.get("kind") == "university" and
     vnu.get("did", "").startswith("did:key:z6Mk") and len(vnu.get("keys", [])) == 1 and
     vnu["keys"][0]["did"] == vnu["did"] and vnu["keys"][0]["valid_until"] is None and
     vnu["keys"][0]["valid_from"].endswith("Z"), "an entry: code, name, kind, DID, key history", vnu)
etag = h.get("etag", "")
t.ok(etag.startswith('"') and "public" in h.get("cache-control", ""), "ETag and public caching", h)
st, h, j = anon.call("GET", "/api/v1/registry", headers={"If-None-Match": etag})
t.eq(st, 304, "304 for the same ETag")
op = Client("100000000007")
st, h, j = op.call("POST", "/api/v1/institutions/VNU/keys")
t.eq(st, 201, "VNU's key is rotated")
st, h, j = anon.call("GET", "/api/v1/registry", headers={"If-None-Match": etag})
t.ok(st == 200 and h.get("etag") != etag, "a rotation changes the ETag", (st, h))
st, h, one = anon.call("GET", "/api/v1/registry/VNU")
keys = one.get("keys", []) if st == 200 else []
def secs(iso):
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


t.ok(st == 200 and len(keys) == 2 and keys[0]["valid_until"] and
     secs(keys[0]["valid_until"]) == secs(keys[1]["valid_from"]) + 1 and
     keys[1]["valid_until"] is None and one["did"] == keys[1]["did"],
     "one entry: the old key ends a second after the new one starts", one)
t.ok(h.get("etag", "").startswith('"'), "one entry has an ETag too")
st, h, j = anon.call("GET", "/api/v1/registry/NOPE")
t.eq(st, 404, "an unregistered code is 404")

# ---- courses at HUST (the recognising institution B) ------------------------------
st, h, j = lec.call("POST", "/api/v1/institutions/HUST/courses",
                    {"code": "IT101", "title": "Nhập môn lập trình", "language": "vi", "credits": "4"})
assert st == 201, j
course = j["uid"]
st, h, j = lec.call("PUT", "/api/v1/courses/%s/field" % course, {"field": "0613"})
t.ok(st == 200 and j.get("field") == "0613", "its lecturer sets the course's ISCED-F field", j)
st, h, j = lec.call("PUT", "/api/v1/courses/%s/field" % course, {"field": "0699x"})
t.ok(st == 400 and j.get("path") == "field", "a bad field is 400 with its path", j)
st, h, j = vnu_admin.call("PUT", "/api/v1/courses/%s/field" % course, {"field": "06"})
t.eq(st, 404, "another institution's admin may not (the draft is not even visible to them)")
st, h, j = anon.call("PUT", "/api/v1/courses/%s/field" % course, {"field": "06"})
t.eq(st, 401, "nor may the anonymous")

# ---- agreements -------------------------------------------------------------------
BASE = "/api/v1/institutions/HUST/agreements"
rule = {"source": "VNU", "match": {"course": "INT1001"}, "target": {"course": "IT101"},
        "min_grade": 5, "issued_from": "2024-01-01", "status": "active"}
for who, name, want in ((anon, "the anonymous", 401), (lec, "a lecturer", 403),
                        (vnu_admin, "another institution's admin", 403)):
    st, h, j = who.call("POST", BASE, rule)
    t.eq(st, want, "%s may not create an agreement" % name)
    st, h, j = who.call("GET", BASE)
    t.eq(st, want, "%s may not list them" % name)

bad = [
    ({"match": {"course": "INT1001"}, "target": {"course": "IT101"}}, "source"),
    (dict(rule, source="NOPE"), "source"),
    (dict(rule, source="HUST"), "source"),
    (dict(rule, match={"courses": ["A1"]}), "match.courses"),
    (dict(rule, match={"courses": ["A1", "B 2"]}), "match.courses[1]"),
    (dict(rule, match={"level": "ug", "field": "123"}), "match.field"),
    (dict(rule, target={"course": "NOPE1"}), "target.course"),
    (dict(rule, target={"elective_credits": -1}), "target.elective_credits"),
    (dict(rule, min_grade=11), "min_grade"),
    (dict(rule, grade_conversion={"scale": "4", "bands": [{"min": 5, "grade": "P"}], "min": "A"}),
     "grade_conversion.min"),
    (dict(rule, issued_from="2024-13-01"), "issued_from"),
    (dict(rule, status="signed"), "status"),
    (dict(rule, extra=1), "extra"),
]
for body, path in bad:
    st, h, j = admin.call("POST", BASE, body)
    t.ok(st == 400 and j.get("path") == path and j.get("detail", "").startswith(path + ": "),
         "bad %s: 400 naming it" % path, (st, j))
st, h, j = admin.call("POST", BASE, raw=b"{not json")
t.eq(st, 400, "not JSON: 400")
st, h, j = admin.call("GET", BASE)
t.ok(st == 200 and j.get("agreements") == [], "nothing was stored by the bad requests", j)

st, h, a1 = admin.call("POST", BASE, rule)
t.ok(st == 201 and a1.get("id") and a1.get("version") == 1 and a1.get("in_force") is True and
     a1["target"] == {"course": "IT101", "title": "Nhập môn lập trình", "credits": 4} and
     a1.get("min_grade") == 5 and a1.get("mutual") is False,
     "an agreement is created, the target course's title and credits filled in", a1)
rid = a1.get("id")
elective = {"source": "*", "match": {"level": "undergraduate-1", "field": "06"},
            "target": {"elective_credits": 2.5, "field": "06"},
            "grade_conversion": {"scale": "4-point", "bands": [{"min": 8.5, "grade": "A"}, {"min": 7, "grade": "B"},
                                                              {"min": 5.5, "grade": "C"}], "min": "C"},
            "mutual": False, "expires_on": "2030-01-01"}
st, h, j = admin.call("POST", BASE, dict(elective, mutual=True))
t.ok(st == 400 and j.get("path") == "mutual", "a mutual rule needs a named partner as its source", j)
st, h, a2 = admin.call("POST", BASE, elective)
t.ok(st == 201 and a2.get("status") == "proposed" and a2.get("in_force") is False and
     a2["target"]["elective_credits"] == 2.5 and a2["grade_conversion"]["min"] == "C",
     "an elective rule from any registered institution, proposed by default", a2)

changed = dict(rule, min_grade=6.5)
st, h, j = admin.call("PUT", "%s/%s?version=1" % (BASE, rid), changed)
t.ok(st == 200 and j.get("version") == 2 and j.get("min_grade") == 6.5, "a change is version 2", j)
st, h, j = admin.call("PUT", "%s/%s?version=1" % (BASE, rid), dict(rule, min_grade=7))
t.eq(st, 409, "a change of a stale version is 409")
st, h, j = admin.call("PUT", "%s/%s" % (BASE, rid), dict(rule, min_grade=-7))
t.ok(st == 400 and j.get("path") == "min_grade", "a bad change is 400 with its path", j)
st, h, j = admin.call("PUT", "%s/%s?version=x" % (BASE, rid), changed)
t.ok(st == 400 and j.get("path") == "version", "a bad ?version is 400", j)
st, h, j = vnu_admin.call("PUT", "%s/%s" % (BASE, rid), changed)
t.eq(st, 403, "another institution's admin may not change it")
st, h, j = admin.call("PUT", "%s/999" % BASE, changed)
t.eq(st, 404, "an unknown agreement is 404")
st, h, j = admin.call("GET", "%s/%s" % (BASE, rid))
vs = j.get("versions", []) if st == 200 else []
t.ok(st == 200 and j.get("version") == 2 and [v["version"] for v in vs] == [1, 2] and
     vs[0]["min_grade"] == 5 and vs[1]["min_grade"] == 6.5 and vs[0]["created_at"].endswith("Z"),
     "the agreement with its whole history", j)

st, h, j = admin.call("DELETE", "%s/%s" % (BASE, rid))
t.ok(st == 200 and j.get("status") == "expired" and j.get("version") == 3 and j.get("in_force") is False,
     "deleting expires it as version 3", j)
st, h, j = admin.call("DELETE", "%s/%s" % (BASE, rid))
t.eq(st, 409, "expiring it again is 409")
st, h, j = admin.call("GET", BASE + "?history=true")
ags = {a["id"]: a for a in j.get("agreements", [])} if st == 200 else {}
t.ok(st == 200 and len(ags) == 2 and [v["status"] for v in ags[rid]["versions"]] ==
     ["active", "active", "expired"] and len(ags[a2["id"]]["versions"]) == 1,
     "the list with history", j)
st, h, j = admin.call("GET", BASE + "?history=maybe")
t.ok(st == 400 and j.get("path") == "history", "a bad ?history is 400", j)
st, h, j = vnu_admin.call("GET", "/api/v1/institutions/VNU/agreements")
t.ok(st == 200 and j.get("agreements") == [], "VNU has none of HUST's agreements", j)

st, h, j = admin.call("GET", "/api/v1/institutions/HUST/audit")
events = [e.get("event") for e in j.get("events", [])] if st == 200 else []
t.ok(events.count("agreement.created") == 2 and events.count("agreement.changed") == 1 and
     events.count("agreement.expired") == 1, "every change is audited", events)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
