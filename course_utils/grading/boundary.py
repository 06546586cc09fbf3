"""The one gate for untrusted bytes: sandbox events and submission files.

Introduced in the chapter "Instructor guide". Everything the grader reads from
a sandbox or from a submission passes through here before any other code sees
it, and the only exception that leaves this module is :class:`BoundaryError`.
Sizes, nesting depth and the number of containers are checked by a scan that
does not recurse, before ``json.loads`` runs; integers of more than 30 digits
and the constants ``NaN`` and ``Infinity`` are refused while parsing; every
index is checked against what the grader asked for, and only expected keys
are kept.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
from dataclasses import dataclass

import nbformat
from nbformat.v4.nbjson import JSONReader

MAX_EVENT_BYTES = 8 * 2**20
MAX_EVENT_DEPTH = 40
MAX_EVENT_CONTAINERS = 20_000
MAX_INT_DIGITS = 30
MAX_NUMBER_CHARACTERS = 64
MAX_TEXT_CHARACTERS = 400
MAX_ARRAY_DIMENSIONS = 8
MAX_ARRAY_ELEMENTS = 1_000_000
MAX_VALUE_DEPTH = 8
MAX_SUBMISSION_BYTES = 20 * 2**20
MAX_NOTEBOOK_DEPTH = 64
MAX_NOTEBOOK_CONTAINERS = 200_000
SUPPORTED_NBFORMAT = 4
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SPELLED_NUMBERS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
MAX_FILE_NAME_BYTES = 160  # well under the 255 of common file systems
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# The same, less the newline and the tab that multi-line text keeps.
LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
# Every line of a feedback file starts with the grader's own words, so untrusted
# text never starts a block; escaping the inline constructs is enough.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*{}\[\]<>#|~!&$])")


class BoundaryError(ValueError):
    """Untrusted input that the grader refuses; the message says why.

    Introduced in the chapter "Instructor guide".
    """


@dataclass(frozen=True)
class Event:
    """One checked event from a sandbox.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    kind : str
        ``cell``, ``cell_error``, ``ready``, ``case``, ``result`` or ``done``.
    index : int or None
        The cell or case index, checked against what was asked for.
    value : object
        A decoded return value (``result`` events without an error).
    error : str or None
        An escaped, single-line, bounded error text.
    """

    kind: str
    index: int | None = None
    value: object = None
    error: str | None = None


def check_structure(data: bytes, max_depth: int, max_containers: int) -> None:
    """Refuse JSON text nested deeper than ``max_depth`` or with too many containers.

    Introduced in the chapter "Instructor guide". A loop over the brackets
    outside strings, so that hostile nesting never reaches a recursive parser.

    Parameters
    ----------
    data : bytes
    max_depth, max_containers : int

    Raises
    ------
    BoundaryError
    """
    depth = containers = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            containers += 1
            if depth > max_depth:
                raise BoundaryError(f"nested deeper than {max_depth} levels")
            if containers > max_containers:
                raise BoundaryError(f"more than {max_containers} lists or objects")
        elif token in (b"]", b"}"):
            depth -= 1


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BoundaryError(f"an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise BoundaryError("a number written with too many characters")
    return float(text)


def _refuse_constant(text: str) -> None:
    raise BoundaryError(f"the constant {text} is not JSON")


def parse_json(data: bytes, max_depth: int, max_containers: int) -> object:
    """Parse untrusted JSON text after checking its structure.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    data : bytes
    max_depth, max_containers : int

    Returns
    -------
    object

    Raises
    ------
    BoundaryError
        For anything that is not small, shallow, standard JSON.
    """
    import json

    check_structure(data, max_depth, max_containers)
    try:
        return json.loads(data.decode("utf-8"), parse_int=_bounded_int,
                          parse_float=_bounded_float, parse_constant=_refuse_constant)
    except BoundaryError:
        raise
    except Exception as error:  # any parser failure is the input's fault
        raise BoundaryError(f"not valid JSON ({type(error).__name__})") from None


def encodable_text(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot encode) as ``\\udXXX``.

    Introduced in the chapter "Instructor guide". Every sanitizer of untrusted
    text ends with it, so that what it returns can be written to any file.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def bounded_text(text: object, limit: int, cut_note: str = "",
                 controls: re.Pattern | None = None) -> str:
    """Untrusted text made safe to keep: controls replaced, cut, encodable.

    Introduced in the chapter "Instructor guide". Every sanitizer of untrusted
    text is this one with its own options: :func:`clean_text` (one line),
    ``pages.escape`` (HTML), ``written.bounded_text`` (multi-line answers).

    Parameters
    ----------
    text : object
    limit : int
        At most this many characters of ``text`` are kept.
    cut_note : str, default ""
        Appended when ``text`` was cut.
    controls : re.Pattern, optional
        Characters replaced by a space (none when omitted).

    Returns
    -------
    str
    """
    text = str(text)
    if controls is not None:
        text = controls.sub(" ", text)
    if len(text) > limit:
        text = text[:limit] + cut_note
    return encodable_text(text)


def clean_text(text: object, limit: int = MAX_TEXT_CHARACTERS) -> str:
    """One line of at most ``limit`` characters, with control characters replaced.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : object
    limit : int

    Returns
    -------
    str
    """
    return bounded_text(text, limit, controls=_CONTROL_CHARACTERS)


def markdown_text(text: object, limit: int = MAX_TEXT_CHARACTERS) -> str:
    """``text`` as one line of Markdown that renders literally.

    Introduced in the chapter "Instructor guide". Every Markdown special
    character is escaped, so untrusted text cannot start a heading, a list, a
    link or an HTML tag in a feedback file.

    Parameters
    ----------
    text : object
    limit : int

    Returns
    -------
    str
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", clean_text(text, limit))


