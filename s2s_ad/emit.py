"""From gast trees to readable source text and live function objects.

Guarantees: the text is produced by astor from the tree alone, so the same
tree always gives the same bytes; comment markers become ``#`` comments; the
compiled code is registered in :mod:`linecache` under its own file name, so
tracebacks and ``inspect.getsource`` show the generated lines (which also
makes generated code valid input for another transformation).
"""

from __future__ import annotations

import ast
import gc
import linecache
import re
from collections.abc import Iterable
from types import CellType, CodeType, FunctionType
from typing import Any

import astor
import gast

_COMMENT = re.compile(r"^(\s*)__s2s_comment_[hsm](\d+)__$", re.MULTILINE)


def _one_line(source: list[str]) -> str:
    """astor's default wraps long lines at odd places; keep one per line."""
    return "".join(source)


# gast classes converted by gast's own translator: those whose fields are
# not plain ast fields (names as Name nodes where ast has strings or args).
_BY_GAST = {"ExceptHandler", "arguments", "arg", "TypeVar", "ParamSpec", "TypeVarTuple"}
# gast class -> (ast class, fields both have), or None for _BY_GAST classes.
_PLANS: dict[type, tuple[type, tuple[str, ...]] | None] = {}
# gast class -> one ast node for all its nodes: contexts and operators, which
# have neither fields nor locations, and of which astor reads only the type.
_SHARED: dict[type, ast.AST] = {}


def _plan(cls: type) -> tuple[type, tuple[str, ...]] | None:
    target = getattr(ast, cls.__name__, None)
    if target is None or cls.__name__ in _BY_GAST:
        plan = None
    else:
        # gast only adds fields (Name.annotation, Assign.type_comment, ...)
        # or has some a given Python lacks (type_params); its translator
        # drops the extra ones, as this does.
        plan = (target, tuple(f for f in cls._fields if f in target._fields))
        if not cls._fields and not cls._attributes:
            _SHARED[cls] = target()
    _PLANS[cls] = plan
    return plan


def _to_ast(node: gast.AST) -> ast.AST:
    """The ast tree astor prints as ``gast.gast_to_ast(node)``.

    Several times faster than gast's translator (a generic NodeTransformer),
    which matters because every generated line is converted.  Source
    locations are not copied: astor does not read them."""
    cls = node.__class__
    shared = _SHARED.get(cls)
    if shared is not None:
        return shared
    plan = _PLANS[cls] if cls in _PLANS else _plan(cls)
    if plan is None:
        return gast.gast_to_ast(node)
    target, names = plan
    fields = node.__dict__
    values = {}
    for name in names:
        if name in fields:
            value = fields[name]
            if isinstance(value, gast.AST):
                value = _to_ast(value)
            elif value.__class__ is list:
                value = [_to_ast(v) if isinstance(v, gast.AST) else v for v in value]
            values[name] = value
    return target(**values)


# -- a fast path for astor ----------------------------------------------------
#
# Generated code is mostly three-address arithmetic and calls, printed at
# several lines per source line, so astor (a generic visitor that also needs
# the tree converted to ast first) dominated the time to emit it.  _expr and
# _lines print that common subset themselves, following astor's rules exactly
# (its own precedence and symbol tables; parentheses exactly where astor's
# Delimit keeps them), and give up on anything else, which then goes to astor
# whole.

_PREC = {
    getattr(gast, cls.__name__): prec
    for cls, prec in astor.op_util.precedence_data.items()
    if cls is not None and hasattr(gast, cls.__name__)
}
_SYMBOL = {
    getattr(gast, cls.__name__): symbol
    for cls, symbol in astor.op_util.symbol_data.items()
    if cls is not None and hasattr(gast, cls.__name__) and symbol
}
_P = astor.op_util.Precedence
# astor's precedence of a child its parent says nothing about.
_UNSET = _P.highest


class _Unsupported(Exception):
    """A node the fast path does not print (astor prints the whole text)."""


