"""The students' handout: the wheel runs both assignments in an empty environment.

``course-grade release`` writes a wheel of ``course_utils``; this installs it
into a new, empty virtual environment outside the repository (with the
project's ``uv`` and ``constraints.txt``, so the pinned wheels come from uv's
cache), and runs each assignment's imports, reference solutions and public
self-checks there, as a student's notebook would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_utils.grading.assignment import load_assignment
from course_utils.grading.cli import main as course_grade
from course_utils.grading.handout import wheel_name
from course_utils.grading.pages import SITE_URL
from tests.conftest import ASSIGNMENTS, BOOK_DIR, REPO_ROOT, SOURCE_DIR

# What a student's code needs, and nothing else: NumPy, Matplotlib (the plots)
# and threadpoolctl (train_seeds). Written out here, not read from the code.
MINIMAL_DEPENDENCIES = {"numpy", "matplotlib", "threadpoolctl"}
# Never in a student's environment: the instructor's and authors' tools.
AUTHORING_TOOLS = {"scikit-learn", "nbformat", "nbclient", "jupyterlab", "notebook",
                   "jupyter-book", "sphinx", "pytest", "ipykernel"}
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)
STUDENTS_PAGE = BOOK_DIR / "exercises" / "students.md"


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    assert course_grade(["release", str(SOURCE_DIR), str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def student_env(released, tmp_path_factory) -> Path:
    """An empty venv with only the released wheel (and what it requires) installed."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    uv = Path(sys.executable).with_name("uv")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([uv, "venv", "--quiet", "--python", sys.executable, venv], environment)
    python = venv / "bin" / "python"
    install = [uv, "pip", "install", "--quiet", "--python", python,
               "--constraints", REPO_ROOT / "constraints.txt", released / wheel_name()]
    # From uv's cache (warm wherever `make` set up the course), else the index.
    offline = subprocess.run([str(part) for part in [*install, "--offline"]],
                             capture_output=True, env=environment, timeout=300)
    if offline.returncode != 0:
        _run(install, environment)
    return python


def _run(command: list, environment: dict | None = None, cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(part) for part in command], capture_output=True,
                               text=True, env=environment, cwd=cwd, timeout=300)
    assert completed.returncode == 0, \
        completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def _student_script(assignment: str) -> tuple[str, int]:
    """The imports, the reference solutions and the self-checks, in notebook order.

    Returns the script and how many self-checks it calls.
    """
    parsed = load_assignment(SOURCE_DIR / f"{assignment}.ipynb")
    graded = {function.cell_index for function in parsed.functions.values()}
    cells, checks = [], 0
    for index, cell in enumerate(parsed.notebook.cells):
        if cell.cell_type != "code":
            continue
        if index in parsed.setup_cells or index in graded:
            cells.append(cell.source)
        elif f"{assignment}.check_" in cell.source:
            cells.append(HIDDEN.sub("", cell.source))
            checks += cell.source.count(f"{assignment}.check_")
    return "\n\n".join(cells) + "\n", checks


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_self_checks_pass_in_an_empty_environment(student_env, tmp_path, assignment):
    script, checks = _student_script(assignment)
    assert checks == len(ASSIGNMENTS[assignment])
    path = tmp_path / f"{assignment}.py"
    path.write_text(script)
    environment = {key: value for key, value in os.environ.items()
                   if key != "PYTHONPATH"} | {"MPLBACKEND": "Agg"}
    completed = _run([student_env, path], environment, cwd=tmp_path)
    assert completed.stdout.count("All tests passed.") == checks, completed.stdout


def test_environment_holds_the_wheel_and_its_minimal_dependencies(student_env,
                                                                   tmp_path):
    probe = """
import importlib, importlib.metadata as metadata, json, pathlib, re, sys
import course_utils
package = pathlib.Path(course_utils.__file__).parent
modules = sorted("course_utils." + ".".join(path.relative_to(package)
                 .with_suffix("").parts) for path in package.rglob("*.py"))
for module in modules:
    importlib.import_module(module.removesuffix(".__init__"))
print(json.dumps({
    "file": course_utils.__file__,
    "requires": metadata.requires("course-utils"),
    "installed": sorted(re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
                        for dist in metadata.distributions()),
    "modules": modules,
    "grading": importlib.util.find_spec("course_utils.grading") is not None,
    "notebooks": importlib.util.find_spec("course_utils.notebooks") is not None,
}))
"""
    environment = dict(os.environ, MPLBACKEND="Agg")
    environment.pop("PYTHONPATH", None)
    found = json.loads(_run([student_env, "-c", probe], environment,
                            cwd=tmp_path).stdout)
    assert Path(found["file"]).is_relative_to(student_env.parent.parent)
    assert {re.split(r"[<>=!~ ]", line)[0] for line in found["requires"]} \
        == MINIMAL_DEPENDENCIES
    assert not AUTHORING_TOOLS & set(found["installed"])
    assert not found["grading"] and not found["notebooks"]
    assert "course_utils.self_checks.initialization" in found["modules"]


