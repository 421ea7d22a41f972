"""``%%voice`` and ``%voice``: parse the options, call one core function, display the result.
Their Python twins: ``Workspace.ask``/``ask_audio``/``ask_sql`` and ``bivoice_jupyter.microphone``.

Defaults are traitlets configuration: ``%config VoiceMagics.limit = 100``.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import Int, Unicode

from ..display import show_answer
from ..errors import BivoiceError
from ..models import Answer
from ..widgets import microphone
from ..workspace import Workspace

CHARTS = ("auto", "bar", "line", "scatter", "indicator", "table", "none")


@magics_class
class VoiceMagics(Magics):
    """Ask ClickHouse by voice or text. ``%etl`` (magics/etl.py) shares these workspaces."""

    dsn = Unicode(None, allow_none=True, help="ClickHouse DSN (default: $BIVOICE_DSN or embedded chDB)").tag(config=True)
    database = Unicode("default", help="database for unqualified names and loads").tag(config=True)
    limit = Int(1000, help="LIMIT added to queries that have none").tag(config=True)
    chart = Unicode("auto", help="chart kind: " + ", ".join(CHARTS)).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._workspaces: dict[tuple[str | None, str], Workspace] = {}

    def workspace(self, dsn: str | None = None, database: str | None = None) -> Workspace:
        key = (dsn or self.dsn, database or self.database)
        if key not in self._workspaces:
            self._workspaces[key] = Workspace(dsn=key[0], database=key[1])
        return self._workspaces[key]

    def _chart(self, value: str | None) -> Any:
        kind = value or self.chart
        if kind not in CHARTS:
            raise BivoiceError(f"Unknown chart kind {kind!r}.", hint="use one of " + ", ".join(CHARTS))
        return None if kind == "auto" else kind

    def _finish(self, answer: Answer, out: str | None) -> None:
        if out:
            self.shell.user_ns[out] = answer
        show_answer(answer)

    @no_var_expand
    @magic_arguments()
    @argument("question", nargs="*", help="the question (line form); in the cell form, the cell body")
    @argument("--audio", metavar="PATH", help="answer the question spoken in this file (or in the variable of that name)")
    @argument("--sql", action="store_true", help="the cell is SQL: guard and run it as written")
    @argument("--sql-only", action="store_true", help="plan and guard, show the SQL, do not run it")
    @argument("--out", metavar="VAR", help="store the Answer in this variable")
    @argument("--limit", type=int, metavar="N", help="LIMIT added when the query has none")
    @argument("--chart", metavar="KIND", help="chart kind: " + ", ".join(CHARTS))
    @argument("--dsn", help="ClickHouse DSN for this workspace")
    @argument("--database", help="database for unqualified names")
    @line_cell_magic
    def voice(self, line: str, cell: str | None = None) -> None:
        """Ask a question. ``%voice`` alone shows the microphone; ``%voice QUESTION`` or a
        ``%%voice`` cell answers typed words; ``--audio PATH`` answers a recording."""
        args = parse_argstring(self.voice, line)
        ws = self.workspace(args.dsn, args.database)
        chart = self._chart(args.chart)
        limit = args.limit or self.limit
        text = (cell if cell is not None else " ".join(args.question)).strip()
        if args.audio:
            # a variable holding a path, bytes or samples, else the text itself as a path
            audio = self.shell.user_ns.get(args.audio, args.audio) if args.audio.isidentifier() else args.audio
            answer = ws.ask_audio(audio, limit=limit, chart=chart, sql_only=args.sql_only)
        elif text and args.sql:
            answer = ws.ask_sql(text, limit=limit, chart=chart)
        elif text:
            answer = ws.ask(text, limit=limit, chart=chart, sql_only=args.sql_only)
        else:
            display(microphone(ws, limit=limit, chart=chart))
            return
        self._finish(answer, args.out)
