"""ETL benchmark: a messy CSV loaded and cleaned by ``Workspace.load`` (rejects kept), next to
ClickHouse's own ``INSERT ... SELECT FROM file()`` and to ``pandas.read_csv`` + ``insert_df``,
in the same run, each in its own process (so that peak memory is each one's own).

    python bench/etl_load.py                     # 1 M rows, 2 repetitions, writes bench/RESULTS.md
    python bench/etl_load.py --rows 10000000 --reps 1  # the issue's 10 M rows (about 600 MB of CSV),
                                                       # in its own section (etl-load-10m)
    python bench/etl_load.py --results /tmp/R.md
    python bench/etl_load.py --no-breakdown      # without "where the time goes" (each step of the
                                                 # load's read timed alone, --breakdown-reps times)

The file has the defects of a real export: dates in three formats, padded text, "$1,234.50"
amounts (an accounting negative every 500 rows), "10%" discounts, "N/A" and "-" nulls, yes/no
booleans, quoted notes with commas, and from row 130,000 one "twelve" in 1,000 quantities.
ClickHouse's own inference reads the first rows, calls the quantity an integer and fails at
row 130,000, so its speed is measured twice: with inference (it fails; the time to failure is
shown) and reading every column as text (no types, no cleaning: the engine's ceiling).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _report sits beside this file

import _report  # noqa: E402

NAME = "etl-load"
METHODS = ("bivoice", "engine-text", "engine-inferred", "pandas")
COLUMNS = ["Order ID", "Order Date", "Region", "Amount ($)", "Discount", "Qty", "Active?", "Note"]


# ------------------------------------------------------------------ the messy file


def write_csv(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write the messy CSV; returns what the load should find (bad quantities)."""
    rnd = random.Random(seed)
    regions = ("Europe", " North America ", "Asia Pacific", "Latin America ")
    notes = ("plain", '"with, comma"', '"say ""hi"""', "", "NULL")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(f'"{c}"' if "," in c else c for c in COLUMNS) + "\n")
        lines = []
        for i in range(1, rows + 1):
            y, m, d = 2022 + i % 3, 1 + rnd.randrange(12), 1 + rnd.randrange(28)
            date = (f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{d} {months[m - 1]} {y}")[i % 3]
            cents = rnd.randrange(100, 500_000)
            money = f"{cents // 100:,}.{cents % 100:02d}"
            amount = f'"(${money})"' if i % 500 == 0 else f'"${money}"'
            qty = "N/A" if i % 50 == 0 else "-" if i % 77 == 0 else str(1 + rnd.randrange(98))
            if i >= 130_000 and rnd.random() < 0.001:
                qty, bad = "twelve", bad + 1
            lines.append(f"{i},{date},{regions[i % 4]},{amount},{(0, 5, 10, 15)[i % 4]}%,{qty},"
                         f"{('yes', 'no')[rnd.randrange(2)]},{notes[i % 5]}\n")
            if len(lines) == 100_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)
    return {"rows": rows, "bad": bad}


