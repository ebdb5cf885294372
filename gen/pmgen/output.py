"""Writing generated files: all or none, atomically, and only when their bytes change."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _creation_mode() -> int:
    """0o666 under the process's umask, as open(2) would create a file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_all(files: dict[Path, str]) -> list[Path]:
    """Write every file, or none of them; return those whose bytes changed.

    Each new text is first written beside its target; only when all are staged
    are they renamed over the targets, so a failure (a folder that cannot be
    written, a full disk) leaves every target as it was. A reader or an
    interrupted build never sees half a file; an unchanged file keeps its
    timestamp, so build tools see nothing to redo. New files get the
    permissions open(2) would give them under the umask.
    """
    staged: list[tuple[str, Path]] = []
    changed: list[Path] = []
    try:
        for path, text in files.items():
            data = text.encode("utf-8")
            try:
                if path.read_bytes() == data:
                    continue
            except FileNotFoundError:
                pass
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            changed.append(path)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, _creation_mode())
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    finally:
        for tmp, _ in staged:  # what failed to stage or was never renamed
            if os.path.exists(tmp):
                os.unlink(tmp)
    return changed


def depfile_text(targets: list[Path], prerequisites: list[str]) -> str:
    """A Makefile-syntax depfile: each target depends on the spec and the templates."""
    def escape(name: str) -> str:
        return name.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")

    deps = " \\\n  ".join(escape(p) for p in prerequisites)
    return "".join(f"{escape(str(t))}: \\\n  {deps}\n" for t in targets)
