"""YAML loading that keeps a source location on every node.

PyYAML's `compose` gives nodes with marks; this module turns them into three
small node classes and rejects what plain `yaml.safe_load` would silently
accept: duplicate keys, several documents, non-string mapping keys, custom tags
and recursive aliases. A node an alias refers to is converted once and shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import yaml  # type: ignore[import]

from .errors import SourceLocation, SpecError

_TAG_PREFIX = "tag:yaml.org,2002:"
MAX_NODES = 1_000_000  # YAML nodes of one spec, aliases counted at each use
MAX_SPEC_BYTES = 16 * 1024 * 1024
# Line breaks to YAML but not to an editor or to `file:line:col`: refused, so that
# every reported line is the line a person sees.
_OTHER_LINE_BREAKS = {"\u0085": "NEXT LINE (NEL)", "\u2028": "LINE SEPARATOR",
                      "\u2029": "PARAGRAPH SEPARATOR"}
_UNSEEN_BREAK_OR_SURROGATE = re.compile("[\u0085\u2028\u2029\ud800-\udfff]")


@dataclass
class Scalar:
    """A scalar with its YAML type: 'str', 'int', 'bool', 'float', 'null' or 'date'."""

    value: object
    kind: str
    location: SourceLocation


@dataclass
class Sequence:
    items: list["Node"]
    location: SourceLocation


@dataclass
class Mapping:
    """An ordered mapping from string keys; each entry keeps its key's location."""

    entries: dict[str, tuple[SourceLocation, "Node"]]
    location: SourceLocation


Node = Union[Scalar, Sequence, Mapping]


def _location(file: str, mark: yaml.Mark) -> SourceLocation:
    return SourceLocation(file, mark.line + 1, mark.column + 1)


