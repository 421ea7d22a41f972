"""Speech on a CUDA GPU against the same machine's CPU: our ``transcribe`` on both, interleaved.

Needs a GPU that CTranslate2 sees (``ctranslate2.get_cuda_device_count() > 0``); on a machine
without one it exits and says so, and ``bench/run.py`` leaves it out unless asked with
``--only speech-device``. The baseline is the CPU path of the same machine (``device="cpu"``,
int8, all its cores), measured in the same run; the GPU path is ``device="cuda"`` with the
compute type ``resolve_device`` picks (float16 where the GPU has it).

Clips: three short questions and one 47 s paragraph, spoken by espeak-ng at run time, or WAV
files from ``--clips DIR`` (a machine without espeak-ng: make them elsewhere with
``--make-clips DIR``). Measured per device: loading the model; the first transcription in the
process (on a GPU it includes CUDA's compilation of CTranslate2's kernels when its cache,
``~/.nv/ComputeCache``, is empty: the section says whether it was); the median of the
following repetitions of each short clip; the long clip with ``transcribe``'s default batching
(batched on a GPU, one window at a time on a CPU) and with ``batch_size=1``. The transcripts of
the two devices are compared word by word (word error rate of one against the other).

    python bench/speech_device.py --reps 5
    python bench/speech_device.py --make-clips /tmp/clips      # on a machine with espeak-ng
    python bench/speech_device.py --clips /tmp/clips --results /tmp/R.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report as rep  # noqa: E402

NAME = "speech-device"
QUESTIONS = (
    "what was the total revenue by region",
    "show me the number of orders per month in twenty twenty four",
    "which five customers spent the most last quarter",
)
PARAGRAPH = (
    "Quarterly revenue grew in every region this year. The north region led with the largest share of new "
    "customers. Orders per month rose steadily from January to June. Returns were highest in the electronics "
    "category. The average basket size increased by twelve percent. Marketing spend was flat compared with "
    "last year. Customer churn fell in the second half. The south region opened three new stores. Online sales "
    "now make up half of all revenue. The west region saw the slowest growth of all. Inventory turnover improved "
    "in every warehouse. Shipping costs rose because of fuel prices. Our top five customers spent more than last "
    "quarter. The board approved a new budget for next year."
)


def gpus() -> int:
    """CUDA GPUs CTranslate2 sees (0 where it is missing or has no CUDA)."""
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count()
    except Exception:  # no ctranslate2, or a broken CUDA runtime: no GPU for this benchmark
        return 0


def make_clips(folder: Path) -> list[Path]:
    """The questions and the paragraph as 16 kHz mono WAVs (``q<i>.wav``, ``long.wav``), spoken
    as bench/pipeline_latency.py speaks its questions."""
    from pipeline_latency import require_tools, speak

    require_tools()
    folder.mkdir(parents=True, exist_ok=True)
    paths = [speak(text, folder, i) for i, text in enumerate(QUESTIONS)]
    long = speak(PARAGRAPH, folder, len(QUESTIONS)).rename(folder / "long.wav")
    for raw in folder.glob("raw*.wav"):
        raw.unlink()
    return [*paths, long]


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _agreement(a: str, b: str) -> str:
    from speech_accuracy import word_errors

    errors, words = word_errors(a, b)
    return f"{errors / words:.1%}" if words else "n/a"


def measure(clips: list[Path], reps: int, progress: bool) -> dict:
    from bivoice_jupyter.speech import load_model, resolve_device, transcribe

    short = [c for c in clips if c.name != "long.wav"]
    long = next(c for c in clips if c.name == "long.wav")
    cache = Path.home() / ".nv" / "ComputeCache"
    had_cache = cache.is_dir() and any(cache.iterdir())
    devices = {"cuda": resolve_device("cuda"), "cpu": resolve_device("cpu")}
    out: dict = {"compute": devices, "kernel_cache": had_cache, "load": {}, "first": {}, "short": {}, "long": {},
                 "text": {}}
    for dev in devices:  # one-off costs, each device's first call in the process
        t0 = time.perf_counter()
        load_model(None, dev)
        out["load"][dev] = time.perf_counter() - t0
        t = transcribe(short[0], device=dev)
        out["first"][dev] = t.seconds
    for rep_ in range(reps):  # interleaved: a busy moment slows both devices alike
        for dev in devices:
            for c in short:
                t = transcribe(c, device=dev)
                out["short"].setdefault((dev, c.name), []).append(t.seconds)
                out["text"][(dev, c.name)] = t.text
            for bs in (None, 1):
                if rep_ < max(1, min(reps, 3)):
                    t = transcribe(long, device=dev, batch_size=bs, max_seconds=None)
                    out["long"].setdefault((dev, bs), []).append(t.seconds)
                    out["text"][(dev, f"long{bs}")] = t.text
        if progress:
            print(f"speech-device: repetition {rep_ + 1}/{reps}", file=sys.stderr)
    out["seconds"] = {c.name: _seconds(c) for c in clips}
    out["cublas"] = _loaded("libcublas")
    return out


def _loaded(prefix: str) -> str:
    """The files of this process's loaded libraries named ``prefix``* (what CTranslate2 really opened)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "unknown"
    files = sorted({os.path.realpath(line.split()[-1]) for line in maps.splitlines()
                    if "/" in line and os.path.basename(line.split()[-1]).startswith(prefix)})
    return ", ".join(files) or "none"


