"""Snapshots reproduce one long run; the animation and the slider behave offline."""

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from course_utils import train
from course_utils.animation import (
    TrainingSnapshots,
    animate_training,
    animation_html,
    record_snapshots,
)
from course_utils.interactive import plot_scale_run, scale_explorer
from course_utils.plots import CLASS_COLOURS, INFINITE_COST_LABEL, curve_style


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def short_runs(dataset):
    X_train, Y_train, _, _ = dataset
    return {title: record_snapshots(X_train, Y_train, name, num_iterations=40,
                                    every=20)
            for title, name in [("Zeros", "zeros"), ("Large", "random"),
                                ("He", "he")]}


def test_snapshots_reproduce_one_run_bit_for_bit(dataset):
    X_train, Y_train, _, _ = dataset
    snapshots = record_snapshots(X_train, Y_train, "he", num_iterations=300,
                                 every=100)
    whole = train(X_train, Y_train, initialization="he", num_iterations=300,
                  record_every=100)
    assert snapshots.iterations == (0, 100, 200, 300)
    pairs = list(zip(snapshots.iterations, snapshots.costs, strict=True))
    assert pairs[:-1] == whole.costs
    assert snapshots.costs[-1] == whole.final_cost
    for key, value in whole.parameters.items():
        assert np.array_equal(snapshots.parameters[-1][key], value)
    assert snapshots.initialization == "he"


def test_a_shorter_last_chunk_and_a_parameter_dict(dataset):
    X_train, Y_train, _, _ = dataset
    start = train(X_train, Y_train, num_iterations=1).parameters
    snapshots = record_snapshots(X_train, Y_train, start, num_iterations=25,
                                 every=10)
    assert snapshots.iterations == (0, 10, 20, 25)
    assert snapshots.initialization == "custom"
    assert np.array_equal(snapshots.parameters[0]["W1"], start["W1"])
    assert snapshots.parameters[0]["W1"] is not start["W1"]


def test_large_random_starts_at_an_infinite_cost(short_runs):
    assert math.isinf(short_runs["Large"].costs[0])
    assert all(math.isfinite(cost) for cost in short_runs["He"].costs)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"num_iterations": 0}, ValueError, "num_iterations"),
    ({"every": 2.5}, TypeError, "every"),
    ({"every": 50, "num_iterations": 10}, ValueError, "every must be at most"),
    ({"learning_rate": -1.0}, ValueError, "learning_rate"),
    ({"initialization": "nope"}, ValueError, "nope"),
])
def test_record_snapshots_rejects_bad_arguments(dataset, arguments, error, message):
    X_train, Y_train, _, _ = dataset
    with pytest.raises(error, match=message):
        record_snapshots(X_train, Y_train, **{"num_iterations": 10, "every": 5,
                                              **arguments})


def test_animation_has_a_frame_per_snapshot_and_labelled_panels(short_runs, dataset):
    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    figure = animation._fig
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["Zeros", "Large", "He", "Training cost so far"]
    cost_ax = figure.axes[-1]
    assert cost_ax.get_xlabel() == "Iteration" and "Cost" in cost_ax.get_ylabel()
    assert [t.get_text() for t in cost_ax.get_legend().get_texts()] \
        == ["Zeros", "Large", "He", INFINITE_COST_LABEL]
    html = animation_html(animation)
    frames = re.findall(r"data:image/png;base64,", html)
    assert len(frames) == len(short_runs["He"].iterations) == 3
    assert not plt.fignum_exists(figure.number)


def test_animation_marks_the_infinite_cost_in_other_colours(short_runs, dataset):
    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    cost_ax = animation._fig.axes[-1]
    class_colours = [np.array(CLASS_COLOURS(label)[:3]) for label in (0, 1)]
    for frame in range(3):
        animation._draw_frame(frame)
        lines = cost_ax.get_lines()
        curves = lines[:3]
        marks = {line.get_color(): list(line.get_xdata()) for line in lines[3:]
                 if line.get_marker() == "^"}
        # Large random's costs start at inf: each marked in the run's colour,
        # at its iteration, and left out of the line.
        for curve, run in zip(curves, short_runs.values(), strict=True):
            infinite = [step for step, cost
                        in zip(run.iterations[:frame + 1], run.costs, strict=False)
                        if math.isinf(cost)]
            assert marks[curve.get_color()] == infinite
            assert not set(curve.get_xdata()) & set(infinite)
    assert math.isinf(short_runs["Large"].costs[0])
    for line in cost_ax.get_lines():
        colour = np.array(to_rgb(line.get_color()))
        assert min(np.abs(colour - other).sum() for other in class_colours) > 0.4
    plt.close(animation._fig)


def test_animation_html_renders_each_frame_once(short_runs, dataset, monkeypatch):
    from matplotlib.figure import Figure

    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    renders = []
    original_draw = Figure.draw

    def counting_draw(figure, renderer):
        renders.append(figure)
        return original_draw(figure, renderer)

    monkeypatch.setattr(Figure, "draw", counting_draw)
    html = animation_html(animation)
    assert len(renders) == html.count("data:image/png;base64,") == 3


def _frames(html):
    import base64
    from io import BytesIO

    from PIL import Image

    # matplotlib writes each frame as "data:image/png;base64,..." with its
    # lines ended by a backslash.
    return [np.asarray(Image.open(BytesIO(base64.b64decode(
        re.sub(r"[\\\s]", "", data)))).convert("RGB"))
            for data in re.findall(r'data:image/png;base64,([^"]+)"', html)]


