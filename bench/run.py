"""Run the benchmarks and write their sections of bench/RESULTS.md (``make bench``).

Speed is measured here, never asserted in tests. Every benchmark compares against a baseline
measured in the same run and records the machine and date beside its figures.

    python bench/run.py              # all benchmarks, 5 repetitions
    python bench/run.py --reps 2     # quicker, noisier
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench modules sit beside this file

import _report  # noqa: E402
import etl_load  # noqa: E402
import etl_wide  # noqa: E402
import guard_bench  # noqa: E402
import nl2sql  # noqa: E402
import pipeline_latency  # noqa: E402
import speech_accuracy  # noqa: E402
import speech_device  # noqa: E402

BENCHMARKS = {
    pipeline_latency.NAME: pipeline_latency.run,
    speech_accuracy.NAME: speech_accuracy.run,
    guard_bench.NAME: lambda reps, progress: guard_bench.run(reps=max(reps, 5), progress=progress),
    nl2sql.NAME: nl2sql.run,
    etl_load.NAME: lambda reps, progress: etl_load.run(reps=min(reps, 2), progress=progress),
    etl_wide.NAME: lambda reps, progress: etl_wide.run(reps=min(reps, 3), progress=progress),
    speech_device.NAME: speech_device.run,
}
NEEDS_GPU = {speech_device.NAME}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each question (default 5)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark")
    parser.add_argument("--results", type=Path, default=_report.RESULTS, help="markdown file to update")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    names = args.only or list(BENCHMARKS)
    if not args.only and speech_device.gpus() == 0:
        names = [n for n in names if n not in NEEDS_GPU]
        print(f"left out {', '.join(sorted(NEEDS_GPU))}: CTranslate2 sees no CUDA GPU here", file=sys.stderr)
    for name in names:
        section = BENCHMARKS[name](reps=args.reps, progress=not args.quiet)
        _report.publish(name, section, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
