"""The runtime and the generated headers from C++17 (issue 9).

pm.h and the generated header of tests/specs/all_policies.yaml and
examples/items.yaml are compiled in a C++17 translation unit with g++ and
clang++ (-std=c++17 -Wall -Wextra -Wpedantic -Werror, plain, PM_DEBUG and
PM_METRICS); a C++ program per spec (tests/c/test_cplusplus_*.cpp) calls
_new/_dup/_read/_write/_load/_drop of a few handles and checks that its view
of the boxes' layout is the C descriptors', is linked with the generated
source and the runtime compiled as C11 (plain and PM_DEBUG), and must run clean.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, RUNTIME, RUNTIME_HEADERS, RUNTIME_SOURCES, SPECS, STRICT, generate, have

C_TESTS = ROOT / "tests" / "c"
CXX_STRICT = ["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
# C++ compiler -> the C compiler of the same family (for the C11 half of the program).
COMPILERS = {"g++": "gcc", "clang++": "clang"}
MODES = {"plain": [], "debug": ["-DPM_DEBUG"], "metrics": ["-DPM_METRICS"]}
# spec -> (folder of its support header, its support source or None, the C++ program)
SPEC_PROGRAMS = {
    "all_policies": (SPECS, SPECS / "all_policies_support.c",
                     C_TESTS / "test_cplusplus_all_policies.cpp"),
    "items": (ROOT / "examples", None, C_TESTS / "test_cplusplus_items.cpp"),
}
SPEC_FILES = {"all_policies": SPECS / "all_policies.yaml",
              "items": ROOT / "examples" / "items.yaml",
              "weak": SPECS / "weak.yaml",
              "sums": SPECS / "sums.yaml",
              "regions": SPECS / "regions.yaml",
              "stores": SPECS / "stores.yaml"}


def run(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}{result.stderr}"
    assert result.stderr == "", f"warnings from {' '.join(cmd)}:\n{result.stderr}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return {name: generate(spec, tmp_path_factory.mktemp(name))
            for name, spec in SPEC_FILES.items()}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cxx", COMPILERS)
def test_headers_compile_as_cplusplus(cxx: str, mode: str, generated, tmp_path: Path) -> None:
    if not have(cxx):
        pytest.skip(f"{cxx} is not installed")
    includes = [f"-I{d}" for d in (RUNTIME, SPECS, ROOT / "examples", *generated.values())]
    sources = {"pm.cpp": '#include "pm.h"\n',
               **{f"{h.stem}.cpp": f'#include "{h.name}"\n' for h in RUNTIME_HEADERS},
               **{f"{name}.cpp": f'#include "pm.h"\nextern "C" {{\n#include "{name}.h"\n}}\n'
                  for name in generated}}
    for name, text in sources.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        run([cxx, *CXX_STRICT, *MODES[mode], *includes, "-fsyntax-only", str(path)])


@pytest.mark.parametrize("mode", ["plain", "debug"])
@pytest.mark.parametrize("spec", SPEC_PROGRAMS)
@pytest.mark.parametrize("cxx", COMPILERS)
def test_cplusplus_program_links_and_runs(cxx: str, spec: str, mode: str, generated,
                                          tmp_path: Path) -> None:
    cc = COMPILERS[cxx]
    if not have(cxx) or not have(cc):
        pytest.skip(f"{cxx} or {cc} is not installed")
    support_dir, support, program = SPEC_PROGRAMS[spec]
    gen = generated[spec]
    includes = [f"-I{d}" for d in (RUNTIME, support_dir, gen)] + MODES[mode]
    objects = []
    for source in [*RUNTIME_SOURCES, next(gen.glob("*.c")), *([support] if support else [])]:
        obj = tmp_path / f"{source.stem}.o"
        run([cc, *STRICT, "-O1", "-g", *includes, "-c", str(source), "-o", str(obj)])
        objects.append(obj)
    main = tmp_path / f"{program.stem}.o"
    run([cxx, *CXX_STRICT, "-O1", "-g", *includes, "-c", str(program), "-o", str(main)])
    binary = tmp_path / program.stem
    run([cxx, str(main), *map(str, objects), "-o", str(binary), "-pthread"])
    result = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok"), result.stdout
