"""Download links: each recipient's own signed, expiring link; safe headers; clear pages for
bad links; download events in the panel; revoking; the department's link options."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import AgentRole
from receipts_plugin.models import RecipientStatusRow
from receipts_plugin.tokens import make_link_token, read_link_token
from receipts_plugin.tracking.links import DOWNLOAD_PURPOSE
from receipts_plugin.tracking.models import LinkOptions, LinkRevocation, MessageTracking, TrackingEvent
from tests.helpers import login, make_agent, post_form
from tests.receipts.tracking_helpers import (DESKTOP_CHROME, PDF, download_paths, install_clock, outbox_copies,
                                             pixel_paths, reply_with_file, switch_on)


@pytest.fixture
def clock(app):
    return install_clock(app)


@pytest.fixture
def sent(app, desk, clock):
    """A reply with file.pdf to alice (To), bob (CC) and carol (BCC), links and image on."""
    support, _, agent = desk
    switch_on(support)
    reply = reply_with_file(agent, support, bcc="carol@customer.test")
    send_message(reply.id)
    clock.advance(minutes=10)  # a person opens the mail later, not a scanner seconds after delivery
    return reply


def token_payload(app, path: str) -> tuple[int, ...]:
    token = path.rsplit("/", 1)[1]
    check = read_link_token(app.config["SECRET_KEY"], DOWNLOAD_PURPOSE, token, app.extensions["receipts_clock"]())
    assert check.ok, check.error
    return check.payload


def recipient(reply, address):
    return next(r for r in reply.recipients if r.address == address)


def test_each_copy_carries_its_own_links_instead_of_the_file(app, sent):
    copies = outbox_copies(app)
    assert set(copies) == {"alice@customer.test", "bob@customer.test", "carol@customer.test"}
    attachment = sent.attachments[0]
    all_links = set()
    for address, mail in copies.items():
        paths = download_paths(mail)
        assert len(paths) == 1, address
        assert token_payload(app, paths[0]) == (sent.id, recipient(sent, address).id, attachment.id)
        assert list(mail.iter_attachments()) == [], "links instead of the file"
        assert "file.pdf" in mail.get_body(("plain",)).get_content()
        assert paths[0] in mail.get_body(("html",)).get_content()
        all_links.add(paths[0])
    assert len(all_links) == 3  # nobody's copy carries another recipient's link
    tracking = db.session.get(MessageTracking, sent.id)
    assert tracking.download_links and tracking.open_tracking and not tracking.keep_attachments


def test_a_link_serves_the_file_with_safe_headers_and_records_who_downloaded_it(app, client, sent, clock):
    alice = recipient(sent, "alice@customer.test")
    path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    response = client.get(path, headers={"User-Agent": DESKTOP_CHROME})
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"] == "attachment; filename=file.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "no-store" in response.headers["Cache-Control"]
    events = db.session.scalars(db.select(TrackingEvent).where(TrackingEvent.kind == "download")).all()
    assert [(e.recipient_id, e.at) for e in events] == [(alice.id, clock.now)]
    assert db.session.get(RecipientStatusRow, alice.id) is None or \
        db.session.get(RecipientStatusRow, alice.id).status == "unknown"  # a download never changes the status


def test_the_panel_lists_each_download(app, client, sent, desk, clock):
    copies = outbox_copies(app)
    client.get(download_paths(copies["alice@customer.test"])[0], headers={"User-Agent": DESKTOP_CHROME})
    clock.advance(hours=2)
    client.get(download_paths(copies["bob@customer.test"])[0], headers={"User-Agent": DESKTOP_CHROME})
    login(client, desk[2])
    page = client.get(f"/messages/{sent.id}/read-info").get_data(as_text=True)
    assert "Alice downloaded file.pdf at" in page
    assert "bob@customer.test downloaded file.pdf at" in page
    assert page.index("Alice downloaded") < page.index("bob@customer.test downloaded")
    data = client.get(f"/api/v1/messages/{sent.id}/tracking").get_json()
    assert [(d["file"], d["recipient"], d["automated"]) for d in data["downloads"]] == [
        ("file.pdf", "alice@customer.test", False), ("file.pdf", "bob@customer.test", False)]
    assert data["download_links"] is True and data["links_revoked_at"] is None
    assert "Revoke this reply's links" in page


def test_a_link_scanner_is_listed_but_labelled(app, client, sent, desk):
    path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    assert client.get(path, headers={"User-Agent": "Barracuda Sentinel (EE)"}).status_code == 200
    login(client, desk[2])
    page = client.get(f"/messages/{sent.id}/read-info").get_data(as_text=True)
    assert "file.pdf was fetched from Alice's link by an automated fetch" in page
    assert "Alice downloaded" not in page


def bad_link_page(client, path):
    response = client.get(path, headers={"User-Agent": DESKTOP_CHROME})
    page = response.get_data(as_text=True)
    assert PDF not in response.data and "attachment" not in response.headers.get("Content-Disposition", "")
    for address in ("alice@", "bob@", "carol@"):
        assert address not in page, "a link page reveals no recipient"
    return response.status_code, page


def no_downloads():
    return db.session.scalars(db.select(TrackingEvent).where(TrackingEvent.kind == "download")).all() == []


def test_a_tampered_link_gets_a_clear_page(app, client, sent):
    path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    last = path[-1]
    tampered = path[:-1] + ("a" if last != "a" else "b")
    status, page = bad_link_page(client, tampered)
    assert status == 404 and "This download link is not valid" in page
    assert bad_link_page(client, "/download/garbage")[0] == 404
    assert no_downloads()


def test_alices_link_cannot_be_turned_into_bobs(app, client, sent):
    """Swapping the recipient inside alice's signed token breaks its signature."""
    alice_path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    token = alice_path.rsplit("/", 1)[1]
    message, _, attachment, expiry, mac = token.split(".")
    bob_id = recipient(sent, "bob@customer.test").id
    assert bob_id < 36  # one base-36 digit, as in the token
    forged = ".".join([message, "0123456789abcdefghijklmnopqrstuvwxyz"[bob_id], attachment, expiry, mac])
    assert forged != token
    status, page = bad_link_page(client, f"/download/{forged}")
    assert status == 404 and "not valid" in page
    assert no_downloads()


