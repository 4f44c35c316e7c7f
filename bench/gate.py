#!/usr/bin/env python3
"""What the relay's name gate (issue 13) adds to a connection, side by side.

Two mini-tapbox set-ups reach the same netns test host (198.18.0.10:80,
tests/integration/testhosts.sh) in alternating rounds:

  ip     --allow 198.18.0.10:80        an IP entry: no name check
  name   --allow alpha.msbx.test:80    a domain entry: the gate holds the
                                       request until sniff.c found its Host

Inside, one Python process makes N connections in a row and times each from
connect() to the first byte of the answer (the gate sits between the
guest's first bytes and the upstream).  Prints the median per round and the
median of the paired ratios name/ip.  The name resolves through a stub
resolver on 127.0.0.1 (tests/integration/stubdns.py).

usage: bench/gate.py [BUILD_DIR]  (as an unprivileged user, test hosts up;
ROUNDS and CONNS in the environment; run from a directory of your own)
"""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from stubdns import StubResolver  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
TAPBOX = os.path.join(BUILD, "src", "mini-tapbox")
ROUNDS = int(os.environ.get("ROUNDS", "7"))
CONNS = int(os.environ.get("CONNS", "200"))
HOST, ADDR = "alpha.msbx.test", "198.18.0.10"

PAYLOAD = r"""
import socket, statistics, sys, time
addr, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode()
times = []
for _ in range(n):
    t = time.perf_counter()
    s = socket.create_connection((addr, 80), timeout=5)
    s.sendall(req)
    if not s.recv(1):
        sys.exit("no answer")
    times.append((time.perf_counter() - t) * 1e6)
    s.close()
print(statistics.median(times))
"""


def round_us(dns, entry):
    p = subprocess.run([TAPBOX, "-x", "--resolver", dns.addr, "--allow", entry, "--",
                        sys.executable, "-c", PAYLOAD, ADDR, HOST, str(CONNS)],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("mini-tapbox --allow %s: %s" % (entry, p.stderr.strip()))
    return float(p.stdout.split()[-1])


def main():
    dns = StubResolver({HOST: [ADDR]})
    try:
        ip, name = [], []
        for _ in range(ROUNDS):
            ip.append(round_us(dns, "%s:80" % ADDR))
            name.append(round_us(dns, "%s:80" % HOST))
    finally:
        dns.close()
    ratios = [n / i for n, i in zip(name, ip)]
    load = os.getloadavg()[0]
    print("| set-up | median connect → first byte, µs (per round) |")
    print("|---|---|")
    print("| ip entry (no gate) | %s |" % " ".join("%.0f" % x for x in ip))
    print("| domain entry (gate) | %s |" % " ".join("%.0f" % x for x in name))
    print("gate / no gate, paired per round: median %.3f [%.3f–%.3f]; "
          "%d rounds of %d connections; load average %.2f"
          % (statistics.median(ratios), min(ratios), max(ratios), ROUNDS, CONNS, load))
    print(json.dumps({"ip": ip, "name": name, "ratios": ratios, "load": load}))


if __name__ == "__main__":
    main()
