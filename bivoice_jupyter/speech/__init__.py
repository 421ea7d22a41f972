"""Speech recognition in the kernel: the only package that imports faster_whisper.

``transcribe`` turns audio into a :class:`~bivoice_jupyter.models.Transcript`; ``schema_prompt``
makes the sentence of table, column and value words that biases it towards a workspace's data.
"""

from .audio import MAX_SECONDS, SAMPLE_RATE, load_audio
from .prompt import schema_prompt
from .whisper import MODELS, available_models, load_model, model_path, resolve_device, transcribe

__all__ = [
    "MAX_SECONDS",
    "MODELS",
    "SAMPLE_RATE",
    "available_models",
    "load_audio",
    "load_model",
    "model_path",
    "resolve_device",
    "schema_prompt",
    "transcribe",
]
