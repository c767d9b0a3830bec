#!/usr/bin/env python3
"""scripts/bench/catalog.py - helper of scripts/bench/catalog.sh.

Generates a realistic catalog (Vietnamese and English course titles,
descriptions, tags, languages, credits and levels), loads it through the
HTTP API or straight into SQLite, and measures catalog search latency over
HTTP against the same SQL run directly with Python's sqlite3.

  catalog.py institutions N              CODE<TAB>NAME lines for the CLI
  catalog.py load-api BASE DB FIRST COUNT --threads T --password P
  catalog.py load-sql DB FIRST COUNT     (the server must be stopped)
  catalog.py check-fold DB               stored FTS rows == Python's fold
  catalog.py search BASE DB --requests N --out FILE

Course number i (0-based) is generated from the seed and i alone, so the
two load paths produce the same data set.
"""
import argparse
import http.client
import json
import random
import re
import sqlite3
import statistics
import sys
import threading
import time
import unicodedata
import uuid

SEED = 4

# ---------------------------------------------------------------- vocabulary

CITIES = ["Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Huế", "Cần Thơ",
          "Hải Phòng", "Thái Nguyên", "Vinh", "Quy Nhơn", "Nha Trang"]
KINDS = ["Trường Đại học Bách khoa", "Trường Đại học Kinh tế",
         "Trường Đại học Sư phạm", "Trường Đại học Khoa học Tự nhiên",
         "Trường Đại học Ngoại ngữ", "Học viện Công nghệ Bưu chính Viễn thông",
         "Trường Đại học Công nghệ Thông tin", "Trường Đại học Y Dược",
         "Trường Đại học Nông Lâm", "Trường Cao đẳng Kỹ thuật"]

