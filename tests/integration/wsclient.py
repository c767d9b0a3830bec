"""wsclient.py - a small RFC 6455 WebSocket client on the standard library.

Enough for tests: handshake with a subprotocol and extra headers, over TCP
or TLS (certificate not checked), masked text/binary/ping frames, reading
frames (including the server's pings and close frames).
"""
import base64
import hashlib
import os
import socket
import ssl
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeError(Exception):
    def __init__(self, status, raw):
        super().__init__("handshake refused: %r" % raw[:200])
        self.status = status
        self.raw = raw


class WebSocket:
    def __init__(self, port, path="/ws", protocol="tinchi.v1", timeout=10, rcvbuf=None,
                 headers=None, tls=False):
        """HEADERS: extra request headers, e.g. {"Cookie": ..., "Origin": ...};
        a "Host" among them replaces the default 127.0.0.1:PORT."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["http/1.1"])
            self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16))
        extra = dict(headers or {})
        host = extra.pop("Host", "127.0.0.1:%d" % port)
        req = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
               b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n")
        if protocol:
            req += b"Sec-WebSocket-Protocol: " + protocol.encode() + b"\r\n"
        for k, v in extra.items():
            req += k.encode() + b": " + v.encode("latin-1") + b"\r\n"
        self.sock.sendall(req + b"\r\n")
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
        if status != 101:
            # read the rest of the refusal
            try:
                while True:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        break
                    self.buf += chunk
            except OSError:
                pass
            self.sock.close()
            raise HandshakeError(status, head + b"\r\n\r\n" + self.buf)
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise HandshakeError(status, head)

    def send_frame(self, opcode, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = _xor_mask(payload, mask)
        self.sock.sendall(hdr + mask + masked)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by peer")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """Returns (opcode, payload bytes, fin)."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        if b1 & 0x80:
            mask = self._read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
        else:
            data = self._read(n)
        return b0 & 0x0F, data, bool(b0 & 0x80)

    def recv_message(self, answer_pings=True):
        """Next data message as (opcode, bytes); pings are answered, pongs skipped.
        A close frame returns (OP_CLOSE, payload)."""
        while True:
            op, data, fin = self.recv_frame()
            if op == OP_PING:
                if answer_pings:
                    self.send_frame(OP_PONG, data)
                continue
            if op == OP_PONG:
                continue
            return op, data

    def close(self, code=1000):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self.sock.close()


def _xor_mask(data, mask):
    """DATA XOR the repeated 4-byte MASK (fast enough for megabytes)."""
    n = len(data)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
