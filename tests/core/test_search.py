"""Full-text search over subjects and message bodies, on the database's own full-text search
(PostgreSQL tsvector, SQLite FTS5), through the one service function and the list page."""
from __future__ import annotations

import random
import re
import string

import pytest

from helpdesk.demo import load_demo
from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound
from helpdesk.models import Agent, AgentRole, Message, MessageDirection, Ticket
from helpdesk.services.search import Term, parse_terms, snippet_markup
from helpdesk.services.tickets import list_tickets
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket


def found(agent, text: str) -> list[int]:
    return [t.id for t in list_tickets(agent, search=text, per_page=100).tickets]


def test_a_phrase_in_every_demo_body_finds_every_demo_ticket(app):
    """Before full-text search, a search looked at subjects and requesters only: a phrase from
    the mail everyone sent found nothing."""
    load_demo(36)
    admin = db.session.scalar(db.select(Agent).where(Agent.email == "admin@example.com"))
    messages = [(m.ticket_id, f"{m.subject} {m.text_body}".lower()) for m in db.session.scalars(db.select(Message))]
    for phrase in ("blocking our team", '"Could you have a look"', '"quick answer"', "fixed confirm", "colleague confirm"):
        words = phrase.strip('"').lower().split()
        expected = {ticket for ticket, text in messages  # every word in one message (its subject counts)
                    if (" ".join(words) in text if phrase.startswith('"') else all(w in text for w in words))}
        assert set(found(admin, phrase)) == expected, phrase
        assert expected or phrase == "colleague confirm"  # said in different replies: not one message
    assert len(found(admin, "blocking our team")) == 36


@pytest.fixture
def desk(app):
    support, billing = make_department("Support"), make_department("Billing")
    agent = make_agent("sam@example.test", [support])
    return support, billing, agent


def test_ranked_subject_first_then_how_often_with_the_best_messages_snippet(desk):
    support, billing, agent = desk
    once = make_ticket(agent, support, subject="Login trouble", body="The turbine report failed once.")
    often = make_ticket(agent, support, subject="Exports", body="Turbine one, turbine two: every turbine report fails.")
    subject = make_ticket(agent, support, subject="Turbine dashboard", body="See the subject.")
    make_ticket(agent, support, subject="Unrelated", body="Nothing to see.")
    page = list_tickets(agent, search="turbine")
    assert [t.id for t in page.tickets] == [subject.id, often.id, once.id]
    assert page.total == 3 and subject.id not in page.snippets  # its subject matched, no message did
    assert "<mark>turbine</mark> report failed once" in page.snippets[once.id]  # engines cut fragments alike, not equally


def test_every_word_in_one_message_or_in_the_subject(desk):
    support, billing, agent = desk
    ticket = make_ticket(agent, support, subject="Invoice wrong", body="Please send a refund.")
    make_reply(ticket, agent, body="The duplicate charge is cancelled.")
    assert found(agent, "invoice refund") == [ticket.id]  # the first message's subject is the ticket's
    assert found(agent, "duplicate invoice") == [ticket.id]  # a reply carries "Re: [HD-1] Invoice wrong"
    assert found(agent, "refund duplicate") == []  # in two different messages


def test_words_stem_phrases_keep_their_order_and_a_star_asks_for_a_prefix(desk):
    support, billing, agent = desk
    printer = make_ticket(agent, support, subject="Office", body="The printers replied with errors.")
    other = make_ticket(agent, support, subject="Office annex", body="Errors replied the printers.")
    assert set(found(agent, "printer reply")) == {printer.id, other.id}  # stems, any order
    assert found(agent, '"printers replied"') == [printer.id]
    assert set(found(agent, "print*")) == {printer.id, other.id} and found(agent, "print") == []
    assert found(agent, "PRINTERS replied ERRORS office") != []
    assert set(found(agent, "offi")) == {printer.id, other.id}  # a subject as typed so far
    assert found(agent, "offi ann") == [other.id] and found(agent, "ffice") == []


def test_html_only_mail_is_searched_as_text(desk):
    support, billing, agent = desk
    raw = (b"From: alice@customer.test\r\nTo: support@example.test\r\nSubject: Broken\r\nMessage-ID: <h@customer.test>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>The <b>flux</b> capacitor is <i>broken</i>.</p>\r\n")
    ticket_id = process_inbound(raw, "test").ticket_id
    page = list_tickets(agent, search="flux capacitor")
    assert [t.id for t in page.tickets] == [ticket_id]
    assert "<mark>flux</mark> <mark>capacitor</mark> is broken" in page.snippets[ticket_id]  # no tags


def test_an_html_only_message_stored_without_text_is_indexed_from_its_html(desk):
    support, billing, agent = desk
    ticket = make_ticket(agent, support, subject="Phone", body="placeholder")
    message = ticket.messages[0]
    message.text_body, message.html_body = "", "<p>The <b>gearbox</b> rattles.</p>"
    db.session.commit()
    assert found(agent, "gearbox") == [ticket.id] and found(agent, "placeholder") == []


