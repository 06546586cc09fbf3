"""Decode what a submission reported and compare it with the expected value.

Introduced in the chapter "Instructor guide". Runs only in the trusted grader.
Reported values arrive as plain JSON (see :func:`runner.encode`); they are
checked strictly and turned into NumPy arrays here, never unpickled, so no
object of the student's making (with, say, an ``__eq__`` that is always true)
ever takes part in a comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 8
MAX_ELEMENTS = 1_000_000
RELATIVE_TOLERANCE = 1e-7
ABSOLUTE_TOLERANCE = 1e-10
_SPELLED_NUMBERS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class MalformedValueError(ValueError):
    """Reported data that does not follow the encoding.

    Introduced in the chapter "Instructor guide".
    """


@dataclass(frozen=True)
class Comparison:
    """Whether a reported value matches, and a reason safe to show the student.

    Introduced in the chapter "Instructor guide".
    """

    passed: bool
    reason: str = ""


def decode(data: object, depth: int = 0) -> object:
    """Turn encoded JSON data into dicts, lists, float arrays, floats and str.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    data : object
        As produced by ``runner.encode`` and parsed by ``json.loads``.

    Returns
    -------
    object

    Raises
    ------
    MalformedValueError
        If the data does not follow the encoding.
    """
    if depth > MAX_DEPTH or not isinstance(data, dict):
        raise MalformedValueError("not an encoded value")
    kind = data.get("type")
    if kind == "dict" and isinstance(data.get("items"), dict):
        return {str(key): decode(item, depth + 1)
                for key, item in data["items"].items()}
    if kind == "list" and isinstance(data.get("items"), list):
        return [decode(item, depth + 1) for item in data["items"]]
    if kind == "array":
        return _decode_array(data)
    if kind == "number":
        return _number(data.get("value"))
    if kind == "text" and (data.get("value") is None or isinstance(data["value"], str)):
        return data["value"]
    raise MalformedValueError(f"unknown encoded type {kind!r}")


def _decode_array(data: dict) -> np.ndarray:
    shape, values = data.get("shape"), data.get("data")
    if (not isinstance(shape, list) or not isinstance(values, list)
            or not all(type(size) is int and size >= 0 for size in shape)
            or math.prod(shape) != len(values) or len(values) > MAX_ELEMENTS):
        raise MalformedValueError("array shape and data do not agree")
    return np.array([_number(value) for value in values], dtype=float).reshape(shape)


def _number(value: object) -> float:
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str) and value in _SPELLED_NUMBERS:
        return _SPELLED_NUMBERS[value]
    raise MalformedValueError("not a number")


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
            return Comparison(False, f"{where} should be a dict")
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing or extra:
            return Comparison(False, f"{where} has the wrong keys (missing: "
                                     f"{missing or 'none'}, "
                                     f"unexpected: {extra or 'none'})")
        for key in expected:
            result = compare(expected[key], actual[key], f"{key!r}")
            if not result.passed:
                return result
        return Comparison(True)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return Comparison(False, f"{where} should be a list of the right length")
        for position, (want, got) in enumerate(zip(expected, actual, strict=True)):
            result = compare(want, got, f"{where}[{position}]")
            if not result.passed:
                return result
        return Comparison(True)
    if isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            return Comparison(False, f"{where} should be a NumPy array")
        if actual.shape != expected.shape:
            return Comparison(False, f"{where} has the wrong shape {actual.shape}")
        return _close(expected, actual, where)
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return Comparison(False, f"{where} should be a number")
        return _close(np.array(expected), np.array(actual), where)
    if actual != expected or type(actual) is not type(expected):
        return Comparison(False, f"{where} has the wrong value")
    return Comparison(True)


def _close(expected: np.ndarray, actual: np.ndarray, where: str) -> Comparison:
    if np.allclose(actual, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE,
                   equal_nan=True):
        return Comparison(True)
    return Comparison(False, f"{where} has the wrong values")
