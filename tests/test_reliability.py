"""Reliability under threads, faults and peers (issue 4; figures in docs/RELIABILITY.md).

Each C program below is built from freshly generated code with -Werror in the
configurations where it proves something, and must exit 0 with no sanitizer
report:

- tests/stress/stress.c: N threads x a random mix of every operation on shared
  ThreadSafe boxes for PM_STRESS_SECONDS (default 2 here); exact invariants
  (no lost update, nothing freed while owned, counts back to 1, zero leaks).
  Under ThreadSanitizer, AddressSanitizer+UBSan+LeakSanitizer, and PM_DEBUG.
  The long run is one command (docs/RELIABILITY.md):
      PM_STRESS_SECONDS=300 /usr/bin/python3 -m pytest -s tests/test_reliability.py -k stress
- tests/stress/limits.c: counter and reader limits raced by many threads.
- tests/stress/wakeup.c: a writer that times out just after being woken passes the
  wake-up on (the lost wake-up tests/model/rwlock.pml found).
- tests/stress/polling.c: a writer polling with try_write gets in against overlapping
  readers; the hint it leaves never wedges a reader (one refused try_read, or the grace).
- tests/stress/deadlock.c: PM_DEBUG refuses every self-deadlock with PM_EDEADLK
  at once; a release build waits out the timeout instead.
- tests/c/test_faults.c: the k-th allocation fails, for every k (tests/specs/faults.yaml).
- tests/c/test_omp.c: OpenMP `parallel for` (libgomp is not TSan-instrumented:
  ASan+UBSan and PM_DEBUG instead).
- tests/c/test_uv.c: handles moved into libuv's thread pool, dropped on the loop
  thread; under TSan too.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import ROOT, RUNTIME, RUNTIME_SOURCES, SPECS, compile_c, generate, have
from test_c_programs import CONFIGS, SANITIZER_ENV

STRESS = ROOT / "tests" / "stress"
C_TESTS = ROOT / "tests" / "c"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "runtime error:",
                     "ERROR: LeakSanitizer")


class Program(NamedTuple):
    source: Path
    spec: Path | None  # None: the runtime alone
    configs: tuple[str, ...]  # names from test_c_programs.CONFIGS, or "<name>+debug"
    flags: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


ALL = SPECS / "all_policies.yaml"


def pkg_config(package: str) -> tuple[str, ...]:
    result = subprocess.run(["pkg-config", "--cflags", "--libs", package], capture_output=True,
                            text=True)
    return tuple(result.stdout.split()) if result.returncode == 0 else ()


PROGRAMS = {
    "stress": Program(STRESS / "stress.c", ALL, ("clang-tsan", "gcc-asan-ubsan", "gcc-debug"),
                      env=(("PM_STRESS_SECONDS", os.environ.get("PM_STRESS_SECONDS", "2")),)),
    "limits": Program(STRESS / "limits.c", ALL,
                      ("gcc", "clang-tsan", "gcc-asan-ubsan", "clang-debug")),
    "deadlock": Program(STRESS / "deadlock.c", ALL,
                        ("gcc", "clang", "gcc-debug", "clang-debug", "clang-tsan+debug",
                         "gcc-asan-ubsan+debug")),
    "wakeup": Program(STRESS / "wakeup.c", None, ("gcc", "clang")),
    "polling": Program(STRESS / "polling.c", None,
                       ("gcc", "clang", "clang-tsan", "gcc-asan-ubsan", "gcc-debug")),
    "test_faults": Program(C_TESTS / "test_faults.c", SPECS / "faults.yaml",
                           ("gcc", "clang", "gcc-debug", "gcc-asan-ubsan", "clang-asan-ubsan",
                            "valgrind")),
    "test_omp": Program(C_TESTS / "test_omp.c", ALL, ("gcc", "gcc-asan-ubsan", "gcc-debug"),
                        flags=("-fopenmp",), env=(("OMP_NUM_THREADS", "4"),)),
    "test_uv": Program(C_TESTS / "test_uv.c", ALL,
                       ("gcc", "clang-tsan", "gcc-tsan", "gcc-asan-ubsan"),
                       libs=pkg_config("libuv"), env=(("UV_THREADPOOL_SIZE", "4"),)),
}

CASES = [pytest.param(name, config, id=f"{name}-{config}")
         for name, program in PROGRAMS.items() for config in program.configs]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[Path, Path]:
    specs = {program.spec for program in PROGRAMS.values() if program.spec is not None}
    return {spec: generate(spec, tmp_path_factory.mktemp(spec.stem)) for spec in sorted(specs)}


def build_and_run(name: str, config: str, generated: dict[Path, Path],
                  tmp_path: Path) -> str:
    """Compile `name` in `config` ("gcc-debug", "clang-tsan+debug", ...), run it, return output."""
    program = PROGRAMS[name]
    base, _, extra = config.partition("+")
    compiler, flags, runner, env_extra = CONFIGS[base]
    flags = [*flags, *(["-DPM_DEBUG"] if extra == "debug" else []), *program.flags]
    sources, includes = [program.source, *RUNTIME_SOURCES], [RUNTIME, C_TESTS, STRESS]
    if program.spec is not None:
        gen = generated[program.spec]
        support = program.spec.with_name(f"{program.spec.stem}_support.c")
        sources += [next(gen.glob("*.c")), support]
        includes += [gen, SPECS]
    binary = tmp_path / f"{name}-{config}"
    # Libraries go after the sources on the link line (compile_c passes them on as they are).
    compile_c(compiler, flags, [*sources, *map(Path, program.libs)], includes, binary)
    env = dict(os.environ, **SANITIZER_ENV, **env_extra, **dict(program.env))
    result = subprocess.run([*runner, str(binary)], capture_output=True, text=True, env=env,
                            timeout=600 + float(env.get("PM_STRESS_SECONDS", 0)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name} [{config}] exit {result.returncode}\n{output}"
    for marker in SANITIZER_MARKERS:
        assert marker not in output, output
    return output


@pytest.mark.parametrize("name, config", CASES)
def test_reliability_program(name: str, config: str, generated, tmp_path: Path) -> None:
    if name == "test_uv" and not PROGRAMS[name].libs:
        pytest.skip("libuv1-dev is not installed (pkg-config libuv)")
    if config.startswith("valgrind") and not have("valgrind"):
        pytest.skip("valgrind is not installed")
    output = build_and_run(name, config, generated, tmp_path)
    print(f"[{name} {config}]\n{output}")  # the figures, with pytest -s
