#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sandbox_self.py — a Python program that sandboxes itself with pyminisandbox.

    python3 examples/sandbox_self.py [ALLOWLIST-ENTRY ...]

Run it from a project directory: after start() it may write there, not to
$HOME, and reach only the network entries given ("pypi.org:443"), none by
default.  It also shows run(): one command sandboxed while we stay outside.
"""
import os
import sys

import pyminisandbox


def main():
    # 1. One command, sandboxed, like subprocess.run.
    r = pyminisandbox.run(["sh", "-c", "echo hello from $(hostname); id -un"],
                          capture_output=True, text=True, timeout=60)
    print("run():", r.returncode, r.stdout.split())

    # 2. The rest of this program.
    sb = pyminisandbox.Sandbox()            # mini-sandbox -x
    for entry in sys.argv[1:]:
        sb.allow(entry)
    try:
        sb.start()
    except pyminisandbox.SandboxError as e:
        print("sandbox_self: %s (error %d)" % (e.message, e.code), file=sys.stderr)
        return 125                          # nothing ran unsandboxed

    print("inside the sandbox:", pyminisandbox.is_running(), "pid", os.getpid())
    with open("sandbox_self.out", "w") as f:
        f.write("persists in the project directory\n")
    home = os.path.expanduser("~")
    try:
        with open(os.path.join(home, "sandbox_self.out"), "w") as f:
            f.write("scratch\n")
        print("wrote to", home, "(a scratch home: vanishes at exit)")
    except OSError as e:
        print("cannot write to", home, ":", e.strerror)
    return 0


if __name__ == "__main__":
    sys.exit(main())
