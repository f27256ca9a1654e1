"""File sizes as an agent reads them (the attachment list, the download links in mail)."""
import pytest

from helpdesk.formats import file_size


@pytest.mark.parametrize("size, shown", [
    (0, "0 bytes"), (1, "1 byte"), (12, "12 bytes"), (1023, "1023 bytes"),
    (1024, "1.0 KB"), (1536, "1.5 KB"), (10 * 1024, "10 KB"), (340 * 1024 + 100, "340 KB"),
    (1024 * 1024 - 1, "1.0 MB"),  # not "1024 KB"
    (int(2.34 * 1024 * 1024), "2.3 MB"), (5 * 1024 ** 3, "5.0 GB"), (3 * 1024 ** 5, "3072 TB"),
])
def test_file_sizes_read_as_people_expect(size, shown):
    assert file_size(size) == shown