# (Vietnamese title, English title, tags, weight): weight ~ how common the
# subject is across the catalog. Titles use only letters, digits and spaces.
SUBJECTS = [
    ("Lập trình C", "C Programming", ["lập trình", "tin học", "C"], 30),
    ("Lập trình hướng đối tượng", "Object Oriented Programming", ["lập trình", "Java", "OOP"], 30),
    ("Lập trình Python", "Python Programming", ["lập trình", "Python", "tin học"], 30),
    ("Lập trình web", "Web Programming", ["lập trình", "web", "JavaScript"], 25),
    ("Lập trình di động", "Mobile Programming", ["lập trình", "Android", "iOS"], 15),
    ("Cấu trúc dữ liệu và giải thuật", "Data Structures and Algorithms", ["giải thuật", "tin học"], 30),
    ("Cơ sở dữ liệu", "Database Systems", ["cơ sở dữ liệu", "SQL", "tin học"], 30),
    ("Hệ quản trị cơ sở dữ liệu", "Database Management Systems", ["cơ sở dữ liệu", "SQL"], 15),
    ("Mạng máy tính", "Computer Networks", ["mạng", "TCP IP", "tin học"], 25),
    ("Hệ điều hành", "Operating Systems", ["hệ điều hành", "Linux"], 20),
    ("Kiến trúc máy tính", "Computer Architecture", ["phần cứng", "tin học"], 15),
    ("Trí tuệ nhân tạo", "Artificial Intelligence", ["trí tuệ nhân tạo", "AI"], 20),
    ("Học máy", "Machine Learning", ["học máy", "trí tuệ nhân tạo", "dữ liệu"], 20),
    ("Khoa học dữ liệu", "Data Science", ["dữ liệu", "thống kê", "Python"], 15),
    ("An toàn thông tin", "Information Security", ["bảo mật", "mạng"], 15),
    ("Công nghệ phần mềm", "Software Engineering", ["phần mềm", "quy trình"], 20),
    ("Giải tích", "Calculus", ["toán", "giải tích"], 35),
    ("Đại số tuyến tính", "Linear Algebra", ["toán", "đại số"], 30),
    ("Xác suất thống kê", "Probability and Statistics", ["toán", "thống kê"], 30),
    ("Toán rời rạc", "Discrete Mathematics", ["toán", "tin học"], 20),
    ("Phương pháp tính", "Numerical Methods", ["toán", "tính toán"], 10),
    ("Vật lý đại cương", "General Physics", ["vật lý", "đại cương"], 30),
    ("Hóa học đại cương", "General Chemistry", ["hóa học", "đại cương"], 20),
    ("Sinh học tế bào", "Cell Biology", ["sinh học"], 10),
    ("Kinh tế vi mô", "Microeconomics", ["kinh tế", "vi mô"], 30),
    ("Kinh tế vĩ mô", "Macroeconomics", ["kinh tế", "vĩ mô"], 30),
    ("Kinh tế lượng", "Econometrics", ["kinh tế", "thống kê"], 15),
    ("Nguyên lý kế toán", "Principles of Accounting", ["kế toán", "tài chính"], 20),
    ("Tài chính doanh nghiệp", "Corporate Finance", ["tài chính", "doanh nghiệp"], 20),
    ("Quản trị học", "Principles of Management", ["quản trị", "kinh doanh"], 20),
    ("Marketing căn bản", "Principles of Marketing", ["marketing", "kinh doanh"], 20),
    ("Luật kinh tế", "Business Law", ["luật", "kinh tế"], 10),
    ("Tiếng Anh", "English", ["tiếng Anh", "ngoại ngữ"], 40),
    ("Tiếng Anh chuyên ngành", "English for Specific Purposes", ["tiếng Anh", "ngoại ngữ"], 20),
    ("Tiếng Nhật", "Japanese", ["tiếng Nhật", "ngoại ngữ"], 10),
    ("Tiếng Pháp", "French", ["tiếng Pháp", "ngoại ngữ"], 5),
    ("Triết học Mác Lênin", "Marxist Leninist Philosophy", ["lý luận chính trị"], 25),
    ("Tư tưởng Hồ Chí Minh", "Ho Chi Minh Thought", ["lý luận chính trị"], 25),
    ("Lịch sử Đảng Cộng sản Việt Nam", "History of the Communist Party of Vietnam", ["lý luận chính trị", "lịch sử"], 20),
    ("Pháp luật đại cương", "Introduction to Law", ["luật", "đại cương"], 20),
    ("Giáo dục thể chất", "Physical Education", ["thể chất"], 20),
    ("Kỹ năng mềm", "Soft Skills", ["kỹ năng"], 15),
    ("Văn học Việt Nam", "Vietnamese Literature", ["văn học", "ngữ văn"], 10),
    ("Cơ học kỹ thuật", "Engineering Mechanics", ["cơ học", "kỹ thuật"], 15),
    ("Điện tử số", "Digital Electronics", ["điện tử", "kỹ thuật"], 15),
    ("Mạch điện", "Electric Circuits", ["điện", "kỹ thuật"], 15),
    ("Vẽ kỹ thuật", "Technical Drawing", ["kỹ thuật", "đồ họa"], 10),
    ("Giải phẫu học", "Human Anatomy", ["y học", "giải phẫu"], 10),
    ("Dược lý học", "Pharmacology", ["y học", "dược"], 10),
    ("Tâm lý học đại cương", "General Psychology", ["tâm lý học", "đại cương"], 15),
    ("Phương pháp nghiên cứu khoa học", "Research Methods", ["nghiên cứu"], 15),
    # rare subjects: a handful of courses each
    ("Khảo cổ học dưới nước", "Underwater Archaeology", ["khảo cổ"], 0.05),
    ("Thiên văn học vô tuyến", "Radio Astronomy", ["thiên văn"], 0.05),
    ("Ngôn ngữ học so sánh", "Comparative Linguistics", ["ngôn ngữ học"], 0.05),
    ("Thư pháp chữ Nôm", "Nom Script Calligraphy", ["chữ Nôm", "thư pháp"], 0.03),
    ("Nuôi trồng thủy sản nước lợ", "Brackish Water Aquaculture", ["thủy sản"], 0.1),
]
SUBJECT_WEIGHTS = [s[3] for s in SUBJECTS]
SUFFIXES_VI = ["", "", "", "1", "2", "3", "cơ bản", "nâng cao", "ứng dụng", "thực hành",
               "cho người mới bắt đầu", "chuyên sâu"]
SUFFIXES_EN = ["", "", "", "1", "2", "3", "Fundamentals", "Advanced", "in Practice",
               "for Beginners"]
LEVELS = ["undergraduate-1", "undergraduate-2", "undergraduate-3", "undergraduate-4",
          "master", "upper-secondary", "vocational"]
LEVEL_WEIGHTS = [25, 25, 20, 15, 7, 4, 4]
CREDITS_X10 = [10, 15, 20, 25, 30, 40]
CREDIT_WEIGHTS = [10, 5, 30, 5, 40, 10]
CODE_PREFIX = ["IT", "MI", "PH", "CH", "EC", "AC", "FL", "SS", "ME", "EE", "BIO", "MED", "LAW"]

