"""Figures shared by the chapters: the data, decision boundaries and cost curves.

Introduced in the chapter
"Why the initial weights matter". Each function draws on a given
matplotlib ``Axes`` (or a new one) and returns it, so chapters can lay several
plots side by side; none of them calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from course_utils._validation import check_features, check_labels, check_parameters
from course_utils.network import predict

# Two colours that stay distinct for the common forms of colour blindness.
CLASS_COLOURS = ListedColormap(["#d95f02", "#1b9e77"])
REGION_COLOURS = ListedColormap(["#fbd3b5", "#bfe8dc"])

CLASS_NAMES = ("label 0: outer circle", "label 1: inner circle")

COURSE_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "figure.facecolor": "white",
}


def use_course_style() -> None:
    """Set the matplotlib style every chapter uses (size, dpi, white background).

    Introduced in the chapter
    "Why the initial weights matter". Called once at the top of each
    notebook, so figures look the same in JupyterLab and on the website, and
    stored images stay small. Inside a Jupyter kernel it also selects the
    inline backend: a kernel started with ``MPLBACKEND=Agg`` in its environment
    (common on servers and CI machines) would otherwise show no figures.
    """
    shell = _jupyter_kernel_shell()
    if shell is not None:
        # What `%matplotlib inline` does: the backend and the PNG formatter.
        shell.run_line_magic("matplotlib", "inline")
    plt.rcParams.update(COURSE_STYLE)


def _jupyter_kernel_shell():
    """The IPython shell of a running Jupyter kernel, else None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


def plot_dataset(X: np.ndarray, Y: np.ndarray, ax: Axes | None = None,
                 title: str = "Two-circles data") -> Axes:
    """Scatter the points of a data set, coloured by label.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    X : numpy.ndarray of shape (2, m)
    Y : numpy.ndarray of shape (1, m)
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = _check_two_features(X)
    Y = check_labels(Y, X.shape[1])
    ax = ax if ax is not None else _new_axes()
    _scatter_points(ax, X, Y)
    _label_plane(ax, title)
    return ax


def plot_decision_boundary(parameters: Mapping[str, np.ndarray], X: np.ndarray,
                           Y: np.ndarray, ax: Axes | None = None,
                           title: str = "Decision boundary",
                           resolution: int = 300) -> Axes:
    """Shade the regions a trained network assigns to each class, with the data.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    parameters : dict
        Trained ``W1, b1, ..., WL, bL`` for 2 input features.
    X : numpy.ndarray of shape (2, m)
    Y : numpy.ndarray of shape (1, m)
    ax : matplotlib.axes.Axes, optional
    title : str
    resolution : int, default 300
        Grid points along each axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = _check_two_features(X)
    Y = check_labels(Y, X.shape[1])
    check_parameters(parameters)
    ax = ax if ax is not None else _new_axes()
    x1, x2 = np.meshgrid(*(np.linspace(row.min() - 0.5, row.max() + 0.5, resolution)
                           for row in X))
    grid = np.vstack([x1.ravel(), x2.ravel()])
    labels = predict(grid, parameters).reshape(x1.shape)
    ax.contourf(x1, x2, labels, levels=[-0.5, 0.5, 1.5], cmap=REGION_COLOURS)
    _scatter_points(ax, X, Y)
    _label_plane(ax, title)
    return ax


def plot_costs(curves: Mapping[str, Sequence[tuple[int, float]]],
               ax: Axes | None = None, title: str = "Training cost",
               log_scale: bool = False) -> Axes:
    """Plot one or more cost curves against the iteration number.

    Introduced in the chapter "Comparing the three initializations". Infinite costs
    (the large-random run at iteration 0) are left out of the line.

    Parameters
    ----------
    curves : dict of str to list of (int, float)
        A label for each curve and its ``(iteration, cost)`` pairs, as in
        ``TrainingResult.costs``.
    ax : matplotlib.axes.Axes, optional
    title : str
    log_scale : bool, default False
        Use a logarithmic cost axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty dict of label -> "
                        "[(iteration, cost), ...]")
    ax = ax if ax is not None else _new_axes(size=(6.0, 4.0))
    for label, costs in curves.items():
        iterations, values = _finite_points(costs, f"curves[{label!r}]")
        ax.plot(iterations, values, marker="o", markersize=3, label=label)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Cross-entropy cost" + (" (log scale)" if log_scale else ""))
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _finite_points(costs: Sequence[tuple[int, float]], name: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.asarray(costs, dtype=float)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{name} must be a list of (iteration, cost) pairs")
    finite = np.isfinite(pairs[:, 1])
    return pairs[finite, 0], pairs[finite, 1]


def _check_two_features(X: np.ndarray) -> np.ndarray:
    X = check_features(X)
    if X.shape[0] != 2:
        raise ValueError(f"X must have 2 rows (features) to be drawn in the plane; "
                         f"got {X.shape[0]}")
    return X


def _new_axes(size: tuple[float, float] = (4.5, 4.5)) -> Axes:
    _, ax = plt.subplots(figsize=size)
    return ax


def _scatter_points(ax: Axes, X: np.ndarray, Y: np.ndarray) -> None:
    labels = Y.ravel()
    for label, name in enumerate(CLASS_NAMES):
        chosen = labels == label
        ax.scatter(X[0, chosen], X[1, chosen], color=CLASS_COLOURS(label), s=18,
                   edgecolors="black", linewidths=0.3, label=name)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)


def _label_plane(ax: Axes, title: str) -> None:
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.set_aspect("equal")
