"""scripts/bench/recognition.py - the HTTP side of scripts/bench/recognition.sh.

  recognition.py PORT LEARNERS QUERIES BATCH [SERVER_PID]

Signs in as HOST's admin (001000000002), then:
  - single: QUERIES random learners, one GET /api/v1/recognition/HOST/learners/{id}
    each on one keep-alive connection, cold (first time each credential is
    verified), then the same learners again (warm: verification from the
    cache); client-side latency p50/p99 of each pass; then "warm8": the
    same learners again from 8 connections at once (8 client threads);
  - batch: BATCH random learners (not the ones above) in one POST
    .../learners:batch, wall time until the first line and the last, lines
    checked: cold, then the same batch again (warm).
With SERVER_PID, each pass also gives the server's CPU time (user + system,
/proc/PID/stat), which a shared machine's load does not inflate as it does
wall time, and two optional probes (both need `perf` and SERVER_PID):
  - SYNC_TRACE=FILE: `perf trace` of the server's fsync/fdatasync calls during
    the warm single pass into FILE, summed per file (the database file's syncs
    are WAL checkpoints; the WAL's are commits): count, total and max ms;
  - PERF_OUT=FILE: `perf record -g` of the server during the cold batch.
  - PERF_WARM_OUT=FILE: `perf record -g` of the server during the warm
    single-query pass.
Prints one "key value" line per measure."""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

port, learners, queries, batch = (int(a) for a in sys.argv[1:5])
server_pid = int(sys.argv[5]) if len(sys.argv) > 5 else 0


