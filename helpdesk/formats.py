"""How numbers read to people, shared by pages and the mail the desk writes."""
from __future__ import annotations

UNITS = ("KB", "MB", "GB", "TB")


def file_size(size: int) -> str:
    """A file's size as people read it: "12 bytes", "1 byte", "1.5 KB", "340 KB", "2.3 MB"
    (1 KB = 1024 bytes; one decimal below 10, none above), never "0.0 KB" for a small file."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value, unit = size / 1024, 0
    while round(value) >= 1024 and unit < len(UNITS) - 1:  # 1023.9 KB reads "1.0 MB", not "1024 KB"
        value, unit = value / 1024, unit + 1
    return f"{value:.1f} {UNITS[unit]}" if value < 9.95 else f"{value:.0f} {UNITS[unit]}"
