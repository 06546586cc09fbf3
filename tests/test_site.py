"""The website: a strict Jupyter Book build, then a real browser over every page.

Build and browser tests share one module so that, under ``--dist loadscope``,
they run on one worker and the book is built once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import REPO_ROOT

CHROMIUM = next(filter(None, map(shutil.which, (
    "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"))), None)
# Flags for a headless chromium on a machine without network (and as root).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--allow-file-access-from-files",
]


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages.extend(_files(part.get("chapters", [])))
    return pages


def _files(entries) -> list[str]:
    found = []
    for entry in entries:
        if "file" in entry:
            found.append(entry["file"])
        found.extend(_files(entry.get("sections", [])))
    return found


TOC_PAGES = _toc_pages()


def _source(page: str) -> Path:
    notebook = REPO_ROOT / f"{page}.ipynb"
    return notebook if notebook.exists() else REPO_ROOT / f"{page}.md"


def _source_text(page: str) -> str:
    path = _source(page)
    if path.suffix == ".md":
        return path.read_text()
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in notebook.cells
                     if cell.cell_type == "markdown")


def _has_figures(page: str) -> bool:
    path = _source(page)
    return path.suffix == ".ipynb" and any(
        "image/png" in output.get("data", {})
        for cell in nbformat.read(path, as_version=4).cells
        for output in cell.get("outputs", []))


NOTEBOOK_PAGES = [page for page in TOC_PAGES if _source(page).suffix == ".ipynb"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the book once, strictly (warnings are errors), into a fresh folder."""
    output = tmp_path_factory.mktemp("site")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build",
               str(REPO_ROOT), "-W", "--keep-going", "--path-output", str(output)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT,
                               timeout=900)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-5000:]
    assert not re.search(r"\bWARNING\b", log), log[-5000:]
    return output / "_build" / "html"


@pytest.mark.build
def test_only_the_table_of_contents_is_built(site):
    built = {path.relative_to(site).with_suffix("").as_posix()
             for path in site.rglob("*.html") if "_static" not in path.parts}
    generated = {"genindex", "search", "index"}
    assert built - generated == set(TOC_PAGES)
    assert not any(site.joinpath(name).exists()
                   for name in ("tests", ".venv", "README.html", "exercises"))


@pytest.mark.build
@pytest.mark.parametrize("page", TOC_PAGES)
def test_page_has_no_unrendered_roles_and_a_download_button(site, page):
    html = site.joinpath(f"{page}.html").read_text()
    assert "{glue:" not in html and "glue:text" not in html and "{doc}" not in html
    assert "{eval}" not in html
    assert f"_sources/{page}{_source(page).suffix}" in html


@pytest.mark.build
@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_notebook_pages_show_outputs_and_no_launch_buttons(site, page):
    html = site.joinpath(f"{page}.html").read_text()
    if _has_figures(page):
        assert "cell_output" in html
    # Binder and Colab would open a notebook whose first import fails (no
    # published repository, no course_utils on Colab): no such buttons.
    assert "mybinder.org" not in html and "colab.research.google.com" not in html


@pytest.mark.build
def test_he_page_renders_the_verified_numbers(site):
    html = site.joinpath("book/he.html").read_text()
    assert "Cost after iteration 14000: 0.07357895963" in html
    assert "0.9933" in html


@pytest.mark.build
def test_markdown_output_tables_render_as_tables(site):
    html = site.joinpath("book/comparison.html").read_text()
    assert re.search(r"<table[^>]*>.*<th[^>]*><p>cost after training", html, re.DOTALL)
    assert not re.search(r"<p>\|\s*initialization", html)  # not a paragraph of pipes


@pytest.mark.build
def test_math_is_served_locally(site):
    assert site.joinpath("_static/mathjax/tex-chtml.js").exists()
    for page in TOC_PAGES:
        html = site.joinpath(f"{page}.html").read_text()
        scripts = re.findall(r"<script[^>]*src=\"([^\"]+)\"", html)
        assert not [src for src in scripts if src.startswith(("http:", "https:", "//"))]
        if "$" in _source_text(page):
            assert any(src.endswith("_static/mathjax/tex-chtml.js") for src in scripts)