# The classes the fast path tests, bound once (it runs for every node).
_Assign = gast.Assign
_Attribute = gast.Attribute
_AugAssign = gast.AugAssign
_BinOp = gast.BinOp
_BoolOp = gast.BoolOp
_Break = gast.Break
_Call = gast.Call
_Compare = gast.Compare
_Constant = gast.Constant
_Continue = gast.Continue
_Expr = gast.Expr
_For = gast.For
_If = gast.If
_IfExp = gast.IfExp
_List = gast.List
_Name = gast.Name
_Pass = gast.Pass
_Pow = gast.Pow
_Return = gast.Return
_Slice = gast.Slice
_Starred = gast.Starred
_Subscript = gast.Subscript
_Tuple = gast.Tuple
_UnaryOp = gast.UnaryOp
_While = gast.While


def _expr(node: gast.expr, pp: int) -> str:
    """``node`` as astor writes it where its parent set precedence ``pp``."""
    cls = node.__class__
    if cls is _Name:
        return node.id
    if cls is _Constant:
        value = node.value
        if value is None:
            return "None"  # astor writes it with no delimiters
        kind = value.__class__
        # Numbers are delimited; negative, infinite and NaN ones are written
        # specially, strings depend on the column: all left to astor.
        if kind is bool or (
            (kind is int or kind is float) and value >= 0 and str(value)[0] != "-"
        ):
            text = repr(value)
            if kind is float and text in ("inf", "nan"):
                raise _Unsupported
            return f"({text})" if _P.Constant < pp else text
        raise _Unsupported
    if cls is _BinOp:
        op = node.op.__class__
        p = _PREC[op]
        left, right = node.left, node.right
        # A name is written as it is, whatever the precedence: most operands
        # are names, and a call less for each is a third of the calls.
        if op is _Pow:
            left = left.id if left.__class__ is _Name else _expr(left, _P.Pow + 1)
            right = right.id if right.__class__ is _Name else _expr(right, _P.PowRHS)
        else:
            left = left.id if left.__class__ is _Name else _expr(left, p)
            right = right.id if right.__class__ is _Name else _expr(right, p + 1)
        text = f"{left} {_SYMBOL[op]} {right}"
        return f"({text})" if p < pp else text
    if cls is _Call:
        args, keywords = node.args, node.keywords
        inner = _P.Comma if len(args) + len(keywords) > 1 else _P.call_one_arg
        parts = []
        for arg in args:
            cls = arg.__class__
            if cls is _Name:
                parts.append(arg.id)
            elif cls is _Starred:
                parts.append("*" + _expr(arg.value, _UNSET))
            else:
                parts.append(_expr(arg, inner))
        for keyword in keywords:
            value = _expr(keyword.value, _P.Comma)
            parts.append(f"{keyword.arg}={value}" if keyword.arg else "**" + value)
        return f"{_expr(node.func, _UNSET)}({', '.join(parts)})"
    if cls is _Attribute:
        value = node.value
        if value.__class__ is _Name:
            return f"{value.id}.{node.attr}"
        return f"{_expr(value, _UNSET)}.{node.attr}"
    if cls is _Subscript:
        index = _expr(node.slice, _P.Subscript)
        return f"{_expr(node.value, _UNSET)}[{index}]"
    if cls is _UnaryOp:
        op = node.op.__class__
        p = _PREC[op]
        symbol = _SYMBOL[op]
        text = symbol + (" " if symbol.isalpha() else "") + _expr(node.operand, p)
        return f"({text})" if p < pp else text
    if cls is _Tuple:
        text = ", ".join([_expr(e, _P.Comma) for e in node.elts])
        if len(node.elts) == 1:
            text += ","
        return text if _P.Tuple >= pp and node.elts else f"({text})"
    if cls is _List:
        return "[" + ", ".join([_expr(e, _P.Comma) for e in node.elts]) + "]"
    if cls is _Compare:
        p = _PREC[node.ops[0].__class__]
        text = _expr(node.left, p + 1)
        for op, right in zip(node.ops, node.comparators):
            text += f" {_SYMBOL[op.__class__]} {_expr(right, p + 1)}"
        return f"({text})" if p < pp else text
    if cls is _BoolOp:
        op = node.op.__class__
        p = _PREC[op]
        text = f" {_SYMBOL[op]} ".join([_expr(v, p + 1) for v in node.values])
        return f"({text})" if p < pp else text
    if cls is _IfExp:
        p = _P.IfExp
        body, test = _expr(node.body, p + 1), _expr(node.test, p + 1)
        text = f"{body} if {test} else {_expr(node.orelse, p)}"
        return f"({text})" if p < pp else text
    if cls is _Slice:
        if node.step is not None:
            raise _Unsupported
        lower = "" if node.lower is None else _expr(node.lower, _P.Slice)
        upper = "" if node.upper is None else _expr(node.upper, _P.Slice)
        return f"{lower}:{upper}"
    raise _Unsupported