DESC_VI = [
    "Học phần {t} cung cấp cho sinh viên kiến thức nền tảng và kỹ năng thực hành cần thiết.",
    "Nội dung gồm các chủ đề chính, bài tập hằng tuần và một dự án nhóm cuối kỳ.",
    "Sinh viên được hướng dẫn đọc tài liệu, trình bày báo cáo và làm việc theo nhóm.",
    "Đánh giá: chuyên cần 10 phần trăm, giữa kỳ 30 phần trăm, cuối kỳ 60 phần trăm.",
    "Yêu cầu tiên quyết: đã hoàn thành các học phần đại cương của năm thứ nhất.",
    "Giảng viên sử dụng bài giảng video, tài liệu đọc và bài kiểm tra trắc nghiệm trực tuyến.",
    "Sau khi hoàn thành, người học có thể vận dụng kiến thức vào các bài toán thực tế.",
    "Lớp học kết hợp trực tiếp và trực tuyến, phù hợp với người học ở xa trung tâm.",
    "Học liệu được cập nhật theo chương trình đào tạo mới nhất của nhà trường.",
    "Người học cần dành khoảng sáu giờ mỗi tuần cho việc tự học và làm bài tập.",
]
DESC_EN = [
    "The course {t} introduces the core concepts and the practical skills of the field.",
    "Topics include weekly readings, problem sets and a final group project.",
    "Students present their work, review each other and write a short report.",
    "Assessment: attendance 10 percent, midterm 30 percent, final exam 60 percent.",
    "Prerequisites: the first year foundation courses or equivalent experience.",
    "Lectures are recorded; quizzes and readings are available online all term.",
    "After the course, learners apply the methods to real world problems.",
    "Plan about six hours a week for self study and exercises.",
]


def fold(s):
    """courses/fold.c for the generated text: drop Vietnamese diacritics
    (combining marks after NFD), d for the stroked d, ASCII lower case."""
    out = "".join(ch for ch in unicodedata.normalize("NFD", s)
                  if not 0x300 <= ord(ch) <= 0x36F)
    out = out.replace("đ", "d").replace("Đ", "d").lower()
    if not out.isascii():
        raise ValueError("generated text folds to non-ASCII: %r" % out)
    return out


def search_text(code, title, tags, inst_name, description):
    """course_search_text(): folded "code title tags" (the institution's name
    and the description are not indexed), commas turned into spaces."""
    parts = [p for p in (code, title, ",".join(tags)) if p]
    return " ".join(fold(p) for p in parts).replace(",", " ")


def search_query(typed):
    """course_search_query(): each folded word becomes a quoted prefix term."""
    words = re.findall(r"[A-Za-z0-9\x80-\U0010FFFF]+", fold(typed))[:16]
    return " ".join('"%s"*' % w for w in words)


def institutions(n):
    rng = random.Random(SEED)
    out, seen = [], set()
    for i in range(n):
        while True:
            name = "%s %s" % (rng.choice(KINDS), rng.choice(CITIES))
            if name not in seen:
                break
        seen.add(name)
        out.append(("DH%02d" % (i + 1), name))
    return out


def course(i, n_inst):
    """Course number i: (institution index, fields for the API)."""
    rng = random.Random(SEED * 1000003 + i)
    inst = i % n_inst
    s = rng.choices(SUBJECTS, SUBJECT_WEIGHTS)[0]
    lang = "vi" if rng.random() < 0.7 else "en"
    if lang == "vi":
        suffix = rng.choice(SUFFIXES_VI)
        title = s[0] + (" " + suffix if suffix else "")
        desc = [DESC_VI[0].format(t=title)] + rng.sample(DESC_VI[1:], rng.randint(2, 4))
    else:
        suffix = rng.choice(SUFFIXES_EN)
        title = s[1] + (" " + suffix if suffix else "")
        desc = [DESC_EN[0].format(t=title)] + rng.sample(DESC_EN[1:], rng.randint(2, 4))
    tags = list(s[2])
    if rng.random() < 0.3:
        tags.append(rng.choice(["trực tuyến", "học kỳ 1", "học kỳ 2", "chất lượng cao", "miễn phí"]))
    credits_x10 = rng.choices(CREDITS_X10, CREDIT_WEIGHTS)[0]
    c = {
        "code": "%s%04d-%05d" % (rng.choice(CODE_PREFIX), rng.randint(1000, 4999), i),
        "title": title,
        "description": " ".join(desc),
        "language": lang,
        "credits": "%d.%d" % divmod(credits_x10, 10) if credits_x10 % 10 else str(credits_x10 // 10),
        "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
        "tags": tags,
    }
    if rng.random() < 0.5:
        c["starts_on"] = "2026-%02d-01" % rng.choice([2, 9])
    return inst, c, credits_x10


# ---------------------------------------------------------------- HTTP

class Client:
    def __init__(self, base):
        m = re.match(r"http://([^:/]+):(\d+)", base)
        self.host, self.port = m.group(1), int(m.group(2))
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, data, h)
                r = self.conn.getresponse()
                return r.status, r.getheaders(), r.read()
            except (ConnectionError, http.client.HTTPException):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)


