"""Training you can watch: snapshots of a run, and an animation that plays offline.

Introduced in the chapter "Watching training". :func:`record_snapshots` trains
in chunks and keeps the parameters and the cost every ``every`` iterations;
since :func:`~course_utils.network.train` continues exactly from a parameter
dict, the chunks reproduce one long run digit for digit.
:func:`animate_training` draws the decision boundaries and cost curves of
several runs frame by frame, and :func:`animation_html` turns the animation
into one piece of self-contained HTML (palette PNG frames, no web fonts) that plays
on a static page with no network and no kernel.
"""

from __future__ import annotations

import base64
import html
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.contour import ContourSet
from PIL import Image

from course_utils._validation import (
    check_features,
    check_labels,
    check_non_negative_float,
    check_positive_int,
)
from course_utils.initializers import DEFAULT_SEED
from course_utils.network import (
    CANONICAL_ITERATIONS,
    CANONICAL_LAYERS,
    CANONICAL_LEARNING_RATE,
    _starting_parameters,
    predict,
    train,
)
from course_utils.plots import (
    CLASS_COLOURS,
    CURVE_COLOURS,
    HEADROOM,
    INFINITE_COST_HEIGHT,
    INFINITE_COST_LABEL,
    REGION_COLOURS,
    curve_style,
    mark_infinite_costs,
    plot_decision_boundary,
)

DEFAULT_EVERY = 1000
# Icons for the player's buttons, as text: matplotlib's template loads Font
# Awesome from a CDN, which an offline page cannot reach.
_BUTTON_ICONS = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "|\u25c0\u25c0",
    "fa fa-step-backward": "|\u25c0",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u275a\u275a",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b6|",
    "fa fa-fast-forward": "\u25b6\u25b6|",
    "fa fa-plus": "+",
}


@dataclass(frozen=True)
class TrainingSnapshots:
    """The state of one training run every few iterations.

    Introduced in the chapter "Watching training".

    Attributes
    ----------
    initialization : str
        The initializer's name, or ``"custom"`` for a given parameter dict.
    iterations : tuple of int
        ``0, every, 2 * every, ..., num_iterations``.
    parameters : tuple of dict
        The parameters after that many updates (the first is the start).
    costs : tuple of float
        The cost of those parameters (``inf`` where the outputs saturate, as
        the large-random run at iteration 0).
    """

    initialization: str
    iterations: tuple[int, ...]
    parameters: tuple[dict[str, np.ndarray], ...]
    costs: tuple[float, ...]


