"""Downloads and gradebook files written the way Canvas and Moodle write them.

Documented on the page "Instructor guide". Each function re-states, in
Python, what the platform's own source does to a name or a CSV file (cited per
function); none of them calls the readers (:mod:`canvas`, :mod:`moodle`,
:mod:`downloads`), so the tests that build their fixtures with them check the
readers against an independent statement of the format. ``course-grade demo``
(:mod:`demo`) writes its practice class with them. Every zip entry carries the
same time, the moment of the download, as both platforms write it (Canvas
through rubyzip, whose entry time defaults to now; Moodle through ZipStream
``addFileFromStream`` with no time).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import datetime

DOWNLOADED_AT = (2026, 12, 1, 8, 15, 0)


def canvas_called(sortable_name: str | None, user_id: int | str, late: bool = False,
                  anonymous_id: str | None = None) -> str:
    """``ContentZipper#get_filename`` (canvas-lms ``lib/content_zipper.rb``).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    sortable_name : str, optional
        Canvas's sortable name, ``Last, First``.
    user_id : int or str
    late : bool
        Whether Canvas counts the submission late.
    anonymous_id : str, optional
        Under anonymous grading: the name is left out, ``anon_<id>`` written.

    Returns
    -------
    str
        The prefix of every file of the student's submission.
    """
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
    """``#add_upload_submission``: ``called_<attachment id>_<display name>``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    called : str
        From :func:`canvas_called`.
    attachment_id : int
    display_name : str
        The uploaded file's name.

    Returns
    -------
    str
    """
    safe = re.sub(r'[\x00/\\:*?"<>|]+', "_", display_name)
    return f"{called}_{attachment_id}_{safe}"


def canvas_text(called: str, url: bool = False) -> str:
    """``#add_text_or_url``: ``called_text.html`` or ``called_link.html``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    called : str
    url : bool

    Returns
    -------
    str
    """
    return f"{called}_{'link' if url else 'text'}.html"


def moodle_clean_filename(text: str) -> str:
    """``clean_filename`` = ``clean_param(PARAM_FILE)`` (lib/moodlelib.php).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", text)


def moodle_prefix(full_name: str, unique_id: int | str,
                  group_name: str = "") -> str:
    """``downloader::get_student_prefix`` (and 3.x download_submissions).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    full_name : str
    unique_id : int or str
        The participant id (``get_uniqueid_for_user``).
    group_name : str

    Returns
    -------
    str
    """
    return moodle_clean_filename((group_name + full_name).replace("_", " ")
                                 + f"_{unique_id}")


def moodle_team_prefix(group_name: str | None, group_id: int | str = "") -> str:
    """``downloader::get_student_prefix`` for a team submission (4.1+).

    Introduced in the chapter "Instructor guide". With "Students submit in
    groups", the prefix is the group's name with ``_`` made `` `` and
    ``_<group id>`` (not a participant id), cleaned by ``clean_filename``;
    students in no group submit as ``get_string('defaultteam', 'assign')``,
    "Default group", with no id at all.

    Parameters
    ----------
    group_name : str, optional
        None for students in no group.
    group_id : int or str

    Returns
    -------
    str
    """
    if group_name is None:
        return "Default group"
    return moodle_clean_filename(group_name.replace("_", " ") + f"_{group_id}")


def moodle_entry(prefix: str, file_name: str, layout: str = "folders",
                 plugin: str = "file", file_path: str = "/") -> str:
    """``load_submissionplugin_filelist`` (4.1+) and locallib.php (3.1-4.0).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    prefix : str
        From :func:`moodle_prefix`.
    file_name : str
    layout : str
        ``folders`` (4.1+), ``folders-old`` (3.1-4.0) or ``flat``.
    plugin : str
    file_path : str

    Returns
    -------
    str
    """
    if layout == "flat":
        return moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}_{file_name}")
    trail = "_" if layout == "folders-old" else ""
    folder = moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}{trail}")
    inner = file_path + file_name if plugin == "file" else "/" + file_name
    return re.sub(r"//+", "/", folder + inner)


def moodle_time(year: int, month: int, day: int, hour: int, minute: int) -> str:
    """``userdate()`` with strftimedaydatetime, day and hour without zeros.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    year, month, day, hour, minute : int

    Returns
    -------
    str
        For example ``Friday, 20 November 2026, 11:59 PM``.
    """
    moment = datetime(year, month, day, hour, minute)
    return (f"{moment:%A}, {moment.day} {moment:%B %Y}, "
            f"{(moment.hour % 12) or 12}:{moment:%M %p}")


WORKSHEET_HEADER = ("Identifier", "Full name", "Email address", "Status", "Grade",
                    "Maximum Grade", "Grade can be changed",
                    "Last modified (submission)", "Last modified (grade)",
                    "Feedback comments")


