"""Command line: ``flask --app wsgi <command>``."""
from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from .services.errors import ValidationError


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_admin)
    app.cli.add_command(demo_data)
    app.cli.add_command(mail_group)
    app.cli.add_command(worker)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or migrate the database to the newest schema (all branches: core and plugins)."""
    upgrade(revision="heads")
    click.echo("Database is up to date.")


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--password", help="Prompted for when not given (never echoed).")
@with_appcontext
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create an admin agent."""
    from .services.people import create_admin as create

    password = password or getpass.getpass("Password: ")
    try:
        agent = create(email, name, password)
    except ValidationError as error:
        for field, messages in error.errors.items():
            click.echo(f"{field}: {'; '.join(messages)}", err=True)
        sys.exit(1)
    click.echo(f"Admin {agent.email} created.")


@click.command("demo-data")
@click.option("--tickets", default=36, show_default=True)
@with_appcontext
def demo_data(tickets: int) -> None:
    """Load demo departments, agents, contacts and tickets (once; a second run does nothing)."""
    from .demo import DEMO_ADMIN, DEMO_PASSWORD, load_demo
    from .signals import demo_data_loaded

    if load_demo(tickets):
        demo_data_loaded.send(current_app._get_current_object())
        click.echo(f"Demo data loaded. Sign in as {DEMO_ADMIN} / {DEMO_PASSWORD}")
    else:
        click.echo(f"Demo data already present. Sign in as {DEMO_ADMIN} / {DEMO_PASSWORD}")


mail_group = AppGroup("mail", help="Mail in and out.")


@mail_group.command("fetch")
def mail_fetch() -> None:
    """Read new mail from the support mailbox once."""
    from .mail.fetch import fetch_support_mailbox

    report = fetch_support_mailbox()
    if report.skipped:
        click.echo(f"skipped: {report.skipped}")
        return
    stats = report.stats
    outcomes = ", ".join(f"{k}={v}" for k, v in sorted(stats.outcomes.items())) or "nothing new"
    click.echo(f"fetched={stats.fetched} too_large={stats.too_large} {outcomes} seconds={stats.seconds:.2f}")
    if stats.stopped_early:
        click.echo(f"stopped early: {stats.stopped_early}", err=True)


@mail_group.command("send-queued")
def mail_send_queued() -> None:
    """Attempt every queued reply that is due."""
    from .mail.outgoing import send_due

    for report in send_due():
        click.echo(f"message {report.message_id}: {report.state.value}")


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run every scheduled job and watcher, the core's (sending, mail intake) and the plugins'
    (report polls, IMAP IDLE, notifications), until stopped."""
    from .jobs import run_app_worker

    run_app_worker(current_app._get_current_object())
