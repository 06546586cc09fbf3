"""The learning platforms: reading their downloads, writing their grade files.

Documented on the page "Instructor guide". One module per platform
(:mod:`canvas`, :mod:`moodle`, and :mod:`folder` for a plain folder of
notebooks) holds what that platform decides: how its download names files
and folders, and the columns of the grade file it imports. :mod:`downloads`
reads a download safely (bounded, no entry name used as a path) into the
grader's ``SUBMISSIONS_DIR/<student>/<assignment>.ipynb`` layout, and
:mod:`grades` writes the gradebook's totals into the platform's own gradebook
file (cell by cell, with :mod:`sheets`), and :mod:`feedback_zip` zips the
feedback pages under the names the platform's bulk feedback upload matches.
"""

from course_utils.grading.platforms.downloads import (
    LAYOUTS,
    collect,
    describe_moment,
    parse_deadline,
    parse_extensions,
    time_zone,
    write_report,
)
from course_utils.grading.platforms.entries import (
    CollectError,
    CollectReport,
    Entry,
    normalise_name,
)
from course_utils.grading.platforms.grades import FORMATS, export_platform

__all__ = ["FORMATS", "LAYOUTS", "CollectError", "CollectReport", "Entry", "collect",
           "describe_moment", "export_platform", "normalise_name", "parse_deadline",
           "parse_extensions", "time_zone", "write_report"]
