"""Read info end to end through the real Postfix and Dovecot (tests/mailstack).

A reply goes out over SMTP to a To, a CC and a BCC recipient and to an address that does not
exist. Postfix writes the real reports: success DSNs (the plugin asks NOTIFY=SUCCESS,FAILURE,
DELAY and the relay advertises DSN) and a failure DSN, each to the recipient's signed VERP
return path, which lands in bounces@'s INBOX. Two recipients send read receipts in the
formats real clients use (Thunderbird, Exchange), and a stranger sends a forged one. The
poller reads bounces@ over IMAPS; then the thread, the panel and the API show exactly what
happened, and the forged receipt changed nothing.
"""
from __future__ import annotations

import smtplib
from email import message_from_bytes

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel, Contact, SendState
from receipts_plugin.mailboxes import MailboxInput, save_mailbox
from receipts_plugin.models import StoredReport
from receipts_plugin.poller import poll_mailbox
from tests.helpers import login, make_reply, make_ticket, relay_config, stack_cafile
from tests.receipts.builders import exchange_mdn, mdn
from tests.receipts.pages import element, panel_rows, text

pytestmark = pytest.mark.mailstack

BOUNCES = "bounces@example.test"


@pytest.fixture
def app_config(app_config, clean_mailboxes):
    return {**app_config, **relay_config(clean_mailboxes), "MAIL_DOMAIN": "example.test", "RECEIPTS_ADDRESS": BOUNCES}


def submit(stack, sender: str, raw: bytes, to: str = BOUNCES) -> None:
    """Hand a client's bytes to our Postfix as that client's mail program would."""
    with smtplib.SMTP(stack.smtp_host, stack.smtp_port, timeout=10) as smtp:
        assert smtp.sendmail(sender, [to], raw) == {}


def receipt_address_in(stack, user: str) -> str:
    """Where ``user``'s mail program sends its receipt: their copy's Disposition-Notification-To."""
    [copy] = stack.fetch_all(user)
    return str(message_from_bytes(copy)["Disposition-Notification-To"])


def wait_for_count(stack, user: str, count: int) -> list[bytes]:
    stack.wait_for(user, "ALL")
    assert stack.settle(), stack.postfix_log()[-3000:]
    mail = stack.fetch_all(user)
    assert len(mail) == count, [message_from_bytes(m)["Subject"] for m in mail]
    return mail


