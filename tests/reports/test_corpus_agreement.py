"""Agreement with every expected.csv in tests/corpus (run with -s to see the table and misses).

The table is also written to tests/reports/agreement-table.md so it can be
pasted into receipts_plugin/reports/README.md.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from agreement import CORPUS, all_tallies, table
from receipts_plugin.reports import parse_report

#: Status+reason agreement with the shared Sisimai expectations: issue 13's target, 0.99 (measured
#: 424/428, 99.1%; the four misses are deliberate, see receipts_plugin/reports/README.md).
SISIMAI_STATUS_REASON_TARGET = 0.99


@pytest.fixture(scope="module")
def tallies():
    results = all_tallies()
    text = table(results)
    print("\n" + text)
    for folder, tally in results.items():
        for miss in tally.misses:
            print(f"MISS {folder}: {miss}")
    (Path(__file__).parent / "agreement-table.md").write_text(text + "\n", encoding="utf-8")
    return results


def test_rfc_examples_and_read_receipts_agree_fully(tallies):
    for folder in ("rfc-examples", "chatmail-core-mdn", "flanker-mdn", "mimekit-mdn"):
        assert tallies[folder].misses == [], folder


def test_sisimai_status_and_reason_target(tallies):
    ratio = tallies["sisimai"].ratio("status+reason")
    assert ratio >= SISIMAI_STATUS_REASON_TARGET, f"status+reason agreement fell to {ratio:.3f}"


def test_sisimai_kind_and_recipient_count(tallies):
    assert tallies["sisimai"].ratio("kind") >= 0.98
    assert tallies["sisimai"].ratio("recipient count") >= 0.97


@pytest.mark.parametrize("name", ["is-not-bounce-01.eml", "is-not-bounce-02.eml"])
def test_non_bounces_are_none(name):
    assert parse_report((CORPUS / "sisimai" / name).read_bytes()).kind == "none"


#: sisimai-extra2 (tests/corpus/sisimai-extra2): 40 held-out rows scored before any rule of round 3
#: was written (34/40), 8 more scored once after those rules (6/8), 5 more after the fixes of the
#: second batch (2/5) and 3 more after those of the third (3/3). The floor is the sum of those blind
#: readings, so a rule may never bring the folder back below them.
SISIMAI_EXTRA2_HOLDOUT_FLOOR = (34 + 6 + 2 + 3) / 56


def test_sisimai_extra2_held_out_floor(tallies):
    tally = tallies["sisimai-extra2 (holdout)"]
    assert tally.total["status+reason"] == 56
    assert tally.ratio("status+reason") >= SISIMAI_EXTRA2_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("kind") == 1.0, tally.misses


#: sisimai-extra3 (tests/corpus/sisimai-extra3): real DragonFly, OpenSMTPD, EZweb, Facebook, Gmail,
#: Orange (FrancePTT) and GoDaddy notices, all held out, scored once before any rule was changed
#: for them: 18/20, and a second batch of 7 (Amazon SES, Amazon WorkMail, Apple/iCloud, Bigfoot, Google
#: Groups) scored once after the first batch's fixes: 7/7, and a third of 9 rows (Cloudflare, Zoho,
#: Deutsche Telekom, Mimecast) scored once after that: 3/9, and one more Mimecast notice after the third
#: batch's fixes: 1/1. The floor is the sum of those blind readings.
SISIMAI_EXTRA3_HOLDOUT_FLOOR = (18 + 7 + 3 + 1) / 37


def assert_held_out_floor(tally, rows: int, floor: float, kind_floor: float = 1.0) -> None:
    """A held-out folder keeps its rows, its blind status+reason and kind scores, and every recipient."""
    assert tally.total["status+reason"] == rows
    assert tally.ratio("status+reason") >= floor, tally.misses
    assert tally.ratio("kind") >= kind_floor, tally.misses
    assert tally.ratio("recipient") == 1.0, tally.misses
    assert tally.ratio("recipient count") == 1.0, tally.misses


#: The held-out folders scored blind once each, as (folder, rows, blind status+reason floor, blind kind floor):
#: a rule may never bring a folder back below its blind reading. Each folder's README gives the reading.
HELD_OUT_FLOORS = [
    ("sisimai-extra3", 37, SISIMAI_EXTRA3_HOLDOUT_FLOOR, 1.0),
    # 11 real notices (EinsUndEins, McAfee, Messaging Server, OpenSMTPD, Postfix, qmail/indimail, X3, Yahoo)
    ("sisimai-extra4", 11, 7 / 11, 1.0),
    # round 6 (2026-12-04), each labelled by reading before any parser ran on it:
    # BounceParser's corpus: AOL, Sendmail relays, Postfix, Domino, Exchange, Telenor, three non-failures
    # (three labels brought afterwards to the shared corpus's reading of the same wording)
    ("bounceparser-2", 24, 21 / 24, 27 / 29),
    # Postfix, Sendmail, Exim, qmail, Exchange, CommuniGate, GroupWise, SMTP32, SurfControl, BorderWare
    ("bounceparser-3", 40, 36 / 40, 43 / 44),
    # spam and block-list refusals, and two spam messages that are no notices
    ("bounceparser-spam", 44, 37 / 44, 1.0),
    # PHP Bounce Handler's eml/1..10: Exim, qmail, Hotmail
    ("php-bounce-handler-a", 10, 9 / 10, 1.0),
    # its eml/32..62 and named samples: a delay warning, a return receipt, auto-replies, feedback reports
    ("php-bounce-handler-b", 39, 36 / 39, 46 / 47),
    # flanker's and bounce_email's fixtures: Gmail, AOL, Postfix, Sendmail, Exim, CommuniGate
    ("flanker-bounce-email", 12, 8 / 12, 1.0),
    # Discourse, Zammad, Chatwoot and bounce-email intake fixtures (one label's capitals lower-cased after)
    ("helpdesk-fixtures", 11, 8 / 11, 14 / 15),
]


@pytest.mark.parametrize(("folder", "rows", "floor", "kind_floor"), HELD_OUT_FLOORS, ids=[f[0] for f in HELD_OUT_FLOORS])
def test_held_out_folder_stays_at_or_above_its_blind_reading(tallies, folder, rows, floor, kind_floor):
    assert_held_out_floor(tallies[f"{folder} (holdout)"], rows, floor, kind_floor)
