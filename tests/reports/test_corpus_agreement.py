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


def test_sisimai_extra3_held_out_floor(tallies):
    assert_held_out_floor(tallies["sisimai-extra3 (holdout)"], 37, SISIMAI_EXTRA3_HOLDOUT_FLOOR)


#: sisimai-extra4 (tests/corpus/sisimai-extra4): 11 real notices (EinsUndEins, McAfee, Messaging Server,
#: OpenSMTPD, Postfix, qmail/indimail, X3, Yahoo), all held out, scored once before any rule was changed
#: for them: 7/11. The floor is that blind reading.
SISIMAI_EXTRA4_HOLDOUT_FLOOR = 7 / 11


def test_sisimai_extra4_held_out_floor(tallies):
    assert_held_out_floor(tallies["sisimai-extra4 (holdout)"], 11, SISIMAI_EXTRA4_HOLDOUT_FLOOR)


#: bounceparser-spam (tests/corpus/bounceparser-spam): 44 real spam and block-list refusals from
#: Mail::DeliveryStatus::BounceParser's corpus and two spam messages that are no notices, all held
#: out, scored once before any rule was changed for them: 37/44. The floor is that blind reading.
BOUNCEPARSER_SPAM_HOLDOUT_FLOOR = 37 / 44


def test_bounceparser_spam_held_out_floor(tallies):
    assert_held_out_floor(tallies["bounceparser-spam (holdout)"], 44, BOUNCEPARSER_SPAM_HOLDOUT_FLOOR)


#: bounceparser-2 (tests/corpus/bounceparser-2): 29 real notices from Mail-DeliveryStatus-BounceParser's
#: corpus (AOL, Sendmail relaying AT&T/Comcast/Cox/Gmail/Hotmail, Postfix, Domino, Exchange, Telenor, and
#: three non-failures), all held out, scored once before any rule was changed for them: status+reason
#: 21/24, kind 27/29 (three labels were fixed afterwards to the shared corpus's reading). The floor is that
#: blind reading; recipients were all right then and must stay so.
BOUNCEPARSER2_HOLDOUT_FLOOR = 21 / 24


def test_bounceparser2_held_out_floor(tallies):
    assert_held_out_floor(tallies["bounceparser-2 (holdout)"], 24, BOUNCEPARSER2_HOLDOUT_FLOOR, kind_floor=27 / 29)


#: bounceparser-3 (tests/corpus/bounceparser-3): 44 real reports from BounceParser's test corpus (Postfix,
#: Sendmail, Exim, qmail, Exchange, CommuniGate, GroupWise, SMTP32, SurfControl, BorderWare; auto-replies
#: and a non-bounce), all held out, scored once before any rule was changed for them: 36/40 on
#: status+reason, kind 43/44 (an auto-reply read as none), every recipient found. The floor is that reading.
BOUNCEPARSER3_HOLDOUT_FLOOR = 36 / 40


def test_bounceparser3_held_out_floor(tallies):
    assert_held_out_floor(tallies["bounceparser-3 (holdout)"], 40, BOUNCEPARSER3_HOLDOUT_FLOOR, kind_floor=43 / 44)


#: php-bounce-handler-b (tests/corpus/php-bounce-handler-b): 47 real reports from PHP Bounce Handler's eml/
#: folder (Exim, qmail, Postfix, Sendmail, Exchange, Sun ONE, Barracuda, MessageLabs; a delay warning, a
#: return receipt, three auto-replies, five feedback reports), all held out, scored once before any rule was
#: changed for them: status+reason 36/39, kind 46/47 (a Hotmail complaint read as none), every recipient
#: found. The floor is that reading.
PHP_BOUNCE_HANDLER_B_HOLDOUT_FLOOR = 36 / 39


def test_php_bounce_handler_b_held_out_floor(tallies):
    assert_held_out_floor(
        tallies["php-bounce-handler-b (holdout)"], 39, PHP_BOUNCE_HANDLER_B_HOLDOUT_FLOOR, kind_floor=46 / 47
    )


#: php-bounce-handler-a (tests/corpus/php-bounce-handler-a): 10 real Exim, qmail and Hotmail bounces from
#: PHP Bounce Handler's sample folder (eml/1..10), all held out, scored once before any rule was changed
#: for them: status+reason 9/10 (a Spanish "mailbox expired for lack of use" read as onhold), kind,
#: recipients and actions all right. The floor is that reading.
PHP_BOUNCE_HANDLER_A_HOLDOUT_FLOOR = 9 / 10


def test_php_bounce_handler_a_held_out_floor(tallies):
    assert_held_out_floor(tallies["php-bounce-handler-a (holdout)"], 10, PHP_BOUNCE_HANDLER_A_HOLDOUT_FLOOR)


#: flanker-bounce-email (tests/corpus/flanker-bounce-email): 12 real bounces from flanker's and
#: bounce_email's fixtures (Gmail, AOL, Postfix, sendmail, Exim, CommuniGate), all held out, scored once
#: before any rule was changed for them: 8/12. The floor is that blind reading.
FLANKER_BOUNCE_EMAIL_HOLDOUT_FLOOR = 8 / 12


def test_flanker_bounce_email_held_out_floor(tallies):
    assert_held_out_floor(tallies["flanker-bounce-email (holdout)"], 12, FLANKER_BOUNCE_EMAIL_HOLDOUT_FLOOR)


#: helpdesk-fixtures (tests/corpus/helpdesk-fixtures): 15 real notices from the mail-intake fixtures of
#: Discourse, Zammad, Chatwoot and the bounce-email gem (Postfix, Gmail, CommuniGate, Domino, Sendmail;
#: auto-replies and a non-bounce), all held out, scored once before any rule was changed for them:
#: status+reason 8/11, kind 14/15 (an out-of-office reply read as none), every recipient found (one label's
#: capitals were lower-cased afterwards, as the shared corpus writes addresses). The floor is that reading.
HELPDESK_FIXTURES_HOLDOUT_FLOOR = 8 / 11


def test_helpdesk_fixtures_held_out_floor(tallies):
    assert_held_out_floor(tallies["helpdesk-fixtures (holdout)"], 11, HELPDESK_FIXTURES_HOLDOUT_FLOOR, kind_floor=14 / 15)
