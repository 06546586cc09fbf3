"""Every public function has a numpydoc docstring naming the chapter it comes from."""

import importlib
import inspect
import json
import pkgutil
import re

import pytest
import yaml

import course_utils
from tests.conftest import REPO_ROOT

CHAPTER = re.compile(r'Introduced in the chapters?\s+"([^"]+)"')


def _page_titles() -> set[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [chapter["file"] for part in toc["parts"]
                             for chapter in part["chapters"]]
    titles = set()
    for name in files:
        md = REPO_ROOT / f"{name}.md"
        if md.exists():
            text = md.read_text()
        else:
            cells = json.loads((REPO_ROOT / f"{name}.ipynb").read_text())["cells"]
            text = "".join(cells[0]["source"])
        titles.add(re.search(r"^# (.+)$", text, re.MULTILINE).group(1).strip())
    return titles


def _modules():
    yield course_utils
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        # Private modules (_validation) and the entry point are not public API.
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            yield importlib.import_module(info.name)


def _public_members():
    for module in _modules():
        for name, member in vars(module).items():
            if name.startswith("_") or getattr(member, "__module__", None) \
                    != module.__name__:
                continue
            if inspect.isfunction(member) or inspect.isclass(member):
                yield f"{module.__name__}.{name}", member


PAGE_TITLES = _page_titles()
MEMBERS = sorted(_public_members(), key=lambda item: item[0])


@pytest.mark.parametrize(("qualified_name", "member"), MEMBERS,
                         ids=[name for name, _ in MEMBERS])
def test_docstring_names_a_chapter_of_the_book(qualified_name, member):
    doc = inspect.getdoc(member)
    assert doc, f"{qualified_name} has no docstring"
    match = CHAPTER.search(doc)
    assert match, f"{qualified_name} does not name the chapter introducing it"
    assert match.group(1) in PAGE_TITLES, f"no page titled {match.group(1)!r}"


@pytest.mark.parametrize(("qualified_name", "member"),
                         [(name, member) for name, member in MEMBERS
                          if inspect.isfunction(member)],
                         ids=[name for name, member in MEMBERS
                              if inspect.isfunction(member)])
def test_functions_with_arguments_document_them(qualified_name, member):
    if inspect.signature(member).parameters and not qualified_name.endswith(
            (".relu", ".sigmoid")):
        assert "Parameters\n----------" in inspect.getdoc(member), qualified_name


def test_every_name_in_all_is_importable():
    for name in course_utils.__all__:
        assert hasattr(course_utils, name)
