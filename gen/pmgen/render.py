"""Render a Module into C text with the Jinja2 templates.

Everything that is not about text is decided here, once, into plain view
objects: the templates only lay those out as C.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import jinja2
import jinja2.meta

from . import naming, registry
from .model import CellKind, CounterKind, Instance, InstanceVariant, Module

RUNTIME_VERSION_REQUIRED = (0, 1)  # (major, minimum minor) of runtime/pm.h

# The templates live in the package when installed, at the top of a checkout otherwise.
_INSTALLED = Path(__file__).resolve().parent / "templates"
_CHECKOUT = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_DIR = _INSTALLED if _INSTALLED.is_dir() else _CHECKOUT


@dataclass(frozen=True)
class FieldView:
    name: str
    c_type: str
    target: Optional["InstanceView"]
    weak: bool = False  # a weak reference to `target`, not an owner


@dataclass
class VariantView:
    """A variant of a sum type under one policy, as the templates lay it out."""

    name: str  # the member of the value's union, and the constructor's suffix
    tag: str  # its enum constant, N_V
    fields: list[FieldView]
    nullary_box: Optional[str]  # the shared immortal box of a nullary variant, if any
    fields_table: Optional[str]  # its managed fields' pm_field table, if it has any
    origin: str  # spec line:col
    value_size: str  # C constant expressions: the tag and this variant's fields,
    box_size: str  # and the box that holds them

    @property
    def nullary(self) -> bool:
        return not self.fields

    @property
    def managed_fields(self) -> list[FieldView]:
        return [f for f in self.fields if f.target is not None]

    @property
    def parameters(self) -> str:
        """The constructor's parameters after `out`: the fields, in order."""
        return "".join(f", {f.c_type} {f.name}" for f in self.fields)

    def arguments(self, value: str) -> str:
        """The constructor's arguments after `out` taken from `value`, a value of this variant."""
        return "".join(f", {value}.{self.name}.{f.name}" for f in self.fields)


@dataclass(frozen=True)
class SumTypeView:
    """A sum type's tag enum, emitted once for all its policies."""

    tag_type: str
    constants: list[tuple[str, str]]  # (N_V, spec line:col)


@dataclass
class InstanceView:
    """One instance as the templates see it: names, blocks, and what it has.

    Templates ask `has(op)` (the registry's answer) and read the flags below;
    they never re-derive a decision from kinds or policy names.
    """

    type_name: str
    policy_name: str
    handle: str  # Managed_N_P
    box: str  # struct tag of the heap box
    descriptor: str  # the const pm_box_type the runtime's cold paths read
    metrics: str  # the pm_metrics object of the PM_METRICS build
    value_type: str  # T: the ctype, or the generated N_P struct
    counter: CounterKind
    cell: CellKind
    ops: frozenset[str]  # registry keys of the operations and names this instance has
    has_cell: bool  # the box has a cell that tracks borrows
    snapshot: bool  # the box keeps an optimistic snapshot for _load
    box_align: int  # boxes start at a multiple of it (`box_align`); 0: malloc's alignment
    clone_hook: Optional[str]
    drop_hook: Optional[str]
    origin: str  # spec line:col, for the comment above the code
    fields: list[FieldView]
    weak: Optional[str] = None  # Weak_N_P when the type has weak references
    # region: true: Region_N_P_alloc, and whether a value in a region has anything to drop
    # at reset/fini (a drop hook, managed fields): then it records pm_value_drop.
    region_alloc: Optional[str] = None
    drops: bool = False  # a value has something to drop (regions and stores record it)
    # Every name of the instance by its registry key (the store's functions and types).
    names: dict[str, str] = field(default_factory=dict)
    # Conversion: the module's index of this policy, and the same type under every
    # other policy (Managed_N_P_to_Q for each, the descriptor's family table).
    policy_index: int = 0
    conversions: list["InstanceView"] = field(default_factory=list)
    # Sum types: the tag enum and the variants (none for other types).
    tag_type: Optional[str] = None
    variants: list[VariantView] = field(default_factory=list)
    handles: bool = False  # the value holds managed fields (in some variant)
    # _write copies a shared box inline: the value's bytes are its copy (no clone hook,
    # no managed fields), one box size (not a sum type), no weak count; a snapshot is set up.
    # With no drop hook either, the last owner's _drop frees the box inline too.
    copies_inline: bool = False

    @property
    def family(self) -> list["InstanceView"]:
        """This type under each of its policies, this one included, in the module's order."""
        return sorted([self, *self.conversions], key=lambda v: v.policy_index)

    def has(self, op: str) -> bool:
        """Whether this instance gets registry entry `op` (an operation or a name)."""
        if op not in _REGISTRY_OPS:
            raise KeyError(f"'{op}' is not in the operation registry")
        return op in self.ops

    @property
    def managed_fields(self) -> list[FieldView]:
        return [f for f in self.fields if f.target is not None]

    @property
    def const_value_type(self) -> str:
        """T made const: `const T`, or `T const` when T is a pointer (`FILE *const`)."""
        if self.value_type.endswith("*"):
            return f"{self.value_type}const"
        return f"const {self.value_type}"

    @property
    def box_size(self) -> str:
        """The bytes of one box, as a C constant expression."""
        if self.snapshot:
            return self.aligned(f"PM_SNAP_BOX_SIZE({self.box}, sizeof({self.value_type}))")
        return self.aligned(f"sizeof({self.box})")

    @property
    def box_size_in_new(self) -> str:
        """The same, where a `value` of type T is in scope (shorter lines)."""
        return (self.aligned(f"PM_SNAP_BOX_SIZE({self.box}, sizeof value)") if self.snapshot
                else self.aligned(f"sizeof({self.box})"))

    def aligned(self, size: str) -> str:
        """A box size (a C expression) rounded up to the type's box_align, if it has one."""
        return f"PM_BOX_ALIGN_UP({size}, {self.box_align})" if self.box_align else size

    @property
    def dead_link(self) -> bool:
        """Boxes holding handles reuse their header as the destroy list's link."""
        return self.handles