# ------------------------------------------------------------------ one method, in its own process


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker(method: str, csv: Path, home: Path) -> dict[str, object]:
    os.environ["BIVOICE_HOME"] = str(home)
    out: dict[str, object] = {"method": method}
    if method == "bivoice":
        from bivoice_jupyter import Workspace

        ws = Workspace()
        t, c = time.perf_counter(), _cpu()
        report = ws.load(csv, table="orders", progress=False)
        out.update(seconds=time.perf_counter() - t, cpu=_cpu() - c, loaded=report.rows_loaded,
                   rejected=report.rows_rejected, columns=dict(report.columns))
    elif method in ("engine-text", "engine-inferred"):
        import clickhouse_connect

        client = clickhouse_connect.get_client(dsn=f"chdb://{home / 'chdb'}")
        path = str(csv).replace("'", "\\'")
        if method == "engine-text":
            structure = ", ".join(f"c{i} String" for i in range(len(COLUMNS)))
            source = f"file('{path}', 'CSVWithNames', '{structure}')"
        else:
            source = f"file('{path}', 'CSVWithNames')"
        t, c = time.perf_counter(), _cpu()
        try:
            client.command(f"CREATE TABLE orders ENGINE = MergeTree ORDER BY tuple() EMPTY AS SELECT * FROM {source}")
            client.command(f"INSERT INTO orders SELECT * FROM {source}")
            loaded = int(client.command("SELECT count() FROM orders"))
            out.update(loaded=loaded, rejected=0)
        except Exception as exc:  # noqa: BLE001 - the inferred schema is expected to fail here
            text = str(exc)
            out.update(error=text.splitlines()[0][:160], loaded=int(client.command("SELECT count() FROM orders")))
        out.update(seconds=time.perf_counter() - t, cpu=_cpu() - c)
        described = client.query("SELECT name, type FROM system.columns WHERE table = 'orders' ORDER BY position")
        out["columns"] = {str(n): str(t_) for n, t_ in described.result_rows}
    elif method == "pandas":
        import clickhouse_connect
        import pandas as pd

        client = clickhouse_connect.get_client(dsn=f"chdb://{home / 'chdb'}")
        t, c = time.perf_counter(), _cpu()
        df = pd.read_csv(csv)
        df.columns = [f"c{i}" for i in range(len(df.columns))]
        types = {"i": "Int64", "f": "Float64", "b": "Bool"}
        defs = []
        for name in df.columns:
            kind = df[name].dtype.kind
            t_ = types.get(kind)
            if t_ is None:
                df[name] = df[name].astype(object).where(df[name].notna(), None)
                t_ = "String"
            defs.append(f"{name} Nullable({t_})")
        client.command(f"CREATE TABLE orders ({', '.join(defs)}) ENGINE = MergeTree ORDER BY tuple()")
        client.insert_df("orders", df)
        out.update(seconds=time.perf_counter() - t, cpu=_cpu() - c, loaded=len(df), rejected=0)
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return out


# ------------------------------------------------------------------ where the time goes

# Each step of the load's one read, timed alone on the same file in one process (chDB), its
# repetitions interleaved with the other steps': what each layer adds to the engine's own read.
STEPS = (
    ("parse", "the engine's read: `file()`, every column String, into a Null table (parsing only)"),
    ("engine", "the engine baseline: the same into MergeTree `ORDER BY tuple()`"),
    ("read", "the load's read: its `file()` settings (spill column, short-row NULL, skipped-row log, "
             "row number), into a Null table"),
    ("floor", "for scale: a cleaning written by hand for this one file (see `FLOOR`: the same values for every "
              "loaded row, but no null-token list, no checks, no rejects, no counts), into a Null table"),
    ("casts", "+ cleaning casts and checks (every cast layer), and what the views keep, computed per row (the counts' "
              "evidence, a rejected row's fields, values holding a line break), into a Null table, no views"),
    ("stage-tuple", "+ the four staging views (good rows, rejects, counts, unclosed quotes), staging `ORDER BY tuple()`"),
    ("stage", "+ the four staging views, staging ordered by the load's key (what the load runs)"),
    ("load", "the whole `Workspace.load` (plan on the first rows, staging, counts, swap, audit)"),
)


# A cleaning of this benchmark's file written by hand, knowing its defects: what casting these
# values costs the engine with nothing generic around it. It reads the same values as the load
# for every row the load keeps (checked in each run: ``floor_differs``); it cannot reject the
# "twelve" quantities (they become NULL), knows only the null tokens this file has, and counts
# nothing the load's plan is checked against.
FLOOR = ("SELECT toInt64(c0) AS order_id, toDate32(parseDateTime64BestEffortOrNull(c1, 3)) AS order_date, "
         "trimBoth(c2) AS region, toDecimal64OrNull(replaceRegexpAll(replaceOne(c3, '(', '-'), '[$,)]', ''), 2) AS amount, "
         "toInt64OrNull(trimRight(c4, '%')) AS discount, toInt64OrNull(c5) AS qty, c6 = 'yes' AS active, "
         "if(c7 IN ('', 'NULL'), NULL, c7) AS note FROM {source}")