def cpu():
    """The server's CPU seconds so far (0 without its pid)."""
    if not server_pid:
        return 0.0
    with open("/proc/%d/stat" % server_pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.getheaders(), r.read()


st, h, d = call("POST", "/api/v1/session", json.dumps({"national_id": "001000000002",
                                                       "password": "bench-admin-password"}),
                {"Content-Type": "application/json"})
assert st == 200, d
cookie = [v for k, v in h if k.lower() == "set-cookie"][0].split(";")[0]
csrf = json.loads(d)["csrf_token"]
auth = {"Cookie": cookie}

rng = random.Random(8)
picked = rng.sample(range(learners), queries + batch)
single, rest = picked[:queries], picked[queries:]


def nid(i):
    return "%012d" % (300000000000 + i)


def probe(env, args):
    """Starts perf ARGS on the server when the environment names ENV's file."""
    out = os.environ.get(env)
    if not out or not server_pid:
        return None
    p = subprocess.Popen(["perf"] + args + ["-o", out, "-p", str(server_pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)     # perf attaches to every thread before the pass
    return p


def probe_stop(p):
    if p:
        p.send_signal(signal.SIGINT)
        p.wait()


def sync_summary(path):
    """Per file the server synced during the traced pass: count, total, max ms."""
    per, tids = {}, {}
    with open(path) as f:
        for line in f:
            if "sync(fd: " not in line or "(" not in line:
                continue
            try:
                ms = float(line.split("(", 1)[1].split("ms)", 1)[0])
                fd = int(line.split("fd: ", 1)[1].split(")", 1)[0].split(",")[0])
                tid = line.split("ms): ", 1)[1].split()[0]
            except (ValueError, IndexError):
                continue
            per.setdefault(fd, []).append(ms)
            tids.setdefault(fd, set()).add(tid)
    for fd, v in sorted(per.items()):
        try:
            name = os.readlink("/proc/%d/fd/%d" % (server_pid, fd))
        except OSError:
            name = "fd%d" % fd
        kind = "wal" if name.endswith("-wal") else "db" if name.endswith(".db") else "other"
        v.sort()
        print("sync_%s %s count %d total_ms %.1f p50_ms %.2f p99_ms %.2f max_ms %.2f threads %s" %
              (kind, os.path.basename(name), len(v), sum(v), v[len(v) // 2],
               v[min(len(v) - 1, int(len(v) * 0.99))], v[-1], ",".join(sorted(tids[fd]))))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


creds = recognised = 0
for name in ("cold", "warm"):
    lat = []
    starts = []
    cached = 0
    c0 = cpu()
    tracer = probe("SYNC_TRACE", ["trace", "-e", "fdatasync,fsync"]) if name == "warm" else None
    rec = probe("PERF_WARM_OUT", ["record", "-g", "-F", "999"]) if name == "warm" else None
    for i in single:
        t0 = time.perf_counter()
        st, h, d = call("GET", "/api/v1/recognition/HOST/learners/" + nid(i), headers=auth)
        lat.append((time.perf_counter() - t0) * 1000)
        starts.append(t0)
        assert st == 200, (st, d[:300])
        j = json.loads(d)
        if name == "cold":
            creds += len(j["credentials"])
            recognised += j["totals"]["recognised"]
            assert all(c["verification"]["verified"] for c in j["credentials"]), d[:500]
        cached += sum(1 for c in j["credentials"] if c["verification"]["cached"])
    probe_stop(tracer)
    probe_stop(rec)
    if tracer:
        sync_summary(os.environ["SYNC_TRACE"])
    print("single_%s_cpu_ms %.3f" % (name, (cpu() - c0) * 1000 / len(single)))
    print("single_%s_p50_ms %.3f" % (name, pct(lat, 50)))
    print("single_%s_p99_ms %.3f" % (name, pct(lat, 99)))
    print("single_%s_cached %d" % (name, cached))
    # the slowest 1 %: when in the pass (ms from its start) and how long
    slow = sorted(range(len(lat)), key=lambda k: -lat[k])[:max(1, len(lat) // 100)]
    print("single_%s_slowest %s" % (name, " ".join(
        "%.0f:%.1f" % ((starts[k] - starts[0]) * 1000, lat[k]) for k in sorted(slow))))
# warm again, 8 connections at once (what group commit shares)
lat8 = []
lock = threading.Lock()


def worker(part):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    mine = []
    for i in part:
        t0 = time.perf_counter()
        c.request("GET", "/api/v1/recognition/HOST/learners/" + nid(i), headers=auth)
        r = c.getresponse()
        r.read()
        mine.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200
    with lock:
        lat8.extend(mine)


c0, t0 = cpu(), time.perf_counter()
threads = [threading.Thread(target=worker, args=(single[k::8],)) for k in range(8)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("single_warm8_p50_ms %.3f" % pct(lat8, 50))
print("single_warm8_p99_ms %.3f" % pct(lat8, 99))
print("single_warm8_qps %.0f" % (len(lat8) / (time.perf_counter() - t0)))
print("single_warm8_cpu_ms %.3f" % ((cpu() - c0) * 1000 / len(lat8)))
print("single_credentials %d" % creds)
print("single_recognised %d" % recognised)

body = json.dumps([nid(i) for i in rest]).encode()
for name in ("cold", "warm"):
    rec = probe("PERF_OUT", ["record", "-g", "-F", "499"]) if name == "cold" else None
    conn.close()    # a new connection: the server may have closed an idle one
    c0, t0 = cpu(), time.perf_counter()
    conn.request("POST", "/api/v1/recognition/HOST/learners:batch", body,
                 dict(auth, **{"Content-Type": "application/json", "X-CSRF-Token": csrf}))
    r = conn.getresponse()
    first = r.readline()
    first_ms = (time.perf_counter() - t0) * 1000
    d = first + r.read()
    ms = (time.perf_counter() - t0) * 1000
    probe_stop(rec)
    assert r.status == 200, (r.status, d[:300])
    lines = [json.loads(x) for x in d.decode().splitlines()]
    assert len(lines) == len(rest) + 1 and all(x.get("status") == 200 for x in lines[:-1]), lines[-1]
    print("batch_%s_first_line_ms %.0f" % (name, first_ms))
    print("batch_%s_ms %.0f" % (name, ms))
    print("batch_%s_cpu_s %.2f" % (name, cpu() - c0))
print("batch_learners %d" % len(rest))
print("batch_credentials %d" % sum(len(x["credentials"]) for x in lines[:-1]))
print("batch_recognised %d" % sum(x["totals"]["recognised"] for x in lines[:-1]))
print("batch_bytes %d" % len(d))
