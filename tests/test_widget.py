"""The microphone widget without a browser: feed it the messages the browser sends. The ES
module's pure helpers run in node; the whole widget runs in a real browser in test_browser.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bivoice_jupyter import microphone
from bivoice_jupyter.errors import BivoiceError
from bivoice_jupyter.widgets import Microphone, RecorderAnswers, recorder_answers

from conftest import IN_CI, require_tool, webm_opus

ESM = Path(__file__).parents[1] / "bivoice_jupyter" / "widgets" / "microphone.js"
QUESTION = "what was the total revenue by region"


def _send(mic: Microphone, content: dict, buffers: list) -> None:
    # What ipywidgets does when the browser calls model.send(content, callbacks, buffers).
    mic._handle_custom_msg(content, buffers)


def _mimes(output) -> list[set[str]]:
    return [set(o["data"]) for o in output.outputs]


def _trace(mic: Microphone) -> list[tuple[str, str]]:
    """Every (status, transcript) the browser would see, in order."""
    seen: list[tuple[str, str]] = []
    mic.observe(lambda change: seen.append((change["new"], mic.transcript)), "status")
    return seen


@pytest.mark.speech
def test_recording_from_the_browser_is_answered(ws, speak) -> None:
    box = microphone(ws)
    mic = box.children[0]
    trace = _trace(mic)
    data = webm_opus(speak(QUESTION))
    _send(mic, {"type": "audio", "mime": "audio/webm;codecs=opus", "size": len(data)}, [memoryview(data)])
    assert mic.error == "" and mic.status == "done"
    assert "revenue" in mic.transcript.lower()
    assert mic.last_answer is not None and len(mic.last_answer.df) == 4
    mimes = _mimes(mic.output)
    assert any("application/vnd.plotly.v1+json" in m for m in mimes)  # the chart
    assert any("text/html" in m for m in mimes)  # summary, table, SQL
    # the transcript is shown before the answer: planning starts with the words already there
    assert [s for s, _ in trace] == ["transcribing", "planning", "querying", "done"]
    assert trace[1][1] == mic.transcript and "revenue" in trace[1][1].lower()


def test_corrected_transcript_is_asked_again(ws) -> None:
    """Fix a misheard word in the text box and press Ask: a "text" message re-plans."""
    mic = microphone(ws, chart="bar").children[0]
    trace = _trace(mic)
    _send(mic, {"type": "text", "text": "  average unit price by category "}, [])
    assert mic.status == "done" and mic.error == ""
    assert mic.transcript == "average unit price by category"
    assert [s for s, _ in trace] == ["planning", "querying", "done"]
    answer = mic.last_answer
    assert answer is not None and answer.transcript is None and len(answer.df) == 3
    assert any("application/vnd.plotly.v1+json" in m for m in _mimes(mic.output))


def test_a_question_that_cannot_be_planned_shows_its_error(ws) -> None:
    mic = microphone(ws).children[0]
    _send(mic, {"type": "text", "text": "average profit by region"}, [])
    assert mic.status == "error" and "profit" in mic.error and "hint" in mic.error


@pytest.mark.parametrize(("text", "message"), [("", "empty"), ("   ", "empty"), ("x" * 2_001, "at most 2,000")])
def test_bad_text_is_refused(ws, text: str, message: str) -> None:
    mic = microphone(ws).children[0]
    _send(mic, {"type": "text", "text": text}, [])
    assert mic.status == "error" and message in mic.error


def test_corrupt_audio_shows_an_error_not_a_crash(ws) -> None:
    mic = microphone(ws).children[0]
    _send(mic, {"type": "audio", "mime": "audio/webm"}, [b"\x1aE\xdf\xa3 definitely not webm"])
    assert mic.status == "error" and "could not be decoded" in mic.error


def test_message_without_audio_is_an_error(ws) -> None:
    mic = microphone(ws).children[0]
    _send(mic, {"type": "audio", "mime": "audio/webm"}, [])
    assert mic.status == "error" and "no audio" in mic.error


def test_other_messages_are_ignored(ws) -> None:
    mic = microphone(ws).children[0]
    for content in ({"type": "level", "value": 3}, "not a dict", {"no": "type"}):
        _send(mic, content, [])
    assert mic.status == "idle" and mic.error == ""


def test_unattached_microphone_says_so() -> None:
    mic = Microphone()
    _send(mic, {"type": "text", "text": "hello"}, [])
    assert mic.status == "error" and "No workspace" in mic.error


def test_unexpected_errors_show_and_reach_the_kernel_log() -> None:
    def broken(data, mime, heard):
        raise ZeroDivisionError("boom")

    mic = Microphone(on_audio=broken)
    _send(mic, {"type": "audio", "mime": "audio/webm"}, [b"x"])  # ipywidgets logs what the handler re-raises
    assert mic.status == "error" and "internal error: ZeroDivisionError: boom" in mic.error


def test_state_is_synced_to_the_browser() -> None:
    mic = Microphone()
    state = mic.get_state()
    for name in ("status", "transcript", "error", "answer_text", "max_seconds", "hold_key"):
        assert name in state
    assert "export default" in state["_esm"]


# ------------------------------------------------------------------ ipywebrtc


def _audio_recorder():
    try:
        from ipywebrtc import AudioRecorder
    except ImportError:
        (pytest.fail if IN_CI else pytest.skip)("ipywebrtc is not installed (pip install -e '.[test]')")
    return AudioRecorder()


@pytest.mark.speech
def test_ipywebrtc_recorder_is_answered(ws, speak) -> None:
    recorder = _audio_recorder()
    box = recorder_answers(recorder, ws, chart="bar")
    assert isinstance(box, RecorderAnswers) and box.children[0] is recorder
    recorder.audio.value = webm_opus(speak(QUESTION))  # what ipywebrtc does when recording stops
    answer = box.last_answer
    assert answer is not None and len(answer.df) == 4 and "revenue" in box.status.value.lower()
    assert any("application/vnd.plotly.v1+json" in m for m in _mimes(box.output))
    recorder.audio.value = b"\x1aE\xdf\xa3 not webm"
    assert "could not be decoded" in box.status.value and box.last_answer is answer


def test_recorder_must_be_a_recorder(ws) -> None:
    with pytest.raises(BivoiceError, match="not an audio recorder"):
        recorder_answers(object(), ws)


@pytest.mark.speech
def test_voice_magic_recorder_option(ip, speak, monkeypatch) -> None:
    from IPython.utils.capture import capture_output

    import bivoice_jupyter.magics.voice as voice_magics

    made: list[RecorderAnswers] = []

    def spy(*args, **kwargs):
        made.append(recorder_answers(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(voice_magics, "recorder_answers", spy)
    shell = ip
    shell.user_ns["rec"] = _audio_recorder()
    with capture_output() as captured:
        shell.run_cell("%voice --recorder rec --chart bar").raise_error()
    assert len(made) == 1 and made[0].recorder is shell.user_ns["rec"]
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in captured.outputs)
    shell.user_ns["rec"].audio.value = webm_opus(speak(QUESTION))
    assert made[0].last_answer is not None and len(made[0].last_answer.df) == 4
    with pytest.raises(BivoiceError, match="No variable 'nope'"):
        shell.run_cell("%voice --recorder nope").raise_error()


# ------------------------------------------------------------------ the ES module in node


def _node_eval(tmp_path: Path, body: str) -> str:
    node = require_tool("node")
    module = tmp_path / "microphone.mjs"
    module.write_text(ESM.read_text())
    script = f"import * as m from '{module.as_uri()}';\n{body}"
    result = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_es_module_loads_in_node(tmp_path) -> None:
    out = _node_eval(tmp_path, "console.log(typeof m.default.render, typeof m.pickMime);")
    assert out.split() == ["function", "function"]


def test_es_module_explains_why_the_microphone_cannot_be_used(tmp_path) -> None:
    body = """
