"""Re-execute the chapters in place and keep their files clean (for authors).

Introduced in the chapter
"Why the initial weights matter" (how the book is made). Run as
``python -m course_utils.notebooks execute book`` (``make execute``).

Executing also evaluates each Markdown cell's {eval}`prose.NAME` roles in the
kernel, after the code cells above it have run, and stores the results in the
cell's ``user_expressions`` metadata in jupyterlab-myst's format, so a notebook
opened in JupyterLab shows the numbers without running anything.
``convert-prose`` rewrites chapters written with myst-nb's ``glue`` and
``{glue:text}`` to that form (see ``course_utils.prose``); ``check-prose``
reports any {eval} whose stored result is missing or differs from the value
glued under the same name.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.util import ensure_async

from course_utils.prose import PROSE_EXPRESSION

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python",
              "name": KERNEL_NAME}
# Cell metadata worth keeping: tags, myst-nb rendering options, the grading
# markers of the exercises, and the stored {eval} results that jupyterlab-myst
# shows. Everything else (execution timings, editor state, collapsed/scrolled
# flags) is noise in a diff.
KEPT_CELL_METADATA = ("tags", "mystnb", "course_grade", "user_expressions")
# jupyterlab-myst's metadata key for a Markdown cell's evaluated {eval} roles.
USER_EXPRESSIONS = "user_expressions"
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
GLUE_TEXT = "application/papermill.record/text/plain"
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


class _ProseClient(NotebookClient):
    """Runs the code cells and evaluates each Markdown cell's {eval} roles."""

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell.cell_type == "markdown":
            await self._async_store_user_expressions(cell)
            return cell
        return await super().async_execute_cell(cell, cell_index, execution_count,
                                                store_history)

    async def _async_store_user_expressions(self, cell) -> None:
        expressions = eval_expressions(cell.source)
        if not expressions:
            cell.metadata.pop(USER_EXPRESSIONS, None)
            return
        # The request jupyterlab-myst sends when a Markdown cell is run: no
        # code, the expressions keyed by their index.
        msg_id = await ensure_async(self.kc.execute(
            "", silent=True, store_history=False,
            user_expressions={str(i): text for i, text in enumerate(expressions)}))
        reply = await self.async_wait_for_reply(msg_id, cell)
        results = reply["content"].get("user_expressions", {})
        stored = []
        for index, text in enumerate(expressions):
            result = results.get(str(index), {"status": "error", "ename": "NoReply",
                                              "evalue": "", "traceback": []})
            if result.get("status") != "ok":
                raise ValueError(
                    f"{{eval}}`{text}` failed in the cell starting "
                    f"{cell.source[:60]!r}: {result.get('ename')}: "
                    f"{result.get('evalue')} (set it in a code cell above)")
            stored.append({"expression": text, "result": result})
        cell.metadata[USER_EXPRESSIONS] = stored


