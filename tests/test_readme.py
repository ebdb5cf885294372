"""The README's spec and C snippet are real: generated, compiled -Werror and run clean."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT, RUNTIME, RUNTIME_SOURCES, compile_c, generate

README = (ROOT / "README.md").read_text(encoding="utf-8")

GEOMETRY_H = """\
#include <stddef.h>
#include "pm.h"
struct point { int x, y; };
struct buffer { char *data; size_t len; };
"""

HOOKS_AND_MAIN = """\
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shapes.h"

pm_status buffer_clone(struct buffer *dst, const struct buffer *src) {
    dst->data = malloc(src->len + 1);
    if (dst->data == NULL) {
        return PM_ENOMEM;
    }
    memcpy(dst->data, src->data, src->len + 1);
    dst->len = src->len;
    return PM_OK;
}

void buffer_free(struct buffer *value) { free(value->data); }

int main(void) {
%s
    return 0;
}
"""


def fenced_block(after: str, lang: str) -> str:
    """The first ```lang block after the text `after` in the README."""
    start = README.index(after)
    match = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    assert match, f"no ```{lang} block after {after!r}"
    return match.group(1)


def test_the_readme_spec_and_c_snippet_compile_and_run_clean(tmp_path: Path) -> None:
    (tmp_path / "shapes.yaml").write_text(fenced_block("## A spec", "yaml"))
    (tmp_path / "geometry.h").write_text(GEOMETRY_H)
    snippet = fenced_block("In C, with the generated header:", "c")
    (tmp_path / "main.c").write_text(HOOKS_AND_MAIN % snippet)
    gen = generate(tmp_path / "shapes.yaml", tmp_path / "gen")
    binary = tmp_path / "readme"
    compile_c("clang", ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
              [tmp_path / "main.c", gen / "shapes.c", *RUNTIME_SOURCES],
              [RUNTIME, gen, tmp_path], binary)
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    # q was copied on write before x = 10, so p still reads 1.
    assert run.stdout == "1\n"