def record_snapshots(X: np.ndarray, Y: np.ndarray,
                     initialization: str | Mapping[str, np.ndarray] = "he",
                     num_iterations: int = CANONICAL_ITERATIONS,
                     every: int = DEFAULT_EVERY, *,
                     learning_rate: float = CANONICAL_LEARNING_RATE,
                     seed: int = DEFAULT_SEED,
                     layers_dims: Sequence[int] = CANONICAL_LAYERS
                     ) -> TrainingSnapshots:
    """Train by gradient descent and keep the parameters every ``every`` iterations.

    Introduced in the chapter "Watching training". The run is trained in
    chunks of ``every`` iterations with :func:`~course_utils.network.train`,
    each continuing from the parameters the previous one returned; the result
    is the same, bit for bit, as one call of ``train`` with the same arguments.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
        Training inputs.
    Y : numpy.ndarray of shape (1, m)
        Training labels, 0 or 1.
    initialization : str or dict, default "he"
        An initializer name or a ready parameter dict (copied, not modified).
    num_iterations : int, default 15000
        Gradient-descent updates in all.
    every : int, default 1000
        Updates between two snapshots; at most ``num_iterations``. When it does
        not divide ``num_iterations`` the last chunk is shorter.
    learning_rate : float, default 0.01
    seed : int, default 3
        Seed for the initializer (ignored for a parameter dict).
    layers_dims : sequence of int, default (2, 10, 5, 1)

    Returns
    -------
    TrainingSnapshots
        One snapshot at iteration 0, one after every chunk.
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    num_iterations = check_positive_int(num_iterations, "num_iterations")
    every = check_positive_int(every, "every")
    if every > num_iterations:
        raise ValueError(f"every must be at most num_iterations ({num_iterations}); "
                         f"got {every}")
    learning_rate = check_non_negative_float(learning_rate, "learning_rate")
    parameters, name = _starting_parameters(initialization, layers_dims, seed, X)
    iterations, snapshots, costs = [0], [parameters], []
    for start in range(0, num_iterations, every):
        chunk = min(every, num_iterations - start)
        result = train(X, Y, initialization=snapshots[-1],
                       learning_rate=learning_rate, num_iterations=chunk,
                       record_every=chunk)
        costs.append(result.costs[0][1])
        iterations.append(start + chunk)
        snapshots.append(result.parameters)
    costs.append(result.final_cost)
    return TrainingSnapshots(initialization=name, iterations=tuple(iterations),
                             parameters=tuple(snapshots), costs=tuple(costs))


def animate_training(runs: Mapping[str, TrainingSnapshots], X: np.ndarray,
                     Y: np.ndarray, *, interval: int = 600, resolution: int = 80,
                     figsize: tuple[float, float] = (8.0, 5.6),
                     dpi: float = 80) -> FuncAnimation:
    """Animate decision boundaries and cost curves of runs side by side.

    Introduced in the chapter "Watching training". Each frame shows one
    snapshot: a decision-boundary panel per run in the top row and, below,
    every run's cost curve up to that iteration (log scale; an infinite cost,
    which has no place on it, is marked by a triangle at the top edge, as in
    :func:`~course_utils.plots.plot_costs`). The curves' colours are not the
    class colours of the panels above. The figure is not shown; pass the
    animation to :func:`animation_html`, which also closes it.

    Parameters
    ----------
    runs : dict of str to TrainingSnapshots
        A panel title for each run; all runs must have the same iterations.
    X : numpy.ndarray of shape (2, m)
        The points drawn under each boundary.
    Y : numpy.ndarray of shape (1, m)
        Their labels.
    interval : int, default 600
        Milliseconds between frames when playing.
    resolution : int, default 80
        Grid points along each axis of a boundary panel.
    figsize : tuple of float, default (8.0, 5.6)
        Figure size in inches.
    dpi : float, default 80
        Pixels per inch of every frame.

    Returns
    -------
    matplotlib.animation.FuncAnimation
    """
    iterations = _check_runs(runs)
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    interval = check_positive_int(interval, "interval")
    resolution = check_positive_int(resolution, "resolution")
    dpi = check_non_negative_float(dpi, "dpi")
    if dpi == 0:
        raise ValueError("dpi must be positive; got 0")

    figure = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    grid = figure.add_gridspec(2, len(runs), height_ratios=[1.15, 1])
    boundary_axes = [figure.add_subplot(grid[0, column])
                     for column in range(len(runs))]
    cost_ax = figure.add_subplot(grid[1, :])
    # Frame 0 draws everything; later frames replace only the shaded regions,
    # the cost lines and the title instead of redrawing every axis, tick and
    # label.
    for ax, (title, run) in zip(boundary_axes, runs.items(), strict=True):
        plot_decision_boundary(run.parameters[0], X, Y, ax=ax, title=title,
                               resolution=resolution)
        ax.get_legend().remove()  # one legend for the figure, below
        ax.set_title(title)
    handles, labels = boundary_axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper right", ncols=2,
                  fontsize="small")
    plane = _plane_grid(X, resolution)
    cost_lines, infinite_marks = _cost_axes(cost_ax, runs, iterations)
    marker = cost_ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    title = figure.suptitle("", x=0.02, ha="left", fontsize="medium")

    def draw(frame: int) -> list:
        for ax, run in zip(boundary_axes, runs.values(), strict=True):
            _shade_regions(ax, plane, run.parameters[frame])
        steps = np.array(iterations[:frame + 1], dtype=float)
        for line, marks, run in zip(cost_lines, infinite_marks, runs.values(),
                                    strict=True):
            costs = np.array(run.costs[:frame + 1], dtype=float)
            shown = np.isfinite(costs)
            line.set_data(steps[shown], costs[shown])
            marks.set_xdata(steps[~shown])
            marks.set_ydata(np.full(int(np.sum(~shown)), INFINITE_COST_HEIGHT))
        marker.set_xdata([iterations[frame]])
        title.set_text(f"After {iterations[frame]:,} of {iterations[-1]:,} "
                       "iterations".replace(",", "\u2009"))
        return []

    # Lay the figure out once: every frame has the same axes, ticks and labels,
    # and re-running constrained layout for each frame would double its cost.
    draw(0)
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    return FuncAnimation(figure, draw, frames=len(iterations), interval=interval,
                         repeat=False)


def animation_html(animation: FuncAnimation, *, alt: str = "",
                   embed_limit_mb: float = 2.0,
                   default_mode: str = "once") -> str:
    """Export an animation as self-contained HTML that plays with no network.

    Introduced in the chapter "Watching training". This is matplotlib's
    ``to_jshtml()`` (a player with a slider and buttons, every frame embedded
    as a data URL), with two changes for a static site read offline: the
    buttons show text symbols instead of Font Awesome icons loaded from a CDN,
    and each frame is a PNG reduced to the fixed palette ``FRAME_PALETTE``
    (the course's curve, class and region colours, their blends with white,
    the curve colours' blends with grey, and greys; each pixel takes the
    nearest, without dithering). That keeps every curve in its own colour,
    keeps the flat regions and sharp edges crisp, and costs a fraction of the
    size of a full-colour PNG or a JPEG. The animation's figure is closed, so
    it is not also shown as a still image.

    Parameters
    ----------
    animation : matplotlib.animation.FuncAnimation
        For example from :func:`animate_training`.
    alt : str, optional
        Text alternative of the frames, for readers who cannot see them.
    embed_limit_mb : float, default 2.0
        Largest size of all embedded frames together, in MB; a larger
        animation raises ``ValueError`` instead of being cut short.
    default_mode : {"once", "loop", "reflect"}, default "once"
        What the player does at the last frame.

    Returns
    -------
    str
        HTML with the player, its script and its frames.
    """
    if not isinstance(animation, FuncAnimation):
        raise TypeError("animation must be a matplotlib FuncAnimation; "
                        f"got {type(animation).__name__}")
    if not isinstance(alt, str):
        raise TypeError(f"alt must be a str; got {type(alt).__name__}")
    if default_mode not in ("once", "loop", "reflect"):
        raise ValueError("default_mode must be 'once', 'loop' or 'reflect'; "
                         f"got {default_mode!r}")
    embed_limit_mb = check_non_negative_float(embed_limit_mb, "embed_limit_mb")
    figure = animation._fig
    if not isinstance(figure.canvas, FigureCanvasAgg):
        # Frames are read from an Agg canvas (see _PaletteHTMLWriter.grab_frame).
        FigureCanvasAgg(figure)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch, "animation.html")
            writer = _PaletteHTMLWriter(fps=1000 / animation._interval,
                                        embed_frames=True, default_mode=default_mode,
                                        embed_limit=embed_limit_mb)
            animation.save(str(path), writer=writer, dpi=figure.dpi)
            if writer._hit_limit:
                raise ValueError(f"the frames exceed embed_limit_mb "
                                 f"({embed_limit_mb} MB): use fewer or smaller "
                                 "frames")
            text = path.read_text()
    finally:
        plt.close(figure)
    return _offline(text).replace('<img id="_anim_img',
                                  f'<img alt="{html.escape(alt)}" id="_anim_img', 1)


class _PaletteHTMLWriter(HTMLWriter):
    """matplotlib's HTML writer, embedding each frame as a palette PNG."""

    def __init__(self, **kwargs) -> None:
        with mpl.rc_context({"animation.frame_format": "png"}):
            super().__init__(**kwargs)
        self.palette = _palette_image()

    def grab_frame(self, **savefig_kwargs) -> None:
        if self._hit_limit:
            return
        # Animation.save has just drawn the frame on the figure's Agg canvas
        # (its draw_idle draws at once there). Reading that drawing, instead of
        # rendering it again with savefig (which, after a layout engine, also
        # lays the figure out once more), makes one render per frame, not three.
        # savefig_kwargs (savefig's colours; by default "auto", the figure's
        # own) are not applied: the figure is drawn in its own colours.
        if self.fig.stale:
            self.fig.canvas.draw()
        pixels = np.asarray(self.fig.canvas.buffer_rgba())
        image = Image.fromarray(pixels, "RGBA")
        # The nearest palette colour for each pixel, with no dithering: a
        # curve's pixels keep its exact colour (an adaptive palette, fitted to
        # each frame, merged curve colours with class colours).
        image = image.convert("RGB").quantize(palette=self.palette,
                                              dither=Image.Dither.NONE)
        compact = BytesIO()
        image.save(compact, format="png", optimize=True)
        encoded = base64.encodebytes(compact.getvalue()).decode("ascii")
        self._total_bytes += len(encoded)
        if self._total_bytes >= self._bytes_limit:
            self._hit_limit = True
        else:
            self._saved_frames.append(encoded)


