"""The shared figures carry titles and axis labels and reject bad input."""

import matplotlib.pyplot as plt
import pytest

from course_utils import initialize_parameters
from course_utils.plots import plot_costs, plot_dataset, plot_decision_boundary


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_dataset_plot_is_labelled(dataset):
    ax = plot_dataset(dataset[0], dataset[1], title="Training set")
    assert ax.get_title() == "Training set"
    assert ax.get_xlabel() and ax.get_ylabel()
    points = sum(len(collection.get_offsets()) for collection in ax.collections)
    assert points == 300
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["label 0: outer circle", "label 1: inner circle"]


def test_decision_boundary_shades_both_classes(canonical_runs, dataset):
    ax = plot_decision_boundary(canonical_runs["he"].parameters, dataset[0],
                                dataset[1], resolution=60)
    assert ax.get_title() == "Decision boundary"
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"


def test_cost_plot_skips_infinite_costs(canonical_runs):
    ax = plot_costs({"random": canonical_runs["random"].costs,
                     "he": canonical_runs["he"].costs}, log_scale=True)
    random_line, he_line = ax.get_lines()
    assert len(random_line.get_xdata()) == 14  # iteration 0 was inf
    assert len(he_line.get_xdata()) == 15
    assert ax.get_xlabel() == "Iteration"
    assert "cost" in ax.get_ylabel().lower()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["random", "he"]


def test_decision_boundary_needs_two_features(dataset):
    params = initialize_parameters("he", [3, 2, 1])
    with pytest.raises(ValueError, match="X must have 2 rows"):
        plot_decision_boundary(params, dataset[0][:1], dataset[1])


def test_cost_plot_rejects_a_bare_list(canonical_runs):
    with pytest.raises(TypeError, match="curves must be a non-empty dict"):
        plot_costs(canonical_runs["he"].costs)


def test_style_selects_the_inline_backend_only_inside_a_kernel(monkeypatch):
    from course_utils import plots

    backend = plt.get_backend()
    monkeypatch.setattr(plots, "_jupyter_kernel_shell", lambda: None)
    plots.use_course_style()
    assert plt.get_backend() == backend


def test_figures_show_in_a_kernel_started_with_mplbackend_agg(monkeypatch):
    # Headless servers and CI images often export MPLBACKEND=Agg; a kernel
    # inherits it, and plt.show() would then output nothing.
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "from course_utils.plots import use_course_style\n"
        "use_course_style()\nplt.plot([0, 1])\nplt.show()")])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert any("image/png" in output.get("data", {}) for output in outputs)