def test_a_signed_link_mixing_two_replies_gets_a_clear_page(app, client, sent, desk, clock):
    """Even a genuinely signed token is refused when its recipient and file belong to other replies."""
    support, _, agent = desk
    other = reply_with_file(agent, support, to="dave@customer.test", cc="")
    dave = other.recipients[0]
    token = make_link_token(app.config["SECRET_KEY"], DOWNLOAD_PURPOSE,
                            (sent.id, dave.id, sent.attachments[0].id), clock.now.replace(year=clock.now.year + 1))
    status, page = bad_link_page(client, f"/download/{token}")
    assert status == 404 and "not valid" in page
    assert no_downloads()


def test_an_expired_link_gets_a_clear_page(app, client, sent, clock):
    path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    clock.advance(days=31)  # the default lifetime is 30 days
    status, page = bad_link_page(client, path)
    assert status == 410 and "This download link has expired" in page
    assert no_downloads()


def test_an_agent_revokes_a_replys_links(app, client, sent, desk):
    path = download_paths(outbox_copies(app)["bob@customer.test"])[0]
    login(client, desk[2])
    response = post_form(client, f"/messages/{sent.id}/download-links/revoke", {},
                         page=f"/messages/{sent.id}/read-info")
    assert response.status_code == 302
    tracking = db.session.get(MessageTracking, sent.id)
    assert tracking.links_revoked_at is not None and tracking.links_revoked_by_id == desk[2].id
    status, page = bad_link_page(app.test_client(), path)  # the recipient is not signed in
    assert status == 410 and "This download link was withdrawn" in page
    assert no_downloads()
    assert "Links revoked" in client.get(f"/messages/{sent.id}/read-info").get_data(as_text=True)