def _lines(stmts: list[gast.stmt], indent: str, out: list[str]) -> None:
    """Append the statements' lines as astor writes them at ``indent``."""
    for stmt in stmts:
        cls = stmt.__class__
        if cls is _Assign:
            targets = "".join([_expr(t, _P.Assign) + " = " for t in stmt.targets])
            out.append(indent + targets + _expr(stmt.value, _P.Assign))
        elif cls is _Expr:
            out.append(indent + _expr(stmt.value, _P.Expr))
        elif cls is _AugAssign:
            target = _expr(stmt.target, _P.AugAssign)
            value = _expr(stmt.value, _P.AugAssign)
            out.append(f"{indent}{target} {_SYMBOL[stmt.op.__class__]}= {value}")
        elif cls is _Return:
            if stmt.value is None:
                out.append(indent + "return")
            else:
                out.append(indent + "return " + _expr(stmt.value, _P.Return))
        elif cls is _If:
            out.append(f"{indent}if {_expr(stmt.test, _P.If)}:")
            _lines(stmt.body, indent + "    ", out)
            orelse = stmt.orelse
            while len(orelse) == 1 and orelse[0].__class__ is _If:
                out.append(f"{indent}elif {_expr(orelse[0].test, _P.If)}:")
                _lines(orelse[0].body, indent + "    ", out)
                orelse = orelse[0].orelse
            _else(orelse, indent, out)
        elif cls is _For:
            target = _expr(stmt.target, _P.For)
            out.append(f"{indent}for {target} in {_expr(stmt.iter, _UNSET)}:")
            _lines(stmt.body, indent + "    ", out)
            _else(stmt.orelse, indent, out)
        elif cls is _While:
            out.append(f"{indent}while {_expr(stmt.test, _P.While)}:")
            _lines(stmt.body, indent + "    ", out)
            _else(stmt.orelse, indent, out)
        elif cls is _Pass:
            out.append(indent + "pass")
        elif cls is _Break:
            out.append(indent + "break")
        elif cls is _Continue:
            out.append(indent + "continue")
        else:
            raise _Unsupported


def _else(orelse: list[gast.stmt], indent: str, out: list[str]) -> None:
    if orelse:
        out.append(indent + "else:")
        _lines(orelse, indent + "    ", out)


def _astor_text(node: gast.AST) -> str:
    module = gast.Module(body=[node], type_ignores=[])
    return astor.to_source(_to_ast(module), pretty_source=_one_line)


def statement_text(stmt: gast.stmt) -> str:
    """One statement as a single line of source (for comments)."""
    lines: list[str] = []
    try:
        _lines([stmt], "", lines)
    except _Unsupported:
        lines = _astor_text(stmt).strip().splitlines()
    return " ".join(line.strip() for line in lines)


def function_text(fdef: gast.FunctionDef, comments: list[str]) -> str:
    lines: list[str] = []
    try:
        _lines(fdef.body, "    ", lines)
        if fdef.decorator_list or not lines:
            raise _Unsupported
    except _Unsupported:
        text = _astor_text(fdef)
    else:
        # astor writes the def line, whatever the body, as with a pass body.
        header = gast.FunctionDef(**{**fdef.__dict__, "body": [gast.Pass()]})
        text = _astor_text(header).splitlines()[0] + "\n" + "\n".join(lines) + "\n"

    def put(match: re.Match[str]) -> str:
        return f"{match.group(1)}# {comments[int(match.group(2))]}"

    return _COMMENT.sub(put, text)


_SCOPE = "__s2s_scope__"
# The start of a top-level def of generated text (no other line at column 0
# starts so, where no string spans lines).
_TOP_DEF = re.compile(r"^def ([A-Za-z_][A-Za-z_0-9]*)\(", re.MULTILINE)


