"""The lock protocol, model-checked: tests/model/rwlock.pml under spin.

spin explores every interleaving of three processes (two lock/unlock rounds
each, some with deadlines that may pass at any check, some polling with the
try forms, one downgrading its write lock to a read lock) running the runtime's
reader-writer lock, statement by statement, and must find no error: no
assertion violation (mutual exclusion; an idle, usable lock at the end) and no
invalid end state (a process asleep for ever: a lost wake-up).

The model is also shown to be able to fail: known bugs planted in a copy of it
(each one a plausible slip in pm_rwlock.c) must each be caught.
The larger runs (more rounds, a fourth process) are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, have

MODEL = ROOT / "tests" / "model" / "rwlock.pml"

pytestmark = pytest.mark.skipif(not have("spin"), reason="spin is not installed")


def check_model(tmp_path: Path, source: str, *defines: str) -> str:
    """spin -a, compile pan, run it to the end or the first error; return pan's report.

    pan is compiled without optimization: that saves more compile time than it costs."""
    model = tmp_path / "rwlock.pml"
    model.write_text(source, encoding="utf-8")
    spin = subprocess.run(["spin", *(f"-D{d}" for d in defines), "-a", model.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert spin.returncode == 0, spin.stdout + spin.stderr
    cc = subprocess.run(["gcc", "-O0", "-DSAFETY", "-DCOLLAPSE", "-w", "-o", "pan", "pan.c"],
                        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cc.returncode == 0, cc.stderr
    pan = subprocess.run(["./pan", "-m2000000"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    return pan.stdout + pan.stderr


def errors(report: str) -> int:
    found = re.search(r"errors: (\d+)", report)
    assert found, report
    return int(found.group(1))


@pytest.mark.parametrize("config", ["1", "2", "3", "4", "5", "6", "7", "8"],
                         ids=["forever-readers+timed-writer", "timed-reader+writer",
                              "timed-writer+writers+reader", "polling-writer+readers",
                              "polling-writer+writer+reader", "downgrading-writer+writer+reader",
                              "careless-releases+timed-writer+reader",
                              "careless-releases+downgrading-writer+writer"])
def test_lock_protocol_has_no_error(config: str, tmp_path: Path) -> None:
    report = check_model(tmp_path, MODEL.read_text(encoding="utf-8"), f"CONFIG={config}")
    states = re.search(r"(\d+) states, stored", report)
    print(f"[rwlock.pml CONFIG={config}] {states.group(0) if states else '?'}")
    assert errors(report) == 0, report
    assert "Search not completed" not in report, report  # the whole state space was seen
    assert states and int(states.group(1)) > 100_000, report


# Planted bugs: what is wrong -> (text of the model, replacement, a CONFIG that shows it).
BUGS = {
    "last reader out does not wake the writer": (
        ":: unlocked(s) && (s & (RW | WW)) != 0 -> wake_writer_or_readers(s)   /* the last reader",
        ":: false -> skip /*", "3"),
    "writer sleeps without re-checking the state after reading writer_notify": (
        ":: unlocked(s) || (s & WW) == 0 -> skip /* continue */",
        ":: false -> skip", "3"),
    "unlock wakes no reader when no writer was asleep": (
        ":: else -> s = polled | RW   /* no writer was asleep: wake readers too */",
        ":: else -> done = 1", "1"),
    "a writer that gives up does not wake the readers": (
        "/* the CAS loop */\n        if\n        :: (s & RW) != 0 -> futex_wake_all(ON_STATE)",
        "/* the CAS loop */\n        if\n        :: false -> skip", "1"),
    "write lock taken while a reader holds it": (
        "#define unlocked(s)   (((s) & (MASK | WL)) == 0)",
        "#define unlocked(s)   (((s) & (MASK | WL)) <= R1)", "1"),
    # The bug this model found in pm_rwlock.c (tests/stress/wakeup.c): a writer
    # that gives up passes writer wake-ups on only if WRITERS_WAITING is set.
    "a writer that gives up wakes writers only if WRITERS_WAITING is still set": (
        "        notify++;\n        futex_wake_all(ON_NOTIFY)\n",
        "        if\n        :: (s & WW) != 0 -> notify++; futex_wake_all(ON_NOTIFY)\n"
        "        :: else -> skip\n        fi\n", "3"),
    # The poll bit (PM_RW_WRITER_POLLED) must be left out of the wake-up's
    # comparisons: a sleeping writer behind a polled lock is never woken.
    "wake-ups compare the state with the poll bit in it": (
        "    polled = s & PW;", "    polled = 0;", "5"),
    "taking the write lock keeps the poll bit": (
        "#define write_locked_from(s) (((s) & ~PW) | WL)",
        "#define write_locked_from(s) ((s) | WL)", "4"),
    # pm_rwlock_downgrade: one CAS that keeps the waiting writer's flag and wakes the
    # readers whose flag it clears; done as an unlock and a new read lock, a writer
    # gets in between.
    "a downgrade drops WRITERS_WAITING (the waiting writer is never woken)": (
        "#define downgraded_from(s) ((write_unlocked_from(s) + R1) & "
        "~(wakes_readers(s) -> RW : 0))",
        "#define downgraded_from(s) ((write_unlocked_from(s) + R1) & ~WW & "
        "~(wakes_readers(s) -> RW : 0))",
        "6"),
    "a downgrade clears READERS_WAITING but wakes nobody": (
        ":: wakes_readers(s) -> futex_wake_all(ON_STATE)", ":: false -> skip", "6"),
    # A careless release_read's fetch_sub wraps the count; its undo must do what the last
    # reader out would, and a downgrade must not add its reader to the wrapped count.
    "the undo of a careless release_read wakes nobody": (
        ":: unlocked(s) && (s & (RW | WW)) != 0 -> wake_writer_or_readers(s)  /* the undo wakes */",
        ":: false -> skip", "7"),
    "a downgrade does not wait for a wrapped count to settle": (
        ":: (s & WL) != 0 && settled(s) ->", ":: (s & WL) != 0 ->", "8"),
    "a careless release_read is not undone": (
        "        atomic { s = state + R1; state = s }                  /* the undo's fetch_add */",
        "        s = state", "7"),
    "a downgrade as release_write then a read lock: a writer gets in between": (
        "        downgrade();\n",
        "        writers_in--;\n        release_write();\n        read_lock(0, got);\n", "6"),
}


@pytest.mark.parametrize("bug", BUGS)
def test_model_catches_a_planted_bug(bug: str, tmp_path: Path) -> None:
    text, replacement, config = BUGS[bug]
    source = MODEL.read_text(encoding="utf-8")
    assert source.count(text) == 1, f"the model changed: update BUGS[{bug!r}]"
    report = check_model(tmp_path, source.replace(text, replacement), f"CONFIG={config}")
    assert errors(report) > 0, f"CONFIG={config} did not catch: {bug}\n{report}"
