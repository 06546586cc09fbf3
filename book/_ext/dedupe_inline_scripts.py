"""Sphinx extension: drop inline <script> blocks that Sphinx 7.4 emits twice.

Sphinx 7.4 registers a script added with ``app.add_js_file(None, body=...)``
after the builder exists under two names (``None`` and ``""``), so the page
gets it twice. sphinx-thebe's ``const THEBE_JS_URL = ...`` declared twice is a
JavaScript error on every page. Fixed upstream in Sphinx 8.2 (sphinx-doc/sphinx
pull request 13402), which Jupyter Book 1 cannot use.
"""

from __future__ import annotations

from typing import Any


def _script_key(script: Any) -> tuple:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {})
    return filename, tuple(sorted((str(key), str(value))
                                  for key, value in attributes.items()))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
