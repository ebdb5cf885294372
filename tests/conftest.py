"""Shared helpers: run pmgen, generate a spec, compile and run C programs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime"
RUNTIME_SOURCES = [RUNTIME / "pm.c", RUNTIME / "pm_box.c", RUNTIME / "pm_rwlock.c",
                   RUNTIME / "pm_region.c",
                   RUNTIME / "pm_store.c"]
# The public headers: pm.h and the headers it includes (meson installs these).
# pm_internal.h (test hooks) is not one of them.
RUNTIME_HEADERS = [RUNTIME / "pm.h", *(RUNTIME / name for name in re.findall(
    r'^#include "(pm_\w+\.h)"$', (RUNTIME / "pm.h").read_text(encoding="utf-8"), re.M))]
RUNTIME_INTERNAL_HEADER = RUNTIME / "pm_internal.h"
SPECS = ROOT / "tests" / "specs"
# The interpreter running the tests is the one pmgen runs on (the README's /usr/bin/python3).
PYTHON = sys.executable
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]

sys.path.insert(0, str(ROOT / "gen"))


def run_pmgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run pmgen from the checkout as a user would (`python3 -m pmgen`)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "gen"))
    return subprocess.run([PYTHON, "-m", "pmgen", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def generate(spec: Path, out_dir: Path) -> Path:
    result = run_pmgen(str(spec), "-o", str(out_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "", "pmgen is quiet on success"
    return out_dir


def compile_c(compiler: str, flags: list[str], sources: list[Path], include_dirs: list[Path],
              output: Path) -> None:
    cmd = [compiler, *STRICT, *flags, *(f"-I{d}" for d in include_dirs),
           *map(str, sources), "-o", str(output), "-pthread"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}{result.stderr}"
    assert result.stderr == "", f"warnings from {' '.join(cmd)}:\n{result.stderr}"


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


@pytest.fixture(scope="session")
def gen_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generated")
