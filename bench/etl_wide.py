"""ETL benchmark for wide files: what a load costs per column. A 1,000-row CSV of 8 to 100
columns (whole numbers, decimal-comma numbers, dates, text and yes/no, in turn) loaded by
``Workspace.load``, next to the engine's own ``CREATE TABLE ... AS SELECT * FROM file()`` (its
own type inference, no cleaning, no checks) and to ``pandas.read_csv`` (no insert), in one
worker process of their own (chDB opens one data folder per process), interleaved; and
``Workspace.preview`` of each file (its schema and first 10 rows, nothing loaded).

    python bench/etl_wide.py                    # widths 8, 32, 64, 100; 3 repetitions
    python bench/etl_wide.py --widths 8,16 --reps 5 --results /tmp/R.md

For a file this small a load's time goes mostly to its statements (building them, and the
engine's analysis of them): each column adds its cleaning, checks and counts to them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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


def measure(reps: int, widths: tuple[int, ...], folder: Path) -> dict[str, object]:
    """The timings, in this process (a worker: chDB opens one data folder per process)."""
    import pandas as pd

    os.environ["BIVOICE_HOME"] = str(folder / "home")
    os.environ.pop("BIVOICE_DSN", None)  # the embedded default, whatever the caller's environment says
    from bivoice_jupyter import Workspace

    ws = Workspace(database="wide")
    command = ws._conn.client.command
    files = {}
    for n in widths:
        files[n] = folder / f"wide{n}.csv"
        write_csv(files[n], n)
    ws.load(files[widths[0]], table="warm", if_exists="replace", progress=False)  # the first load's one-offs
    times: dict[str, list[float]] = {}
    loaded: dict[str, tuple[int, int]] = {}
    for rep in range(reps):
        for n in widths:  # interleaved: a busy machine slows every method alike
            path = str(files[n]).replace("'", "\\'")
            t = time.perf_counter()
            report = ws.load(files[n], table=f"w{n}", if_exists="replace", progress=False)
            times.setdefault(f"{n} load", []).append(time.perf_counter() - t)
            loaded[str(n)] = (report.rows_loaded, report.rows_rejected)
            t = time.perf_counter()
            shown = ws.preview(files[n])
            times.setdefault(f"{n} preview", []).append(time.perf_counter() - t)
            if shown.rows.shape != (10, n):
                raise RuntimeError(f"the preview of {n} columns showed {shown.rows.shape}")
            command(f"DROP TABLE IF EXISTS wide.e{n}")
            t = time.perf_counter()
            command(f"CREATE TABLE wide.e{n} ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM file('{path}', 'CSVWithNames')")
            times.setdefault(f"{n} engine", []).append(time.perf_counter() - t)
            t = time.perf_counter()
            pd.read_csv(files[n])
            times.setdefault(f"{n} pandas", []).append(time.perf_counter() - t)
            print(f"rep {rep + 1}/{reps} {n} columns: load {times[f'{n} load'][-1]:.2f} s", file=sys.stderr, flush=True)
    return {"times": times, "loaded": loaded}


def run(reps: int = 3, progress: bool = True, widths: tuple[int, ...] = WIDTHS) -> str:
    folder = Path(tempfile.mkdtemp(prefix="bivoice-bench-wide-"))
    load_start = _report._read("/proc/loadavg").split()[:3]
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", str(folder), "--reps", str(reps),
                               "--widths", ",".join(map(str, widths))],
                              stdout=subprocess.PIPE, stderr=None if progress else subprocess.DEVNULL, text=True, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"the wide-file benchmark's worker failed (exit {proc.returncode}); "
                               + ("its messages are above" if progress else "run it without --quiet to see why"))
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load_end = _report._read("/proc/loadavg").split()[:3]
    times = {tuple(k.split(" ")): v for k, v in result["times"].items()}
    times = {(int(n), m): v for (n, m), v in times.items()}
    loaded = {int(n): tuple(v) for n, v in result["loaded"].items()}
    med = {k: _report.median(v) for k, v in times.items()}
    lines = [
        "## ETL: wide files (the cost per column)",
        "",
        f"`python bench/etl_wide.py --reps {reps}`: a {ROWS:,}-row CSV of each width (whole numbers, decimal-comma "
        "numbers, dates, text and yes/no columns in turn), loaded by `Workspace.load` (embedded chDB, `if_exists="
        "'replace'`), next to the engine's own `CREATE TABLE ... AS SELECT * FROM file()` (its own inference: no "
        "cleaning, no checks, no rejects; a repeated read of one file may reuse the engine's cached inference) and "
        "to `pandas.read_csv` alone (no insert), in a process of its own after a warm-up load, the widths and methods "
        f"interleaved; medians of {reps}. Load average "
        f"{' / '.join(load_start)} at start, {' / '.join(load_end)} at end.",
        "",
        "| columns | `Workspace.load` | per column | engine, inferred | load / engine | `pandas.read_csv` | load / pandas | loaded, rejected | `Workspace.preview` | preview / engine |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in widths:
        load, eng, pdt = med[(n, "load")], med[(n, "engine")], med[(n, "pandas")]
        lines.append(f"| {n} | {load:.2f} s | {load / n * 1000:.0f} ms | {eng * 1000:.0f} ms | {_report.ratio(load, eng)} | "
                     f"{pdt * 1000:.0f} ms | {_report.ratio(load, pdt)} | {loaded[n][0]:,}, {loaded[n][1]:,} | "
                     f"{med[(n, 'preview')]:.2f} s | {_report.ratio(med[(n, 'preview')], eng)} |")
    lines += [
        "",
        "- For files this small a load's time goes mostly to the engine's analysis of its statements (the plan's "
        "counts over the sample, the read with its cleaning and checks) and to building them, each column adding "
        "its share.",
        "- `Workspace.preview`: the schema from the same sample a load plans on, and the first 10 rows cleaned and "
        "typed, nothing loaded.",
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
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    if args.reps < 1 or not widths or min(widths) < 1:
        parser.error("--reps and every width must be at least 1")
    if args.worker:
        print(json.dumps(measure(args.reps, widths, args.worker)))
        return 0
    section = run(reps=args.reps, progress=not args.quiet, widths=widths)
    _report.publish(NAME, section, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
