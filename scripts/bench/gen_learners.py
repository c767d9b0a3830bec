#!/usr/bin/env python3
"""Generate a learner import file (courses/learners_csv.h format).

    python3 scripts/bench/gen_learners.py N [--bad K] [--seed S] > file.csv

Writes a header and N learner rows: unique random 12-digit national IDs,
Vietnamese names with diacritics, dates of birth, e-mail addresses and
student codes. With --bad K, K of the rows (never the first) are made
invalid, each in exactly one way, cycling through the kinds in BAD_KINDS, so
a validator should report exactly K errors on K distinct rows. The output is
the same for the same N, K and seed. Standard library only.
"""

import argparse
import csv
import datetime
import random
import sys
import unicodedata

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
          "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc",
          "Thu", "Xuân", "Gia", "Bảo"]
GIVEN = ["Anh", "Ánh", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải",
         "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Ngân", "Phúc", "Phương", "Quân",
         "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trí", "Tú",
         "Tuấn", "Uyên", "Việt", "Vy", "Yến"]

HEADER = ["national_id", "full_name", "date_of_birth", "email", "student_code"]

# Ways to spoil a row; each gives exactly one error.
BAD_KINDS = [
    "id_short",        # 11 digits
    "id_long",         # 13 digits
    "id_letter",       # a letter among the digits
    "id_duplicate",    # the ID of an earlier valid row
    "name_empty",      # full_name missing
    "name_control",    # a tab inside the name
    "date_calendar",   # 30 February
    "date_future",     # a date far in the future
    "date_shape",      # 15/03/2001
    "email_no_at",
    "email_two_at",
    "code_space",      # a space in the student code
    "field_count",     # a field missing
]


def ascii_fold(text):
    """Vietnamese text without diacritics, lower case, for e-mail addresses."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def unique_ids(rng, n):
    seen = set()
    out = []
    while len(out) < n:
        v = rng.randrange(10 ** 11, 10 ** 12)
        if v not in seen:
            seen.add(v)
            out.append("%012d" % v)
    return out


FOLDED = {w: ascii_fold(w) for w in FAMILY + GIVEN}
DOB_FIRST = datetime.date(1960, 1, 1).toordinal()
DOB_DAYS = datetime.date(2008, 12, 31).toordinal() - DOB_FIRST + 1


def make_row(rng, national_id, index):
    family, middle, given = rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)
    name = "%s %s %s" % (family, middle, given)
    dob = datetime.date.fromordinal(DOB_FIRST + rng.randrange(DOB_DAYS))
    email = "%s.%s%d@example.edu.vn" % (FOLDED[given], FOLDED[family], index)
    code = "SV%08d" % (index + 1)
    return [national_id, name, dob.isoformat(), email, code]


def spoil(row, kind, last_good_id):
    if kind == "id_short":
        row[0] = row[0][:11]
    elif kind == "id_long":
        row[0] = row[0] + "7"
    elif kind == "id_letter":
        row[0] = row[0][:5] + "O" + row[0][6:]
    elif kind == "id_duplicate":
        row[0] = last_good_id
    elif kind == "name_empty":
        row[1] = ""
    elif kind == "name_control":
        row[1] = row[1].replace(" ", "\t", 1)
    elif kind == "date_calendar":
        row[2] = "2001-02-30"
    elif kind == "date_future":
        row[2] = "2999-01-01"
    elif kind == "date_shape":
        row[2] = "15/03/2001"
    elif kind == "email_no_at":
        row[3] = row[3].replace("@", ".at.")
    elif kind == "email_two_at":
        row[3] = row[3].replace("@", "@@")
    elif kind == "code_space":
        row[4] = row[4][:2] + " " + row[4][2:]
    elif kind == "field_count":
        del row[4]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of learner rows")
    ap.add_argument("--bad", type=int, default=0, metavar="K",
                    help="make K rows invalid (one error each)")
    ap.add_argument("--seed", type=int, default=1, metavar="S")
    args = ap.parse_args()
    if args.n < 0 or args.bad < 0:
        ap.error("N and K must not be negative")
    if args.bad > max(args.n - 1, 0):
        ap.error("K must be less than N (the first row is always valid)")

    rng = random.Random(args.seed)
    ids = unique_ids(rng, args.n)
    bad_rows = sorted(rng.sample(range(1, args.n), args.bad)) if args.bad else []
    bad_kind = {r: BAD_KINDS[i % len(BAD_KINDS)] for i, r in enumerate(bad_rows)}

    sys.stdout.reconfigure(encoding="utf-8")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(HEADER)
    last_good_id = None
    for i in range(args.n):
        row = make_row(rng, ids[i], i)
        kind = bad_kind.get(i)
        if kind:
            spoil(row, kind, last_good_id)
        else:
            last_good_id = row[0]
        out.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
