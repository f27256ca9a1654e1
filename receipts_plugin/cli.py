"""``flask --app wsgi receipts ...``: poll, run the worker, inspect a saved report."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from helpdesk.plugin_api import worker

receipts_cli = AppGroup("receipts", help="Delivery reports and read receipts.")
#: ``flask receipts worker`` is the core's ``flask worker`` (one command, kept under its old name too).
receipts_cli.add_command(worker)


@receipts_cli.command("poll")
@click.option("--mailbox", "name", help="Only this mailbox (by name).")
@click.option("--force", is_flag=True, help="Poll even if the mailbox is backing off after errors.")
def poll(name: str | None, force: bool) -> None:
    """Poll the watched mailboxes once and print a summary per mailbox."""
    from .poller import poll_all

    summaries = poll_all(name, force=force)
    if not summaries:
        click.echo(f"no enabled mailbox{' named ' + name if name else ''}; add one under Setup > Mailboxes", err=True)
        sys.exit(1)
    for summary in summaries:
        click.echo(summary.line())
    if any(s.error for s in summaries):
        sys.exit(2)


@receipts_cli.command("inspect")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--apply", "apply_", is_flag=True, help="Also record it, as if the poller had fetched it.")
def inspect(files: tuple[Path, ...], apply_: bool) -> None:
    """Show what the parser reads in saved .eml files (and what it matches, with --apply)."""
    from .inbound.correlate import PrefetchedLookup, correlate
    from .inbound.pipeline import Origin, read_mail, record
    from .reports.cli import summary
    from .trust import sender_check

    for path in files:
        mail = read_mail(path.read_bytes(), Origin(f"cli:{path.name}"))
        report = mail.report
        click.echo(summary(str(path), report))
        correlation = correlate(report, PrefetchedLookup.for_reports([report]), sender_check(mail.raw))
        if correlation.message is not None:
            click.echo(f"  matches message {correlation.message.id} (ticket {correlation.message.ticket_id}) "
                       f"by {correlation.method}: {[m.recipient.address for m in correlation.matches]}"
                       + (f"; suspect: {correlation.suspect}" if correlation.suspect else "")
                       + "".join(f"; unverified for {d.recipient.address}: {d.why}" for d in correlation.doubts))
        else:
            click.echo("  matches no message of ours")
        if apply_:
            done = record([mail])
            if done.stopped:
                raise click.ClickException(f"not recorded: {done.stopped}")
            result = done.results[0]
            click.echo(f"  recorded: {json.dumps({'outcome': result.outcome, 'report_id': result.report_id})}")
