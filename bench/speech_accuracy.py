"""Speech: latency and real-time factor, word error rate, column-term recall and spoken accuracy.

The dev set (bench/speech_devset.py: 34 questions over the demo ``sales`` table and a camelCase
``staff`` table, read while the spoken repairs were tuned, and 30 held-out questions written
before that and never used to tune anything) is spoken by three Debian voices (espeak-ng en-us, espeak-ng en-gb
RP, festival's kal_diphone when installed), resampled to 16 kHz mono by sox. Measured in one run:

* **Latency**: our ``transcribe`` with the workspace's schema sentence, per clip, against
  faster-whisper's ``WhisperModel.transcribe`` with the same decoding settings and prompt (beam 5,
  temperature 0, no timestamps) but its fixed 30 s encoder window: the baseline, interleaved
  with ours. p50/p95 and real-time factor (seconds of compute per second of audio).
* **Accuracy of recognition**, three ways: no prompt; a comma list of the raw identifiers (the
  form a probe found leaking into transcripts); the schema sentence (what ``Workspace`` sends).
  Word error rate after the planner's normalisation (so "top 5" matches "top five"), and
  column-term recall: of the schema's words spoken in a question (column words, table values),
  the share the transcript contains.
* **Spoken accuracy**: the share of spoken questions whose answer (``Workspace.ask_audio``)
  equals the typed question's answer: with the schema sentence and the reading that fits the
  tables (ours, bivoice_jupyter.planner.hearing), with the sentence and the recogniser's first
  reading (``fit=False``), and with neither. Reported for the tuning and held-out sets apart.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _report as rep
import speech_devset as dev

NAME = "speech"
LATENCY_REPS = 3  # at most: each repetition transcribes every clip twice (ours and the baseline)


@dataclass
class Clip:
    question: str
    voice: str
    path: Path
    held_out: bool = False
    seconds: float = 0.0
    heard: dict[str, str] = field(default_factory=dict)  # condition -> transcript
    ours: list[float] = field(default_factory=list)  # seconds, our transcribe with the sentence
    baseline: list[float] = field(default_factory=list)  # seconds, faster-whisper's 30 s window
    same_answer: dict[str, bool] = field(default_factory=dict)  # condition -> spoken answer == typed
    spoken_error: dict[str, str] = field(default_factory=dict)
    choose_s: float = 0.0  # seconds spent choosing the reading (planner.hearing.choose)


# ------------------------------------------------------------------ scoring


def _norm(text: str) -> list[str]:
    from bivoice_jupyter.planner.words import normalise, strip_accents

    return normalise(strip_accents(text)).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words), after normalisation."""
    ref, hyp = _norm(reference), _norm(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def schema_terms(catalog: Any) -> set[str]:
    """The schema's spoken words: every column's words and every low-cardinality value, normalised."""
    from bivoice_jupyter.planner.words import identifier_words

    terms: set[str] = set()
    for t in catalog.tables:
        terms.add(" ".join(_norm(t.name)))
        for c in t.columns:
            terms.add(" ".join(_norm(" ".join(identifier_words(c.name)))))
            terms.update(" ".join(_norm(v)) for v in c.values if not re.search(r"\d", v))
    return {t for t in terms if t and len(t) > 2}


def _singular(words: list[str]) -> list[str]:
    from bivoice_jupyter.planner.words import singular

    return [singular(w) for w in words]


def terms_in(text: str, terms: set[str]) -> set[str]:
    words = " " + " ".join(_singular(_norm(text))) + " "
    return {t for t in terms if " " + " ".join(_singular(t.split())) + " " in words}


# ------------------------------------------------------------------ measuring


def _identifier_list(catalog: Any) -> str:
    return ", ".join([t.name for t in catalog.tables] + [c.name for t in catalog.tables for c in t.columns])


def _baseline(model: Any, samples: Any, prompt: str) -> tuple[float, str]:
    t = time.perf_counter()
    segments, _ = model.transcribe(samples, language="en", beam_size=5, temperature=0.0, without_timestamps=True,
                                   condition_on_previous_text=False, initial_prompt=prompt, vad_filter=False)
    text = " ".join(s.text.strip() for s in segments).strip()  # decoding happens while iterating
    return time.perf_counter() - t, text


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    cols = list(a.columns)
    return a.sort_values(cols).reset_index(drop=True).equals(b.sort_values(cols).reset_index(drop=True))


def measure(reps: int, progress: bool = True) -> dict[str, Any]:
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"bench: {' and '.join(missing)} missing; install with `sudo apt-get install espeak-ng sox`.")
    started = time.perf_counter()
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bivoice-bench-speech-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ.pop("BIVOICE_DSN", None)
    os.environ["BIVOICE_HOME"] = str(tmp / "home")

    def log(msg: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - started:6.1f} s] speech: {msg}", file=sys.stderr, flush=True)

    from bivoice_jupyter import Workspace
    from bivoice_jupyter.demo import sales_frame
    from bivoice_jupyter.planner.hearing import choose
    from bivoice_jupyter.planner.words import identifier_words
    from bivoice_jupyter.speech import load_audio, load_model, schema_prompt, transcribe

    ws = Workspace()
    ws.load(sales_frame(), table="sales", if_exists="replace")
    ws.load(dev.staff_frame(), table="staff", if_exists="replace")
    catalog = ws.catalog
    prompts = {"none": None, "identifiers": _identifier_list(catalog),
               "sentence": schema_prompt(catalog, words=identifier_words)}
    terms = schema_terms(catalog)
    voices = [v for v in dev.VOICES if v.available()]
    folder = tmp / "clips"
    folder.mkdir()
    clips = [Clip(q, v.name, v.speak(q, folder / f"{vi}_{qi}.wav"), held_out=q in dev.HELD_OUT_QUESTIONS)
             for vi, v in enumerate(voices) for qi, q in enumerate(dev.QUESTIONS + dev.HELD_OUT_QUESTIONS)]
    samples = {c.path: load_audio(c.path) for c in clips}
    for c in clips:
        c.seconds = len(samples[c.path]) / 16_000
    log(f"{len(clips)} clips spoken by {len(voices)} voices")

    model = load_model(ws.speech_model, ws.device)
    transcribe(samples[clips[0].path], prompt=prompts["sentence"])  # warm-up
    _baseline(model, samples[clips[0].path], prompts["sentence"])
    typed = {}
    for q in dev.QUESTIONS + dev.HELD_OUT_QUESTIONS:
        try:
            typed[q] = ws.ask(q).df
        except Exception:  # reported; such a question cannot score
            typed[q] = None
    log("warmed up")

    # latency: ours and the baseline, interleaved (alternating which goes first), first voice only
    first_voice = [c for c in clips if c.voice == voices[0].name and not c.held_out]
    for r in range(min(reps, LATENCY_REPS)):
        for c in first_voice:
            audio = samples[c.path]
            for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                if which == 0:
                    t = time.perf_counter()
                    transcribe(audio, prompt=prompts["sentence"])
                    c.ours.append(time.perf_counter() - t)
                else:
                    s, _ = _baseline(model, audio, prompts["sentence"])
                    c.baseline.append(s)
        log(f"latency repetition {r + 1} done")

    # recognition under each prompt (decoding is deterministic: once per clip), and faster-whisper's
    # own 30 s window with the sentence, to check that the shorter window costs no accuracy
    for c in clips:
        readings = {cond: transcribe(samples[c.path], prompt=prompt) for cond, prompt in prompts.items()}
        c.heard.update({cond: r.text for cond, r in readings.items()})
        t = time.perf_counter()  # the sentence's readings are what Workspace.transcribe chooses among
        c.heard["fit"] = choose(readings["sentence"], ws.planner).text
        c.choose_s = time.perf_counter() - t
        c.heard["window30"] = _baseline(model, samples[c.path], prompts["sentence"])[1]
    log("transcribed under each prompt")

    # spoken accuracy: the real path (ask_audio) with the sentence and the fitting reading (ours),
    # the sentence and the first reading, and neither
    options = {"fit": {}, "sentence": {"fit": False}, "none": {"prompt": None, "fit": False}}
    for c in clips:
        for cond, opts in options.items():
            try:
                ans = ws.ask_audio(c.path, **opts)
                c.same_answer[cond] = typed[c.question] is not None and _same(ans.df, typed[c.question])
                if ans.df is None:
                    c.spoken_error[cond] = ans.text
            except Exception as exc:  # a refusal (BivoiceError), or a bug: a wrong answer either way, noted
                c.same_answer[cond] = False
                c.spoken_error[cond] = f"{type(exc).__name__}: {str(exc)[:80]}"
    log("spoken answers compared")
    return {"clips": clips, "voices": [v.name for v in voices], "prompts": prompts, "terms": terms, "typed": typed,
            "reps": min(reps, LATENCY_REPS), "seconds": time.perf_counter() - started,
            "load": (load_start, os.getloadavg()), "model": f"{model._bivoice_name} on "
            f"{model._bivoice_device}/{model._bivoice_compute}"}


