"""A stub DNS server on 127.0.0.1 for the tests that pass it as --resolver.

RECORDS maps a name to its answers: plain address strings (A or AAAA by
their form, TTL 30) or (qtype, address, ttl) tuples.  Names not in RECORDS
get NXDOMAIN, unless SYNTH (a function of the name and qtype) returns their
records: many distinct names with distinct answers without a table.  Every
query is recorded in .queries as (name, qtype), so a test can assert that a
name never left the sandbox (keep_queries=False: only counted, in .count).
"""
import socket
import struct
import threading


def _read_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(labels).lower(), off + 1
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def _record(rr):
    if isinstance(rr, str):
        return (28 if ":" in rr else 1, rr, 30)
    return rr


class StubResolver:
    def __init__(self, records, synth=None, keep_queries=True):
        self.records = {k.lower(): [_record(rr) for rr in v] for k, v in records.items()}
        self.synth = synth
        self.keep_queries = keep_queries
        self.count = 0
        self.queries = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        """ADDR:PORT for --resolver."""
        return "127.0.0.1:%d" % self.port

    def seen(self, needle):
        with self.lock:
            return [q for q in self.queries if needle in q[0]]

    def _answer(self, q):
        name, off = _read_name(q, 12)
        qtype, = struct.unpack(">H", q[off:off + 2])
        with self.lock:
            self.count += 1
            if self.keep_queries:
                self.queries.append((name, qtype))
        question = q[12:off + 4]
        records = self.records.get(name)
        if records is None and self.synth:
            records = self.synth(name, qtype)
        if records is None:
            return q[:2] + b"\x81\x83" + struct.pack(">HHHH", 1, 0, 0, 0) + question
        rrs = []
        for rtype, addr, ttl in records:
            if rtype != qtype:
                continue
            fam = socket.AF_INET6 if rtype == 28 else socket.AF_INET
            data = socket.inet_pton(fam, addr)
            rrs.append(b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, ttl, len(data)) + data)
        return (q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, len(rrs), 0, 0) + question +
                b"".join(rrs))

    def _serve(self):
        while not self.stopping:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(q), peer)
            except (ValueError, IndexError, struct.error):
                pass

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()
