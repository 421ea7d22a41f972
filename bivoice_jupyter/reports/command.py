"""``bivoice report``: run, schedule, freeze and list the parameters of report templates.

    bivoice report params TEMPLATE
    bivoice report run TEMPLATE -p start 2024-12-02 -p regions '["Europe"]' -o OUT.ipynb --html OUT.html
    bivoice report schedule TEMPLATE --cron "0 7 * * 1" -p start monday-1w -p end monday --html ...
    bivoice report freeze TEMPLATE
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ..config import data_home
from .errors import ReportError, ReportFailed


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("template", help="the notebook (.ipynb) with a cell tagged 'parameters'")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a parameter the template declares, read as its type (lists as JSON; dates may be "
                        "today, monday, monday-1w ...)")
    p.add_argument("-o", "--output", metavar="OUT.ipynb", help="the executed notebook (default TEMPLATE-{date}.ipynb); "
                   "{date} is the day of the run")
    p.add_argument("--html", metavar="OUT.html", help="the report as one self-contained HTML page (charts included)")
    p.add_argument("--email", action="append", default=[], metavar="ADDRESS",
                   help="send the page to this address (SMTP from BIVOICE_SMTP_*); repeat for more")
    p.add_argument("--subject", help="the email's subject (default: the title and dates)")
    p.add_argument("--hide-code", action="store_true", help="leave the code out of the page")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="longest a cell may run")


def configure(report: argparse.ArgumentParser) -> None:
    """Add the report subcommands to ``report`` (the ``bivoice report`` parser)."""
    sub = report.add_subparsers(dest="report_command", required=True)
    params = sub.add_parser("params", help="list a template's parameters")
    params.add_argument("template")
    run = sub.add_parser("run", help="execute a template and write the notebook, the page and the email")
    _add_run_options(run)
    run.add_argument("--live", action="store_true", help="plan every question afresh instead of replaying")
    sched = sub.add_parser("schedule", help="print or install a crontab line or systemd timer for `report run`")
    _add_run_options(sched)
    sched.add_argument("--cron", required=True, metavar="EXPR", help='when: a cron expression, e.g. "0 7 * * 1"')
    sched.add_argument("--systemd", action="store_true", help="a systemd timer and service instead of a crontab line")
    sched.add_argument("--install", action="store_true", help="install it (crontab, or systemctl --user) instead of printing")
    sched.add_argument("--name", help="the schedule's name (default: the template's)")
    sched.add_argument("--log", metavar="PATH", help="append the runs' output here (default for cron: "
                       "$BIVOICE_HOME/reports/NAME.log; for systemd: the journal)")
    sched.add_argument("--env-file", metavar="PATH", help="a file of VAR=value lines the job reads first (secrets)")
    sched.add_argument("--unit-dir", metavar="DIR", help="where --install --systemd writes the units "
                       "(default ~/.config/systemd/user)")
    sched.add_argument("--no-enable", action="store_true", help="with --install --systemd: write the units only")
    freeze = sub.add_parser("freeze", help="answer every question afresh and store the answers in the template")
    freeze.add_argument("template", nargs="+")
    freeze.add_argument("--timeout", type=float, metavar="SECONDS")


def main(args: argparse.Namespace) -> int:
    """Run one report subcommand; errors are raised (the ``bivoice`` command prints them)."""
    return {"params": _params, "run": _run, "schedule": _schedule, "freeze": _freeze}[args.report_command](args)


def _params(args: argparse.Namespace) -> int:
    from .parameters import template_parameters
    from .runner import resolve_template

    for p in template_parameters(resolve_template(args.template)).values():
        print(f"{p.name:<16} {p.type:<12} default {p.default!r:<32} {p.help}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import run

    started = dt.datetime.now().isoformat(timespec="seconds")
    print(f"[{started}] bivoice report run {args.template}", flush=True)
    try:
        result = run(args.template, dict(args.parameter), output=args.output, html=args.html, email=args.email,
                     subject=args.subject, hide_code=args.hide_code, live=args.live, timeout=args.timeout)
    except ReportFailed as exc:
        if exc.output is not None:
            print(f"wrote {exc.output} (with the error in place)", flush=True)
        raise
    how = f"{result.answers} answers, {result.replayed} replayed" if result.answers else "no answers"
    print(f"wrote {result.notebook} ({how}) in {result.seconds:.1f} s")
    if result.html is not None:
        print(f"wrote {result.html} ({result.html.stat().st_size / 1e6:.1f} MB, {result.charts} charts)")
    for name in result.redacted:
        print(f"warning: a cell printed the value of ${name}; it was removed from the outputs", file=sys.stderr)
    if result.emailed:
        print(f"sent to {', '.join(result.emailed)}")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    from . import schedule as sch
    from .runner import prepare, resolve_template

    template = resolve_template(args.template)
    if not args.output:
        raise ReportError("A schedule needs -o: where each run writes its notebook.",
                          hint="put {date} in the name to keep every run: -o reports/weekly-{date}.ipynb")
    cron = sch.Cron.parse(args.cron)
    prepare(template, dict(args.parameter))  # the same checks as each run, now rather than on Monday
    env_file = Path(args.env_file).expanduser().absolute() if args.env_file else None
    if env_file is not None:
        sch.check_env_file(env_file)
    if args.email and not (env_file and "BIVOICE_SMTP_HOST" in sch.env_file_names(env_file)):
        from .delivery import SMTPSettings

        SMTPSettings.from_env()  # the job's SMTP settings: here, or in the environment file
    name = args.name or template.stem
    run_args = [str(template)]
    for key, value in args.parameter:
        run_args += ["-p", key, value]
    for flag, value in (("-o", args.output), ("--html", args.html)):
        if value:
            run_args += [flag, str(Path(value).expanduser().absolute())]
    for address in args.email:
        run_args += ["--email", address]
    if args.subject:
        run_args += ["--subject", args.subject]
    if args.hide_code:
        run_args.append("--hide-code")
    if args.timeout:
        run_args += ["--timeout", str(args.timeout)]
    command = sch.run_command(run_args)
    log = Path(args.log).expanduser().absolute() if args.log else None
    if args.systemd:
        units = sch.systemd_units(cron, command, name=name, log=log, env_file=env_file)
        if not args.install:
            for file, text in units.items():
                print(f"# {file}\n{text}")
            return 0
        unit_dir = Path(args.unit_dir).expanduser() if args.unit_dir else Path.home() / ".config" / "systemd" / "user"
        for path in sch.install_systemd(units, unit_dir=unit_dir, enable=not args.no_enable):
            print(f"wrote {path}")
        if not args.no_enable:
            print(f"enabled bivoice-report-{name}.timer (systemctl --user list-timers; journalctl --user -u bivoice-report-{name})")
        return 0
    log = log or data_home() / "reports" / f"{name}.log"
    line = sch.crontab_line(cron, command, name=name, log=log, env_file=env_file)
    if not args.install:
        print(line)
        return 0
    log.parent.mkdir(parents=True, exist_ok=True)
    sch.install_crontab(line, name=name)
    print(f"installed in your crontab: {line}\nlogs: {log}")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from .runner import freeze

    for template in args.template:
        result = freeze(template, timeout=args.timeout)
        print(f"stored {result.answers} frozen answers and fresh outputs in {result.notebook} "
              f"({result.notebook.stat().st_size:,} bytes, {result.seconds:.1f} s)", flush=True)
    return 0
