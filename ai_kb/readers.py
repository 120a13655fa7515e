"""What indexing reads: a stored file, counting how much of it was read (progress), and a
record's field as the text a passage shows."""

import io

from odoo.tools import html2plaintext


class CountingReader(io.RawIOBase):
    """Wraps a binary file to report how much of it was read (indexing progress)."""

    def __init__(self, raw, size):
        super().__init__()
        self.raw = raw
        self.size = max(size or 0, 1)
        self.done = 0

    def readable(self):
        return True

    def seekable(self):
        return self.raw.seekable()

    def seek(self, offset, whence=io.SEEK_SET):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()

    def read(self, size=-1):  # pylint: disable=method-required-super
        data = self.raw.read(size)
        self.done += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        self.raw.close()
        return super().close()

    @property
    def fraction(self):
        return min(self.done / self.size, 0.99)


def field_text(record, name):
    field = record._fields[name]
    value = record[name]
    if field.type in ("many2one", "many2many", "one2many"):
        return ", ".join(value.mapped("display_name")[:20])
    if field.type == "html":
        return html2plaintext(value or "").strip()
    if field.type == "boolean":
        return "yes" if value else "no"
    if field.type == "selection":
        return dict(field._description_selection(record.env)).get(value, value) if value else ""
    if value in (False, None, ""):
        return ""
    return str(value)
