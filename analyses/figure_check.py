"""Is a figure readable?  Every text it draws (titles, axis labels, the tick labels it shows,
legends, annotations, colour-bar labels) inside the canvas, no two overlapping, none smaller
than MIN_FONT_PT as the page shows it; every legend inside the canvas.  matplotlib's renderer
gives the extents (``Figure.draw_without_rendering`` lays the figure out once without
rasterising it; every extent below is read from that layout)."""

from __future__ import annotations

import math

import numpy as np

MIN_FONT_PT = 10.0  # issue 20: fonts of at least 10 pt
# Tolerated overlap, and reach beyond the canvas: a text's extent is its line box (the font's
# whole ascent and descent, not its glyphs), so two line boxes stacked by the layout may share
# a pixel or two of blank space (a suptitle over the panel titles: 1.2 px at 100 dpi)
SLACK_PT = 1.5
# the page shows a figure at 96 CSS px per inch of its width, at most the 1200 px column
# (analyses.figures.display_width): a wider figure is shrunk, and its text with it
PAGE_WIDTH_IN = 1200 / 96


def _drawn(text) -> bool:
    return text is not None and text.get_visible() and bool(text.get_text().strip())


def _tick_labels(axis):
    """The tick labels the axis draws: only its ticks inside the view interval are drawn
    (``Axis._update_ticks``, what ``Axis.draw`` itself calls); the others keep stale labels
    and positions that would be false overlaps."""
    for tick in axis._update_ticks():  # noqa: SLF001 -- matplotlib's own list of drawn ticks
        for label in (tick.label1, tick.label2):
            if tick.get_visible() and label.get_visible() and _drawn(label):
                yield label


def _legend_texts(legend):
    if legend is None or not legend.get_visible():
        return []
    return [t for t in (legend.get_title(), *legend.get_texts()) if _drawn(t)]


def _all_axes(fig):
    """The axes of the figure and of its subfigures (``Figure.axes`` holds only its own)."""
    yield from fig.axes
    for sub in getattr(fig, "subfigs", []):
        yield from _all_axes(sub)


def _all_figures(fig):
    yield fig
    for sub in getattr(fig, "subfigs", []):
        yield from _all_figures(sub)


def texts(fig) -> list:
    """Every text artist the figure draws, each once."""
    found = []
    for f in _all_figures(fig):
        found += [t for t in f.texts if _drawn(t)]
        for legend in f.legends:
            found += _legend_texts(legend)
    for ax in _all_axes(fig):
        if not ax.get_visible():
            continue
        titles = (ax.title, ax._left_title, ax._right_title)  # noqa: SLF001
        found += [t for t in titles if _drawn(t)]
        found += [t for t in ax.texts if _drawn(t)]
        found += _legend_texts(ax.get_legend())
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                found += [t for t in (axis.label, axis.offsetText) if _drawn(t)]
                found += list(_tick_labels(axis))
    unique = {id(t): t for t in found}
    return list(unique.values())


def legends(fig) -> list:
    """Every visible legend of the figure, its subfigures and its axes."""
    found = [lg for f in _all_figures(fig) for lg in f.legends]
    found += [ax.get_legend() for ax in _all_axes(fig) if ax.get_visible()]
    unique = {id(lg): lg for lg in found if lg is not None and lg.get_visible()}
    return list(unique.values())  # a subfigure's axes are also the root figure's: once each


def _shown(text, renderer) -> bool:
    """An annotation whose point lies outside its axes is not drawn (``Annotation.draw``)."""
    check = getattr(text, "_check_xy", None)
    return check is None or bool(check(renderer))


