"""Speech recognition in the kernel: the only package that imports faster_whisper."""

from .whisper import SAMPLE_RATE, load_audio, load_model, resolve_device, transcribe

__all__ = ["SAMPLE_RATE", "load_audio", "load_model", "resolve_device", "transcribe"]
