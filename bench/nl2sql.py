"""NL-to-SQL: the offline planner's execution accuracy on the dev set, and its planning time.

    python bench/nl2sql.py                   # writes the ``nl2sql`` section of bench/RESULTS.md
    python bench/nl2sql.py --reps 20         # more timing repetitions
    python bench/nl2sql.py --results /tmp/R.md

The dev set is ``tests/fixtures/planner/dev/*.sql`` over tables made by ``tables.py`` there (the
demo ``sales`` table and fifteen more), all in one database, so every question also chooses its
table. A case is right when the answer holds the gold SQL's values (row order only where the
question ranks), or when it replies, refuses or asks back as the case expects. Planning time is
``OfflinePlanner.plan`` alone, per question, median over repetitions, measured twice: on a
workspace holding only the demo table (the goal: at most 20 ms) and on all the dev set's
tables. The baseline measured in the same run is the execution time of the planner's own SQL
in embedded chDB (guard + run), so the ratio says what planning adds to an answer.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEV = ROOT / "tests" / "fixtures" / "planner" / "dev"
sys.path.insert(0, str(BENCH))

import _report  # noqa: E402

NAME = "nl2sql"


def _devset():
    spec = importlib.util.spec_from_file_location("nl2sql_devset", DEV / "devset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("nl2sql_devset", module)
    spec.loader.exec_module(module)
    return module


def _demo_questions() -> list[str]:
    """Every question of the demo table's fixtures (tests and dev set) that plans to SQL."""
    devset = _devset()
    qs = [c.q for c in devset.read_cases(DEV / "sales.sql") if not c.context]
    qs += [c.q for c in devset.read_cases(DEV.parent / "sales.sql") if not c.error and not c.reply]
    return list(dict.fromkeys(qs))


