"""Shared by the benchmarks: the machine's description, summary statistics and RESULTS.md.

Each benchmark owns one section of ``bench/RESULTS.md``, fenced by HTML comments; a re-run
replaces its own section and leaves the others as they are.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"

# Versions that move the figures: the engine, the speech stack, the SQL parser, the frame library.
LIBRARIES = ("chdb", "chdb-core", "clickhouse-connect", "faster-whisper", "ctranslate2", "av",
             "sqlglot", "pandas", "numpy", "plotly", "pydantic")

HEADER = """# Benchmark results

Written by `python bench/run.py` (`make bench`); see `bench/README.md`. Each section is replaced
when its benchmark runs again and carries the machine and date it was measured on. Figures from
different machines are not comparable; ratios against a baseline measured in the same run are.
"""


# ------------------------------------------------------------------ statistics


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def p95(values: list[float]) -> float:
    """The 95th percentile (numpy's linear interpolation between the two nearest samples)."""
    return float(np.percentile(values, 95)) if values else float("nan")


def ms(seconds: float) -> str:
    """Seconds as milliseconds, with precision that suits the size."""
    if seconds != seconds:  # NaN
        return "n/a"
    v = seconds * 1000
    if v < 10:
        return f"{v:.2f}"
    if v < 100:
        return f"{v:.1f}"
    return f"{v:,.0f}"


def ratio(a: float, b: float) -> str:
    if not b or a != a or b != b:
        return "n/a"
    return f"{a / b:.2f}x"


# ------------------------------------------------------------------ the machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "not found"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0].strip() if text else "unknown"


def _cpu_model() -> str:
    m = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    return m.group(1).strip() if m else (platform.processor() or platform.machine())


def _cores() -> str:
    logical = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = logical
    text = f"{usable} usable" + (f" of {logical} logical" if usable != logical else " logical")
    quota = _read("/sys/fs/cgroup/cpu.max").split()
    if len(quota) == 2 and quota[0] != "max":
        text += f", cgroup quota {int(quota[0]) / int(quota[1]):g} CPUs"
    return text


def _ram() -> str:
    m = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    text = f"{int(m.group(1)) / 1024**2:.1f} GiB" if m else "unknown"
    limit = _read("/sys/fs/cgroup/memory.max").strip()
    if limit.isdigit():
        text += f" (cgroup limit {int(limit) / 1024**3:.1f} GiB)"
    return text


def _os() -> str:
    m = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', _read("/etc/os-release"), re.M)
    name = m.group(1) if m else platform.system()
    return f"{name}, kernel {platform.release()} ({platform.machine()})"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "unknown"


def machine() -> dict[str, str]:
    """What the figures were measured on: hardware, OS, Python and the libraries that matter."""
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpu_model(),
        "cores": _cores(),
        "RAM": _ram(),
        "OS": _os(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "bivoice-jupyter": f"{_version('bivoice-jupyter')}, commit {_commit()}",
    }
    info.update({lib: _version(lib) for lib in LIBRARIES if lib != "chdb-core" or _version(lib) != "not installed"})
    info["espeak-ng"] = _first_line(["espeak-ng", "--version"]).split("  Data at")[0]
    info["sox"] = _first_line(["sox", "--version"])
    return info


def machine_table(info: dict[str, str], extra: dict[str, str] | None = None) -> str:
    rows = ["| | |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in {**info, **(extra or {})}.items()]
    return "\n".join(rows)


# ------------------------------------------------------------------ RESULTS.md


def _fence(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(name: str, markdown: str, path: Path = RESULTS) -> Path:
    """Put ``markdown`` in the section ``name`` of ``path``, replacing that section only."""
    start, end = _fence(name)
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
    return path


def publish(name: str, markdown: str, path: Path = RESULTS) -> None:
    """Write section ``name`` (:func:`write_section`), print it, and say where it went."""
    written = write_section(name, markdown, path)
    print(markdown)
    print(f"wrote section {name!r} of {written}", file=sys.stderr)
