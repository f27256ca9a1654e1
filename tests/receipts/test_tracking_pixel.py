"""The open-tracking image: always a GIF, records only genuine tokens, shown as a labelled
estimate, told apart from automated fetches, and never changes a check mark."""
from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.models import RecipientStatusRow
from receipts_plugin.read_info import states_for
from receipts_plugin.sending import verp_address
from receipts_plugin.tracking.models import TrackingEvent
from receipts_plugin.tracking.pixel import TRANSPARENT_GIF, open_token
from tests.helpers import login, make_reply, make_ticket
from tests.receipts.builders import postfix_dsn
from tests.receipts.tracking_helpers import (DESKTOP_CHROME, GMAIL_PROXY, install_clock, outbox_copies,
                                             pixel_paths, switch_on)


@pytest.fixture
def clock(app):
    return install_clock(app)


@pytest.fixture
def tracked(app, desk, clock):
    """A reply to alice (To) and bob (CC) with the open image on and download links off."""
    support, _, agent = desk
    switch_on(support, links=False)
    ticket = make_ticket(agent, support, requester="Alice <alice@customer.test>", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="Alice <alice@customer.test>", cc="bob@customer.test")
    send_message(reply.id)
    clock.advance(hours=1)
    return reply


def pixel_of(app, address):
    paths = pixel_paths(outbox_copies(app)[address])
    assert len(paths) == 1
    return paths[0]


def events(kind=None):
    query = db.select(TrackingEvent).order_by(TrackingEvent.id)
    if kind:
        query = query.where(TrackingEvent.kind == kind)
    return db.session.scalars(query).all()


