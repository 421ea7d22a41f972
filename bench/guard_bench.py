"""The SQL guard's cost per query, next to chDB's execution time of the same queries.

Every query of ``tests/fixtures/guard/allow.sql`` is guarded (``guard(sql, policy)``) and then
run (``Connection.run``: the guarded SQL with the workspace's settings) on the tables the guard
tests use (demo ``sales``, ``customers``, ``events``) in embedded chDB, ``--reps`` times each after
one warm-up, guard and execution interleaved so a busy machine slows both alike. Per query the
median of its repetitions counts; the section reports the median and p95 over the corpus, wall
and CPU time of the guard, and a typical ten-line query on its own (the issue's goal: a median of
at most 1 ms). It also times refusals of bad input (1 MB of text, the slowest 20,000-character
shapes) to show the guard is not itself the bomb.

    python bench/guard_bench.py             # writes the "guard" section of bench/RESULTS.md
    python bench/guard_bench.py --reps 5 --results /tmp/R.md
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _report sits beside this file

import _report as rep  # noqa: E402

NAME = "guard"
ROOT = Path(__file__).resolve().parents[1]

# A typical ten-line question as an analyst or the LLM planner writes it: a CTE, a join, a
# filter, an aggregate, a window, an order and a limit.
TYPICAL = """WITH monthly AS (
    SELECT s.region, toStartOfMonth(s.order_date) AS month, sum(s.revenue) AS revenue
    FROM sales AS s
    JOIN customers AS c ON s.customer = c.customer
    WHERE c.segment IN ('Enterprise', 'SMB') AND s.order_date >= '2023-01-01'
    GROUP BY s.region, month
)
SELECT region, month, revenue,
       revenue - lagInFrame(revenue) OVER (PARTITION BY region ORDER BY month ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS change
FROM monthly ORDER BY region, month LIMIT 100"""


def _bad_inputs(max_chars: int) -> dict[str, str]:
    def fill(unit: str, head: str, sep: str, tail: str = "") -> str:
        n = max(1, (max_chars - len(head) - len(tail)) // (len(unit) + len(sep)))
        return head + sep.join([unit] * n) + tail

    return {
        "1 MB of text": "SELECT 1 " + " " * 1_000_000,
        "1 MB of UNION ALL": "SELECT 1 UNION ALL " * 55_000 + "SELECT 1",
        "binary garbage (256 bytes)": bytes(range(1, 256)).decode("latin-1"),
        "parentheses 9,000 deep": "SELECT " + "(" * 9000 + "1" + ")" * 9000,
        f"{max_chars:,} chars: x::T::T... chain": "SELECT 1" + "::Int64" * ((max_chars - 8) // 7),
        f"{max_chars:,} chars: a.b.c... chain": "SELECT a" + ".b" * ((max_chars - 20) // 2) + " FROM sales",
        f"{max_chars:,} chars: 1+1+... (too many tokens)": fill("1", "SELECT ", "+"),
        f"{max_chars:,} chars: OR of IN subqueries (allowed)": fill(
            "order_id IN (SELECT order_id FROM sales)", "SELECT count() FROM sales WHERE ", " OR "),
        f"{max_chars:,} chars: CASE WHEN ... (allowed)": fill("WHEN order_id = 1 THEN 2", "SELECT CASE ", " ",
                                                              " END FROM sales"),
    }


def _setup(progress: bool):
    """A fresh BIVOICE_HOME with the guard tests' tables; returns the workspace and the cases."""
    tmp = Path(tempfile.mkdtemp(prefix="bivoice-guard-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ["BIVOICE_HOME"] = str(tmp / "home")  # chDB allows one data dir per process: ours
    os.environ.pop("BIVOICE_DSN", None)
    sys.path.insert(0, str(ROOT / "tests"))
    import pandas as pd
    import test_guard  # the fixture format and the `events` table, from their one source

    from bivoice_jupyter import Workspace
    from bivoice_jupyter.demo import sales_frame

    if progress:
        print("guard bench: loading the demo tables ...", file=sys.stderr)
    ws = Workspace()
    ws.load(sales_frame(), table="sales", if_exists="replace", progress=False)
    n = range(1, 1500)
    ws.load(pd.DataFrame({"customer": [f"C{i:04d}" for i in n],
                          "segment": [("Enterprise", "SMB", "Consumer")[i % 3] for i in n],
                          "signup_year": [2015 + i % 8 for i in n]}),
            table="customers", if_exists="replace", progress=False)
    for statement in test_guard.EVENTS:
        ws._conn.client.command(statement)
    ws.refresh()
    return ws, test_guard.load_cases("allow.sql")


def _time(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.thread_time()
    out = fn()
    return time.perf_counter() - wall, time.thread_time() - cpu, out


def measure(reps: int = 20, progress: bool = True) -> dict:
    from bivoice_jupyter.errors import BivoiceError, GuardRejected
    from bivoice_jupyter.sql import guard as guard_module
    from bivoice_jupyter.sql.guard import guard

    ws, cases = _setup(progress)
    policy = ws.policy()
    load_start = os.getloadavg()
    started = time.perf_counter()
    rows = []
    for i, case in enumerate([*cases, type(cases[0])("typical_ten_line_query", TYPICAL)]):
        guarded = guard(case.sql, policy)  # warm-up, and what runs
        ws._conn.run(guarded)
        g_wall, g_cpu, x_wall = [], [], []
        for _ in range(reps):
            w, c, _ = _time(lambda: guard(case.sql, policy))
            g_wall.append(w)
            g_cpu.append(c)
            w, _, _ = _time(lambda: ws._conn.run(guarded))
            x_wall.append(w)
        rows.append({"id": case.id, "lines": case.sql.strip().count("\n") + 1, "chars": len(case.sql),
                     "guard": statistics.median(g_wall), "guard_cpu": statistics.median(g_cpu),
                     "execute": statistics.median(x_wall)})
        if progress and i % 20 == 0:
            print(f"guard bench: {i + 1}/{len(cases) + 1} queries", file=sys.stderr)
    bad = {}
    for label, text in _bad_inputs(guard_module.MAX_SQL_CHARS).items():
        times = []
        for _ in range(3):
            t = time.thread_time()
            try:
                guard(text, policy)
                outcome = "allowed"
            except GuardRejected as exc:
                outcome = exc.rule
            except BivoiceError as exc:  # pragma: no cover - the guard raises only GuardRejected
                outcome = type(exc).__name__
            times.append(time.thread_time() - t)
        bad[label] = (min(times), outcome, len(text))
    import sqlglot.parser

    return {
        "rows": rows, "bad": bad, "reps": reps, "seconds": time.perf_counter() - started,
        "load": (load_start, os.getloadavg()), "max_chars": guard_module.MAX_SQL_CHARS,
        "compiled": str(sqlglot.parser.__file__).endswith(".so"),
    }


def markdown(res: dict, info: dict[str, str]) -> str:
    rows = [r for r in res["rows"] if r["id"] != "typical_ten_line_query"]
    typical = next(r for r in res["rows"] if r["id"] == "typical_ten_line_query")
    g = [r["guard"] for r in rows]
    c = [r["guard_cpu"] for r in rows]
    x = [r["execute"] for r in rows]
    ms, med, p95 = rep.ms, rep.median, rep.p95
    load = " / ".join(f"{v:.2f}" for v in res["load"][0]), " / ".join(f"{v:.2f}" for v in res["load"][1])
    extra = {"sqlglot build": "compiled (sqlglotc)" if res["compiled"] else "pure Python (no sqlglotc)",
             "load average (1/5/15 min) at start": load[0], "load average (1/5/15 min) at end": load[1]}
    out = [
        "## SQL guard: time per query against chDB's execution of it",
        "",
        f"`python bench/guard_bench.py` — the {len(rows)} queries of `tests/fixtures/guard/allow.sql` "
        f"(1 to {max(r['lines'] for r in rows)} lines, {min(r['chars'] for r in rows)} to "
        f"{max(r['chars'] for r in rows):,} characters) plus one typical ten-line query, each guarded "
        f"(`guard(sql, policy)`) and run (`Connection.run`, embedded chDB, the workspace's settings) "
        f"{res['reps']} times after a warm-up, interleaved; per query the median of its repetitions, "
        f"then median and p95 over the queries. Tables: demo `sales` (20,000 rows), `customers` "
        f"(1,499), `events` (6,100). Whole run {res['seconds']:.0f} s. Times in milliseconds.",
        "",
        "### Machine",
        "",
        rep.machine_table(info, extra),
        "",
        "### Per query",
        "",
        "| | median | p95 |",
        "|---|---:|---:|",
        f"| guard, wall | {ms(med(g))} | {ms(p95(g))} |",
        f"| guard, CPU (thread time) | {ms(med(c))} | {ms(p95(c))} |",
        f"| chDB execution (`Connection.run`), wall | {ms(med(x))} | {ms(p95(x))} |",
        f"| guard / execution | {rep.ratio(med(g), med(x))} | |",
        "",
        f"Typical ten-line query (CTE, join, filter, aggregate, window; {len(TYPICAL)} characters): guard "
        f"**{ms(typical['guard'])} ms** wall ({ms(typical['guard_cpu'])} ms CPU), execution "
        f"{ms(typical['execute'])} ms. Goal: a median of at most 1 ms.",
        "",
        "By size (median guard wall time):",
        "",
        "| characters | queries | guard | execution |",
        "|---|---:|---:|---:|",
    ]
    for lo, hi in ((0, 150), (150, 300), (300, 10**9)):
        part = [r for r in rows if lo <= r["chars"] < hi]
        if part:
            label = f"{lo}+" if hi == 10**9 else f"{lo}–{hi - 1}"
            out.append(f"| {label} | {len(part)} | {ms(med([r['guard'] for r in part]))} | "
                       f"{ms(med([r['execute'] for r in part]))} |")
    slow = sorted(rows, key=lambda r: r["guard"], reverse=True)[:5]
    out += ["", "Slowest to guard: " + ", ".join(f"`{r['id']}` {ms(r['guard'])}" for r in slow) + ".", "",
            f"### Bad input (CPU time, best of 3; MAX_SQL_CHARS = {res['max_chars']:,})", "",
            "| input | characters | outcome | guard |", "|---|---:|---|---:|"]
    for label, (seconds, outcome, size) in res["bad"].items():
        out.append(f"| {label} | {size:,} | {outcome} | {ms(seconds)} |")
    out += ["", "### Notes", "",
            "- The guard parses the text, checks it, writes the SQL to run, then parses and checks that "
            "SQL again (the second pass is what makes the checks hold for the SQL that runs): about two "
            "sqlglot parses and two writes per query. Most of its time is sqlglot's tokenizer, parser and "
            "generator; the guard's own rules walk the tree once per pass.",
            "- sqlglot ships a compiled build of the same version (`pip install 'sqlglot[c]'`, the "
            "`sqlglotc` wheel); the guard's tests pass with it, and it roughly halves the guard's time.",
            ]
    return "\n".join(out)


def run(reps: int = 20, progress: bool = True) -> str:
    """The section for bench/RESULTS.md (the interface of bench/run.py)."""
    return markdown(measure(reps=reps, progress=progress), rep.machine())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions of each query (default 20)")
    parser.add_argument("--results", type=Path, default=rep.RESULTS, help="markdown file to update")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    section = run(reps=args.reps, progress=not args.quiet)
    rep.publish(NAME, section, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
