"""YAML loading that keeps a source location on every node.

PyYAML's `compose` gives nodes with marks; this module turns them into three
small node classes and rejects what plain `yaml.safe_load` would silently
accept: duplicate keys, several documents, and non-string mapping keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import yaml

from .errors import SourceLocation, SpecError

_TAG_PREFIX = "tag:yaml.org,2002:"


@dataclass
class Scalar:
    """A scalar with its YAML type: 'str', 'int', 'bool', 'float' or 'null'."""

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
    try:
        if kind == "int":
            return Scalar(constructor.construct_yaml_int(node), "int", loc)
        if kind == "bool":
            return Scalar(constructor.construct_yaml_bool(node), "bool", loc)
        if kind == "float":
            return Scalar(constructor.construct_yaml_float(node), "float", loc)
        if kind == "null":
            return Scalar(None, "null", loc)
    except (ValueError, yaml.YAMLError):
        raise SpecError(loc, f"malformed {kind} {node.value!r}") from None
    if kind != "str":
        raise SpecError(loc, f"unsupported YAML tag {node.tag!r}")
    return Scalar(node.value, "str", loc)


def _convert(file: str, node: yaml.Node, constructor: yaml.SafeLoader) -> Node:
    if isinstance(node, yaml.ScalarNode):
        return _scalar(file, node, constructor)
    if isinstance(node, yaml.SequenceNode):
        return Sequence([_convert(file, item, constructor) for item in node.value],
                        _location(file, node.start_mark))
    assert isinstance(node, yaml.MappingNode)  # the only other node kind
    entries: dict[str, tuple[SourceLocation, Node]] = {}
    for key_node, value_node in node.value:
        key_loc = _location(file, key_node.start_mark)
        if key_node.tag == _TAG_PREFIX + "merge":
            raise SpecError(key_loc, "YAML merge keys ('<<') are not supported in a spec")
        key = _convert(file, key_node, constructor)
        if not isinstance(key, Scalar) or key.kind != "str":
            shown = key.value if isinstance(key, Scalar) else type(key).__name__.lower()
            raise SpecError(key_loc, f"mapping key must be a string, not {shown!r}"
                            " (quote it if you meant the word)")
        if key.value in entries:
            first, _ = entries[key.value]
            raise SpecError(key_loc, f"duplicate key '{key.value}'",
                            [(first, f"'{key.value}' first defined here")])
        entries[key.value] = (key_loc, _convert(file, value_node, constructor))
    return Mapping(entries, _location(file, node.start_mark))


def load(text: str, file: str) -> Node:
    """Parse one YAML document from `text`; `file` names it in locations."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _location(file, mark) if mark else SourceLocation(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(loc, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(SourceLocation(file, 1, 1), f"not valid YAML: {exc}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SpecError(SourceLocation(file, 1, 1), "the spec is empty")
    if len(documents) > 1:
        raise SpecError(_location(file, documents[1].start_mark),
                        "a spec is one YAML document; found a second one")
    constructor = yaml.SafeLoader("")  # builds typed scalars; reads no input
    try:
        return _convert(file, documents[0], constructor)
    finally:
        constructor.dispose()
