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
import json
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

PLOTLY_JSON = "application/vnd.plotly.v1+json"
PLOTLY_JS = "* plotly.js v"  # the banner at the top of plotly.min.js
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _kernel_path(folder: Path) -> str:
    """A ``python3`` kernelspec that runs *this* interpreter, first on JUPYTER_PATH.

    A user-level ``python3`` kernelspec would otherwise win over the virtualenv's and run the
    notebook in another Python, without this package.
    """
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                # log_level: ipykernel 7 warns on every start that the (loopback) kernel runs
                # over TCP without encryption; the demo's output should show the demo.
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                         "--IPKernelApp.log_level=ERROR"],
                "display_name": "Python 3 (bivoice demo)",
                "language": "python",
            }
        )
    )
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))


def execute(target: Path, *, home: Path, parameters: dict | None = None) -> None:
    """Execute the quickstart into ``target`` with papermill, in ``home``; exit on a failed cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    with tempfile.TemporaryDirectory(prefix="bivoice-kernel-") as kernels:
        env = {"BIVOICE_HOME": str(home), "JUPYTER_PATH": _kernel_path(Path(kernels))}
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

    nb = nbformat.read(path, as_version=4)
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def draw_charts(nb) -> int:  # noqa: ANN001 - a NotebookNode
    """Make sure every Plotly output has an HTML version the exported page can draw offline.

    nbconvert cannot draw plotly's JSON mimetype, which is all plotly emits for a figure shown
    in a headless kernel (and all JupyterLab needs). Outputs without HTML get it here; plotly.js
    (about 4.8 MB) goes inline once, in the first chart unless an earlier output carries it
    already. Returns the number of charts the page draws.
    """
    import plotly.io as pio

    charts, have_js = 0, False
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_JSON in data and "text/html" not in data:
                data["text/html"] = pio.to_html(
                    data[PLOTLY_JSON], include_plotlyjs=not have_js, full_html=False, validate=False,
                    default_width="100%", default_height=450,
                )
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            have_js = have_js or PLOTLY_JS in html
            charts += html.count("Plotly.newPlot(")
    return charts


def export_html(executed: Path, html: Path) -> int:
    """Export to HTML with working charts; return how many (fail when there are none)."""
    import nbconvert
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    charts = draw_charts(nb)
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    if charts == 0 or body.count(PLOTLY_JS) != 1:
        raise SystemExit(f"{html}: the page would draw no chart ({charts} figures, plotly.js "
                         f"embedded {body.count(PLOTLY_JS)} times)")
    html.write_text(body, encoding="utf-8")
    return charts


def store(executed: Path) -> None:
    """Copy the executed notebook's outputs into notebooks/quickstart.ipynb, kept small.

    Run metadata goes, and so does the HTML twin of each chart (it may carry plotly.js, 4.8 MB):
    JupyterLab draws the Plotly JSON, and the HTML export rebuilds the HTML (draw_charts). The
    microphone's output and saved widget state go too: a stored copy of its JavaScript would go
    stale, and the widget only works with a live kernel anyway.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
        for out in cell.outputs:
            if PLOTLY_JSON in out.get("data", {}):
                out["data"].pop("text/html", None)
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