def _scalar(file: str, node: yaml.ScalarNode, constructor: yaml.SafeLoader) -> Scalar:
    loc = _location(file, node.start_mark)
    kind = node.tag[len(_TAG_PREFIX):] if node.tag.startswith(_TAG_PREFIX) else node.tag
    bad = next((c for c in node.value if 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:  # "\ud800" in a quoted scalar: not text, cannot be written as UTF-8
        raise SpecError(loc, f"this scalar holds a lone surrogate (U+{ord(bad):04X}), which "
                        "is not a character; write the text itself")
    try:
        if kind == "int":
            return Scalar(constructor.construct_yaml_int(node), "int", loc)
        if kind == "bool":
            return Scalar(constructor.construct_yaml_bool(node), "bool", loc)
        if kind == "float":
            return Scalar(constructor.construct_yaml_float(node), "float", loc)
        if kind == "null":
            if node.value not in ("", "~", "null", "Null", "NULL"):
                raise ValueError(node.value)
            return Scalar(None, "null", loc)
    # An explicit tag (`!!bool maybe`, `!!int ""`) reaches PyYAML's constructors with
    # text they never parsed: whatever they raise, it is this scalar's fault.
    except Exception:
        raise SpecError(loc, f"malformed {kind} {node.value!r} (given an explicit YAML tag "
                        f"{node.tag!r}?)") from None
    if kind == "timestamp":  # an unquoted date: keep its text, so checks can name it
        return Scalar(node.value, "date", loc)
    if kind != "str":
        raise SpecError(loc, f"unsupported YAML tag {node.tag!r}")
    return Scalar(node.value, "str", loc)


class _Converter:
    """Turns composed nodes into located nodes, once per node (aliases share the result)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = yaml.SafeLoader("")  # builds typed scalars; reads no input
        self.done: dict[int, Node] = {}
        self.in_progress: set[int] = set()
        self.visits = 0

    def convert(self, node: yaml.Node) -> Node:
        key = id(node)
        self.visits += 1  # aliases included: what later passes will walk
        if self.visits > MAX_NODES:
            raise SpecError(_location(self.file, node.start_mark), f"the spec has more than "
                            f"{MAX_NODES:,} YAML nodes (counting each use of an alias); "
                            "a spec is not that large")
        if key in self.done:
            return self.done[key]
        if key in self.in_progress:
            raise SpecError(_location(self.file, node.start_mark),
                            "this YAML anchor is used inside itself (a recursive alias); "
                            "a spec must be a finite tree")
        self.in_progress.add(key)
        try:
            result = self._convert(node)
        finally:
            self.in_progress.discard(key)
        self.done[key] = result
        return result

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != _TAG_PREFIX + expected:
            raise SpecError(_location(self.file, node.start_mark),
                            f"unsupported YAML tag {node.tag!r}; a spec uses plain YAML "
                            "mappings, lists and scalars")

    def _convert(self, node: yaml.Node) -> Node:
        file = self.file
        if isinstance(node, yaml.ScalarNode):
            return _scalar(file, node, self.constructor)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, "seq")
            return Sequence([self.convert(item) for item in node.value],
                            _location(file, node.start_mark))
        assert isinstance(node, yaml.MappingNode)  # the only other node kind
        self._check_tag(node, "map")
        entries: dict[str, tuple[SourceLocation, Node]] = {}
        for key_node, value_node in node.value:
            key_loc = _location(file, key_node.start_mark)
            if key_node.tag == _TAG_PREFIX + "merge":
                raise SpecError(key_loc, "YAML merge keys ('<<') are not supported in a spec")
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar(file, key_node, self.constructor)
                if key.kind != "str":
                    raise SpecError(key_loc, f"mapping key {key_node.value!r} must be a string, "
                                    f"but YAML reads it as {_describe(key)}; quote it "
                                    f"('\"{key_node.value}\"') if you meant the word")
            else:
                kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                raise SpecError(key_loc, f"mapping key must be a string, not {kind}")
            if str(key.value) in entries:
                first, _ = entries[str(key.value)]
                raise SpecError(key_loc, f"duplicate key '{key.value}'",
                                [(first, f"'{key.value}' first defined here")])
            entries[str(key.value)] = (key_loc, self.convert(value_node))
        return Mapping(entries, _location(file, node.start_mark))


def _describe(scalar: Scalar) -> str:
    if scalar.kind == "null":
        return "null"
    if scalar.kind == "bool":
        return f"the boolean {str(scalar.value).lower()}"
    return f"{'an' if scalar.kind == 'int' else 'a'} {scalar.kind} {scalar.value!r}"


_TOO_DEEP = "the spec is nested too deeply"


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset in `text`."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def load(text: str, file: str) -> Node:
    """Parse one YAML document from `text`; `file` names it in locations."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(SourceLocation(file, 1, 1), f"the spec is larger than "
                        f"{MAX_SPEC_BYTES // (1024 * 1024)} MiB")
    found = _UNSEEN_BREAK_OR_SURROGATE.search(text)
    if found is not None:
        char = found.group()
        line, column = _line_column(text, found.start())
        why = (f"({_OTHER_LINE_BREAKS[char]}) is not allowed in a spec: YAML counts it as a "
               "line break where editors and error messages do not" if char in _OTHER_LINE_BREAKS
               else "(a lone surrogate) is not a character")
        raise SpecError(SourceLocation(file, line, column), f"character U+{ord(char):04X} {why}")
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        line, column = _line_column(text, exc.position)
        raise SpecError(SourceLocation(file, line, column), f"not valid YAML: special character "
                        f"U+{exc.character:04X} is not allowed") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _location(file, mark) if mark else SourceLocation(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(loc, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(SourceLocation(file, 1, 1), f"not valid YAML: {exc}") from None
    except RecursionError:
        raise SpecError(SourceLocation(file, 1, 1), _TOO_DEEP) from None
    # An empty document ("---" alone, or only comments) composes to None or to a null scalar.
    documents = [d for d in documents if d is not None and not (
        isinstance(d, yaml.ScalarNode) and d.tag == _TAG_PREFIX + "null" and d.value == "")]
    if not documents:
        raise SpecError(SourceLocation(file, 1, 1), "the spec is empty")
    if len(documents) > 1:
        raise SpecError(_location(file, documents[1].start_mark),
                        "a spec is one YAML document; found a second one")
    converter = _Converter(file)
    try:
        return converter.convert(documents[0])
    except RecursionError:
        raise SpecError(SourceLocation(file, 1, 1), _TOO_DEEP) from None
    finally:
        converter.constructor.dispose()
