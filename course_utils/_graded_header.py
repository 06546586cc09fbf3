"""The ``# GRADED FUNCTION: name (N points)`` line that opens a graded cell.

One rule for everybody who reads it: the release (which requires the full
header in the source notebook), the grader (which finds a student's cell by
the name in it, whatever the points text says) and the students' self-checks
(which warn when the grader could not find the cell by its header).
"""

from __future__ import annotations

import re

# The source notebook's header: the name and the points, nothing else.
STRICT = re.compile(r"^#\s*GRADED FUNCTION:\s*(?P<name>[A-Za-z_]\w*)\s*"
                    r"\((?P<points>\d+(?:\.\d+)?)\s*points?\)\s*$")
# A student's header: the name, even when the points text was edited or dropped.
LOOSE = re.compile(r"^#\s*GRADED FUNCTION:\s*(?P<name>[A-Za-z_]\w*)")


def header_name(source: str) -> str | None:
    """The function a cell's header names, or None if it has no header.

    Parameters
    ----------
    source : str
        The cell's source; its first non-blank line is the header.

    Returns
    -------
    str or None
    """
    first_line = str(source).lstrip().split("\n", 1)[0]
    match = LOOSE.match(first_line)
    return match["name"] if match else None
