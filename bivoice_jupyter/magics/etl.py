"""``%etl``: load data into the workspace's ClickHouse. Python twin: ``Workspace.load``."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
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
    @argument("action", choices=["load"], help="what to do (more actions come with the ETL issue)")
    @argument("source", help="a CSV path, or the name of a DataFrame variable")
    @argument("--table", required=True, help="target table in the workspace's database")
    @argument("--replace", action="store_true", help="replace the table if it exists (atomically)")
    @argument("--append", action="store_true", help="append to the table if it exists")
    @argument("--out", metavar="VAR", help="store the LoadReport in this variable")
    @argument("--dsn", help="ClickHouse DSN for this workspace")
    @argument("--database", help="target database")
    @line_magic
    def etl(self, line: str) -> None:
        """Load a CSV file or a DataFrame into ClickHouse: ``%etl load PATH --table T``."""
        args = parse_argstring(self.etl, line)
        if args.replace and args.append:
            raise BivoiceError("--replace and --append exclude each other.")
        mode = "replace" if args.replace else "append" if args.append else "fail"
        source = self.shell.user_ns.get(args.source, args.source) if args.source.isidentifier() else args.source
        report = self.workspace(args.dsn, args.database).load(source, table=args.table, if_exists=mode)
        if args.out:
            self.shell.user_ns[args.out] = report
        display(report)
