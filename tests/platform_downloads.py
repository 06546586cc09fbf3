"""Downloads named as Canvas and Moodle name them, for the collect tests.

Each function re-states, in Python, what the platform's own source does to a
name (cited per function); none of them calls the code under test. Every zip
entry carries the same time, the moment of the download, as both platforms
write it (Canvas through rubyzip, whose entry time defaults to now; Moodle
through ZipStream ``addFileFromStream`` with no time).
"""

from __future__ import annotations

import re
import zipfile

DOWNLOADED_AT = (2026, 12, 1, 8, 15, 0)


def canvas_called(sortable_name: str | None, user_id: int | str, late: bool = False,
                  anonymous_id: str | None = None) -> str:
    """``ContentZipper#get_filename`` (canvas-lms ``lib/content_zipper.rb``)."""
    users_name = None
    if anonymous_id is None:
        # sanitize_user_name: "_<digits>_" -> "<digits>", then downcase.
        users_name = re.sub(r"_(\d+)_", r"\1", sortable_name or "").lower()
    identifier = f"anon_{anonymous_id}" if anonymous_id is not None else str(user_id)
    parts = [part for part in (users_name, "LATE" if late else None, identifier)
             if part is not None]
    # sanitize_file_name: gsub(/[^[[:word:]]]/, "") (Ruby's [[:word:]] is
    # Unicode letters, marks, digits and connector punctuation, like \w).
    return re.sub(r"[^\w]", "", "_".join(parts))


def canvas_upload(called: str, attachment_id: int, display_name: str) -> str:
    """``#add_upload_submission``: ``called_<attachment id>_<display name>``."""
    safe = re.sub(r'[\x00/\\:*?"<>|]+', "_", display_name)
    return f"{called}_{attachment_id}_{safe}"


def canvas_text(called: str, url: bool = False) -> str:
    """``#add_text_or_url``: ``called_text.html`` or ``called_link.html``."""
    return f"{called}_{'link' if url else 'text'}.html"


def moodle_clean_filename(text: str) -> str:
    """``clean_filename`` = ``clean_param(PARAM_FILE)`` (lib/moodlelib.php)."""
    return re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", text)


def moodle_prefix(full_name: str, unique_id: int | str,
                  group_name: str = "") -> str:
    """``downloader::get_student_prefix`` (and 3.x download_submissions)."""
    return moodle_clean_filename((group_name + full_name).replace("_", " ")
                                 + f"_{unique_id}")


def moodle_entry(prefix: str, file_name: str, layout: str = "folders",
                 plugin: str = "file", file_path: str = "/") -> str:
    """``load_submissionplugin_filelist`` (4.1+) and locallib.php (3.1-4.0)."""
    if layout == "flat":
        return moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}_{file_name}")
    trail = "_" if layout == "folders-old" else ""
    folder = moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}{trail}")
    inner = file_path + file_name if plugin == "file" else "/" + file_name
    return re.sub(r"//+", "/", folder + inner)


def moodle_time(year: int, month: int, day: int, hour: int, minute: int) -> str:
    """``userdate()`` with strftimedaydatetime, day and hour without zeros."""
    import datetime

    moment = datetime.datetime(year, month, day, hour, minute)
    return (f"{moment:%A}, {moment.day} {moment:%B %Y}, "
            f"{(moment.hour % 12) or 12}:{moment:%M %p}")


WORKSHEET_HEADER = ("Identifier", "Full name", "Email address", "Status", "Grade",
                    "Maximum Grade", "Grade can be changed",
                    "Last modified (submission)", "Last modified (grade)",
                    "Feedback comments")


def moodle_worksheet_row(unique_id: int | str, full_name: str, submitted: str,
                         late_by: str = "") -> list[str]:
    """A worksheet line as gradingtable.php writes it when downloading."""
    status = "Submitted for grading" if submitted != "-" else "No submission"
    if late_by:
        status += f" - {late_by} late"
    return [f"Participant {unique_id}", full_name, "student@example.org", status, "",
            "9.00", "Yes", submitted, "-", ""]


def write_zip(path, entries) -> None:
    """Entries ``(name, data)`` or ``(ZipInfo, data)``, all at the download time."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                archive.writestr(name, data)
                continue
            info = zipfile.ZipInfo(name, DOWNLOADED_AT)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
