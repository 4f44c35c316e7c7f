#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-stage start-up breakdown from mini-sandbox's -D log.

usage: bench/stages.py [-n RUNS] [-F ALLOWLIST] BUILD_DIR

Runs `mini-sandbox -- true`, `mini-sandbox -x -- true` and
`mini-tapbox -x -- true` (and with -F, `mini-tapbox -x -F ALLOWLIST --
true`) RUNS times each (interleaved) with `-D FILE` and
prints, as a Markdown table, the median time of each stage: from the
CLOCK_MONOTONIC stamp of the line that opens it to the stamp of the line
that opens the next one.  The stages are those of doc/THEORY.md; a stage
whose opening line is missing in a run (mini-tapbox's network lines in
the other two) is left out of that run.  Lines of different processes
interleave: pid 1 and the launcher work at the same time after the clone,
so a stage's time is when its line came, not CPU spent on it alone.

Run it as an unprivileged user from a directory of your own.
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile

# (label, pattern of the line that opens the stage)
STAGES = [
    ("launcher: network plan", r"launcher: prepare network"),
    ("launcher: mount plan (host view: mountinfo, stats)", r"launcher: plan mounts"),
    ("launcher: seccomp filter (built in)", r"launcher: compile the seccomp filter"),
    ("launcher: clone (7 namespaces) → pid 1's first line", r"launcher: clone namespaces"),
    ("child: network stage", r"child: network stage$"),
    ("— open /dev/net/tun and the netlink sockets", r"net: open /dev/net/tun"),
    ("— hand the fds to the launcher", r"net: hand them to the launcher"),
    ("child: own uid/gid maps", r"child: network stage done; own uid/gid maps"),
    ("child: filesystem stage", r"child: filesystem stage"),
    ("child: task cap, Landlock ruleset", r"child: at most \d+ tasks|child: landlock ruleset"),
    ("child: tap0 and its rtnetlink set-up (when it falls to pid 1)",
     r"net: pid 1 creates tap0 and configures it"),
    ("child: wait for the launcher's NET_UP", r"net: wait for the launcher's NET_UP"),
    ("init: start the payload (clone VM|VFORK|NEWUSER)", r"child: set-up done; becoming init"),
    ("payload: nested maps", r"payload: nested user namespace"),
    ("payload: close fds, drop privileges", r"payload: fds closed; drop privileges"),
    ("payload: Landlock enforce", r"payload: capabilities dropped"),
    ("payload: seccomp load", r"payload: landlock ruleset enforced"),
    ("payload: report, exec `true`, its run", r"payload: seccomp filter loaded"),
    ("init: payload gone → kill, reap, exit; launcher wakes", r"init: payload exited"),
    ("launcher: network close, reports", r"launcher: sandbox exited with"),
]
# Intervals that overlap the stages above: (label, opening line, closing line).
PARALLEL = [
    ("in parallel — launcher: after the clone until it attaches the network",
     r"launcher: clone namespaces", r"launcher: attach network"),
    ("in parallel — launcher: nft batch built, waits for pid 1's fds",
     r"launcher: attach network", r"net: install the egress ruleset"),
    ("in parallel — launcher: nft batch + read-back through pid 1's socket",
     r"net: install the egress ruleset", r"net: relay, resolver, denial log"),
    ("in parallel — launcher: tap0 and its rtnetlink set-up (when it falls to the launcher)",
     r"net: create tap0 and configure it", r"net: NET_UP"),
    ("in parallel — launcher: from pid 1's fds to NET_UP",
     r"net: hand them to the launcher", r"net: NET_UP"),
    ("in parallel — launcher: libslirp loaded and started after NET_UP",
     r"net: load and start libslirp", r"net: libslirp started"),
]
LINE = re.compile(r"^(\d+\.\d+) \[(\d+)\] (.*)$")


def stage_times(log_text):
    """{label: ms} for one run; the first matching line opens a stage."""
    stamps = []
    for line in log_text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t, text = float(m.group(1)), m.group(3)
        for label, pattern in STAGES:
            if re.search(pattern, text) and label not in [x[0] for x in stamps]:
                stamps.append((label, t))
                break
    last = None
    for line in log_text.splitlines():
        m = LINE.match(line)
        if m:
            last = float(m.group(1))
    stamps.sort(key=lambda s: s[1])
    times = {}
    for i, (label, t) in enumerate(stamps):
        end = stamps[i + 1][1] if i + 1 < len(stamps) else last
        times[label] = (end - t) * 1000
    times["first line → last line"] = (last - stamps[0][1]) * 1000 if stamps else 0
    for label, start, end in PARALLEL:
        t0 = t1 = None
        for line in log_text.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            if t0 is None and re.search(start, m.group(3)):
                t0 = float(m.group(1))
            elif t0 is not None and t1 is None and re.search(end, m.group(3)):
                t1 = float(m.group(1))
        if t0 is not None and t1 is not None:
            times[label] = (t1 - t0) * 1000
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=30)
    ap.add_argument("-F", "--allowlist", help="also run mini-tapbox -x with this list")
    ap.add_argument("build")
    args = ap.parse_args()
    src = os.path.join(os.path.abspath(args.build), "src")
    commands = {
        "`-- true`": [os.path.join(src, "mini-sandbox"), "--", "true"],
        "`-x -- true`": [os.path.join(src, "mini-sandbox"), "-x", "--", "true"],
        "mini-tapbox `-x`": [os.path.join(src, "mini-tapbox"), "-x", "--", "true"],
    }
    if args.allowlist:
        commands["mini-tapbox `-x -F`"] = [os.path.join(src, "mini-tapbox"), "-x", "-F",
                                           os.path.abspath(args.allowlist), "--", "true"]
    results = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="msbx-stages.") as tmp:
        log = os.path.join(tmp, "debug.log")
        for _ in range(args.runs):
            for name, argv in commands.items():
                if os.path.exists(log):
                    os.unlink(log)
                argv = argv[:1] + ["-D", log] + argv[1:]
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                with open(log) as f:
                    results[name].append(stage_times(f.read()))
    names = list(commands)
    print("| stage | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label in ([s[0] for s in STAGES] + ["first line → last line"] +
                  [p[0] for p in PARALLEL]):
        cells = []
        for name in names:
            vals = [r[label] for r in results[name] if label in r]
            cells.append("%.2f" % statistics.median(vals) if vals else "")
        if any(cells):
            print("| %s | %s |" % (label, " | ".join(cells)))
    print("\nMedians of %d runs each (ms)." % args.runs)


if __name__ == "__main__":
    main()
