"""Parse Python source into a gast tree, faster than ``gast.parse``.

``gast.parse`` runs ``ast.parse`` and then converts the tree node by node
through a generic ``NodeTransformer`` (a method lookup, a dict of fields
built with ``hasattr``/``getattr`` and a keyword constructor per node):
for a long function the conversion costs three times the parse itself.
:func:`parse` converts with one precomputed function per node class.

Guarantees: on the Python versions where it is enabled (3.10 and 3.11,
with a gast that has ``type_params``), the tree is the one ``gast.parse``
makes, down to the order of each node's fields and attributes and the
locations it gives or leaves out: the rules are gast's own for those
versions (a generic copy of fields and attributes into the gast class of
the same name; ``Name`` and ``arg`` become ``gast.Name``; a named except
handler names its variable with a ``gast.Name``; defs and classes get
empty ``type_params``).  Elsewhere it is ``gast.parse``.
"""

from __future__ import annotations

import ast
import sys
from typing import Any, Callable

import gast

_AST = ast.AST
_MISSING = object()
_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")

_ENABLED = (3, 10) <= sys.version_info[:2] <= (3, 11) and (
    "type_params" in gast.FunctionDef._fields
)

# ast class -> its converter, made on first use.
_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def parse(text: str) -> gast.Module:
    """``gast.parse(text)``."""
    if not _ENABLED:
        return gast.parse(text)
    return _convert(ast.parse(text))


def _convert(node: Any) -> Any:
    cls = node.__class__
    return (_CONVERTERS.get(cls) or _converter(cls))(node)


def _value(value: Any) -> Any:
    """A field's value converted: nodes, lists of them, or leaves as is."""
    if value.__class__ is list:
        return [_value(v) for v in value]
    if isinstance(value, _AST):
        return _convert(value)
    return value


def _field(node: Any, name: str) -> Any:
    """``getattr(node, name)``, or _MISSING, looking at the node's own
    fields first (parsed nodes have all of theirs)."""
    value = node.__dict__.get(name, _MISSING)
    if value is _MISSING:
        value = getattr(node, name, _MISSING)
    return value


def _converter(cls: type) -> Callable[[Any], Any]:
    special = _SPECIAL.get(cls.__name__)
    convert = special if special is not None else _generic(cls)
    _CONVERTERS[cls] = convert
    return convert


def _generic(cls: type) -> Callable[[Any], Any]:
    target = getattr(gast, cls.__name__, None)
    if target is None:
        return lambda node: None  # not part of the gast tree
    fields = cls._fields
    attributes = cls._attributes
    converters = _CONVERTERS
    node_class, list_class = _AST, list
    size = len(fields) + len(attributes)

    def copied(node: Any) -> Any:
        # A parsed node holds every field, then every attribute, in the
        # order of _fields and _attributes: when the gast class has the same
        # ones, its node's dict is a copy with the child nodes converted.
        source = node.__dict__
        if len(source) != size:
            return convert(node)
        out = source.copy()
        for name in fields:
            value = out[name]
            kind = value.__class__
            if kind is list_class:
                out[name] = [
                    (converters.get(v.__class__) or _converter(v.__class__))(v)
                    if isinstance(v, node_class)
                    else _value(v)
                    for v in value
                ]
            elif isinstance(value, node_class):
                out[name] = (converters.get(kind) or _converter(kind))(value)
        new = target.__new__(target)
        new.__dict__ = out
        return new

    def convert(node: Any) -> Any:
        new = target.__new__(target)
        out = new.__dict__
        source = node.__dict__
        for name in fields:
            value = source.get(name, _MISSING)
            if value is _MISSING:
                value = getattr(node, name, _MISSING)
                if value is _MISSING:
                    continue
            kind = value.__class__
            if kind is list_class:
                value = [
                    (converters.get(v.__class__) or _converter(v.__class__))(v)
                    if isinstance(v, node_class)
                    else _value(v)
                    for v in value
                ]
            elif isinstance(value, node_class):
                value = (converters.get(kind) or _converter(kind))(value)
            out[name] = value
        for name in attributes:
            value = source.get(name, _MISSING)
            if value is _MISSING:
                value = getattr(node, name, _MISSING)
                if value is _MISSING:
                    continue
            out[name] = value
        return new

    if target._fields == fields and target._attributes == attributes:
        return copied
    return convert


