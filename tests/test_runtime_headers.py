"""The runtime's headers: one per concern, each self-contained, behind the pm.h umbrella.

- every header (the public ones and pm_internal.h) compiles on its own, -Werror, under gcc
  and clang, with and without PM_DEBUG / PM_METRICS;
- pm.h includes every header in runtime/ except pm_internal.h, which no public header includes;
- both cell kinds have the same verb set, callable by prefix with the same signatures;
- the lock's state word is tested only through the named predicates in pm_rwlock.h.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import RUNTIME, RUNTIME_HEADERS, RUNTIME_INTERNAL_HEADER, STRICT, have

ALL_HEADERS = [*RUNTIME_HEADERS, RUNTIME_INTERNAL_HEADER]
COMPILERS = [cc for cc in ("gcc", "clang") if have(cc)]
MODES = {"plain": [], "debug": ["-DPM_DEBUG"], "metrics": ["-DPM_METRICS"],
         "debug+metrics": ["-DPM_DEBUG", "-DPM_METRICS"]}
VERBS = {"init", "init_write", "try_read", "try_write", "try_write_unique", "release_read",
         "release_write", "downgrade", "read_wait", "write_wait", "name", "forget", "writer_quiet",
         "in_use", "orphan", "claim"}


def syntax_check(compiler: str, flags: list[str], source: str) -> subprocess.CompletedProcess:
    return subprocess.run([compiler, *STRICT, *flags, f"-I{RUNTIME}", "-fsyntax-only", "-x", "c",
                           "-"], input=source, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("compiler", COMPILERS)
def test_each_header_compiles_on_its_own(compiler: str, mode: str) -> None:
    for header in ALL_HEADERS:
        result = syntax_check(compiler, MODES[mode], f'#include "{header.name}"\n')
        assert result.returncode == 0 and result.stderr == "", f"{header.name}\n{result.stderr}"


def test_pm_h_includes_every_public_header_and_not_the_internal_one() -> None:
    on_disk = {p.name for p in RUNTIME.glob("*.h")}
    assert on_disk == {h.name for h in ALL_HEADERS}
    for header in RUNTIME_HEADERS:
        text = header.read_text(encoding="utf-8")
        assert '#include "pm_internal.h"' not in text, header.name
        guard = re.search(r"^#ifndef (\w+)\n#define \1$", text, re.M)
        assert guard and guard.group(1) == header.name[:-2].upper() + "_H", header.name


def public_inline_functions(prefix: str) -> set[str]:
    """Names after `prefix` of the static inline functions the public headers define."""
    text = "".join(h.read_text(encoding="utf-8") for h in RUNTIME_HEADERS)
    return set(re.findall(rf"^static inline \w+ {prefix}(\w+)\(", text, re.M))


def test_both_cell_kinds_have_the_same_verbs() -> None:
    assert public_inline_functions("pm_cell_borrow_") == VERBS
    assert public_inline_functions("pm_rwlock_") == VERBS


CELL_VERBS_BY_PREFIX = """\
#include "pm.h"
#define USE_CELL(P, T)                                                      \\
    static pm_status use_##T(T *c) {                                        \\
        P##init(c);                                                         \\
        P##name(c, "cell");                                                 \\
        bool quiet = P##writer_quiet((const T *)c);                         \\
        pm_status st = P##try_read(c);                                      \\
        if (st == PM_OK) P##release_read(c);                                \\
        st = P##read_wait(c, (uint64_t)1000);                               \\
        if (st == PM_OK) P##release_read(c);                                \\
        st = P##try_write(c);                                               \\
        if (st == PM_OK) P##release_write(c);                               \\
        st = P##try_write_unique(c);                                        \\
        if (st == PM_OK) P##release_write(c);                               \\
        st = P##try_write(c);                                               \\
        if (st == PM_OK) st = P##downgrade(c);                              \\
        if (st == PM_OK) P##release_read(c);                                \\
        st = P##write_wait(c, PM_FOREVER);                                  \\
        if (st == PM_OK) P##release_write(c);                               \\
        P##forget(c);                                                       \\
        P##init_write(c);                                                   \\
        P##release_write(c);                                                \\
        return quiet ? st : PM_EBUSY;                                       \\
    }
USE_CELL(pm_cell_borrow_, pm_cell_borrow)
USE_CELL(pm_rwlock_, pm_rwlock)
int main(void) {
    pm_cell_borrow b;
    pm_rwlock l;
    return use_pm_cell_borrow(&b) == PM_OK && use_pm_rwlock(&l) == PM_OK ? 0 : 1;
}
"""


@pytest.mark.parametrize("mode", ["plain", "debug"])
@pytest.mark.parametrize("compiler", COMPILERS)
def test_cell_verbs_are_called_the_same_way_by_prefix(compiler: str, mode: str) -> None:
    result = syntax_check(compiler, MODES[mode], CELL_VERBS_BY_PREFIX)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_the_lock_state_is_tested_only_through_its_predicates() -> None:
    # A bit test of the state: `x & PM_RW_...` or `PM_RW_... & x` (not a `|` that builds one).
    mask_test = re.compile(r"(?<!&)&\s*\(?\s*PM_RW_\w+|PM_RW_\w+\s*\)?\s*&(?!&)")
    predicate = re.compile(r"^static inline \w+ pm__rw_\w+\(uint32_t s\) \{[^{}]*\}", re.M)
    for path in [*RUNTIME.glob("*.h"), *RUNTIME.glob("*.c")]:
        text = strip_comments(path.read_text(encoding="utf-8"))
        if path.name == "pm_rwlock.h":
            text, predicates = predicate.subn("", text)
            assert predicates >= 8, "the predicates moved: update this test"
        found = [line.strip() for line in text.splitlines() if mask_test.search(line)]
        assert found == [], f"{path.name}: open-coded state tests {found}"