def _time_planning(ws, questions: list[str], reps: int) -> tuple[list[float], list[float], int]:
    """Median planning seconds per question, median guard + execute seconds per question (``Workspace.sql``), and the
    number of questions that planned to SQL. One warm-up pass first."""
    from bivoice_jupyter.errors import BivoiceError
    from bivoice_jupyter.models import Intent
    from bivoice_jupyter.planner import compile_intent

    planner = ws.planner
    for q in questions:  # warm-up: caches, first compilations
        planner.session.forget()
        try:
            planner.plan(q)
        except BivoiceError:
            pass
    plan_med: list[float] = []
    exec_med: list[float] = []
    for q in questions:
        plans, runs = [], []
        intent = None
        for _ in range(reps):
            planner.session.forget()
            t = time.perf_counter()
            try:
                intent = planner.plan(q)
            except BivoiceError:
                intent = None
            plans.append(time.perf_counter() - t)
        if isinstance(intent, Intent):
            sql = compile_intent(intent)
            for _ in range(max(1, reps // 2)):
                t = time.perf_counter()
                ws.sql(sql)
                runs.append(time.perf_counter() - t)
            exec_med.append(_report.median(runs))
        plan_med.append(_report.median(plans))
    return plan_med, exec_med, len(exec_med)


def run(reps: int = 10, progress: bool = True) -> str:
    devset = _devset()
    home = tempfile.mkdtemp(prefix="bivoice-nl2sql-")
    os.environ["BIVOICE_HOME"] = home
    os.environ.pop("BIVOICE_DSN", None)
    try:
        from bivoice_jupyter import Workspace
        from bivoice_jupyter.demo import sales_frame

        started = time.perf_counter()
        demo = Workspace()
        try:
            demo.load(sales_frame(), table="sales", if_exists="replace", progress=False)
        except TypeError:
            demo.load(sales_frame(), table="sales", if_exists="replace")
        dev = Workspace(database=devset.DATABASE)
        devset.load_tables(dev)
        cases = devset.all_cases()
        if progress:
            print(f"nl2sql: scoring {len(cases)} cases", file=sys.stderr)
        outcomes = devset.run_all(dev, cases)
        if progress:
            print("nl2sql: timing the planner", file=sys.stderr)
        demo_qs = _demo_questions()
        demo_plan, demo_exec, demo_sql = _time_planning(demo, demo_qs, reps)
        dev_qs = list(dict.fromkeys(c.q for c in cases if not c.context))
        dev_plan, dev_exec, dev_sql = _time_planning(dev, dev_qs, max(1, reps // 2))
        seconds = time.perf_counter() - started
        return _section(outcomes, demo_plan, demo_exec, demo_sql, len(demo_qs), dev_plan, dev_exec, dev_sql,
                        len(dev_qs), reps, seconds, devset.table_names(), devset.first_looks())
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _section(outcomes, demo_plan, demo_exec, demo_sql, n_demo, dev_plan, dev_exec, dev_sql, n_dev, reps, seconds,
             tables, first_looks) -> str:
    ms = _report.ms
    per: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    per_table: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for o in outcomes:
        per[o.case.category][0] += o.ok
        per[o.case.category][1] += 1
        per_table[o.case.file][0] += o.ok
        per_table[o.case.file][1] += 1
    right = sum(o.ok for o in outcomes)
    total = len(outcomes)
    lines = [
        "## NL-to-SQL: the offline planner on the dev set",
        "",
        f"`python bench/nl2sql.py` — {total} spoken-style questions with gold SQL over {len(tables)} tables made in "
        f"`tests/fixtures/planner/dev/tables.py` ({', '.join(f'`{t}`' for t in tables)}; the first is the demo table), "
        "all in one database, so every question also picks its table; scored by execution: the answer must hold the gold query's values "
        "(column names and order aside, numbers to 2 decimals, row order only where the question ranks); text "
        f"replies, refusals and questions back must be the expected ones. Whole run {seconds:.0f} s.",
        "",
        "### Machine",
        "",
        _report.machine_table(_report.machine()),
        "",
        "### Execution accuracy per category",
        "",
        "| category | right | cases | accuracy |",
        "|---|---:|---:|---:|",
    ]
    for cat in sorted(per):
        a, b = per[cat]
        lines.append(f"| {cat} | {a} | {b} | {100 * a / b:.1f}% |")
    lines.append(f"| **all** | **{right}** | **{total}** | **{100 * right / total:.1f}%** |")
    lines += ["", "Per fixture file: " + ", ".join(f"`{f}` {a}/{b}" for f, (a, b) in sorted(per_table.items())), ""]
    if first_looks:
        seen = sum(a for a, _ in first_looks.values())
        asked = sum(b for _, b in first_looks.values())
        lines += [
            "### First look: questions written before the planner was tuned on them",
            "",
            "Later rounds of the dev set were written over tables and phrasings the planner had not seen, scored, "
            "and only then used to improve it (every fix a general rule, none naming a table or column). How each "
            "round scored at first sight is the best estimate here of accuracy on unseen tables:",
            "",
            "| file | right at first look | questions |",
            "|---|---:|---:|",
        ]
        lines += [f"| `{f}` | {a} | {b} |" for f, (a, b) in first_looks.items()]
        lines += [f"| **all** | **{seen}** | **{asked}** ({100 * seen / asked:.0f}%) |", ""]
    lines += [
        "### Planning time (`OfflinePlanner.plan`, milliseconds)",
        "",
        "| workspace | questions | median | p95 | guard + execute median (baseline) | plan / execute |",
        "|---|---:|---:|---:|---:|---:|",
        f"| demo `sales` only ({reps} reps each) | {n_demo} | {ms(_report.median(demo_plan))} | {ms(_report.p95(demo_plan))} | "
        f"{ms(_report.median(demo_exec))} ({demo_sql} planned to SQL) | {_report.ratio(_report.median(demo_plan), _report.median(demo_exec))} |",
        f"| dev set, {len(tables)} tables ({max(1, reps // 2)} reps each) | {n_dev} | {ms(_report.median(dev_plan))} | {ms(_report.p95(dev_plan))} | "
        f"{ms(_report.median(dev_exec))} ({dev_sql} planned to SQL) | {_report.ratio(_report.median(dev_plan), _report.median(dev_exec))} |",
        "",
        "Goal: at most 20 ms median on the demo table. Each question's time is the median of its repetitions (a "
        "fresh session each time, after one warm-up pass); the table's figure is the median over questions. "
        "Questions that look up a value in the data (a word the catalog does not list) include that query.",
        "",
        "### Wrong cases",
        "",
    ]
    wrong = [o for o in outcomes if not o.ok]
    if not wrong:
        lines.append("None.")
    for o in wrong:
        known = f" (known: {o.case.known})" if o.case.known else ""
        lines.append(f"- `{o.case.id}` ({o.case.category}) — “{o.case.q}”: {o.reason}{known}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="timing repetitions per demo question (default 10)")
    parser.add_argument("--results", type=Path, default=_report.RESULTS, help="markdown file to update")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    section = run(reps=args.reps, progress=not args.quiet)
    _report.publish(NAME, section, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