def moodle_worksheet_row(unique_id: int | str, full_name: str, submitted: str,
                         late_by: str = "", maximum: str = "9.00",
                         email: str = "student@example.org") -> list[str]:
    """A worksheet line as gradingtable.php writes it when downloading.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    unique_id : int or str
    full_name : str
    submitted : str
        From :func:`moodle_time`, or ``-`` for no submission.
    late_by : str
        Moodle's ``format_time`` of the delay (``1 day 2 hours``), if late.
    maximum : str
    email : str

    Returns
    -------
    list of str
    """
    status = "Submitted for grading" if submitted != "-" else "No submission"
    if late_by:
        status += f" - {late_by} late"
    return [f"Participant {unique_id}", full_name, email, status, "",
            maximum, "Yes", submitted, "-", ""]


def moodle_status(submitted: bool = True, draft: bool = False, late_by: str = "",
                  graded: bool = False, extension: str = "") -> str:
    """The worksheet's ``Status`` as ``gradingtable.php`` ``col_status`` writes it.

    Introduced in the chapter "Instructor guide". The parts, in the order
    col_status adds them, are joined with `` - `` when downloading:
    ``submissionstatus_<status>`` ("Submitted for grading", "Draft (not
    submitted)", "No submission"), ``submittedlateshort`` ("{$a} late",
    counted from the extension when there is one), ``graded`` ("Graded"),
    ``userextensiondate`` ("Extension granted until: {$a}", userdate()).

    Parameters
    ----------
    submitted : bool
        Whether there is a submission at all.
    draft : bool
        A submission saved but not submitted for grading.
    late_by : str
        ``format_time`` of the delay, if Moodle counts it late.
    graded : bool
        A grade is already recorded.
    extension : str
        The extension's date, from :func:`moodle_time`.

    Returns
    -------
    str
    """
    parts = ["Draft (not submitted)" if draft else
             "Submitted for grading" if submitted else "No submission"]
    if late_by:
        parts.append(f"{late_by} late")
    if graded:
        parts.append("Graded")
    if extension:
        parts.append(f"Extension granted until: {extension}")
    return " - ".join(parts)


TEAM_WORKSHEET_HEADER = ("Identifier", "Full name", "Email address", "Status",
                         "Group", "Grade", "Maximum Grade", "Grade can be changed",
                         "Last modified (submission)", "Last modified (grade)",
                         "Feedback comments")


def moodle_team_worksheet_row(unique_id: int | str, full_name: str, group: str,
                              submitted: str, status: str = "Submitted for grading",
                              maximum: str = "9.00") -> list[str]:
    """A worksheet line of a team assignment (``TEAM_WORKSHEET_HEADER``).

    Introduced in the chapter "Instructor guide". gradingtable.php adds the
    ``Group`` column after ``Status`` when the assignment has team
    submissions (``col_team``: the member's submission group's name, or
    "Default group"); the rows stay one per student, keyed by participant id.

    Parameters
    ----------
    unique_id : int or str
    full_name : str
    group : str
    submitted : str
    status : str
    maximum : str

    Returns
    -------
    list of str
    """
    return [f"Participant {unique_id}", full_name, "student@example.org", status,
            group, "", maximum, "Yes", submitted, "-", ""]


def write_zip(path, entries: Iterable, date_time: tuple = DOWNLOADED_AT) -> None:
    """Entries ``(name, data)`` or ``(ZipInfo, data)``, all at the download time.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    path : str or Path
    entries : iterable of (str or ZipInfo, bytes)
    date_time : tuple
        The time of every named entry (the moment of the download).
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                archive.writestr(name, data)
                continue
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)


def ruby_csv(rows: list[list[str | None]], separator: str = ",",
             row_end: str = "\n") -> str:
    """Rows as Ruby's CSV.generate writes them (quote_empty: true).

    Introduced in the chapter "Instructor guide". Canvas's gradebook export
    (``lib/gradebook_exporter.rb``) writes through it: a field is quoted only
    when it holds the separator, a quote or a line end; ``None`` is an empty
    field, ``""`` is written ``""``.

    Parameters
    ----------
    rows : list of list of str or None
    separator : str
    row_end : str

    Returns
    -------
    str
    """
    def field(value):
        if value is None:
            return ""
        if value == "" or any(c in value for c in (separator, '"', "\r", "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return "".join(separator.join(field(v) for v in row) + row_end for row in rows)


def php_fputcsv(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows as PHP's fputcsv writes them (enclosure ", escape \\, eol \\n).

    Introduced in the chapter "Instructor guide". Moodle's csv dataformat
    writes the grading worksheet through it (after a UTF-8 byte-order mark).

    Parameters
    ----------
    rows : list of list of str
    delimiter : str

    Returns
    -------
    str
    """
    def field(value):
        if any(c in value for c in (delimiter, '"', "\\", "\n", "\r", "\t", " ")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return "".join(delimiter.join(field(v) for v in row) + "\n" for row in rows)