def assert_gif(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/gif"
    assert response.data == TRANSPARENT_GIF and response.data.startswith(b"GIF8")
    assert "no-store" in response.headers["Cache-Control"]


def test_the_image_is_only_in_each_copys_html_and_names_that_recipient(app, tracked):
    copies = outbox_copies(app)
    paths = {address: pixel_of(app, address) for address in copies}
    assert len(set(paths.values())) == 2
    for mail in copies.values():
        assert "/open/" not in mail.get_body(("plain",)).get_content()


def test_a_person_opening_it_is_recorded_as_an_estimate(app, client, tracked, desk, clock):
    alice = next(r for r in tracked.recipients if r.address == "alice@customer.test")
    assert_gif(client.get(pixel_of(app, "alice@customer.test"), headers={"User-Agent": DESKTOP_CHROME}))
    [event] = events()
    assert (event.kind, event.recipient_id, event.at) == ("pixel-open", alice.id, clock.now)
    login(client, desk[2])
    page = client.get(f"/messages/{tracked.id}/read-info").get_data(as_text=True)
    assert "Opened <span class=\"rr-estimate\">(an estimate)</span>" in page
    assert "opened (estimate)" in page
    assert "Opens come from a tracking image, so they are only an estimate" in page


def test_a_gmail_proxy_fetch_shows_as_an_automated_fetch(app, client, tracked, desk):
    assert_gif(client.get(pixel_of(app, "bob@customer.test"), headers={"User-Agent": GMAIL_PROXY}))
    [event] = events()
    assert event.kind == "pixel-automated"
    login(client, desk[2])
    page = client.get(f"/messages/{tracked.id}/read-info").get_data(as_text=True)
    bob_line = page[page.index('data-rr-opens="bob@customer.test"'):]
    bob_line = bob_line[:bob_line.index("</li>")]
    assert "opened by an automated fetch" in bob_line and "Gmail&#39;s image proxy" in bob_line
    assert "opened (estimate)" not in bob_line
    data = client.get(f"/api/v1/messages/{tracked.id}/tracking").get_json()
    assert data["opens_are_estimates"] is True and data["open_tracking"] is True and data["downloads"] == []
    bob = next(o for o in data["opens"] if o["recipient"] == "bob@customer.test")
    assert bob["estimated_opens"] == 0 and [f["label"] for f in bob["automated_fetches"]] == ["Gmail's image proxy"]


def test_the_api_hides_tracking_while_the_department_hides_read_info(app, client, tracked, desk):
    from receipts_plugin.settings import save_switches

    login(client, desk[2])
    assert client.get(f"/api/v1/messages/{tracked.id}/tracking").status_code == 200
    save_switches(set())
    assert client.get(f"/api/v1/messages/{tracked.id}/tracking").status_code == 404
    assert client.get(f"/messages/{tracked.id}/read-info").status_code == 404


def test_a_fetch_seconds_after_delivery_is_a_scanner(app, client, desk, clock):
    support, _, agent = desk
    switch_on(support, links=False)
    reply = make_reply(make_ticket(agent, support, channel=Channel.EMAIL), agent)
    send_message(reply.id)
    clock.advance(seconds=3)
    client.get(pixel_of(app, "alice@customer.test"), headers={"User-Agent": DESKTOP_CHROME})
    [event] = events()
    assert event.kind == "pixel-automated" and '"rule": "seconds-after-delivery"' in event.detail


@pytest.mark.parametrize("mangle", [
    lambda path: "/open/garbage.gif",
    lambda path: path[:-5] + ("a" if path[-5] != "a" else "b") + ".gif",  # tampered signature
    lambda path: path.replace("/open/", "/open/1"),  # malformed
], ids=["garbage", "tampered", "malformed"])
def test_a_bad_token_still_gets_the_image_but_records_nothing(app, client, tracked, mangle):
    path = pixel_of(app, "alice@customer.test")
    assert_gif(client.get(mangle(path), headers={"User-Agent": DESKTOP_CHROME}))
    assert events() == []


def test_an_expired_or_foreign_token_records_nothing(app, client, tracked, clock):
    path = pixel_of(app, "alice@customer.test")
    clock.advance(days=91)  # RECEIPTS_OPEN_TRACKING_DAYS = 90
    assert_gif(client.get(path, headers={"User-Agent": DESKTOP_CHROME}))
    bob = next(r for r in tracked.recipients if r.address == "bob@customer.test")
    foreign = open_token(app.config["SECRET_KEY"], tracked.id + 1, bob.id, clock.now.replace(year=clock.now.year + 1))
    assert_gif(client.get(f"/open/{foreign}.gif", headers={"User-Agent": DESKTOP_CHROME}))
    assert events() == []


def test_the_same_fetch_twice_in_a_minute_counts_once(app, client, tracked, clock):
    path = pixel_of(app, "alice@customer.test")
    client.get(path, headers={"User-Agent": DESKTOP_CHROME})
    clock.advance(seconds=1)
    client.get(path, headers={"User-Agent": DESKTOP_CHROME})
    clock.advance(minutes=5)
    client.get(path, headers={"User-Agent": DESKTOP_CHROME})
    assert len(events("pixel-open")) == 2


def check_marks(reply):
    db.session.expire_all()
    state = states_for([reply])[reply.id]
    statuses = {r.address: (row.status if (row := db.session.get(RecipientStatusRow, r.id)) else "unknown")
                for r in reply.recipients}  # no row yet reads as "unknown", as in read_info
    return state.state.value, state.checks, statuses


def test_opens_never_change_a_check_mark(app, client, tracked):
    before = check_marks(tracked)
    for address in ("alice@customer.test", "bob@customer.test"):
        client.get(pixel_of(app, address), headers={"User-Agent": DESKTOP_CHROME})
    assert len(events("pixel-open")) == 2
    after = check_marks(tracked)
    assert after == before
    assert after[0] == "not-sent" and after[1] == 0 and set(after[2].values()) == {"unknown"}


def test_opens_never_make_a_delivered_reply_read(app, client, tracked):
    alice = next(r for r in tracked.recipients if r.address == "alice@customer.test")
    ingest(postfix_dsn(to=verp_address(app, tracked.id, alice.id), recipient=alice.address, action="delivered",
                       status="2.0.0", original_message_id=tracked.message_id), "test")
    delivered = check_marks(tracked)
    assert delivered[0] == "delivered" and delivered[1] == 1
    client.get(pixel_of(app, alice.address), headers={"User-Agent": DESKTOP_CHROME})
    assert check_marks(tracked) == delivered