def breakdown(csv: Path, home: Path, reps: int) -> dict[str, object]:
    """Time each of :data:`STEPS` ``reps`` times, interleaved; CPU is this process's (chDB's
    threads included)."""
    import importlib

    os.environ["BIVOICE_HOME"] = str(home)
    from sqlglot import exp

    from bivoice_jupyter import Workspace
    from bivoice_jupyter.etl import audit, engine, infer
    from bivoice_jupyter.etl.names import DIALECT, ident, table
    from bivoice_jupyter.etl.progress import Progress
    from bivoice_jupyter.etl.sources import ReadOptions, Scratch, resolve

    load = importlib.import_module("bivoice_jupyter.etl.load")  # the package exports a function of that name
    ws = Workspace(database="bench")
    conn, db = ws._conn, "bench"
    command = conn.client.command
    scratch = Scratch(conn, db, "bench")
    raw = resolve(csv, ReadOptions()).open(conn, scratch, Progress(False), stage=False)
    plans, counting, _ = load._speculate(conn, raw, infer.MAX_BAD_SHARE, True, scratch=scratch)
    read_settings = [s.sql(DIALECT) for s in raw.settings]
    stage_settings = [f"{k} = {v}" for k, v in {**load.STAGE_SETTINGS, **engine.analysis(conn)}.items()]  # as the load sends them
    path = str(csv).replace("'", "\\'")
    strings = ", ".join(f"c{i} String" for i in range(len(raw.columns)))

    def statement(select: exp.Select, settings: list[str], into: str) -> str:
        return f"INSERT INTO {db}.{into} {select.sql(DIALECT)} SETTINGS {', '.join(settings)}"

    def null_table(select: exp.Select, settings: list[str]) -> None:
        command(f"CREATE TABLE {db}.t ENGINE = Null EMPTY AS {select.sql(DIALECT)} SETTINGS {', '.join(settings)}")

    def staging(order: list[str] | None, views: bool) -> str:
        # the load's own statements (load._fan), its tables named for this bench
        fan = load._fan(raw, plans, counting, "x", table(db, "t"))
        null_table(exp.select(exp.Star()).from_(fan.relation).limit(0), read_settings or ["max_threads = 0"])
        command(load._create(db, "stage", plans, infer.order_key(plans) if order is None else order, False).sql(DIALECT))
        command(audit.create_statement(db, "rejected", audit.REJECT_COLUMNS, []).sql(DIALECT))
        command(f"CREATE TABLE {db}.stats ({', '.join(f'{ident(str(x.alias)).sql(DIALECT)} Int64' for x in fan.counts)}) "
                "ENGINE = Memory")
        command(load._quotes_table(db, "quotes").sql(DIALECT))
        if views:
            for what, select in fan.views.items():
                target = {"rows": "stage", "rejects": "rejected"}.get(what, what)
                cols = [str(e.alias_or_name) for e in select.expressions]
                command(f"CREATE MATERIALIZED VIEW {db}.mv_{what} TO {db}.{target} "
                        f"({', '.join(ident(c_).sql(DIALECT) for c_ in cols)}) AS {select.sql(DIALECT)}")
        return statement(exp.select(exp.Star()).from_(fan.relation), read_settings + stage_settings, "t")

    def prepare(step: str) -> str | None:
        # the last step's tables go, and with them their background merges, which would
        # otherwise run (in this process) during the next step
        for t in ("mv_rows", "mv_rejects", "mv_stats", "mv_quotes", "t", "stage", "rejected", "stats", "quotes", "orders",
                  "orders_rejected", *scratch.tables):
            command(f"DROP TABLE IF EXISTS {db}.{t}")
        scratch.tables.clear()
        while int(command("SELECT count() FROM system.merges")):
            time.sleep(0.05)
        source = f"file('{path}', 'CSVWithNames', '{strings}')"
        if step == "parse":
            command(f"CREATE TABLE {db}.t ({strings}) ENGINE = Null")
            return f"INSERT INTO {db}.t SELECT * FROM {source}"
        if step == "engine":
            command(f"CREATE TABLE {db}.t ({strings}) ENGINE = MergeTree ORDER BY tuple()")
            return f"INSERT INTO {db}.t SELECT * FROM {source}"
        if step == "read":
            select = exp.select(exp.Star(), exp.alias_(raw.row, "r")).from_(raw.relation)
            null_table(select.limit(0), read_settings)
            return statement(select, read_settings + stage_settings, "t")
        if step == "floor":
            command(f"CREATE TABLE {db}.t ENGINE = Null EMPTY AS {FLOOR.format(source=source)} "
                    "SETTINGS input_format_with_names_use_header = 0")
            return f"INSERT INTO {db}.t {FLOOR.format(source=source)} SETTINGS input_format_with_names_use_header = 0"
        if step == "casts":
            return staging(None, views=False)
        if step == "stage-tuple":
            return staging([], views=True)
        if step == "stage":
            return staging(None, views=True)
        return None  # "load": the whole Workspace.load

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    times: dict[str, list[tuple[float, float]]] = {k: [] for k, _ in STEPS}
    for _ in range(reps):
        for step, _label in STEPS:
            sql = prepare(step)
            t, c = time.perf_counter(), cpu()
            if sql is None:
                ws.load(csv, table="orders", if_exists="replace", progress=False)
            else:
                command(sql)
            times[step].append((time.perf_counter() - t, cpu() - c))
            if step == "stage":  # the views did their work: every row is staged or rejected
                staged = int(command(f"SELECT (SELECT count() FROM {db}.stage) + (SELECT count() FROM {db}.rejected)"))
                if staged != raw_rows(conn, raw):
                    raise RuntimeError(f"the staging step staged {staged:,} rows")
    # the floor reads the same values as the load for every row the load kept
    prepare("")
    source = f"file('{path}', 'CSVWithNames', '{strings}')"
    ws.load(csv, table="orders", if_exists="replace", progress=False)
    command(f"CREATE TABLE {db}.t ENGINE = MergeTree ORDER BY order_id AS {FLOOR.format(source=source)} "
            "SETTINGS input_format_with_names_use_header = 0")
    names = [p.name for p in plans if p.name != "order_id"]
    differs = int(command(f"SELECT count() FROM {db}.t AS f INNER JOIN {db}.orders AS o ON f.order_id = o.order_id "
                          f"WHERE NOT ({' AND '.join(f'f.{n} <=> o.{n}' for n in names)})"))
    kept = int(command(f"SELECT count() FROM {db}.t AS f INNER JOIN {db}.orders AS o ON f.order_id = o.order_id"))
    return {"method": "breakdown", "times": times, "reps": reps, "floor_differs": differs, "floor_compared": kept}


