# SPDX-License-Identifier: MIT
"""A tiny in-tree PEP 517 build backend for pyminisandbox.

Why not setuptools: pip builds in an isolated environment and would fetch
setuptools from an index first, so ``pip install ./python`` would need the
network.  The package is pure Python (ctypes over libminisandbox.so), so a
wheel is just a zip of the package plus three metadata files; this backend
writes it with the standard library only and declares no build
requirements, so pip installs it offline.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "pyminisandbox"


def _project():
    """Name, version and summary from pyproject.toml ([project] table)."""
    with open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    fields = {}
    for key in ("name", "version", "description", "requires-python", "license"):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), text, re.M)
        if m:
            fields[key] = m.group(1)
    return fields


def _metadata(p):
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % p["name"],
        "Version: %s" % p["version"],
        "Summary: %s" % p.get("description", ""),
        "License: %s" % p.get("license", "MIT"),
        "Requires-Python: %s" % p.get("requires-python", ">=3.9"),
        "Platform: Linux",
    ]
    readme = os.path.join(HERE, "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _package_files():
    root = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            yield os.path.join(PACKAGE, name), os.path.join(root, name)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d" % (arcname, digest.decode("ascii"), len(data))


def _dist_info_files(p):
    return {
        "METADATA": _metadata(p),
        "WHEEL": (b"Wheel-Version: 1.0\nGenerator: minisandbox_backend\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        "top_level.txt": (PACKAGE + "\n").encode("ascii"),
    }


def _write_wheel(wheel_directory, extra_files):
    p = _project()
    dist = p["name"].replace("-", "_")
    dist_info = "%s-%s.dist-info" % (dist, p["version"])
    filename = "%s-%s-py3-none-any.whl" % (dist, p["version"])
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as whl:
        for arcname, data in extra_files:
            whl.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        for name, data in _dist_info_files(p).items():
            arcname = "%s/%s" % (dist_info, name)
            whl.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append("%s/RECORD,," % dist_info)
        whl.writestr("%s/RECORD" % dist_info, "\n".join(records) + "\n")
    return filename


# ---- PEP 517 hooks ---------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = []
    for arcname, path in _package_files():
        with open(path, "rb") as f:
            files.append((arcname, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: a .pth file that puts this source tree on sys.path."""
    return _write_wheel(wheel_directory, [("_pyminisandbox_editable.pth",
                                           (HERE + "\n").encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"].replace("-", "_"), p["version"])
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for rel in ["pyproject.toml", "README.md"]:
            if os.path.exists(os.path.join(HERE, rel)):
                tar.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel))
        tar.add(os.path.join(HERE, "_build"), arcname="%s/_build" % base,
                filter=lambda ti: None if "__pycache__" in ti.name else ti)
        for arcname, path in _package_files():
            tar.add(path, arcname="%s/%s" % (base, arcname))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        data = _metadata(p)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return filename