def test_real_reports_and_receipts_become_read_info(app, client, clean_mailboxes, desk):
    stack = clean_mailboxes
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="Alice <alice@customer.test>", subject="Printer on fire",
                         channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="Alice <alice@customer.test>, nobody@customer.test",
                       cc="Bob <bob@customer.test>", bcc="Carol <carol@customer.test>", body="We are on it.")
    assert send_message(reply.id).state is SendState.SENT
    reply_id, ticket_id, message_id, subject = reply.id, ticket.id, reply.message_id, reply.subject

    # Postfix's own reports: three success DSNs and one failure DSN, all to VERP addresses.
    dsns = [message_from_bytes(raw) for raw in wait_for_count(stack, BOUNCES, 4)]
    assert sorted(m["Subject"] for m in dsns) == ["Successful Mail Delivery Report"] * 3 + [
        "Undelivered Mail Returned to Sender"]
    assert all(m["Delivered-To"].startswith("bounces+") for m in dsns)
    for user in ("alice", "bob", "carol"):
        assert len(stack.fetch_all(f"{user}@customer.test")) == 1

    # Receipts as real clients write them, sent over SMTP by the recipients' side to the
    # Disposition-Notification-To of their own copy; and a forgery.
    alice_to, carol_to = (receipt_address_in(stack, f"{user}@customer.test") for user in ("alice", "carol"))
    submit(stack, "alice@customer.test", mdn(sender="Alice <alice@customer.test>", final_recipient="alice@customer.test",
                                             original_message_id=message_id, to=alice_to), alice_to)
    submit(stack, "carol@customer.test", exchange_mdn(sender="carol@customer.test", display_name="Carol",
                                                      subject=subject, in_reply_to=message_id, to=carol_to), carol_to)
    submit(stack, "dave@customer.test", mdn(sender="Dave <dave@customer.test>", final_recipient="dave@customer.test",
                                            original_message_id=message_id, to=BOUNCES))
    wait_for_count(stack, BOUNCES, 7)

    mailbox = save_mailbox(None, MailboxInput(
        name="bounces", host=stack.imap_host, port=stack.imaps_port, security="ssl", username=BOUNCES,
        password=stack.password, cafile=stack_cafile(stack), folder="INBOX"))
    summary = poll_mailbox(mailbox)
    assert summary.error is None and summary.skipped is None, summary.line()
    assert summary.fetched == 7
    assert summary.kinds == {"dsn": 4, "mdn": 3}
    assert summary.outcomes == {"matched": 6, "suspect": 1}
    assert poll_mailbox(mailbox).fetched == 0  # nothing is read twice

    forged = db.session.query(StoredReport).filter_by(outcome="suspect").one()
    assert forged.from_address == "dave@customer.test" and "did not receive this message" in forged.reason
    matched = db.session.query(StoredReport).filter_by(outcome="matched").order_by(StoredReport.id)
    assert sorted((r.kind, r.from_address, r.method) for r in matched) == [
        ("dsn", "mailer-daemon@example.test", "verp-token")] * 4 + [
        ("mdn", "alice@customer.test", "verp-token"),  # Thunderbird, to alice's own address
        ("mdn", "carol@customer.test", "verp-token")]  # Exchange, to carol's
    nobody = db.session.query(Contact).filter_by(email="nobody@customer.test").one()
    assert "5.1.1" in nobody.undeliverable_reason

    login(client, agent)
    # The thread: read by a To recipient, with the partial-problem warning.
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    state = element(element(page, "article", f'id="message-{reply_id}"'), "a", 'class="rr-state')
    assert text(state) == "✓✓ Read by a To recipient ⚠ 1 not delivered"
    assert "Read by 2 of 4: alice@customer.test (To), carol@customer.test (BCC)." in state
    # The panel.
    rows = panel_rows(client.get(f"/messages/{reply_id}/read-info").get_data(as_text=True))
    assert {address: cells[1:3] for address, cells in rows.items()} == {
        "alice@customer.test": ["To", "Read"], "nobody@customer.test": ["To", "Bounced"],
        "bob@customer.test": ["CC", "Delivered"], "carol@customer.test": ["BCC", "Read"]}
    assert "User doesn't exist" in rows["nobody@customer.test"][5]
    assert rows["bob@customer.test"][3] != "—" and rows["bob@customer.test"][4] == "—"
    # The API.
    data = client.get(f"/api/v1/messages/{reply_id}/read-info").get_json()
    assert data["state"]["state"] == "read-by-to" and data["state"]["partial_problem"] is True
    assert {r["address"]: r["status"] for r in data["recipients"]} == {
        "alice@customer.test": "read", "nobody@customer.test": "bounced",
        "bob@customer.test": "delivered", "carol@customer.test": "read"}
    kinds = {r["address"]: [e["kind"] for e in r["events"]] for r in data["recipients"]}
    assert kinds == {"alice@customer.test": ["smtp-accepted", "dsn-delivered", "mdn-displayed"],
                     "nobody@customer.test": ["smtp-accepted", "dsn-failed"],
                     "bob@customer.test": ["smtp-accepted", "dsn-delivered"],
                     "carol@customer.test": ["smtp-accepted", "dsn-delivered", "mdn-displayed"]}
    states = client.get(f"/api/v1/tickets/{ticket_id}/read-states").get_json()
    assert states["messages"][str(reply_id)]["state"] == "read-by-to"