def test_an_agent_revokes_one_recipients_links_and_the_others_keep_theirs(app, client, sent, desk):
    copies = outbox_copies(app)
    bob, alice = recipient(sent, "bob@customer.test"), recipient(sent, "alice@customer.test")
    login(client, desk[2])
    url = f"/messages/{sent.id}/recipients/{bob.id}/download-links/revoke"
    response = post_form(client, url, {}, page=f"/messages/{sent.id}/read-info")
    assert response.status_code == 302
    revoked = db.session.get(LinkRevocation, bob.id)
    assert (revoked.message_id, revoked.revoked_by_id) == (sent.id, desk[2].id)
    status, page = bad_link_page(app.test_client(), download_paths(copies["bob@customer.test"])[0])
    assert status == 410 and "This download link was withdrawn" in page
    still = app.test_client().get(download_paths(copies["alice@customer.test"])[0], headers={"User-Agent": DESKTOP_CHROME})
    assert still.status_code == 200 and still.data == PDF
    assert db.session.get(MessageTracking, sent.id).links_revoked_at is None  # the reply's links stand

    panel = client.get(f"/messages/{sent.id}/read-info").get_data(as_text=True)
    assert f"/messages/{sent.id}/recipients/{bob.id}/download-links/revoke" not in panel
    assert f"/messages/{sent.id}/recipients/{alice.id}/download-links/revoke" in panel
    assert "links revoked" in panel and "Revoke this reply's links" in panel
    data = client.get(f"/api/v1/messages/{sent.id}/tracking").get_json()
    assert {line["recipient"]: (line["revoked_at"] is not None, line["revoked_by"]) for line in data["links"]} == {
        "alice@customer.test": (False, None), "bob@customer.test": (True, desk[2].name),
        "carol@customer.test": (False, None)}

    again = post_form(client, url, {}, page=f"/messages/{sent.id}/read-info")
    assert again.status_code == 302
    assert "has no download links that could be revoked" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert db.session.query(LinkRevocation).count() == 1


def test_a_recipient_of_another_reply_cannot_be_revoked_through_this_one(app, client, sent, desk):
    support, _, agent = desk
    other = reply_with_file(agent, support, cc="")
    send_message(other.id)
    login(client, agent)
    response = post_form(client, f"/messages/{sent.id}/recipients/{other.recipients[0].id}/download-links/revoke", {})
    assert response.status_code == 404
    assert db.session.query(LinkRevocation).count() == 0


def test_only_agents_who_see_the_ticket_may_revoke(app, client, sent, desk):
    _, billing, _ = desk
    outsider = make_agent("outsider@example.test", [billing])
    login(client, outsider)
    response = post_form(client, f"/messages/{sent.id}/download-links/revoke", {})
    assert response.status_code == 404
    assert db.session.get(MessageTracking, sent.id).links_revoked_at is None


def test_revoking_needs_the_csrf_token(app, client, sent, desk):
    login(client, desk[2])
    assert client.post(f"/messages/{sent.id}/download-links/revoke").status_code == 400
    assert db.session.get(MessageTracking, sent.id).links_revoked_at is None


def test_links_beside_the_file_when_the_department_keeps_attachments(app, desk, clock):
    support, _, agent = desk
    switch_on(support, opens=False)
    db.session.add(LinkOptions(department_id=support.id, keep_attachments=True, link_days=7))
    db.session.commit()
    reply = reply_with_file(agent, support, cc="")
    send_message(reply.id)
    mail = outbox_copies(app)["alice@customer.test"]
    assert [part.get_filename() for part in mail.iter_attachments()] == ["file.pdf"]
    assert len(download_paths(mail)) == 1 and pixel_paths(mail) == []
    tracking = db.session.get(MessageTracking, reply.id)
    assert (tracking.links_expire_at - clock.now).days == 7


def test_nothing_changes_while_the_switches_are_off(app, desk):
    support, _, agent = desk
    reply = reply_with_file(agent, support, cc="")
    send_message(reply.id)
    mail = outbox_copies(app)["alice@customer.test"]
    assert [part.get_filename() for part in mail.iter_attachments()] == ["file.pdf"]
    assert download_paths(mail) == [] and pixel_paths(mail) == []
    assert db.session.get(MessageTracking, reply.id) is None