def raw_rows(conn: object, raw: object) -> int:
    from bivoice_jupyter.etl.names import DIALECT

    return int(conn.client.command(f"SELECT count() FROM {raw.relation.sql(DIALECT)}"))  # type: ignore[attr-defined]


def run_one(method: str, csv: Path, *extra: str) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix=f"bivoice-bench-{method}-"))
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", method, "--csv", str(csv), "--home", str(home),
                               *extra], capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            return {"method": method, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ------------------------------------------------------------------ the report


def _median(values: list[float]) -> float:
    return _report.median(values)


def run(reps: int = 2, progress: bool = True, rows: int = 1_000_000, breakdown_reps: int = 3) -> str:
    folder = Path(tempfile.mkdtemp(prefix="bivoice-bench-etl-"))
    try:
        csv = folder / "orders.csv"
        t = time.perf_counter()
        truth = write_csv(csv, rows)
        made = time.perf_counter() - t
        size_mb = csv.stat().st_size / 1e6
        load_start = _report._read("/proc/loadavg").split()[:3]
        results: dict[str, list[dict[str, object]]] = {m: [] for m in METHODS}
        for rep in range(reps):
            for method in METHODS:  # interleaved: a busy machine slows every method alike
                r = run_one(method, csv)
                results[method].append(r)
                if progress:
                    print(f"rep {rep + 1}/{reps} {method}: {r.get('seconds', float('nan')):.2f} s, "
                          f"peak {r.get('peak_mib', float('nan')):.0f} MiB {r.get('error', '')}", file=sys.stderr)
        load_end = _report._read("/proc/loadavg").split()[:3]
        steps: dict[str, object] = {}
        if breakdown_reps:
            steps = run_one("breakdown", csv, "--reps", str(breakdown_reps))
            steps["load"] = [load_end, _report._read("/proc/loadavg").split()[:3]]
            if progress:
                print(f"breakdown: {steps.get('error', 'done')}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _section(results, rows, truth, size_mb, made, reps, load_start, load_end, steps)


def _section(results: dict[str, list[dict[str, object]]], rows: int, truth: dict[str, int], size_mb: float,
             made: float, reps: int, load_start: list[str], load_end: list[str],
             steps: dict[str, object] | None = None) -> str:
    def med(method: str, key: str) -> float:
        return _median([float(r[key]) for r in results[method] if key in r])  # type: ignore[arg-type]

    labels = {
        "bivoice": "**`Workspace.load`**: sniff, profile, clean, type, reject, atomic swap",
        "engine-text": "ClickHouse `INSERT ... SELECT FROM file()`, every column as String (no types, no cleaning)",
        "engine-inferred": "ClickHouse `INSERT ... SELECT FROM file()` with its own schema inference",
        "pandas": "`pandas.read_csv` + `client.insert_df` (pandas' types, no cleaning)",
    }
    table = ["| method | wall s (median) | rows/s | CPU s | peak memory MiB | rows loaded | rejected | outcome |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for m in METHODS:
        runs = results[m]
        errors = [str(r["error"]) for r in runs if "error" in r]
        sec = med(m, "seconds")
        loaded = int(runs[-1].get("loaded", 0) or 0) if runs else 0
        outcome = "ok" if not errors else f"failed: {errors[0][:110]}"
        rate = f"{rows / sec:,.0f}" if sec == sec and not errors else "n/a"
        table.append(f"| {labels[m]} | {sec:.2f} | {rate} | {med(m, 'cpu'):.2f} | {med(m, 'peak_mib'):,.0f} | "
                     f"{loaded:,} | {int(runs[-1].get('rejected', 0) or 0) if runs else 0:,} | {outcome} |")
    ours, text, pandas = med("bivoice", "seconds"), med("engine-text", "seconds"), med("pandas", "seconds")
    ours_cpu, text_cpu = med("bivoice", "cpu"), med("engine-text", "cpu")
    columns = results["bivoice"][-1].get("columns", {}) if results["bivoice"] else {}
    lines = [
        "## ETL: a 1 M-row messy CSV loaded and cleaned" if rows == 1_000_000 else f"## ETL: a {rows:,}-row messy CSV loaded and cleaned",
        "",
        f"`python bench/etl_load.py --rows {rows}` — {reps} repetitions of each method, interleaved, each in a fresh "
        f"process with a fresh chDB folder (peak memory is that process's maximum resident set, chDB included). "
        f"The CSV: {rows:,} rows, {size_mb:.0f} MB, written in {made:.1f} s; {truth['bad']:,} bad quantities "
        "from row 130,000 (see the module docstring for every defect). Times are medians.",
        "",
        "### Machine",
        "",
        _report.machine_table(_report.machine(), {
            "load average (1/5/15 min) at start": " / ".join(load_start),
            "load average (1/5/15 min) at end": " / ".join(load_end),
        }),
        "",
        "### Results",
        "",
        *table,
        "",
        f"- **Ratios** (wall clock): `Workspace.load` runs at {_report.ratio(text, ours)} the engine's own text "
        f"ingestion speed, and {_report.ratio(pandas, ours)} the speed of pandas + insert_df. In CPU seconds, "
        f"{_report.ratio(text_cpu, ours_cpu)} of the engine's. The issue's goals were 0.7x and 5x. Against the engine's "
        f"ingestion with its own inference (no cleaning, no rejects; see the next line): "
        f"{_report.ratio(med('engine-inferred', 'seconds'), ours)}.",
        "- Peak memory: the engine's own reads map the file into memory (chDB's default read method for local "
        "files), so the mapped pages of the CSV count in its resident set; `Workspace.load` reads the file with "
        "`pread()` (`storage_file_read_method`), so its figure has no such share.",
        _inferred_note(results["engine-inferred"]),
        f"- Types `Workspace.load` chose: {', '.join(f'`{k}` {v}' for k, v in columns.items())}.",
        *_steps_table(steps or {}, rows),
    ]
    return "\n".join(lines)


def _steps_table(steps: dict[str, object], rows: int) -> list[str]:
    """Where the time goes: each step of the load's read alone (see :func:`breakdown`)."""
    if not steps:
        return []
    if "error" in steps:
        return ["", f"Where the time goes: not measured ({steps['error']})."]
    times: dict[str, list[list[float]]] = steps["times"]  # type: ignore[assignment]
    # the fastest repetition of each step: other work on the machine only ever adds time
    wall = {k: min(w for w, _ in v) for k, v in times.items()}
    cpu = {k: min(c for _, c in v) for k, v in times.items()}
    before = {"engine": "parse", "floor": "parse", "casts": "read", "stage-tuple": "casts", "stage": "casts"}
    load = steps.get("load", [["?"] * 3, ["?"] * 3])
    out = ["", "### Where the time goes", "",
           f"`--breakdown-reps {steps['reps']}`: each step of the load's one read timed alone on the same file, in one "
           f"process (chDB), the steps' repetitions interleaved; the fastest of each (other work only adds time); CPU is "
           f"the process's, every engine thread "
           f"included. Load average {' / '.join(load[0])} at start, {' / '.join(load[1])} at end "  # type: ignore[index]
           f"(other work shares this machine's {os.cpu_count()} cores, so CPU seconds are the steadier measure).", "",
           "| step | wall s | CPU s | CPU s added | CPU µs per row added |", "|---|---:|---:|---:|---:|"]
    for key, label in STEPS:
        base = before.get(key)
        added = cpu[key] - cpu[base] if base else float("nan")
        out.append(f"| {label} | {wall[key]:.2f} | {cpu[key]:.2f} | "
                   + (f"{added:+.2f} (over {base}) | {added / rows * 1e6:.2f} |" if base else "| |"))
    fixed = cpu["load"] - cpu["stage"]
    out += ["", f"- The cleaning casts and per-row checks alone add {cpu['casts'] - cpu['read']:.2f} CPU s, "
                f"{(cpu['casts'] - cpu['read']) / max(cpu['engine'], 1e-9):.1f}x the engine's whole text ingestion "
                f"({cpu['engine']:.2f} CPU s); the load's read settings add {cpu['read'] - cpu['parse']:+.2f} over plain "
                f"parsing, the views (which pick and sum those columns, and write the staging tables) "
                f"{cpu['stage'] - cpu['casts']:+.2f} (ordering the staging table by the load's key rather "
                f"than `tuple()`: {cpu['stage'] - cpu['stage-tuple']:+.2f}), and planning, counts, swap and audit around "
                f"the read "
                f"{fixed:+.2f}."]
    if "floor" in cpu:
        out.append(f"- For scale, the hand-written cleaning of this one file adds {cpu['floor'] - cpu['parse']:+.2f} CPU s "
                   f"over plain parsing (wall {wall['floor']:.2f} s against the parse's {wall['parse']:.2f} s); it read "
                   f"the same values as the load for {steps.get('floor_compared', '?'):,} rows, "
                   f"{steps.get('floor_differs', '?')} differing. The load's generic cleaning costs "
                   f"{(cpu['casts'] - cpu['read']) / max(cpu['floor'] - cpu['parse'], 1e-9):.1f}x as much: the null-token "
                   "list, thousands and decimal-comma rules, the date checks, the failure flags that make rejects exact, and "
                   "the evidence counted to check the plan against every row.")
    return out


def _inferred_note(runs: list[dict[str, object]]) -> str:
    if not runs:
        return "- The engine's own inference was not measured."
    last = runs[-1]
    if "error" in last:
        return (f"- The engine's own inference fails on this file: {str(last['error'])[:140]} — it reads the first "
                "rows only, which is what the load's plan from every row is for.")
    cols = last.get("columns", {}) or {}
    text = [k for k, v in cols.items() if "String" in str(v)]  # type: ignore[union-attr]
    return (f"- The engine's own inference loads this file, but {len(text)} of its {len(cols)} columns stay text "
            f"({', '.join(text)}): no cleaning, no rejects.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--results", type=Path, default=_report.RESULTS)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the step-by-step timing (where the time goes)")
    parser.add_argument("--breakdown-reps", type=int, default=5)
    parser.add_argument("--worker", choices=(*METHODS, "breakdown"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "breakdown":
        print(json.dumps(breakdown(args.csv, args.home, args.reps), default=str))
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker, args.csv, args.home), default=str))
        return 0
    section = run(reps=args.reps, progress=not args.quiet, rows=args.rows,
                  breakdown_reps=0 if args.no_breakdown else args.breakdown_reps)
    name = NAME if args.rows == 1_000_000 else f"{NAME}-{args.rows / 1e6:g}m"
    _report.publish(name, section, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
