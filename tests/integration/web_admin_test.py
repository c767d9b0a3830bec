"""web_admin_test.py - the admin, consent and recognition pages of the web
front end (web/js/admin.js, consents.js, recognition.js) in Debian's
Chromium driven by playwright-core (web_admin.mjs), on a 360 px screen,
against the real server: issue 9's scenario 1 (admin part: learners
imported from CSV with the bad row shown, a lecturer created; API tokens,
keys, audit), scenario 3 (the verifier page verifies the credential
downloaded from "my credits", a tampered copy fails naming the check) and
scenario 4 (the learner consents to University B, B's API token query
recognises the credit, the learner sees the read and the explanation),
and B's admin editing a recognition agreement. Set-up data (institutions,
people, courses, the credential, B's token) comes through the command line
and the API. Screenshots (10-… to 35-….png) go to web-test-output/ in the
build folder, beside web_test.py's (or to $WEB_TEST_OUT)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, verify_settled  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR", os.path.join(HERE, "..", ".."))
t = Tap()
COST = "12"
node, chromium = shutil.which("node"), shutil.which("chromium")
if not (node and chromium and os.path.isdir(os.path.join(TOP, "node_modules", "playwright-core"))):
    t.skip_all("needs node, Debian's chromium and playwright-core (npm ci)")

VADMIN, HADMIN, LEARNER = "100000000009", "100000000008", "200000000001"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-wa-"), "data")
cli = DataCli(data, COST)
for code, name in (("VNU", "Đại học Quốc gia Hà Nội"), ("HUST", "Đại học Bách khoa Hà Nội")):
    rc, out, err = cli("institution", "add", code, "--name", name, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000002", "Trần Giảng Viên", "lecturer", "HUST")
cli.person(VADMIN, "Nguyễn Thị Ánh", "admin", "VNU")
cli.person(HADMIN, "Phạm Quản Trị", "admin", "HUST")
cli.person(LEARNER, "Học Viên Một", "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None, bearer=None):
    c = ApiClient(srv, nid)
    if bearer:
        orig = c.call

        def call(method, path, body=None, raw=None, ctype="application/json", headers=None, timeout=None):
            h = dict(headers or {})
            h["Authorization"] = "Bearer " + bearer
            return orig(method, path, body, raw, ctype, h, timeout)
        c.call = call
    return c


vlec, hlec, vadmin, hadmin, anon = (Client("100000000001"), Client("100000000002"), Client(VADMIN),
                                    Client(HADMIN), Client())
st, h, j = vlec.call("POST", "/api/v1/institutions/VNU/courses",
                     {"code": "CS101", "title": "Lập trình C", "language": "vi", "credits": "3"})
assert st == 201, j
st, h, j = vlec.call("POST", "/api/v1/institutions/VNU/courses",
                     {"code": "CS102", "title": "Cấu trúc dữ liệu", "language": "vi", "credits": "3"})
assert st == 201, j
st, h, j = hlec.call("POST", "/api/v1/institutions/HUST/courses",
                     {"code": "IT101", "title": "Nhập môn lập trình", "language": "vi", "credits": "3"})
assert st == 201, j
st, h, j = vadmin.call("POST", "/api/v1/institutions/VNU/tokens", {"name": "SIS", "scopes": ["credentials:issue"]})
assert st == 201, j
issuer = Client(bearer=j["token"])
st, h, j = issuer.call("POST", "/credentials/issue", {"credential": {"credentialSubject": {
    "national_id": LEARNER, "achievement": {"humanCode": "CS101"}, "grade": "8.5", "term": "2025 HK1",
    "completed_on": "2025-06-20"}}})
assert st == 201, j
cred = j["verifiableCredential"]
st, h, j = issuer.call("POST", "/credentials/issue", {"credential": {"credentialSubject": {
    "national_id": LEARNER, "achievement": {"humanCode": "CS102"}, "grade": "7", "term": "2025 HK1",
    "completed_on": "2025-06-21"}}})
assert st == 201, j
wrong = j["verifiableCredential"]      # issued by mistake: the admin revokes it in the page
st, h, v = verify_settled(anon, cred)
t.ok(st == 200 and v.get("verified"), "the learner's credential verifies (set-up)", v)
# B's API token for the recognition query, made through the API
st, h, j = hadmin.call("POST", "/api/v1/institutions/HUST/tokens", {"name": "Tuyển sinh", "scopes": ["credits:read"]})
assert st == 201, j
btoken = j["token"]

outdir = os.environ.get("WEB_TEST_OUT") or os.path.join(os.getcwd(), "web-test-output")
os.makedirs(outdir, exist_ok=True)
args = {"base": srv.base, "out": outdir, "chromium": chromium, "vadmin": VADMIN, "hadmin": HADMIN,
        "learner": LEARNER, "btoken": btoken, "credential": cred["id"], "wrong": wrong["id"]}
p = subprocess.run([node, os.path.join(HERE, "web_admin.mjs"), json.dumps(args)],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=400, cwd=TOP)
lines = p.stdout.decode().strip().splitlines()
try:
    seen = json.loads(lines[-1])
except (IndexError, ValueError):
    seen = {"errors": ["no result"], "steps": []}
steps = seen.get("steps", [])
t.ok(p.returncode == 0 and not seen["errors"],
     "in Chromium at 360 px: the scenarios ran with no console error (screenshots in %s)" % outdir,
     (p.returncode, seen.get("errors"), steps, p.stderr.decode()[-2000:]))
t.ok(seen.get("expected") == ["422", "422", "400"],
     "the only failed requests the browser reported are the refused import, bulk revocation and rule",
     seen.get("expected"))

# scenario 1, the admin's part
t.ok(seen.get("refused", {}).get("rows") == [["2", "national_id"]] and "Chưa nhập gì" in seen["refused"].get("summary", ""),
     "a CSV with one bad row: nothing imported, the row shown by number and column", seen.get("refused"))
st, h, j = vadmin.call("GET", "/api/v1/institutions/VNU/people?role=learner")
names = sorted(x["full_name"] for x in j["people"])
t.ok(seen.get("imported", {}).get("rows") == [["2", "national_id"]] and seen["imported"].get("codes") == 2 and
     names == ["Học Viên Một", "Phạm Minh Đức", "Vũ Thị Lan"],
     "with 'valid rows' ticked the two good rows are imported, their codes listed, the bad row shown",
     (seen.get("imported"), names))
cf = seen.get("codesFile") or []
t.ok(len(cf) == 3 and cf[0] == "national_id,student_code,activation_code" and
     [r.split(",")[0] for r in cf[1:]] == ["040205000001", "040205000003"] and
     all(re.match(r"^[A-Z0-9]{5}-[A-Z0-9]{5}$", r.split(",")[2]) for r in cf[1:]),
     "the activation codes saved as a CSV file", cf)
st, h, j = vadmin.call("GET", "/api/v1/institutions/VNU/people?role=lecturer")
t.ok("Đỗ Văn Mới" in [x["full_name"] for x in j["people"]] and seen.get("lecturerCode") and
     "Đỗ Văn Mới" in (seen.get("lecturers") or ""),
     "the admin creates a lecturer: the activation code shown, the list updated", (seen.get("lecturers"), j))
st, h, j = vadmin.call("GET", "/api/v1/institutions/VNU/tokens")
made = [x for x in j["tokens"] if x["name"] == "Hệ thống điểm"]
t.ok((seen.get("tokenSecret") or "").startswith("tct_") and made and made[0]["revoked_at"] and
     made[0]["scopes"] == "credits:read" and seen.get("tokenRevokedShown"),
     "an API token made with its scope, the secret shown once, then revoked", (seen.get("tokenSecret"), made))
st, h, j = anon.call("GET", "/api/v1/institutions/VNU")
t.ok(len(j["keys"]) == 2 and seen.get("keysBefore") == 1 and seen.get("keysAfter") == 2,
     "the keys with their dates; a rotation adds the new current key", (seen.get("keysBefore"), seen.get("keysAfter")))
t.ok(seen.get("auditHas") and seen.get("auditFiltered", 0) >= 1 and seen.get("auditFilteredOnly"),
     "the audit log lists the import, the token and the key; the filter keeps only matching events",
     (seen.get("auditEvents"), seen.get("auditFiltered")))
st2, h2, v = anon.call("POST", "/api/v1/credentials/verify", {"credential": wrong})
t.ok(seen.get("revokedOne") and seen.get("revokeBulkRows") == [["1", "credential_id"]] and
     not v.get("verified") and "nhầm học phần" in json.dumps(v, ensure_ascii=False),
     "the admin revokes a credential with a reason (the verifier says so); a bulk CSV naming an unknown "
     "credential is refused with its row shown", (seen.get("revokedOne"), seen.get("revokeBulkRows"), v))
st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": cred})
t.ok(j.get("verified"), "the credential still verifies after the key rotation", j)

# B's agreement made and activated in its admin pages
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/agreements?history=true")
rules = j["agreements"]
t.ok(len(rules) == 1 and rules[0]["version"] == 3 and rules[0]["status"] == "active" and
     [(v["status"], v.get("min_grade")) for v in rules[0]["versions"]] == [("proposed", 5), ("active", 5), ("active", 6)]
     and rules[0]["match"] == {"course": "CS101"} and rules[0]["target"]["course"] == "IT101",
     "B's admin creates a rule (proposed), activates it, edits its minimum grade: version 3, the history kept", rules)
t.ok(seen.get("editTitle") == "Sửa quy tắc 1 (phiên bản 2)" and seen.get("editSource") == "VNU",
     "editing fills the form with the current version", (seen.get("editTitle"), seen.get("editSource")))
t.ok(seen.get("ruleCard") and "3" in seen["ruleCard"] and seen.get("ruleVersions") == 3,
     "the rule's card shows its version and all three versions", (seen.get("ruleCard"), seen.get("ruleVersions")))
t.ok(seen.get("ruleBad"), "a rule naming a course B does not have is refused, the field named", seen.get("ruleBad"))

# scenario 3
dl = seen.get("downloaded") or {}
t.ok(dl.get("id") == cred["id"], "the learner downloads the credential from 'my credits'", dl.get("id"))
vf = seen.get("verifyFile") or {}
t.ok(vf.get("ok") and len(vf.get("checks", [])) == 6 and all(c[1] for c in vf["checks"]),
     "the verifier page verifies the downloaded file: every check passes", vf)
vt = seen.get("verifyTampered") or {}
t.ok(vt and not vt.get("ok") and ["proof", False] in vt.get("checks", []) and vt.get("failedNamed"),
     "a tampered copy fails, the signature check named as failed", vt)

# scenario 4
t.ok(seen.get("consentCard") and "Đại học Bách khoa Hà Nội" in seen["consentCard"],
     "the learner grants consent to University B in the consents page", seen.get("consentCard"))
q = seen.get("bQuery") or {}
cr = ([c for c in q.get("credentials") or [] if c.get("uid") == cred["id"]] or [{}])[0]
t.ok(q.get("status") == 200 and cr.get("decision", {}).get("recognised") and
     cr["decision"]["course"]["code"] == "IT101" and cr["decision"]["rule"]["version"] == 3 and
     cr["verification"]["verified"], "B's API token query recognises the credit as IT101 under rule version 3", q)
t.ok("Đại học Bách khoa Hà Nội đã xem hồ sơ của bạn" in (seen.get("accessLog") or "") and
     "xét tuyển" in seen["accessLog"], "the learner sees B's read in the consents page", seen.get("accessLog"))
t.ok("IT101" in (seen.get("explained") or "") and "phiên bản 3" in seen["explained"] and
     "Được công nhận" in seen["explained"] and "Không được công nhận: văn bằng đã bị thu hồi" in seen["explained"],
     "the recognition page explains the decision with the rule version, and why the revoked one is not",
     seen.get("explained"))
why = [c["decision"]["explanation"] for c in q.get("credentials") or []]
t.ok(why and all(w and w in (seen.get("explained") or "") for w in why),
     "... each credential with its decision's explanation (the server's words)", (why, seen.get("explained")))
t.ok("bước kiểm tra chữ ký số không đạt" in (seen.get("outside") or "") and
     "Không được công nhận: văn bằng không xác minh được" in seen["outside"],
     "a tampered credential file checked in the recognition page: not verified (the signature named), "
     "not recognised", seen.get("outside"))
t.ok("Recognised as" in (seen.get("explainedEn") or ""), "the explanation in English", seen.get("explainedEn"))
t.ok(seen.get("vpTypes") and "VerifiablePresentation" in seen["vpTypes"] and seen.get("elmoRoot") == "elmo",
     "the transcript downloads: the presentation and the ELMO XML", (seen.get("vpTypes"), seen.get("elmoRoot")))
t.ok(seen.get("withdrawn") and seen.get("bAfterWithdraw") == 404,
     "after the learner withdraws, B's query is 404", (seen.get("withdrawn"), seen.get("bAfterWithdraw")))
t.ok(seen.get("choices") == 1 and "CS101 Lập trình C" in (seen.get("chosenCard") or "") and
     "phiên bản 3" in seen["chosenCard"] and seen.get("bChosen") == [cred["id"]],
     "granted again for one chosen credential (the revoked one is not offered): B reads only that one",
     (seen.get("choices"), seen.get("chosenCard"), seen.get("bChosen")))

# qualities on every page visited
t.ok(seen.get("wide") == [], "nothing wider than 360 px on any page", seen.get("wide"))
t.ok(seen.get("unlabelled") == [], "every field has a label", seen.get("unlabelled"))
t.ok(seen.get("lowContrast") == [], "text contrast AA on every page", seen.get("lowContrast"))
t.ok(seen.get("keyboard") is True, "the import form is used with the keyboard alone", seen.get("keyboard"))
t.ok(seen.get("csrfMissing") == [], "every change carried X-CSRF-Token", seen.get("csrfMissing"))

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
