"""Asking for receipts, correlating reports (token, ENVID, Message-ID, references), trust, idempotence."""
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel, Contact, TicketStatus, utcnow
from receipts_plugin.inbound.pipeline import ingest, reapply
from receipts_plugin.models import RecipientStatusRow, StoredReport, TrackedMessage
from receipts_plugin.read_info import message_read_info, states_for
from receipts_plugin.sending import receipt_address, verp_address
from receipts_plugin.settings import save_switches
from tests.helpers import make_reply, make_ticket
from tests.receipts.builders import authenticated, mdn, postfix_dsn, read_notice
from tests.receipts.factories import receipt_to


def status(reply, address):
    recipient = next(r for r in reply.recipients if r.address == address)
    row = db.session.get(RecipientStatusRow, recipient.id)
    return row.status if row else None


def recipient_id(reply, address):
    return next(r.id for r in reply.recipients if r.address == address)


def test_a_reply_asks_for_receipts_per_recipient_with_signed_return_paths(app, sent_reply):
    tracked = db.session.get(TrackedMessage, sent_reply.id)
    assert tracked is not None and tracked.envid.startswith(f"hd{sent_reply.id}.")
    files = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 4  # one transaction per recipient
    by_rcpt = {m["X-Outbox-Envelope-To"]: m for m in (message_from_bytes(f.read_bytes()) for f in files)}
    for recipient in sent_reply.recipients:
        mail = by_rcpt[recipient.address]
        assert mail["Disposition-Notification-To"] == receipt_address(app, sent_reply.id, recipient.id)
        assert mail["X-Outbox-Envelope-From"] == verp_address(app, sent_reply.id, recipient.id)
        assert mail["Bcc"] is None and "carol" not in str(mail["To"]) + str(mail["Cc"])


def test_no_receipts_for_other_departments_or_channels(app, desk):
    support, billing, agent = desk
    from tests.helpers import make_agent

    admin = make_agent("boss@example.test", [support, billing])
    off = make_reply(make_ticket(admin, billing, channel=Channel.EMAIL), admin)
    phone = make_reply(make_ticket(agent, support, channel=Channel.PHONE), agent)
    for reply in (off, phone):
        send_message(reply.id)
        assert db.session.get(TrackedMessage, reply.id) is None
    contents = [f.read_bytes() for f in Path(app.config["OUTBOX_DIR"]).glob("*.eml")]
    assert contents and not any(b"Disposition-Notification-To" in c for c in contents)


def test_a_bounce_to_the_verp_address_is_matched_by_its_token(app, sent_reply):
    address = verp_address(app, sent_reply.id, recipient_id(sent_reply, "nobody@customer.test"))
    # The remote server names some other final address: the token still decides.
    result = ingest(postfix_dsn(to=address, recipient="forwarded@elsewhere.test"), "test")
    report = db.session.get(StoredReport, result.report_id)
    assert (result.outcome, report.method) == ("matched", "verp-token")
    assert status(sent_reply, "nobody@customer.test") == "bounced"
    contact = db.session.query(Contact).filter_by(email="nobody@customer.test").one()
    assert contact.undeliverable_since is not None and "5.1.1" in contact.undeliverable_reason


def test_a_forged_token_matches_nothing(app, sent_reply):
    address = verp_address(app, sent_reply.id, recipient_id(sent_reply, "alice@customer.test"))
    forged = address.replace("+", "+0")
    result = ingest(postfix_dsn(to=forged, recipient="zed@customer.test"), "test")
    assert result.outcome == "unmatched"
    assert status(sent_reply, "alice@customer.test") is None


def test_success_dsn_is_matched_by_envid_and_orcpt(app, sent_reply, our_mx):
    """(Signed by bob's own domain: without a token, that is what lets it count; see test_trust.)"""
    envid = db.session.get(TrackedMessage, sent_reply.id).envid
    result = ingest(authenticated(postfix_dsn(to="support@example.test", recipient="bob@customer.test",
                                              action="delivered", status="2.0.0", envid=envid),
                                  "customer.test", reporter="mx.customer.test"), "test")
    assert result.outcome == "matched" and db.session.get(StoredReport, result.report_id).method == "envid"
    assert status(sent_reply, "bob@customer.test") == "delivered"


