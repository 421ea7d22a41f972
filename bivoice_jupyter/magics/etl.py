"""``%etl``: load data into the workspace's ClickHouse. Python twins: ``Workspace.load``,
``Workspace.preview`` and ``Workspace.load_history``.

::

    %etl load sales.csv --table sales --replace
    %etl load df --table frame                       # a DataFrame (or pyarrow Table) variable
    %etl load https://host/data.parquet --table t --append
    %etl load postgresql://user:pw@host:5432/shop/orders --table orders --upsert id
    %%etl load mysql://user:pw@host/shop --table big_orders
    SELECT * FROM orders WHERE amount > 100
    %etl preview messy.xlsx --sheet Orders
    %etl history
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..errors import BivoiceError
from .voice import VoiceMagics


@magics_class
class EtlMagics(Magics):
    """``%etl`` on the same configuration (``%config VoiceMagics.dsn``) and workspaces."""

    def __init__(self, shell: Any = None, *, voice: VoiceMagics, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.voice = voice

    def workspace(self, dsn: str | None = None, database: str | None = None) -> Any:
        return self.voice.workspace(dsn, database)

    @no_var_expand
    @magic_arguments()
    @argument("action", choices=["load", "preview", "history"], help="load a source, preview it, or list past loads")
    @argument("source", nargs="?", help="a file path, an http(s) URL, a postgresql:// or mysql:// URL, "
                                        "or the name of a DataFrame variable")
    @argument("--table", help="target table in the workspace's database (load)")
    @argument("--replace", action="store_true", help="replace the table if it exists (atomically)")
    @argument("--append", action="store_true", help="append to the table if it exists")
    @argument("--upsert", metavar="KEY", help="upsert by these comma-separated key columns (ReplacingMergeTree)")
    @argument("--dedup", action="store_true", help="drop repeated rows")
    @argument("--max-bad", type=float, metavar="PERCENT",
              help="share of a column's values that may fail its type before it stays text (default 1)")
    @argument("--raw", action="store_true", help="keep every text column as text (no type detection)")
    @argument("--sheet", help="spreadsheet sheet, by name or 0-based number")
    @argument("--query", help="SQL to run in the source database (or put it in the cell of %%%%etl)")
    @argument("--encoding", help="the file's encoding (default: detected)")
    @argument("--delimiter", help="the file's delimiter (default: detected); \\t for tab")
    @argument("--header", choices=["yes", "no"], help="whether the first row names the columns (default: detected)")
    @argument("--null-tokens", metavar="TOKENS",
              help="comma-separated text values read as missing, instead of the defaults (NA, N/A, null, None, -, "
                   "NaN, #N/A ...); the empty value always is; '' keeps every other value (e.g. NA for Namibia)")
    @argument("--format", choices=["csv", "json", "parquet", "excel"], help="the file's format (default: from its name)")
    @argument("--rows", type=int, default=10, help="rows to show (preview) or loads to list (history)")
    @argument("--out", metavar="VAR", help="store the result (LoadReport, Preview, DataFrame) in this variable")
    @argument("--dsn", help="ClickHouse DSN for this workspace")
    @argument("--database", help="target database")
    @line_cell_magic
    def etl(self, line: str, cell: str | None = None) -> None:
        """Load files, URLs, databases and DataFrames into ClickHouse: ``%etl load PATH --table T``."""
        args = parse_argstring(self.etl, line)
        ws = self.workspace(args.dsn, args.database)
        if args.action == "history":
            result: Any = ws.load_history(args.rows)
        else:
            if not args.source:
                raise BivoiceError(f"%etl {args.action} needs a source.", hint="%etl load data.csv --table t")
            name = _unquote(args.source) or ""
            source = self.shell.user_ns.get(name, name) if name.isidentifier() else name
            read = _read_options(args, cell)
            if args.action == "preview":
                result = ws.preview(source, rows=args.rows, **read)
            else:
                if not args.table:
                    raise BivoiceError("%etl load needs --table.", hint="%etl load data.csv --table sales")
                result = ws.load(source, table=args.table, **_load_options(args), **read)
        if args.out:
            self.shell.user_ns[args.out] = result
        display(result)


def _unquote(text: str | None) -> str | None:
    """``';'`` -> ``;``: the argument splitter keeps quotes around a value."""
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _read_options(args: Any, cell: str | None) -> dict[str, Any]:
    query = cell.strip() if cell and cell.strip() else _unquote(args.query)
    raw_delimiter = _unquote(args.delimiter)
    delimiter = "\t" if raw_delimiter in ("\\t", "tab") else raw_delimiter
    header = None if args.header is None else args.header == "yes"
    sheet_name = _unquote(args.sheet)
    sheet: str | int | None = int(sheet_name) if sheet_name is not None and sheet_name.isdigit() else sheet_name
    tokens = _unquote(args.null_tokens)
    options = {"query": query, "encoding": _unquote(args.encoding), "delimiter": delimiter, "header": header,
               "sheet": sheet, "fmt": args.format,
               "null_tokens": None if tokens is None else [t for t in tokens.split(",") if t.strip()]}
    return {k: v for k, v in options.items() if v is not None}


def _load_options(args: Any) -> dict[str, Any]:
    modes = [m for m in ("replace", "append") if getattr(args, m)] + (["upsert"] if args.upsert else [])
    if len(modes) > 1:
        raise BivoiceError(f"--{' and --'.join(modes)} exclude each other.")
    options: dict[str, Any] = {"if_exists": modes[0] if modes else "fail", "dedup": args.dedup}
    if args.upsert:
        options["key"] = args.upsert
    if args.max_bad is not None:
        options["max_bad_share"] = args.max_bad / 100
    if args.raw:
        options["infer"] = False
    return options
