"""Parser of delivery reports, read receipts, auto-replies and feedback reports.

``parse_report(raw_bytes)`` returns a :class:`Report`; it never raises.
"""
from .model import KINDS, MdnInfo, OriginalRefs, RecipientLine, Report
from .parser import parse_report

__all__ = ["KINDS", "MdnInfo", "OriginalRefs", "RecipientLine", "Report", "parse_report"]
