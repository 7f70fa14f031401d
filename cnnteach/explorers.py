"""Explorers: figures and slider widgets that show one step of a convolution or pooling.

Everything an explorer shows is computed by the pure functions of :mod:`cnnteach.steps`
(:func:`~cnnteach.steps.conv_step` and :func:`~cnnteach.steps.pool_step`), which never raise
for any slider setting.

The figures are drawn by :func:`plot_conv_step` and :func:`plot_pool_step`, which work
anywhere (GitHub and HTML readers see them as static pictures); :func:`conv_explorer` and
:func:`pool_explorer` wrap them in ipywidgets sliders that redraw the same figure in place.

ipywidgets and matplotlib are imported inside the functions that need them, so importing
this module is light.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
import threading
from dataclasses import dataclass, field

import numpy as np

from cnnteach._checks import axes_row, colormap, grey_image
from cnnteach.steps import (
    CONV_RANGES,
    KERNEL_NAMES,
    POOL_RANGES,
    ConvStep,
    PoolStep,
    conv_step,
    pool_step,
)

__all__ = [
    "Explorer",
    "StepFigure",
    "conv_explorer",
    "plot_conv_step",
    "plot_pool_step",
    "pool_explorer",
]


# ----------------------------------------------------------------------------- figures
def _text_cells(ax, limit: int):
    return [
        ax.text(0, 0, "", ha="center", va="center", fontsize=8, visible=False) for _ in range(limit)
    ]


def _overlay(shape, pads, unused, pad_colour, unused_colour) -> np.ndarray:
    """RGBA layer over the (padded) input: padding in one tint, rows/columns no window uses in
    another."""
    layer = np.zeros(shape + (4,))
    (top, bottom), (left, right) = pads
    mask = np.ones(shape, bool)
    mask[top : shape[0] - bottom, left : shape[1] - right] = False
    layer[mask] = pad_colour
    ur, uc = unused
    if ur:
        layer[shape[0] - ur :, :] = unused_colour
    if uc:
        layer[:, shape[1] - uc :] = unused_colour
    return layer


def _set_image(im, data, ax=None):
    im.set_data(data)
    h, w = data.shape[:2]
    im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    if ax is not None:
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)


def _symmetric(im, data):
    finite = np.asarray(data, float)
    finite = finite[np.isfinite(finite)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    im.set_clim(-(limit or 1.0), limit or 1.0)


PAD_TINT = (0.30, 0.55, 0.95, 0.45)
UNUSED_TINT = (1.00, 0.55, 0.00, 0.55)


class StepFigure:
    """The artists of a conv or pool step figure, redrawn in place by :meth:`update`.

    Returned by :func:`plot_conv_step` and :func:`plot_pool_step`; ``figure`` and ``axes``
    are the matplotlib objects, and the explorers call ``update(step)`` on every change.
    """

    TEXTS = 25

    def __init__(self, axes, kind: str, compact: bool = False):
        import matplotlib.patches as patches

        self.kind = kind
        self.compact = (
            compact  # explorers: products only, formula in the read-out (fewer glyphs, faster)
        )
        self.axes = axes
        self.figure = axes[0].figure
        grey = colormap("gray")
        diverging = colormap("RdBu_r")
        self.input = axes[0].imshow(
            np.zeros((2, 2)), cmap=grey, vmin=0, vmax=1, interpolation="nearest"
        )
        self.tint = axes[0].imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.window_box = patches.Rectangle(
            (0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2
        )
        axes[0].add_patch(self.window_box)
        cells_cmap = diverging if kind == "conv" else colormap("viridis")
        self.cells = axes[1].imshow(np.zeros((2, 2)), cmap=cells_cmap, interpolation="nearest")
        self.winner_box = patches.Rectangle(
            (0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2, visible=False
        )
        axes[1].add_patch(self.winner_box)
        self.cell_texts = _text_cells(axes[1], self.TEXTS)
        out_cmap = diverging if kind == "conv" else grey
        self.out = axes[2].imshow(np.zeros((2, 2)), cmap=out_cmap, interpolation="nearest")
        self.out_box = patches.Rectangle((0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2)
        axes[2].add_patch(self.out_box)
        self.message = axes[1].text(
            0.5,
            0.5,
            "",
            ha="center",
            va="center",
            fontsize=10,
            color="#b35900",
            transform=axes[1].transAxes,
        )
        self.formula = self.figure.supxlabel(" ", fontsize=8.5, family="monospace")
        for ax in axes:
            ax.set_axis_off()  # no ticks or frames: faster redraws, cleaner pictures

    # -- helpers
    SHORT_TITLES = {
        "conv": ("input", "window × kernel", "output so far"),
        "pool": ("input", "window", "output so far"),
    }

    def _title(self, index: int, text: str):
        # explorers keep short fixed titles (their read-out carries the numbers): fewer glyphs to
        # draw
        text = self.SHORT_TITLES[self.kind][index] if self.compact else text
        if self.axes[index].get_title() != text:
            self.axes[index].set_title(text, fontsize=10, y=1.0)

    def _texts(self, values, fmt, colour_of=None):
        rows, cols = values.shape
        show = values.size <= (9 if self.compact else self.TEXTS)
        for index, text in enumerate(self.cell_texts):
            if show and index < values.size:
                i, j = divmod(index, cols)
                text.set_position((j, i))
                text.set_text(fmt(i, j))
                text.set_color(colour_of(i, j) if colour_of else "black")
                text.set_visible(True)
            else:
                text.set_visible(False)

    def dynamic_artists(self) -> list:
        """The artists an update may change (everything but the axes and their fixed titles)."""
        return [
            self.input,
            self.tint,
            self.window_box,
            self.cells,
            self.winner_box,
            *self.cell_texts,
            self.out,
            self.out_box,
            self.message,
        ]

    def update(self, step):
        """Redraw for a new :class:`ConvStep` or :class:`PoolStep` (same kind as the figure)."""
        (self._update_conv if self.kind == "conv" else self._update_pool)(step)
        return self

    def _impossible(self, step, size):
        _set_image(self.input, np.nan_to_num(step.padded, neginf=0.0), self.axes[0])
        self.tint.set_visible(False)
        # the kernel/pool drawn where it would start: it sticks out of the image
        self.window_box.set_xy((-0.5, -0.5))
        self.window_box.set_width(size)
        self.window_box.set_height(size)
        self.window_box.set_linestyle("--")
        self.window_box.set_linewidth(3)
        self.axes[0].set_xlim(-0.5, max(size, step.padded.shape[1]) - 0.5)
        self.axes[0].set_ylim(max(size, step.padded.shape[0]) - 0.5, -0.5)
        self._title(0, "does not fit" if size else "input")
        for artist in (self.cells, self.out, self.out_box, self.winner_box):
            artist.set_visible(False)
        self._texts(np.zeros((0, 0)), str)
        self.message.set_text(textwrap.fill("Impossible: " + step.impossible, 34))
        self._title(1, "")
        self._title(2, "no output")
        self.formula.set_text("")

    def _show_window(self, step, size, pads, title):
        _set_image(self.input, np.nan_to_num(step.padded, nan=0.0, neginf=0.0), self.axes[0])
        self.tint.set_visible(True)
        _set_image(self.tint, _overlay(step.padded.shape, pads, step.unused, PAD_TINT, UNUSED_TINT))
        self.window_box.set_linestyle("-")
        self.window_box.set_linewidth(2)
        self.window_box.set_xy((step.left - 0.5, step.top - 0.5))
        self.window_box.set_width(size)
        self.window_box.set_height(size)
        self._title(0, title)
        self.message.set_text("")
        for artist in (self.cells, self.out, self.out_box):
            artist.set_visible(True)
        _set_image(self.out, step.partial, self.axes[2])
        self.out_box.set_xy((step.col - 0.5, step.row - 0.5))
        h, w = step.output_shape
        self._title(2, f"output {h} × {w}: cell ({step.row}, {step.col})")
        self.formula.set_text("" if self.compact else step.formula)

    def _update_conv(self, step):
        low, high = np.nanmin(step.image), np.nanmax(step.image)
        self.input.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        if not step.possible:
            self._impossible(step, step.kernel_size or 0)
            return
        p = step.padding
        title = f"input {step.image.shape[0]} × {step.image.shape[1]}" + (
            f", padded by {p}" if p else ""
        )
        self._show_window(step, step.kernel_size, ((p, p), (p, p)), title)
        self.cells.set_visible(True)
        _set_image(self.cells, step.products, self.axes[1])
        _symmetric(self.cells, step.products)
        _symmetric(self.out, step.output)
        window, kernel, products = step.window, step.kernel, step.products
        if window.size <= 9 and not self.compact:
            fmt = lambda i, j: (
                f"{_num(window[i, j])}×{_num(kernel[i, j], 'g')}\n= {_num(products[i, j])}"
            )  # noqa: E731
        else:
            fmt = lambda i, j: _num(products[i, j])  # noqa: E731
        strong = 0.6 * (float(np.abs(products).max()) or 1.0)
        self._texts(
            products, fmt, lambda i, j: "white" if abs(products[i, j]) > strong else "black"
        )
        self._title(1, f"window × kernel: {products.size} products, sum = {step.total:.2f}")

    def _update_pool(self, step):
        low, high = np.nanmin(step.image), np.nanmax(step.image)
        self.input.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        self.out.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        if not step.possible:
            self._impossible(step, step.pool_size or 0)
            return
        title = f"input {step.image.shape[0]} × {step.image.shape[1]}" + (
            ", padding='same'" if any(map(sum, step.pads)) else ""
        )
        self._show_window(step, step.pool_size, step.pads, title)
        self.cells.set_visible(True)
        shown = np.where(np.isfinite(step.window), step.window, np.nan)
        _set_image(self.cells, shown, self.axes[1])
        self.cells.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        window = step.window
        self._texts(
            window,
            lambda i, j: "pad" if not np.isfinite(window[i, j]) else _num(window[i, j]),
            lambda i, j: (
                "#888888"
                if not np.isfinite(window[i, j])
                else "black"
                if window[i, j] > 0.6 * high
                else "white"
            ),
        )
        if step.winner is not None:
            self.winner_box.set_visible(True)
            self.winner_box.set_xy((step.winner[1] - 0.5, step.winner[0] - 0.5))
            what = f"max = {step.value:.2f}"
        else:
            self.winner_box.set_visible(False)
            what = f"average = {step.value:.2f}"
        self._title(1, f"{step.pool_size} × {step.pool_size} window: {what}")


def _num(value, fmt=".2f") -> str:
    """Format a number for a figure, without the confusing "-0.00"."""
    text = format(float(value), fmt)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _need(step, kind, function: str, maker: str) -> None:
    if not isinstance(step, kind):
        raise ValueError(
            f"{function} draws the {kind.__name__} that {maker}(...) returns, not "
            f"{type(step).__name__}: call {maker}(image, ...) first and pass its result."
        )


def _choose(value, allowed, name: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}, not {value!r}: pick one of them.")


def plot_conv_step(step: ConvStep, ax=None) -> StepFigure:
    """Draw one convolution step: the window on the (padded) input, the products, the output so far.

    Blue tint: zero padding; orange tint: rows/columns the stride leaves unused. The
    formula with the numbers filled in is written under the panels.

    Parameters
    ----------
    step : ConvStep
        From :func:`conv_step`.
    ax : sequence of three matplotlib Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    StepFigure
        The artists (``.figure``, ``.axes``); ``.update(another_step)`` redraws in place.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_conv_step(conv_step(np.eye(6), 3, row=1, col=1))
    >>> len(drawn.axes), drawn.axes[1].get_title()
    (3, 'window × kernel: 9 products, sum = 0.00')
    """
    _need(step, ConvStep, "plot_conv_step", "conv_step")
    return StepFigure(axes_row(ax, 3, (11, 4)), "conv").update(step)


def plot_pool_step(step: PoolStep, ax=None) -> StepFigure:
    """Draw one pooling step: the window on the input, its values (max outlined), the output so far.

    Orange tint: rows/columns that no window reaches (the floor drops them); blue tint:
    the padding of ``padding="same"``.

    Parameters
    ----------
    step : PoolStep
        From :func:`pool_step`.
    ax : sequence of three matplotlib Axes, optional

    Returns
    -------
    StepFigure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_pool_step(pool_step(np.arange(169.0).reshape(13, 13), 2, 2, row=5, col=5))
    >>> drawn.axes[2].get_title()
    'output 6 × 6: cell (5, 5)'
    """
    _need(step, PoolStep, "plot_pool_step", "pool_step")
    return StepFigure(axes_row(ax, 3, (11, 4)), "pool").update(step)


# ----------------------------------------------------------------------------- widgets
@dataclass
class Explorer:
    """An explorer's widgets: display it (it shows its ``box``) and move its sliders.

    ``controls`` maps slider descriptions ("kernel", "stride", ...) to the widgets,
    ``readout`` is the HTML line ("Output: 26 × 26 ..." or "Impossible: ..."), ``output``
    the ipywidgets.Output the figure is drawn into, and ``step`` the latest pure result.
    """

    box: object
    controls: dict
    readout: object
    output: object
    drawing: StepFigure
    compute: object
    step: object = None
    updates: int = 0
    _busy: bool = field(default=False, repr=False)
    _pending: bool = field(default=False, repr=False)
    _lock: object = field(default_factory=threading.Lock, repr=False)
    _background: object = field(default=None, repr=False)

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    def _render(self) -> dict:
        """PNG of the figure: fixed parts drawn once and cached, only the changing artists
        redrawn."""
        figure = self.drawing.figure
        canvas = figure.canvas
        if self._background is None:
            for artist in self.drawing.dynamic_artists():
                artist.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(figure.bbox)
        canvas.restore_region(self._background)
        for artist in self.drawing.dynamic_artists():
            if artist.get_visible():
                figure.draw_artist(artist)
        return _png_output(figure, draw=False)

    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()}

    def update(self, change=None):
        """Recompute the step from the sliders, redraw the figure in place, refresh the read-out.

        Widget messages may arrive on two kernel threads at once (ipykernel subshells): a change
        that arrives during a redraw is never dropped, the running update simply goes round again
        with the latest slider values.
        """
        with self._lock:
            if self._busy:
                self._pending = True
                return
            self._busy = True
        while True:
            self._update_once()
            with self._lock:
                if not self._pending:
                    self._busy = False
                    return
                self._pending = False

    def _update_once(self):
        try:
            step = self.compute(**self.values())
            if step.possible:  # let the position sliders span exactly the output
                for name, size in (("row", step.output_shape[0]), ("col", step.output_shape[1])):
                    slider = self.controls[name]
                    slider.max = max(size - 1, 0)
                step = self.compute(**self.values())
            self.step = step
            self.readout.value = _readout_html(step)
            self.drawing.update(step)
            self.output.outputs = (self._render(),)
            self.updates += 1
        except Exception as exc:  # never let a slider raise in a live demo
            self.readout.value = (
                "<b>Impossible:</b> the explorer failed "
                f"({html.escape(type(exc).__name__)}: {html.escape(str(exc))})"
            )


def _readout_html(step) -> str:
    text = step.readout
    if step.possible:
        head, _, rest = text.partition(" · ")
        body = f"<b>{html.escape(head)}</b>" + (f" · {html.escape(rest)}" if rest else "")
        return f"{body}<br><code>{html.escape(step.formula)}</code>"
    return f"<b style='color:#b35900'>Impossible:</b> {html.escape(text[len('Impossible: ') :])}"


def _png_output(figure, draw: bool = True) -> dict:
    from PIL import Image

    if draw:
        figure.canvas.draw()  # one Agg draw, then a fast PNG encoding of the pixels
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(figure.canvas.buffer_rgba())).save(
        buffer, format="png", compress_level=1
    )
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "output_type": "display_data",
        "data": {"image/png": data, "text/plain": "<explorer figure>"},
        "metadata": {},
    }


def _figure(width=11, height=4, dpi=64):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(1, 3))
    figure.get_layout_engine().set(h_pad=0.1, w_pad=0.1)
    return figure, axes


def _build(controls: dict, compute, kind: str, extra_rows=()):
    import ipywidgets as widgets

    readout = widgets.HTML(value="")
    readout.add_class("cnnteach-readout")
    output = widgets.Output()
    figure, axes = _figure()
    first = compute(**{name: w.value for name, w in controls.items()})
    drawing = StepFigure(axes, kind, compact=True).update(first)
    figure.canvas.draw()  # lay the figure out once, then fix it: redraws stay fast and still
    figure.set_layout_engine("none")
    sliders = [w for w in controls.values()]
    rows = (
        [widgets.HBox(sliders[:3]), widgets.HBox(sliders[3:])]
        if len(sliders) > 3
        else [widgets.HBox(sliders)]
    )
    box = widgets.VBox([*rows, *extra_rows, readout, output])
    explorer = Explorer(box, controls, readout, output, drawing, compute)
    for widget in controls.values():
        widget.observe(explorer.update, names="value")
    explorer.update()
    return explorer


def conv_explorer(
    image, kernel="vertical edge", kernel_size=3, stride=1, padding=0, row=8, col=8
) -> Explorer:
    """Sliders for kernel size, stride, padding and window position over an image.

    Shows the window on the padded image, the products of window and kernel with their sum,
    the output map as it fills, the formula with numbers, and why a setting is impossible.

    Parameters
    ----------
    image : array of shape (H, W)
        One grey image, e.g. ``x_train[0] / 255``.
    kernel : str, optional
        Starting weights, one of :data:`KERNEL_NAMES` (there is a dropdown to change them).
    kernel_size, stride, padding, row, col : int, optional
        Starting values of the sliders.

    Returns
    -------
    Explorer
        Display it in a notebook; ``.controls["kernel"].value = 5`` moves a slider.

    Examples
    --------
    >>> ex = conv_explorer(np.zeros((28, 28)))
    >>> ex.readout.value.startswith("<b>Output: 26 × 26")
    True
    >>> ex.controls["kernel"].value = 29
    >>> "Impossible:" in ex.readout.value
    True
    """
    import ipywidgets as widgets

    if isinstance(kernel, str):
        _choose(kernel, KERNEL_NAMES, "kernel")
    picture = grey_image(image, "the explorer's image")
    layout = widgets.Layout(width="320px")
    top = max(picture.shape) + 2 * CONV_RANGES["padding"][1] - 1
    controls = {
        "kernel": widgets.IntSlider(
            value=kernel_size,
            min=CONV_RANGES["kernel"][0],
            max=max(CONV_RANGES["kernel"][1], max(picture.shape) + 1),
            description="kernel",
            layout=layout,
            continuous_update=True,
        ),
        "stride": widgets.IntSlider(
            value=stride,
            min=CONV_RANGES["stride"][0],
            max=CONV_RANGES["stride"][1],
            description="stride",
            layout=layout,
        ),
        "padding": widgets.IntSlider(
            value=padding,
            min=CONV_RANGES["padding"][0],
            max=CONV_RANGES["padding"][1],
            description="padding",
            layout=layout,
        ),
        "row": widgets.IntSlider(value=row, min=0, max=top, description="row", layout=layout),
        "col": widgets.IntSlider(value=col, min=0, max=top, description="col", layout=layout),
        "filter": widgets.Dropdown(
            options=list(KERNEL_NAMES), value=kernel, description="filter", layout=layout
        ),
    }

    def compute(kernel, stride, padding, row, col, filter):  # noqa: A002 - the widget's name
        return conv_step(picture, kernel, stride, padding, row, col, kernel=filter)

    return _build(controls, compute, "conv")


def pool_explorer(
    image, pool_size=2, stride=2, row=3, col=3, padding="valid", mode="max"
) -> Explorer:
    """Sliders for pool size, stride and window position over an image (or a feature map).

    Shows the window and its max (or average), the pooled map as it fills, the formula with
    numbers and the rows/columns the floor drops, and why a setting is impossible.

    Parameters
    ----------
    image : array of shape (H, W)
    pool_size, stride, row, col : int, optional
        Starting values of the sliders.
    padding : "valid" or "same", optional
    mode : "max" or "average", optional

    Returns
    -------
    Explorer

    Examples
    --------
    >>> ex = pool_explorer(np.zeros((28, 28)))
    >>> ex.readout.value.startswith("<b>Output: 14 × 14")
    True
    >>> ex.controls["pool"].value = 29
    >>> "Impossible:" in ex.readout.value
    True
    """
    import ipywidgets as widgets

    _choose(mode, ("max", "average"), "mode")
    _choose(padding, ("valid", "same"), "padding")
    picture = grey_image(image, "the explorer's image")
    layout = widgets.Layout(width="320px")
    controls = {
        "pool": widgets.IntSlider(
            value=pool_size,
            min=POOL_RANGES["pool"][0],
            max=max(POOL_RANGES["pool"][1], max(picture.shape) + 1),
            description="pool",
            layout=layout,
        ),
        "stride": widgets.IntSlider(
            value=stride,
            min=POOL_RANGES["stride"][0],
            max=POOL_RANGES["stride"][1],
            description="stride",
            layout=layout,
        ),
        "padding": widgets.ToggleButtons(
            options=["valid", "same"], value=padding, description="padding"
        ),
        "row": widgets.IntSlider(
            value=row, min=0, max=max(picture.shape) - 1, description="row", layout=layout
        ),
        "col": widgets.IntSlider(
            value=col, min=0, max=max(picture.shape) - 1, description="col", layout=layout
        ),
        "mode": widgets.ToggleButtons(
            options=["max", "average"], value=mode, description="pooling"
        ),
    }

    def compute(pool, stride, padding, row, col, mode):
        return pool_step(picture, pool, stride, row, col, padding=padding, mode=mode)

    return _build(controls, compute, "pool")
