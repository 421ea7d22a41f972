"""Any accepted audio -> 16 kHz mono float32 samples, refused clearly when it cannot be used.

Containers (wav, webm/opus from a browser's MediaRecorder, ogg, mp3, flac, m4a) are decoded by
the ``av`` wheel that faster-whisper depends on: no ffmpeg binary is needed. Decoding stops as
soon as the audio passes ``max_seconds``, so a two-hour file is refused after reading a little
of it, not after decoding all of it (a browser's webm carries no duration to check first).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_extra
from ..errors import AudioError

SAMPLE_RATE = 16_000  # Hz: what Whisper expects
MAX_SECONDS = 120.0  # a question is a sentence, not a meeting; callers may pass their own limit
_RATES = (1_000, 768_000)  # Hz: a sample_rate outside this range is a mistake, not audio


def too_long(seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"The audio lasts {seconds:.0f} s or more; questions are limited to {max_seconds:g} s.",
        hint="ask a shorter question, or pass max_seconds= to allow longer audio",
    )


def load_audio(audio: Any, *, sample_rate: int | None = None, max_seconds: float | None = None) -> np.ndarray:
    """``audio`` -> 16 kHz mono float32 samples in [-1, 1].

    ``audio`` is a path, bytes, a binary file object (anything the ``av`` wheel decodes) or a
    numpy array of samples: float in [-1, 1] or int16 (scaled), mono or stereo (mixed down),
    at ``sample_rate`` Hz (default 16,000; other rates are resampled). ``sample_rate`` is only
    for arrays: a container states its own. Audio longer than ``max_seconds`` is refused.
    """
    if isinstance(audio, np.ndarray):
        samples = _from_array(audio, sample_rate)
        if max_seconds is not None and len(samples) > max_seconds * SAMPLE_RATE:
            raise too_long(len(samples) / SAMPLE_RATE, max_seconds)
        return samples
    if sample_rate is not None:
        raise AudioError(
            "sample_rate= is for numpy arrays; a file or bytes carry their own rate.",
            hint="leave sample_rate out, or pass the decoded samples as an array",
        )
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
            hint="pass a path, bytes, a binary file object or a numpy array of samples",
        )
    return _decode(source, max_seconds)


def _decode(source: Any, max_seconds: float | None) -> np.ndarray:
    av = import_extra("av", "voice", package="faster-whisper")
    limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE) + 1
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("The file holds no audio stream.", hint="send a recording with sound")
            duration = _container_seconds(container)
            if max_seconds is not None and duration is not None and duration > max_seconds + 0.5:
                raise too_long(duration, max_seconds)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(audio=0):
                    frame.pts = None  # the resampler needs no timestamps, and bad ones upset it
                    for out in resampler.resample(frame):
                        chunk = out.to_ndarray().reshape(-1)
                        chunks.append(chunk)
                        total += len(chunk)
                    if limit is not None and total > limit:
                        raise too_long(total / SAMPLE_RATE, max_seconds)  # type: ignore[arg-type]
            except av.error.InvalidDataError:
                if not chunks:  # a recording cut short keeps what came before the damage
                    raise
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception as exc:  # av raises many error types for corrupt or unknown containers
        raise AudioError(
            f"The audio could not be decoded: {str(exc) or type(exc).__name__}",
            hint="send wav, webm/opus, ogg, mp3 or flac",
        ) from exc
    if not chunks:
        raise AudioError("The audio holds no samples.", hint="record again; the recording is empty")
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)


def _container_seconds(container: Any) -> float | None:
    duration = container.duration  # microseconds, when the container states it
    return None if duration is None or duration <= 0 else duration / 1_000_000


def _from_array(a: np.ndarray, sample_rate: int | None) -> np.ndarray:
    if a.size == 0:
        raise AudioError("The audio array is empty.")
    if a.ndim == 2:
        a = a.mean(axis=0 if a.shape[0] <= 8 < a.shape[1] else 1)  # (channels, n) or (n, channels)
    elif a.ndim != 1:
        raise AudioError(f"Audio arrays must be 1-D (mono) or 2-D (stereo), not {a.ndim}-D.")
    if a.dtype == np.int16:
        # faster-whisper takes int16 silently and hears garbage: scale to [-1, 1] here
        out = a.astype(np.float32) / 32768.0
    elif a.dtype.kind == "f":
        out = a.astype(np.float32, copy=False)
        peak = float(np.abs(out).max())
        if not np.isfinite(peak):
            raise AudioError("The audio array holds NaN or infinite samples.")
        if peak > 1.5:
            raise AudioError(
                f"Float audio must lie in [-1, 1]; these samples reach {peak:.0f}.",
                hint="divide int16-range samples by 32768",
            )
    else:
        raise AudioError(f"Audio arrays of dtype {a.dtype} are not accepted.", hint="use float32 in [-1, 1] or int16")
    rate = SAMPLE_RATE if sample_rate is None else sample_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not _RATES[0] <= rate <= _RATES[1]:
        raise AudioError(f"sample_rate must be a whole number of Hz between {_RATES[0]:,} and {_RATES[1]:,}, not {rate!r}.")
    if rate != SAMPLE_RATE:
        out = resample(out, int(rate))
    return np.ascontiguousarray(out, dtype=np.float32)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 ``samples`` at ``rate`` Hz -> 16 kHz, with libswresample (through ``av``)."""
    av = import_extra("av", "voice", package="faster-whisper")
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts = [f.to_ndarray().reshape(-1) for f in (*resampler.resample(frame), *resampler.resample(None))]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
