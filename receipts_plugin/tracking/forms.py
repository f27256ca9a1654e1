"""Forms of the tracking pages: shape and CSRF only; the services check the meaning."""
from __future__ import annotations

from helpdesk.plugin_api import Form, options
from wtforms import BooleanField, IntegerField, RadioField
from wtforms.validators import Optional

DELIVERY_CHOICES = [("immediate", "Immediately (within a minute of the receipt arriving)"),
                    ("digest", "As a digest at the end of my working hours")]
LINK_MODE_CHOICES = [("instead", "Links instead of attached files"), ("beside", "Links beside the attached files")]


class PreferencesForm(Form):
    notify_read = BooleanField("Tell me when a recipient reads my reply")
    notify_bounce = BooleanField("Tell me when a reply of mine bounced for every recipient (always immediately)")
    delivery = RadioField("Send read notifications", choices=options(DELIVERY_CHOICES), default="immediate")
    digest_days = IntegerField("A digest covers the last … days (1 to 7)", default=1, validators=[Optional()])


class LinkOptionsForm(Form):
    mode = RadioField("Files go out as", choices=options(LINK_MODE_CHOICES), default="instead")
    link_days = IntegerField("Links stay valid for … days", default=30, validators=[Optional()])