_REGISTRY_OPS = frozenset(e.op for e in registry.INSTANCE_ENTRIES)


def _views(module: Module) -> list[InstanceView]:
    views: dict[tuple[str, str], InstanceView] = {}
    for inst in module.instances:
        views[inst.key] = _view(inst, module.namer)
    policy_index = {name: k for k, name in enumerate(module.policies)}
    for inst in module.instances:  # second pass: fields point at other views
        views[inst.key].fields = [
            FieldView(f.name, f.c_type, views[f.target.key] if f.target else None, f.weak)
            for f in inst.fields]
        views[inst.key].policy_index = policy_index[inst.policy.name]
        views[inst.key].conversions = [views[other.key] for other in inst.conversions]
        if inst.variants:
            by_variant: dict[str, dict[str, str]] = {}
            for name, entry, variant in registry.instance_names(inst, module.namer):
                if variant:
                    by_variant.setdefault(variant, {})[entry.op] = name
            views[inst.key].variants = [
                _variant_view(views, inst, v, by_variant.get(v.name, {}), module.namer)
                for v in inst.variants]
    return list(views.values())


def _variant_view(views: dict[tuple[str, str], InstanceView], inst: Instance,
                  variant: InstanceVariant, names: dict[str, str],
                  namer: naming.Namer) -> VariantView:
    """`names`: the variant's own registry names, by op."""
    view = views[inst.key]
    value_size = (f"sizeof({namer.tag_type(inst.type.name)})" if not variant.fields
                  else f"PM_VARIANT_VALUE_SIZE({view.value_type}, {variant.name})")
    return VariantView(
        name=variant.name, tag=namer.tag_constant(inst.type.name, variant.name),
        fields=[FieldView(f.name, f.c_type, views[f.target.key] if f.target else None, f.weak)
                for f in variant.fields],
        nullary_box=names.get("nullary_box"), fields_table=names.get("variant_fields_table"),
        origin=f"{variant.location.line}:{variant.location.column}",
        value_size=value_size,
        box_size=view.aligned(
            f"PM_NULLARY_BOX_SIZE({view.box}, {namer.tag_type(inst.type.name)})"
            if not variant.fields
            else f"PM_VARIANT_BOX_SIZE({view.box}, {view.value_type}, {variant.name})"))


def _sum_types(module: Module) -> list[SumTypeView]:
    namer = module.namer
    return [SumTypeView(namer.tag_type(t.name),
                        [(namer.tag_constant(t.name, v.name),
                          f"{v.location.line}:{v.location.column}") for v in t.variants])
            for t in module.types.values() if t.is_sum]


