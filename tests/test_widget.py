"""The microphone widget without a browser: feed it the message the browser sends."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from bivoice_jupyter import microphone
from bivoice_jupyter.widgets import Microphone

ESM = Path(__file__).parents[1] / "bivoice_jupyter" / "widgets" / "microphone.js"


def _webm_opus(wav: Path) -> bytes:
    """Re-encode a WAV as webm/opus, the container Chromium's MediaRecorder sends."""
    import av

    out = io.BytesIO()
    with av.open(str(wav)) as src, av.open(out, mode="w", format="webm") as dst:
        stream = dst.add_stream("libopus", rate=48_000)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


def _send(mic: Microphone, content: dict, buffers: list) -> None:
    # What ipywidgets does when the browser calls model.send(content, callbacks, buffers).
    mic._handle_custom_msg(content, buffers)


@pytest.mark.speech
def test_recording_from_the_browser_is_answered(ws, speak) -> None:
    box = microphone(ws)
    mic = box.children[0]
    data = _webm_opus(speak("what was the total revenue by region"))
    _send(mic, {"type": "audio", "mime": "audio/webm;codecs=opus", "size": len(data)}, [memoryview(data)])
    assert mic.error == "" and mic.status == "done"
    assert "revenue" in mic.transcript.lower()
    assert mic.last_answer is not None and len(mic.last_answer.df) == 4
    mimes = [set(o["data"]) for o in mic.output.outputs]
    assert any("application/vnd.plotly.v1+json" in m for m in mimes)  # the chart
    assert any("text/html" in m for m in mimes)  # summary, table, SQL


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
    _send(mic, {"type": "level", "value": 3}, [])
    assert mic.status == "idle" and mic.error == ""


def test_state_is_synced_to_the_browser() -> None:
    mic = Microphone()
    state = mic.get_state()
    for name in ("status", "transcript", "error", "answer_text", "max_seconds"):
        assert name in state
    assert "export default" in state["_esm"]


def test_es_module_loads_in_node(tmp_path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed") if not _ci() else pytest.fail("node is not installed")
    module = tmp_path / "microphone.mjs"
    module.write_text(ESM.read_text())
    check = f"import('{module.as_uri()}').then(m => {{ if (typeof m.default.render !== 'function') process.exit(3); }})"
    result = subprocess.run([node, "--input-type=module", "-e", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