def test_the_index_follows_edits_and_deletions(desk):
    support, billing, agent = desk
    ticket = make_ticket(agent, support, subject="Old subject", body="An ancient body.")
    assert found(agent, "ancient") == [ticket.id]
    ticket.subject, ticket.messages[0].text_body = "Fresh subject", "A modern body."
    db.session.commit()
    assert found(agent, "fresh") == [ticket.id] and found(agent, "old") == [ticket.id]  # its message's subject
    ticket.messages[0].subject = "Fresh subject"
    db.session.commit()
    assert found(agent, "ancient") == [] and found(agent, "modern") == [ticket.id] and found(agent, "fresh") == [ticket.id]
    assert found(agent, "old") == []
    db.session.delete(ticket)
    db.session.commit()
    keeper = make_ticket(agent, support, subject="Keeper", body="A modern body.")
    assert found(agent, "modern") == [keeper.id]


def test_agents_find_only_their_departments_tickets(desk):
    support, billing, agent = desk
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    mine = make_ticket(agent, support, body="Zebra crossing")
    theirs = make_ticket(admin, billing, body="Zebra invoice")
    assert found(agent, "zebra") == [mine.id]
    assert set(found(admin, "zebra")) == {mine.id, theirs.id}
    assert found(agent, f"HD-{theirs.id}") == []


def test_a_reference_finds_its_ticket_alone_and_a_number_finds_its_ticket_first(desk):
    support, billing, agent = desk
    tickets = [make_ticket(agent, support, subject=f"Ticket {n}") for n in range(3)]
    target = tickets[1]
    mentions = make_ticket(agent, support, body=f"See HD-{target.id} and ticket {target.id}.")
    make_reply(tickets[0], agent, body=f"Re HD-{target.id}")
    assert found(agent, f"HD-{target.id}") == [target.id] and found(agent, f"[hd-{target.id}]") == [target.id]
    assert found(agent, str(target.id))[0] == target.id and mentions.id in found(agent, str(target.id))


def test_the_search_narrows_the_other_filters_and_pages(desk):
    support, billing, agent = desk
    for n in range(5):
        make_ticket(agent, support, subject=f"Case {n}", body="kangaroo")
    make_ticket(agent, support, subject="No", body="wallaby")
    first = list_tickets(agent, search="kangaroo", per_page=2)
    second = list_tickets(agent, search="kangaroo", per_page=2, page=2)
    last = list_tickets(agent, search="kangaroo", per_page=2, page=9)  # past the end: the last page
    assert (first.total, first.pages, len(first.tickets)) == (5, 3, 2)
    assert {t.id for t in first.tickets}.isdisjoint(t.id for t in second.tickets)
    assert (last.page, len(last.tickets)) == (3, 1)
    assert list_tickets(agent, search="kangaroo", assignee="mine").total == 0
    assert list_tickets(agent, search="wallaby kangaroo").total == 0


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR NOT", "*", "a*b*", "body:x", "NEAR(a b)", "'; DROP TABLE x --",
                                   '"" ""', "^start", "col : x", "\\", "-x", "+y", "(", ")", "{x}", "😀 emoji"])
def test_any_text_is_a_query_and_never_an_error(desk, query):
    support, billing, agent = desk
    make_ticket(agent, support, subject="AND OR NOT", body="x y body start emoji")
    list_tickets(agent, search=query)  # no exception, whatever the engine's own query syntax


def test_query_terms():
    assert parse_terms('invoice "sent twice" refund* e-mail % -- ""') == [
        Term("invoice"), Term("sent twice"), Term("refund", prefix=True), Term("e-mail")]
    assert parse_terms("a*b*") == [Term("a*b*")]  # a star inside a word: no prefix, the word as typed
    assert len(parse_terms(" ".join(string.ascii_lowercase))) == 12


def test_the_snippet_is_escaped_and_only_our_marks_are_markup():
    hostile = "<script>alert(1)</script> \x02invoice\x03 \x03 \x02\x02 <img src=x onerror=y>"
    markup = snippet_markup(hostile)
    assert markup == ("&lt;script&gt;alert(1)&lt;/script&gt; <mark>invoice</mark>  <mark> "
                      "&lt;img src=x onerror=y&gt;</mark>")


def test_a_hostile_body_comes_back_escaped_in_the_list(desk, client):
    support, billing, agent = desk
    make_ticket(agent, support, subject="Hostile", body='<script>window.pwned=1</script> if 1 < 2 & "x" > 0 marmot '
                                                         '<b onclick=x>')
    login(client, agent)
    page = client.get("/?q=marmot").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page).group(1)
    assert "<mark>marmot</mark>" in snippet
    assert not re.search(r"[<>\"]", re.sub(r"</?mark>", "", snippet))  # the body's own markup only as text
    assert "&lt; 2 &amp; &#34;x&#34; &gt; 0" in snippet and "<script>" not in page


def test_a_huge_body_is_stored_and_its_start_searched(desk):
    """A tsvector holds at most 1 MB: only the first 200,000 characters are indexed, so a
    million characters of distinct words are stored, not refused."""
    support, billing, agent = desk
    rng = random.Random(3)
    words = " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(100_000))
    ticket = make_ticket(agent, support, body="okapi " + words)
    assert len(db.session.get(Ticket, ticket.id).messages[0].text_body) > 999_000
    assert found(agent, "okapi") == [ticket.id]
    assert found(agent, words[-9:]) == []  # past the indexed start
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)
                             .where(Message.direction == MessageDirection.INBOUND)) == 1