def _view(inst: Instance, namer: naming.Namer) -> InstanceView:
    t, p = inst.type, inst.policy
    names = registry.names_by_op(inst, namer)
    caps = registry.capabilities(inst)
    where = inst.required_by or inst.location
    return InstanceView(
        type_name=t.name, policy_name=p.name, handle=names["handle"], box=names["box"],
        descriptor=names["type_descriptor"], metrics=names["metrics"],
        value_type=names["value_struct"] if t.is_struct else str(t.c_type),
        counter=p.counter, cell=p.cell, ops=registry.operations(inst),
        has_cell=registry.CELL in caps, snapshot=registry.SNAPSHOT in caps,
        box_align=t.box_align,
        clone_hook=t.clone_hook, drop_hook=t.drop_hook,
        origin=f"{where.line}:{where.column}", fields=[],
        weak=names.get("weak_handle"),
        region_alloc=names.get("region_alloc"),
        drops=registry.DROP_HOOK in caps or registry.HANDLES in caps,
        names=names,
        tag_type=namer.tag_type(t.name) if t.is_sum else None,
        handles=registry.HANDLES in caps,
        copies_inline=not caps & {registry.CLONE_HOOK, registry.HANDLES, registry.VARIANTS,
                                  registry.WEAK})


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _hook_prototypes(views: list[InstanceView]) -> list[str]:
    """One prototype per hook, so a hook with the wrong signature fails to compile."""
    seen: dict[str, str] = {}
    for v in views:
        if v.clone_hook:
            seen.setdefault(v.clone_hook, f"pm_status {v.clone_hook}({v.value_type} *dst, "
                            f"{v.const_value_type} *src);")
        if v.drop_hook:
            seen.setdefault(v.drop_hook, f"void {v.drop_hook}({v.value_type} *value);")
    return list(seen.values())


class Renderer:
    """Renders modules; records the template files it actually loaded."""

    def __init__(self) -> None:
        self.env = _environment()
        self.loaded: set[str] = set()

    def _render(self, name: str, **context: object) -> str:
        template = self.env.get_template(name)
        self._note_loaded(template)
        return template.render(**context)

    def _note_loaded(self, template: jinja2.Template) -> None:
        if template.filename:
            self.loaded.add(os.path.abspath(template.filename))
        for ref in sorted(_referenced_templates(self.env, template.name or "")):
            self.loaded.add(os.path.abspath(os.path.join(str(TEMPLATE_DIR), ref)))

    def render(self, module: Module, version: str) -> dict[str, str]:
        views = _views(module)
        names = registry.module_entry_names(module.name, module.namer)
        context = dict(
            module=module.name,  # the file names <module>.h and <module>.c
            guard=names["guard"],
            names=names,  # the module's functions and variables, prefixed
            spec_name=_SPEC_NAME_UNSAFE.sub("?", os.path.basename(module.spec_file)),
            version=version,
            includes=module.includes,
            instances=views,
            struct_instances=[v for v in views if v.has("value_struct")],
            sum_types=_sum_types(module),
            hook_prototypes=_hook_prototypes(views),
            runtime_major=RUNTIME_VERSION_REQUIRED[0],
            runtime_minor=RUNTIME_VERSION_REQUIRED[1],
            generic_ops=_generic_ops(module),
        )
        return {
            f"{module.name}.h": wrap_long_lines(self._render("header.h.j2", **context)),
            f"{module.name}.c": wrap_long_lines(self._render("source.c.j2", **context)),
        }


@dataclass(frozen=True)
class GenericOp:
    """A per-module _Generic macro: `params` of which `dispatch` selects the handle type."""

    name: str
    macro: str  # the macro's name: <module>_<name>, prefixed
    params: str
    dispatch: str
    handles: list[str]


def _generic_ops(module: Module) -> list[GenericOp]:
    return [GenericOp(op, macro, form.params, form.dispatch, handles)
            for op, macro, form, handles
            in registry.generic_macros(module.name, module.instances, module.namer)]


# The spec's file name goes into a C comment: only characters that cannot end it.
_SPEC_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
LINE_WIDTH = 100
# A one-line prototype or definition head: `<result> name(<params>)` then `;` or ` {`.
_PROTOTYPE = re.compile(r"(?P<head>[A-Za-z_][^(;{}]*\()(?P<params>[^()]*)\)(?P<tail>;| \{)")


