"""``course-grade collect``: formats, limits and hostile entries (no grading)."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import stat
import zipfile

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
    monkeypatch.setattr(collect_module, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(CollectError, match=r"expands to \d+ bytes; the limit is 1000"):
        collect(archive, tmp_path / "out", "initialization")


def test_hostile_entries_never_leave_the_target(tmp_path):
    archive = tmp_path / "moodle.zip"
    link = zipfile.ZipInfo("Lin Link_3_assignsubmission_file_/initialization.ipynb",
                           WHEN)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    device = zipfile.ZipInfo("Dev Ice_4_assignsubmission_file_/initialization.ipynb",
                             WHEN)
    device.external_attr = (stat.S_IFBLK | 0o600) << 16
    build_zip(archive, [
        ("Ada Lovelace_1_assignsubmission_file_/initialization.ipynb", NOTEBOOK,
         WHEN),
        ("Eve_2_assignsubmission_file_/../../../../tmp/evil.ipynb", NOTEBOOK, WHEN),
        (link, b"/etc/shadow"), (device, b""),
        ("Ada Lovelace_1_assignsubmission_file_/initialization (1).ipynb", NOTEBOOK
         + b" ", (2026, 11, 20, 13, 0, 0))])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dev-ice_4").symlink_to(tmp_path)
    report = collect(archive, tmp_path / "out", "initialization")
    assert [entry.student for entry in report.collected] == ["ada-lovelace_1"]
    assert set(_reasons(report).values()) == {
        "path outside the target folder (zip slip)", "symbolic link",
        "not a regular file (device, pipe or socket)",
        "an older submission; kept Ada Lovelace_1_assignsubmission_file_/"
        "initialization (1).ipynb"}
    assert (tmp_path / "out" / "ada-lovelace_1" / "initialization.ipynb"
            ).read_bytes() == NOTEBOOK + b" "
    assert not (tmp_path / "evil.ipynb").exists() and not os.path.exists(
        "/tmp/evil.ipynb")
    assert sorted(os.listdir(tmp_path / "out")) == ["ada-lovelace_1", "dev-ice_4"]


def test_cli_errors_are_one_line_and_name_the_argument(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
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