@pytest.mark.build
def test_pages_workflow_builds_and_deploys_the_book():
    workflow = yaml.safe_load(
        (REPO_ROOT / ".github/workflows/pages.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = " ".join(step.get("run", "") for step in steps)
    uses = " ".join(step.get("uses", "") for step in steps)
    assert "pip install -r requirements.txt" in commands
    assert "jupyter-book build . -W --keep-going" in commands
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses


# Text a reader should never see: Markdown tables left as pipes, MyST roles and
# directives left as source.
RAW_SOURCE_SCRIPT = r"""
[...document.querySelectorAll('article p, article li, article td,'
                              + 'article .cell_output pre')]
  .map(e => e.innerText)
  .filter(t => /\|\s*:?-{3,}:?\s*\|/.test(t)
               || /\{(glue|eval|admonition|doc)[:}]/.test(t) || /```\{/.test(t))
  .map(t => t.slice(0, 120))
"""
# The width of an equation is that of its typeset content (mjx-math), which
# may be wider than the block it sits in.
_EQUATION_WIDTHS = r"""
const column = document.querySelector('article').getBoundingClientRect();
const wide = [];
for (const math of document.querySelectorAll('mjx-container[display="true"]')) {
  const content = math.querySelector('mjx-math').getBoundingClientRect();
  const box = math.parentElement.getBoundingClientRect();
  const limit = Math.min(column.right, box.right) + 1;
  if (content.right > limit || content.width > column.width + 1) {
    wide.push(`equation ${Math.round(content.width)}px: `
              + math.textContent.slice(0, 40));
  }
}
"""
TOO_WIDE_EQUATIONS_SCRIPT = "(() => {" + _EQUATION_WIDTHS + "return wide; })()"
TOO_WIDE_SCRIPT = "(() => {" + _EQUATION_WIDTHS + r"""
for (const image of document.querySelectorAll('article img')) {
  const box = image.getBoundingClientRect();
  if (box.right > column.right + 1) {
    wide.push(`image ${Math.round(box.width)}px: ${image.alt.slice(0, 40)}`);
  }
}
return wide; })()"""
# A figure scaled below 65 % of its stored size has ticks too small to read.
SHRUNK_FIGURES_SCRIPT = r"""
[...document.querySelectorAll('article img')]
  .filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width
                < 0.65 * i.naturalWidth)
  .map(i => `${Math.round(i.getBoundingClientRect().width)} of ${i.naturalWidth}px: `
            + i.alt.slice(0, 40))
"""


def _wait_for_math(page) -> None:
    """Wait until MathJax has loaded and finished typesetting the page."""
    page.wait_for_function(
        "window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
    page.evaluate("MathJax.startup.promise")


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "chromium is not installed (make test installs it on Debian)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def desktop(browser):
    """One 1280 px browser context for the page tests: its cache loads the
    theme's scripts, styles and MathJax once, not once per page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def _open_offline(context, path: Path):
    """Open ``path`` in ``context``, recording errors and refusing the network.

    Returns the page, the console and page errors, and the URLs of refused
    requests (the offline proof). The caller closes the page.
    """
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error"
            and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(
        f"request failed: {request.url} {request.failure}"))
    external: list[str] = []

    def refuse_network(route):
        external.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(https?|wss?)://"), refuse_network)
    page.goto(path.as_uri(), wait_until="load")
    return page, problems, external


@pytest.mark.browser
@pytest.mark.parametrize("page_name", TOC_PAGES)
def test_page_in_a_real_browser(site, desktop, artifacts_dir, page_name):
    """Every page at 1280 px, then its equations at phone width (390 px)."""
    page, problems, external = _open_offline(
        desktop, site.joinpath(f"{page_name}.html"))
    has_math = "$" in _source_text(page_name)
    if has_math:
        _wait_for_math(page)

    typeset = page.locator("mjx-container").count()
    raw_source = page.evaluate(RAW_SOURCE_SCRIPT)
    too_wide = page.evaluate(TOO_WIDE_SCRIPT)
    shrunk = page.evaluate(SHRUNK_FIGURES_SCRIPT)
    raw_math = page.evaluate(
        "[...document.querySelectorAll('article p, article li, article td')]"
        ".map(e => e.innerText).filter(t => /\\$\\$|\\\\frac|\\\\begin\\{/.test(t))")
    broken_images = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.src)")
    image_count = page.evaluate("document.images.length")
    shot_name = page_name.replace("/", "_")
    # JPEG: a third faster than PNG for these long pages, and as readable.
    page.screenshot(path=str(artifacts_dir / "screenshots" / f"{shot_name}.jpg"),
                    full_page=True, type="jpeg", quality=85)
    too_wide_on_a_phone = []
    if has_math:
        # The theme's layout is CSS media queries, so a resized page lays out
        # as one opened at that width (MathJax's output is CSS too).
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_function("window.innerWidth === 390")
        too_wide_on_a_phone = page.evaluate(TOO_WIDE_EQUATIONS_SCRIPT)
        # The first screen only: the widths are checked above, and a
        # full-page capture of each page twice cost 10 s of CPU per run.
        page.screenshot(path=str(artifacts_dir / "screenshots" /
                                 f"phone_{shot_name}.jpg"), type="jpeg", quality=85)
    page.close()

    if has_math:
        assert typeset > 0, "MathJax rendered nothing"
    assert raw_math == [], f"untypeset math left on the page: {raw_math[:3]}"
    assert broken_images == [], broken_images
    if _has_figures(page_name):
        assert image_count > 0
    assert external == [], f"the page tried to reach the network: {external}"
    assert problems == []
    assert raw_source == [], f"unrendered Markdown or MyST on the page: {raw_source}"
    assert too_wide == [], f"wider than the text column at 1280 px: {too_wide}"
    assert shrunk == [], f"figures shrunk to unreadable size: {shrunk}"
    assert too_wide_on_a_phone == [], \
        f"equations wider than a 390 px screen: {too_wide_on_a_phone}"


@pytest.mark.browser
def test_opening_index_html_from_disk_shows_the_course(site, browser):
    page = browser.new_page()
    page.route(re.compile(r"^(https?|wss?)://"), lambda route: route.abort())
    page.goto(site.joinpath("index.html").as_uri())
    page.wait_for_url(re.compile(r"book/introduction\.html$"), timeout=10000)
    _wait_for_math(page)
    assert page.locator("h1").first.inner_text().startswith("Why the initial weights")
    assert page.locator("mjx-container").count() > 0
    page.close()


ANIMATION_PAGE = "book/watch_training"
# The player's frames are Image objects held by the page's Animation object
# (matplotlib's jshtml template names it anim<id>, after the id of its <img>).
ANIMATION_FRAMES_SCRIPT = r"""
async () => {
  const image = document.querySelector('.animation img');
  const player = window['anim' + image.id.replace('_anim_img', '')];
  await Promise.all(player.frames.map(frame => frame.decode()));
  return player.frames.map(frame => frame.complete && frame.naturalWidth > 0);
}
"""


@pytest.mark.browser
def test_animation_plays_offline(site, desktop, artifacts_dir):
    assert ANIMATION_PAGE in TOC_PAGES
    page, problems, external = _open_offline(
        desktop, site.joinpath(f"{ANIMATION_PAGE}.html"))
    player = page.locator("div.animation")
    assert player.count() == 1
    for name in ("Decrease speed", "First frame", "Previous frame", "Play backwards",
                 "Pause", "Play", "Next frame", "Last frame", "Increase speed"):
        assert player.get_by_role("button", name=name, exact=True).is_visible(), name
    slider = player.locator('input[type="range"]')
    assert slider.is_visible()

    frames_loaded = page.evaluate(ANIMATION_FRAMES_SCRIPT)
    assert len(frames_loaded) >= 15 and all(frames_loaded), frames_loaded
    assert int(slider.get_attribute("max")) == len(frames_loaded) - 1
    shown = player.locator("img")
    assert shown.evaluate("image => image.complete && image.naturalWidth > 0")
    assert len(shown.get_attribute("alt")) > 40

    # The controls drive the player: jump to the end, then play from the start.
    player.get_by_role("button", name="Last frame", exact=True).click()
    assert slider.input_value() == str(len(frames_loaded) - 1)
    player.get_by_role("button", name="First frame", exact=True).click()
    player.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(
        "() => +document.querySelector('.animation input[type=range]').value >= 2",
        timeout=10000)
    player.get_by_role("button", name="Pause", exact=True).click()
    player.screenshot(path=str(artifacts_dir / "screenshots" / "animation_player.png"))
    page.close()

    assert external == [], f"the page tried to reach the network: {external}"
    assert problems == []


@pytest.mark.build
def test_site_serves_the_students_wheel(site):
    """The wheel the student page's install lines name, as `release` writes it."""
    from course_utils.grading.handout import build_wheel, wheel_name

    assert site.joinpath(wheel_name()).read_bytes() == build_wheel()
