#!/usr/bin/python3
"""How pmgen's generation time grows with the number of types in a spec.

For each size N it writes a spec of N types that uses every policy (the two
built in and four custom ones covering every counter x cell combination),
`ctype` types with `copy: trivial` and with clone/drop hooks, `fields` types
holding managed fields of other types (under the enclosing policy and under an
explicit one), recursive types and `contexts`. It times pmgen.generate() on it
(the median of --runs runs, in this process) and prints time against N with
the growth from the previous size (linear growth is the size ratio). Then it
compiles the generated C of the largest size with -std=c11 -Wall -Wextra
-Wpedantic -Werror, which must print nothing.

    /usr/bin/python3 bench/pmgen_scale.py                     # 10, 100, 1000 types
    /usr/bin/python3 bench/pmgen_scale.py --sizes 10 100 --runs 1
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "gen"))

import pmgen  # noqa: E402

CUSTOM_POLICIES = {
    "Local": ("plain", "none"),
    "Frozen": ("atomic", "none"),
    "Flagged": ("plain", "borrow"),
    "Locked": ("atomic", "rwlock"),
}
SINGLE = ["SingleThreaded", "Local", "Flagged"]  # plain counters
SAFE = ["ThreadSafe", "Frozen", "Locked"]  # atomic counters
EVERY = SINGLE + SAFE
KINDS = 6  # the type shapes below, used in turn


def type_entry(i: int) -> list[str]:
    """YAML lines of type T<i>; fields refer only to types before it (or itself)."""
    kind, name, prev = i % KINDS, f"T{i}", f"T{i - 1}"
    if kind == 0:
        return [f"  {name}:", "    ctype: int64_t", "    copy: trivial",
                f"    policies: [{', '.join(EVERY)}]"]
    if kind == 1:
        return [f"  {name}:", "    ctype: double", f"    clone: {name.lower()}_clone",
                f"    drop: {name.lower()}_drop", f"    policies: [{', '.join(EVERY)}]"]
    if kind == 2:  # fields, a managed field under the enclosing policy
        return [f"  {name}:", "    fields:", "      id: int32_t",
                f"      item: {{managed: {prev}}}",
                f"    policies: [{', '.join(EVERY)}]"]
    if kind == 3:  # recursive, plus a field under an explicit thread-safe policy
        return [f"  {name}:", "    fields:", "      value: int64_t",
                f"      next: {{managed: {name}}}",
                f"      shared: {{managed: T{i - 3}, policy: Frozen}}",
                f"    policies: [{', '.join(SAFE)}]"]
    if kind == 4:  # policies from contexts
        return [f"  {name}:", "    ctype: uint32_t", "    copy: trivial",
                "    contexts: [sync, async, parallel]"]
    return [f"  {name}:", "    fields:", "      left: {managed: " + prev + "}",
            f"      right: {{managed: {name}}}", f"    policies: [{', '.join(SINGLE)}]"]


def spec_text(types: int) -> str:
    lines = ["pmgen: 1", f"module: scale{types}", "policies:"]
    lines += [f"  {name}: {{counter: {counter}, cell: {cell}}}"
              for name, (counter, cell) in CUSTOM_POLICIES.items()]
    lines.append("types:")
    for i in range(types):
        lines += type_entry(i)
    return "\n".join(lines) + "\n"


def time_generation(spec: Path, runs: int) -> tuple[float, dict[str, str]]:
    times, files = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        files = pmgen.generate(spec)
        times.append(time.perf_counter() - start)
    return statistics.median(times), files


def compile_strict(files: dict[str, str], work: Path, compiler: str) -> str:
    """Compile the generated source; returns the compiler's output (empty when clean)."""
    for name, text in files.items():
        (work / name).write_text(text)
    source = next(work / name for name in files if name.endswith(".c"))
    result = subprocess.run(
        [compiler, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
         f"-I{ROOT / 'runtime'}", f"-I{work}", "-c", str(source), "-o", str(work / "out.o")],
        capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise SystemExit(f"{compiler} failed on {source.name}:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (median)")
    parser.add_argument("--compiler", default="cc")
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args(argv)

    print(f"{'types':>6} {'instances':>9} {'C lines':>8} {'time (s)':>9} {'growth':>7} "
          f"{'size ratio':>10}")
    with tempfile.TemporaryDirectory(prefix="pmgen-scale-") as tmp:
        work = Path(tmp)
        previous = None
        files: dict[str, str] = {}
        for types in args.sizes:
            spec = work / f"scale{types}.yaml"
            spec.write_text(spec_text(types))
            seconds, files = time_generation(spec, args.runs)
            header = next(text for name, text in files.items() if name.endswith(".h"))
            instances = len(re.findall(r"^extern const pm_box_type Managed_\w+__type;", header,
                                       re.M))
            lines = sum(text.count("\n") for text in files.values())
            growth = ratio = ""
            if previous is not None:
                growth = f"{seconds / previous[1]:.1f}x"
                ratio = f"{types / previous[0]:.0f}x"
            print(f"{types:>6} {instances:>9} {lines:>8} {seconds:>9.3f} {growth:>7} {ratio:>10}",
                  flush=True)
            previous = (types, seconds)
        if not args.no_compile:
            output = compile_strict(files, work, args.compiler)
            print(f"{args.compiler} -std=c11 -Wall -Wextra -Wpedantic -Werror -c "
                  f"scale{args.sizes[-1]}.c: {'clean' if not output else output}")
            if output:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
