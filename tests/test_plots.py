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
    assert len(ax.collections[0].get_offsets()) == 300


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