def printable_name(name: str) -> str:
    """A folder name as text that SQLite and a CSV file accept, and that maps back.

    Introduced in the chapter "Instructor guide". The name's bytes are written
    as they are where they spell a printable character, except that a
    backslash is doubled; every other byte (a byte that is not UTF-8, or a byte
    of a control or other unprintable character) becomes ``\\xHH``. So the
    mapping is reversible (:func:`folder_name`): two different folders never
    get the same name.

    Parameters
    ----------
    name : str
        As returned by ``os.listdir``.

    Returns
    -------
    str
    """
    raw = name.encode("utf-8", "surrogateescape")
    parts = []
    for char in raw.decode("utf-8", "surrogateescape"):
        if char == "\\":
            parts.append("\\\\")
        elif char.isprintable():
            parts.append(char)
        else:
            parts.extend(f"\\x{byte:02x}" for byte in
                         char.encode("utf-8", "surrogateescape"))
    return "".join(parts)


_NAME_ESCAPE = re.compile(r"\\(?:\\|x[0-9a-f]{2})")


def folder_name(printable: str) -> str:
    """The folder name (as ``os.listdir`` gives it) that :func:`printable_name` made.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    printable : str

    Returns
    -------
    str
    """
    raw, position = bytearray(), 0
    for match in _NAME_ESCAPE.finditer(printable):
        raw += printable[position:match.start()].encode()
        escape = match.group()
        raw += b"\\" if escape == "\\\\" else bytes([int(escape[2:], 16)])
        position = match.end()
    raw += printable[position:].encode()
    return os.fsdecode(bytes(raw))


# How a shortened name ends: see student_file_name.
_SHORTENED = re.compile(r"-[0-9a-f]{16}\Z")


def student_file_name(student: str) -> str:
    """The file name made from a student's recorded name, short enough for any path.

    Introduced in the chapter "Instructor guide". A name longer than
    ``MAX_FILE_NAME_BYTES`` (in UTF-8) keeps its start and gets a stable hash
    of the whole name, so two long names never share a folder. A short name
    that ends like a shortened one (``-`` and 16 hexadecimal digits) is
    shortened too: so no name, long or short, can take another's file name.

    Parameters
    ----------
    student : str
        The recorded name (see :func:`boundary.printable_name`).

    Returns
    -------
    str
    """
    if len(student.encode()) <= MAX_FILE_NAME_BYTES \
            and not _SHORTENED.search(student):
        return student
    digest = hashlib.sha256(student.encode()).hexdigest()[:16]
    start = student.encode()[:MAX_FILE_NAME_BYTES - 40].decode(errors="ignore")
    return f"{start}-{digest}"


# --- Sandbox events -------------------------------------------------------------


def decode_value(data: object, depth: int = 0) -> object:
    """Turn an encoded return value into dicts, lists, float arrays, floats and str.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    data : object
        As produced by ``runner.encode`` and parsed by :func:`parse_json`.
    depth : int
        Nesting level; deeper than 8 is refused.

    Returns
    -------
    object

    Raises
    ------
    BoundaryError
        If the data does not follow the encoding or exceeds a bound.
    """
    if depth > MAX_VALUE_DEPTH or not isinstance(data, dict):
        raise BoundaryError("not an encoded value")
    kind = data.get("type")
    items = data.get("items")
    if kind == "dict" and isinstance(items, dict):
        return {clean_text(key, 200): decode_value(item, depth + 1)
                for key, item in items.items()}
    if kind == "list" and isinstance(items, list):
        return [decode_value(item, depth + 1) for item in items]
    if kind == "array":
        return _decode_array(data.get("shape"), data.get("data"))
    if kind == "number":
        return _number(data.get("value"))
    if kind == "text" and (data.get("value") is None
                           or isinstance(data.get("value"), str)):
        value = data.get("value")
        return value if value is None else clean_text(value, MAX_TEXT_CHARACTERS)
    raise BoundaryError("unknown encoded type")


def _decode_array(shape: object, values: object):
    import numpy as np

    if (not isinstance(shape, list) or not isinstance(values, list)
            or len(shape) > MAX_ARRAY_DIMENSIONS
            or not all(type(size) is int and 0 <= size <= MAX_ARRAY_ELEMENTS
                       for size in shape)
            or len(values) > MAX_ARRAY_ELEMENTS
            or math.prod(shape) != len(values)):
        raise BoundaryError("array shape and data do not agree or are too large")
    return np.array([_number(value) for value in values], dtype=float).reshape(shape)