def _frame_palette() -> tuple[tuple[int, int, int], ...]:
    def rgb(colour) -> tuple[int, int, int]:
        return tuple(round(255 * channel) for channel in to_rgb(colour))

    keys = [*CURVE_COLOURS, *(CLASS_COLOURS(label) for label in (0, 1)),
            *(REGION_COLOURS(label) for label in (0, 1))]
    colours = [rgb(colour) for colour in keys]
    # Anti-aliased edges blend a colour with the white background; greys are
    # for text, ticks, grid lines and the legend's frame.
    colours += [tuple(round((channel + 255) / 2) for channel in colour)
                for colour in colours[:-2]]
    # A curve crossing a grid line blends with its grey.
    colours += [tuple(round((channel + 128) / 2) for channel in rgb(colour))
                for colour in CURVE_COLOURS]
    colours += [(level, level, level) for level in range(0, 256, 17)]
    unique = list(dict.fromkeys(colours))
    return tuple(unique)


FRAME_PALETTE = _frame_palette()
"""The colours of the animation's frames (RGB, 0-255), from ``animation_html``."""


def _palette_image() -> Image.Image:
    palette = Image.new("P", (1, 1))
    flat = [channel for colour in FRAME_PALETTE for channel in colour]
    palette.putpalette(flat + flat[:3] * (256 - len(FRAME_PALETTE)))
    return palette