def eval_expressions(markdown: str) -> list[str]:
    """The expressions of the {eval} roles in a Markdown text, in order.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    markdown : str
        A Markdown cell's source.

    Returns
    -------
    list of str
        One entry per role, repeats included (as jupyterlab-myst stores them).

    Examples
    --------
    >>> eval_expressions("cost {eval}`prose.cost`, accuracy {eval}`prose.acc`")
    ['prose.cost', 'prose.acc']
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown: expected str, got {type(markdown).__name__}")
    return EVAL_ROLE.findall(markdown)


def execute_notebook(path: Path, timeout: int = 600) -> None:
    """Run a notebook top to bottom in its own folder and store the outputs.

    Introduced in the chapter "Why the initial weights matter".

    Each Markdown cell's {eval} roles are evaluated after the code cells
    above it have run; the results go to the cell's ``user_expressions``
    metadata, where jupyterlab-myst reads them.

    Parameters
    ----------
    path : Path
        The notebook, rewritten in place.
    timeout : int, default 600
        Seconds allowed for each cell.
    """
    notebook = nbformat.read(path, as_version=4)
    client = _ProseClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME,
                          resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.validate(clean_notebook(notebook))
    nbformat.write(notebook, path)


def _glued_values(notebook: nbformat.NotebookNode) -> dict[str, tuple[int, str]]:
    """Each glued name: the index of its code cell and its stored text."""
    glued = {}
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = (index, output.get("data", {}).get(GLUE_TEXT))
    return glued


def prose_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What keeps a notebook's prose numbers from being shown and verified.

    Introduced in the chapter "Why the initial weights matter".

    Every {eval} must be ``prose.NAME``, glued as NAME by a code cell above
    it (a stored output that nbval verifies), and have a stored
    ``user_expressions`` result whose text equals the glued text; no myst-nb
    ``{glue`` role or directive and no link without text (``[](page.md)``)
    may remain.

    Parameters
    ----------
    notebook : nbformat.NotebookNode

    Returns
    -------
    list of str
        One sentence per problem; empty when all is well.
    """
    if not isinstance(notebook, nbformat.NotebookNode):
        raise TypeError("notebook: expected an nbformat.NotebookNode, got "
                        f"{type(notebook).__name__}")
    glued = _glued_values(notebook)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        where = f"cell {index} ({cell.source[:40]!r})"
        if re.search(r"\{glue[:}]", cell.source):
            problems.append(f"{where}: a {{glue}} role or directive remains")
        for link in EMPTY_LINK.finditer(cell.source):
            problems.append(f"{where}: the link {link.group(0)} has no text")
        results = {entry.get("expression"): entry.get("result", {})
                   for entry in cell.metadata.get(USER_EXPRESSIONS, [])}
        expressions = eval_expressions(cell.source)
        for text in expressions:
            match = PROSE_EXPRESSION.match(text)
            if match is None:
                problems.append(f"{where}: {{eval}}`{text}` is not prose.NAME")
                continue
            source_cell, glued_text = glued.get(match["name"], (None, None))
            result = results.get(text, {})
            shown = result.get("data", {}).get("text/plain")
            if source_cell is None or glued_text is None:
                problems.append(f"{where}: {text} is not glued by any code cell")
            elif source_cell > index:
                problems.append(f"{where}: {text} is set only below this cell")
            elif result.get("status") != "ok" or shown is None:
                problems.append(f"{where}: no stored result for {text} "
                                "(run make execute)")
            elif shown != glued_text:
                problems.append(f"{where}: {text} shows {shown!r} but the "
                                f"verified output is {glued_text!r}")
        stale = set(results) - set(expressions)
        if stale:
            problems.append(f"{where}: stored results for expressions no longer "
                            f"in the text: {sorted(stale)}")
    return problems


# myst-nb's inline glue roles that show a value as text; {glue:md} and the
# glue directives render Markdown or figures and are left for an author.
GLUE_ROLE = re.compile(
    r"\{glue(?::text|:any|:)?\}`(?P<name>[^`:]+)(?::(?P<fmt>[^`]*))?`")
EMPTY_LINK = re.compile(r"\[\]\((?P<target>[^)\s]+)\)")


