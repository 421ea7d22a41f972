"""A report's scope: the date range and value lists that change every answer's intent.

The scope edits the intent, never the question's words: the date range replaces the intent's
``time_range`` (on its date column, or the table's), and each ``where`` list replaces the
intent's equality filters on that column with one ``in`` filter. So "monthly revenue in 2023 in
Europe", run in a scope of one week and two regions, answers for that week and those regions.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import Filter, Intent, TimeRange
from .errors import ReportError

_ACTIVE: list[Scope] = []  # at most one: the scope %%voice cells answer in


def _date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"{name} = {value!r} is not a date.", hint="write an ISO date: 2024-12-02") from None


@dataclass(frozen=True)
class Scope:
    """The run's date range (``start`` inclusive, ``end`` exclusive; either may be open), value
    lists by column (``where={"region": ["Europe"]}``; an empty list keeps every value), and
    the workspace to answer in: ``workspace``, or the one ``profile`` names (see
    :mod:`bivoice_jupyter.reports.profiles`). ``title`` heads the report.

    ``scope.activate()`` makes ``%%voice`` cells answer in it (and in its workspace);
    ``scope.ask(question)`` is their Python twin. ``%%voice --sql`` cells run as written.
    """

    start: dt.date | str | None = None
    end: dt.date | str | None = None
    where: Mapping[str, Iterable[Any]] = field(default_factory=dict)
    profile: str | None = None
    title: str = ""
    workspace: Any = None

    def __post_init__(self) -> None:
        start, end = _date(self.start, "start"), _date(self.end, "end")
        if start and end and end <= start:
            raise ReportError(f"The date range {start} to {end} is empty: end is exclusive and must come after start.")
        where: dict[str, tuple[Any, ...]] = {}
        for column, values in dict(self.where or {}).items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise ReportError(f"where[{column!r}] must be a list of values, not {values!r}.")
            where[str(column)] = tuple(values)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "where", where)
        if self.workspace is None:
            from .profiles import open_profile

            object.__setattr__(self, "workspace", open_profile(self.profile))

    # ------------------------------------------------------------- the notebook-wide scope

    def activate(self) -> Scope:
        """Make ``%%voice`` cells answer in this scope (until another is activated); returns it."""
        _ACTIVE[:] = [self]
        return self

    # ------------------------------------------------------------- intents

    def apply(self, intent: Intent) -> Intent:
        """The intent, narrowed to this scope (see the module docstring)."""
        update: dict[str, Any] = {}
        info = self.workspace.catalog.table(intent.table, intent.database)
        if self.start or self.end:
            column = (intent.time_range.column if intent.time_range else None) or intent.time_column
            if column is None and info is not None:
                column = next((c.name for c in info.columns if c.kind == "date"), None)
            if column is None:
                raise ReportError(
                    f"The report's date range cannot apply to table {intent.table!r}: it has no date column.",
                    hint="ask about a table with dates, or run this question outside the report's scope",
                )
            update["time_range"] = TimeRange(column=column, start=self.start, end=self.end)
        filters = list(intent.filters)
        for column, values in self.where.items():
            if not values:
                continue
            known = info.column(column) if info is not None else None
            if info is not None and known is None:
                raise ReportError(f"The report filters on {column!r}, which table {intent.table!r} does not have.")
            unknown = [v for v in values if known is not None and known.values and str(v) not in known.values]
            if unknown:
                raise ReportError(
                    f"{column} has no value {', '.join(map(repr, unknown))}.",
                    hint=f"{column} values are: {', '.join(known.values[:20])}",  # type: ignore[union-attr]
                )
            filters = [f for f in filters if not (f.column == column and f.op in ("=", "in") and not f.part and not f.against)]
            filters.append(Filter(column=column, op="in", value=list(values)))
        if self.where:
            update["filters"] = filters
        return intent.model_copy(update=update) if update else intent

    def overrides(self, intent: Intent) -> list[str]:
        """What :meth:`apply` replaces that the question itself said, in words (a reader of the
        answer must know that "in 2023" was answered for the report's week)."""
        said = []
        tr = intent.time_range
        if tr is not None and (self.start or self.end):
            own = (f"the {tr.span} {tr.unit}(s) before the newest date" if tr.unit
                   else f"{tr.start or '...'} to {tr.end or '...'}")
            said.append(f"its dates ({own})")
        for column, values in self.where.items():
            own = [f for f in intent.filters if f.column == column and f.op in ("=", "in") and not f.part and not f.against]
            if values and own:
                said.append(f"its {column} ({', '.join(str(f.value) for f in own)})")
        return said

    def ask(self, question: str, **options: Any) -> Any:
        """Answer a typed question in this scope (the twin of ``%%voice`` under ``activate()``)."""
        from .replay import answer_in_scope

        return answer_in_scope(self.workspace, question=question, scope=self, **options)[0]

    # ------------------------------------------------------------- showing it

    def describe(self) -> str:
        parts = []
        if self.start or self.end:
            last = self.end - dt.timedelta(days=1) if isinstance(self.end, dt.date) else None
            parts.append(f"{self.start or '...'} to {last or '...'}")
        for column, values in self.where.items():
            parts.append(f"{column}: {', '.join(map(str, values)) if values else 'all'}")
        return "; ".join(parts) or "no restriction"

    def _repr_html_(self) -> str:
        from .frozen import in_report_run

        esc = html.escape
        head = f"<h2>{esc(self.title)}</h2>" if self.title else ""
        how = (" · each question replays the intent stored in the notebook (no speech, no planner)"
               if in_report_run() else "")
        return (
            f"<div class='bivoice-scope'>{head}<p><b>{esc(self.describe())}</b><br>"
            f"<small>workspace {esc(str(self.workspace.dsn))} ({esc(self.workspace.database)})"
            f"{' · profile ' + esc(self.profile) if self.profile else ''}{how}</small></p></div>"
        )

    def __repr__(self) -> str:
        return f"<Scope {self.title + ': ' if self.title else ''}{self.describe()}>"


def active_scope() -> Scope | None:
    """The scope ``%%voice`` cells answer in, if one was activated."""
    return _ACTIVE[0] if _ACTIVE else None


def deactivate() -> None:
    """``%%voice`` cells answer without a scope again."""
    _ACTIVE.clear()
