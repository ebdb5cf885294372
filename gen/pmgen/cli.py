"""The pmgen command line: parse arguments, generate, report errors once."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional

from .api import __version__, read_spec, render_spec
from .errors import SpecError, printable
from .output import depfile_text, write_all
from .render import Renderer

EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmgen", description="Generate reference-counted C boxes from a YAML spec.")
    parser.add_argument("spec", help="the YAML spec")
    parser.add_argument("-o", "--output-dir", metavar="OUTDIR",
                        help="write OUTDIR/<module>.h and OUTDIR/<module>.c")
    parser.add_argument("--header", metavar="FILE", help="write the header to FILE")
    parser.add_argument("--source", metavar="FILE", help="write the C source to FILE")
    parser.add_argument("--depfile", metavar="FILE",
                        help="write a Makefile depfile naming the spec and templates read")
    parser.add_argument("--version", action="version", version=f"pmgen {__version__}")
    return parser


def _targets(args: argparse.Namespace, files: dict[str, str]) -> list[tuple[Path, str]]:
    header = next(text for name, text in files.items() if name.endswith(".h"))
    source = next(text for name, text in files.items() if name.endswith(".c"))
    targets: list[tuple[Path, str]] = []
    if args.output_dir is not None:
        targets += [(Path(args.output_dir) / name, text) for name, text in files.items()]
    if args.header is not None:
        targets.append((Path(args.header), header))
    if args.source is not None:
        targets.append((Path(args.source), source))
    return targets


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def _refusal(args: argparse.Namespace, targets: dict[Path, str]) -> Optional[str]:
    """Why these outputs would destroy input or each other; None if they are fine."""
    spec = Path(args.spec)
    outputs = list(targets)
    if args.depfile is not None:
        outputs.append(Path(args.depfile))
    for k, path in enumerate(outputs):
        what = "the depfile" if args.depfile is not None and k == len(outputs) - 1 \
            else f"output {path}"
        if _same_file(path, spec):
            return f"{what} is the spec itself ({args.spec}); it would be overwritten"
        for other in outputs[:k]:
            if _same_file(path, other):
                return f"{what} and output {other} are one file; give each output its own path"
    return None


def main(argv: Optional[list[str]] = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors (2), --help/--version (0)
        return int(exc.code or 0)
    if args.output_dir is None and args.header is None and args.source is None:
        parser.print_usage(sys.stderr)
        print("pmgen: error: nothing to write: give -o OUTDIR, --header FILE or --source FILE",
              file=sys.stderr)
        return EXIT_USAGE
    renderer = Renderer()
    try:
        text, file = read_spec(args.spec)
        files = render_spec(text, file, renderer)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_SPEC_ERROR
    except OSError as exc:
        print(f"{printable(args.spec)}: error: cannot read the spec: "
              f"{printable(exc.strerror or str(exc))}", file=sys.stderr)
        return EXIT_SPEC_ERROR
    targets = _dedupe(_targets(args, files))
    if targets is None:
        refusal: Optional[str] = "two outputs would write different text to one file"
    else:
        refusal = _refusal(args, targets)
    if refusal is not None or targets is None:
        print(f"pmgen: error: {printable(refusal or '')}", file=sys.stderr)
        return EXIT_USAGE
    writes = dict(targets)
    if args.depfile is not None:
        writes[Path(args.depfile)] = depfile_text(list(targets),
                                                  [args.spec] + sorted(renderer.loaded))
    try:
        write_all(writes)  # every output, or none
    except OSError as exc:
        print(f"pmgen: error: cannot write output: {printable(str(exc))}", file=sys.stderr)
        return EXIT_SPEC_ERROR
    return EXIT_OK


def _dedupe(targets: list[tuple[Path, str]]) -> Optional[dict[Path, str]]:
    """One entry per file (-o d and --header d/m.h name one file); None on a conflict."""
    kept: dict[Path, str] = {}
    for path, text in targets:
        same = next((p for p in kept if _same_file(p, path)), None)
        if same is None:
            kept[path] = text
        elif kept[same] != text:
            return None
    return kept
