"""``course-grade collect``: formats, limits and hostile entries (no grading)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sqlite3
import stat
import zipfile
from datetime import UTC, datetime

import pytest

from course_utils.grading.cli import main as course_grade
from course_utils.grading.platforms import (
    CollectError,
    collect,
    entries,
    normalise_name,
    parse_deadline,
)
from course_utils.grading.platforms import downloads as collect_module
from tests.conftest import build_zip
from tests.platform_downloads import (
    TEAM_WORKSHEET_HEADER,
    WORKSHEET_HEADER,
    canvas_called,
    canvas_text,
    canvas_upload,
    moodle_entry,
    moodle_prefix,
    moodle_status,
    moodle_team_prefix,
    moodle_team_worksheet_row,
    moodle_time,
    moodle_worksheet_row,
    php_fputcsv,
    write_zip,
)

NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
WHEN = (2026, 11, 20, 12, 0, 0)


def _cli(*arguments: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = course_grade([str(argument) for argument in arguments])
    return status, out.getvalue(), err.getvalue()


def _reasons(report) -> dict[str, str]:
    return {entry.original: entry.reason for entry in report.skipped}


def test_names_are_normalised():
    assert normalise_name("José Müller") == "jose-muller"
    assert normalise_name("../../etc/passwd") == "etc-passwd"
    assert normalise_name("<script>") == "script"
    assert normalise_name("=1+2") == "1-2"
    assert normalise_name("日本") == "student"
    assert len(normalise_name("a" * 500)) == entries.MAX_NAME_CHARACTERS


def test_plain_folder_with_links_devices_and_late_files(tmp_path):
    source = tmp_path / "download"
    source.mkdir()
    (source / "Ada Lovelace.ipynb").write_bytes(NOTEBOOK)
    (source / "bob.ipynb").write_bytes(NOTEBOOK)
    os.utime(source / "Ada Lovelace.ipynb", (1_763_000_000, 1_763_000_000))  # 2025
    os.utime(source / "bob.ipynb", (1_800_000_000, 1_800_000_000))  # 2027
    (source / "notes.txt").write_text("hello")
    (source / "linked.ipynb").symlink_to("/etc/passwd")
    os.mkfifo(source / "pipe.ipynb")
    (source / ".hidden.ipynb").write_bytes(NOTEBOOK)
    report = collect(source, tmp_path / "submissions", "initialization",
                     tmp_path / "gradebook.sqlite",
                     late_after=parse_deadline("2026-11-20T23:59"))
    assert sorted(entry.student for entry in report.collected) == ["ada-lovelace",
                                                                   "bob"]
    assert _reasons(report) == {
        "notes.txt": "not a notebook (.ipynb)", "linked.ipynb": "symbolic link",
        "pipe.ipynb": "not a regular file (device, pipe or socket)"}
    assert (tmp_path / "submissions" / "bob" / "initialization.ipynb").read_bytes() \
        == NOTEBOOK
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as connection:
        rows = dict(connection.execute("SELECT student, late FROM collected"))
    assert rows == {"ada-lovelace": 0, "bob": 1}


def test_zip_limits_refuse_bombs_and_lies(tmp_path, monkeypatch):
    archive = tmp_path / "canvas.zip"
    build_zip(archive, [
        ("adaa_1_2_initialization.ipynb", NOTEBOOK, WHEN),
        ("bomb_3_4_initialization.ipynb", b"\0" * (4 * 2**20), WHEN),
        ("big_5_6_initialization.ipynb", os.urandom(64) * 10, WHEN)])
    monkeypatch.setattr(collect_module, "MAX_SUBMISSION_BYTES", 500)
    report = collect(archive, tmp_path / "out", "initialization")
    assert [entry.student for entry in report.collected] == ["adaa_1"]
    assert _reasons(report) == {
        "bomb_3_4_initialization.ipynb": "4194304 bytes; the limit is 500",
        "big_5_6_initialization.ipynb": "640 bytes; the limit is 500"}
    monkeypatch.setattr(collect_module, "MAX_SUBMISSION_BYTES", 20 * 2**20)
    report = collect(archive, tmp_path / "out", "initialization")
    assert _reasons(report) == {"bomb_3_4_initialization.ipynb":
                                "compressed more than 100 times (a zip bomb?)"}
    # A header that understates the size is never read beyond it.
    lying = tmp_path / "lying.zip"
    build_zip(lying, [("liar_7_8_initialization.ipynb", b"A" * 5000, WHEN)])
    data = bytearray(lying.read_bytes())
    with zipfile.ZipFile(lying) as opened:
        info = opened.infolist()[0]
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (100).to_bytes(4, "little")  # file size
    data[info.header_offset + 22:info.header_offset + 26] = (100).to_bytes(4,
                                                                          "little")
    lying.write_bytes(bytes(data))
    report = collect(lying, tmp_path / "out2", "initialization")
    assert report.collected == []
    assert next(iter(_reasons(report).values())) in (
        "expands beyond its declared size or the limit", "cannot be read (BadZipFile)")
    monkeypatch.setattr(collect_module, "MAX_ENTRIES", 2)
    with pytest.raises(CollectError, match=r"source: canvas\.zip has 3 entries"):
        collect(archive, tmp_path / "out", "initialization")
    monkeypatch.setattr(collect_module, "MAX_ENTRIES", 5000)


def test_hostile_entries_never_leave_the_target(tmp_path):
    archive = tmp_path / "moodle.zip"
    link = zipfile.ZipInfo("Lin Link_3_assignsubmission_file/initialization.ipynb",
                           WHEN)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    device = zipfile.ZipInfo("Dev Ice_4_assignsubmission_file/initialization.ipynb",
                             WHEN)
    device.external_attr = (stat.S_IFBLK | 0o600) << 16
    build_zip(archive, [
        ("Ada Lovelace_1_assignsubmission_file/initialization.ipynb", NOTEBOOK,
         WHEN),
        ("Eve_2_assignsubmission_file/../../../../tmp/evil.ipynb", NOTEBOOK, WHEN),
        (link, b"/etc/shadow"), (device, b""),
        ("Ada Lovelace_1_assignsubmission_file/initialization (1).ipynb", NOTEBOOK
         + b" ", (2026, 11, 20, 13, 0, 0))])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dev-ice_4").symlink_to(tmp_path)
    report = collect(archive, tmp_path / "out", "initialization")
    assert [entry.student for entry in report.collected] == ["ada-lovelace_1"]
    assert set(_reasons(report).values()) | {entry.reason for entry in
                                             report.not_graded} == {
        "path outside the target folder (zip slip)", "symbolic link",
        "not a regular file (device, pipe or socket)",
        "an older candidate; graded initialization (1).ipynb"}
    assert (tmp_path / "out" / "ada-lovelace_1" / "initialization.ipynb"
            ).read_bytes() == NOTEBOOK + b" "
    assert not (tmp_path / "evil.ipynb").exists() and not os.path.exists(
        "/tmp/evil.ipynb")
    assert sorted(os.listdir(tmp_path / "out")) == ["ada-lovelace_1", "dev-ice_4"]


def test_cli_errors_are_one_line_and_name_the_argument(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "ada.ipynb").write_bytes(NOTEBOOK)
    cases = {
        ("collect", tmp_path / "none.zip", tmp_path / "out", "--assignment", "a"):
            "source:",
        ("collect", tmp_path / "broken.zip", tmp_path / "out", "--assignment", "a"):
            "source: broken.zip is not a readable zip file",
        ("collect", tmp_path, tmp_path / "out", "--assignment", "../x"):
            "assignment: not an assignment name",
        ("collect", tmp_path, tmp_path / "out", "--assignment", "a",
         "--late-after", "yesterday"): "late_after: not an ISO date",
        ("collect", tmp_path, tmp_path / "out", "--assignment", "a",
         "--late-penalty", "150", "--late-after", "2026-01-01"): "late_penalty:",
        ("collect", tmp_path, tmp_path / "out", "--assignment", "a",
         "--late-penalty", "10"): "late_penalty: needs --late-after",
        ("answers", "--gradebook", tmp_path / "none.sqlite", "--out",
         tmp_path / "r.csv"): "gradebook:",
        ("answers", "--gradebook", tmp_path / "none.sqlite", "--out",
         tmp_path / "r.txt"): "out: must end in .csv or .md",
        ("score", "--gradebook", tmp_path / "none.sqlite", tmp_path / "r.csv"):
            "review_csv:",
        ("report", "--gradebook", tmp_path / "none.sqlite", "--out",
         tmp_path / "r.html"): "gradebook:",
        ("feedback", "--gradebook", tmp_path / "none.sqlite", "--site-url",
         "javascript:alert(1)"): "site_url: must be an http(s) URL",
        ("export", "--gradebook", tmp_path / "none.sqlite", "--csv",
         tmp_path / "g.csv", "--format", "moodle"): "gradebook:",
    }
    for arguments, message in cases.items():
        status, _, err = _cli(*arguments)
        assert status == 1, arguments
        assert err.startswith("course-grade: error: ") and message in err, err
        assert err.count("\n") == 1, err


def test_a_linked_student_folder_is_never_written_through(tmp_path):
    archive = tmp_path / "canvas.zip"
    build_zip(archive, [("adaa_1_2_initialization.ipynb", NOTEBOOK, WHEN),
                        ("bobb_3_4_initialization.ipynb", NOTEBOOK, WHEN)])
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "bobb_3").symlink_to(outside)
    report = collect(archive, tmp_path / "out", "initialization")
    assert [entry.student for entry in report.collected] == ["adaa_1"]
    assert _reasons(report) == {"bobb_3_4_initialization.ipynb": "bobb_3 exists in "
                                "the submissions folder and is not a folder"}
    assert os.listdir(outside) == []


def _entries(report) -> dict[str, tuple[str, str, str]]:
    return {entry.original: (entry.status, entry.student, entry.reason)
            for entry in report.entries}


def test_canvas_names_as_content_zipper_writes_them(tmp_path):
    garcia = canvas_called("García, José", 101)
    obrien = canvas_called("O_Brien, Pat", 102, late=True)
    anonymous = canvas_called(None, 0, anonymous_id="Xy3kP")
    texter = canvas_called("Smith, Jo", 104)
    linker = canvas_called("Lee, Ann", 105, late=True)
    uploads = {
        # A scratch file beside the assignment: the assignment is graded.
        canvas_upload(garcia, 9002, "scratch.ipynb"): NOTEBOOK + b" ",
        canvas_upload(garcia, 9001, "initialization.ipynb"): NOTEBOOK,
        canvas_upload(garcia, 9003, "data.csv"): b"1,2\n",
        # Two files of one name in one submission: Canvas renamed the second
        # "-1" and gave it the larger file id.
        canvas_upload(obrien, 9005, "initialization-1.ipynb"): NOTEBOOK + b"  ",
        canvas_upload(obrien, 9004, "initialization.ipynb"): NOTEBOOK,
        canvas_upload(anonymous, 9006, "Initialization.ipynb"): NOTEBOOK,
        canvas_text(texter): b"<p>my answer</p>",
        canvas_text(linker, url=True): b"<a href='x'>x</a>"}
    assert list(uploads)[3] == "o_brienpat_LATE_102_9005_initialization-1.ipynb"
    assert next(iter(uploads)) == "garcíajosé_101_9002_scratch.ipynb"
    write_zip(tmp_path / "canvas.zip", list(uploads.items()))
    status, out, err = _cli("collect", tmp_path / "canvas.zip", tmp_path / "out",
                            "--assignment", "initialization", "--gradebook",
                            tmp_path / "gradebook.sqlite")
    assert status == 0, err
    assert out.splitlines()[0].startswith("layout: Canvas submissions download")
    assert "canvas: collected 3, of which 1 late; skipped 2; other files not " \
           "graded 3" in out
    for folder, data in (("garciajose_101", NOTEBOOK),
                         ("o-brienpat_102", NOTEBOOK + b"  "),
                         ("anonymous_Xy3kP", NOTEBOOK)):
        assert (tmp_path / "out" / folder / "initialization.ipynb").read_bytes() \
            == data
    assert sorted(os.listdir(tmp_path / "out")) == [
        "anonymous_Xy3kP", "garciajose_101", "o-brienpat_102"]
    assert "folder: garciajose_101 <- 'garcíajosé', canvas id 101" in out
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as connection:
        rows = {row[0]: row[1:] for row in connection.execute(
            "SELECT student, platform_id, display_name, late, late_seconds, "
            "submitted_at, layout, not_graded FROM collected")}
    assert rows == {
        "garciajose_101": ("101", "garcíajosé", 0, None, "", "canvas",
                           "scratch.ipynb; data.csv"),
        "o-brienpat_102": ("102", "o_brienpat", 1, None, "", "canvas",
                           "initialization.ipynb"),
        "anonymous_Xy3kP": ("anon_Xy3kP", "", 0, None, "", "canvas", "")}
    # A Canvas zip has no submission times: a deadline is refused, not guessed.
    status, _, err = _cli("collect", tmp_path / "canvas.zip", tmp_path / "out",
                          "--assignment", "initialization", "--late-after",
                          "2026-11-20T23:59")
    assert status == 1 and "late_after: a Canvas download holds no submission " \
                           "times" in err


def test_the_older_canvas_naming(tmp_path):
    # canvas-lms lib/content_zipper.rb before anonymous grading became an
    # assignment setting: sanitize_file_name lower-cased the whole name, and
    # the anonymous_grading feature left out the name alone.
    write_zip(tmp_path / "old.zip", [
        ("babbagebob_late_102_9002_initialization.ipynb", NOTEBOOK),
        ("103_9003_initialization.ipynb", NOTEBOOK),
        ("late_104_9004_initialization.ipynb", NOTEBOOK)])
    report = collect(tmp_path / "old.zip", tmp_path / "out", "initialization")
    assert {entry.student: entry.late for entry in report.collected} == {
        "babbagebob_102": True, "anonymous_103": False, "anonymous_104": True}


def test_canvas_report_says_what_was_not_graded_and_why(tmp_path):
    garcia = canvas_called("García, José", 101)
    write_zip(tmp_path / "c.zip", [
        (canvas_upload(garcia, 9002, "scratch.ipynb"), NOTEBOOK),
        (canvas_upload(garcia, 9001, "initialization.ipynb"), NOTEBOOK),
        (canvas_text(canvas_called("Smith, Jo", 104)), b"<p>x</p>")])
    report = collect(tmp_path / "c.zip", tmp_path / "out", "initialization")
    assert _entries(report) == {
        "garcíajosé_101_9001_initialization.ipynb": (
            "collected", "garciajose_101",
            "named like the assignment (initialization.ipynb)"),
        "garcíajosé_101_9002_scratch.ipynb": (
            "not graded", "garciajose_101",
            "another notebook; graded initialization.ipynb (named like the "
            "assignment)"),
        "smithjo_104_text.html": (
            "skipped", "smithjo_104",
            "no notebook from this student: a Canvas text entry, not a notebook")}


@pytest.mark.parametrize("layout", ["folders", "folders-old", "flat"])
def test_moodle_layouts_and_lateness_from_the_worksheet(tmp_path, layout):
    ada = moodle_prefix("Ada Lovelace", 11)
    pat = moodle_prefix("Pat O_Brien", 12)  # Moodle writes the "_" as " "
    blind = moodle_prefix("Participant", 13)
    team = moodle_prefix("Team Blue", 40)
    entries = [
        (moodle_entry(ada, "initialization.ipynb", layout), NOTEBOOK),
        (moodle_entry(ada, "scratch.ipynb", layout), NOTEBOOK + b" "),
        # A second upload of the same name: Moodle's file picker calls it "(1)".
        (moodle_entry(pat, "initialization.ipynb", layout), NOTEBOOK),
        (moodle_entry(pat, "initialization (1).ipynb", layout), NOTEBOOK + b"  "),
        (moodle_entry(blind, "initialization.ipynb", layout), NOTEBOOK),
        (moodle_entry(team, "initialization.ipynb", layout), NOTEBOOK),
        (moodle_entry(moodle_prefix("Otto Online", 14), "onlinetext.html", layout,
                      plugin="onlinetext"), b"<p>text</p>")]
    if layout == "folders-old":
        assert entries[0][0] == ("Ada Lovelace_11_assignsubmission_file_/"
                                 "initialization.ipynb")
    write_zip(tmp_path / "moodle.zip", entries)
    worksheet = tmp_path / "worksheet.csv"
    with open(worksheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WORKSHEET_HEADER)
        writer.writerow(moodle_worksheet_row(11, "Ada Lovelace",
                                             moodle_time(2026, 11, 20, 22, 0)))
        writer.writerow(moodle_worksheet_row(12, "Pat O_Brien",
                                             moodle_time(2026, 11, 21, 9, 30),
                                             "9 hours 31 mins"))
        writer.writerow(moodle_worksheet_row(13, "Participant",
                                             moodle_time(2026, 11, 22, 0, 30),
                                             "1 day"))
        writer.writerow(moodle_worksheet_row(14, "Otto Online", "-"))
    out_dir = tmp_path / "out"
    # Moodle's own lateness (the Status column), no deadline given.
    status, out, err = _cli("collect", tmp_path / "moodle.zip", out_dir,
                            "--assignment", "initialization", "--worksheet",
                            worksheet, "--timezone", "Europe/Berlin")
    assert status == 0, err
    assert f"layout: {collect_module.LAYOUTS['moodle-' + layout]}" in out
    assert "moodle: collected 4, of which 2 late; skipped 1; other files not " \
           "graded 2" in out
    assert sorted(os.listdir(out_dir)) == ["ada-lovelace_11", "participant_13",
                                          "pat-o-brien_12", "team-blue_40"]
    assert (out_dir / "pat-o-brien_12" / "initialization.ipynb").read_bytes() \
        == NOTEBOOK + b"  "
    assert (out_dir / "ada-lovelace_11" / "initialization.ipynb").read_bytes() \
        == NOTEBOOK
    # A deadline in the course's zone, with an extension for one student.
    status, out, err = _cli("collect", tmp_path / "moodle.zip", out_dir,
                            "--assignment", "initialization", "--worksheet",
                            worksheet, "--timezone", "Europe/Berlin",
                            "--late-after", "2026-11-20T23:59", "--extension",
                            "Participant=2026-11-22T12:00",
                            "--gradebook", tmp_path / "gradebook.sqlite")
    assert status == 0, err
    assert "deadline: 2026-11-20 23:59 CET (2026-11-20 22:59 UTC)" in out
    assert "extension: Participant: 2026-11-22 12:00 CET (2026-11-22 11:00 UTC)" \
        in out
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as connection:
        rows = {row[0]: row[1:] for row in connection.execute(
            "SELECT student, late, late_seconds, submitted_at FROM collected")}
    assert rows["pat-o-brien_12"] == (1, 9 * 3600 + 31 * 60,
                                      "2026-11-21T08:30:00+00:00")
    assert rows["ada-lovelace_11"] == (0, None, "2026-11-20T21:00:00+00:00")
    assert rows["participant_13"][:2] == (0, None)  # within the extension


def test_moodle_subfolders_and_the_default_team(tmp_path):
    ada = moodle_prefix("Ada Lovelace", 11)
    write_zip(tmp_path / "m.zip", [
        (moodle_entry(ada, "initialization.ipynb", file_path="/drafts/"), NOTEBOOK),
        (moodle_entry(ada, "initialization.ipynb"), NOTEBOOK + b" "),
        # Team submissions of students in no group: "Default group", no id.
        (moodle_entry(moodle_team_prefix(None), "initialization.ipynb"),
         NOTEBOOK)])
    # A team's folder names no participant: without the worksheet's Group
    # column nobody can say whose it is.
    with pytest.raises(CollectError, match=r"'Default group_assignsubmission_file' "
                                           r"is a Moodle team submission.*give "
                                           r"--worksheet.*Group column"):
        collect(tmp_path / "m.zip", tmp_path / "out", "initialization")
    write_zip(tmp_path / "m.zip", [
        (moodle_entry(ada, "initialization.ipynb", file_path="/drafts/"), NOTEBOOK),
        (moodle_entry(ada, "initialization.ipynb"), NOTEBOOK + b" ")])
    report = collect(tmp_path / "m.zip", tmp_path / "out", "initialization")
    assert _entries(report)["Ada Lovelace_11_assignsubmission_file/drafts/"
                            "initialization.ipynb"] == (
        "not graded", "ada-lovelace_11",
        "another candidate; graded initialization.ipynb")
    assert _entries(report)["Ada Lovelace_11_assignsubmission_file/"
                            "initialization.ipynb"][2].endswith(
        "nothing moodle wrote orders them, so the one outside subfolders, then "
        "the last by name; check")
    assert (tmp_path / "out" / "ada-lovelace_11" / "initialization.ipynb"
            ).read_bytes() == NOTEBOOK + b" "
    assert sorted(os.listdir(tmp_path / "out")) == ["ada-lovelace_11"]


def test_a_moodle_deadline_without_the_worksheet_is_refused(tmp_path):
    write_zip(tmp_path / "m.zip", [(moodle_entry(moodle_prefix("Ada", 1),
                                                 "initialization.ipynb"), NOTEBOOK)])
    status, _, err = _cli("collect", tmp_path / "m.zip", tmp_path / "out",
                          "--assignment", "initialization", "--late-after",
                          "2026-11-20T23:59")
    assert status == 1 and "give --worksheet" in err
    status, _, err = _cli("collect", tmp_path / "m.zip", tmp_path / "out",
                          "--assignment", "initialization", "--late-after",
                          "2026-11-20T23:59", "--extension", "Nobody=2026-11-25T00:00")
    assert status == 1 and "give --worksheet" in err


def test_another_assignments_worksheet_is_refused(tmp_path):
    write_zip(tmp_path / "m.zip", [(moodle_entry(moodle_prefix("Ada", 1),
                                                 "initialization.ipynb"), NOTEBOOK)])
    with open(tmp_path / "w.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([WORKSHEET_HEADER, moodle_worksheet_row(
            77, "Ada", moodle_time(2026, 11, 20, 10, 0))])
    with pytest.raises(ValueError, match="worksheet: none of the 1 participants"):
        collect(tmp_path / "m.zip", tmp_path / "out", "initialization",
                worksheet=tmp_path / "w.csv")
    (tmp_path / "bad.csv").write_text("Identifier,Grade\nParticipant 1,3\n")
    with pytest.raises(ValueError, match="worksheet: not a Moodle grading "
                                         "worksheet; no column 'Status', "
                                         "'Last modified \\(submission\\)'"):
        collect(tmp_path / "m.zip", tmp_path / "out", "initialization",
                worksheet=tmp_path / "bad.csv")


def test_a_download_of_no_known_layout_is_an_error(tmp_path):
    write_zip(tmp_path / "other.zip", [("ada/initialization.ipynb", NOTEBOOK),
                                       ("bob.ipynb", NOTEBOOK)])
    status, out, err = _cli("collect", tmp_path / "other.zip", tmp_path / "out",
                            "--assignment", "initialization")
    assert status == 1 and out == ""
    assert "source: other.zip matches no known layout (2 entries); tried: Canvas " \
           "submissions download" in err
    assert "Moodle 4.1+ download in folders" in err
    assert "Moodle 3.1-4.0 download in folders" in err
    assert "Moodle download without folders" in err
    write_zip(tmp_path / "empty.zip", [])
    with pytest.raises(CollectError, match="matches no known layout"):
        collect(tmp_path / "empty.zip", tmp_path / "out", "initialization")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "essay.pdf").write_bytes(b"%PDF")
    with pytest.raises(CollectError, match="holds no notebook"):
        collect(tmp_path / "nothing", tmp_path / "out", "initialization")


def test_two_people_never_share_a_folder(tmp_path):
    source = tmp_path / "folder"
    source.mkdir()
    names = ["José García", "jose garcia", "王伟", "李娜", "Мария", "ada"]
    for name in names:
        (source / f"{name}.ipynb").write_bytes(NOTEBOOK + name.encode())
    report = collect(source, tmp_path / "out", "initialization",
                     tmp_path / "gradebook.sqlite")
    folders = {identity.display_name: identity.folder
               for identity in report.identities}
    assert len(set(folders.values())) == len(names)
    assert folders["ada"] == "ada"
    bases = {"José García": "jose-garcia", "jose garcia": "jose-garcia",
             "王伟": "student", "李娜": "student", "Мария": "student"}
    for name, base in bases.items():
        assert folders[name] == f"{base}-{entries.short_hash('/' + name)}"
        assert (tmp_path / "out" / folders[name] / "initialization.ipynb"
                ).read_bytes() == NOTEBOOK + name.encode()
    # The suffix depends on the name alone: a later download gives the same.
    (source / "ada.ipynb").unlink()
    again = collect(source, tmp_path / "out2", "initialization")
    assert {i.display_name: i.folder for i in again.identities} == {
        name: folder for name, folder in folders.items() if name != "ada"}
    # With the gradebook, a student keeps their folder though nobody collides
    # with them any more; a newcomer never takes a recorded folder.
    for name in ("jose garcia", "李娜", "Мария"):
        (source / f"{name}.ipynb").unlink()
    (source / "ada.ipynb").write_bytes(NOTEBOOK)
    (source / "Ada.ipynb").write_bytes(NOTEBOOK)
    later = collect(source, tmp_path / "out", "initialization",
                    tmp_path / "gradebook.sqlite")
    assert {i.display_name: i.folder for i in later.identities} == {
        "José García": folders["José García"], "王伟": folders["王伟"],
        "ada": "ada", "Ada": f"ada-{entries.short_hash('/Ada')}"}
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as connection:
        recorded = dict(connection.execute(
            "SELECT original_name, student FROM collected"))
    assert recorded == {f"{name}.ipynb": folder for name, folder in folders.items()
                        } | {"Ada.ipynb": f"ada-{entries.short_hash('/Ada')}"}


def test_one_platform_id_under_two_names(tmp_path):
    old = canvas_called("Smith, Jo", 104)
    new = canvas_called("Smith-Jones, Jo", 104)
    write_zip(tmp_path / "c.zip", [
        (canvas_upload(old, 9001, "initialization.ipynb"), NOTEBOOK),
        (canvas_upload(new, 9100, "initialization.ipynb"), NOTEBOOK + b" ")])
    status, _, err = _cli("collect", tmp_path / "c.zip", tmp_path / "out",
                          "--assignment", "initialization")
    assert status == 1
    assert ("canvas id 104 appears under 2 names, 'smithjo' (folder smithjo_104) "
            "and 'smithjonesjo' (folder smithjonesjo_104)") in err
    assert not (tmp_path / "out").exists()
    report = collect(tmp_path / "c.zip", tmp_path / "out", "initialization",
                     tmp_path / "gradebook.sqlite", duplicate_ids="newest")
    assert [entry.student for entry in report.collected] == ["smithjonesjo_104"]
    assert report.not_graded[0].reason == ("the same canvas id 104 as "
                                           "'smithjonesjo', whose files are newer")
    # A later download after a change of name keeps the recorded folder.
    write_zip(tmp_path / "later.zip", [
        (canvas_upload(canvas_called("Jones, Jo", 104), 9200,
                       "initialization.ipynb"), NOTEBOOK)])
    report = collect(tmp_path / "later.zip", tmp_path / "out", "initialization",
                     tmp_path / "gradebook.sqlite")
    assert [entry.student for entry in report.collected] == ["smithjonesjo_104"]
    assert os.listdir(tmp_path / "out") == ["smithjonesjo_104"]


def test_one_huge_upload_stops_nobody_else(tmp_path, monkeypatch):
    ada = canvas_called("Lovelace, Ada", 1)
    bob = canvas_called("Babbage, Bob", 2)
    cy = canvas_called("Hopper, Cy", 3)
    write_zip(tmp_path / "c.zip", [
        (canvas_upload(ada, 11, "initialization.ipynb"), NOTEBOOK),
        (canvas_upload(ada, 12, "data.csv"), os.urandom(3000)),
        (canvas_upload(bob, 21, "initialization.ipynb"), os.urandom(2000)),
        (canvas_upload(cy, 31, "initialization.ipynb"), NOTEBOOK)])
    monkeypatch.setattr(collect_module, "MAX_SUBMISSION_BYTES", 1000)
    monkeypatch.setattr(collect_module, "MAX_TOTAL_BYTES", 1000)
    report = collect(tmp_path / "c.zip", tmp_path / "out", "initialization")
    # Ada's 3000-byte data file is not a notebook: never read, never counted;
    # Bob's notebook is over the per-file limit: skipped for Bob alone.
    assert sorted(entry.student for entry in report.collected) == [
        "hoppercy_3", "lovelaceada_1"]
    assert _entries(report)["babbagebob_2_21_initialization.ipynb"] == (
        "skipped", "babbagebob_2", "2000 bytes; the limit is 1000")
    assert _entries(report)["lovelaceada_1_12_data.csv"][0] == "not graded"
    # The archive-wide bound counts only what is extracted.
    monkeypatch.setattr(collect_module, "MAX_TOTAL_BYTES", len(NOTEBOOK) + 10)
    report = collect(tmp_path / "c.zip", tmp_path / "out2", "initialization")
    assert [entry.student for entry in report.collected] == ["hoppercy_3"]
    assert _entries(report)["lovelaceada_1_11_initialization.ipynb"][2].startswith(
        "not read:")


def test_deadlines_and_extensions_in_the_course_zone(tmp_path):
    zone = collect_module.time_zone("America/New_York")
    assert collect_module.parse_deadline("2026-11-20T23:59", zone) == datetime(
        2026, 11, 21, 4, 59, tzinfo=UTC)
    assert collect_module.parse_deadline("2026-07-01T12:00", zone) == datetime(
        2026, 7, 1, 16, 0, tzinfo=UTC)  # daylight saving time: UTC-4
    assert collect_module.parse_deadline("2026-11-20T23:59+01:00", zone) == \
        datetime(2026, 11, 20, 22, 59, tzinfo=UTC)
    assert collect_module.describe_moment(datetime(2026, 11, 21, 4, 59, tzinfo=UTC),
                                          zone) == \
        "2026-11-20 23:59 EST (2026-11-21 04:59 UTC)"
    extensions_csv = tmp_path / "extensions.csv"
    extensions_csv.write_text("student,until\nAda Lovelace,2026-11-23T12:00\n"
                              "12,2026-11-24T08:00-05:00\n", encoding="utf-8")
    assert collect_module.parse_extensions(
        [str(extensions_csv), "Bo=2026-11-22T00:00"], zone) == {
        "Ada Lovelace": datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
        "12": datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        "Bo": datetime(2026, 11, 22, 5, 0, tzinfo=UTC)}
    with pytest.raises(ValueError, match="timezone: not a known time zone"):
        collect_module.time_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="extension: not an ISO date"):
        collect_module.parse_extensions(["Ada=tomorrow"])


# --- Moodle teams, extensions and drafts; Canvas names ending in _<digits> ---
# Fixtures from downloader.php get_student_prefix (a team's folder is
# "<group name>_<group id>" or "Default group"), gradingtable.php col_status
# and col_team (imitation.moodle_status, moodle_team_worksheet_row).


def _team_download(tmp_path):
    write_zip(tmp_path / "team.zip", [
        (moodle_entry(moodle_team_prefix("Team_Alpha", 7), "initialization.ipynb"),
         NOTEBOOK),
        (moodle_entry(moodle_team_prefix(None), "initialization.ipynb"),
         NOTEBOOK + b" ")])
    worksheet = tmp_path / "team.csv"
    when = moodle_time(2026, 11, 20, 21, 5)
    worksheet.write_text("\ufeff" + php_fputcsv([
        list(TEAM_WORKSHEET_HEADER),
        moodle_team_worksheet_row(101, "José García", "Team_Alpha", when),
        moodle_team_worksheet_row(102, "Pat O'Brien", "Team_Alpha", when),
        # Participant 7 is a student, unrelated to group 7.
        moodle_team_worksheet_row(7, "Zed Seven", "Default group", when),
        moodle_team_worksheet_row(8, "Ann Eight", "Default group", when)]),
        encoding="utf-8")
    return tmp_path / "team.zip", worksheet


def test_moodle_team_folders_map_to_their_members(tmp_path):
    archive, worksheet = _team_download(tmp_path)
    gradebook = tmp_path / "gradebook.sqlite"
    status, out, err = _cli("collect", archive, tmp_path / "out", "--assignment",
                            "initialization", "--worksheet", worksheet,
                            "--gradebook", gradebook)
    assert status == 0, err
    assert "team: 'Team Alpha' (group id 7) is Participant 101 'José García', " \
        "Participant 102 \"Pat O'Brien\" (the worksheet's Group column): graded " \
        "once, the grade written for each member" in out
    assert "team: 'Default group' is Participant 7 'Zed Seven', Participant 8 " \
        "'Ann Eight'" in out
    with sqlite3.connect(gradebook) as connection:
        rows = dict(connection.execute("SELECT platform_id, student FROM collected"))
    assert rows == {"101,102": "team-alpha_101-102", "7,8": "default-group_7-8"}
    assert (tmp_path / "out" / "default-group_7-8" / "initialization.ipynb"
            ).read_bytes() == NOTEBOOK + b" "


def test_a_moodle_extension_in_the_status_is_honoured(tmp_path):
    ada, bo = moodle_prefix("Ada Lovelace", 104), moodle_prefix("Bo Bell", 105)
    write_zip(tmp_path / "m.zip", [
        (moodle_entry(ada, "initialization.ipynb"), NOTEBOOK),
        (moodle_entry(bo, "initialization.ipynb"), NOTEBOOK)])
    extension = moodle_time(2026, 11, 23, 12, 0)
    row_ada = moodle_worksheet_row(104, "Ada Lovelace",
                                   moodle_time(2026, 11, 21, 2, 4))
    row_ada[3] = moodle_status(extension=extension)
    row_bo = moodle_worksheet_row(105, "Bo Bell", moodle_time(2026, 11, 23, 13, 0))
    row_bo[3] = moodle_status(late_by="1 hour", extension=extension)
    (tmp_path / "w.csv").write_text(php_fputcsv([list(WORKSHEET_HEADER), row_ada,
                                                 row_bo]), encoding="utf-8")
    assert row_ada[3] == ("Submitted for grading - Extension granted until: "
                          "Monday, 23 November 2026, 12:00 PM")
    report = collect(tmp_path / "m.zip", tmp_path / "out", "initialization",
                     worksheet=tmp_path / "w.csv", timezone="Europe/Berlin",
                     late_after=parse_deadline("2026-11-20T23:59",
                                               collect_module.time_zone(
                                                   "Europe/Berlin")))
    lateness = {entry.student: (entry.late, entry.reason.split("; ")[-1])
                for entry in report.collected}
    assert lateness == {
        "ada-lovelace_104": (False, "on time: within Moodle's extension until "
                                    "2026-11-23 12:00 CET (2026-11-23 11:00 UTC)"),
        "bo-bell_105": (True, "late by 60 min after Moodle's extension until "
                              "2026-11-23 12:00 CET (2026-11-23 11:00 UTC)")}


def test_moodle_drafts_are_reported_and_skipped_unless_asked(tmp_path):
    ada, wang = moodle_prefix("Ada Lovelace", 104), moodle_prefix("王伟", 105)
    write_zip(tmp_path / "m.zip", [
        (moodle_entry(ada, "initialization.ipynb"), NOTEBOOK),
        (moodle_entry(wang, "initialization.ipynb"), NOTEBOOK)])
    when = moodle_time(2026, 11, 20, 8, 0)
    row_wang = moodle_worksheet_row(105, "王伟", when)
    row_wang[3] = moodle_status(draft=True)
    (tmp_path / "w.csv").write_text(php_fputcsv([
        list(WORKSHEET_HEADER), moodle_worksheet_row(104, "Ada Lovelace", when),
        row_wang]), encoding="utf-8")
    report = collect(tmp_path / "m.zip", tmp_path / "out", "initialization",
                     worksheet=tmp_path / "w.csv")
    assert [entry.student for entry in report.collected] == ["ada-lovelace_104"]
    assert _entries(report)["王伟_105_assignsubmission_file/initialization.ipynb"] \
        == ("skipped", "student_105", "Moodle's Status says Draft (not submitted): "
            "saved, never submitted for grading; not graded (give --drafts grade "
            "to grade drafts)")
    report = collect(tmp_path / "m.zip", tmp_path / "out2", "initialization",
                     worksheet=tmp_path / "w.csv", drafts="grade")
    assert _entries(report)["王伟_105_assignsubmission_file/initialization.ipynb"] \
        == ("collected", "student_105", "named like the assignment "
            "(initialization.ipynb); Moodle's Status says Draft (not submitted): "
            "saved, never submitted for grading, graded (--drafts grade)")


def test_a_canvas_sortable_name_ending_in_digits(tmp_path):
    # "Nguyen, Anh_2": sanitize_user_name's /_(\d+)_/ leaves a trailing "_2".
    nguyen = canvas_called("Nguyen, Anh_2", 1007)
    assert nguyen == "nguyenanh_2_1007"
    write_zip(tmp_path / "c.zip", [
        (canvas_upload(nguyen, 5007, "initialization.ipynb"), NOTEBOOK),
        (canvas_upload(nguyen, 5008, "scratch.ipynb"), NOTEBOOK + b" "),
        (canvas_upload(canvas_called("Lee, Sam", 1008), 5009,
                       "initialization.ipynb"), NOTEBOOK)])
    gradebook = tmp_path / "gradebook.sqlite"
    report = collect(tmp_path / "c.zip", tmp_path / "out", "initialization",
                     gradebook)
    found = _entries(report)
    assert found["nguyenanh_2_1007_5007_initialization.ipynb"][:2] == (
        "collected", "nguyenanh-2_1007")
    assert "read as user 1007 because its file is named like the assignment; " \
        "it could also be user 2 ('nguyenanh', file '5007_initialization.ipynb')" \
        in found["nguyenanh_2_1007_5007_initialization.ipynb"][2]
    assert found["nguyenanh_2_1007_5008_scratch.ipynb"][:2] == (
        "not graded", "nguyenanh-2_1007")
    with sqlite3.connect(gradebook) as connection:
        assert sorted(connection.execute("SELECT platform_id FROM collected")) == [
            ("1007",), ("1008",)]
    # Nothing tells the readings apart: the first (as Canvas's re-upload reads
    # it), said loudly.
    write_zip(tmp_path / "d.zip", [
        (canvas_upload(nguyen, 5008, "scratch.ipynb"), NOTEBOOK)])
    report = collect(tmp_path / "d.zip", tmp_path / "out2", "initialization")
    assert "read as user 2, the first way, as Canvas's own re-upload reads it; " \
        "CHECK; it could also be user 1007" in report.collected[0].reason
