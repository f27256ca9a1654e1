"""Trust: a report marks a recipient only on evidence bound to that recipient (their signed
token, or a DKIM-authenticated From), never on the fields its sender writes. Everything else
is kept as unverified: in the recipient's history and on the health page, counted nowhere."""
from __future__ import annotations

import base64
import subprocess
from email import message_from_bytes
from pathlib import Path

import dkim
import pytest

from helpdesk.extensions import db
from helpdesk.models import Contact
from receipts_plugin.inbound.pipeline import ingest, reapply
from receipts_plugin.models import DeliveryEventRow, StoredReport, TrackedMessage
from receipts_plugin.read_info import message_read_info, states_for
from receipts_plugin.sending import receipt_address, verp_address
from tests.helpers import login
from tests.receipts.builders import exchange_mdn, mdn, postfix_dsn, read_notice
from tests.receipts.factories import relay_accepts
from tests.receipts.test_ingest import recipient_id, status

ALICE, BOB, CAROL, NOBODY = "alice@customer.test", "bob@customer.test", "carol@customer.test", "nobody@customer.test"
GENERAL = "receipts@desk.example.test"  # the general receipts address (no token)
OUR_MX = "mx.desk.example.test"


def copy_for(app, address: str):
    """The copy of the reply that ``address`` received (from the outbox)."""
    for path in Path(app.config["OUTBOX_DIR"]).glob("*.eml"):
        mail = message_from_bytes(path.read_bytes())
        if mail["X-Outbox-Envelope-To"] == address:
            return mail
    raise AssertionError(f"no copy for {address}")


def unverified_events(reply, address: str) -> list[DeliveryEventRow]:
    return [e for e in db.session.query(DeliveryEventRow).filter_by(recipient_id=recipient_id(reply, address))
            if e.kind.startswith("unverified-")]


@pytest.fixture
def sent_reply(app, sent_reply):
    """The reply, accepted by our relay for every recipient: "sent" until a report counts."""
    relay_accepts(app, sent_reply)
    return sent_reply


def reason_of(result) -> str:
    return db.session.get(StoredReport, result.report_id).reason


def test_each_copy_asks_for_receipts_at_its_recipients_own_signed_address(app, sent_reply):
    for recipient in sent_reply.recipients:
        mail = copy_for(app, recipient.address)
        assert mail["Disposition-Notification-To"] == receipt_address(app, sent_reply.id, recipient.id)
        assert mail["Disposition-Notification-To"].startswith("receipts+")
        # By default the same address as the return path, as RFC 8098 clients like it.
        assert mail["Disposition-Notification-To"] == verp_address(app, sent_reply.id, recipient.id)


def test_a_strangers_receipt_naming_a_to_recipient_marks_nobody_read(app, client, sent_reply, desk):
    forged = ingest(mdn(sender="mallory@evil.test", final_recipient=ALICE, original_message_id=sent_reply.message_id,
                        to=GENERAL), "test")
    assert forged.outcome == "suspect"
    assert "unverified for alice@customer.test" in reason_of(forged) and "not authenticated" in reason_of(forged)
    assert status(sent_reply, ALICE) == "sent"
    assert states_for([sent_reply])[sent_reply.id].state.value != "read-by-to"
    # Visible, and counted nowhere: in alice's history, on the health page.
    [event] = unverified_events(sent_reply, ALICE)
    assert event.kind == "unverified-mdn-displayed" and "mallory@evil.test" in event.detail
    login(client, desk[2])
    panel = client.get(f"/messages/{sent_reply.id}/read-info").get_data(as_text=True)
    assert "Not counted, unverified: read receipt: displayed" in panel and "mallory@evil.test" in panel


def test_a_receipt_spoofed_from_a_cc_recipient_marks_nobody_read(app, sent_reply):
    spoofed = [mdn(sender=f"Bob <{BOB}>", final_recipient=BOB, original_message_id=sent_reply.message_id, to=GENERAL),
               read_notice(sender=BOB, subject=sent_reply.subject, in_reply_to=sent_reply.message_id),
               exchange_mdn(sender=BOB, display_name="Bob", subject=sent_reply.subject,
                            in_reply_to=sent_reply.message_id, to=GENERAL)]
    assert [ingest(raw, "test").outcome for raw in spoofed] == ["suspect"] * 3
    assert status(sent_reply, BOB) == "sent"
    assert len(unverified_events(sent_reply, BOB)) == 3


def test_a_real_clients_receipt_to_its_own_receipt_address_marks_it_read(app, sent_reply):
    address = copy_for(app, CAROL)["Disposition-Notification-To"]
    honest = ingest(mdn(sender=f"Carol <{CAROL}>", final_recipient=CAROL, original_message_id=sent_reply.message_id,
                        to=address), "test")
    assert honest.outcome == "matched" and db.session.get(StoredReport, honest.report_id).method == "verp-token"
    assert status(sent_reply, CAROL) == "read"
    # A plain "Read:" notice and an Exchange one to their own addresses count too.
    bob = copy_for(app, BOB)["Disposition-Notification-To"]
    assert ingest(exchange_mdn(sender=BOB, display_name="Bob", subject=sent_reply.subject,
                               in_reply_to=sent_reply.message_id, to=bob), "test").outcome == "matched"
    assert status(sent_reply, BOB) == "read"


