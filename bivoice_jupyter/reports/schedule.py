"""Scheduling a report with the system's own scheduler: a crontab line, or a systemd timer and
service. There is no daemon of ours: each run is the same ``bivoice report run`` command.

Secrets stay out of the crontab and the units: the job reads them from an environment file
(``--env-file``, mode 0600, yours to write), as profiles and SMTP settings expect.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ReportError

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_SPECIAL = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_PASS_ENV = ("BIVOICE_HOME", "BIVOICE_PROFILES")  # settings without secrets the job needs as here
MARKER = "# bivoice-report:"


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression, checked; ``fields`` are the five texts."""

    fields: tuple[str, str, str, str, str]

    @classmethod
    def parse(cls, text: str) -> Cron:
        expr = _SPECIAL.get(text.strip().lower(), text)
        parts = expr.split()
        if len(parts) != 5:
            raise ReportError(f"{text!r} is not a cron expression of five fields.",
                              hint='minute hour day-of-month month day-of-week, e.g. "0 7 * * 1" (Mondays at 07:00)')
        fields = []
        for part, (name, low, high) in zip(parts, _FIELDS):
            names = _MONTHS if name == "month" else _DAYS if name == "day of week" else {}
            fields.append(_check_field(part.lower(), name, low, high, names))
        return cls(tuple(fields))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return " ".join(self.fields)

    def on_calendar(self) -> str:
        """The same times as a systemd ``OnCalendar=`` value."""
        minute, hour, dom, month, dow = self.fields
        if "/" in dow:
            raise ReportError("systemd timers take days of the week as names, not steps.",
                              hint="list the days (1,3,5) or schedule it as a crontab line")
        if dom != "*" and dow != "*":
            raise ReportError("A cron expression that restricts both the day of month and the day of week means "
                              "either one; systemd timers cannot say that.", hint="schedule it as a crontab line instead")
        day = "" if dow == "*" else _list(dow, lambda v: _SYSTEMD_DAYS[int(v)]) + " "
        date = f"*-{_list(month, _pad, 1)}-{_list(dom, _pad, 1)}"
        return f"{day}{date} {_list(hour, _pad, 0)}:{_list(minute, _pad, 0)}:00"


def _value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(token[:3]) if token[:3] in names and not token.isdigit() else None
    if value is None:
        if not token.isdigit():
            raise ReportError(f"{token!r} is not a valid {name} in a cron expression.")
        value = int(token)
    if not low <= value <= high:
        raise ReportError(f"{name} {value} is outside {low}-{high}.")
    return value


def _check_field(part: str, name: str, low: int, high: int, names: dict[str, int]) -> str:
    out = []
    for item in part.split(","):
        m = re.fullmatch(r"(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?", item)
        if m is None:
            raise ReportError(f"{item!r} is not a valid {name} in a cron expression.")
        base, step = m.group(1), m.group(2)
        if base != "*":
            bounds = [_value(t, name, low, high, names) for t in base.split("-")]
            if len(bounds) == 2 and bounds[0] > bounds[1]:
                raise ReportError(f"{item!r}: a {name} range must go upwards.")
            base = "-".join(map(str, bounds))
        if step is not None and (int(step) == 0 or ("-" in base)):
            raise ReportError(f"{item!r}: steps are supported on * or a single start value (*/15, 5/10).")
        out.append(base + (f"/{step}" if step else ""))
    return ",".join(out)


def _pad(value: str) -> str:
    return value.zfill(2)


def _list(field: str, fmt, first: int | None = None) -> str:  # noqa: ANN001
    """One cron field in systemd's words: ``*``, ``a,b``, ``a..b`` and ``start/step``."""
    if field == "*":
        return "*"
    out = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            base = str(first if first is not None else 0)
        if "-" in base:
            a, b = base.split("-")
            out.append(f"{fmt(a)}..{fmt(b)}")
        else:
            out.append(fmt(base) + (f"/{step}" if step else ""))
    return ",".join(out)


# ------------------------------------------------------------------ the command and its wrappers


def run_command(run_args: Sequence[str]) -> list[str]:
    """``bivoice report run`` with these arguments, runnable from anywhere (absolute python)."""
    return [sys.executable, "-m", "bivoice_jupyter.cli", "report", "run", *run_args]


