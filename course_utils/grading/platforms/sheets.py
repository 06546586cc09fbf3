"""The platforms' CSV gradebook files, read and changed cell by cell.

Documented on the page "Instructor guide". :func:`read_sheet` remembers where
each cell of a file lies, so that :meth:`Sheet.render` gives back the file's
bytes with only the changed cells different; :mod:`canvas` and :mod:`moodle`
decide which cells those are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

BOM = "\ufeff"
MAX_TEMPLATE_BYTES = 64 * 1024 * 1024


@dataclass
class Mark:
    """What to write for one student, by platform id.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    points : str or None
        The number to write; ``None`` leaves the template's cell as it is (a
        student without a submission, without ``--missing-as-zero``).
    comment : str
        The feedback comment (Moodle's ``Feedback comments``).
    """

    points: str | None
    comment: str


@dataclass
class Filled:
    """What a platform's filler changed in a template.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    column : str
        The header of the grade column filled.
    ids : list of str
        Platform ids of every student row found in the template.
    written : list of str
        Platform ids whose grade cell was written.
    notes : list of str
    kept : list of str
        Platform ids whose cells held another grade or comment already and
        were left as they were (Moodle without ``--overwrite``).
    """

    column: str
    ids: list[str]
    written: list[str]
    notes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # filled before; left alone


@dataclass
class Sheet:
    """A CSV file kept as written, with the place of every cell.

    Introduced in the chapter "Instructor guide". Cells are replaced in place
    (:meth:`set`); :meth:`render` gives back the original bytes with only
    those cells changed, so quoting, line ends, the delimiter and a UTF-8
    byte-order mark stay as the platform wrote them.

    Attributes
    ----------
    text : str
        The file's text, without a byte-order mark.
    bom : bool
    delimiter : str
        ``,`` or ``;`` (Canvas writes ``;`` in some locales;
        ``gradebook_importer.rb``, ``identify_delimiter``, reads both).
    rows : list of list of (int, int, str)
        Each cell's start and end offsets in ``text`` and its value.
    """

    text: str
    bom: bool
    delimiter: str
    rows: list[list[tuple[int, int, str]]]
    changes: dict[tuple[int, int], str] = field(default_factory=dict)

    def values(self, row: int) -> list[str]:
        """The values of one row."""
        return [cell[2] for cell in self.rows[row]]

    def set(self, row: int, column: int, value: str, quote_spaces: bool) -> None:
        """Replace one cell, quoted as the platform's CSV writer quotes.

        ``quote_spaces``: PHP's ``fputcsv`` (Moodle) also quotes a value with
        a space, tab or backslash; Ruby's CSV (Canvas) only one with the
        delimiter, a quote or a line end.
        """
        if column >= len(self.rows[row]):
            raise ValueError(f"template: row {row + 1} has {len(self.rows[row])} "
                             f"cells, fewer than the header")
        special = {self.delimiter, '"', "\r", "\n"}
        if quote_spaces:
            special |= {" ", "\t", "\\"}
        if any(character in value for character in special):
            value = '"' + value.replace('"', '""') + '"'
        self.changes[(row, column)] = value

    def render(self) -> bytes:
        """The file's bytes with the changed cells."""
        pieces, position = [], 0
        spans = sorted((self.rows[row][column][:2], raw)
                       for (row, column), raw in self.changes.items())
        for (start, end), raw in spans:
            pieces += [self.text[position:start], raw]
            position = end
        pieces.append(self.text[position:])
        return ((BOM if self.bom else "") + "".join(pieces)).encode("utf-8")


def read_sheet(path: Path) -> Sheet:
    """Read a platform's CSV file into a :class:`Sheet`.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    path : Path

    Returns
    -------
    Sheet
    """
    if not path.is_file():
        raise FileNotFoundError(f"template: {path} is not a file")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise ValueError(f"template: {path.name} is larger than "
                         f"{MAX_TEMPLATE_BYTES} bytes; not a gradebook file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"template: {path.name} is not UTF-8 (byte "
                         f"{error.start}); download it again as UTF-8") from None
    bom = text.startswith(BOM)
    text = text[1:] if bom else text
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return Sheet(text, bom, delimiter, _scan(text, delimiter))


def _scan(text: str, delimiter: str) -> list[list[tuple[int, int, str]]]:
    """Cells of RFC 4180 CSV with their spans; LF, CRLF or CR end a row."""
    rows: list[list[tuple[int, int, str]]] = []
    row: list[tuple[int, int, str]] = []
    position, length = 0, len(text)
    while position < length:
        start = position
        if text[position] == '"':
            parts, position = [], position + 1
            while True:
                close = text.find('"', position)
                if close < 0:
                    raise ValueError(f"template: a quoted cell opened at offset "
                                     f"{start} is never closed")
                parts.append(text[position:close])
                if text.startswith('""', close):
                    parts.append('"')
                    position = close + 2
                    continue
                position = close + 1
                break
            while position < length and text[position] not in (delimiter, "\r", "\n"):
                parts.append(text[position])
                position += 1
            value = "".join(parts)
        else:
            match = re.compile(f"[^{re.escape(delimiter)}\r\n]*").match(text, position)
            position = match.end()
            value = match.group()
        row.append((start, position, value))
        if position < length and text[position] == delimiter:
            position += 1
            if position == length:
                row.append((position, position, ""))
            continue
        if text.startswith("\r\n", position):
            position += 2
        elif position < length:
            position += 1
        rows.append(row)
        row = []
    if row:
        rows.append(row)
    return rows


def parse_number(text: str) -> float | None:
    """A number as a platform writes it (``9``, ``9.00``, ``9,00``), or ``None``.

    Introduced in the chapter "Instructor guide". A comma is read as the
    decimal separator when no point is present, as Canvas's importer does
    (``gradebook_importer.rb``, ``decimal_comma_to_period``) and Moodle's
    ``unformat_float``.

    Parameters
    ----------
    text : str

    Returns
    -------
    float or None
    """
    text = text.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def same_points(text: str, max_points: float) -> bool:
    """Whether a template's maximum is the assignment's, to the cent.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str
        The platform's cell (Canvas's ``Points Possible``, Moodle's
        ``Maximum Grade``).
    max_points : float

    Returns
    -------
    bool
    """
    value = parse_number(text)
    return value is not None and abs(value - max_points) < 0.005