def sign_in(base, national_id, password):
    cl = Client(base)
    st, hdrs, body = cl.request("POST", "/api/v1/session",
                                {"national_id": national_id, "password": password})
    if st != 200:
        sys.exit("catalog.py: sign-in of %s: %d %s" % (national_id, st, body[:200]))
    cookie = next(v.split(";")[0] for k, v in hdrs if k.lower() == "set-cookie")
    return {"Cookie": cookie, "X-CSRF-Token": json.loads(body)["csrf_token"]}


def lecturer_nid(k):
    return "0010000%05d" % (k + 1)


def cmd_load_api(a):
    insts = institutions(a.institutions)
    heads = [sign_in(a.base, lecturer_nid(k), a.password) for k in range(len(insts))]
    nxt = [a.first]
    lock = threading.Lock()
    errors = []

    def worker():
        cl = Client(a.base)
        while True:
            with lock:
                i = nxt[0]
                if i >= a.first + a.count or errors:
                    return
                nxt[0] += 1
            inst, c, _ = course(i, len(insts))
            h = heads[inst]
            st, _, body = cl.request("POST", "/api/v1/institutions/%s/courses" % insts[inst][0], c, h)
            if st != 201:
                errors.append("create %d: %d %s" % (i, st, body[:200]))
                return
            uid = json.loads(body)["uid"]
            st, _, body = cl.request("POST", "/api/v1/courses/%s/status" % uid,
                                     {"status": "published"}, h)
            if st != 200:
                errors.append("publish %d: %d %s" % (i, st, body[:200]))
                return

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        sys.exit("catalog.py: " + errors[0])
    print("%.3f" % dt)


def cmd_load_sql(a):
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    insts = institutions(a.institutions)
    ids = dict(db.execute("SELECT code, id FROM institutions"))
    owner = {}
    for code, _ in insts:
        owner[code] = db.execute(
            "SELECT m.person_id FROM memberships m JOIN institutions i ON i.id = m.institution_id"
            " WHERE i.code = ? AND m.role = 'lecturer' ORDER BY m.person_id LIMIT 1",
            (code,)).fetchone()[0]
    now = int(time.time())
    rows, fts = [], []
    t0 = time.monotonic()
    with db:
        next_id = (db.execute("SELECT coalesce(max(id), 0) FROM courses").fetchone()[0]) + 1
        for i in range(a.first, a.first + a.count):
            inst, c, credits_x10 = course(i, len(insts))
            code, name = insts[inst]
            created = now - (a.first + a.count - i)
            rows.append((next_id, str(uuid.uuid4()), ids[code], c["code"], c["title"],
                         c["description"], c["language"], credits_x10, c["level"],
                         ",".join(c["tags"]), "published", c.get("starts_on", ""),
                         owner[code], created, created))
            fts.append((next_id, search_text(c["code"], c["title"], c["tags"], name,
                                             c["description"])))
            next_id += 1
        db.executemany(
            "INSERT INTO courses (id, uid, institution_id, code, title, description, language,"
            " credits_x10, level, tags, status, starts_on, owner_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO courses_fts (rowid, body) VALUES (?, ?)", fts)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print("%.3f" % (time.monotonic() - t0))


def cmd_check_fold(a):
    """The rows the server wrote must equal what load-sql would write."""
    db = sqlite3.connect(a.db)
    names = dict(db.execute("SELECT id, name FROM institutions"))
    n = bad = 0
    for cid, code, title, tags, inst, desc, body in db.execute(
            "SELECT c.id, c.code, c.title, c.tags, c.institution_id, c.description, f.body"
            " FROM courses c JOIN courses_fts f ON f.rowid = c.id"):
        mine = search_text(code, title, tags.split(",") if tags else [], names[inst], desc)
        n += 1
        if mine != body:
            bad += 1
            if bad <= 3:
                print("course %d:\n server: %r\n python: %r" % (cid, body, mine), file=sys.stderr)
    print("%d %d" % (n, bad))


