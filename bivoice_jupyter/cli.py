"""The ``bivoice`` command.

``bivoice ask "total revenue by region"`` or ``bivoice ask --audio q.wav`` answers one question;
``bivoice demo-data`` loads the demo sales table; ``bivoice transcribe q.wav`` prints what was
heard. Errors print one line and a hint and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import BivoiceError


def _workspace(args: argparse.Namespace):  # noqa: ANN202 - Workspace imported lazily
    from .workspace import Workspace

    return Workspace(dsn=args.dsn, database=args.database)


def _print_answer(answer, rows: int) -> None:  # noqa: ANN001
    if answer.transcript is not None:
        t = answer.transcript
        print(f"heard:  {t.text}  ({t.model} on {t.device}/{t.compute_type}, {t.seconds:.2f} s)")
    print(f"asked:  {answer.question}")
    if answer.intent is not None:
        print(f"intent: {answer.intent.describe()}")
    if answer.sql:
        print(f"SQL:    {answer.sql}")
    print(f"answer: {answer.text}")
    for n in answer.notices:
        print(f"note:   {n}")
    if answer.df is not None:
        print(answer.df.head(rows).to_string(index=False))
    timing = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in answer.timings.items())
    print(f"timings: {timing}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bivoice", description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="ClickHouse DSN (default: $BIVOICE_DSN or embedded chDB)")
    parser.add_argument("--database", default="default")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one typed or spoken question")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--audio", help="a recording of the question")
    ask.add_argument("--sql-only", action="store_true")
    ask.add_argument("--rows", type=int, default=10, help="rows to print")
    demo = sub.add_parser("demo-data", help="load the demo sales table")
    demo.add_argument("--table", default="sales")
    demo.add_argument("--orders", type=int, default=20_000)
    tr = sub.add_parser("transcribe", help="print what a recording says")
    tr.add_argument("audio")
    from .reports.command import configure as _report_parser  # argparse only; papermill loads on use

    _report_parser(sub.add_parser("report", help="run, schedule or freeze a report notebook (bivoice report -h)"))
    args = parser.parse_args(argv)
    try:
        if args.command == "report":
            from .reports.command import main as report_main

            return report_main(args)
        if args.command == "transcribe":
            from .speech import transcribe

            t = transcribe(args.audio)
            print(t.text)
            return 0
        ws = _workspace(args)
        if args.command == "demo-data":
            from .demo import sales_frame

            report = ws.load(sales_frame(args.orders), table=args.table, if_exists="replace")
            print(f"loaded {report.rows_loaded:,} rows into {report.database}.{report.table} in {report.seconds:.2f} s")
            return 0
        if args.audio:
            answer = ws.ask_audio(args.audio, sql_only=args.sql_only)
        elif args.question:
            answer = ws.ask(" ".join(args.question), sql_only=args.sql_only)
        else:
            parser.error("ask needs a question or --audio PATH")
        _print_answer(answer, args.rows)
        return 0
    except BivoiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
