"""Re-execute the chapters in place and keep their files clean (for authors).

Introduced in the chapter
"Why the initial weights matter" (how the book is made). Run as
``python -m course_utils.notebooks execute book`` (``make execute``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python",
              "name": KERNEL_NAME}
# Cell metadata worth keeping: tags, myst-nb rendering options, and the grading
# markers of the exercises. Everything else (execution timings, editor state,
# collapsed/scrolled flags) is noise in a diff.
KEPT_CELL_METADATA = ("tags", "mystnb", "course_grade")
# A widget's view output only points at a model whose state lives in the
# notebook's metadata, which is not kept: stored, it would show as "model not
# found" in JupyterLab until the cell is run again.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def find_notebooks(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of ``.ipynb`` files.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    paths : iterable of str or Path
        Notebook files or folders to search recursively.

    Returns
    -------
    list of Path
    """
    found = set()
    for path in map(Path, paths):
        if path.is_dir():
            found.update(nb for nb in path.rglob("*.ipynb")
                         if ".ipynb_checkpoints" not in nb.parts)
        elif path.suffix == ".ipynb" and path.exists():
            found.add(path)
        else:
            raise FileNotFoundError(f"paths: {path} is neither a folder nor a notebook")
    return sorted(found)


def clean_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip volatile metadata and set the ``python3`` kernelspec, in place.

    Introduced in the chapter "Why the initial weights matter". Widget state
    (the notebook's ``widgets`` metadata) and the outputs that display widgets
    are dropped too: a widget works only in a running kernel, and the reader
    makes a fresh one by running the cell.

    Parameters
    ----------
    notebook : nbformat.NotebookNode

    Returns
    -------
    nbformat.NotebookNode
        The same notebook.
    """
    notebook.metadata = nbformat.from_dict({
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    })
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict(
            {key: value for key, value in cell.metadata.items()
             if key in KEPT_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(
                [output for output in cell.outputs
                 if WIDGET_VIEW not in output.get("data", {})])
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    return notebook


def _merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks into one output.

    How a kernel splits a stream into chunks depends on timing; merged, the
    stored notebook is the same on every run.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def execute_notebook(path: Path, timeout: int = 600) -> None:
    """Run a notebook top to bottom in its own folder and store the outputs.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    path : Path
        The notebook, rewritten in place.
    timeout : int, default 600
        Seconds allowed for each cell.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.validate(clean_notebook(notebook))
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``execute PATH...`` or ``clean PATH...``.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    argv : list of str, optional
        Arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m course_utils.notebooks")
    parser.add_argument("action", choices=["execute", "clean"])
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args(argv)
    for path in find_notebooks(arguments.paths):
        print(f"{arguments.action}: {path}", flush=True)
        if arguments.action == "execute":
            execute_notebook(path)
        else:
            notebook = clean_notebook(nbformat.read(path, as_version=4))
            nbformat.write(notebook, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
