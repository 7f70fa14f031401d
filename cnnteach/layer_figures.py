"""Static figures of what one layer does to an image: kernel responses and flattening.

matplotlib is imported inside the functions, so importing this module is light.
"""

from __future__ import annotations

import numpy as np

from cnnteach._checks import axes_row, colormap, grey_image
from cnnteach.ops import conv2d

__all__ = ["plot_flatten", "plot_kernel_responses"]


def plot_kernel_responses(image, kernels: dict, ax=None, stride=1, padding="valid"):
    """Show an image and what each named kernel makes of it (one feature map per kernel).

    Parameters
    ----------
    image : array of shape (H, W)
    kernels : dict of str -> array of shape (K, K)
    ax : sequence of ``len(kernels) + 1`` Axes, optional
    stride, padding : as in :func:`cnnteach.ops.conv2d`

    Returns
    -------
    list of matplotlib.image.AxesImage
        The image first, then one map per kernel (red: positive, blue: negative).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cnnteach.steps import make_kernel
    >>> shown = plot_kernel_responses(np.eye(8), {"blur": make_kernel("blur")})
    >>> [im.get_array().shape for im in shown]
    [(8, 8), (6, 6)]
    """
    picture = grey_image(image, "the explorer's image")
    if not isinstance(kernels, dict) or not kernels:
        raise ValueError(
            "kernels must be a dict of named kernels such as {'blur': make_kernel('blur')}, "
            f"not {type(kernels).__name__} {kernels!r:.60}."
        )
    axes = axes_row(ax, len(kernels) + 1, (2.6 * (len(kernels) + 1), 2.9))
    shown = [axes[0].imshow(picture, cmap="gray", interpolation="nearest")]
    axes[0].set_title(f"input {picture.shape[0]} × {picture.shape[1]}", fontsize=10, y=1.0)
    for axis, (name, weights) in zip(axes[1:], kernels.items()):
        weights = np.asarray(weights, dtype=float)
        fmap = conv2d(
            picture[np.newaxis, :, :, np.newaxis],
            weights[:, :, np.newaxis, np.newaxis],
            stride=stride,
            padding=padding,
        )[0, :, :, 0]
        limit = float(np.abs(fmap).max()) or 1.0
        shown.append(
            axis.imshow(fmap, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        )
        axis.set_title(f"{name}: {fmap.shape[0]} × {fmap.shape[1]}", fontsize=10, y=1.0)
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return shown


def plot_flatten(maps, ax=None, show_positions: int = 3):
    """Show how ``Flatten`` lays a stack of feature maps (H, W, C) out as one vector.

    Top: the C maps side by side. Bottom: the H·W·C vector, with a strip that colours each
    element by the map (channel) it comes from: the channel changes fastest, so the colours
    cycle. Lines join the first few pixels to where they land.

    Parameters
    ----------
    maps : array of shape (H, W, C)
    ax : sequence of two Axes (maps, vector), optional
    show_positions : int, optional
        How many pixels of the first map to join to their place in the vector.

    Returns
    -------
    dict
        ``{"maps": AxesImage, "vector": AxesImage, "channels": AxesImage}``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_flatten(np.zeros((6, 6, 10)))
    >>> drawn["vector"].get_array().shape
    (1, 360)
    """
    stack = np.asarray(maps, dtype=float)
    if stack.ndim != 3:
        raise ValueError(
            "maps must have shape (rows, columns, channels), got "
            f"{stack.shape}; pass one image's maps, e.g. maps[0]."
        )
    h, w, c = stack.shape
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(
            2, 1, figsize=(11, 3.6), height_ratios=[2.2, 1], layout="constrained"
        )
    else:
        axes = axes_row(ax, 2, None)
    gap = 1
    montage = np.full((h, c * (w + gap) - gap), np.nan)
    for channel in range(c):
        montage[:, channel * (w + gap) : channel * (w + gap) + w] = stack[:, :, channel]
    grey = colormap("gray", bad="white")
    drawn = {"maps": axes[0].imshow(montage, cmap=grey, interpolation="nearest")}
    tab = colormap("tab10")
    for channel in range(c):
        axes[0].add_patch(_rect(channel * (w + gap) - 0.5, -0.5, w, h, tab(channel % 10)))
    axes[0].set_title(f"{c} feature maps of {h} × {w}", fontsize=10, y=1.0)
    vector = stack.reshape(1, -1)
    channels = np.tile(np.arange(c), h * w)[np.newaxis, :] % 10
    axes[1].set_xlim(-0.5, vector.shape[1] - 0.5)
    drawn["vector"] = axes[1].imshow(
        vector,
        cmap="gray",
        aspect="auto",
        interpolation="nearest",
        extent=(-0.5, vector.shape[1] - 0.5, 1.5, 0.5),
    )
    drawn["channels"] = axes[1].imshow(
        channels,
        cmap=tab,
        vmin=0,
        vmax=9,
        aspect="auto",
        interpolation="nearest",
        extent=(-0.5, vector.shape[1] - 0.5, 0.5, -0.5),
    )
    axes[1].set_ylim(1.5, -0.5)
    axes[1].set_yticks([0, 1], ["map", "value"])
    axes[1].set_title(
        f"Flatten: one vector of {h} × {w} × {c} = {vector.shape[1]} numbers "
        f"(pixel (i, j) of map c lands at (i·{w} + j)·{c} + c)",
        fontsize=10,
    )
    axes[0].set_axis_off()
    axes[1].set_xticks(
        np.arange(0, vector.shape[1], w * c)
    )  # each row of the maps fills w*c elements
    axes[1].tick_params(labelsize=8)
    from matplotlib.patches import ConnectionPatch

    for j in range(min(show_positions, w)):
        target = j * c  # map 0, row 0, column j
        link = ConnectionPatch(
            xyA=(j, 0),
            coordsA=axes[0].transData,
            xyB=(target, -0.5),
            coordsB=axes[1].transData,
            color="#d62728",
            linewidth=0.8,
        )
        link.set_in_layout(False)
        axes[1].figure.add_artist(link)
    return drawn


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fill=False, edgecolor=colour, linewidth=2)
