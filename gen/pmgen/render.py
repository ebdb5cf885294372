"""Render a Module into C text with the Jinja2 templates.

Everything that is not about text is decided here, once, into plain view
objects: the templates only lay those out as C.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import jinja2
import jinja2.meta

from . import naming
from .model import CellKind, CounterKind, Instance, Module

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


@dataclass
class InstanceView:
    type_name: str
    policy_name: str
    handle: str  # Managed_N_P
    box: str  # struct tag of the heap box
    value_type: str  # T: the ctype, or the generated N_P struct
    counter: CounterKind
    cell: CellKind
    is_struct: bool
    clone: str  # "trivial" | "hook" | "fields"
    clone_hook: Optional[str]
    drop_hook: Optional[str]
    origin: str  # spec line:col, for the comment above the code
    fields: list[FieldView]

    @property
    def managed_fields(self) -> list[FieldView]:
        return [f for f in self.fields if f.target is not None]

    is_field_target: bool = False  # some managed field holds this handle

    @property
    def has_dead_link(self) -> bool:
        """Boxes holding handles reuse their header as a list link when they die."""
        return bool(self.managed_fields)


def _views(module: Module) -> list[InstanceView]:
    views: dict[tuple[str, str], InstanceView] = {}
    for inst in module.instances:
        views[inst.key] = _view(inst)
    for inst in module.instances:  # second pass: fields point at other views
        views[inst.key].fields = [
            FieldView(f.name, f.c_type, views[f.target.key] if f.target else None)
            for f in inst.fields]
        for f in inst.fields:
            if f.target is not None:
                views[f.target.key].is_field_target = True
    return list(views.values())


def _view(inst: Instance) -> InstanceView:
    t, p = inst.type, inst.policy
    handle = naming.handle_name(t.name, p.name)
    if t.is_struct:
        clone = "fields"
    else:
        clone = "trivial" if t.copy_trivial else "hook"
    where = inst.required_by or inst.location
    return InstanceView(
        type_name=t.name, policy_name=p.name, handle=handle, box=f"{handle}_box",
        value_type=naming.value_struct_name(t.name, p.name) if t.is_struct else str(t.c_type),
        counter=p.counter, cell=p.cell, is_struct=t.is_struct, clone=clone,
        clone_hook=t.clone_hook, drop_hook=t.drop_hook,
        origin=f"{where.line}:{where.column}", fields=[])


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
                            f"const {v.value_type} *src);")
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
        context = dict(
            module=module.name,
            guard=f"PMGEN_{module.name.upper()}_H",
            spec_name=os.path.basename(module.spec_file),
            version=version,
            includes=module.includes,
            instances=views,
            struct_instances=[v for v in views if v.is_struct],
            hook_prototypes=_hook_prototypes(views),
            runtime_major=RUNTIME_VERSION_REQUIRED[0],
            runtime_minor=RUNTIME_VERSION_REQUIRED[1],
            generic_ops=_generic_ops(views),
        )
        return {
            f"{module.name}.h": self._render("header.h.j2", **context),
            f"{module.name}.c": self._render("source.c.j2", **context),
        }


@dataclass(frozen=True)
class GenericOp:
    """A per-module _Generic macro: `params` of which `dispatch` selects the handle type."""

    name: str
    params: str
    dispatch: str
    handles: list[str]


def _generic_ops(views: list[InstanceView]) -> list[GenericOp]:
    every = [v.handle for v in views]
    locked = [v.handle for v in views if v.cell.tracks_borrows]
    blocking = [v.handle for v in views if v.cell.blocking]
    copyable = [v.handle for v in views if v.clone == "trivial"]  # they have _load
    table = [
        ("new", "out, value", "*(out)", every),
        ("dup", "h", "(h)", every),
        ("try_dup", "h, out", "(h)", every),
        ("drop", "hp", "*(hp)", every),
        ("refcount", "h", "(h)", every),
        ("is_unique", "h", "(h)", every),
        ("read", "h, out", "(h)", every),
        ("release_read", "h", "(h)", every),
        ("load", "h, out", "(h)", copyable),
        ("write", "hp, out", "*(hp)", every),
        ("release_write", "h", "(h)", every),
        ("write_shared", "h, out", "(h)", locked),
        ("read_wait", "h, out, timeout_ns", "(h)", blocking),
        ("write_wait", "hp, out, timeout_ns", "*(hp)", blocking),
        ("write_shared_wait", "h, out, timeout_ns", "(h)", blocking),
    ]
    return [GenericOp(name, params, dispatch, handles)
            for name, params, dispatch, handles in table if handles]


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
