"""Sphinx extension: serve the students' wheel of ``course_utils`` from the site.

Before the build starts, it writes the same wheel that ``course-grade release``
puts beside the student notebooks (:mod:`course_utils.grading.handout`) into
``handout/`` beside the HTML output, and adds that folder to
``html_extra_path``, so the site serves it at
``<site>/course_utils-<version>-py3-none-any.whl``, the address the page
"Graded exercises for students" gives. Nothing built is kept in git.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course_utils.grading.handout import write_wheel


def add_wheel(app, config) -> None:
    folder = Path(app.outdir).parent / "handout"
    write_wheel(folder)
    config.html_extra_path = [*config.html_extra_path, str(folder)]


def setup(app) -> dict[str, Any]:
    # Before Sphinx's own check of html_extra_path (priority 800).
    app.connect("config-inited", add_wheel, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
