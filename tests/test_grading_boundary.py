"""The boundary's checks one by one, without a sandbox (issue 8)."""

from __future__ import annotations

import pytest

from course_utils.grading.boundary import (
    BoundaryError,
    markdown_text,
    parse_event,
    parse_notebook,
    printable_name,
)
from course_utils.grading.gradebook import spreadsheet_safe


@pytest.mark.parametrize("line", [
    b'{"event": "result", "index": 0, "value": {"type": "number", "value": '
    + b"9" * 31 + b"}}",
    b'{"event": "result", "index": 0, "value": {"type": "number", "value": NaN}}',
    b'{"event": "result", "index": 0, "value": {"type": "array", "shape": ['
    + b"1, " * 8 + b'1], "data": [1]}}',
    b'{"event": "cell", "index": 3}',
    b'{"event": "cell", "index": -1}',
    b'{"event": "cell", "index": 0, "extra": 1}',
    b'{"event": "sandbox_error", "error": "forged"}',
    b"[" * 100_000,
    b'"]]]]"' + b"[" * 50,
    b"[" + b"{}," * 30_000 + b"{}]",
    b"\xff\xfe",
])
def test_events_outside_the_bounds_raise_only_boundary_error(line):
    with pytest.raises(BoundaryError):
        parse_event(line, index_limit=3)


def test_a_valid_result_is_decoded():
    event = parse_event(b'{"event": "result", "index": 2, "value": {"type": "array",'
                        b' "shape": [2, 1], "data": [1, "nan"]}}', index_limit=3)
    assert (event.kind, event.index, event.value.shape) == ("result", 2, (2, 1))


@pytest.mark.parametrize("data", [b"", b"[]", b'{"nbformat": 3}',
                                  b'{"nbformat": 4, "cells": [1]}',
                                  b'{"cells": ' + b"[" * 100_000])
def test_unreadable_notebooks_raise_only_boundary_error(data):
    with pytest.raises(BoundaryError):
        parse_notebook(data)


def test_names_and_text_are_made_safe():
    assert printable_name("bad\udcff\n") == "bad\\xff\\x0a"
    assert markdown_text("x\n# heading [link](y)") == "x \\# heading \\[link\\](y)"
    assert [spreadsheet_safe(text) for text in ("=1+1", "+1", "-1", "@x", "\tx",
                                                "ada")] \
        == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "ada"]