def test_a_forwardees_receipt_stays_suspect_even_at_the_recipients_address(app, sent_reply):
    # Alice passed her copy on; Frank's program answers to the address in it.
    address = copy_for(app, ALICE)["Disposition-Notification-To"]
    forwarded = ingest(mdn(sender="frank@elsewhere.test", final_recipient="frank@elsewhere.test",
                           original_message_id=sent_reply.message_id, to=address), "test")
    assert forwarded.outcome == "suspect" and "passed on" in reason_of(forwarded)
    assert status(sent_reply, ALICE) == "sent"
    [event] = unverified_events(sent_reply, ALICE)
    assert "frank@elsewhere.test" in event.detail
    # And to the general address, it names nobody who received the reply.
    assert ingest(mdn(sender="frank@elsewhere.test", final_recipient="frank@elsewhere.test",
                      original_message_id=sent_reply.message_id, to=GENERAL), "test").outcome == "suspect"


def test_a_receipt_at_one_recipients_address_for_another_marks_neither(app, sent_reply):
    address = copy_for(app, ALICE)["Disposition-Notification-To"]
    result = ingest(mdn(sender=BOB, final_recipient=BOB, original_message_id=sent_reply.message_id, to=address),
                    "test")
    assert result.outcome == "suspect"
    assert (status(sent_reply, ALICE), status(sent_reply, BOB)) == ("sent", "sent")


def test_a_strangers_delivery_report_without_a_token_changes_nothing(app, sent_reply):
    envid = db.session.get(TrackedMessage, sent_reply.id).envid
    delivered = ingest(postfix_dsn(to=GENERAL, recipient=BOB, action="delivered", status="2.0.0", envid=envid),
                       "test")
    assert delivered.outcome == "suspect" and status(sent_reply, BOB) == "sent"


def test_a_forged_bounce_does_not_mark_a_good_contact_undeliverable(app, sent_reply):
    forged = ingest(postfix_dsn(to=GENERAL, recipient=ALICE, original_message_id=sent_reply.message_id), "test")
    assert forged.outcome == "suspect"
    assert status(sent_reply, ALICE) == "sent"
    alice = db.session.query(Contact).filter_by(email=ALICE).one()
    assert alice.undeliverable_since is None
    [event] = unverified_events(sent_reply, ALICE)
    assert event.kind == "unverified-dsn-failed" and event.status_code == "5.1.1"


def test_a_delivery_report_to_a_recipients_return_path_counts_for_that_recipient_only(app, sent_reply):
    """Mail servers send reports to the return path, which only that recipient's copy carried:
    whoever writes to it had that copy (its servers, or someone it was passed on to), so it
    counts for that recipient, never for another one it names."""
    address = verp_address(app, sent_reply.id, recipient_id(sent_reply, CAROL))
    result = ingest(postfix_dsn(to=address, recipient=ALICE, action="delivered", status="2.0.0"), "test")
    assert result.outcome == "matched"
    assert (status(sent_reply, CAROL), status(sent_reply, ALICE)) == ("delivered", "sent")


# -- An authenticated sender: our own server's Authentication-Results --------------------------

def with_headers(raw: bytes, *fields: str) -> bytes:
    return "".join(f"{field}\r\n" for field in fields).encode() + raw


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RECEIPTS_TRUSTED_AUTHSERV_IDS": [OUR_MX]}


def alice_receipt(reply, sender: str = ALICE) -> bytes:
    return mdn(sender=f"Alice <{sender}>", final_recipient=sender, original_message_id=reply.message_id, to=GENERAL)


def test_a_receipt_whose_from_our_server_authenticated_counts(app, sent_reply):
    raw = with_headers(alice_receipt(sent_reply),
                       f"Authentication-Results: {OUR_MX}; dkim=pass header.d=customer.test header.s=s1; spf=none",
                       f"Received: from mx.customer.test by {OUR_MX}")
    assert ingest(raw, "test").outcome == "matched"
    assert status(sent_reply, ALICE) == "read"


@pytest.mark.parametrize("fields, why", [
    # The sender wrote our server's verdict further down; our server's own, on top, says no.
    ([f"Authentication-Results: {OUR_MX}; dkim=none", f"Received: from mx.evil.test by {OUR_MX}",
      f"Authentication-Results: {OUR_MX}; dkim=pass header.d=customer.test"], "forged below ours"),
    ([f"Authentication-Results: mx.evil.test; dkim=pass header.d=customer.test"], "not our server"),
    ([f"Authentication-Results: {OUR_MX}; dkim=pass header.d=evil.test"], "not aligned with the From"),
    ([f"Authentication-Results: {OUR_MX}; dkim=fail header.d=customer.test"], "failed"),
    ([f"Authentication-Results: {OUR_MX}; dkim=pass header.d=customer.test", "From: mallory@evil.test"],
     "two From fields"),
])
def test_a_receipt_is_not_authenticated_by_anything_else(app, sent_reply, fields, why):
    assert ingest(with_headers(alice_receipt(sent_reply), *fields), "test").outcome == "suspect", why
    assert status(sent_reply, ALICE) == "sent"