# ------------------------------------------------------------------ report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _list_like(text: str) -> bool:
    words = _norm(text)
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    return "," in text or len(grams) != len(set(grams))


def _wer(clips: list[Clip], cond: str) -> tuple[float, int, int]:
    errs = refs = 0
    for c in clips:
        e, n = word_errors(c.question, c.heard[cond])
        errs, refs = errs + e, refs + n
    return errs / refs if refs else float("nan"), errs, refs


def _recall(clips: list[Clip], cond: str, terms: set[str]) -> tuple[float, int, int]:
    found = total = 0
    for c in clips:
        spoken = terms_in(c.question, terms)
        total += len(spoken)
        found += len(spoken & terms_in(c.heard[cond], terms))
    return found / total if total else float("nan"), found, total


def _accuracy(clips: list[Clip], cond: str, typed: dict[str, Any]) -> str:
    scored = [c for c in clips if typed[c.question] is not None]
    ok = sum(c.same_answer[cond] for c in scored)
    return f"{ok}/{len(scored)} = {ok / len(scored):.0%}" if scored else "n/a"


def markdown(res: dict[str, Any], machine: dict[str, str]) -> str:
    clips: list[Clip] = res["clips"]
    voices: list[str] = res["voices"]
    terms: set[str] = res["terms"]
    typed = res["typed"]
    tuning = [c for c in clips if not c.held_out]
    held = [c for c in clips if c.held_out]
    ours = [s for c in clips for s in c.ours]
    base = [s for c in clips for s in c.baseline]
    rtf = [s / c.seconds for c in clips for s in c.ours]
    rtf_base = [s / c.seconds for c in clips for s in c.baseline]
    timed = [c for c in clips if c.ours]
    audio = [c.seconds for c in timed]
    chose = [c.choose_s for c in clips]
    conds = (("none", "no prompt"), ("identifiers", "comma list of identifiers"), ("sentence", "**schema sentence**"),
             ("fit", "**schema sentence, then the reading that fits the tables** (ours)"))
    out = [
        "## Speech: latency, word error rate, column-term recall, spoken accuracy",
        "",
        f"`python bench/run.py --only speech` — bench/speech_devset.py: {len(dev.QUESTIONS)} tuning questions (their "
        f"misses were read while the spoken repairs were built) and {len(dev.HELD_OUT_QUESTIONS)} held-out questions "
        "(written before the repairs, never used to tune them), over the demo `sales` table and a camelCase `staff` "
        f"table, spoken by {len(voices)} voices ({', '.join(voices)}): {len(clips)} clips, 16 kHz mono, padded "
        f"0.3 s / 0.5 s. Speech: {res['model']}; whole run {res['seconds']:.0f} s. Times in milliseconds; p95 by "
        "numpy's linear interpolation.",
        "",
        "### Machine",
        "",
        rep.machine_table(machine, {
            "festival": rep._first_line(["festival", "--version"]) if shutil.which("festival") else "not installed",
            "load average (1/5/15 min) at start": " / ".join(f"{v:.2f}" for v in res["load"][0]),
            "load average (1/5/15 min) at end": " / ".join(f"{v:.2f}" for v in res["load"][1]),
        }),
        "",
        f"### Transcription latency ({voices[0]} clips of the tuning set, {min(audio):.1f} to {max(audio):.1f} s of "
        f"audio, {res['reps']} repetitions, interleaved)",
        "",
        "| | p50 | p95 | max | real-time factor p50 | n |",
        "|---|---:|---:|---:|---:|---:|",
        f"| **ours**: `transcribe` with the schema sentence (encoder window max(10 s, 3 x audio), 5 readings kept) | "
        f"**{rep.ms(rep.median(ours))}** | **{rep.ms(rep.p95(ours))}** | {rep.ms(max(ours))} | "
        f"{rep.median(rtf):.3f} | {len(ours)} |",
        f"| baseline: `WhisperModel.transcribe`, same settings and prompt, 30 s window | {rep.ms(rep.median(base))} | "
        f"{rep.ms(rep.p95(base))} | {rep.ms(max(base))} | {rep.median(rtf_base):.3f} | {len(base)} |",
        f"| ratio of p50 (ours / baseline) | {rep.ratio(rep.median(ours), rep.median(base))} | "
        f"{rep.ratio(rep.p95(ours), rep.p95(base))} (p95) | | | |",
        f"| choosing the reading (`planner.hearing.choose`, all {len(chose)} clips) | {rep.ms(rep.median(chose))} | "
        f"{rep.ms(rep.p95(chose))} | {rep.ms(max(chose))} | | {len(chose)} |",
        "",
        "### Spoken accuracy: the share of spoken questions answered as the typed question is",
        "",
        "| condition | tuning set | held-out set |",
        "|---|---:|---:|",
    ]
    for cond, label in (("none", "no prompt, first reading"), ("sentence", "schema sentence, first reading"),
                        ("fit", "**schema sentence, the reading that fits the tables** (ours)")):
        out.append(f"| {label} | {_accuracy(tuning, cond, typed)} | {_accuracy(held, cond, typed)} |")
    out += ["", "Typed accuracy is 100% by construction (the typed answer is the reference).", "",
            "### Recognition by prompt (all clips)", "",
            "| prompt | word error rate | column-term recall |", "|---|---:|---:|"]
    for cond, label in conds:
        wer, e, n = _wer(clips, cond)
        rec, f, t = _recall(clips, cond, terms)
        out.append(f"| {label} | {wer:.1%} ({e}/{n}) | {rec:.1%} ({f}/{t}) |")
    w30, e30, n30 = _wer(clips, "window30")
    r30 = _recall(clips, "window30", terms)[0]
    out.append(f"| schema sentence, faster-whisper's 30 s window (the latency baseline) | {w30:.1%} ({e30}/{n30}) | "
               f"{r30:.1%} |")
    out += ["", "The encoder window: our max(10 s, 3 x audio) against the full 30 s, same sentence, same clips: "
            f"{_wer(clips, 'sentence')[1] - e30:+d} word errors of {n30} (by voice: "
            + ", ".join(f"{v} {_wer([c for c in clips if c.voice == v], 'sentence')[1] - _wer([c for c in clips if c.voice == v], 'window30')[1]:+d}"
                        for v in voices) + ")."]
    wer_none, wer_sent = _wer(clips, "none")[0], _wer(clips, "sentence")[0]
    out += [
        "",
        f"The schema sentence changes the word error rate by {(wer_sent - wer_none) / wer_none:+.0%} relative to no "
        "prompt.",
        "",
        "### By voice (word error rate: no prompt -> sentence -> fitting reading; spoken accuracy, both sets together)",
        "",
        "| voice | WER | spoken accuracy: no prompt -> sentence -> fitting reading |",
        "|---|---:|---:|",
    ]
    for v in voices:
        vc = [c for c in clips if c.voice == v]
        vs = [c for c in vc if typed[c.question] is not None]
        a = [sum(c.same_answer[k] for c in vs) for k in ("none", "sentence", "fit")]
        out.append(f"| {v} | {_wer(vc, 'none')[0]:.1%} -> {_wer(vc, 'sentence')[0]:.1%} -> {_wer(vc, 'fit')[0]:.1%} | "
                   f"{a[0]}/{len(vs)} -> {a[1]}/{len(vs)} -> {a[2]}/{len(vs)} |")
    unscored = [q for q, df in typed.items() if df is None]
    out += ["", "### Clips whose spoken answer differs from the typed one (ours)", "",
            "| set | voice | question (typed) | first reading | reading answered | spoken answer |",
            "|---|---|---|---|---|---|"]
    for c in clips:
        if typed[c.question] is not None and not c.same_answer["fit"]:
            out.append(f"| {'held out' if c.held_out else 'tuning'} | {c.voice} | {_cell(c.question)} | "
                       f"{_cell(repr(c.heard['sentence']))} | {_cell(repr(c.heard['fit']))} | "
                       f"{_cell(c.spoken_error.get('fit', 'different rows'))} |")
    changed = [c for c in clips if _norm(c.heard["fit"]) != _norm(c.heard["sentence"])]
    helped = sum(c.same_answer["fit"] and not c.same_answer["sentence"] for c in changed)
    hurt = sum(c.same_answer["sentence"] and not c.same_answer["fit"] for c in changed)
    listy = {cond: sum(_list_like(c.heard[cond]) for c in clips) for cond, _ in conds[:3]}
    out += ["", "### Notes (generated)", "",
            f"- The reading that fits the tables differed from the first reading on {len(changed)} of {len(clips)} "
            f"clips: {helped} answers put right, {hurt} put wrong.",
            f"- Transcripts that copied the prompt's list form (a comma, or a phrase said twice): "
            f"{listy['identifiers']} of {len(clips)} with the identifier list, {listy['sentence']} with the sentence, "
            f"{listy['none']} with no prompt."]
    if unscored:
        out.append(f"- Typed questions the planner refused (not scored): {', '.join(map(repr, unscored))}.")
    out.append(f"- Schema sentence sent ({len(res['prompts']['sentence'])} characters): "
               f"\"{_cell(res['prompts']['sentence'])}\"")
    return "\n".join(out)


def run(reps: int = 5, progress: bool = True) -> str:
    """Measure, then return this benchmark's RESULTS.md section."""
    res = measure(reps, progress)
    return markdown(res, rep.machine())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2))
