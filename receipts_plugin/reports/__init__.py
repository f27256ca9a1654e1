"""Parser of delivery reports, read receipts, auto-replies and feedback reports.

``parse_report(raw_bytes)`` returns a :class:`Report`; it never raises. ``parse_mailbox``
reads each message of an mbox file.
"""
from .model import KINDS, MdnInfo, OriginalRefs, RecipientLine, Report
from .parser import parse_mailbox, parse_report

__all__ = ["KINDS", "MdnInfo", "OriginalRefs", "RecipientLine", "Report", "parse_mailbox", "parse_report"]
