"""``course-grade demo``: the practice class's files, beyond the guide's walkthrough.

The walkthroughs themselves run in ``tests/test_instructor_guide.py``.
"""

from __future__ import annotations

import csv
import re
import time
import zipfile

import pytest

from course_utils.grading.boundary import MAX_SUBMISSION_BYTES
from course_utils.grading.cli import main
from tests.conftest import REPO_ROOT

SOURCE = str(REPO_ROOT / "exercises" / "source")


def _demo(capsys, folder, platform: str, *more: str) -> tuple[int, str, str]:
    status = main(["demo", str(folder), "--platform", platform, "--source", SOURCE,
                   *more])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("platform", ["canvas", "moodle"])
def test_the_download_is_dated_once_small_and_holds_the_huge_files(
        tmp_path, capsys, platform):
    started = time.perf_counter()
    status, out, _ = _demo(capsys, tmp_path / "class", platform)
    assert status == 0
    assert time.perf_counter() - started < 20
    archive_path = tmp_path / "class" / "submissions.zip"
    # Declared over the per-file limit, cheap on disk.
    assert archive_path.stat().st_size < 2 * 2**20
    with zipfile.ZipFile(archive_path) as archive:
        infos = archive.infolist()
    assert len({info.date_time for info in infos}) == 1
    huge = [info.filename for info in infos if info.file_size > MAX_SUBMISSION_BYTES]
    assert len(huge) == 2
    assert any(name.endswith("circles_big.csv") for name in huge)
    assert f"next: course-grade collect {archive_path}" in out
    # One line per student (24 who submit, 2 in the gradebook file only).
    assert len(re.findall(r"points from the functions|nothing \(in the", out)) == 26


def test_the_moodle_worksheet_names_every_folder(tmp_path, capsys):
    assert _demo(capsys, tmp_path / "class", "moodle", "--students", "30")[0] == 0
    with zipfile.ZipFile(tmp_path / "class" / "submissions.zip") as archive:
        folders = {name.split("/")[0] for name in archive.namelist()}
    assert len(folders) == 30
    assert all(re.fullmatch(r".+_\d+_assignsubmission_file", f) for f in folders)
    with open(tmp_path / "class" / "worksheet.csv", newline="",
              encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith("\ufeffIdentifier,")
    rows = list(csv.DictReader(text[1:].splitlines()))
    assert len(rows) == 32
    in_zip = {f.split("_")[-3] for f in folders}
    submitted = {row["Identifier"].split()[-1] for row in rows
                 if row["Status"] != "No submission"}
    assert submitted == in_zip
    assert sum(" late" in row["Status"] for row in rows) >= 2


def test_the_canvas_gradebook_has_points_possible_and_another_column(
        tmp_path, capsys):
    assert _demo(capsys, tmp_path / "class", "canvas", "--students", "14")[0] == 0
    with open(tmp_path / "class" / "canvas-gradebook.csv", newline="",
              encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][5:7] == ["Quiz 1 (4700)", "Initialization (4711)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][6] == "9.00"
    assert len(rows) == 2 + 16
    assert all(row[6] == "" for row in rows[2:])


def test_demo_refuses_a_folder_in_use_and_a_class_out_of_range(tmp_path, capsys):
    used = tmp_path / "used"
    used.mkdir()
    (used / "grades.csv").write_text("mine")
    status, _, err = _demo(capsys, used, "canvas")
    assert status == 1 and "not an empty folder" in err
    assert (used / "grades.csv").read_text() == "mine"
    for size in ("13", "31"):
        status, _, err = _demo(capsys, tmp_path / f"class{size}", "canvas",
                               "--students", size)
        assert status == 1 and "14 to 30 students" in err
