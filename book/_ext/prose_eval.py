"""Sphinx extension: {eval}`prose.NAME` shows the value glued as NAME.

The chapters write their numbers as {eval}`prose.NAME` (see
``course_utils.prose``). JupyterLab (jupyterlab-myst) renders that role from
the result that ``make execute`` stores in the Markdown cell's
``user_expressions``. myst-nb evaluates ``{eval}`` only with a running kernel
(``execution_mode: inline``); this book is built from the stored, verified
outputs with execution off, where myst-nb's client has no kernel and its
``eval_variable`` raises ``NotImplementedError``.

This replaces myst-nb's ``eval`` role with a subclass that, when the notebook's
client has no kernel, looks ``prose.NAME`` up in the notebook's stored glue
data (the output that ``prose.NAME = ...`` glued as NAME, which nbval
verifies) and renders it exactly as myst-nb renders a glued value. A name that
was never glued, or any other expression, is a warning, so the strict build
(``-W``) fails. With a kernel (inline execution) myst-nb's own role evaluates
the expression, and ``prose.NAME`` then gives the same bare text.
"""

from __future__ import annotations

import re
from typing import Any

from myst_nb.core.execute.inline import NotebookClientInline
from myst_nb.core.variables import VariableOutput, render_variable_outputs
from myst_nb.ext.eval import EvalRoleAny, eval_warning

# Mirrors course_utils.prose.PROSE_EXPRESSION (the book does not import the
# course package at build time).
PROSE_EXPRESSION = re.compile(r"^prose\.(?P<name>[A-Za-z][A-Za-z0-9_]*)$")


class ProseEvalRole(EvalRoleAny):
    """``{eval}`` that reads ``prose.NAME`` from the stored glue outputs."""

    def run(self):
        renderer = self.document.get("nb_renderer")
        client = renderer.renderer.nb_client if renderer is not None else None
        if client is None or isinstance(client, NotebookClientInline):
            return super().run()
        match = PROSE_EXPRESSION.match(self.text)
        if match is None:
            return [], [eval_warning(
                f"{{eval}} expression {self.text!r} is not prose.NAME; with "
                "execution off only values set on a Prose can be shown",
                self.document, self.line)]
        name = match["name"]
        stored = client.glue_data.get(name)
        if stored is None:
            return [], [eval_warning(
                f"prose.{name} is not stored in this notebook: no code cell's "
                f"output glued {name!r} (set prose.{name} and re-execute)",
                self.document, self.line)]
        output = VariableOutput(data=stored["data"],
                                metadata={**stored.get("metadata", {}),
                                          "strip_text_quotes": True},
                                nb_renderer=renderer, vtype="eval")
        return render_variable_outputs([output], self.document, self.line,
                                       self.source, inline=True), []


def setup(app) -> dict[str, Any]:
    app.setup_extension("myst_nb")
    app.add_role("eval", ProseEvalRole(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