def section(m: dict, machine: dict, reps: int) -> str:
    (cuda, cuda_ct), (cpu, cpu_ct) = m["compute"]["cuda"], m["compute"]["cpu"]
    names = sorted({name for _, name in m["short"]})
    lines = [
        "## Speech on a CUDA GPU against the same machine's CPU",
        "",
        "Written by `bench/speech_device.py` (needs a GPU; see `bench/README.md`). Our `transcribe` with tiny.en on "
        f"`device=\"cuda\"` ({cuda_ct}) and `device=\"cpu\"` ({cpu_ct}, all cores), interleaved, {reps} repetitions. "
        "Seconds are the recognition time `Transcript.seconds` (audio already decoded to samples).",
        "",
        "### Machine",
        "",
        rep.machine_table(machine, {"GPU": _gpu_name(),
                                    "CUDA kernel cache before the run": "filled" if m["kernel_cache"] else "empty",
                                    "cuBLAS loaded": m["cublas"]}),
        "",
        "### Short questions (median of the repetitions after the first call)",
        "",
        "| clip | audio s | GPU ms | CPU ms | CPU / GPU | words differing, GPU vs CPU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        g, c = rep.median(m["short"][("cuda", name)]), rep.median(m["short"][("cpu", name)])
        lines.append(f"| `{name}` | {m['seconds'][name]:.1f} | {rep.ms(g)} | {rep.ms(c)} | {rep.ratio(c, g)} | "
                     f"{_agreement(m['text'][('cpu', name)], m['text'][('cuda', name)])} |")
    lines += ["", f"### The {m['seconds']['long.wav']:.0f} s paragraph (median of up to 3 runs)", "",
              "| batching | GPU s | CPU s | CPU / GPU | words differing, GPU vs CPU |", "|---|---:|---:|---:|---:|"]
    for bs, label in ((None, "default (batched on the GPU)"), (1, "`batch_size=1`")):
        g, c = rep.median(m["long"][("cuda", bs)]), rep.median(m["long"][("cpu", bs)])
        lines.append(f"| {label} | {g:.3f} | {c:.3f} | {rep.ratio(c, g)} | "
                     f"{_agreement(m['text'][('cpu', f'long{bs}')], m['text'][('cuda', f'long{bs}')])} |")
    lines += ["", "### One-off costs (seconds, once per process)", "", "| | GPU | CPU |", "|---|---:|---:|",
              f"| loading the model | {m['load']['cuda']:.3f} | {m['load']['cpu']:.3f} |",
              f"| first transcription | {m['first']['cuda']:.3f} | {m['first']['cpu']:.3f} |", "",
              "The GPU's first transcription includes CUDA compiling CTranslate2's kernels for this GPU when the "
              "kernel cache was empty; CUDA keeps them in `~/.nv/ComputeCache`, so later processes skip it."]
    return "\n".join(lines)


def _gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run(reps: int = 5, progress: bool = True, clips: Path | None = None) -> str:
    if gpus() == 0:
        raise SystemExit("bench: speech-device needs a CUDA GPU that CTranslate2 sees; this machine has none.")
    tmp = None
    if clips is None:
        tmp = Path(tempfile.mkdtemp(prefix="bivoice-speech-device-"))
        paths = make_clips(tmp)
    else:
        paths = sorted(clips.glob("*.wav"))
        if not any(p.name == "long.wav" for p in paths) or len(paths) < 2:
            raise SystemExit(f"bench: {clips} needs long.wav and at least one question WAV (see --make-clips).")
    try:
        m = measure(paths, reps, progress)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return section(m, rep.machine(), reps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument("--clips", type=Path, help="folder of q*.wav and long.wav instead of speaking them now")
    parser.add_argument("--make-clips", type=Path, metavar="DIR", help="only write the clips to DIR and exit")
    parser.add_argument("--results", type=Path, default=rep.RESULTS, help="markdown file to update")
    args = parser.parse_args(argv)
    if args.make_clips:
        for p in make_clips(args.make_clips):
            print(p)
        return 0
    rep.publish(NAME, run(max(1, args.reps), clips=args.clips), args.results)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
