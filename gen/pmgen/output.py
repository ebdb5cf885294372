"""Writing generated files: atomically, and only when their bytes change."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; True if written.

    The new file is written beside the old one and renamed over it, so a reader
    (or an interrupted build) never sees half a file; an unchanged file keeps its
    timestamp, so build tools see nothing to redo.
    """
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_depfile(path: Path, targets: list[Path], prerequisites: list[str]) -> bool:
    """A Makefile-syntax depfile: each target depends on the spec and the templates."""
    def escape(name: str) -> str:
        return name.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")

    deps = " \\\n  ".join(escape(p) for p in prerequisites)
    text = "".join(f"{escape(str(t))}: \\\n  {deps}\n" for t in targets)
    return write_if_changed(path, text)