def compile_text(text: str, filename: str, cellnames: Iterable[str] = ()) -> Any:
    """Compile generated text and make its lines visible to tracebacks.

    The text's functions are compiled nested in a scope whose parameters are
    ``cellnames``, so those names become closure variables of the generated
    functions (fast to read, and the user's own closure cells can be shared)
    while every other free name is an ordinary global of the user's module.
    Line numbers are those of ``text``, whose lines linecache holds (indented
    one level, as compiled, where that leaves the text's strings alone)."""
    names = sorted(set(cellnames))
    # Parsing allocates a node per token of a long text, none in a cycle: the
    # cyclic garbage collector would only rescan them, over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if '"""' in text or "'''" in text:
            code, lines = _compile_tree(text, filename, names)
        else:
            code, lines = _compile_indented(text, filename, names)
    finally:
        if collecting:
            gc.enable()
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return code


def _compile_indented(
    text: str, filename: str, names: list[str]
) -> tuple[CodeType, list[str]]:
    """Compile the text as the body of the scope, written out: compiling
    source text is about twice as fast as parsing it to a tree first.  The
    scope's own line comes first, so the functions' line numbers are moved
    back by one; linecache gets the indented lines, so columns are right."""
    lines = [
        "    " + line if line.strip() else line
        for line in text.splitlines(keepends=True)
    ]
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    listing = ", ".join(f"{d!r}: {d}" for d in _TOP_DEF.findall(text))
    wrapped = "".join(
        [f"def {_SCOPE}({', '.join(names)}):\n", *lines, f"    return {{{listing}}}\n"]
    )
    code = compile(wrapped, filename, "exec")
    scope = next(c for c in code.co_consts if isinstance(c, CodeType))
    inner = tuple(
        _moved(c, -1) if isinstance(c, CodeType) else c for c in scope.co_consts
    )
    scope = scope.replace(co_consts=inner)
    outer = tuple(scope if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_consts=outer), lines


def _moved(code: CodeType, by: int) -> CodeType:
    """``code`` and the code nested in it with every line number moved by
    ``by`` (locations are stored relative to the first line)."""
    consts = tuple(
        _moved(c, by) if isinstance(c, CodeType) else c for c in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + by, co_consts=consts)


def _compile_tree(
    text: str, filename: str, names: list[str]
) -> tuple[CodeType, list[str]]:
    """Compile the text's tree moved into the scope: its lines keep their
    numbers and columns as they are."""
    tree = ast.parse(text, filename)
    scope = ast.parse(f"def {_SCOPE}({', '.join(names)}):\n    pass").body[0]
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    listing = ", ".join(f"{d!r}: {d}" for d in defined)
    # Every node comes from ast.parse, so all have locations already.
    scope.body = [*tree.body, ast.parse(f"return {{{listing}}}").body[0]]
    code = compile(ast.Module(body=[scope], type_ignores=[]), filename, "exec")
    return code, text.splitlines(keepends=True)


def define(
    code: Any, module_globals: dict[str, Any], cells: dict[str, CellType]
) -> dict[str, FunctionType]:
    """The functions of code made by :func:`compile_text`, with
    ``module_globals`` as globals and their closure variables read from
    ``cells`` (which must hold every name given as ``cellnames``).  Cells for
    the functions' own names are added to ``cells`` and filled, so they can
    call each other; a cell may be filled later (mutual references)."""
    scope_code = next(
        c for c in code.co_consts if isinstance(c, CodeType) and c.co_name == _SCOPE
    )
    params = scope_code.co_varnames[: scope_code.co_argcount]
    # Run once with placeholders only to evaluate each def (its defaults);
    # the functions are then rebuilt on the shared cells.
    made = FunctionType(scope_code, module_globals)(*(None for _ in params))
    out: dict[str, FunctionType] = {}
    for name in made:
        cells.setdefault(name, CellType())
    for name, func in made.items():
        closure = tuple(cells[v] for v in func.__code__.co_freevars)
        rebuilt = FunctionType(
            func.__code__, module_globals, name, func.__defaults__, closure
        )
        rebuilt.__kwdefaults__ = func.__kwdefaults__
        cells[name].cell_contents = rebuilt
        out[name] = rebuilt
    return out