# ---------------------------------------------------------------- search

# (query string without limit/after, weight, follow the next page)
QUERIES = [
    ("q=lap+trinh", 10, True),
    ("q=l%E1%BA%ADp+tr%C3%ACnh", 10, True),                 # lập trình
    ("q=co+so+du+lieu", 6, False),
    ("q=c%C6%A1+s%E1%BB%9F+d%E1%BB%AF+li%E1%BB%87u", 6, False),  # cơ sở dữ liệu
    ("q=gi%E1%BA%A3i+t%C3%ADch+2", 6, False),               # giải tích 2
    ("q=giai+tich", 4, True),
    ("q=kinh+te", 6, True),
    ("q=kinh+t%E1%BA%BF+vi+m%C3%B4", 4, False),             # kinh tế vi mô
    ("q=ti%E1%BA%BFng+anh", 4, False),                      # tiếng anh
    ("q=tri+tue+nhan+tao", 4, False),
    ("q=mang+may+tinh", 4, False),
    ("q=v%E1%BA%ADt+l%C3%BD+%C4%91%E1%BA%A1i+c%C6%B0%C6%A1ng", 3, False),  # vật lý đại cương
    ("q=python", 4, False),
    ("q=toan", 4, True),                                    # single common word
    ("q=hoc", 3, False),                                    # very common prefix
    ("q=sinh+vien", 2, False),                              # in descriptions only now
    ("q=database", 3, False),
    ("q=machine+learning", 2, False),
    ("q=kh%E1%BA%A3o+c%E1%BB%95", 3, False),                # khảo cổ (rare)
    ("q=thien+van", 2, False),                              # rare
    ("q=chu+nom", 2, False),                                # rare
    ("q=lap+trinh&language=en", 3, False),
    ("q=kinh+te&credits=3", 3, False),
    ("q=co+so+du+lieu&level=undergraduate-2", 2, False),
    ("q=lap+trinh&institution=DH07", 2, False),
    ("q=blockchain", 2, False),                             # no match at all
    ("language=en", 4, True),                               # filter only
    ("language=vi&credits=2", 4, True),
    ("credits=1.5", 2, False),
    ("level=master", 2, False),
    ("institution=DH12", 2, True),
    ("", 3, True),                                          # the whole catalog
]


def sql_for(params):
    """The statement and bindings sq_catalog_each() would run."""
    text = bool(params.get("match"))
    cols = ("c.id, c.uid, c.institution_id, c.code, c.title, c.description, c.language,"
            " c.credits_x10, c.level, c.tags, c.status, c.starts_on, c.ends_on,"
            " c.enrol_opens_at, c.enrol_closes_at, c.capacity, c.owner_id,"
            " c.created_at, c.updated_at")
    sql = ("SELECT " + cols + ", %s FROM %s"
           " WHERE c.status = 'published'"
           " AND (?1 = 0 OR c.institution_id = ?1)"
           " AND (?2 = '' OR c.language = ?2)"
           " AND (?3 = '' OR c.level = ?3)"
           " AND (?4 = 0 OR c.credits_x10 = ?4)"
           "%s ORDER BY %s LIMIT ?7") % (
        "f.rank" if text else "0.0",
        "(SELECT rowid, rank FROM courses_fts WHERE courses_fts MATCH ?5"
        " ORDER BY rowid DESC LIMIT 2000) f JOIN courses c ON c.id = f.rowid" if text else "courses c",
        " AND (f.rank > ?6 OR (f.rank = ?6 AND c.id > ?8))"
        if text else " AND c.id > ?8 AND ?5 IS NOT ?6",
        "f.rank, c.id" if text else "c.id")
    after_rank, after_id = -1e300, 0
    if params.get("after"):
        if text and ":" in params["after"]:
            r, i = params["after"].split(":")
            after_rank, after_id = float(r), int(i)
        else:
            after_id = int(params["after"])
            if text:
                after_rank = 0.0
    return sql, (params.get("inst_id", 0), params.get("language", ""), params.get("level", ""),
                 params.get("credits_x10", 0), params.get("match", ""), after_rank,
                 params.get("limit", 20), after_id)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1)]


