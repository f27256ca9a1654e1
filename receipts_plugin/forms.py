"""The mailbox form (shape only; the mailbox service checks the meaning)."""
from __future__ import annotations

from helpdesk.plugin_api import Form, options
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

SECURITY_CHOICES = [("ssl", "IMAPS (TLS from the start, port 993)"), ("starttls", "STARTTLS (port 143)"),
                    ("none", "Plain, unencrypted (only on a trusted network)")]


class MailboxForm(Form):
    name = StringField("Name", validators=[Length(max=100)])
    host = StringField("IMAP host", validators=[Length(max=255)])
    port = IntegerField("Port", default=993, validators=[Optional(), NumberRange(1, 65535)])
    security = SelectField("Connection security", choices=options(SECURITY_CHOICES), default="ssl")
    allow_plain = BooleanField("Yes, allow an unencrypted connection to this server")
    username = StringField("User name", validators=[Length(max=320)])
    password = PasswordField("Password", description="Leave empty to keep the current one.")
    password_file = StringField("…or a file holding the password", validators=[Length(max=500)],
                                description="Its name in the secrets directory (HELPDESK_SECRETS_DIR).")
    cafile = StringField("CA file (for a private certificate authority)", validators=[Length(max=500)],
                         description="Its name in the secrets directory (HELPDESK_SECRETS_DIR).")
    verify_cert = BooleanField("Check the server's certificate", default=True)
    folder = StringField("Folder to read", default="INBOX", validators=[Length(max=255)])
    processed_folder = StringField("Move processed mail to", description="Empty: flag processed mail instead.",
                                   validators=[Length(max=255)])
    enabled = BooleanField("Poll this mailbox", default=True)
