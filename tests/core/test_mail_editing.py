"""Helpers for personalisers (bodies and attachments of one recipient's copy) and absolute URLs."""
from email import message_from_bytes, policy
from email.policy import SMTP

from helpdesk.mail.compose import build_email
from helpdesk.mail.editing import append_to_bodies, remove_attachments
from helpdesk.services.tickets import ReplyDraft, UploadedFile, post_reply
from helpdesk.urls import external_url
from tests.helpers import make_agent, make_department, make_ticket


def reply_with_files(files):
    support = make_department("Support", "support@example.test")
    agent = make_agent(departments=[support])
    ticket = make_ticket(agent, support)
    return post_reply(ticket, agent, ReplyDraft(to="alice@customer.test", body="Here you are.\n", files=files))


def reparsed(mail):
    """What a recipient's client sees: the email written to bytes and read back."""
    return message_from_bytes(mail.as_bytes(policy=SMTP), policy=policy.default)


def test_text_and_html_additions_land_in_their_bodies(app):
    mail = build_email(reply_with_files([]), "Support")
    append_to_bodies(mail, "Files: https://x.test/d/1", '<p class="links">Files</p>')
    seen = reparsed(mail)
    text = seen.get_body(("plain",)).get_content()
    html = seen.get_body(("html",)).get_content()
    assert text.startswith("Here you are.") and text.rstrip().endswith("Files: https://x.test/d/1")
    assert html.index('<p class="links">Files</p>') < html.lower().index("</body>")
    assert '<p class="links">' not in text and "https://x.test/d/1" not in html


def test_attachments_are_taken_out_and_the_bodies_stay(app):
    files = [UploadedFile("report.pdf", "application/pdf", b"%PDF-1.4 one"),
             UploadedFile("photo.png", "image/png", b"\x89PNG two")]
    mail = build_email(reply_with_files(files), "Support")
    removed = remove_attachments(mail)
    assert [part.get_filename() for part in removed] == ["report.pdf", "photo.png"]
    assert removed[0].get_content() == b"%PDF-1.4 one"
    seen = reparsed(mail)
    assert list(seen.iter_attachments()) == []
    assert seen.get_body(("plain",)).get_content().strip() == "Here you are."
    assert seen.get_body(("html",)) is not None


def test_an_email_without_attachments_is_unchanged(app):
    mail = build_email(reply_with_files([]), "Support")
    before = mail.as_bytes()
    assert remove_attachments(mail) == []
    assert mail.as_bytes() == before


def test_external_urls_come_from_base_url_without_a_request(app):
    assert external_url("tickets.thread", ticket_id=7) == "http://127.0.0.1:5000/tickets/7"
    app.config["BASE_URL"] = "https://desk.example.com/help/"
    assert external_url("tickets.thread", ticket_id=7, _anchor="message-3") == \
        "https://desk.example.com/help/tickets/7#message-3"