def cmd_search(a):
    from urllib.parse import parse_qs, unquote_plus
    rng = random.Random(SEED)
    cl = Client(a.base)
    db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("PRAGMA cache_size=-32768")
    inst_ids = dict(db.execute("SELECT code, id FROM institutions"))

    def http_get(qs):
        t0 = time.perf_counter()
        st, _, body = cl.request("GET", "/api/v1/courses?" + qs)
        dt = time.perf_counter() - t0
        if st != 200:
            sys.exit("catalog.py: GET /api/v1/courses?%s: %d %s" % (qs, st, body[:300]))
        return dt, json.loads(body)

    def params_of(qs):
        p = {k: v[0] for k, v in parse_qs(qs, keep_blank_values=True).items()}
        out = {"limit": int(p.get("limit", 20))}
        if p.get("q"):
            out["match"] = search_query(p["q"])
        for k in ("language", "level", "after"):
            if k in p:
                out[k] = p[k]
        if "credits" in p:
            out["credits_x10"] = int(round(float(p["credits"]) * 10))
        if "institution" in p:
            out["inst_id"] = inst_ids[p["institution"]]
        return out

    # the request sequence: page 1, and for some queries page 2 with `after`
    weights = [q[1] for q in QUERIES]
    # warm the caches once with every query, as a running server would be
    for q, _, _ in QUERIES:
        http_get(q + ("&" if q else "") + "limit=20")
    seq, lat_http, hits = [], [], 0
    while len(seq) < a.requests:
        q, _, follow = rng.choices(QUERIES, weights)[0]
        qs = q + ("&" if q else "") + "limit=20"
        dt, body = http_get(qs)
        seq.append(qs)
        lat_http.append(dt)
        hits += len(body["courses"])
        if follow and body.get("next") and len(seq) < a.requests:
            qs2 = qs + "&after=" + body["next"]
            dt, body = http_get(qs2)
            seq.append(qs2)
            lat_http.append(dt)
            hits += len(body["courses"])

    # reference: the same statements straight on the database file
    lat_sql, rows_sql = [], 0
    stmts = [sql_for(params_of(qs)) for qs in seq]
    for sql, args in stmts[:len(QUERIES)]:
        db.execute(sql, args).fetchall()
    for sql, args in stmts:
        t0 = time.perf_counter()
        rows = db.execute(sql, args).fetchall()
        lat_sql.append(time.perf_counter() - t0)
        rows_sql += len(rows)

    # per query kind, to tell which ones are slow
    by = {}
    for qs, dt in zip(seq, lat_http):
        key = re.sub(r"&after=[^&]*", "&after=..", qs.replace("&limit=20", "").replace("limit=20", ""))
        by.setdefault(unquote_plus(key) or "(no filter)", []).append(dt)
    with open(a.out, "w") as f:
        for k, v in sorted(by.items(), key=lambda kv: -statistics.median(kv[1])):
            f.write("%-48s %5d %8.2f %8.2f\n" % (k[:48], len(v), 1000 * statistics.median(v),
                                                  1000 * max(v)))
    ms = lambda xs, p: 1000 * pct(xs, p)
    print("requests %d rows_http %d rows_sql %d" % (len(seq), hits, rows_sql))
    for name, xs in (("http", lat_http), ("sqlite3", lat_sql)):
        print("%s %.2f %.2f %.2f %.2f %.2f" % (name, ms(xs, 50), ms(xs, 95), ms(xs, 99),
                                               1000 * max(xs), 1000 * statistics.mean(xs)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("institutions")
    p.add_argument("n", type=int)
    p = sub.add_parser("load-api")
    p.add_argument("base")
    p.add_argument("first", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--password", required=True)
    p.add_argument("--institutions", type=int, default=50)
    p = sub.add_parser("load-sql")
    p.add_argument("db")
    p.add_argument("first", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--institutions", type=int, default=50)
    p = sub.add_parser("check-fold")
    p.add_argument("db")
    p = sub.add_parser("search")
    p.add_argument("base")
    p.add_argument("db")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "institutions":
        for code, name in institutions(a.n):
            print("%s\t%s" % (code, name))
    else:
        {"load-api": cmd_load_api, "load-sql": cmd_load_sql, "check-fold": cmd_check_fold,
         "search": cmd_search}[a.cmd](a)


if __name__ == "__main__":
    main()
