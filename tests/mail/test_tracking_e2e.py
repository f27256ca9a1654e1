"""Downloads, open estimates and notifications end to end through the real Postfix and Dovecot."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel, SendState
from helpdesk.services.tickets import ReplyDraft, UploadedFile, post_reply
from receipts_plugin.models import Mailbox
from receipts_plugin.poller import poll_all
from receipts_plugin.settings import save_switches
from receipts_plugin.tracking.notifications import PreferencesInput, notification_job, save_preferences
from tests.helpers import login, make_ticket, stack_cafile
from tests.receipts.builders import mdn
from tests.receipts.tracking_helpers import (DESKTOP_CHROME, GMAIL_PROXY, PDF, download_paths, install_clock,
                                             pixel_paths)

pytestmark = pytest.mark.mailstack


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RECEIPTS_ADDRESS": "bounces@example.test"}


def only_copy(stack, user, subject):
    stack.wait_for(user, ["SUBJECT", subject])
    [raw] = stack.fetch_all(user)
    return message_from_bytes(raw, policy=policy.default)


def test_links_opens_and_a_read_notification_through_the_mail_stack(app, stack, desk):
    support, agent = desk
    clock = install_clock(app)
    save_switches({support.id}, open_tracking={support.id}, download_links={support.id})
    save_preferences(agent, PreferencesInput(True, False, "immediate", 1), clock.now)
    ticket = make_ticket(agent, support, requester="Alice <alice@customer.test>", channel=Channel.EMAIL)
    reply = post_reply(ticket, agent, ReplyDraft(to="Alice <alice@customer.test>", cc="bob@customer.test",
                                                 body="Here is the file.",
                                                 files=[UploadedFile("file.pdf", "application/pdf", PDF)]))
    assert send_message(reply.id).state is SendState.SENT

    subject = f"[HD-{ticket.id}]"
    alice_copy = only_copy(stack, "alice@customer.test", subject)
    bob_copy = only_copy(stack, "bob@customer.test", subject)
    alice_links, bob_links = download_paths(alice_copy), download_paths(bob_copy)
    assert len(alice_links) == len(bob_links) == 1 and alice_links != bob_links
    for mine, theirs in ((alice_copy, bob_links[0]), (bob_copy, alice_links[0])):
        assert theirs not in mine.as_string() and list(mine.iter_attachments()) == []
        assert len(pixel_paths(mine)) == 1
    assert pixel_paths(alice_copy) != pixel_paths(bob_copy)

    recipient_side = app.test_client()  # no sign-in: the link is all a recipient has
    clock.advance(minutes=12)
    download = recipient_side.get(alice_links[0], headers={"User-Agent": DESKTOP_CHROME})
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == "attachment; filename=file.pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    clock.advance(minutes=3)
    image = recipient_side.get(pixel_paths(bob_copy)[0], headers={"User-Agent": GMAIL_PROXY})
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/gif"

    client = app.test_client()
    login(client, agent)
    panel = client.get(f"/messages/{reply.id}/read-info").get_data(as_text=True)
    assert "Alice downloaded file.pdf at" in panel
    bob_line = panel[panel.index('data-rr-opens="bob@customer.test"'):]
    assert "opened by an automated fetch" in bob_line[:bob_line.index("</li>")]
    assert "opened (estimate)" not in panel

    # Alice's program answers to the Disposition-Notification-To of her copy (bounces+TOKEN@).
    receipt_address = str(alice_copy["Disposition-Notification-To"])
    assert receipt_address.startswith("bounces+")
    receipt = message_from_bytes(mdn(sender="Alice <alice@customer.test>", final_recipient="alice@customer.test",
                                     original_message_id=reply.message_id, to=receipt_address),
                                 policy=policy.default)
    stack.send(receipt, envelope_from="alice@customer.test", recipients=[receipt_address])
    stack.wait_for("bounces@example.test", ["SUBJECT", "Return Receipt"])
    db.session.add(Mailbox(name="receipts", host=stack.imap_host, port=stack.imaps_port, security="ssl",
                           username="bounces@example.test", password=stack.password, cafile=stack_cafile(stack)))
    db.session.commit()
    [summary] = poll_all()
    assert summary.error is None and summary.kinds["mdn"] == 1, summary.line()

    clock.advance(seconds=30)
    assert notification_job().sent == 1
    notice = only_copy(stack, "agent@example.test", "read your reply")
    assert notice["Auto-Submitted"] == "auto-generated"
    assert notice["Disposition-Notification-To"] is None
    text = notice.get_body(("plain",)).get_content()
    assert "Alice <alice@customer.test> (TO) read your reply." in text
    assert f"http://127.0.0.1:5000/tickets/{ticket.id}#message-{reply.id}" in text
    stack.settle()
    assert len(stack.fetch_all("agent@example.test")) == 1
    assert notification_job().sent == 0