def _offline(text: str) -> str:
    text = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">',
                  "", text)
    for icon, symbol in _BUTTON_ICONS.items():
        text = text.replace(f'<i class="{icon}"></i>',
                            f'<span aria-hidden="true">{html.escape(symbol)}</span>')
    if re.search(r"https?://", text):
        raise RuntimeError("matplotlib's animation template links to the web; "
                           "update course_utils.animation._offline")
    return text


def _check_runs(runs: object) -> tuple[int, ...]:
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty dict of title -> TrainingSnapshots")
    iterations = None
    for title, run in runs.items():
        if not isinstance(run, TrainingSnapshots):
            raise TypeError(f"runs[{title!r}] must be TrainingSnapshots (from "
                            f"record_snapshots); got {type(run).__name__}")
        if iterations is None:
            iterations = run.iterations
        elif run.iterations != iterations:
            raise ValueError("runs must all have the same snapshot iterations; "
                             f"runs[{title!r}] differs")
    return iterations


def _plane_grid(X: np.ndarray, resolution: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The grid plot_decision_boundary shades, so that frames match its plots.
    x1, x2 = np.meshgrid(*(np.linspace(row.min() - 0.5, row.max() + 0.5, resolution)
                           for row in X))
    return x1, x2, np.vstack([x1.ravel(), x2.ravel()])


def _shade_regions(ax, plane: tuple[np.ndarray, np.ndarray, np.ndarray],
                   parameters: Mapping[str, np.ndarray]) -> None:
    x1, x2, points = plane
    for regions in [artist for artist in ax.collections
                    if isinstance(artist, ContourSet)]:
        regions.remove()
    labels = predict(points, parameters).reshape(x1.shape)
    ax.contourf(x1, x2, labels, levels=[-0.5, 0.5, 1.5], cmap=REGION_COLOURS,
                zorder=0)


def _cost_axes(ax, runs: Mapping[str, TrainingSnapshots],
               iterations: tuple[int, ...]) -> tuple[list, list]:
    finite = [cost for run in runs.values() for cost in run.costs
              if math.isfinite(cost) and cost > 0]
    low, high = (min(finite) / 1.5, max(finite) * 1.5) if finite else (0.1, 1.0)
    with_infinite = [title for title, run in runs.items()
                     if not all(math.isfinite(cost) for cost in run.costs)]
    if with_infinite:  # a free band at the top for the marks, as in plot_costs
        high = low * (high / low) ** (1 / (1 - HEADROOM))
    lines = [ax.plot([], [], marker=marker, markersize=3, color=colour,
                     label=title)[0]
             for title, (colour, marker)
             in zip(runs, map(curve_style, range(len(runs))), strict=True)]
    # Each frame places the marks; one legend entry (after the curves') for all.
    marks = [mark_infinite_costs(ax, [], line.get_color(),
                                 label=INFINITE_COST_LABEL
                                 if with_infinite and title == with_infinite[0]
                                 else None)
             for title, line in zip(runs, lines, strict=True)]
    ax.set_xlim(0, iterations[-1])
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Cost (log scale)")
    ax.set_title("Training cost so far")
    ax.grid(alpha=0.3)
    # Lower left stays empty in the course's runs: every cost starts near or
    # above ln 2 and only He's falls low, late in training.
    ax.legend(loc="lower left", fontsize="small")
    return lines, marks
