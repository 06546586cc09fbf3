"""The students' handout: a wheel of ``course_utils`` without the instructor's side.

Documented on the pages "Graded exercises for students" and "Instructor guide".
``course-grade release`` writes it beside the student notebooks, and the
course website serves the same file (``book/_ext/handout_wheel.py``), so a
student installs it with one line on a laptop, a JupyterHub or Colab.

What it holds, and why:

- every module the chapters and the exercises import (``data``,
  ``initializers``, ``network`` and its engine, ``plots``, ``animation``,
  ``interactive``, ``prose``, ``self_checks``) and the stored data set;
- not ``course_utils.grading`` (the grader: a student never runs it, and the
  grading sandbox imports the instructor's own installation) and not
  ``course_utils.notebooks`` (the authors' tool that re-executes the chapters):
  both import ``nbformat`` or ``nbclient``, which the handout does not install,
  so shipping them would only ship modules that fail on import;
- the runtime dependencies of what it holds, and nothing else: NumPy,
  Matplotlib (which brings Pillow, used by ``animation``) and threadpoolctl
  (``train_seeds``). scikit-learn is left out: only
  :func:`course_utils.data.make_circles_split` uses it, no chapter or exercise
  calls it, and the canonical data set is stored in the package. IPython,
  which ``prose`` and ``plots`` import when they run in a notebook, comes with
  every Jupyter kernel; ipywidgets, which only the slider of
  :func:`course_utils.interactive.scale_explorer` imports, is not needed by
  the exercises.

The version bounds are the package's own (``pyproject.toml``). The wheel is
written byte for byte the same from the same sources (fixed times, order and
permissions; the same zlib compresses them the same), so the release folder's
wheel and the website's built on the same machine are the same file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import zipfile
from importlib import metadata
from pathlib import Path

import course_utils

DISTRIBUTION = "course-utils"
STUDENT_DEPENDENCIES = ("numpy", "matplotlib", "threadpoolctl")
LEFT_OUT = ("grading", "notebooks.py")  # relative to the package folder
SUMMARY = ("The weight-initialization course's library for students: data, "
           "initializers, network, plots and the exercises' self-checks.")
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # every entry's time: the same bytes every build


def student_requirements() -> list[str]:
    """The handout's ``Requires-Dist`` lines: the package's bounds, students' names.

    Introduced in the chapter "Instructor guide".

    Returns
    -------
    list of str
        For example ``["numpy>=2.0", "matplotlib>=3.8", "threadpoolctl>=3.1"]``.
    """
    declared = {_requirement_name(line): line
                for line in metadata.requires(DISTRIBUTION) or []}
    missing = [name for name in STUDENT_DEPENDENCIES if name not in declared]
    if missing:
        raise RuntimeError(f"pyproject.toml does not declare {', '.join(missing)}")
    return [declared[name] for name in STUDENT_DEPENDENCIES]


def wheel_name() -> str:
    """The handout's file name, ``course_utils-<version>-py3-none-any.whl``.

    Introduced in the chapter "Instructor guide".

    Returns
    -------
    str
    """
    return f"{_dist_info_stem()}-py3-none-any.whl"


def build_wheel() -> bytes:
    """The handout wheel's bytes, the same for the same sources.

    Introduced in the chapter "Instructor guide".

    Returns
    -------
    bytes
    """
    entries = [(f"course_utils/{name}", path.read_bytes())
               for name, path in _package_files()]
    dist_info = f"{_dist_info_stem()}.dist-info"
    entries += [(f"{dist_info}/METADATA", _metadata().encode()),
                (f"{dist_info}/WHEEL", _wheel_file().encode()),
                (f"{dist_info}/top_level.txt", b"course_utils\n")]
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in entries]
    record.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def write_wheel(folder: str | Path) -> Path:
    """Write the handout wheel into ``folder`` (created if missing); return its path.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Path
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / wheel_name()
    temporary = folder / f".{target.name}.{os.getpid()}.writing"
    temporary.write_bytes(build_wheel())
    os.replace(temporary, target)
    return target


def check_wheel(folder: str | Path) -> Path:
    """Check that ``folder`` holds the current handout wheel; return its path.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        The wheel is missing.
    ValueError
        It differs from what ``course-grade release`` would write now.
    """
    target = Path(folder) / wheel_name()
    if not target.is_file():
        raise FileNotFoundError(f"release_dir: {target} is missing; run "
                                "course-grade release")
    if target.read_bytes() != build_wheel():
        raise ValueError(f"release_dir: {target} differs from the current "
                         "course_utils; release again")
    return target


def _package_files() -> list[tuple[str, Path]]:
    root = Path(course_utils.__file__).parent
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in LEFT_OUT or "__pycache__" in relative.parts:
            continue
        if path.is_file() and path.suffix in (".py", ".npz"):
            files.append((relative.as_posix(), path))
    return files


def _dist_info_stem() -> str:
    return f"course_utils-{metadata.version(DISTRIBUTION)}"


def _metadata() -> str:
    installed = metadata.metadata(DISTRIBUTION)
    lines = ["Metadata-Version: 2.1", f"Name: {DISTRIBUTION}",
             f"Version: {installed['Version']}", f"Summary: {SUMMARY}",
             f"Requires-Python: {installed['Requires-Python']}",
             "License: MIT"]
    lines += [f"Requires-Dist: {line}" for line in student_requirements()]
    return "\n".join(lines) + "\n"


def _wheel_file() -> str:
    return ("Wheel-Version: 1.0\nGenerator: course-grade release\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n")


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _requirement_name(line: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", line, maxsplit=1)[0].lower()