def convert_prose(notebook: nbformat.NotebookNode,
                  folder: str | Path = ".") -> list[str]:
    """Rewrite myst-nb glue into ``Prose`` values and {eval} roles, in place.

    Introduced in the chapter "Why the initial weights matter".

    ``glue("name", value, display=False)`` becomes ``prose.name = value``
    (``setattr(prose, key, value)`` for a computed key); a ``{glue:text}``
    format suffix such as ``name:.4f`` moves into the code as
    ``prose.name = f"{value:.4f}"``. Every ``{glue:text}`name``` becomes
    {eval}`prose.name`; ``from myst_nb import glue`` becomes the ``Prose``
    import and ``prose = Prose()``. An empty-text link ``[](page.ipynb)``
    gets the target page's title as its text. Run ``make execute`` after it:
    the stored outputs and ``user_expressions`` are those of the old code.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook, changed in place.
    folder : str or Path, default "."
        The notebook's folder, against which link targets are resolved.

    Returns
    -------
    list of str
        What an author must check or fix by hand (empty when nothing).
    """
    if not isinstance(notebook, nbformat.NotebookNode):
        raise TypeError("notebook: expected an nbformat.NotebookNode, got "
                        f"{type(notebook).__name__}")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder: {folder} is not a folder")
    notes: list[str] = []
    formats: dict[str, set[str]] = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in GLUE_ROLE.finditer(cell.source):
                formats.setdefault(match["name"].strip(), set()).add(
                    match["fmt"] or "")
    used_formats: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.source = _convert_glue_calls(cell.source, formats, used_formats,
                                              notes, index)
        elif cell.cell_type == "markdown":
            cell.source = GLUE_ROLE.sub(
                lambda match: f"{{eval}}`prose.{match['name'].strip()}`",
                cell.source)
            if re.search(r"\{glue[:}]", cell.source):
                notes.append(f"cell {index}: a {{glue}} role or directive that is "
                             "not plain text remains; rewrite it by hand")
            cell.source = EMPTY_LINK.sub(
                lambda match, index=index: _link_with_title(match, folder, notes,
                                                            index),
                cell.source)
    for name, fmts in sorted(formats.items()):
        if fmts - {""} and name not in used_formats:
            notes.append(f"{name}: the prose formats it as {sorted(fmts)} but no "
                         "glue call could take the format; format it in the code")
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    if any("prose." in text for text in code) and not any(
            "import Prose" in text for text in code):
        notes.append("no cell imported glue from myst_nb; add `from "
                     "course_utils.prose import Prose` and `prose = Prose()`")
    if any("glue(" in text for text in code):
        notes.append("a glue( call remains in the code; rewrite it by hand")
    return notes