def test_a_retry_keeps_the_first_attempts_expiry(app, desk, clock):
    from helpdesk.mail.outgoing import send_due
    from helpdesk.models import DeliveryState, SendState

    support, _, agent = desk
    switch_on(support)
    reply = reply_with_file(agent, support, cc="")
    send_message(reply.id)
    first = db.session.get(MessageTracking, reply.id).links_expire_at
    reply.send_state, reply.next_attempt_at = SendState.QUEUED, None
    reply.recipients[0].delivery_state = DeliveryState.PENDING
    db.session.commit()
    clock.advance(days=2)
    send_due()
    assert db.session.get(MessageTracking, reply.id).links_expire_at == first


def test_link_options_page_checks_each_field(app, client, desk):
    support, _, _ = desk
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    login(client, admin)
    page = client.get("/admin/privacy/download-links").get_data(as_text=True)
    assert "Links instead of attached files" in page and "Support" in page
    prefix = f"d{support.id}-"
    bad = post_form(client, f"/admin/privacy/download-links/{support.id}",
                    {prefix + "mode": "beside", prefix + "link_days": "0"}, page="/admin/privacy/download-links")
    assert bad.status_code == 400 and "Links stay valid for 1 to 365 days." in bad.get_data(as_text=True)
    assert db.session.get(LinkOptions, support.id) is None
    good = post_form(client, f"/admin/privacy/download-links/{support.id}",
                     {prefix + "mode": "beside", prefix + "link_days": "14"}, page="/admin/privacy/download-links")
    assert good.status_code == 302
    options = db.session.get(LinkOptions, support.id)
    assert (options.keep_attachments, options.link_days) == (True, 14)
    assert client.get("/admin/privacy/download-links").status_code == 200


def test_agents_may_not_change_link_options(app, client, desk):
    login(client, desk[2])
    assert client.get("/admin/privacy/download-links").status_code == 403


CHROME_ON_A_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0.0.0 Safari/537.36")


def test_every_fetch_is_recorded_and_a_persons_download_is_never_swallowed_by_a_scanners(
        app, client, desk, clock):
    """What a mail gateway does: it fetches the link seconds after delivery; the recipient
    opens it in a browser half a minute later, and again. Each fetch is its own event,
    classified on its own, and the history says which file and who fetched it."""
    support, _, agent = desk
    switch_on(support, opens=False)
    reply = reply_with_file(agent, support, cc="")
    send_message(reply.id)
    alice = recipient(reply, "alice@customer.test")
    sent_at = alice.accepted_at.replace(second=0, microsecond=0)  # every fetch below falls in one minute
    alice.accepted_at = sent_at
    db.session.commit()
    path = download_paths(outbox_copies(app)["alice@customer.test"])[0]
    fetches = [(15, DESKTOP_CHROME), (33, CHROME_ON_A_MAC), (52, CHROME_ON_A_MAC), (88, CHROME_ON_A_MAC)]
    for seconds, agent_string in fetches:
        clock.set(sent_at + timedelta(seconds=seconds))
        assert client.get(path, headers={"User-Agent": agent_string}).status_code == 200

    events = db.session.scalars(db.select(TrackingEvent).where(TrackingEvent.kind == "download")
                                .order_by(TrackingEvent.at)).all()
    assert [(e.at - sent_at).total_seconds() for e in events] == [15, 33, 52, 88]
    assert [json.loads(e.detail)["rule"] for e in events] == ["seconds-after-delivery", "person", "person", "person"]
    login(client, agent)
    data = client.get(f"/api/v1/messages/{reply.id}/tracking").get_json()
    assert [d["automated"] for d in data["downloads"]] == [True, False, False, False]
    history = [e["label"] for e in client.get(f"/api/v1/messages/{reply.id}/read-info").get_json()["recipients"][0]
               ["events"] if e["kind"] == "download"]
    assert history == ["file.pdf fetched by an automated client, not a person: a scanner (fetched within 20 s of "
                       "delivery)", *["File downloaded: file.pdf (by a person, an estimate)"] * 3]
    page = client.get(f"/messages/{reply.id}/read-info").get_data(as_text=True)
    assert page.count("File downloaded: file.pdf (by a person, an estimate)") == 3
    assert page.count("Alice downloaded file.pdf at") == 3
