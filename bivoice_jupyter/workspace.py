"""Workspace: one ClickHouse connection and the databases it may read.

Nothing outside ``databases`` is reachable from ``sql``, ``ask`` or ``ask_audio``: every query
goes through the guard, and runs with ClickHouse's read-only and limit settings.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pandas as pd

from . import history as _history
from .config import Limits, parse_dsn
from .errors import BivoiceError, WorkspaceError
from .etl import load as _load
from .models import Answer, ChartKind, LoadReport
from .pipeline import answer as _answer
from .pipeline import run_sql
from .planner import OfflinePlanner
from .sql.clickhouse import Connection, schema_generation
from .sql.guard import Policy, guard
from .sql.schema import Catalog, read_catalog


class ResultTruncatedWarning(UserWarning):
    """A result was cut at the workspace's row limit."""


class Workspace:
    """A ClickHouse connection bound to the databases it may read.

    ``dsn``: ``chdb:///abs/dir`` (embedded; the default is ``$BIVOICE_DSN`` or a folder under
    ``$BIVOICE_HOME``), ``chdb://memory`` or ``http(s)://user:pass@host:8123``.
    ``database``: where unqualified table names resolve and loads land.
    ``databases``: every database the workspace may read (default: just ``database``).
    Limits: ``max_execution_time`` (seconds), ``max_memory_usage`` (bytes), ``max_result_rows``
    (rows; larger results are cut, with a notice) and ``limit`` (the LIMIT added to queries
    that have none).
    """

    def __init__(
        self,
        dsn: str | None = None,
        database: str = "default",
        databases: list[str] | tuple[str, ...] | None = None,
        *,
        limit: int = 1_000,
        max_execution_time: float = 10.0,
        max_memory_usage: int = 2 * 1024**3,
        max_result_rows: int = 10_000,
        speech_model: str | None = None,
        device: str | None = None,
    ) -> None:
        self._dsn = parse_dsn(dsn)
        self.database = database
        self.databases = tuple(dict.fromkeys([database, *(databases or ())]))
        self.limits = Limits(max_execution_time, max_memory_usage, max_result_rows, limit)
        self.speech_model = speech_model
        self.device = device
        self._conn = Connection(self._dsn, self.limits)
        self._catalog: Catalog | None = None
        self._catalog_generation = -1
        self._planner: OfflinePlanner | None = None
        if self._dsn.kind == "chdb" and database != "default":
            self._conn.command(_create_database(database))

    def __repr__(self) -> str:
        return f"Workspace(dsn={self.dsn!r}, database={self.database!r}, databases={list(self.databases)!r})"

    @property
    def dsn(self) -> str:
        """The DSN, without any password."""
        return self._dsn.display

    def policy(self, limit: int | None = None) -> Policy:
        return Policy(default=self.database, databases=frozenset(self.databases), limit=limit or self.limits.default_limit)

    # ------------------------------------------------------------- schema

    @property
    def catalog(self) -> Catalog:
        """Tables, columns and frequent values; read once, and again after any load in this
        process (through any Workspace). Changes made elsewhere need :meth:`refresh`."""
        generation = schema_generation()
        if self._catalog is None or generation != self._catalog_generation:
            self._catalog = read_catalog(self._conn, list(self.databases))
            self._catalog_generation = generation
            self._planner = None
        return self._catalog

    def refresh(self) -> None:
        """Forget the cached schema (after changing tables outside this workspace)."""
        self._catalog = None
        self._planner = None

    @property
    def planner(self) -> OfflinePlanner:
        if self._planner is None:
            self._planner = OfflinePlanner(self.catalog)
        return self._planner

    def tables(self) -> pd.DataFrame:
        """The readable tables: database, table, rows, columns."""
        return pd.DataFrame(
            [(t.database, t.name, t.rows, len(t.columns)) for t in self.catalog.tables],
            columns=["database", "table", "rows", "columns"],
        )

    def describe(self, table: str) -> pd.DataFrame:
        """Columns of ``table``: name, ClickHouse type, kind and sample values."""
        info = self.catalog.table(table)
        if info is None:
            names = ", ".join(t.name for t in self.catalog.tables) or "none"
            raise WorkspaceError(f"No table {table!r} in this workspace.", hint=f"tables are: {names}")
        return pd.DataFrame(
            [(c.name, c.type, c.kind, ", ".join(c.values[:8])) for c in info.columns],
            columns=["column", "type", "kind", "values"],
        )

    # ------------------------------------------------------------- questions

    def sql(self, text: str, *, limit: int | None = None) -> pd.DataFrame:
        """Run guarded, read-only SQL and return the rows. Refusals raise GuardRejected."""
        guarded = guard(text, self.policy(limit))
        result = self._conn.run(guarded)
        if result.truncated:
            warnings.warn(
                f"The result was cut at {self.limits.max_result_rows:,} rows (max_result_rows).",
                ResultTruncatedWarning,
                stacklevel=2,
            )
        return result.df

    def ask(
        self,
        question: str,
        *,
        limit: int | None = None,
        chart: ChartKind | None = None,
        sql_only: bool = False,
    ) -> Answer:
        """Answer a typed question: transcript-free, planned offline, guarded, charted."""
        if not isinstance(question, str):
            raise BivoiceError(f"A question is text, not {type(question).__name__}.")
        ans = _answer(question, conn=self._conn, policy=self.policy(limit), planner=self.planner,
                      chart=chart, sql_only=sql_only)
        self._remember(ans)
        return ans

    def ask_sql(self, sql: str, *, limit: int | None = None, chart: ChartKind | None = None) -> Answer:
        """Like :meth:`sql`, but returns an Answer with a chart (the magic's ``--sql`` twin)."""
        ans = run_sql(sql, question=sql, conn=self._conn, policy=self.policy(limit), chart=chart)
        self._remember(ans)
        return ans

    def transcribe(self, audio: Any) -> Any:
        """Speech -> :class:`~bivoice_jupyter.models.Transcript` with the workspace's model."""
        from .speech import transcribe

        return transcribe(audio, model=self.speech_model, device=self.device)

    def ask_audio(
        self,
        audio: Any,
        *,
        limit: int | None = None,
        chart: ChartKind | None = None,
        sql_only: bool = False,
    ) -> Answer:
        """Answer a spoken question: ``audio`` is a path, bytes, a file object or a 16 kHz array."""
        t = time.perf_counter()
        transcript = self.transcribe(audio)
        spent = time.perf_counter() - t
        ans = _answer(transcript.text, conn=self._conn, policy=self.policy(limit), planner=self.planner,
                      chart=chart, sql_only=sql_only, transcript=transcript, timings={"transcribe": spent})
        self._remember(ans)
        return ans

    def history(self) -> pd.DataFrame:
        """Every answer this workspace's DSN gave, oldest first (persisted across sessions)."""
        return _history.read(dsn=self.dsn)

    def _remember(self, ans: Answer) -> None:
        _history.record(ans, dsn=self.dsn, database=self.database)

    # ------------------------------------------------------------- loading

    def load(self, source: Any, table: str, *, if_exists: str = "fail") -> LoadReport:
        """Load a CSV path or a DataFrame into ``table`` of the workspace's database, atomically.

        ``if_exists``: ``fail`` (default), ``replace`` or ``append``. A failed load leaves the
        previous table as it was. The schema catalog refreshes afterwards.
        """
        report = _load(self._conn, source, table=table, database=self.database, if_exists=if_exists)
        self.refresh()
        return report


def _create_database(name: str) -> Any:
    from sqlglot import exp

    from .etl.load import IDENTIFIER

    if not IDENTIFIER.match(name):
        raise WorkspaceError(f"{name!r} is not a valid database name.")
    return exp.Create(this=exp.Table(this=exp.to_identifier(name, quoted=True)), kind="SCHEMA", exists=True)
