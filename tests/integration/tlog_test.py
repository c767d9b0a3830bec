#!/usr/bin/env python3
"""tlog_test.py - the transparency log end to end: entries appended with
`tinchi log append`, then the public /log routes of the real server, every
answer verified here independently (hashlib for RFC 9162 leaf/node hashes,
inclusion and consistency proofs; Ed25519 of the C2SP note with the
`cryptography` package), bad parameters answered 400, and `tinchi log
audit` naming a single altered byte in the database."""
import base64
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DataCli, Server, Tap  # noqa: E402

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    Ed25519PublicKey = None


def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, root1, root2, proof):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not proof and root1 == root2
    if first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [root1] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


def open_note(note, vkey):
    """The checkpoint (origin, size, root) of a C2SP note signed by VKEY, or None."""
    name, keyid_hex, keyb64 = vkey.split("+", 2)
    key = base64.b64decode(keyb64)
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        return None
    text += "\n"
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            return None
        sname, sig = line[2:].split(" ")
        raw = base64.b64decode(sig)
        if sname != name or raw[:4] != bytes.fromhex(keyid_hex):
            continue
        want_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
        if want_id != raw[:4] or key[0] != 1:
            return None
        Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text.encode())
        good = True
    if not good:
        return None
    origin, size, root = text.splitlines()[:3]
    return origin, int(size), base64.b64decode(root)


