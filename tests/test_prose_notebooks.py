"""convert-prose, the {eval} results execute stores, and check-prose."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.notebooks import (
    KEPT_CELL_METADATA,
    clean_notebook,
    convert_prose,
    eval_expressions,
    execute_notebook,
    main,
    page_title,
    prose_problems,
)

IMPORTS = """import numpy as np
from myst_nb import glue

from course_utils import load_dataset
from course_utils.plots import use_course_style

use_course_style()"""


def _chapter(tmp_path):
    (tmp_path / "exercise.ipynb").write_text(nbformat.writes(new_notebook(cells=[
        new_markdown_cell("# Graded exercise: zeros\n\nText.")])))
    (tmp_path / "guide.md").write_text("Intro line\n# Instructor guide\n")
    return new_notebook(cells=[
        new_markdown_cell("# A chapter"),
        new_code_cell(IMPORTS),
        new_code_cell('cost = 0.123456\ncount = 3\nglue("cost", cost, display=False)\n'
                      'for name in ["a", "b"]:\n'
                      '    glue(f"{name}_n", f"{count:.1f}", display=False)\n'
                      'glue("count", count, display=False)'),
        new_markdown_cell("Cost {glue:text}`cost:.4f`, a {glue:text}`a_n`, "
                          "count {glue}`count`.\n\nSee [](exercise.ipynb) and "
                          "the [](guide.md)."),
    ])


def test_convert_prose_rewrites_glue_formats_imports_and_links(tmp_path):
    notebook = _chapter(tmp_path)
    notes = convert_prose(notebook, tmp_path)
    assert notes == []
    assert notebook.cells[1].source == IMPORTS.replace(
        "from myst_nb import glue\n", "").replace(
        "use_course_style\n", "use_course_style\nfrom course_utils.prose import "
        "Prose\n").replace("\nuse_course_style()", "\nprose = Prose()\n"
                           "use_course_style()")
    assert notebook.cells[2].source == (
        'cost = 0.123456\ncount = 3\nprose.cost = f"{cost:.4f}"\n'
        'for name in ["a", "b"]:\n'
        '    setattr(prose, f"{name}_n", f"{count:.1f}")\n'
        "prose.count = count")
    assert notebook.cells[3].source == (
        "Cost {eval}`prose.cost`, a {eval}`prose.a_n`, count {eval}`prose.count`."
        "\n\nSee [Graded exercise: zeros](exercise.ipynb) and the "
        "[Instructor guide](guide.md).")


def test_convert_prose_reports_what_it_cannot_convert(tmp_path):
    notebook = new_notebook(cells=[
        new_code_cell('glue("shown", 1)\nglue("text", f"{x:.2f}", display=False)'),
        new_markdown_cell("{glue:text}`text:.1f` {glue:md}`shown` [](missing.md)"),
    ])
    notes = "\n".join(convert_prose(notebook, tmp_path))
    assert "glue(\"shown\", 1)" in notes and "convert by hand" in notes
    assert "text's value is already text" in notes
    assert "{glue} role or directive that is not plain text remains" in notes
    assert "no title found for the link [](missing.md)" in notes
    assert "no cell imported glue" in notes


def test_convert_prose_refuses_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="notebook: expected"):
        convert_prose({"cells": []}, tmp_path)
    with pytest.raises(FileNotFoundError, match="folder: "):
        convert_prose(new_notebook(), tmp_path / "nowhere")
    with pytest.raises(TypeError, match="markdown: expected str"):
        eval_expressions(None)
    with pytest.raises(TypeError, match="notebook: expected"):
        prose_problems([])


def test_page_title_reads_notebooks_and_markdown(tmp_path):
    _chapter(tmp_path)
    assert page_title(tmp_path / "exercise.ipynb") == "Graded exercise: zeros"
    assert page_title(tmp_path / "guide.md") == "Instructor guide"
    assert page_title(tmp_path / "missing.md") is None


def test_execute_stores_eval_results_and_check_prose_accepts_them(tmp_path, capsys):
    notebook = _chapter(tmp_path)
    convert_prose(notebook, tmp_path)
    notebook.cells.insert(2, new_markdown_cell("Before: {eval}`prose.count`"))
    notebook.cells[2].metadata["user_expressions"] = [{"expression": "old"}]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    # Set only below the first cell that shows it: the kernel cannot answer.
    with pytest.raises(Exception, match=r"prose.count.*never set"):
        execute_notebook(path)
    notebook.cells.pop(2)
    nbformat.write(notebook, path)
    execute_notebook(path)
    executed = nbformat.read(path, as_version=4)
    stored = executed.cells[3].metadata["user_expressions"]
    assert [entry["expression"] for entry in stored] == [
        "prose.cost", "prose.a_n", "prose.count"]
    assert [entry["result"]["data"]["text/plain"] for entry in stored] == [
        "0.1235", "3.0", "3"]
    assert all(entry["result"]["status"] == "ok" for entry in stored)
    assert prose_problems(executed) == []
    assert main(["check-prose", str(path)]) == 0
    # The stored result must agree with the verified glue output.
    stored[0]["result"]["data"]["text/plain"] = "0.1234"
    nbformat.write(executed, path)
    assert main(["check-prose", str(path)]) == 1
    assert "prose.cost shows '0.1234' but the verified output is '0.1235'" in (
        capsys.readouterr().out)


def test_check_prose_finds_each_kind_of_problem():
    glued = new_code_cell("prose.a = 1", outputs=[nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "1"},
        metadata={"scrapbook": {"name": "a", "mime_prefix": ""}})])
    notebook = new_notebook(cells=[
        new_markdown_cell("{eval}`prose.a` {eval}`x` {eval}`prose.b` "
                          "{eval}`prose.c` {glue:text}`a` [](page.md)"),
        glued,
        new_markdown_cell("{eval}`prose.a`"),
        new_code_cell("prose.c = 2", outputs=[nbformat.v4.new_output(
            "display_data", data={"application/papermill.record/text/plain": "2"},
            metadata={"scrapbook": {"name": "c", "mime_prefix": ""}})]),
    ])
    notebook.cells[0].metadata["user_expressions"] = [
        {"expression": "gone", "result": {"status": "ok", "data": {}}}]
    problems = "\n".join(prose_problems(notebook))
    for expected in ("a {glue} role or directive remains", "`x` is not prose.NAME",
                     "prose.b is not glued", "prose.a is set only below",
                     "no stored result for prose.a", "no longer in the text",
                     "the link [](page.md) has no text"):
        assert expected in problems
    assert len(prose_problems(notebook)) == 8


def test_clean_notebook_keeps_user_expressions():
    assert "user_expressions" in KEPT_CELL_METADATA
    cell = new_markdown_cell("{eval}`prose.a`")
    cell.metadata.update(user_expressions=[{"expression": "prose.a"}], editable=True)
    cleaned = clean_notebook(new_notebook(cells=[cell]))
    assert set(cleaned.cells[0].metadata) == {"user_expressions"}
