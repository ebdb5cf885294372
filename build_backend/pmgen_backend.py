"""A PEP 517 build backend for pmgen that needs nothing to be downloaded.

`pip install .` builds in an isolated environment and first installs the
backend's requirements from an index; setuptools would need PyPI. This backend
requires nothing: it packs gen/pmgen (and templates/ as pmgen/templates) into a
wheel with the standard library alone, from the metadata in pyproject.toml.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What goes into the wheel: (folder in the checkout, package path in the wheel, file suffix).
CONTENTS = [(ROOT / "gen" / "pmgen", "pmgen", ".py"),
            (ROOT / "templates", "pmgen/templates", ".j2")]


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _dist_info(project: dict) -> tuple[str, dict[str, str]]:
    name, version = project["name"], project["version"]
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"Summary: {project['description']}",
                f"Requires-Python: {project['requires-python']}"]
    metadata += [f"Requires-Dist: {dep}" for dep in project["dependencies"]]
    scripts = "".join(f"{k} = {v}\n" for k, v in project["scripts"].items())
    files = {
        "METADATA": "\n".join(metadata) + "\n",
        "WHEEL": "Wheel-Version: 1.0\nGenerator: pmgen_backend\nRoot-Is-Purelib: true\n"
                 "Tag: py3-none-any\n",
        "entry_points.txt": f"[console_scripts]\n{scripts}",
    }
    return f"{name}-{version}.dist-info", files


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    project = _project()
    dist_info, meta_files = _dist_info(project)
    wheel_name = f"{project['name']}-{project['version']}-py3-none-any.whl"
    entries: list[tuple[str, bytes]] = []
    for folder, package, suffix in CONTENTS:
        for source in sorted(folder.glob(f"*{suffix}")):
            entries.append((f"{package}/{source.name}", source.read_bytes()))
    entries += [(f"{dist_info}/{name}", text.encode()) for name, text in meta_files.items()]
    record = [_record_line(path, data) for path, data in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                         zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries:
            wheel.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None) -> str:
    project = _project()
    base = f"{project['name']}-{project['version']}"
    members = ["pyproject.toml", "README.md", "build_backend/pmgen_backend.py"]
    for folder, _, suffix in CONTENTS:
        members += [str(p.relative_to(ROOT)) for p in sorted(folder.glob(f"*{suffix}"))]
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for member in members:
            sdist.add(ROOT / member, arcname=f"{base}/{member}")
    return name