def _rectangle(text, box, renderer) -> np.ndarray:
    """The four corners (pixels) of the text's own rectangle: for rotated text the window
    extent is the axis-aligned box around it, which overlaps its neighbours' (45° tick labels)
    where the letters do not.  The rectangle and its bounding box share their centre."""
    rotation = text.get_rotation()
    angle = rotation % 180
    if math.isclose(angle % 90, 0, abs_tol=1e-6):
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    text.set_rotation(0)  # the unrotated extent: the width and height of the rectangle
    try:
        flat = text.get_window_extent(renderer)
    finally:
        text.set_rotation(rotation)
    w, h = flat.width / 2, flat.height / 2
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u, v = np.array([c, s]), np.array([-s, c])
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    return np.array(
        [centre + a * w * u + b * h * v for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    )


def _inside(box, canvas, slack: float) -> bool:
    return (
        box.x0 >= canvas.x0 - slack
        and box.y0 >= canvas.y0 - slack
        and box.x1 <= canvas.x1 + slack
        and box.y1 <= canvas.y1 + slack
    )


def _overlap(a: np.ndarray, b: np.ndarray, slack: float) -> bool:
    """Two convex quadrilaterals overlap by more than ``slack`` along every edge normal of
    either (separating axis theorem; for upright boxes: both intervals overlap)."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            length = np.hypot(*edge)
            if not length > 0:  # a text with no extent along this edge: no axis to test
                continue
            normal = np.array([-edge[1], edge[0]]) / length
            pa, pb = a @ normal, b @ normal
            if min(pa.max(), pb.max()) - max(pa.min(), pb.min()) <= slack:
                return False
    return True


def _name(text) -> str:
    s = " ".join(text.get_text().split())
    return repr(s if len(s) <= 40 else s[:37] + "...")


def problems(fig, drawn_at: float | None = None) -> list[str]:
    """What makes the figure hard to read, one line each (empty: none found).  ``drawn_at``:
    the dpi the figure was just drawn (saved) at; its layout is then measured as drawn, at that
    dpi (legends place themselves in pixels when drawn), instead of being laid out again."""
    if drawn_at is None:
        fig.draw_without_rendering()
    else:
        fig.set_dpi(drawn_at)
    if not hasattr(fig.canvas, "get_renderer"):  # closed by pyplot after saving: a bare canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)  # becomes fig.canvas; the layout drawn is kept
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    slack = SLACK_PT * fig.dpi / 72  # in the layout's pixels
    found = []
    drawn = [t for t in texts(fig) if _shown(t, renderer)]
    boxes = [(t, t.get_window_extent(renderer)) for t in drawn]
    width_in = fig.get_figwidth()
    shrink = min(1.0, PAGE_WIDTH_IN / width_in)
    for t, box in boxes:
        if not _inside(box, canvas, slack):
            found.append(f"text {_name(t)} is outside the figure")
        if t.get_fontsize() < MIN_FONT_PT - 1e-9:
            found.append(f"text {_name(t)} is {t.get_fontsize():g} pt (< {MIN_FONT_PT:g} pt)")
    smallest = min((t.get_fontsize() for t in drawn), default=MIN_FONT_PT)
    if smallest * shrink < MIN_FONT_PT - 1e-9 <= smallest:  # (smaller text: reported above)
        found.append(
            f"the figure is {width_in:.3g} in wide: the page shrinks it to {shrink:.0%} "
            f"(wider than {PAGE_WIDTH_IN:g} in), its {smallest:g} pt text to "
            f"{smallest * shrink:.3g} pt"
        )
    for legend in legends(fig):
        if not _inside(legend.get_window_extent(renderer), canvas, slack):
            found.append("a legend reaches outside the figure")
    # the bounding boxes first, all pairs at once (a figure of 40 panels draws hundreds of
    # tick labels): disjoint boxes hold disjoint rectangles
    ext = np.array([[b.x0, b.y0, b.x1, b.y1] for _, b in boxes]).reshape(-1, 4)
    wide = np.minimum.outer(ext[:, 2], ext[:, 2]) - np.maximum.outer(ext[:, 0], ext[:, 0])
    tall = np.minimum.outer(ext[:, 3], ext[:, 3]) - np.maximum.outer(ext[:, 1], ext[:, 1])
    for i, j in zip(*np.nonzero(np.triu((wide > slack) & (tall > slack), k=1)), strict=True):
        (a, box_a), (b, box_b) = boxes[i], boxes[j]
        if _overlap(_rectangle(a, box_a, renderer), _rectangle(b, box_b, renderer), slack):
            found.append(f"texts {_name(a)} and {_name(b)} overlap")
    return found
