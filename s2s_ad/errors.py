"""Exceptions raised by s2s_ad.

Every error s2s_ad raises derives from :class:`S2SError`.  Errors found while
transforming a function carry the user's file, line and the offending source
line, so the message points at user code rather than at the compiler.  This
module imports nothing from the rest of the package, so generated code written
to disk can carry it along.
"""

from __future__ import annotations


class S2SError(Exception):
    """Base class of every s2s_ad error."""


class TransformError(S2SError):
    """A construct in the user's function cannot be differentiated.

    The message names the construct and ends with ``file:line`` and the source
    line itself, e.g.::

        try/except is not supported by s2s_ad
          File "model.py", line 12, in loss
            try:
    """

    def __init__(
        self,
        message: str,
        filename: str | None = None,
        lineno: int | None = None,
        source_line: str | None = None,
        funcname: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.source_line = source_line
        self.funcname = funcname
        super().__init__(self._format())

    def _format(self) -> str:
        text = self.message
        if self.filename is not None and self.lineno is not None:
            where = f'  File "{self.filename}", line {self.lineno}'
            if self.funcname:
                where += f", in {self.funcname}"
            text += "\n" + where
            if self.source_line:
                text += "\n    " + self.source_line.strip()
        return text


class UnsupportedSyntaxError(TransformError):
    """The function uses syntax s2s_ad refuses (try/except, yield, ...)."""


class MissingRuleError(TransformError):
    """A call with active arguments has no derivative rule and no source."""


class SourceUnavailableError(S2SError):
    """The source of a function cannot be retrieved (exec, builtins, REPL)."""


class WrtError(S2SError, ValueError):
    """``wrt`` names an unknown parameter or an index out of range."""


class NonScalarOutputError(S2SError, ValueError):
    """``grad`` of a function whose result is not a scalar, with no seed."""


class ArgumentError(S2SError, TypeError):
    """Arguments that cannot be differentiated (integer or complex arrays)."""
