"""The Perceus benchmarks in quick mode: every variant builds, runs and prints the same lines.

`bench/perceus/run --quick` checks the agreement itself (exit status 1 otherwise); this test
also reads its table and JSON to see that every variant whose toolchain is here was built
and ran, and that the others were reported as skipped. No time or ratio is asserted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, RUNTIME, STRICT, generate, have

RUN = ROOT / "bench" / "perceus" / "run"
BENCHMARKS = ["rbtree", "rbtree-ck", "deriv", "nqueens", "cfold", "binarytrees"]
PARALLEL = {"pm-atomic-omp", "pm-ts-omp", "c-omp", "rust-arc-par"}
# variant -> the tool it needs besides gcc
TOOLS = {"pm-plain": "gcc", "pm-atomic": "gcc", "pm-ts": "gcc", "pm-atomic-omp": "gcc",
         "pm-ts-omp": "gcc", "c": "gcc", "c-omp": "gcc", "cpp": "g++", "ocaml": "ocamlopt",
         "rust-rc": "rustc", "rust-arc": "rustc", "rust-arc-par": "rustc"}


def have_openmp(tmp_path: Path, cc: str = "gcc") -> bool:
    src = tmp_path / "omp.c"
    src.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
    return subprocess.run([cc, "-fopenmp", str(src), "-o", str(tmp_path / "omp")],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(not have("gcc"), reason="needs gcc (scripts/install-deps)")
def test_quick_run_agrees(tmp_path: Path) -> None:
    out_json, doc = tmp_path / "medians.json", tmp_path / "PERCEUS.md"
    result = subprocess.run(
        [PYTHON, str(RUN), "--quick", "--build-dir", str(tmp_path / "build"),
         "--json", str(out_json), "--doc", str(doc)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "results agree" in result.stdout

    rows = [line.split() for line in result.stdout.splitlines()
            if line.split()[:1] and line.split()[0] in BENCHMARKS]
    ran = {(bench, variant) for bench, variant, _, _ in rows}
    skipped = {line.split()[1] for line in result.stdout.splitlines()
               if line.startswith("skipped:")}
    rustc = shutil.which("/usr/bin/rustc") or shutil.which("rustc")
    omp = have_openmp(tmp_path)
    for bench in BENCHMARKS:
        for variant, tool in TOOLS.items():
            if variant in PARALLEL and bench != "binarytrees":
                continue
            present = (rustc is not None if tool == "rustc" else have(tool)) and (
                omp or not variant.endswith("-omp"))
            if present:
                assert (bench, variant) in ran, f"{bench} {variant} did not run"
            else:
                assert variant in skipped, f"{variant} neither ran nor was reported skipped"

    medians = json.loads(out_json.read_text())
    assert {(b, v) for b, vs in medians.items() for v in vs} == ran
    text = doc.read_text()
    assert "| benchmark | variant | median s | / OCaml | / C | peak RSS MiB | runs |" in text
    assert "## Goals (issue 11)" in text and "Load average" in text


@pytest.mark.skipif(not (have("clang") and have("clang++")), reason="needs clang and clang++")
def test_no_warnings_under_clang(tmp_path: Path) -> None:
    # gcc builds everything with -Werror in the test above; clang checks the same sources
    # (front-end warnings: -fsyntax-only), for each policy of the pm programs, with and
    # without OpenMP.
    bench = ROOT / "bench" / "perceus"
    gen = tmp_path / "gen"
    generate(bench / "perceus.yaml", gen)
    omp = [[], ["-fopenmp"]] if have_openmp(tmp_path, "clang") else [[]]
    jobs = [["clang", *STRICT, *flags, *defines, f"-I{RUNTIME}", f"-I{gen}",
             f"-I{bench / 'pm'}", str(src)]
            for src in sorted((bench / "pm").glob("*.c"))
            for defines in (["-DPB_PLAIN"], ["-DPB_ATOMIC"], ["-DPB_TS"])
            for flags in omp]
    jobs += [["clang", *STRICT, *flags, str(src)] for src in sorted((bench / "c").glob("*.c"))
             for flags in omp + [["-DRBTREE_CK"]]]
    jobs += [["clang", *STRICT, str(bench / "measure.c")]]
    jobs += [["clang++", "-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror", str(src)]
             for src in sorted((bench / "cpp").glob("*.cpp"))]
    for cmd in jobs:
        result = subprocess.run([*cmd, "-fsyntax-only"], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0 and not result.stderr, " ".join(cmd) + "\n" + result.stderr