def test_mdns_mark_read_only_for_recipients_and_forged_ones_change_nothing(app, sent_reply):
    mid = sent_reply.message_id
    assert ingest(mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                      original_message_id=mid, to=receipt_to(app, sent_reply, "alice@customer.test")),
                  "test").outcome == "matched"
    assert ingest(mdn(sender="Carol <carol@customer.test>", final_recipient="carol@customer.test",
                      original_message_id=mid, to=receipt_to(app, sent_reply, "carol@customer.test")),
                  "test").outcome == "matched"
    forged = ingest(mdn(sender="mallory@evil.test", final_recipient="mallory@evil.test",
                        original_message_id=mid), "test")
    assert forged.outcome == "suspect"
    assert "did not receive this message" in db.session.get(StoredReport, forged.report_id).reason
    assert [status(sent_reply, a) for a in ("alice@customer.test", "bob@customer.test", "carol@customer.test")] == \
        ["read", None, "read"]
    state = states_for([sent_reply])[sent_reply.id]
    assert state.state.value == "read-by-to"


def test_a_plain_read_notice_is_matched_by_in_reply_to(app, sent_reply, our_mx):
    """(Signed by bob's domain: sent to the general address, only that lets it count.)"""
    result = ingest(authenticated(read_notice(sender="Bob <bob@customer.test>", subject=sent_reply.subject,
                                              in_reply_to=sent_reply.message_id), "customer.test"), "test")
    assert result.outcome == "matched"
    assert status(sent_reply, "bob@customer.test") == "read"


def test_the_same_report_twice_changes_nothing_the_second_time(app, sent_reply):
    raw = mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
              original_message_id=sent_reply.message_id, to=receipt_to(app, sent_reply, "alice@customer.test"))
    first, second = ingest(raw, "test"), ingest(raw, "test")
    assert (first.outcome, second.outcome) == ("matched", "duplicate")
    info = message_read_info(sent_reply)
    alice = next(r for r in info.recipients if r.address == "alice@customer.test")
    assert [e.kind for e in alice.events] == ["mdn-displayed"]
    assert reapply(db.session.get(StoredReport, first.report_id)) == "matched"
    assert len(message_read_info(sent_reply).recipients[0].events) == 1


def test_a_reply_that_bounced_for_everyone_flags_and_reopens_its_ticket(app, desk):
    support, _, agent = desk
    support.reopen_on_bounce = True
    ticket = make_ticket(agent, support, requester="gone@customer.test", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="gone@customer.test")
    send_message(reply.id)
    assert ticket.status is TicketStatus.PENDING
    ingest(postfix_dsn(to=verp_address(app, reply.id, reply.recipients[0].id), recipient="gone@customer.test"), "t")
    assert ticket.attention == "A reply bounced for every recipient"
    assert ticket.status is TicketStatus.OPEN
    assert states_for([reply])[reply.id].state.value == "bounced"


def test_turning_receipts_off_hides_read_info_and_keeps_the_data(app, desk, sent_reply):
    ingest(mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
               original_message_id=sent_reply.message_id, to=receipt_to(app, sent_reply, "alice@customer.test")),
           "test")
    save_switches(set())
    assert message_read_info(sent_reply) is None and states_for([sent_reply]) == {}
    save_switches({desk[0].id})
    assert states_for([sent_reply])[sent_reply.id].state.value == "read-by-to"


def test_reports_about_no_message_of_ours_are_kept_as_unmatched(app, desk):
    result = ingest(mdn(sender="x@customer.test", final_recipient="x@customer.test",
                        original_message_id="never-sent@example.test"), "test")
    assert result.outcome == "unmatched"
    assert db.session.get(StoredReport, result.report_id).raw_sha256


@pytest.mark.parametrize("raw", [b"", b"garbage", b"From: a@b\r\nSubject: hello\r\n\r\nhi"])
def test_mail_that_is_no_report_is_kept_and_ignored(app, desk, raw):
    assert ingest(raw, "test").outcome == "ignored"


def test_report_times_never_precede_our_relays_acceptance(app, sent_reply):
    from datetime import timedelta

    from helpdesk.mail.transport import RecipientResult
    from helpdesk.signals import message_sent

    bob = next(r for r in sent_reply.recipients if r.address == "bob@customer.test")
    message_sent.send(app, message=sent_reply, transport="smtp",
                      results=[RecipientResult(r.address, True, code=250) for r in sent_reply.recipients])
    envid = db.session.get(TrackedMessage, sent_reply.id).envid
    # Report dates have whole seconds (and other servers' clocks drift): this one reads 20 s early.
    ingest(postfix_dsn(to=verp_address(app, sent_reply.id, bob.id), recipient=bob.address, action="delivered",
                       status="2.0.0", envid=envid, date=bob.accepted_at - timedelta(seconds=20)), "test")
    events = message_read_info(sent_reply).recipients[2].events
    assert [(e.kind, e.at) for e in events] == [("smtp-accepted", bob.accepted_at), ("dsn-delivered", bob.accepted_at)]