def _copy_location(new: Any, old: Any) -> None:
    """``ast.copy_location``: end positions are copied even when None."""
    for name in _LOCATION:
        if name in old._attributes and name in new._attributes:
            value = _field(old, name)
            if value is _MISSING:
                continue
            if value is not None or name.startswith("end_"):
                setattr(new, name, value)


def _copy_given_location(new: Any, old: Any) -> None:
    """``gast.copy_location``: whatever the old node has."""
    for name in _LOCATION:
        if name in old._attributes and name in new._attributes:
            value = _field(old, name)
            if value is not _MISSING:
                setattr(new, name, value)


def _name(node: ast.Name) -> gast.Name:
    # The most common node, made directly: gast.Name(id, ctx, None, None)
    # then ast.copy_location.
    new = _GastName.__new__(_GastName)
    out = new.__dict__
    source = node.__dict__
    out["id"] = source["id"]
    ctx = source["ctx"]
    out["ctx"] = (_CONVERTERS.get(ctx.__class__) or _converter(ctx.__class__))(ctx)
    out["annotation"] = None
    out["type_comment"] = None
    if (
        len(source) == 6
        and source["lineno"] is not None
        and source["col_offset"] is not None
    ):
        # A parsed name: id, ctx and its four locations, all numbers.
        out["lineno"] = source["lineno"]
        out["col_offset"] = source["col_offset"]
        out["end_lineno"] = source["end_lineno"]
        out["end_col_offset"] = source["end_col_offset"]
        return new
    for name in _LOCATION:
        value = source.get(name, _MISSING)
        if value is _MISSING:
            value = getattr(node, name, _MISSING)
            if value is _MISSING:
                continue
        if value is not None or name.startswith("end_"):
            out[name] = value
    return new


_GastName = gast.Name


def _arg(node: ast.arg) -> gast.Name:
    new = gast.Name(
        node.arg, gast.Param(), _value(node.annotation), _value(node.type_comment)
    )
    _copy_location(new, node)
    return new


def _except_handler(node: ast.ExceptHandler) -> gast.ExceptHandler:
    if not node.name:
        return _plain_handler(node)
    new = gast.ExceptHandler(
        _value(node.type),
        gast.Name(node.name, gast.Store(), None, None),
        _value(node.body),
    )
    _copy_location(new, node)
    return new


def _function(target: type) -> Callable[[Any], Any]:
    def convert(node: Any) -> Any:
        new = target(
            _value(node.name),
            _value(node.args),
            _value(node.body),
            _value(node.decorator_list),
            _value(node.returns),
            _value(node.type_comment),
            [],
        )
        _copy_given_location(new, node)
        return new

    return convert


def _class(node: ast.ClassDef) -> gast.ClassDef:
    new = gast.ClassDef(
        _value(node.name),
        _value(node.bases),
        _value(node.keywords),
        _value(node.body),
        _value(node.decorator_list),
        [],
    )
    _copy_given_location(new, node)
    return new


_plain_handler = _generic(ast.ExceptHandler)

# gast's own rules for the nodes it does not copy field by field.
_SPECIAL: dict[str, Callable[[Any], Any]] = {
    "Name": _name,
    "arg": _arg,
    "ExceptHandler": _except_handler,
    "FunctionDef": _function(gast.FunctionDef),
    "AsyncFunctionDef": _function(gast.AsyncFunctionDef),
    "ClassDef": _class,
}
