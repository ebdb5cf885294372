"""The C test programs, built from freshly generated code and run in every configuration.

Each program is compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror under gcc
and clang, in plain, PM_DEBUG, AddressSanitizer+UBSan, ThreadSanitizer and
valgrind configurations, and must exit 0 with no sanitizer report.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, RUNTIME, RUNTIME_SOURCES, SPECS, compile_c, generate

C_TESTS = ROOT / "tests" / "c"

# program -> (spec it is built against or None, extra include dir, extra flags)
PROGRAMS = {
    "test_runtime": (None, None, []),
    "test_box": (None, None, []),
    "test_generated": (SPECS / "all_policies.yaml", SPECS, []),
    "test_threads": (SPECS / "all_policies.yaml", SPECS, []),
    "test_fastpaths": (SPECS / "all_policies.yaml", SPECS, []),
    "test_lock_order": (SPECS / "all_policies.yaml", SPECS, []),
    "test_metrics": (SPECS / "all_policies.yaml", SPECS, ["-DPM_METRICS"]),
    "test_careless": (SPECS / "all_policies.yaml", SPECS, []),
    "test_weak": (SPECS / "weak.yaml", SPECS, []),
    "test_reuse": (SPECS / "all_policies.yaml", SPECS, []),
    "test_convert": (SPECS / "all_policies.yaml", SPECS, []),
    "test_sums": (SPECS / "sums.yaml", SPECS, []),
    "test_region": (SPECS / "regions.yaml", SPECS, []),
    # Stores; -Wno-psabi: gcc's note on passing the 64-byte-aligned Wide by value.
    "test_store": (SPECS / "stores.yaml", SPECS, ["-Wno-psabi"]),
    "test_store_retire": (SPECS / "stores.yaml", SPECS,
                          ["-Wno-psabi", "-DPM_STORE_GENERATION_MAX=3u"]),
    "process_data": (ROOT / "examples" / "items.yaml", ROOT / "examples", []),
}
SANITIZE_ADDRESS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all"]
SANITIZE_THREAD = ["-O1", "-g", "-fsanitize=thread"]
# name -> (compiler, flags, runner prefix, environment)
CONFIGS = {
    "gcc": ("gcc", ["-O2"], [], {}),
    "clang": ("clang", ["-O2"], [], {}),
    "gcc-debug": ("gcc", ["-O1", "-g", "-DPM_DEBUG"], [], {}),
    "clang-debug": ("clang", ["-O1", "-g", "-DPM_DEBUG"], [], {}),
    "gcc-asan-ubsan": ("gcc", SANITIZE_ADDRESS, [], {}),
    "clang-asan-ubsan": ("clang", SANITIZE_ADDRESS, [], {}),
    "clang-tsan": ("clang", SANITIZE_THREAD, [], {}),
    "gcc-tsan": ("gcc", SANITIZE_THREAD, [], {}),
    "valgrind": ("gcc", ["-O1", "-g"],
                 ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=all", "--show-leak-kinds=all"],
                 {"PM_TEST_QUICK": "1"}),
}
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=98",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "TSAN_OPTIONS": "halt_on_error=1:exitcode=97:second_deadlock_stack=1",
}


def program_source(name: str) -> Path:
    return ROOT / "examples" / f"{name}.c" if name == "process_data" else C_TESTS / f"{name}.c"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[Path, Path]:
    """Each spec used here, generated once into its own folder."""
    out: dict[Path, Path] = {}
    for spec, _, _ in PROGRAMS.values():
        if spec is not None and spec not in out:
            out[spec] = generate(spec, tmp_path_factory.mktemp(spec.stem))
    return out


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_program(program: str, config: str, generated, tmp_path: Path) -> None:
    compiler, flags, _, _ = CONFIGS[config]
    spec, include, program_flags = PROGRAMS[program]
    sources = [program_source(program), *RUNTIME_SOURCES]
    includes = [RUNTIME]
    if spec is not None:
        gen = generated[spec]
        sources.append(next(gen.glob("*.c")))
        support = spec.with_name(f"{spec.stem}_support.c")  # the spec's hooks, if any
        if support.exists():
            sources.append(support)
        includes += [gen, include, C_TESTS]
    binary = tmp_path / f"{program}-{config}"
    compile_c(compiler, [*flags, *program_flags], sources, includes, binary)
    run_program(binary, program, config)


def run_program(binary: Path, program: str, config: str) -> None:
    """Run a test program built for `config`: it must exit 0 with no sanitizer report."""
    _, _, runner, env_extra = CONFIGS[config]
    env = dict(os.environ, **SANITIZER_ENV, **env_extra)
    result = subprocess.run([*runner, str(binary)], capture_output=True, text=True,
                            env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{program} [{config}] exit {result.returncode}\n{output}"
    for marker in ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer"):
        assert marker not in output, output
