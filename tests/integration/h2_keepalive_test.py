"""h2_keepalive_test.py - an HTTP/2 connection is kept while the server
makes or sends a response on one of its streams.

lws 4.1.6 arms an HTTP/2 connection's idle timeout (idle-timeout) again
only when a frame arrives from the client, so a response that took longer
than that to compute or to send was cut with its connection: the
recognition batch between two groups under load, a sign-in hashing its
password, a large download read at the pace of a slow link (curl and the
browsers send no WINDOW_UPDATE for megabytes). server/http.c keeps the
connection at every DATA frame it writes and four times a second while a
job runs for one of its streams. Here with --idle-timeout 1:
  1. a sign-in whose scrypt (--password-cost 19) takes longer than a second;
  2. a 48 MiB static file read by curl at 8 MB/s (six seconds; curl's
     window is 32 MiB, so nothing comes from it for over two seconds).
Each case also checks that it really outlasted the idle timeout, so that
the test cannot pass without exercising it."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DataCli, sanitizer_clean, Server, Tap, TOP  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tinchi-h2k-")
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
gen = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
assert gen.returncode == 0, gen.stderr
web = os.path.join(tmp, "web")
shutil.copytree(os.path.join(TOP, "web"), web)
BIG = 48 << 20
with open(os.path.join(web, "big.bin"), "wb") as f:
    f.write(os.urandom(1 << 20) * (BIG >> 20))
data = os.path.join(tmp, "data")
cli = DataCli(data, "19")
rc, out, err = cli("institution", "add", "VNU", "--name", "Trường VNU", "--kind", "university")
assert rc == 0, err
cli.person("200000000001", "Học Viên 1", "learner", "VNU")
srv = Server("--password-cost", "19", "--tls-cert", cert, "--tls-key", key, "--http2", "on",
             "--idle-timeout", "1", web=web, data=data)
url = "https://127.0.0.1:%d" % srv.port


def curl(*args):
    p = subprocess.run(["curl", "-sS", "-k", "--http2", "--max-time", "60", "-w", "%{http_code} %{http_version} %{time_total}"]
                       + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    code, version, total = p.stdout.decode().rsplit("\n", 1)[-1].split(" ")[-3:]
    return p.returncode, code, version, float(total), p.stderr.decode("utf-8", "replace")


body = os.path.join(tmp, "body")
rc, code, version, took, err = curl("-o", body, "-H", "Content-Type: application/json", "--data-binary",
                                    json.dumps({"national_id": "200000000001", "password": "password-200000000001"}),
                                    url + "/api/v1/session")
t.ok(took > 1.2, "the sign-in's scrypt outlasts the 1 s idle timeout (%.2f s)" % took)
t.ok(rc == 0 and code == "200" and version == "2", "a sign-in longer than the idle timeout is answered over HTTP/2",
     (rc, code, version, err[-300:]))

rc, code, version, took, err = curl("-o", body, "--limit-rate", "8M", url + "/big.bin")
t.ok(took > 2.5, "the slow download outlasts the idle timeout (%.2f s)" % took)
t.ok(rc == 0 and code == "200" and version == "2" and os.path.getsize(body) == BIG,
     "a 48 MiB download read at 8 MB/s is not cut by the idle timeout",
     (rc, code, version, os.path.getsize(body) if os.path.exists(body) else None, err[-300:]))

rc, log = srv.stop()
t.ok(sanitizer_clean(log), "no sanitizer report", [x for x in log.splitlines() if "Sanitizer" in x][:5])
shutil.rmtree(tmp, ignore_errors=True)
t.done()
