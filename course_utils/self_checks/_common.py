"""What the self-checks of every assignment share.

Private to :mod:`course_utils.self_checks`; an assignment's module imports
what it needs from here.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable

import numpy as np

from course_utils._graded_header import header_name


def warn_if_header_missing(function: Callable) -> None:
    """Print a warning if the notebook cell defining ``function`` lost its header.

    Only for functions defined in a Jupyter cell (IPython keeps the cell's
    text in ``linecache``); the grader finds the function by its name anyway.
    """
    code = getattr(function, "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not ("ipykernel_" in filename or filename.startswith("<ipython-input-")):
        return
    name = function.__name__
    if header_name("".join(linecache.getlines(filename))) != name:
        print(f"Warning: the cell that defines {name} should start with the line "
              f"'# GRADED FUNCTION: {name} (N points)' as it was given. The "
              f"grader still finds {name} by its name; keep the line anyway.")


def check_structure(parameters: dict, layers_dims: list[int]) -> None:
    expected_keys = {f"{kind}{layer}" for layer in range(1, len(layers_dims))
                     for kind in "Wb"}
    assert set(parameters) == expected_keys, (
        f"Expected the keys {sorted(expected_keys)}; got {sorted(parameters)}.")
    for layer in range(1, len(layers_dims)):
        W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
        assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray), (
            f"W{layer} and b{layer} should be NumPy arrays.")
        want = (layers_dims[layer], layers_dims[layer - 1])
        assert W.shape == want, (
            f"W{layer} should have shape {want} = (layers_dims[{layer}], "
            f"layers_dims[{layer - 1}]); it has shape {W.shape}.")
        assert b.shape == (layers_dims[layer], 1), (
            f"b{layer} should have shape {(layers_dims[layer], 1)}; "
            f"it has shape {b.shape}.")
