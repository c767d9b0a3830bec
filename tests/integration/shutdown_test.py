"""shutdown_test.py - SIGTERM and SIGINT: in-flight responses finish, new
connections are refused, the database is closed cleanly, exit status 0."""
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, parse_response, sanitizer_clean  # noqa: E402

t = Tap()
web = tempfile.mkdtemp(prefix="tinchi-web-")
size = 8 * 1024 * 1024
with open(os.path.join(web, "big.bin"), "wb") as f:
    f.write(os.urandom(1024) * (size // 1024))

data_dir = os.path.join(tempfile.mkdtemp(prefix="tinchi-data-"), "data")
srv = Server(data=data_dir, web=web)

# A slow reader has an 8 MiB download in flight (more than the socket buffers
# hold, so most of it is still to send) when SIGTERM arrives.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(20)
s.connect(("127.0.0.1", srv.port))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
got = s.recv(65536)
time.sleep(0.3)
srv.signal(signal.SIGTERM)
time.sleep(0.5)
t.ok(srv.proc.poll() is None, "the server waits for the in-flight response")

# while draining, a new connection is refused with 503 (or not accepted at all)
try:
    c = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        raw += chunk
    c.close()
    st, h, body = parse_response(raw)
    t.ok(st in (503, None), "a new connection while draining gets 503 or nothing", raw[:200])
except (ConnectionRefusedError, ConnectionResetError):
    t.ok(True, "a new connection while draining is refused")

while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    got += chunk
s.close()
head, _, body = got.partition(b"\r\n\r\n")
t.eq(len(body), size, "the in-flight download completed in full after SIGTERM")
code = srv.wait(30)
t.eq(code, 0, "exit status 0 after SIGTERM")
code, log = srv.stop()
t.ok("shutting down" in log and "stopped" in log, "shutdown is logged")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-2000:])

# SIGINT with the database reopened: clean close leaves no WAL behind
srv = Server(data=data_dir, web=web)
st, h, body = srv.request("GET", "/healthz")
t.eq(st, 200, "restart on the same data folder works")
t.ok("applied schema migration" not in srv.read_log(), "the restart found the database already migrated")
srv.signal(signal.SIGINT)
t.eq(srv.wait(15), 0, "exit status 0 after SIGINT")
wal = os.path.join(data_dir, "tinchi.db-wal")
t.ok(not os.path.exists(wal) or os.path.getsize(wal) == 0, "the WAL was checkpointed on close")
code, log = srv.stop()
t.ok(sanitizer_clean(log), "no sanitizer report after SIGINT", log[-2000:])

shutil.rmtree(web, ignore_errors=True)
shutil.rmtree(os.path.dirname(data_dir), ignore_errors=True)
t.done()
