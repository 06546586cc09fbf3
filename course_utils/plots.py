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
from matplotlib.lines import Line2D

from course_utils._validation import check_features, check_labels, check_parameters
from course_utils.network import predict

# Two colours that stay distinct for the common forms of colour blindness.
CLASS_COLOURS = ListedColormap(["#d95f02", "#1b9e77"])
REGION_COLOURS = ListedColormap(["#fbd3b5", "#bfe8dc"])

CLASS_NAMES = ("label 0: outer circle", "label 1: inner circle")
# Cost curves and other lines: colours far from the two class colours (so a
# curve never reads as a class), from Okabe and Ito's colour-blind-safe
# palette, each with its own marker.
CURVE_COLOURS = ("#0072b2", "#cc79a7", "#000000", "#56b4e9", "#999999")
CURVE_MARKERS = ("o", "s", "D", "v", "P")
# Where an infinite cost is marked: at the top edge of the cost axes.
INFINITE_COST_MARKER = "^"
INFINITE_COST_LABEL = "cost inf (off the scale)"
HEADROOM = 0.12  # share of a cost plot's height kept free for those marks
INFINITE_COST_HEIGHT = 1 - HEADROOM / 2  # in axes coordinates
# Space between a plane plot's title and its axes, in points: the class legend
# sits there, above the data, so it never covers a point.
_TITLE_PAD_OVER_LEGEND = 22.0

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

    Introduced in the chapter "Comparing the three initializations". An
    infinite cost (the large-random run at iteration 0) has no place on the
    line; it is marked instead by a triangle at the top edge of the plot, at
    its iteration, in the curve's colour, with a legend entry saying so. Curves
    take their colours from ``CURVE_COLOURS``, which avoid the class colours.

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
    infinite_marks = []
    for index, (label, costs) in enumerate(curves.items()):
        iterations, values, infinite = _finite_points(costs, f"curves[{label!r}]")
        colour, marker = curve_style(index)
        ax.plot(iterations, values, marker=marker, markersize=3, color=colour,
                label=label)
        if infinite.size:
            infinite_marks.append(mark_infinite_costs(
                ax, infinite, colour,
                label=None if infinite_marks else INFINITE_COST_LABEL))
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Cross-entropy cost" + (" (log scale)" if log_scale else ""))
    if log_scale:
        ax.set_yscale("log")
    if infinite_marks:
        leave_headroom(ax)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if infinite_marks:  # the mark's entry last, after the curves
        handles.append(handles.pop(labels.index(INFINITE_COST_LABEL)))
        labels.append(labels.pop(labels.index(INFINITE_COST_LABEL)))
    ax.legend(handles, labels)
    return ax


def leave_headroom(ax: Axes, fraction: float = HEADROOM) -> None:
    """Raise the top of the cost axis so the data fill only its lower part.

    Introduced in the chapter "Comparing the three initializations": the band
    left free at the top holds the marks of infinite costs
    (:func:`mark_infinite_costs`), clear of every finite point. Works on linear
    and log axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    fraction : float, default ``HEADROOM``
        Share of the axis height kept free at the top.
    """
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log":
        span = np.log10(high / low) / (1 - fraction)
        ax.set_ylim(low, low * 10 ** span)
    else:
        ax.set_ylim(low, low + (high - low) / (1 - fraction))


def curve_style(index: int) -> tuple[str, str]:
    """The colour and marker of the ``index``-th cost curve of a plot.

    Introduced in the chapter "Comparing the three initializations"; the
    animation of "Watching training" uses the same styles, so a run keeps its
    colour from one figure to the next. The colours are never the class colours
    of the data plots.

    Parameters
    ----------
    index : int
        Position of the curve in the plot, from 0; the styles repeat after
        ``len(CURVE_COLOURS)`` curves.

    Returns
    -------
    tuple of str
        A matplotlib colour and a marker.
    """
    return (CURVE_COLOURS[index % len(CURVE_COLOURS)],
            CURVE_MARKERS[index % len(CURVE_MARKERS)])


def mark_infinite_costs(ax: Axes, iterations: Sequence[float], colour: str,
                        label: str | None = INFINITE_COST_LABEL) -> Line2D:
    """Mark costs that are infinite by triangles near the top edge of ``ax``.

    Introduced in the chapter "Comparing the three initializations". A log or
    linear cost axis has no place for ``inf``; leaving the point out would hide
    it, so it is drawn where it belongs on the iteration axis, pinned near the
    top of the plot whatever the cost scale (call :func:`leave_headroom` to keep
    that band free of finite points).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    iterations : sequence of float
        The iterations whose cost is infinite (may be empty).
    colour : str
        The colour of the curve they belong to.
    label : str or None, default ``INFINITE_COST_LABEL``
        Legend entry; None for none (when another curve's mark has one).

    Returns
    -------
    matplotlib.lines.Line2D
        The markers (x in data, y in axes coordinates).
    """
    (markers,) = ax.plot(np.asarray(iterations, dtype=float),
                         np.full(len(iterations), INFINITE_COST_HEIGHT),
                         transform=ax.get_xaxis_transform(), linestyle="none",
                         marker=INFINITE_COST_MARKER, markersize=9, color=colour,
                         markeredgecolor="black", markeredgewidth=0.6,
                         clip_on=False, label=label)
    return markers


def _finite_points(costs: Sequence[tuple[int, float]], name: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pairs = np.asarray(costs, dtype=float)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{name} must be a list of (iteration, cost) pairs")
    finite = np.isfinite(pairs[:, 1])
    return pairs[finite, 0], pairs[finite, 1], pairs[~finite, 0]


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
    # Above the axes, under the title: inside them it would cover points.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2,
              fontsize="small", frameon=False, borderaxespad=0.1,
              borderpad=0.2, handletextpad=0.2, columnspacing=0.8)


def _label_plane(ax: Axes, title: str) -> None:
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title, pad=_TITLE_PAD_OVER_LEGEND)
    ax.set_aspect("equal")
