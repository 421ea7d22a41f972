"""One exception tree for bivoice-jupyter.

Every error we raise is a :class:`BivoiceError`. In a notebook it renders as one line plus a
hint (``_render_traceback_``) instead of a traceback, and the cell still fails, so papermill and
nbval see the failure.
"""

from __future__ import annotations


class BivoiceError(Exception):
    """Base of every bivoice-jupyter error: a message that says what was wrong, and a hint."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} (hint: {self.hint})" if self.hint else msg

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        lines = [f"{type(self).__name__}: {super().__str__()}"]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


class ConfigError(BivoiceError):
    """A setting (DSN, model name, limit) is malformed."""


class WorkspaceError(BivoiceError):
    """The workspace cannot be opened or used (connection, chDB path, unknown table)."""


class GuardRejected(BivoiceError):
    """The SQL guard refused a query.

    ``rule`` names the rule that refused it, ``fragment`` the offending part of the query and
    ``sql`` the whole query as given. The LLM planner feeds these back for repair.
    """

    def __init__(self, rule: str, message: str, *, sql: str = "", fragment: str = "", hint: str | None = None) -> None:
        super().__init__(f"[{rule}] {message}", hint=hint)
        self.rule = rule
        self.fragment = fragment
        self.sql = sql


class QueryError(BivoiceError):
    """ClickHouse refused or failed a guarded query (a missing column, a timeout, a limit)."""

    def __init__(self, message: str, *, code: int | None = None, sql: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.sql = sql


class PlanningError(BivoiceError):
    """The planner could not turn a question into an intent."""


class UnmatchedTerm(PlanningError):
    """A word of the question matches no column or value; ``candidates`` are what exists."""

    def __init__(self, term: str, candidates: list[str], *, table: str = "") -> None:
        shown = ", ".join(candidates[:12]) + (" ..." if len(candidates) > 12 else "")
        where = f" in table {table}" if table else ""
        super().__init__(
            f"I could not match {term!r} to a column{where}.",
            hint=f"columns are: {shown}; rephrase with one of them",
        )
        self.term = term
        self.candidates = candidates


class SpeechError(BivoiceError):
    """Speech recognition failed (model missing, model failed to load, decoding failed)."""


class AudioError(SpeechError):
    """The audio given cannot be used (corrupt, unsupported type, wrong dtype, empty)."""


class MissingExtraError(BivoiceError, ImportError):
    """An optional library is not installed; the message names the pip extra."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed.",
            hint=f"pip install 'bivoice-jupyter[{extra}]'",
        )
        self.package = package
        self.extra = extra


class SourceError(BivoiceError):
    """An ETL source cannot be read (missing file, unsupported type, bad table name)."""


class LoadError(BivoiceError):
    """A load into ClickHouse failed; the target table was left as it was."""
