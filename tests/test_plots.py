"""The shared figures carry titles and axis labels and reject bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from course_utils import initialize_parameters
from course_utils.plots import (
    CLASS_COLOURS,
    INFINITE_COST_LABEL,
    plot_costs,
    plot_dataset,
    plot_decision_boundary,
)


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


def test_cost_plot_marks_infinite_costs_above_every_finite_point(canonical_runs):
    ax = plot_costs({"random": canonical_runs["random"].costs,
                     "he": canonical_runs["he"].costs}, log_scale=True)
    random_line, infinite_mark, he_line = ax.get_lines()
    assert len(random_line.get_xdata()) == 14  # iteration 0 was inf
    assert len(he_line.get_xdata()) == 15
    assert list(infinite_mark.get_xdata()) == [0]
    assert infinite_mark.get_color() == random_line.get_color()
    # The mark sits above every finite point of every curve, inside the figure.
    ax.figure.canvas.draw()
    mark_y = infinite_mark.get_transform().transform(
        [[0, infinite_mark.get_ydata()[0]]])[0, 1]
    finite_y = [ax.transData.transform(np.column_stack(
        [line.get_xdata(), line.get_ydata()]))[:, 1].max()
        for line in (random_line, he_line)]
    top_of_axes = ax.get_window_extent().y1
    assert max(finite_y) + 5 < mark_y < top_of_axes
    assert ax.get_xlabel() == "Iteration"
    assert "cost" in ax.get_ylabel().lower()
    assert [text.get_text() for text in ax.get_legend().get_texts()] \
        == ["random", "he", INFINITE_COST_LABEL]


def test_cost_plot_without_infinite_costs_has_no_mark(canonical_runs):
    ax = plot_costs({"he": canonical_runs["he"].costs})
    assert len(ax.get_lines()) == 1
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["he"]


def test_cost_curves_never_take_a_class_colour(canonical_runs):
    ax = plot_costs({name: run.costs for name, run in canonical_runs.items()})
    class_colours = [np.array(CLASS_COLOURS(label)[:3]) for label in (0, 1)]
    for line in ax.get_lines():
        colour = np.array(to_rgb(line.get_color()))
        assert min(np.abs(colour - other).sum() for other in class_colours) > 0.4


def _points_under_legend(ax):
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = np.vstack([ax.transData.transform(collection.get_offsets())
                        for collection in ax.collections
                        if len(collection.get_offsets())])
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
              & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
    return int(inside.sum()), box


@pytest.mark.parametrize("panels", [1, 3])
def test_plane_legends_cover_no_point_and_not_the_title(canonical_runs, dataset,
                                                        panels):
    figure, axes = plt.subplots(1, panels, figsize=(3.5 * panels, 3.8),
                                squeeze=False)
    plot_dataset(dataset[2], dataset[3], ax=axes[0, 0], title="Test set")
    for ax in axes[0, 1:]:
        plot_decision_boundary(canonical_runs["he"].parameters, dataset[0],
                               dataset[1], ax=ax, resolution=30, title="He")
    figure.tight_layout()
    for ax in axes[0]:
        covered, box = _points_under_legend(ax)
        assert covered == 0
        title = ax.title.get_window_extent()
        assert box.y0 >= ax.get_window_extent().y1 - 1  # above the axes
        assert box.y1 <= title.y0 + 1  # under the title


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