@pytest.mark.parametrize("code, diagnostic, expected, marked", [
    ("5.1.1", "smtp; 550 5.1.1 <x> User unknown", "bounced", True),
    ("5.2.2", "smtp; 552 5.2.2 Mailbox full", "bounced", False),  # final for this reply, the address lives
    ("4.2.2", "smtp; 452 4.2.2 Mailbox full, try later", "delayed", False),
])
def test_a_failure_bounces_by_its_status_class_and_marks_only_dead_addresses(app, sent_reply, code, diagnostic,
                                                                             expected, marked):
    address = verp_address(app, sent_reply.id, recipient_id(sent_reply, "bob@customer.test"))
    ingest(postfix_dsn(to=address, recipient="bob@customer.test", status=code, diagnostic=diagnostic), "test")
    assert status(sent_reply, "bob@customer.test") == expected
    bob = db.session.query(Contact).filter_by(email="bob@customer.test").one()
    assert (bob.undeliverable_since is not None) is marked


# ------------------------------------------------------------------ the undeliverable mark, by dates

def bob_bounced_then(app, desk, sent_reply, first_date):
    """A report that Bob's address bounced for ``sent_reply`` on ``first_date``, and a newer
    reply to him, sent."""
    support, _, agent = desk
    bounce = postfix_dsn(to=verp_address(app, sent_reply.id, recipient_id(sent_reply, "bob@customer.test")),
                         recipient="bob@customer.test", date=first_date)
    newer = make_reply(make_ticket(agent, support, channel=Channel.EMAIL), agent, to="bob@customer.test", cc="")
    send_message(newer.id)
    return bounce, newer


def soon() -> datetime:
    """A report date a little after the replies were sent (whole seconds, as in reports; a
    date before the sending or far in the future would not be believed)."""
    return (utcnow() + timedelta(minutes=10)).replace(microsecond=0)


def delivered_to_bob(app, reply, date):
    return postfix_dsn(to=verp_address(app, reply.id, recipient_id(reply, "bob@customer.test")),
                       recipient="bob@customer.test", action="delivered", status="2.0.0", date=date)


def bob():
    db.session.expire_all()
    return db.session.query(Contact).filter_by(email="bob@customer.test").one()


def test_mail_that_reaches_a_marked_address_later_lifts_the_mark(app, desk, sent_reply):
    bounced_on = soon()
    bounce, newer = bob_bounced_then(app, desk, sent_reply, bounced_on)
    ingest(bounce, "test")
    assert bob().undeliverable_since == bounced_on
    ingest(delivered_to_bob(app, newer, bounced_on - timedelta(minutes=5)), "test")  # dated before: nothing new
    assert bob().undeliverable_since == bounced_on
    ingest(delivered_to_bob(app, newer, bounced_on + timedelta(minutes=30)), "test")
    assert (bob().undeliverable_since, bob().undeliverable_reason) == (None, None)
    assert bob().reached_at == bounced_on + timedelta(minutes=30)


def test_a_read_receipt_after_the_bounce_lifts_the_mark_too(app, desk, sent_reply):
    bounced_on = soon()
    bounce, newer = bob_bounced_then(app, desk, sent_reply, bounced_on)
    ingest(bounce, "test")
    ingest(mdn(sender="bob@customer.test", final_recipient="bob@customer.test", original_message_id=newer.message_id,
               date=bounced_on + timedelta(minutes=20), to=receipt_to(app, newer, "bob@customer.test")), "test")
    assert bob().undeliverable_since is None


def test_an_old_bounce_arriving_after_a_newer_delivery_marks_nothing(app, desk, sent_reply):
    """Reports arrive out of order: the dates decide, in either order."""
    bounced_on = soon()
    bounce, newer = bob_bounced_then(app, desk, sent_reply, bounced_on)
    ingest(delivered_to_bob(app, newer, bounced_on + timedelta(minutes=30)), "test")
    ingest(bounce, "test")
    assert bob().undeliverable_since is None and bob().reached_at == bounced_on + timedelta(minutes=30)