const ok = {isSecureContext: true, navigator: {mediaDevices: {getUserMedia() {}}}, MediaRecorder: function () {}};
const out = {
  insecure: m.unavailableReason({...ok, isSecureContext: false}),
  nodevices: m.unavailableReason({...ok, navigator: {}}),
  norecorder: m.unavailableReason({...ok, MediaRecorder: undefined}),
  fine: m.unavailableReason(ok),
  refused: m.refusalMessage({name: 'NotAllowedError'}),
  missing: m.refusalMessage({name: 'NotFoundError'}),
  busy: m.refusalMessage({name: 'NotReadableError'}),
  other: m.refusalMessage({name: 'AbortError', message: 'stopped'}),
  nomime: m.pickMime(),
};
console.log(JSON.stringify(out));
"""
    out = json.loads(_node_eval(tmp_path, body))
    assert "secure page" in out["insecure"] and "https" in out["insecure"] and "localhost" in out["insecure"]
    assert "no navigator.mediaDevices" in out["nodevices"] and "MediaRecorder" in out["norecorder"]
    assert out["fine"] == "" and out["nomime"] == ""  # node has no MediaRecorder
    assert "refused the microphone" in out["refused"] and "Allow it" in out["refused"]
    assert "No microphone" in out["missing"] and "in use" in out["busy"]
    assert out["other"] == "The microphone could not be opened: AbortError: stopped"
