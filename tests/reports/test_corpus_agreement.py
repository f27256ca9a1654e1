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


def test_sisimai_extra3_held_out_floor(tallies):
    tally = tallies["sisimai-extra3 (holdout)"]
    assert tally.total["status+reason"] == 37
    assert tally.ratio("status+reason") >= SISIMAI_EXTRA3_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("kind") == 1.0, tally.misses
    assert tally.ratio("recipient count") == 1.0, tally.misses


#: sisimai-extra4 (tests/corpus/sisimai-extra4): 11 real notices (EinsUndEins, McAfee, Messaging Server,
#: OpenSMTPD, Postfix, qmail/indimail, X3, Yahoo), all held out, scored once before any rule was changed
#: for them: 7/11. The floor is that blind reading.
SISIMAI_EXTRA4_HOLDOUT_FLOOR = 7 / 11


def test_sisimai_extra4_held_out_floor(tallies):
    tally = tallies["sisimai-extra4 (holdout)"]
    assert tally.total["status+reason"] == 11
    assert tally.ratio("status+reason") >= SISIMAI_EXTRA4_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("kind") == 1.0, tally.misses
    assert tally.ratio("recipient count") == 1.0, tally.misses


#: bounceparser-2 (tests/corpus/bounceparser-2): 29 real notices from Mail-DeliveryStatus-BounceParser's
#: corpus (AOL, Sendmail relaying AT&T/Comcast/Cox/Gmail/Hotmail, Postfix, Domino, Exchange, Telenor, and
#: three non-failures), all held out, scored once before any rule was changed for them: status+reason
#: 21/24, kind 27/29 (two labels were fixed afterwards to the shared corpus's reading). The floor is that
#: blind reading; recipients were all right then and must stay so.
BOUNCEPARSER2_HOLDOUT_FLOOR = 21 / 24
BOUNCEPARSER2_HOLDOUT_KIND_FLOOR = 27 / 29


def test_bounceparser2_held_out_floor(tallies):
    tally = tallies["bounceparser-2 (holdout)"]
    assert tally.total["status+reason"] == 24
    assert tally.ratio("status+reason") >= BOUNCEPARSER2_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("kind") >= BOUNCEPARSER2_HOLDOUT_KIND_FLOOR, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("recipient count") == 1.0, tally.misses


#: bounceparser-3 (tests/corpus/bounceparser-3): 44 real reports from BounceParser's test corpus (Postfix,
#: Sendmail, Exim, qmail, Exchange, CommuniGate, GroupWise, SMTP32, SurfControl, BorderWare; auto-replies
#: and a non-bounce), all held out, scored once before any rule was changed for them: 36/40 on
#: status+reason, kind 43/44 (an auto-reply read as none), every recipient found. The floor is that reading.
BOUNCEPARSER3_HOLDOUT_FLOOR = 36 / 40


def test_bounceparser3_held_out_floor(tallies):
    tally = tallies["bounceparser-3 (holdout)"]
    assert tally.total["status+reason"] == 40
    assert tally.ratio("status+reason") >= BOUNCEPARSER3_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("kind") >= 43 / 44, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("recipient count") == 1.0, tally.misses


#: helpdesk-fixtures (tests/corpus/helpdesk-fixtures): 15 real notices from the mail-intake fixtures of
#: Discourse, Zammad, Chatwoot and the bounce-email gem (Postfix, Gmail, CommuniGate, Domino, Sendmail;
#: auto-replies and a non-bounce), all held out, scored once before any rule was changed for them:
#: status+reason 8/11, kind 14/15 (an out-of-office reply read as none), every recipient found (one label's
#: capitals were lower-cased afterwards, as the shared corpus writes addresses). The floor is that reading.
HELPDESK_FIXTURES_HOLDOUT_FLOOR = 8 / 11


def test_helpdesk_fixtures_held_out_floor(tallies):
    tally = tallies["helpdesk-fixtures (holdout)"]
    assert tally.total["status+reason"] == 11
    assert tally.ratio("status+reason") >= HELPDESK_FIXTURES_HOLDOUT_FLOOR, tally.misses
    assert tally.ratio("kind") >= 14 / 15, tally.misses
    assert tally.ratio("recipient") == 1.0 and tally.ratio("recipient count") == 1.0, tally.misses
