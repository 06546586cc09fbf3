"""Downloads named as Canvas and Moodle name them, for the collect tests.

The writers live in :mod:`course_utils.grading.platforms.imitation` (shared
with ``course-grade demo``); they re-state the platforms' own source and call
none of the readers under test.
"""

from course_utils.grading.platforms.imitation import (  # noqa: F401
    DOWNLOADED_AT,
    TEAM_WORKSHEET_HEADER,
    WORKSHEET_HEADER,
    canvas_called,
    canvas_text,
    canvas_upload,
    moodle_clean_filename,
    moodle_entry,
    moodle_prefix,
    moodle_status,
    moodle_team_prefix,
    moodle_team_worksheet_row,
    moodle_time,
    moodle_worksheet_row,
    php_fputcsv,
    ruby_csv,
    write_zip,
)
