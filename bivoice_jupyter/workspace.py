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
from .etl import history as _load_history
from .etl import load as _load
from .etl import preview as _preview
from .models import Answer, ChartKind, LoadReport
from .pipeline import answer as _answer
from .pipeline import run_sql
from .planner import OfflinePlanner, ValueLookup
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
    (rows; larger results are cut, with a notice), ``limit`` (the LIMIT added to queries
    that have none), ``max_rows_to_read`` / ``max_bytes_to_read`` (rows / bytes read from
    tables) and ``max_result_bytes`` (bytes; a larger result is stopped): see
    :class:`~bivoice_jupyter.config.Limits`.
    ``llm``: settings of the LLM planner (``bivoice_jupyter.planner.llm_config.LLMSettings``);
    None reads ``BIVOICE_LLM_*`` from the environment or a ``.env`` file at each question, and
    a dict overrides some of those (``{"model": "gpt-4o-mini"}``).
    ``notes``: descriptions the LLM planner sees, keyed ``table`` or ``table.column``.
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
        max_rows_to_read: int = Limits.max_rows_to_read,
        max_bytes_to_read: int = Limits.max_bytes_to_read,
        max_result_bytes: int = Limits.max_result_bytes,
        speech_model: str | None = None,
        device: str | None = None,
        llm: Any = None,
    ) -> None:
        self._dsn = parse_dsn(dsn)
        self.database = database
        self.databases = tuple(dict.fromkeys([database, *(databases or ())]))
        self.limits = Limits(max_execution_time, max_memory_usage, max_result_rows, limit,
                             max_rows_to_read=max_rows_to_read, max_bytes_to_read=max_bytes_to_read,
                             max_result_bytes=max_result_bytes)
        self.speech_model = speech_model
        self.device = device
        self._conn = Connection(self._dsn, self.limits)
        self._catalog: Catalog | None = None
        self._catalog_generation = -1
        self._planner: OfflinePlanner | None = None
        self.llm = llm
        self.notes: dict[str, str] = {}
        self._llm_planner: Any = None
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
        catalog = self.catalog  # after a load anywhere in the process this drops the old planner
        if self._planner is None:
            self._planner = OfflinePlanner(catalog, lookup=ValueLookup(self._conn))
        return self._planner

    def planner_named(self, name: str) -> Any:
        """The planner called ``name``: ``offline``, ``llm``, or ``auto`` (the offline planner
        when it is confident, else the LLM, falling back to the offline planner's answer)."""
        if name == "offline":
            return self.planner
        if name not in ("llm", "auto"):
            raise BivoiceError(f"Unknown planner {name!r}.", hint="use offline, llm or auto")
        from .planner.llm import AutoPlanner, LLMPlanner  # loads no LLM library until a question

        if self._llm_planner is None:  # kept: it remembers the last turns for follow-ups
            self._llm_planner = LLMPlanner(lambda: self.catalog, settings=lambda: self.llm, notes=self.notes)
        return self._llm_planner if name == "llm" else AutoPlanner(self.planner, self._llm_planner)

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
        planner: str = "offline",
        on_stage: Any = None,
    ) -> Answer:
        """Answer a typed question: transcript-free, planned (``planner``: ``offline``, ``llm``
        or ``auto``), guarded, charted. ``Answer.planner`` says which planner answered.
        ``on_stage(name)`` is called as each stage starts (``planning``, ``querying``)."""
        if not isinstance(question, str):
            raise BivoiceError(f"A question is text, not {type(question).__name__}.")
        ans = _answer(question, conn=self._conn, policy=self.policy(limit), planner=self.planner_named(planner),
                      chart=chart, sql_only=sql_only, on_stage=on_stage)
        self._remember(ans)
        return ans

    def ask_sql(self, sql: str, *, limit: int | None = None, chart: ChartKind | None = None) -> Answer:
        """Like :meth:`sql`, but returns an Answer with a chart (the magic's ``--sql`` twin)."""
        ans = run_sql(sql, question=sql, conn=self._conn, policy=self.policy(limit), chart=chart)
        self._remember(ans)
        return ans

    def transcribe(self, audio: Any, *, model: str | None = None, fit: bool = True, **options: Any) -> Any:
        """Speech -> :class:`~bivoice_jupyter.models.Transcript` with the workspace's model,
        biased towards its tables, columns and values (``prompt=None`` turns that off).

        With ``fit`` (default), of the recogniser's close readings of an English question the
        one the offline planner reads most cleanly against the workspace's tables is returned
        (``Transcript.first_heard`` keeps the first when another won; see
        :mod:`bivoice_jupyter.planner.hearing`); ``fit=False`` gives the first reading as heard.
        ``model`` names another speech model than the workspace's for this call. ``options`` go
        to :func:`bivoice_jupyter.speech.transcribe` (``language``, ``task``, ``sample_rate``,
        ``max_seconds``, ...)."""
        from .planner.hearing import choose
        from .planner.words import identifier_words
        from .speech import schema_prompt, transcribe

        options.setdefault("prompt", schema_prompt(self.catalog, words=identifier_words))
        transcript = transcribe(audio, model=model or self.speech_model, device=self.device, **options)
        if fit and transcript.language == "en" and self.catalog.tables:
            transcript = choose(transcript, self.planner)
        return transcript

    def ask_audio(
        self,
        audio: Any,
        *,
        limit: int | None = None,
        chart: ChartKind | None = None,
        sql_only: bool = False,
        planner: str = "offline",
        on_transcript: Any = None,
        on_stage: Any = None,
        **speech: Any,
    ) -> Answer:
        """Answer a spoken question: ``audio`` is a path, bytes, a file object or an array of
        samples (``sample_rate=`` Hz, default 16 kHz). ``speech`` options go to :meth:`transcribe`;
        ``on_transcript(transcript)`` is called before planning (the microphone shows it), and
        ``on_stage(name)`` as each later stage starts (``planning``, ``querying``)."""
        t = time.perf_counter()
        transcript = self.transcribe(audio, **speech)
        spent = time.perf_counter() - t
        if on_transcript is not None:
            on_transcript(transcript)
        ans = _answer(transcript.text, conn=self._conn, policy=self.policy(limit), planner=self.planner_named(planner),
                      chart=chart, sql_only=sql_only, transcript=transcript, timings={"transcribe": spent},
                      on_stage=on_stage)
        self._remember(ans)
        return ans

    def history(self) -> pd.DataFrame:
        """Every answer this workspace's DSN gave, oldest first (persisted across sessions)."""
        return _history.read(dsn=self.dsn)

    def _remember(self, ans: Answer) -> None:
        _history.record(ans, dsn=self.dsn, database=self.database)

    # ------------------------------------------------------------- loading

    def load(self, source: Any, table: str, *, if_exists: str = "fail", **options: Any) -> LoadReport:
        """Load a file, URL, database table or DataFrame into ``table`` of the workspace's
        database, cleaned and typed in ClickHouse, atomically (the twin of ``%etl load``).

        ``if_exists``: ``fail`` (default), ``replace``, ``append`` or ``upsert`` (with ``key=``).
        A failed or interrupted load leaves the previous table as it was; rows that cannot be
        cast go to ``<table>_rejected``. ``options`` are those of
        :func:`bivoice_jupyter.etl.load` (``key``, ``dedup``, ``max_bad_share``, ``encoding``,
        ``delimiter``, ``header``, ``sheet``, ``query``, ``progress`` ...). The schema catalog
        refreshes afterwards.
        """
        report = _load(self._conn, source, table=table, database=self.database, if_exists=if_exists, **options)
        self.refresh()
        return report

    def preview(self, source: Any, *, rows: int = 10, **options: Any) -> Any:
        """The schema a load of ``source`` would get and its first ``rows`` rows, cleaned and
        typed; nothing is loaded (the twin of ``%etl preview``)."""
        return _preview(self._conn, source, database=self.database, rows=rows, **options)

    def load_history(self, limit: int = 50) -> pd.DataFrame:
        """The latest loads into the workspace's database, newest first (``%etl history``)."""
        return _load_history(self._conn, self.database, limit)


def _create_database(name: str) -> Any:
    from sqlglot import exp

    from .etl.load import IDENTIFIER

    if not IDENTIFIER.match(name):
        raise WorkspaceError(f"{name!r} is not a valid database name.")
    return exp.Create(this=exp.Table(this=exp.to_identifier(name, quoted=True)), kind="SCHEMA", exists=True)
