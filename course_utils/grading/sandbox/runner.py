"""Runs one submission's code and reports what its graded functions return.

Introduced in the chapter "Instructor guide". Started as a script
(``python -I -S runner.py HEADER_FD EVENTS_FD COMMANDS_FD``) inside the
sandbox, as the sandbox user. It executes the submission's setup and graded
cells in one namespace, then calls each graded function with the hidden
tests' arguments, which arrive one call at a time, and writes every return
value, encoded as plain JSON, to an events pipe. It never sees an expected
value and never decides whether anything passed: the trusted grader compares
what it reports. Everything here can be tampered with by the code it runs; that
only ever changes what this submission reports about itself.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator

MAX_ELEMENTS = 1_000_000
MAX_DEPTH = 8


class DiscardingWriter(io.TextIOBase):
    """A text stream that drops everything (student output).

    Introduced in the chapter "Instructor guide".
    """

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


class NotGradableError(TypeError):
    """A return value that cannot be encoded for grading.

    Introduced in the chapter "Instructor guide".
    """


def encode(value: object, depth: int = 0) -> dict:
    """Encode a return value as JSON-ready data: dicts, lists, arrays, scalars.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    value : object
        What a graded function returned. Only plain dicts with str keys,
        lists, tuples, numeric NumPy arrays and scalars, str and None qualify.
    depth : int
        Nesting level (values nested deeper than 8 are refused).

    Returns
    -------
    dict
        ``{"type": ..., ...}``, as :func:`course_utils.grading.boundary.decode_value`
        reads it.
    """
    import numpy as np

    if depth > MAX_DEPTH:
        raise NotGradableError("the returned value is nested too deeply")
    if type(value) is dict:
        return {"type": "dict", "items": {_key(key): encode(item, depth + 1)
                                          for key, item in dict.items(value)}}
    if type(value) in (list, tuple):
        return {"type": "list", "items": [encode(item, depth + 1) for item in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        if value.size > MAX_ELEMENTS:
            raise NotGradableError("the returned array is too large")
        data = np.asarray(value, dtype=float)
        return {"type": "array", "shape": list(data.shape),
                "data": [_float(item) for item in data.ravel().tolist()]}
    if type(value) in (bool, int, float) or (isinstance(value, np.generic)
                                             and value.dtype.kind in "biuf"):
        return {"type": "number", "value": _float(float(value))}
    if value is None or type(value) is str:
        return {"type": "text", "value": value}
    raise NotGradableError(f"returned an object of type {type(value).__name__}, which "
                      "cannot be graded; return a dict, list, number or NumPy array")


def _key(key: object) -> str:
    if type(key) is not str:
        raise NotGradableError("dictionary keys must be str")
    return key


def _float(number: float) -> float | str:
    # JSON has no inf or nan; spell them out.
    return number if math.isfinite(number) else repr(number)


class EventWriter:
    """Writes one JSON object per line to the events pipe.

    Introduced in the chapter "Instructor guide".
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def emit(self, **event: object) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


def run_cells(cells: list[dict], skip: set[int], namespace: dict,
              events: EventWriter) -> None:
    """Execute the cells in one namespace, reporting each start and error.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    cells : list of dict
        ``{"label", "source"}``.
    skip : set of int
        Cells not to run (they hung or crashed in an earlier attempt).
    namespace : dict
        The globals the cells share.
    events : EventWriter
    """
    for index, cell in enumerate(cells):
        if index in skip:
            continue
        events.emit(event="cell", index=index)
        try:
            exec(compile(cell["source"], f"<{cell['label']}>", "exec"), namespace)
        except BaseException as error:  # a student's cell may raise anything
            events.emit(event="cell_error", index=index, error=_describe(error))


def read_cases(commands_fd: int) -> Iterator[dict]:
    """Yield the hidden calls the grader sends, one line at a time.

    Introduced in the chapter "Instructor guide". The grader sends the next
    call only after it has read the result of the previous one, so no more than
    one call's arguments is ever inside the sandbox. The stream ends with an
    empty line or when the grader closes the pipe.

    Parameters
    ----------
    commands_fd : int

    Yields
    ------
    dict
        ``{"index", "function", "args", "kwargs"}``.
    """
    with os.fdopen(commands_fd, "rb", buffering=0) as commands:
        while True:
            line = commands.readline()
            if not line.strip():
                return
            yield json.loads(line)


def run_cases(cases: Iterable[dict], namespace: dict, events: EventWriter) -> None:
    """Call each graded function with a hidden test's arguments; report the result.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    cases : iterable of dict
        ``{"index", "function", "args", "kwargs"}``, as :func:`read_cases`
        yields them.
    namespace : dict
        Where the cells defined the functions.
    events : EventWriter
    """
    for case in cases:
        index = case["index"]
        events.emit(event="case", index=index)
        function = namespace.get(case["function"])
        if not callable(function):
            events.emit(event="result", index=index,
                        error=f"NameError: {case['function']} is not defined")
            continue
        try:
            value = encode(function(*case["args"], **case["kwargs"]))
        except BaseException as error:  # the function under test may raise anything
            events.emit(event="result", index=index, error=_describe(error))
        else:
            events.emit(event="result", index=index, value=value)


def _silence_output() -> None:
    """Point file descriptors 1 and 2 at /dev/null (student output is dropped)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def main(header_fd: int, events_fd: int, commands_fd: int) -> None:
    """Run the job whose header (cells, skipped cells, import path) is on ``header_fd``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    header_fd : int
        A file (memfd) with the job as JSON: ``cells``, ``skip_cells``,
        ``sys_path``.
    events_fd : int
        Where events are written.
    commands_fd : int
        Where the hidden calls arrive, one at a time.
    """
    _silence_output()
    with os.fdopen(header_fd, "rb") as handle:
        job = json.loads(handle.read())
    sys.path[:0] = job["sys_path"]
    events = EventWriter(events_fd)
    sys.stdout = sys.stderr = DiscardingWriter()
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    run_cells(job["cells"], set(job["skip_cells"]), namespace, events)
    events.emit(event="ready")
    run_cases(read_cases(commands_fd), namespace, events)
    events.emit(event="done")


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:4]))