def _convert_glue_calls(source: str, formats: dict[str, set[str]],
                        used_formats: set[str], notes: list[str],
                        index: int) -> str:
    """One code cell's glue calls and glue import, rewritten (see convert_prose)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # first line, last line, new
    glue_import = None
    for node in ast.walk(tree):
        if (isinstance(node, ast.ImportFrom) and node.module == "myst_nb"
                and [alias.name for alias in node.names] == ["glue"]):
            glue_import = node
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "glue"):
            continue
        call = node.value
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        display = keywords.get("display")
        if (len(call.args) != 2 or set(keywords) != {"display"}
                or not (isinstance(display, ast.Constant) and display.value is False)):
            notes.append(f"cell {index}: {ast.get_source_segment(source, call)} "
                         "is not glue(name, value, display=False); convert by hand")
            continue
        key, value = call.args
        value_source = ast.get_source_segment(source, value)
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            name = key.value
            fmts = formats.get(name, set()) - {""}
            if len(fmts) > 1 or (fmts and "" in formats.get(name, set())):
                notes.append(f"cell {index}: {name} is shown with several formats "
                             f"{sorted(formats[name])}; set one value per format")
            elif fmts:
                fmt = fmts.pop()
                formatted = _format_in_code(value, value_source, fmt)
                if formatted is None:
                    notes.append(f"cell {index}: {name}'s value is already text; "
                                 f"apply the prose's :{fmt} format by hand")
                else:
                    value_source = formatted
                    used_formats.add(name)
            target = f"prose.{name} = {value_source}"
        else:
            key_source = ast.get_source_segment(source, key)
            target = f"setattr(prose, {key_source}, {value_source})"
        indent = lines[node.lineno - 1][:node.col_offset]
        new = (indent + target).split("\n")
        edits.append((node.lineno, node.end_lineno, new))
    for first, last, new in sorted(edits, reverse=True):
        lines[first - 1:last] = new
    source = "\n".join(lines)
    return _with_prose_import(source) if glue_import is not None else source


def _format_in_code(value: ast.expr, value_source: str, fmt: str) -> str | None:
    """``f"{value:fmt}"``, or None when the value is already text."""
    if isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant)
                                            and isinstance(value.value, str)):
        return None
    quote = "'" if '"' in value_source else '"'
    if quote in value_source or "\n" in value_source:
        return None
    return f"f{quote}{{{value_source}:{fmt}}}{quote}"


def _with_prose_import(source: str) -> str:
    """Replace ``from myst_nb import glue`` by the Prose import in isort order.

    ``from course_utils.prose import Prose`` goes among the first-party
    imports; ``prose = Prose()`` becomes the first statement after the imports.
    """
    body = ast.parse(source).body
    lines = source.split("\n")
    glue_import = next(node for node in body if isinstance(node, ast.ImportFrom)
                       and node.module == "myst_nb")
    imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))
               and node is not glue_import]
    first_party = [node for node in imports if isinstance(node, ast.ImportFrom)
                   and (node.module or "").split(".")[0] == "course_utils"]
    before = [node for node in first_party if node.module < "course_utils.prose"]
    code = next((node for node in body if not isinstance(
        node, (ast.Import, ast.ImportFrom))), None)
    insertions = []  # (index into lines, new lines), applied bottom-up
    if before:
        insertions.append((before[-1].end_lineno, ["from course_utils.prose "
                                                   "import Prose"]))
    elif first_party:
        insertions.append((first_party[0].lineno - 1, ["from course_utils.prose "
                                                       "import Prose"]))
    else:
        at = imports[-1].end_lineno if imports else 0
        insertions.append((at, ["", "from course_utils.prose import Prose"]
                           if imports else ["from course_utils.prose import Prose"]))
    if code is not None:
        insertions.append((code.lineno - 1, ["prose = Prose()"]))
    else:
        insertions.append((len(lines), ["", "prose = Prose()"]))
    insertions.append((glue_import.lineno - 1, None))  # the line to remove
    # Bottom-up; at one index the removal goes first, so it removes no new line.
    for at, new in sorted(insertions, key=lambda item: (item[0], item[1] is None),
                          reverse=True):
        if new is None:
            del lines[at:glue_import.end_lineno]
        else:
            lines[at:at] = new
    return "\n".join(lines)


def _link_with_title(match: re.Match, folder: Path, notes: list[str],
                     index: int) -> str:
    target = match["target"]
    title = page_title(folder / target.split("#")[0])
    if title is None:
        notes.append(f"cell {index}: no title found for the link [](" + target +
                     "); give it a text by hand")
        return match.group(0)
    return f"[{title}]({target})"


def page_title(path: str | Path) -> str | None:
    """The first level-1 heading of a notebook or Markdown page.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    path : str or Path
        An ``.ipynb`` or ``.md`` file.

    Returns
    -------
    str or None
        The heading's text, or None when the file or heading is missing.
    """
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.read(path, 4).cells
                         if cell.cell_type == "markdown")
    else:
        text = path.read_text()
    heading = re.search(r"^# (.+)$", text, re.MULTILINE)
    return heading.group(1).strip() if heading else None


def main(argv: list[str] | None = None) -> int:
    """Command line: ``ACTION PATH...``.

    Introduced in the chapter "Why the initial weights matter".

    Actions: ``execute`` re-runs notebooks in place (storing {eval} results),
    ``clean`` strips volatile metadata, ``convert-prose`` rewrites myst-nb glue
    into ``Prose`` values and {eval} roles and fills empty link texts (then
    run ``execute``), ``check-prose`` reports prose numbers that are not
    stored or differ from their verified output (exit status 1).

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
    parser.add_argument("action",
                        choices=["execute", "clean", "convert-prose", "check-prose"])
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args(argv)
    status = 0
    for path in find_notebooks(arguments.paths):
        print(f"{arguments.action}: {path}", flush=True)
        if arguments.action == "execute":
            execute_notebook(path)
        elif arguments.action == "clean":
            notebook = clean_notebook(nbformat.read(path, as_version=4))
            nbformat.write(notebook, path)
        elif arguments.action == "convert-prose":
            notebook = nbformat.read(path, as_version=4)
            for note in convert_prose(notebook, path.parent):
                print(f"  fix by hand: {note}")
            nbformat.write(notebook, path)
        else:
            problems = prose_problems(nbformat.read(path, as_version=4))
            for problem in problems:
                print(f"  {problem}")
            status = status or int(bool(problems))
    return status


if __name__ == "__main__":
    sys.exit(main())