def _rgb255(colour):
    return tuple(round(255 * channel) for channel in to_rgb(colour))


def test_frames_keep_the_curve_colours_exactly(short_runs, dataset):
    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    figure = animation._fig
    box = figure.axes[-1].get_window_extent()
    height = figure.bbox.height
    rows = slice(round(height - box.y1) + 2, round(height - box.y0) - 2)
    columns = slice(round(box.x0) + 2, round(box.x1) - 2)
    frames = _frames(animation_html(animation))
    assert len(frames) == 3
    assert frames[0].shape[:2] == (round(height), round(figure.bbox.width))
    cost_panel = frames[-1][rows, columns].reshape(-1, 3)
    present = {tuple(pixel) for pixel in np.unique(cost_panel, axis=0)}
    # The three curves, drawn by matplotlib in these colours (from
    # curve_style, which the legend also uses), each found pixel for pixel.
    for index in range(3):
        assert _rgb255(curve_style(index)[0]) in present
    # ... and no pixel of the cost panel in a class colour.
    for label in (0, 1):
        assert _rgb255(CLASS_COLOURS(label)) not in present
    # The boundary panels, above it, do show the class colours of the points.
    boundary = {tuple(pixel) for pixel
                in np.unique(frames[-1][:rows.start].reshape(-1, 3), axis=0)}
    for label in (0, 1):
        assert _rgb255(CLASS_COLOURS(label)) in boundary


def test_animation_html_needs_no_network(short_runs, dataset):
    html = animation_html(animate_training(short_runs, dataset[0], dataset[1],
                                           resolution=20), alt='Boundaries & "costs"')
    assert '<img alt="Boundaries &amp; &quot;costs&quot;" id="_anim_img' in html
    assert "http" not in html and "font-awesome" not in html
    assert 'class="fa' not in html
    assert 'aria-label="Play"' in html and 'type="range"' in html


def test_animation_html_refuses_to_drop_frames(short_runs, dataset):
    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    with pytest.raises(ValueError, match="embed_limit_mb"):
        animation_html(animation, embed_limit_mb=0.001)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"default_mode": "bounce"}, ValueError, "default_mode"),
    ({"embed_limit_mb": -1}, ValueError, "embed_limit_mb"),
    ({"alt": None}, TypeError, "alt"),
])
def test_animation_html_rejects_bad_arguments(short_runs, dataset, arguments, error,
                                              message):
    animation = animate_training(short_runs, dataset[0], dataset[1], resolution=20)
    with pytest.raises(error, match=message):
        animation_html(animation, **arguments)
    animation._draw_was_started = True  # not rendered on purpose


def test_animation_html_needs_an_animation():
    with pytest.raises(TypeError, match="animation must be"):
        animation_html("not an animation")


def test_animate_training_rejects_bad_runs(short_runs, dataset):
    X_train, Y_train, _, _ = dataset
    with pytest.raises(TypeError, match="runs must be a non-empty dict"):
        animate_training({}, X_train, Y_train)
    with pytest.raises(TypeError, match=r"runs\['He'\] must be TrainingSnapshots"):
        animate_training({"He": [1, 2]}, X_train, Y_train)
    shorter = TrainingSnapshots("he", (0, 20), short_runs["He"].parameters[:2],
                                short_runs["He"].costs[:2])
    with pytest.raises(ValueError, match=r"same snapshot iterations; runs\['Short'\]"):
        animate_training({"He": short_runs["He"], "Short": shorter}, X_train, Y_train)
    with pytest.raises(ValueError, match="resolution"):
        animate_training(short_runs, X_train, Y_train, resolution=0)


def test_scale_run_draws_a_boundary_and_a_cost_curve(dataset):
    X_train, Y_train, _, _ = dataset
    _, axes = plt.subplots(1, 2)
    run = plot_scale_run(X_train, Y_train, 10, axes=axes, resolution=20)
    canonical = train(X_train, Y_train, initialization="random")
    assert run.costs == canonical.costs  # scale 10 is the assignment's run
    assert axes[0].get_title() == "Weights x 10"
    assert axes[1].get_xlabel() == "Iteration"
    # The curve ends at the cost after all 15 000 updates, not at 14 000.
    curve = axes[1].get_lines()[0]
    assert curve.get_xdata()[-1] == 15000
    assert curve.get_ydata()[-1] == canonical.final_cost


@pytest.mark.parametrize(("scale", "error"), [(0, ValueError), (-1.0, ValueError),
                                              (float("nan"), ValueError),
                                              ("1", TypeError)])
def test_scale_run_rejects_bad_scales(dataset, scale, error):
    with pytest.raises(error, match="scale"):
        plot_scale_run(dataset[0], dataset[1], scale)


def test_scale_explorer_redraws_when_the_slider_moves(dataset, monkeypatch):
    from course_utils import interactive

    drawn = []
    monkeypatch.setattr(interactive, "plot_scale_run",
                        lambda X, Y, scale: drawn.append(scale))
    explorer = scale_explorer(dataset[0], dataset[1], value=1.0)
    slider = explorer.children[0]
    assert slider.description == "weight scale" and not slider.continuous_update
    assert slider.min == pytest.approx(-2) and 10 ** slider.max == pytest.approx(30)
    slider.value = 10.0
    assert drawn == [1.0, 10.0]


@pytest.mark.parametrize(("value", "error"), [(100.0, ValueError), ("big", TypeError)])
def test_scale_explorer_rejects_a_bad_start(dataset, value, error):
    with pytest.raises(error, match="value"):
        scale_explorer(dataset[0], dataset[1], value=value)
