"""Run the quickstart notebook headless, export it to HTML and print one spoken answer.

    python notebooks/run_demo.py            # what `make demo` runs
    python notebooks/run_demo.py --store    # refresh the outputs stored in quickstart.ipynb

The demo writes ``out/quickstart.ipynb`` (executed with papermill) and ``out/quickstart.html``
(nbconvert, charts included and working offline), then answers ``notebooks/audio/q1.wav`` with the
``bivoice`` command against the data the notebook loaded. It uses a fresh ``BIVOICE_HOME`` so it
never touches your own data, and exits non-zero when any step fails.

``--store`` executes the notebook the same way and writes the outputs back into
``notebooks/quickstart.ipynb``: nbval (``pytest --nbval-lax``) compares the cells marked
``# NBVAL_CHECK_OUTPUT`` with them, so run it after a change that alters what those cells print.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOTEBOOK = HERE / "quickstart.ipynb"
SPOKEN = HERE / "audio" / "q1.wav"


def execute(target: Path, *, home: Path, parameters: dict | None = None) -> None:
    """Execute the quickstart into ``target`` with papermill, in ``home``; exit on a failed cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from bivoice_jupyter.reports.runner import kernel_path

    with tempfile.TemporaryDirectory(prefix="bivoice-kernel-") as kernels:
        env = {"BIVOICE_HOME": str(home), "JUPYTER_PATH": kernel_path(Path(kernels))}
        saved = {k: os.environ.get(k) for k in (*env, "BIVOICE_DSN", "PLOTLY_RENDERER")}
        os.environ.pop("BIVOICE_DSN", None)
        os.environ.pop("PLOTLY_RENDERER", None)  # plotly's default in a kernel: its JSON mimetype
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            papermill.execute_notebook(
                str(NOTEBOOK),
                str(target),
                parameters=parameters or {},
                kernel_name="python3",
                cwd=str(HERE),  # the notebook's relative paths (audio/q1.wav) start here
                progress_bar=False,
                request_save_on_cell_execute=False,
            )
        except PapermillExecutionError as exc:
            raise SystemExit(
                f"{_show(NOTEBOOK)} failed in cell [{exc.exec_count}]: {exc.ename}: {exc.evalue}\n"
                f"the executed notebook, with the traceback, is {_show(target)}"
            ) from None
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _show(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def errors_in(path: Path) -> list[str]:
    """The error outputs of an executed notebook, one line each."""
    import nbformat

    from bivoice_jupyter.reports.export import errors_in as _errors_in

    return _errors_in(nbformat.read(path, as_version=4))


def export_html(executed: Path, html: Path) -> int:
    """Export to HTML with working charts (plotly.js inline once); return how many (fail when
    there are none)."""
    import nbformat

    from bivoice_jupyter.reports.errors import ReportError
    from bivoice_jupyter.reports.export import atomic_write, to_html

    try:
        body, charts = to_html(nbformat.read(executed, as_version=4))
    except ReportError as exc:
        raise SystemExit(f"{html}: {exc}") from None
    if charts == 0:
        raise SystemExit(f"{html}: the page would draw no chart")
    atomic_write(html, body)
    return charts


def store(executed: Path) -> None:
    """Copy the executed notebook's outputs into notebooks/quickstart.ipynb, kept small (no run
    metadata, no chart HTML that may carry plotly.js, no microphone: see reports.export.slim)."""
    import nbformat

    from bivoice_jupyter.reports.export import slim

    nb = slim(nbformat.read(executed, as_version=4))
    nbformat.validate(nb)
    nbformat.write(nb, NOTEBOOK)


def spoken_answer(home: Path) -> None:
    """Answer the committed recording with the ``bivoice`` command, in the notebook's data."""
    env = {**os.environ, "BIVOICE_HOME": str(home)}
    env.pop("BIVOICE_DSN", None)
    cmd = [sys.executable, "-m", "bivoice_jupyter.cli", "ask", "--audio", str(SPOKEN), "--rows", "5"]
    print("$ bivoice ask --audio", _show(SPOKEN), flush=True)
    if subprocess.run(cmd, env=env, cwd=REPO).returncode != 0:
        raise SystemExit("bivoice ask --audio failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out", help="folder for the executed notebook and HTML")
    parser.add_argument("--orders", type=int, help="rows in the demo sales table (notebook parameter)")
    parser.add_argument("--store", action="store_true", help="write the outputs back into quickstart.ipynb")
    args = parser.parse_args(argv)
    if args.store and args.orders:
        parser.error("--store keeps the notebook's own parameters (nbval compares with them)")
    params = {"orders": args.orders} if args.orders else None
    home = Path(tempfile.mkdtemp(prefix="bivoice-demo-"))
    try:
        if args.store:
            with tempfile.TemporaryDirectory() as tmp:
                executed = Path(tmp) / NOTEBOOK.name
                execute(executed, home=home, parameters=params)
                if errors := errors_in(executed):
                    raise SystemExit("\n".join(errors))
                store(executed)
            print(f"stored fresh outputs in {_show(NOTEBOOK)} ({NOTEBOOK.stat().st_size:,} bytes)")
            return 0
        args.out.mkdir(parents=True, exist_ok=True)
        executed, html = args.out / NOTEBOOK.name, args.out / NOTEBOOK.with_suffix(".html").name
        start = time.perf_counter()
        execute(executed, home=home, parameters=params)
        if errors := errors_in(executed):
            raise SystemExit("\n".join(errors))
        print(f"executed {_show(executed)} in {time.perf_counter() - start:.1f} s")
        charts = export_html(executed, html)
        print(f"exported {_show(html)} ({html.stat().st_size / 1e6:.1f} MB, {charts} charts, plotly.js inline)")
        spoken_answer(home)
        return 0
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
