"""The pmgen command line: parse arguments, generate, report errors once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .api import __version__, read_spec, render_spec
from .errors import SpecError
from .output import write_depfile, write_if_changed
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


def _targets(args: argparse.Namespace, files: dict[str, str]) -> dict[Path, str]:
    header = next(text for name, text in files.items() if name.endswith(".h"))
    source = next(text for name, text in files.items() if name.endswith(".c"))
    targets: dict[Path, str] = {}
    if args.output_dir is not None:
        for name, text in files.items():
            targets[Path(args.output_dir) / name] = text
    if args.header is not None:
        targets[Path(args.header)] = header
    if args.source is not None:
        targets[Path(args.source)] = source
    return targets


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
    try:
        text, file = read_spec(args.spec)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.spec}: error: cannot read the spec: {exc}", file=sys.stderr)
        return EXIT_SPEC_ERROR
    renderer = Renderer()
    try:
        files = render_spec(text, file, renderer)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_SPEC_ERROR
    targets = _targets(args, files)
    try:
        for path, content in targets.items():
            write_if_changed(path, content)
        if args.depfile is not None:
            write_depfile(Path(args.depfile), list(targets),
                          [args.spec] + sorted(renderer.loaded))
    except OSError as exc:
        print(f"pmgen: error: cannot write output: {exc}", file=sys.stderr)
        return EXIT_SPEC_ERROR
    return EXIT_OK
