"""A slider for the scale of the initial weights, for readers running the notebook.

Introduced in the chapter "Watching training". :func:`plot_scale_run` trains
from ``randn * scale`` weights and draws the result; :func:`scale_explorer`
puts it behind an ``ipywidgets`` slider, which needs a running Python kernel
(JupyterLab). The website, which has no kernel, shows the same figure for a
few fixed scales instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course_utils._validation import check_features, check_labels
from course_utils.initializers import DEFAULT_SEED, initialize_parameters
from course_utils.network import (
    CANONICAL_ITERATIONS,
    CANONICAL_LAYERS,
    TrainingResult,
    train,
)
from course_utils.plots import plot_costs, plot_decision_boundary

SCALE_RANGE = (0.01, 30.0)


def plot_scale_run(X: np.ndarray, Y: np.ndarray, scale: float,
                   axes: Sequence[Axes] | None = None, *, seed: int = DEFAULT_SEED,
                   resolution: int = 100) -> TrainingResult:
    """Train from ``randn * scale`` weights; draw the boundary and the cost curve.

    Introduced in the chapter "Watching training". The network, data and
    training are the canonical ones (15 000 iterations); only the scale of the
    ``"random"`` initializer changes (the assignment's large random is 10).
    The cost curve ends at the cost after all 15 000 updates.

    Parameters
    ----------
    X : numpy.ndarray of shape (2, m)
        Training inputs.
    Y : numpy.ndarray of shape (1, m)
        Training labels.
    scale : float
        Factor multiplying the standard-normal weights; positive.
    axes : pair of matplotlib.axes.Axes, optional
        Where to draw the decision boundary and the cost curve; a new figure
        with two panels when omitted.
    seed : int, default 3
    resolution : int, default 100
        Grid points along each axis of the boundary plot.

    Returns
    -------
    TrainingResult
        The trained run.
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number; got {scale!r}")
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number; got {scale}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.8),
                               gridspec_kw={"width_ratios": [1, 1.3]})
    if len(axes) != 2:
        raise ValueError(f"axes must be two Axes (boundary, costs); got {len(axes)}")
    start = initialize_parameters("random", CANONICAL_LAYERS, seed=seed, scale=scale)
    run = train(X, Y, initialization=start)
    boundary_ax, cost_ax = axes
    plot_decision_boundary(run.parameters, X, Y, ax=boundary_ax,
                           title=f"Weights x {scale:.3g}", resolution=resolution)
    # The recorded costs stop before update 14 000; the curve ends at the cost
    # after all the updates, as in the comparison chapter.
    curve = [*run.costs, (CANONICAL_ITERATIONS, run.final_cost)]
    plot_costs({f"scale {scale:.3g}": curve}, ax=cost_ax, log_scale=True,
               title=f"Cost, weights x {scale:.3g}")
    return run


def scale_explorer(X: np.ndarray, Y: np.ndarray, value: float = 1.0):
    """A slider for the weight scale that retrains and redraws on release.

    Introduced in the chapter "Watching training". Needs ``ipywidgets`` and a
    running kernel: in JupyterLab the slider appears under the cell; a static
    page shows nothing for it. Each move trains 15 000 iterations (about a
    second), so the figure is redrawn when the slider is released.

    Parameters
    ----------
    X : numpy.ndarray of shape (2, m)
        Training inputs.
    Y : numpy.ndarray of shape (1, m)
        Training labels.
    value : float, default 1.0
        The scale the slider starts at, between 0.01 and 30.

    Returns
    -------
    ipywidgets.interactive
        The slider and the figure below it; display it as a cell's last value.
    """
    from ipywidgets import FloatLogSlider, Layout, interactive

    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"value must be a number; got {value!r}")
    low, high = SCALE_RANGE
    if not low <= value <= high:
        raise ValueError(f"value must be between {low} and {high}; got {value}")

    def redraw(scale: float) -> None:
        plot_scale_run(X, Y, scale)
        plt.show()

    slider = FloatLogSlider(value=value, base=10, min=math.log10(low),
                            max=math.log10(high), step=0.05,
                            description="weight scale", readout_format=".3g",
                            continuous_update=False,
                            style={"description_width": "initial"},
                            layout=Layout(width="480px"))
    return interactive(redraw, scale=slider)
