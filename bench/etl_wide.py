"""ETL benchmark for wide files: what a load costs per column. A 1,000-row CSV of 8 to 100
columns (whole numbers, decimal-comma numbers, dates, text and yes/no, in turn) loaded by
``Workspace.load``, next to the engine's own ``CREATE TABLE ... AS SELECT * FROM file()`` (its
own type inference, no cleaning, no checks) and to ``pandas.read_csv``, in the same process,
interleaved.

    python bench/etl_wide.py                    # widths 8, 32, 64, 100; 3 repetitions
    python bench/etl_wide.py --widths 8,16 --reps 5 --results /tmp/R.md

For a file this small a load's time is its statements' analysis, not its rows: each column
adds its cleaning, checks and counts to the planning and loading statements.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _report sits beside this file

import _report  # noqa: E402

NAME = "etl-wide"
ROWS = 1_000
WIDTHS = (8, 32, 64, 100)


def write_csv(path: Path, columns: int, rows: int = ROWS) -> None:
    kinds = (lambda i, r: str(r * 7 + i), lambda i, r: f'"{r},{i % 10}"', lambda i, r: f"2024-0{1 + r % 9}-1{i % 10}",
             lambda i, r: f"name {r % 5}", lambda i, r: ("yes", "no")[r % 2])
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(f"Col {i}" for i in range(columns)) + "\n")
        for r in range(1, rows + 1):
            f.write(",".join(kinds[i % len(kinds)](i, r) for i in range(columns)) + "\n")


def run(reps: int = 3, progress: bool = True, widths: tuple[int, ...] = WIDTHS) -> str:
    import pandas as pd

    folder = Path(tempfile.mkdtemp(prefix="bivoice-bench-wide-"))
    os.environ["BIVOICE_HOME"] = str(folder / "home")
    try:
        from bivoice_jupyter import Workspace

        ws = Workspace(database="wide")
        command = ws._conn.client.command
        files = {}
        for n in widths:
            files[n] = folder / f"wide{n}.csv"
            write_csv(files[n], n)
        ws.load(files[widths[0]], table="warm", if_exists="replace", progress=False)  # the first load's one-offs
        times: dict[tuple[int, str], list[float]] = {}
        loaded: dict[int, tuple[int, int]] = {}
        load_start = _report._read("/proc/loadavg").split()[:3]
        for rep in range(reps):
            for n in widths:  # interleaved: a busy machine slows every method alike
                path = str(files[n]).replace("'", "\\'")
                t = time.perf_counter()
                report = ws.load(files[n], table=f"w{n}", if_exists="replace", progress=False)
                times.setdefault((n, "load"), []).append(time.perf_counter() - t)
                loaded[n] = (report.rows_loaded, report.rows_rejected)
                command(f"DROP TABLE IF EXISTS wide.e{n}")
                t = time.perf_counter()
                command(f"CREATE TABLE wide.e{n} ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM file('{path}', 'CSVWithNames')")
                times.setdefault((n, "engine"), []).append(time.perf_counter() - t)
                t = time.perf_counter()
                pd.read_csv(files[n])
                times.setdefault((n, "pandas"), []).append(time.perf_counter() - t)
                if progress:
                    print(f"rep {rep + 1}/{reps} {n} columns: load {times[(n, 'load')][-1]:.2f} s", file=sys.stderr)
        load_end = _report._read("/proc/loadavg").split()[:3]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    med = {k: _report.median(v) for k, v in times.items()}
    lines = [
        "## ETL: wide files (the cost per column)",
        "",
        f"`python bench/etl_wide.py --reps {reps}`: a {ROWS:,}-row CSV of each width (whole numbers, decimal-comma "
        "numbers, dates, text and yes/no columns in turn), loaded by `Workspace.load` (embedded chDB, `if_exists="
        "'replace'`), next to the engine's own `CREATE TABLE ... AS SELECT * FROM file()` (its own inference: no "
        "cleaning, no checks, no rejects) and to `pandas.read_csv` alone, in one process after a warm-up load, the "
        f"widths and methods interleaved; medians of {reps}. Load average "
        f"{' / '.join(load_start)} at start, {' / '.join(load_end)} at end.",
        "",
        "| columns | `Workspace.load` | per column | engine, inferred | load / engine | `pandas.read_csv` | load / pandas | loaded, rejected |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in widths:
        load, eng, pdt = med[(n, "load")], med[(n, "engine")], med[(n, "pandas")]
        lines.append(f"| {n} | {load:.2f} s | {load / n * 1000:.0f} ms | {eng * 1000:.0f} ms | {_report.ratio(load, eng)} | "
                     f"{pdt * 1000:.0f} ms | {_report.ratio(load, pdt)} | {loaded[n][0]:,}, {loaded[n][1]:,} |")
    lines += [
        "",
        "- For files this small a load's time is the analysis of its statements (the plan's counts over the sample, "
        "the read with its cleaning and checks), each column adding its share; the rows cost next to nothing.",
        "",
        "### Machine",
        "",
        _report.machine_table(_report.machine()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)), help="comma-separated column counts")
    parser.add_argument("--results", type=Path, default=_report.RESULTS)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    if args.reps < 1 or not widths or min(widths) < 1:
        parser.error("--reps and every width must be at least 1")
    section = run(reps=args.reps, progress=not args.quiet, widths=widths)
    path = _report.write_section(NAME, section, args.results)
    print(section)
    print(f"wrote section {NAME!r} of {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
