"""``python -m receipts_plugin.reports``: see :mod:`receipts_plugin.reports.cli`."""
import sys

from .cli import main

sys.exit(main())