def wrap_long_lines(text: str, width: int = LINE_WIDTH) -> str:
    """Break code lines wider than `width` after commas of their outermost call.

    A prototype continues under its first parameter, a statement 8 columns in;
    comments and preprocessor lines are left alone. Deterministic: the output
    depends only on the text.
    """
    out: list[str] = []
    for line in text.split("\n"):
        in_macro = bool(out) and out[-1].endswith("\\")
        out += [line] if in_macro else _wrap(line, width)
    return "\n".join(out)


def _wrap(line: str, width: int, continued: bool = False) -> list[str]:
    stripped = line.lstrip()
    if len(line) <= width or stripped.startswith(("#", "/*", "*")):
        return [line]
    indent = line[:len(line) - len(stripped)]
    commas, depth, first_open = [], 0, -1
    for k, char in enumerate(line):
        if char == "(":
            depth += 1
            first_open = k if first_open < 0 else first_open
        elif char == ")":
            depth -= 1
        elif char == "," and line[k + 1:k + 2] == " ":
            commas.append((depth, k + 1))
    outer = min((d for d, _ in commas if d > 0 or continued), default=None)
    cuts = [k for d, k in commas if d == outer]
    if _PROTOTYPE.fullmatch(line) and not continued:
        if first_open + 1 > width:  # the result type on a line of its own
            name_at = line.rindex(" ", 0, first_open) + 1
            return [line[:name_at].rstrip()] + _wrap(line[name_at:], width)
        params = line[first_open + 1:]
        if first_open + 1 + max(len(p) for p in params.split(", ")) + 2 <= width:
            head, rest = line[:first_open + 1], params  # continue under the first parameter
            return _pack(head, rest.split(", "), " " * len(head), width)
        return [line[:first_open + 1]] + _wrap(indent + "    " + params, width, True)
    fitting = [k for k in cuts if k <= width]
    if not fitting:  # a nested call's comma, the shallowest that fits; else after " = "
        fitting = _deeper_cuts(commas, outer, width) or _assignment_cut(line, first_open, width)
    if not fitting and stripped.startswith("typedef ") and first_open < 0:
        return [line[:line.rindex(" ")], indent + "    " + line[line.rindex(" ") + 1:]]
    if fitting:
        cut = fitting[-1]
    else:
        cut = cuts[0] if cuts else _call_open_cut(line, first_open, width)
    if cut <= len(indent) + 1 or cut >= len(line):  # nothing, or a lone "(", before the cut
        return [line]
    return [line[:cut].rstrip()] + _wrap(indent + ("" if continued else "        ")
                                         + line[cut:].lstrip(), width, True)


def _deeper_cuts(commas: list[tuple[int, int]], outer: Optional[int], width: int) -> list[int]:
    """The cuts after commas nested below the outermost call's, at the shallowest depth
    where one fits."""
    for depth in sorted({d for d, _ in commas if outer is not None and d > outer}):
        fitting = [k for d, k in commas if d == depth and k <= width]
        if fitting:
            return fitting
    return []


def _assignment_cut(line: str, first_open: int, width: int) -> list[int]:
    """After the " =" of a declaration or assignment, when it comes before any call."""
    at = line.find(" = ")
    return [at + 2] if 0 < at and at + 2 <= width and (first_open < 0 or at < first_open) else []


def _call_open_cut(line: str, first_open: int, width: int) -> int:
    """After the last call's "(" that fits (a name before it: not a cast's), else the first."""
    calls = [k + 1 for k in range(1, min(len(line), width))
             if line[k] == "(" and (line[k - 1].isalnum() or line[k - 1] == "_")]
    return calls[-1] if calls else first_open + 1


def _pack(head: str, parts: list[str], continuation: str, width: int) -> list[str]:
    """`head` then `parts` joined by ", ", as many per line as fit."""
    lines, current = [], head + parts[0]
    for k, part in enumerate(parts[1:], start=2):
        comma = 1 if k < len(parts) else 0  # a line that goes on ends in ","
        if len(current) + 2 + len(part) + comma > width:
            lines.append(current + ",")
            current = continuation + part
        else:
            current += ", " + part
    return lines + [current]


def _referenced_templates(env: jinja2.Environment, name: str) -> set[str]:
    """Templates pulled in by {% include %}/{% import %}, transitively."""
    found: set[str] = set()
    todo = [name]
    while todo:
        source = env.loader.get_source(env, todo.pop())[0]  # type: ignore[union-attr]
        for ref in jinja2.meta.find_referenced_templates(env.parse(source)):
            if ref and ref not in found:
                found.add(ref)
                todo.append(ref)
    return found