def _environment() -> dict[str, str]:
    return {k: os.environ[k] for k in _PASS_ENV if os.environ.get(k)}


def env_file_names(path: Path) -> set[str]:
    """The variables an environment file sets (``NAME=value`` lines, ``export`` allowed)."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", line)
        if m:
            names.add(m.group(1))
    return names


def check_env_file(path: Path) -> None:
    """The environment file must exist and be readable by its owner only (it holds secrets)."""
    if not path.is_file():
        raise ReportError(f"No environment file {path}.", hint="write VAR=value lines there, then chmod 600 it")
    if path.stat().st_mode & 0o077:
        raise ReportError(f"{path} holds secrets but others may read it.", hint=f"chmod 600 {path}")


def crontab_line(cron: Cron, command: Sequence[str], *, name: str, log: Path, env_file: Path | None = None,
                 cwd: Path | None = None) -> str:
    """One crontab line: the command in ``cwd`` with its output appended to ``log``."""
    parts = [f"cd {shlex.quote(str(cwd or Path.cwd()))}"]
    if env_file is not None:
        parts.append(f"set -a && . {shlex.quote(str(env_file))} && set +a")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in _environment().items())
    parts.append((env + " " if env else "") + " ".join(shlex.quote(a) for a in command)
                 + f" >> {shlex.quote(str(log))} 2>&1")
    # cron turns an unescaped % into a newline
    return f"{cron} " + " && ".join(parts).replace("%", "\\%") + f"  {MARKER}{name}"


def _systemd_quote(arg: str) -> str:
    arg = arg.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(cron: Cron, command: Sequence[str], *, name: str, log: Path | None = None,
                  env_file: Path | None = None, cwd: Path | None = None) -> dict[str, str]:
    """``{file name: text}`` for the service that runs the report and the timer that starts it."""
    unit = f"bivoice-report-{name}"
    env = "".join(f"Environment={_systemd_quote(f'{k}={v}')}\n" for k, v in _environment().items())
    if env_file is not None:
        env += f"EnvironmentFile={_systemd_quote(str(env_file))}\n"
    logs = (f"StandardOutput=append:{log}\nStandardError=append:{log}\n" if log is not None
            else f"# logs: journalctl --user -u {unit}.service\n")
    service = (
        f"[Unit]\nDescription=bivoice report {name}\nWants=network-online.target\nAfter=network-online.target\n\n"
        f"[Service]\nType=oneshot\nWorkingDirectory={_systemd_quote(str(cwd or Path.cwd()))}\n{env}"
        f"ExecStart={' '.join(_systemd_quote(a) for a in command)}\n{logs}"
    )
    timer = (
        f"[Unit]\nDescription=Run bivoice report {name} ({cron})\n\n"
        f"[Timer]\nOnCalendar={cron.on_calendar()}\nPersistent=true\nUnit={unit}.service\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return {f"{unit}.service": service, f"{unit}.timer": timer}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ReportError(f"{name} is not installed here.", hint="print the schedule without --install and set it up by hand")
    return path


def install_crontab(line: str, *, name: str) -> None:
    """Add ``line`` to the user's crontab, replacing an earlier schedule of the same name."""
    crontab = _tool("crontab")
    current = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    lines = current.stdout.splitlines() if current.returncode == 0 else []
    kept = [x for x in lines if not x.rstrip().endswith(f"{MARKER}{name}")]
    done = subprocess.run([crontab, "-"], input="\n".join([*kept, line]) + "\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise ReportError(f"crontab refused the schedule: {done.stderr.strip()}")


def install_systemd(units: dict[str, str], *, unit_dir: Path, enable: bool = True) -> list[Path]:
    """Write the units into ``unit_dir`` and (``enable``) start the timer with ``systemctl --user``."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file, text in units.items():
        path = unit_dir / file
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if enable:
        systemctl = _tool("systemctl")
        timer = next(f for f in units if f.endswith(".timer"))
        for args in (["daemon-reload"], ["enable", "--now", timer]):
            done = subprocess.run([systemctl, "--user", *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise ReportError(f"systemctl --user {' '.join(args)} failed: {done.stderr.strip()}")
    return written
