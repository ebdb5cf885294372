"""Lint as part of the suite: mypy --strict on the generator, flake8 on all Python,
and the rule that templates speak only in building-block verbs."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT

PYTHON_TREES = ["gen/pmgen", "tests", "build_backend", "bench/pmgen_scale.py", "bench/compare",
                "bench/perceus/run", "scripts/reserved-names"]


def test_mypy_strict_on_the_generator() -> None:
    pytest.importorskip("mypy", reason="Debian python3-mypy (scripts/install-deps)")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             "gen/pmgen"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_flake8() -> None:
    pytest.importorskip("flake8", reason="Debian flake8 (scripts/install-deps)")
    result = subprocess.run([sys.executable, "-m", "flake8", *PYTHON_TREES], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_name_no_block_internals() -> None:
    # Templates call counter/cell/storage verbs through the view; a lock's name,
    # its state word or a runtime-internal (pm__) name would tie them to one kind.
    forbidden = re.compile(r"rwlock|state|pm__", re.IGNORECASE)
    found = [f"{path.name}:{n}: {line.strip()}"
             for path in sorted((ROOT / "templates").glob("*.j2"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if forbidden.search(line)]
    assert not found, "\n".join(found)


def test_templates_include_nothing_implicitly() -> None:
    # Macro libraries take explicit arguments: no {% include %} reading the caller's loop.
    found = [path.name for path in (ROOT / "templates").glob("*.j2")
             if "{% include" in path.read_text(encoding="utf-8")]
    assert not found, found