def main():
    t = Tap()
    if Ed25519PublicKey is None:
        t.skip_all("the python cryptography package is not installed")
    tmp = tempfile.mkdtemp(prefix="tinchi-tlog-")
    data = os.path.join(tmp, "data")
    cli = DataCli(data)
    hashes = ["sha256:" + hashlib.sha256(b"credential %d" % i).hexdigest() for i in range(13)]
    idx = []
    for h in hashes:
        rc, out, err = cli("log", "append", "--kind", "issue", "--hash", h,
                           "--issuer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                           "--time", "1767225600")
        idx.append(int(out) if rc == 0 else -1)
    t.eq(idx, list(range(13)), "13 entries appended, indexes 0..12")
    rc, out, err = cli("log", "append", "--kind", "issue", "--hash", "sha256:XYZ",
                       "--issuer", "did:key:z")
    t.ok(rc == 2 and "hash" in err, "a malformed hash is refused", err)
    rc, out, err = cli("log", "audit")
    t.ok(rc == 0 and "13 leaves" in out, "audit before any checkpoint: consistent", out + err)

    srv = Server("--log-origin", "tinchi.test/log", "--log-batch", "4",
                 "--log-interval-ms", "200", data=data)
    try:
        st, h, body = srv.request("GET", "/log/key")
        vkey = body.decode().strip()
        t.ok(st == 200 and vkey.startswith("tinchi.test/log+"), "GET /log/key: the verifier key", vkey)
        st, h, body = srv.request("GET", "/log/checkpoint")
        t.eq(st, 200, "GET /log/checkpoint")
        t.ok(h.get("content-type", "").startswith("text/plain"), "as text/plain")
        cp = open_note(body.decode(), vkey)
        t.ok(cp is not None and cp[0] == "tinchi.test/log" and cp[1] == 13,
             "the checkpoint is signed by the log key (Ed25519, verified here) for 13 leaves", cp)

        st, h, leaves = srv.json("GET", "/log/leaves?start=0&end=13")
        entries = [x["entry"].encode() for x in leaves["leaves"]] if st == 200 else []
        t.eq(len(entries), 13, "GET /log/leaves gives all 13")
        lh = [leaf_hash(e) for e in entries]
        t.ok(cp and mth(lh) == cp[2], "the root recomputed here from the leaves is the checkpoint's")
        t.ok(all(b'"kind":"issue"' in e for e in entries) and
             entries[3] == ('{"hash":"%s","issuer":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",'
                            '"kind":"issue","time":"2026-01-01T00:00:00Z"}' % hashes[3]).encode(),
             "entries are canonical JSON of kind, hash, issuer, time", entries[3])

        good = True
        for i in (0, 5, 12):
            st, h, p = srv.json("GET", "/log/proof?hash=" + hashes[i])
            proof = [base64.b64decode(x) for x in p["proof"]] if st == 200 else []
            if not (st == 200 and p["index"] == i and p["size"] == 13 and
                    leaf_hash(p["entry"].encode()) == lh[i] and
                    verify_inclusion(i, 13, lh[i], proof, cp[2]) and
                    open_note(p["checkpoint"], vkey) == cp):
                good = False
            if i == 5 and proof:
                bad = list(proof)
                bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
                t.ok(not verify_inclusion(i, 13, lh[i], bad, cp[2]), "an altered proof fails here")
        t.ok(good, "inclusion proofs verify here against the signed root")

        # more entries while serving: a new checkpoint within the interval
        for j in range(13, 18):
            hashes.append("sha256:" + hashlib.sha256(b"credential %d" % j).hexdigest())
            cli("log", "append", "--kind", "issue", "--hash", hashes[-1], "--issuer", "did:key:z6Mkx")
        cli("log", "append", "--kind", "revoke", "--hash", hashes[2], "--issuer", "did:key:z6Mkx")
        cp2 = None
        for _ in range(100):
            st, h, body = srv.request("GET", "/log/checkpoint")
            cp2 = open_note(body.decode(), vkey)
            if cp2 and cp2[1] == 19:
                break
            time.sleep(0.05)
        t.ok(cp2 and cp2[1] == 19, "a new signed checkpoint covers the new entries", cp2)
        st, h, leaves = srv.json("GET", "/log/leaves?start=13&end=19")
        lh2 = lh + [leaf_hash(x["entry"].encode()) for x in leaves["leaves"]]
        t.ok(mth(lh2) == cp2[2], "its root recomputed here")
        ok_all = True
        for first in (1, 4, 7, 13):
            st, h, c = srv.json("GET", "/log/consistency?first=%d&second=19" % first)
            proof = [base64.b64decode(x) for x in c["proof"]] if st == 200 else []
            if not (st == 200 and verify_consistency(first, 19, mth(lh2[:first]), cp2[2], proof)):
                ok_all = False
        t.ok(ok_all, "consistency proofs from 1, 4, 7, 13 to 19 verify here")
        st, h, p = srv.json("GET", "/log/proof?hash=%s&size=13" % hashes[2])
        t.ok(st == 200 and p["size"] == 13 and p["index"] == 2, "a proof in an older checkpoint by size")

        for path, what in (("/log/proof?hash=sha256:12", "a short hash"),
                           ("/log/proof", "no hash"),
                           ("/log/proof?hash=%s&size=x" % hashes[0], "a size that is not a number"),
                           ("/log/consistency?first=0", "first 0"),
                           ("/log/consistency?first=5&second=3", "first above second"),
                           ("/log/consistency?first=1&second=999", "second beyond the log"),
                           ("/log/leaves?start=0", "no end"),
                           ("/log/leaves?start=0&end=1001", "more than 1000 leaves"),
                           ("/log/leaves?start=5&end=5", "an empty range"),
                           ("/log/leaves?start=0&end=999", "beyond the checkpoint")):
            st, h, b = srv.json("GET", path)
            t.ok(st == 400 and b and b.get("detail"), "400 with a reason for " + what, (st, b))
        st, h, b = srv.json("GET", "/log/proof?hash=sha256:" + "0" * 64)
        t.eq(st, 404, "an unknown credential hash: 404")
        st, h, b = srv.json("GET", "/log/proof?hash=%s&size=7" % hashes[0])
        t.eq(st, 404, "no checkpoint of that size: 404")
    finally:
        srv.stop()

    rc, out, err = cli("log", "audit")
    t.ok(rc == 0 and "19 leaves" in out, "audit of the served log: consistent", out + err)

    def tampered(sql, name, want):
        copy = os.path.join(tmp, "copy")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(data, copy)
        db = sqlite3.connect(os.path.join(copy, "tinchi.db"))
        for trig in ("log_leaves_append_only", "log_checkpoints_fixed", "log_subtrees_append_only",
                     "log_issuers_fixed"):
            db.execute("DROP TRIGGER " + trig)
        db.execute(sql)
        db.commit()
        db.close()
        rc, out, err = DataCli(copy)("log", "audit")
        t.ok(rc == 1 and want in out, name, out + err)

    # leaves are stored as their entries' fields (migration 18); leaf
    # hashes and subtrees under 16 leaves are computed, so a changed leaf
    # shows in the first checkpoint or stored subtree that covers it (here
    # the checkpoint of 13 leaves comes first)
    tampered("UPDATE log_leaves SET time = time + 86400 WHERE idx = 7",
             "one day added to leaf 7's time: audit names the first checkpoint over it",
             "checkpoint of size 13: its stored root is not the root of the first 13 leaves")
    tampered("UPDATE log_leaves SET subject = zeroblob(32) WHERE idx = 2",
             "leaf 2's subject zeroed: audit names the first checkpoint over it",
             "checkpoint of size 13: its stored root is not the root")
    tampered("UPDATE log_leaves SET kind = 1 - kind WHERE idx = 17",
             "leaf 17's kind flipped (no stored subtree above it): a checkpoint's root differs",
             "its stored root is not the root")
    tampered("UPDATE log_leaves SET issuer_id = 99 WHERE idx = 4",
             "leaf 4's issuer row gone: audit names leaf 4", "leaf 4: its entry is not a canonical")
    tampered("UPDATE log_subtrees SET hash = zeroblob(32) WHERE level = 4 AND idx = 0",
             "an altered subtree: audit names it", "subtree level 4 index 0")
    tampered("DELETE FROM log_subtrees WHERE level = 4 AND idx = 0",
             "a removed subtree: audit names it", "subtree level 4 index 0 (leaves 0 to 15): missing")
    tampered("UPDATE log_checkpoints SET note = replace(note, char(10) || '13' || char(10),"
             " char(10) || '14' || char(10)) WHERE size = 13",
             "an altered checkpoint note: audit names it", "checkpoint of size 13")
    tampered("UPDATE log_checkpoints SET root = zeroblob(32) WHERE size = 19",
             "an altered checkpoint root: audit names it", "checkpoint of size 19")

    # one byte of the database FILE changed (not through SQL): the copy of a
    # field's bytes in the table's page, found by its value, gets one bit
    # flipped; the audit reads nothing else
    def flipped(value, read_back, name, want):
        copy = os.path.join(tmp, "copy")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(data, copy)
        db = sqlite3.connect(os.path.join(copy, "tinchi.db"))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        path = os.path.join(copy, "tinchi.db")
        raw = bytearray(open(path, "rb").read())
        at, done = raw.find(value), False
        while at >= 0 and not done:
            raw[at + len(value) // 2] ^= 0x04
            open(path, "wb").write(raw)
            db = sqlite3.connect(path)
            try:
                done = db.execute(read_back).fetchone()[0] != value
            except sqlite3.DatabaseError:
                done = False
            db.close()
            if not done:	# an index's copy: put it back, try the next one
                raw[at + len(value) // 2] ^= 0x04
                open(path, "wb").write(raw)
                at = raw.find(value, at + 1)
        rc, out, err = DataCli(copy)("log", "audit")
        t.ok(done and rc == 1 and want in out, name, (done, out + err))

    db = sqlite3.connect(os.path.join(data, "tinchi.db"))
    subj5 = db.execute("SELECT subject FROM log_leaves WHERE idx = 5").fetchone()[0]
    note13 = db.execute("SELECT note FROM log_checkpoints WHERE size = 13").fetchone()[0]
    db.close()
    flipped(bytes(subj5), "SELECT subject FROM log_leaves WHERE idx = 5",
            "one bit of leaf 5's subject flipped in the file: audit names the first checkpoint over it",
            "checkpoint of size 13: its stored root is not the root")
    sig = note13.encode()[-40:-10]	# inside the signature line's base64
    flipped(sig, "SELECT substr(CAST(note AS BLOB), -40, 30) FROM log_checkpoints WHERE size = 13",
            "one bit of checkpoint 13's signature flipped in the file: audit names it",
            "checkpoint of size 13")
    shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
