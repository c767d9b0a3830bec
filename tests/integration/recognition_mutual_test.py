"""recognition_mutual_test.py - mutual recognition agreements (issue 8).
HUST records "VNU's CS101 counts as our IT101" as mutual and proposed; VNU's
admin sees the proposal with its reverse ("HUST's IT101 counts as our
CS101", our course's title and credits filled in) and accepts it: VNU's
reverse rule is recorded active and HUST's rule becomes active with it (a
new version): both directions take effect together, audited at both.
Accepting twice, or a reverse naming a course VNU does not have, is 409
with nothing stored; a decline is recorded and a new version of the
proposal makes it pending again; an expired proposal is gone; only the
partner's admins see and decide (HUST's admin and VNU's lecturer: 403);
rules whose reverse is not determined cannot be mutual (400, path
mutual)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rm-"), "data")
cli = DataCli(data, COST)
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
cli.person("100000000002", "Trần Giảng Viên", "lecturer", "HUST")
cli.person("100000000008", "Phạm Quản Trị", "admin", "HUST")
srv = Server("--password-cost", COST, data=data)
vlec, vadmin = ApiClient(srv, "100000000001"), ApiClient(srv, "100000000009")
hlec, hadmin = ApiClient(srv, "100000000002"), ApiClient(srv, "100000000008")

for c, inst, code, credits in ((vlec, "VNU", "CS101", "3"), (vlec, "VNU", "CS102", "3"),
                               (hlec, "HUST", "IT101", "4"), (hlec, "HUST", "IT102", "3")):
    st, h, j = c.call("POST", "/api/v1/institutions/%s/courses" % inst,
                      {"code": code, "title": "Môn " + code, "language": "vi", "credits": credits})
    assert st == 201, j

HA, VA = "/api/v1/institutions/HUST/agreements", "/api/v1/institutions/VNU/agreements"
VP = "/api/v1/institutions/VNU/agreement-proposals"

# ---- which rules can be mutual --------------------------------------------------------
for body, why in (({"source": "*", "match": {"course": "CS101"}, "target": {"course": "IT101"}}, "any source"),
                  ({"source": "VNU", "match": {"courses": ["CS101", "CS102"]}, "target": {"course": "IT101"}},
                   "a set of courses"),
                  ({"source": "VNU", "match": {"course": "CS101"}, "target": {"elective_credits": 2}},
                   "a course for elective credits")):
    st, h, j = hadmin.call("POST", HA, dict(body, mutual=True))
    t.ok(st == 400 and j.get("path") == "mutual", "no reverse to offer (%s): 400 naming mutual" % why, j)

st, h, r1 = hadmin.call("POST", HA, {"source": "VNU", "match": {"course": "CS101"}, "target": {"course": "IT101"},
                                     "min_grade": 5, "mutual": True, "expires_on": "2030-01-01"})
t.ok(st == 201 and r1.get("mutual") is True and r1.get("status") == "proposed" and r1.get("in_force") is False,
     "HUST proposes a mutual agreement", r1)
st, h, r2 = hadmin.call("POST", HA, {"source": "VNU", "match": {"course": "CS999"}, "target": {"course": "IT102"},
                                     "mutual": True, "status": "active"})
assert st == 201, r2
st, h, r3 = hadmin.call("POST", HA, {"source": "VNU", "match": {"level": "undergraduate-1", "field": "06"},
                                     "target": {"elective_credits": 2, "field": "06"}, "mutual": True})
assert st == 201, r3
st, h, plain = hadmin.call("POST", HA, {"source": "VNU", "match": {"course": "CS102"}, "target": {"course": "IT102"}})
assert st == 201, plain

# ---- what VNU sees ----------------------------------------------------------------------
st, h, j = vadmin.call("GET", VP)
props = {p["id"]: p for p in j.get("proposals", [])} if st == 200 else {}
t.ok(st == 200 and sorted(props) == sorted([r1["id"], r2["id"], r3["id"]]),
     "VNU's admin sees the three mutual proposals naming VNU (not the plain rule)", j)
p1 = props.get(r1["id"], {})
rev = p1.get("reverse") or {}
t.ok(p1.get("state") == "pending" and p1.get("from", {}).get("code") == "HUST" and
     rev.get("source") == "HUST" and rev.get("match") == {"course": "IT101"} and
     rev.get("target") == {"course": "CS101", "title": "Môn CS101", "credits": 3} and rev.get("min_grade") == 5 and
     rev.get("expires_on") == "2030-01-01" and rev.get("status") == "active" and rev.get("mutual") is True,
     "the reverse: HUST's IT101 as VNU's CS101, VNU's title and credits", p1)
p3 = props.get(r3["id"], {})
t.ok((p3.get("reverse") or {}).get("match") == {"level": "undergraduate-1", "field": "06"} and
     p3["reverse"]["target"] == {"elective_credits": 2, "field": "06"} and p3["reverse"]["source"] == "HUST",
     "a level/field rule reverses to the same elective credits", p3)
t.ok(props.get(r2["id"], {}).get("missing_course") == "CS999", "a reverse naming a course VNU lacks says so",
     props.get(r2["id"]))

st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/agreement-proposals")
t.ok(st == 200 and j.get("proposals") == [], "HUST has no proposals of its own to answer", j)
st, h, j = vlec.call("GET", VP)
t.eq(st, 403, "a lecturer does not see proposals")
st, h, j = hadmin.call("POST", "%s/%s/accept" % (VP, r1["id"]))
t.eq(st, 403, "HUST cannot accept on VNU's behalf")

# ---- deciding -----------------------------------------------------------------------------
st, h, j = vadmin.call("GET", VA)
before = len(j["agreements"])
st, h, j = vadmin.call("POST", "%s/%s/accept" % (VP, r2["id"]))
t.ok(st == 409 and "CS999" in j.get("detail", ""), "accepting a reverse to a course VNU lacks: 409", j)
st, h, j = vadmin.call("GET", VA)
t.eq(len(j["agreements"]), before, "... and nothing is stored")

st, h, j = vadmin.call("POST", "%s/%s/accept" % (VP, r1["id"]))
mine, theirs = (j.get("agreement") or {}), (j.get("partner_agreement") or {})
t.ok(st == 201 and j.get("state") == "accepted" and mine.get("source") == "HUST" and
     mine.get("match") == {"course": "IT101"} and mine.get("target", {}).get("course") == "CS101" and
     mine.get("in_force") is True, "VNU accepts: its reverse rule is recorded and in force", j)
t.ok(theirs.get("id") == r1["id"] and theirs.get("version") == 2 and theirs.get("status") == "active" and
     theirs.get("in_force") is True, "... and HUST's rule becomes active with it (version 2)", theirs)
st, h, j = hadmin.call("GET", "%s/%s" % (HA, r1["id"]))
t.ok(st == 200 and [v["status"] for v in j.get("versions", [])] == ["proposed", "active"],
     "HUST's history shows the proposal and its activation", j.get("versions"))
st, h, j = vadmin.call("GET", VA)
t.eq(len(j["agreements"]), before + 1, "VNU has one more agreement")
st, h, j = vadmin.call("POST", "%s/%s/accept" % (VP, r1["id"]))
t.eq(st, 409, "accepting twice: 409")
st, h, j = vadmin.call("POST", "%s/%s/decline" % (VP, r1["id"]))
t.eq(st, 409, "declining what was accepted: 409")
st, h, j = vadmin.call("GET", VP)
props = {p["id"]: p for p in j.get("proposals", [])}
t.ok(props[r1["id"]]["state"] == "accepted" and props[r1["id"]]["reverse_id"] == mine.get("id") and
     props[r1["id"]]["changed_since"] is False, "the list shows it accepted, with VNU's rule", props[r1["id"]])

st, h, j = vadmin.call("POST", "%s/%s/decline" % (VP, r3["id"]))
t.ok(st == 200 and j.get("state") == "declined", "VNU declines the elective proposal", j)
st, h, j = vadmin.call("GET", VP)
t.eq({p["id"]: p for p in j["proposals"]}[r3["id"]]["state"], "declined", "it is listed declined")
st, h, j = hadmin.call("PUT", "%s/%s?version=1" % (HA, r3["id"]),
                       {"source": "VNU", "match": {"level": "undergraduate-1", "field": "06"},
                        "target": {"elective_credits": 3, "field": "06"}, "mutual": True})
assert st == 200, j
st, h, j = vadmin.call("GET", VP)
p3 = {p["id"]: p for p in j["proposals"]}[r3["id"]]
t.ok(p3["state"] == "pending" and p3["decided_version"] == 1 and p3["reverse"]["target"]["elective_credits"] == 3,
     "a new version of a declined proposal is pending again", p3)

st, h, j = hadmin.call("DELETE", "%s/%s" % (HA, r2["id"]))
assert st == 200, j
st, h, j = vadmin.call("GET", VP)
t.ok(r2["id"] not in [p["id"] for p in j["proposals"]], "an expired proposal is gone", j)
for bad in (r2["id"], plain["id"], 999999, "abc"):
    st, h, j = vadmin.call("POST", "%s/%s/accept" % (VP, bad))
    t.eq(st, 404, "accept %s (expired, not mutual, unknown, not an id): 404" % bad)

# ---- audit ------------------------------------------------------------------------------
st, h, j = vadmin.call("GET", "/api/v1/institutions/VNU/audit")
ev = [e.get("event") for e in j.get("events", [])] if st == 200 else []
t.ok(ev.count("agreement.accepted") == 1 and ev.count("agreement.declined") == 1, "VNU's decisions are audited", ev)
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/audit")
ev = [e.get("event") for e in j.get("events", [])] if st == 200 else []
t.ok(ev.count("agreement.activated") == 1, "the activation is audited at HUST", ev)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
