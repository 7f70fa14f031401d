"""Input checks shared by every module: numbers, images, labels and matplotlib Axes.

Each helper returns the normalised value or raises :class:`ValueError` with one sentence that
names what is wrong and what to pass instead. No module keeps its own copy of these rules.
This module imports numpy only (matplotlib inside the Axes helpers).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

#: The most values an array built from an argument may hold (about 800 MB of float64).
MAX_ITEMS = 100_000_000


def check_size(shape, what: str) -> None:
    """Refuse, before allocating, an array of ``shape`` that would hold more than MAX_ITEMS."""
    items = 1
    for side in shape:
        items *= int(side)
    if items > MAX_ITEMS:
        raise ValueError(
            f"{what} would hold {items:,} values, far more than this machine should allocate; "
            "use smaller sizes."
        )


# ----------------------------------------------------------------------------- numbers
def whole(value, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int, or a ValueError if it is not a whole number in range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        what = f"the {type(value).__name__} {value!r}"
        raise ValueError(
            f"{name} must be a whole number (an int such as {max(minimum, 1)} or 3), got {what}; "
            "write it without a decimal point or quotes."
        )
    if value < minimum:
        need = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(
            f"{name} must be {need}, got {int(value)}; use a value of {minimum} or more."
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{name} must be at most {maximum}, got {int(value)}; use a smaller value."
        )
    return int(value)


def is_pair(value) -> bool:
    """True for a tuple, list or array (the ``(rows, columns)`` form of a size)."""
    return isinstance(value, (tuple, list, np.ndarray)) and not isinstance(value, str)


def pair(value, name: str, *, minimum: int = 1, maximum: int | None = None) -> tuple[int, int]:
    """``value`` as two whole numbers (one int counts for both axes)."""
    if is_pair(value):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be one number or a pair (rows, columns), got {len(value)} values."
            )
        return (
            whole(value[0], name, minimum=minimum, maximum=maximum),
            whole(value[1], name, minimum=minimum, maximum=maximum),
        )
    number = whole(value, name, minimum=minimum, maximum=maximum)
    return (number, number)


def finite(value, name: str) -> float:
    """``value`` as a finite float, or a ValueError (NaN and infinity are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, got the {type(value).__name__} {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {number}; pass a real value.")
    return number


def padding_mode(padding, *, allow_int: bool = True):
    """``"valid"``, ``"same"`` or (when allowed) a non-negative int."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in ("valid", "same"):
            return mode
        raise ValueError(
            f"padding must be 'valid' or 'same' (or a number of zeros), got {padding!r}; "
            "pick one of those."
        )
    if allow_int and isinstance(padding, (int, np.integer)) and not isinstance(padding, np.bool_):
        if not isinstance(padding, bool):
            return whole(padding, "padding", minimum=0)
    allowed = (
        "'valid', 'same' or a whole number of zeros such as 1" if allow_int else "'valid' or 'same'"
    )
    raise ValueError(f"padding must be {allowed}, got the {type(padding).__name__} {padding!r}.")


# ----------------------------------------------------------------------------- arrays
def numeric_array(values, what: str, *, allow_empty: bool = False) -> np.ndarray:
    """``values`` as a numeric numpy array (tensors and lists accepted), or a ValueError."""
    if isinstance(values, (str, bytes, dict, set)) or values is None:
        raise ValueError(
            f"{what} must be an array of numbers, not a {type(values).__name__}: "
            "pass a numpy array."
        )
    if not hasattr(values, "__len__") and not hasattr(values, "shape"):
        if hasattr(values, "__next__") or hasattr(values, "__iter__"):
            raise ValueError(
                f"{what} must be an array of numbers, not a {type(values).__name__}: "
                "pass a list or a numpy array."
            )
    try:
        array = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(
            f"{what} must be an array of numbers, but numpy cannot read it ({exc})."
        ) from None
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{what} must hold numbers, but its dtype is {array.dtype}: pass a numeric numpy array."
        )
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{what} is empty: pass at least one value.")
    return array


def as_image(image, what: str = "image", *, channels: tuple[int, ...] = ()) -> np.ndarray:
    """One image as ``(H, W)``, or ``(H, W, C)`` for a C in ``channels``.

    A leading batch of one and a trailing channel of one are dropped, so ``x[0]``,
    ``x[0][..., None]`` and ``x[:1]`` all give the same ``(H, W)`` image.
    """
    array = numeric_array(image, what)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in channels):
        return array
    extra = "".join(f" or (H, W, {c})" for c in channels)
    wanted = f"(H, W) or (H, W, 1){extra}"
    hint = " (a batch of images? pick one, e.g. images[0])" if array.ndim >= 3 else ""
    raise ValueError(f"{what} must have shape {wanted}, but it has shape {array.shape}{hint}.")


def as_images(images, what: str = "images", *, rgb: bool = True) -> np.ndarray:
    """A stack of images as ``(N, H, W)`` (or ``(N, H, W, 3)``); one image becomes a stack of
    one."""
    array = numeric_array(images, what)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 or (rgb and array.ndim == 4 and array.shape[-1] == 3):
        return array
    wanted = "(N, H, W), (N, H, W, 1) or (N, H, W, 3)" if rgb else "(N, H, W) or (N, H, W, 1)"
    raise ValueError(f"{what} must have shape {wanted}, but it has shape {array.shape}.")


def grey_image(image, what: str = "image") -> np.ndarray:
    """One grey image as a float64 ``(rows, columns)`` array."""
    return as_image(image, what).astype(float)


def nhwc_images(images, name: str = "images") -> np.ndarray:
    """A 4-D numeric batch ``(images, rows, columns, channels)``, as Keras lays images out."""
    array = np.asarray(images)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold numbers, got dtype {array.dtype}; pass a numeric numpy array."
        )
    if array.ndim != 4:
        fix = {
            2: "one grey image: use image[np.newaxis, :, :, np.newaxis]",
            3: (
                "add the missing axis: images[..., np.newaxis] "
                "for a channel, or images[np.newaxis] for a batch"
            ),
        }.get(array.ndim, "reshape it to (images, rows, columns, channels)")
        raise ValueError(
            f"{name} must be 4-D (images, rows, columns, channels), got shape {array.shape}; {fix}."
        )
    if 0 in array.shape:
        raise ValueError(
            f"{name} has an empty axis (shape {array.shape}); "
            "pass at least one pixel and one image."
        )
    return array


def unit_pixels(array: np.ndarray, what: str = "image") -> np.ndarray:
    """float32 pixels in [0, 1]: uint8 0-255 is divided by 255, floats must already lie
    in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    out = array.astype(np.float32)
    if out.size and not (np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0):
        raise ValueError(
            f"a float {what} must hold pixels in [0, 1]: divide by 255 first, "
            "or pass the uint8 image."
        )
    return out


def as_labels(
    labels, what: str = "labels", *, count: int | None = None, allow_empty: bool = False
) -> np.ndarray:
    """Integer class labels as a 1-D int64 array (one-hot rows are refused with the fix)."""
    array = numeric_array(labels, what, allow_empty=allow_empty)
    if array.ndim == 0:
        array = array[None]
    if array.ndim != 1:
        raise ValueError(
            f"{what} must be a 1-D array of class numbers, but it has shape {array.shape}: "
            f"for one-hot rows pass np.argmax({what}, axis=-1)."
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(
                f"{what} must be whole class numbers such as 0 to 9, "
                "but some are not whole numbers."
            )
    if array.size and np.any(array < 0):
        raise ValueError(
            f"{what} must be class numbers from 0 up, but the smallest is {array.min()}."
        )
    if count is not None and array.shape[0] != count:
        raise ValueError(
            f"{what} must hold {count} labels, one per item, but it holds {array.shape[0]}."
        )
    return array.astype(np.int64)


def class_index(label, n_classes: int) -> int:
    """One class number from 0 to ``n_classes - 1``."""
    if (
        isinstance(label, (bool, np.bool_))
        or not isinstance(label, (int, np.integer))
        or not 0 <= int(label) < n_classes
    ):
        raise ValueError(f"label must be a class number from 0 to {n_classes - 1}, got {label!r}.")
    return int(label)


# ----------------------------------------------------------------------------- axes
def single_axes(ax, figsize):
    """``ax`` itself, or a new figure's only Axes when ``ax`` is None."""
    from matplotlib.axes import Axes

    if ax is None:
        import matplotlib.pyplot as plt  # only to make a figure Jupyter will display

        return plt.figure(figsize=figsize, layout="constrained").add_subplot()
    if not isinstance(ax, Axes):
        raise ValueError(
            f"ax must be a matplotlib Axes or None, not a {type(ax).__name__}: "
            "pass ax=None for a new figure."
        )
    return ax


def panel_axes(ax, n: int, ncols: int, panel_size: tuple[float, float], fig=None) -> np.ndarray:
    """``n`` Axes for a grid of panels: from a new figure, a Figure/SubFigure, or given Axes."""
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase

    if n < 1:
        raise ValueError("there is nothing to draw: pass at least one panel.")
    if fig is not None:
        if ax is not None:
            raise ValueError(
                "pass either ax or fig, not both: fig=... fills a figure, "
                "ax=... draws into given Axes."
            )
        if not isinstance(fig, FigureBase):
            raise ValueError(
                f"fig must be a matplotlib Figure or None, not a {type(fig).__name__}: "
                "pass fig=None for a new figure."
            )
        ax = fig
    if isinstance(ncols, bool) or not isinstance(ncols, Integral) or ncols < 1:
        raise ValueError(f"ncols must be a whole number of at least 1, not {ncols!r}.")
    ncols = min(int(ncols), n)
    nrows = math.ceil(n / ncols)
    if ax is None or isinstance(ax, FigureBase):
        if ax is None:
            import matplotlib.pyplot as plt  # only to make a figure Jupyter will display

            size = (panel_size[0] * ncols, panel_size[1] * nrows)
            ax = plt.figure(figsize=size, layout="constrained")
        grid = np.asarray(ax.subplots(nrows, ncols, squeeze=False)).ravel()
    elif isinstance(ax, Axes):
        if n != 1:
            raise ValueError(
                f"one Axes cannot hold {n} panels: pass a Figure, an array of {n} Axes, or ax=None."
            )
        grid = np.array([ax], dtype=object)
    else:
        grid = axes_list(ax)
        if grid.size < n:
            raise ValueError(
                f"{n} panels need {n} Axes but ax holds {grid.size}: "
                "pass more Axes, a Figure, or ax=None."
            )
    for spare in grid[n:]:
        spare.set_axis_off()
    return grid[:n]


def axes_list(ax) -> np.ndarray:
    """A flat object array of the Axes in ``ax`` (an Axes, a list or an array of them)."""
    from matplotlib.axes import Axes

    try:
        grid = np.asarray(ax, dtype=object).ravel()
    except Exception:
        grid = np.array([], dtype=object)
    if grid.size == 0 or not all(isinstance(a, Axes) for a in grid):
        raise ValueError(
            f"ax must be None, a Figure or an array of Axes, not a {type(ax).__name__}: "
            "pass ax=None for a new figure."
        )
    return grid


def axes_row(ax, count: int, figsize) -> list:
    """Exactly ``count`` Axes side by side: a new figure's, or the ones given."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, count, figsize=figsize, layout="constrained")
        return list(np.atleast_1d(axes))
    axes = list(axes_list(ax))
    if len(axes) != count:
        raise ValueError(
            f"this figure needs {count} Axes, got {len(axes)}; pass ax=None to make a new figure."
        )
    return axes


def colormap(name: str, bad: str = "#eeeeee"):
    """A copy of matplotlib's colormap ``name`` that draws NaN (masked) cells in ``bad``."""
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad=bad)
