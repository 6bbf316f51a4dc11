"""Draws docs/pooling.png: max pooling of a 5x5 input by 3x3 windows with
stride 2, its switches, and where the gradient goes.

    pip install ".[examples]"
    python docs/make_pooling_figure.py [OUTPUT.png]

The numbers are computed by jaxpool; the example is the one of
docs/gradients.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import ConnectionPatch
from matplotlib.patches import Rectangle

import jaxpool

X = [
    [1, 3, 0, 2, 1],
    [4, 2, 5, 1, 0],
    [0, 6, 8, 3, 7],
    [2, 1, 4, 9, 2],
    [3, 0, 2, 1, 5],
]
WINDOW, STRIDE = 3, 2
COTANGENT = [[1, 2], [3, 4]]
# One colour per window (output), in row-major order.
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
# The output whose gradient is followed with an arrow.
FOLLOWED = (1, 1)


def _grid(ax, values, title, fmt="{:g}", shade=None):
    """A table of numbers, one cell per element; ``shade`` colours cells."""
    rows, columns = len(values), len(values[0])
    for r in range(rows):
        for c in range(columns):
            face = shade.get((r, c), "white") if shade else "white"
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#999999", lw=0.8))
            ax.text(c + 0.5, r + 0.5, fmt.format(values[r][c]), ha="center", va="center", size=13)
    ax.set_xlim(-0.2, columns + 0.2)
    ax.set_ylim(rows + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, size=11)


def draw(output: Path) -> None:
    x = jnp.asarray(X, jnp.float32)
    pool = lambda x: jaxpool.max_pool(x, (WINDOW, WINDOW), STRIDE, channel_axis=None)  # noqa: E731
    values, switches = jaxpool.max_pool_with_argmax(x, (WINDOW, WINDOW), STRIDE, channel_axis=None)
    gradient = jax.vjp(pool, x)[1](jnp.asarray(COTANGENT, jnp.float32))[0]
    outputs = [(i, j) for i in range(values.shape[0]) for j in range(values.shape[1])]
    # The input element each output selected.
    selected = {}
    for i, j in outputs:
        a, b = divmod(int(switches[i, j]), WINDOW)
        selected[i, j] = (STRIDE * i + a, STRIDE * j + b)

    fig, axes = plt.subplots(1, 4, figsize=(13, 3.8), gridspec_kw={"width_ratios": [5, 2, 2, 5]})
    tint = {cell: "#fff2b3" for cell in selected.values()}
    _grid(axes[0], X, "input, 3x3 windows, stride 2\n(the selected maxima shaded)", shade=tint)
    for (i, j), colour in zip(outputs, COLOURS):
        inset = 0.06 * (2 * i + j + 1)
        axes[0].add_patch(
            Rectangle(
                (STRIDE * j + inset, STRIDE * i + inset),
                WINDOW - 2 * inset,
                WINDOW - 2 * inset,
                fill=False,
                edgecolor=colour,
                lw=2.2,
            )
        )

    colour_of = {cell: colour for cell, colour in zip(outputs, COLOURS)}
    light = {cell: colour + "33" for cell, colour in colour_of.items()}
    _grid(axes[1], values.tolist(), "pooled values", shade=light)
    _grid(axes[2], switches.tolist(), "switches\n(position 0..8\nin the window)", shade=light)
    _grid(
        axes[3],
        gradient.tolist(),
        f"input gradient for dL/dy = {COTANGENT}\n(three windows chose the 8: 1 + 2 + 3)",
        shade={cell: "#fff2b3" for cell in selected.values()},
    )
    # Follow one output's gradient from its switch to the input element.
    i, j = FOLLOWED
    r, c = selected[i, j]
    arrow = ConnectionPatch(
        xyA=(j + 0.5, i + 0.5),
        coordsA=axes[2].transData,
        xyB=(c + 0.5, r + 0.5),
        coordsB=axes[3].transData,
        arrowstyle="-|>",
        color=colour_of[i, j],
        lw=1.8,
        connectionstyle="arc3,rad=0.3",
        shrinkA=10,
        shrinkB=12,
        mutation_scale=16,
    )
    fig.add_artist(arrow)
    fig.text(
        0.5,
        0.02,
        f"output ({i}, {j}) = {float(values[i, j]):g} has switch {int(switches[i, j])}: "
        f"its gradient {COTANGENT[i][j]} goes to input ({r}, {c}) alone",
        ha="center",
        size=10,
        color=colour_of[i, j],
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(output, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    output = Path(argv[0]) if argv else Path(__file__).with_name("pooling.png")
    draw(output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
