"""book/_ext/prose_eval.py on a one-page Sphinx project (fast; the book is slow)."""

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.conftest import BOOK_DIR

CONF = f"""
import sys
sys.path.insert(0, {str(BOOK_DIR / "_ext")!r})
extensions = ["myst_nb", "prose_eval"]
nb_execution_mode = "off"
nb_eval_name_regex = r"^prose\\.[A-Za-z][A-Za-z0-9_]*$"
exclude_patterns = ["_build"]
"""


def _glued(name: str, text: str):
    return new_output("display_data",
                      data={"application/papermill.record/text/plain": text},
                      metadata={"scrapbook": {"name": name,
                                              "mime_prefix":
                                              "application/papermill.record/"}})


def _page(markdown: str):
    notebook = new_notebook(cells=[
        new_markdown_cell("# Page"),
        new_code_cell("prose.cost = '0.0648'", execution_count=1,
                      outputs=[_glued("cost", "0.0648"), _glued("n", "300")]),
        new_markdown_cell(markdown)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


@pytest.mark.build
def test_prose_values_show_and_a_value_not_stored_fails_the_strict_build(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(CONF)
    (source / "index.rst").write_text(".. toctree::\n\n   good\n   bad\n")
    nbformat.write(_page("Cost {eval}`prose.cost` over {eval}`prose.n`."),
                   source / "good.ipynb")
    nbformat.write(_page("A {eval}`prose.missing` and {eval}`1 + 1`."),
                   source / "bad.ipynb")
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(source), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0
    warnings = completed.stderr
    assert "good.ipynb" not in warnings, warnings
    assert "bad.ipynb" in warnings and "prose.missing is not stored" in warnings
    assert "'1 + 1' is not prose.NAME" in warnings
    html = (tmp_path / "html" / "good.html").read_text()
    prose = html[html.index("Cost"):]
    assert ">0.0648<" in prose and ">300<" in prose and "prose." not in prose
