"""Numbers in the chapters' prose, computed by their code cells.

Introduced in the chapter "Why the initial weights matter" (how the book is
made). A code cell sets an attribute::

    from course_utils.prose import Prose

    prose = Prose()
    prose.he_final_cost = f"{result.final_cost:.4f}"

and a Markdown cell writes {eval}`prose.he_final_cost`. Setting the attribute
glues the text with myst-nb (``glue("he_final_cost", ..., display=False)``),
so the cell's stored output holds it and nbval verifies it. The site renders the
role from that stored output (``book/_ext/prose_eval.py``); JupyterLab
(jupyterlab-myst) renders it from the result that ``make execute`` stores in
the Markdown cell's ``user_expressions`` metadata. Both show ``str(value)``:
the stored value's ``repr`` is that text, without quotes.
"""

from __future__ import annotations

import keyword
import numbers
import re

__all__ = ["PROSE_EXPRESSION", "Prose", "ProseText"]

# The prefix under which myst-nb's glue stores a value's display data.
GLUE_PREFIX = "application/papermill.record/"

# The only expression a chapter's {eval} role may hold: ``prose.NAME``.
PROSE_EXPRESSION = re.compile(r"^prose\.(?P<name>[A-Za-z][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ProseText(str):
    """Text shown in the prose, whose ``repr`` is the text itself (no quotes).

    Introduced in the chapter "Why the initial weights matter".

    A kernel asked for ``prose.NAME`` (by jupyterlab-myst or by myst-nb's
    inline execution) then answers ``text/plain`` with the bare text, the same
    text that the glued output stores.

    Examples
    --------
    >>> ProseText("0.0648")
    0.0648
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str.__str__(self)


class Prose:
    """The values a chapter's prose shows, each glued when it is set.

    Introduced in the chapter "Why the initial weights matter".

    Set an attribute to a ``str``, ``int`` or ``float`` (NumPy scalars too);
    the prose shows ``str(value)``, so format numbers in the code
    (``f"{cost:.4f}"``). Each name may be set once per notebook (myst-nb
    refuses a glue key twice).

    Examples
    --------
    >>> prose = Prose()
    >>> prose.n_train = 300
    >>> prose.n_train
    300
    >>> prose.n_train == "300"
    True
    """

    def __setattr__(self, name: str, value: str | int | float) -> None:
        if not _NAME.match(name) or keyword.iskeyword(name):
            raise AttributeError(
                f"name: {name!r} is not a prose name; use letters, digits and "
                "underscores, starting with a letter")
        if not isinstance(value, (str, numbers.Real)):
            raise TypeError(
                f"value: prose.{name} must be a str, int or float (format it "
                f"in the code), not {type(value).__name__}")
        text = ProseText(str(value))
        object.__setattr__(self, name, text)
        _glue(name, text)

    def __getattr__(self, name: str) -> ProseText:
        # Called only for names that were never set.
        raise AttributeError(
            f"prose.{name} was never set: a code cell above must assign it")

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={str(text)!r}"
                           for name, text in vars(self).items())
        return f"Prose({values})"


def _glue(name: str, text: ProseText) -> None:
    """Record ``text`` as a hidden output of the running cell (myst-nb glue).

    Outside IPython (plain Python, doctests) there is no cell to record it in,
    and nothing is displayed.
    """
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        return
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    # What myst_nb.glue(name, text, display=False) records, written out here:
    # importing myst_nb's glue imports nbformat and, through jsonschema,
    # rfc3987-syntax, which builds a parser at import (2.6 s of every chapter's
    # kernel start here). tests/test_prose.py checks the two record the same.
    mimebundle, metadata = format_display_data(text)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + kind: value for kind, value in mimebundle.items()},
            raw=True, metadata=metadata)