def _number(value: object) -> float:
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str) and value in _SPELLED_NUMBERS:
        return _SPELLED_NUMBERS[value]
    raise BoundaryError("not a number")


_EVENT_KEYS = {"cell": {"index"}, "cell_error": {"index", "error"},
               "ready": set(), "case": {"index"},
               "result": {"index", "value", "error"}, "done": set()}


def parse_event(line: bytes, index_limit: int) -> Event:
    """Check one event line from a sandbox and return it as an :class:`Event`.

    Introduced in the chapter "Instructor guide". The caller then checks that
    the event is the one it expects next (see :mod:`sandbox`).

    Parameters
    ----------
    line : bytes
        One line, without its newline.
    index_limit : int
        Indices must lie in ``range(index_limit)``.

    Returns
    -------
    Event

    Raises
    ------
    BoundaryError
    """
    if len(line) > MAX_EVENT_BYTES:
        raise BoundaryError("an event line is too long")
    data = parse_json(line, MAX_EVENT_DEPTH, MAX_EVENT_CONTAINERS)
    if not isinstance(data, dict) or data.get("event") not in _EVENT_KEYS:
        raise BoundaryError("not a known event")
    kind = data["event"]
    if set(data) - {"event"} - _EVENT_KEYS[kind]:
        raise BoundaryError(f"unexpected keys in a {kind} event")
    index = data.get("index")
    if "index" in _EVENT_KEYS[kind] and not (type(index) is int
                                             and 0 <= index < index_limit):
        raise BoundaryError(f"a {kind} event with an index out of range")
    if kind == "cell_error" or (kind == "result" and "error" in data):
        if not isinstance(data.get("error"), str) or "value" in data:
            raise BoundaryError(f"a {kind} event without an error text")
        return Event(kind, index, error=clean_text(data["error"]))
    if kind == "result":
        if "value" not in data:
            raise BoundaryError("a result without a value")
        return Event(kind, index, value=decode_value(data["value"]))
    return Event(kind, index)


# --- Submission files ------------------------------------------------------------


class SymlinkError(BoundaryError):
    """A submission path that is a symbolic link (never followed).

    Introduced in the chapter "Instructor guide".
    """


class TooLargeError(BoundaryError):
    """A submission file over the size limit.

    Introduced in the chapter "Instructor guide".
    """


def read_submission(directory_fd: int, name: str) -> bytes:
    """Read the regular file ``name`` in an open folder, never following a link.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    directory_fd : int
        The student's folder, opened with ``O_NOFOLLOW``.
    name : str

    Returns
    -------
    bytes
        At most :data:`MAX_SUBMISSION_BYTES`.

    Raises
    ------
    SymlinkError, TooLargeError, BoundaryError
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=directory_fd)
    except OSError as error:
        if _is_link(directory_fd, name):
            raise SymlinkError(f"{name} is a symbolic link") from None
        raise BoundaryError(f"{name} cannot be opened: {error.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BoundaryError(f"{name} is not a regular file")
        if info.st_size > MAX_SUBMISSION_BYTES:
            raise TooLargeError(f"{name} is {info.st_size} bytes; the limit is "
                                f"{MAX_SUBMISSION_BYTES}")
        data = handle.read(MAX_SUBMISSION_BYTES + 1)
    if len(data) > MAX_SUBMISSION_BYTES:
        raise TooLargeError(f"{name} grew over the limit of {MAX_SUBMISSION_BYTES} "
                            "bytes while it was read")
    return data


def _is_link(directory_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=directory_fd).st_mode)
    except OSError:
        return False


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """Parse a submission's bytes as an nbformat 4 notebook.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    data : bytes

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    BoundaryError
        For anything that is not a readable nbformat 4 notebook (any failure
        inside nbformat included).
    """
    if not data.strip():
        raise BoundaryError("the file is empty")
    content = parse_json(data, MAX_NOTEBOOK_DEPTH, MAX_NOTEBOOK_CONTAINERS)
    if not isinstance(content, dict):
        raise BoundaryError("it is not a JSON object")
    if content.get("nbformat") != SUPPORTED_NBFORMAT:
        raise BoundaryError(f"it is not an nbformat {SUPPORTED_NBFORMAT} notebook "
                            "(save it again with a current Jupyter)")
    cells = content.get("cells")
    if not isinstance(cells, list) or not all(isinstance(cell, dict)
                                              for cell in cells):
        raise BoundaryError("it has no list of cells")
    try:
        notebook = JSONReader().to_notebook(content)
        for cell in notebook.cells:
            if not isinstance(cell.get("source", ""), str):
                raise BoundaryError("a cell has no source text")
    except BoundaryError:
        raise
    except Exception as error:  # nbformat may raise anything on hostile input
        raise BoundaryError(f"nbformat cannot read it ({type(error).__name__})") \
            from None
    return notebook