def test_wheel_metadata_declares_exactly_the_minimal_dependencies(released):
    with zipfile.ZipFile(released / wheel_name()) as wheel:
        names = wheel.namelist()
        metadata = Parser().parsestr(
            wheel.read(f"{wheel_name().split('-py3')[0]}.dist-info/METADATA")
            .decode())
    assert {re.split(r"[<>=!~ ]", line)[0]
            for line in metadata.get_all("Requires-Dist")} == MINIMAL_DEPENDENCIES
    assert "course_utils/two_circles.npz" in names
    assert not [name for name in names if name.startswith("course_utils/grading")
                or name == "course_utils/notebooks.py"]
    assert not [name for name in names if name.endswith(".pyc")]


def test_site_serves_the_released_wheel(released, tmp_path):
    sys.path.insert(0, str(BOOK_DIR / "_ext"))
    try:
        from handout_wheel import add_wheel
    finally:
        sys.path.remove(str(BOOK_DIR / "_ext"))
    config = SimpleNamespace(html_extra_path=[])
    add_wheel(SimpleNamespace(outdir=str(tmp_path / "_build" / "html")), config)
    served = Path(config.html_extra_path[0]) / wheel_name()
    assert served.read_bytes() == (released / wheel_name()).read_bytes()
    assert course_grade(["release", str(SOURCE_DIR), str(released), "--check"]) == 0


def test_release_check_refuses_a_stale_wheel(released, tmp_path, capsys):
    stale = tmp_path / "release"
    assert course_grade(["release", str(SOURCE_DIR), str(stale)]) == 0
    with zipfile.ZipFile(stale / wheel_name(), "a") as wheel:
        wheel.writestr("course_utils/extra.py", "")
    assert course_grade(["release", str(SOURCE_DIR), str(stale), "--check"]) == 1
    assert "differs from the current course_utils" in capsys.readouterr().err


def test_students_page_gives_one_install_line_per_place():
    page = STUDENTS_PAGE.read_text()
    url = f"{SITE_URL}/{wheel_name()}"
    assert re.search(rf"python3? -m venv \S+\n.*activate\n\s*pip install "
                     rf"\"{re.escape(url)}\"", page), "laptop"
    assert f"pip install --user \"{url}\"" in page, "JupyterHub"
    assert f"%pip install \"{url}\"" in page, "Colab"
    assert "outside the course folder" in page


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_student_pages_state_the_points_the_grader_uses(assignment):
    parsed = load_assignment(SOURCE_DIR / f"{assignment}.ipynb")
    total = parsed.max_points + parsed.written_max_points
    student = json.loads((BOOK_DIR / "exercises" / f"{assignment}.ipynb").read_text())
    text = "".join(student["cells"][0]["source"])
    assert re.search(rf"\b{total:g} in\s+total\b", text), text
    for function in parsed.functions.values():
        header = f"# GRADED FUNCTION: {function.name} ({function.points:g} points)"
        assert any("".join(cell["source"]).startswith(header)
                   for cell in student["cells"])
    for question in parsed.questions.values():
        if question.points:
            assert re.search(rf"\({question.points:g} points\b", "".join(
                "".join(cell["source"]) for cell in student["cells"]))
    page = STUDENTS_PAGE.read_text()
    link = re.search(rf"\]\({assignment}\.ipynb\) \((\d+) points\)", page)
    assert link and float(link[1]) == total


def test_site_address_has_one_source():
    """pages.SITE_URL is the site; _config.yml names the repository it is built from.

    GitHub Pages serves https://github.com/OWNER/REPO at
    https://OWNER.github.io/REPO, the address the install lines and the
    feedback pages use.
    """
    import yaml

    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    owner, repository = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)",
                                     config["repository"]["url"]).groups()
    assert f"https://{owner.lower()}.github.io/{repository}" == SITE_URL
    page = STUDENTS_PAGE.read_text()
    assert set(re.findall(r"https://[^\s\"]+\.whl", page)) \
        == {f"{SITE_URL}/{wheel_name()}"}
