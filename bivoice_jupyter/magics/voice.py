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
from ..reports.frozen import find_frozen, freeze, in_report_run, output_metadata
from ..reports.replay import answer_in_scope
from ..reports.scope import active_scope
from ..widgets import comm, microphone, recorder_answers
from ..workspace import Workspace

CHARTS = ("auto", "bar", "line", "scatter", "indicator", "table", "none")
PLANNERS = ("offline", "llm", "auto")


@magics_class
class VoiceMagics(Magics):
    """Ask ClickHouse by voice or text. ``%etl`` (magics/etl.py) shares these workspaces."""

    dsn = Unicode(None, allow_none=True, help="ClickHouse DSN (default: $BIVOICE_DSN or embedded chDB)").tag(config=True)
    database = Unicode("default", help="database for unqualified names and loads").tag(config=True)
    limit = Int(1000, help="LIMIT added to queries that have none").tag(config=True)
    chart = Unicode("auto", help="chart kind: " + ", ".join(CHARTS)).tag(config=True)
    # the LLM's key comes only from BIVOICE_LLM_API_KEY in the environment or .env, never from a
    # cell: a key typed into a notebook is saved with it. Its model and endpoint may come from here.
    planner = Unicode("offline", help="planner: offline, llm (BIVOICE_LLM_* settings) or auto").tag(config=True)
    llm_model = Unicode("", help="the LLM's model name (default: $BIVOICE_LLM_MODEL)").tag(config=True)
    llm_base_url = Unicode("", help="the LLM's OpenAI-compatible endpoint (default: $BIVOICE_LLM_BASE_URL)").tag(config=True)

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

    def _finish(self, answer: Answer, out: str | None, line: str = "", cell: str | None = None,
                replayed: bool = False, asked: Any = None) -> None:
        if out:
            self.shell.user_ns[out] = answer
        # the frozen answer rides on the output's metadata: a report run replays it from there
        frozen = freeze(answer, line=line, body=cell, replayed=replayed, intent=asked)
        show_answer(answer, metadata=output_metadata(frozen))

    def _cell_id(self) -> str | None:
        """The id of the running cell, when the front end sends it (JupyterLab does)."""
        try:
            return self.shell.kernel.get_parent()["metadata"].get("cellId")
        except (AttributeError, KeyError, TypeError):  # plain IPython, or an older kernel
            return None

    @no_var_expand
    @magic_arguments()
    @argument("question", nargs="*", help="the question (line form); in the cell form, the cell body")
    @argument("--audio", metavar="PATH", help="answer the question spoken in this file (or in the variable of that name)")
    @argument("--recorder", metavar="VAR", help="answer what the ipywebrtc AudioRecorder in this variable records")
    @argument("--sql", action="store_true", help="the cell is SQL: guard and run it as written")
    @argument("--sql-only", action="store_true", help="plan and guard, show the SQL, do not run it")
    @argument("--out", metavar="VAR", help="store the Answer in this variable")
    @argument("--replay", action="store_true",
              help="replay the answer stored in the notebook (its intent, in the report's scope): no speech, no planner")
    @argument("--limit", type=int, metavar="N", help="LIMIT added when the query has none")
    @argument("--chart", metavar="KIND", help="chart kind: " + ", ".join(CHARTS))
    @argument("--planner", choices=PLANNERS, help="offline, llm, or auto (offline when it is sure, else the LLM)")
    @argument("--dsn", help="ClickHouse DSN for this workspace")
    @argument("--database", help="database for unqualified names")
    @line_cell_magic
    def voice(self, line: str, cell: str | None = None) -> None:
        """Ask a question. ``%voice`` alone shows the microphone; ``%voice QUESTION`` or a
        ``%%voice`` cell answers typed words; ``--audio PATH`` answers a recording;
        ``--recorder VAR`` answers each recording of an ipywebrtc AudioRecorder."""
        args = parse_argstring(self.voice, line)
        scope, frozen, asked = active_scope(), None, None
        # in a report's scope, its workspace (the profile's) answers unless the cell names another
        ws = scope.workspace if scope and not (args.dsn or args.database) else self.workspace(args.dsn, args.database)
        chart = self._chart(args.chart)
        limit = args.limit or self.limit
        planner = args.planner or self.planner
        if self.llm_model or self.llm_base_url:
            ws.llm = {"model": self.llm_model or None, "base_url": self.llm_base_url or None}
        text = (cell if cell is not None else " ".join(args.question)).strip()
        if (args.replay or in_report_run() or scope is not None) and not args.sql and (text or args.audio):
            # a report: the frozen answer replayed, or the question planned, in the report's scope
            frozen = find_frozen(self._cell_id(), line, cell) if args.replay or in_report_run() else None
            if args.replay and frozen is None:
                raise BivoiceError("This cell has no stored answer to replay.",
                                   hint="run it once without --replay (and save the notebook), or run the report")
            audio = self.shell.user_ns.get(args.audio, args.audio) if args.audio and args.audio.isidentifier() else args.audio
            answer, asked = answer_in_scope(ws, question=text, audio=audio, frozen=frozen, scope=scope, limit=limit,
                                            chart=chart, sql_only=args.sql_only, planner=planner)
        elif args.audio:
            # a variable holding a path, bytes or samples, else the text itself as a path
            audio = self.shell.user_ns.get(args.audio, args.audio) if args.audio.isidentifier() else args.audio
            answer = ws.ask_audio(audio, limit=limit, chart=chart, sql_only=args.sql_only, planner=planner,
                                  on_stage=_stages())
        elif text and args.sql:
            answer = ws.ask_sql(text, limit=limit, chart=chart)
        elif text:
            answer = ws.ask(text, limit=limit, chart=chart, sql_only=args.sql_only, planner=planner,
                            on_stage=_stages())
        elif args.recorder:
            if args.recorder not in self.shell.user_ns:
                raise BivoiceError(f"No variable {args.recorder!r} in the notebook.", hint="create the AudioRecorder first")
            display(recorder_answers(self.shell.user_ns[args.recorder], ws, limit=limit, chart=chart, planner=planner))
            return
        else:
            display(microphone(ws, limit=limit, chart=chart, planner=planner))
            return
        self._finish(answer, args.out, line, cell, replayed=frozen is not None, asked=asked)


def _stages() -> Any:
    """Where a cell's stages go: the JupyterLab extension's status, when it has a comm open."""
    return comm.announce if comm.is_open() else None