def test_an_authenticated_recipient_speaks_only_for_themselves(app, sent_reply):
    """Bob's own domain signed it, but it says Alice read it."""
    raw = with_headers(mdn(sender=BOB, final_recipient=ALICE, original_message_id=sent_reply.message_id, to=GENERAL),
                       f"Authentication-Results: {OUR_MX}; dkim=pass header.d=customer.test")
    assert ingest(raw, "test").outcome == "suspect"
    assert (status(sent_reply, ALICE), status(sent_reply, BOB)) == ("sent", "sent")


def test_a_bounce_signed_by_the_recipients_own_domain_counts(app, sent_reply):
    def bounce(reporter: str, signer: str) -> bytes:
        raw = postfix_dsn(to=GENERAL, recipient=NOBODY, original_message_id=sent_reply.message_id)
        return with_headers(raw.replace(b"MAILER-DAEMON@example.test", f"MAILER-DAEMON@{reporter}".encode()),
                            f"Authentication-Results: {OUR_MX}; dkim=pass header.d={signer}")

    # example.test's servers do not speak for customer.test's addresses.
    assert ingest(bounce("example.test", "example.test"), "test").outcome == "suspect"
    assert status(sent_reply, NOBODY) == "sent"
    assert ingest(bounce("mx.customer.test", "customer.test"), "test").outcome == "matched"
    assert status(sent_reply, NOBODY) == "bounced"


def test_reprocessing_after_the_setting_changes_applies_the_new_trust(app, sent_reply):
    raw = with_headers(alice_receipt(sent_reply), "Authentication-Results: mx2.desk.example.test; dkim=pass "
                                                  "header.d=customer.test")
    result = ingest(raw, "test")
    assert result.outcome == "suspect"
    app.config["RECEIPTS_TRUSTED_AUTHSERV_IDS"] = "mx.desk.example.test, mx2.desk.example.test"
    assert reapply(db.session.get(StoredReport, result.report_id)) == "matched"
    assert status(sent_reply, ALICE) == "read"
    info = message_read_info(sent_reply)
    alice = next(r for r in info.recipients if r.address == ALICE)
    assert [e.kind for e in alice.events] == ["smtp-accepted", "unverified-mdn-displayed", "mdn-displayed"]  # the history keeps both


# -- An authenticated sender: DKIM verified here (dkimpy, with the test's own DNS) -------------

@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory) -> tuple[bytes, str]:
    """A test key pair: the private key (PEM) and the public key as a DKIM TXT record's p=."""
    path = tmp_path_factory.mktemp("dkim") / "key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(path), "1024"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout
    return path.read_bytes(), base64.b64encode(public).decode()


def signed(raw: bytes, key: bytes, domain: str = "customer.test") -> bytes:
    return dkim.sign(raw, b"s1", domain.encode(), key, include_headers=[b"from", b"subject", b"date",
                                                                       b"message-id"]) + raw


@pytest.fixture
def dkim_app(app, dkim_key):
    looked_up = []

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        looked_up.append(name)
        return f"v=DKIM1; k=rsa; p={dkim_key[1]}".encode() if name.endswith(b"._domainkey.customer.test.") else None

    app.config.update(RECEIPTS_VERIFY_DKIM=True, RECEIPTS_DKIM_DNSFUNC=dns)
    return looked_up


def test_a_receipt_with_a_valid_dkim_signature_of_the_recipients_domain_counts(app, sent_reply, dkim_key, dkim_app):
    assert ingest(signed(alice_receipt(sent_reply), dkim_key[0]), "test").outcome == "matched"
    assert status(sent_reply, ALICE) == "read"
    assert dkim_app == [b"s1._domainkey.customer.test."]


def test_a_broken_or_foreign_dkim_signature_authenticates_nothing(app, sent_reply, dkim_key, dkim_app):
    good = signed(alice_receipt(sent_reply), dkim_key[0])
    tampered = good.replace(b"From: Alice <alice@customer.test>", b"From: Alice <carol@customer.test>")
    tampered = tampered.replace(b"Final-Recipient: rfc822;alice@", b"Final-Recipient: rfc822;carol@")
    foreign = signed(alice_receipt(sent_reply), dkim_key[0], domain="evil.test")  # evil.test's key is unknown
    assert [ingest(raw, "test").outcome for raw in (tampered, foreign)] == ["suspect", "suspect"]
    assert (status(sent_reply, ALICE), status(sent_reply, CAROL)) == ("sent", "sent")


def test_reports_with_a_token_need_no_dns_lookup(app, sent_reply, dkim_key, dkim_app):
    address = copy_for(app, ALICE)["Disposition-Notification-To"]
    raw = signed(mdn(sender=ALICE, final_recipient=ALICE, original_message_id=sent_reply.message_id, to=address),
                 dkim_key[0])
    assert ingest(raw, "test").outcome == "matched" and dkim_app == []
