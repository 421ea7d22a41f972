"""Import cost, layering and the public surface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
HEAVY = ("faster_whisper", "ctranslate2", "openai", "langchain", "torch", "av")


def _imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def test_import_is_light() -> None:
    assert _imported_after("import bivoice_jupyter") == []


def test_workspace_and_magics_do_not_load_speech_or_llm_libraries() -> None:
    code = (
        "from bivoice_jupyter import Workspace\n"
        "import bivoice_jupyter.magics, bivoice_jupyter.widgets\n"
    )
    assert _imported_after(code) == []


def test_layers_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_public_api() -> None:
    import bivoice_jupyter

    for name in bivoice_jupyter.__all__:
        assert getattr(bivoice_jupyter, name) is not None
    assert callable(bivoice_jupyter.load_ipython_extension)


def test_missing_extra_names_the_pip_extra() -> None:
    from bivoice_jupyter._optional import import_extra
    from bivoice_jupyter.errors import MissingExtraError

    try:
        import_extra("surely_not_installed_pkg", "voice")
    except MissingExtraError as exc:
        assert "bivoice-jupyter[voice]" in exc.hint
    else:
        raise AssertionError("import_extra did not raise")
