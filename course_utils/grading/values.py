"""Decode what a submission reported and compare it with the expected value.

Introduced in the chapter "Instructor guide". Runs only in the trusted grader.
Reported values arrive as plain JSON (see :func:`runner.encode`); they are
checked strictly and turned into NumPy arrays by :mod:`boundary`, never
unpickled, so no object of the student's making (with, say, an ``__eq__`` that
is always true) ever takes part in a comparison. A reason never quotes what the
student returned nor an expected value; it is for the instructor's report only,
since which key or entry failed depends on the hidden arguments. The student's
feedback shows only the kind of failure (``shape`` or ``value``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RELATIVE_TOLERANCE = 1e-7
ABSOLUTE_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Comparison:
    """Whether a reported value matches, and a reason safe to show the student.

    Introduced in the chapter "Instructor guide".
    """

    passed: bool
    reason: str = ""
    kind: str = ""  # for a failure: "shape" (type, shape, keys, length) or "value"


def compare(expected: object, actual: object, where: str = "the result") -> Comparison:
    """Compare a decoded reported value with the expected one.

    Introduced in the chapter "Instructor guide". Arrays must have the same
    shape and agree to a relative tolerance of 1e-7; dict keys must match.
    Reasons name what is wrong (a key, a shape, "wrong values") but never
    contain an expected value.

    Parameters
    ----------
    expected, actual : object
        Decoded values.
    where : str
        How to name the value in a reason.

    Returns
    -------
    Comparison
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return Comparison(False, f"{where} should be a dict", "shape")
        missing = sorted(set(expected) - set(actual))
        # Only whether there are unexpected keys: their names or number would
        # let a submission write what it likes into the feedback.
        extra = "some" if set(actual) - set(expected) else "none"
        if missing or extra != "none":
            return Comparison(False, f"{where} has the wrong keys (missing: "
                                     f"{missing or 'none'}, unexpected: {extra})",
                              "shape")
        for key in expected:
            result = compare(expected[key], actual[key], f"{key!r}")
            if not result.passed:
                return result
        return Comparison(True)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return Comparison(False, f"{where} should be a list of the right length",
                              "shape")
        for position, (want, got) in enumerate(zip(expected, actual, strict=True)):
            result = compare(want, got, f"{where}[{position}]")
            if not result.passed:
                return result
        return Comparison(True)
    if isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            return Comparison(False, f"{where} should be a NumPy array", "shape")
        if actual.shape != expected.shape:
            return Comparison(False, f"{where} has the wrong shape", "shape")
        return _close(expected, actual, where)
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return Comparison(False, f"{where} should be a number", "shape")
        return _close(np.array(expected), np.array(actual), where)
    if actual != expected or type(actual) is not type(expected):
        return Comparison(False, f"{where} has the wrong value", "value")
    return Comparison(True)


def _close(expected: np.ndarray, actual: np.ndarray, where: str) -> Comparison:
    if np.allclose(actual, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE,
                   equal_nan=True):
        return Comparison(True)
    return Comparison(False, f"{where} has the wrong values", "value")
