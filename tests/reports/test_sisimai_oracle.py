"""Sisimai as a differential oracle: every message the suite holds or makes, read by both.

The corpus under tests/corpus (also the fuzzers' seeds), the builders' messages of
tests/receipts/builders.py, and real reports the suite's own Postfix writes. Any disagreement
(kind, recipient, action, status class, status, reason, hard) must be listed, with its
reason, in oracle_differences.csv; a listed one that no longer happens must be removed.
Run with ``-s`` to see them all. Needs no database; one Perl process per test.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from oracle import DIFFERENCES, compare, disagreements, load_table, run_sisimai, sisimai_available, suite_files
from receipts_plugin.reports import parse_report


@pytest.fixture(scope="module", autouse=True)
def sisimai() -> None:
    if not sisimai_available():
        message = "Sisimai is not installed (apt-get install libsisimai-perl, see .ci/install-debian-packages)"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run the oracle", pytrace=False)
        pytest.skip(message + ": the differential oracle did not run")


def check(found, table) -> None:
    for item in found:
        print(("listed " if item.key in table else "NEW    ") + str(item))
    new = [str(item) for item in found if item.key not in table]
    assert not new, f"{len(new)} new disagreements with Sisimai (fix them, or list them with a reason in {DIFFERENCES.name}):\n" + "\n".join(new)


def test_every_corpus_and_builder_message_agrees_with_sisimai_or_is_listed(tmp_path: Path) -> None:
    found = disagreements(suite_files(tmp_path))
    table = load_table()
    check(found, table)
    current = {item.key for item in found}
    stale = [key for key in table if key[0].split("/")[0] != "mailstack" and key not in current]
    assert not stale, f"listed in {DIFFERENCES.name} but no longer a disagreement (remove them): {stale}"
    assert "TODO" not in table.values(), f"every listed difference needs its reason in {DIFFERENCES.name}"


def test_reports_of_the_suites_postfix_agree_with_sisimai(clean_mailboxes, tmp_path: Path) -> None:
    """A bounce (unknown user), a success report, a VERP bounce and a vacation reply, as the
    real stack writes them, fetched over IMAP."""
    from tests.mailstack.test_mailstack import AGENT, ALICE, BOUNCES, SUPPORT, message

    stack = clean_mailboxes
    stack.set_vacation(ALICE, "Out of office", "Back on Monday.")
    stack.send(message(SUPPORT, "nobody@customer.test", "to nobody"))
    stack.send(message(SUPPORT, AGENT, "dsn please"), mail_options=["RET=HDRS", "ENVID=E1"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{AGENT}"])
    stack.send(message(SUPPORT, "ghost@example.test", "verp"), envelope_from="bounces+tok1@example.test")
    stack.send(message(SUPPORT, ALICE, "Re: ticket"))
    stack.wait_for(SUPPORT, ["SUBJECT", "Undelivered Mail Returned to Sender"])
    stack.wait_for(SUPPORT, ["SUBJECT", "Successful Mail Delivery Report"])
    stack.wait_for(SUPPORT, ["SUBJECT", "Out of office"])
    stack.wait_for(BOUNCES, ["HEADER", "Content-Type", "delivery-status"])
    raws = stack.fetch_all(SUPPORT) + stack.fetch_all(BOUNCES)
    paths = {}
    for number, raw in enumerate(raws):
        path = tmp_path / f"{number}.eml"
        path.write_bytes(raw)
        paths[path] = raw
    results = run_sisimai(list(paths))
    kinds = sorted(parse_report(raw).kind for raw in raws)
    assert kinds == ["auto-reply", "dsn", "dsn", "dsn"], kinds
    found = [item for path, raw in paths.items() for item in compare(f"mailstack/{path.name}", results[path], parse_report(raw))]
    # Sisimai reads the success report as 'delivered' only with its 'delivered' option, which the driver sets.
    check(found, {})
