"""One table cell rendered straight to segments, without Rich's generic rendering machinery.

`DataTable` renders every cell as ``console.render_lines(Styled(Padding(cell, (0, padding)), pre, post),
options)``: a dozen generators, option copies and line splits, ~100–400 µs a cell. Every number in the
overview changes on every refresh, so that is paid for most visible cells each time. The cells aitop builds
are all one short line of `Text` that fits its column, and for those the result is simple enough to build
directly: the text justified to the column, its spans resolved to one style per run, the padding around it,
and the cell's styles layered on each segment.

`render_text_cell` builds exactly what that Rich pipeline builds (same segments, same styles, same
boundaries, including its unmerged runs and empty padding styles), or returns None for anything it does not
reproduce exactly, so the caller falls back to Rich. Pure Rich: no Textual here, so it is tested on its own
as well as against `DataTable` (tests/ui/test_ui_cell_render.py). Written against the Rich release pinned
by Textual (rich/text.py `__rich_console__`, `wrap`, `render`; containers.py `Lines.justify`; padding.py;
segment.py `apply_style`, `split_and_crop_lines`); the equivalence tests guard an upgrade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

__all__ = ["render_text_cell"]

_NULL = Style.null()

#: The `Text` members the Rich path calls for a one-line cell: a subclass overriding any of them may render
#: differently, so it goes the Rich way.
_TEXT_MEMBERS = ("__rich_console__", "__rich_measure__", "wrap", "render", "split", "copy", "blank_copy", "join",
                 "truncate", "rstrip", "pad_left", "pad_right", "expand_tabs", "plain", "spans", "__bool__",
                 "__len__", "cell_len")  # fmt: skip
_plain_types: dict[type, bool] = {}

#: Characters known to take exactly one cell. A string of only these has cell_len == len for every slice,
#: so widths can be counted in characters. Tabs, newlines, control codes (width 0), wide and zero-width
#: characters never get in, which sends such text to Rich.
_single_cells: set[str] = {chr(code) for code in range(0x20, 0x7F)}
_MAX_SINGLE_CELLS = 4096  # hostile labels could offer any number of distinct characters: stop learning there


def _is_plain_text(cls: type) -> bool:
    """Whether `cls` renders as `Text` does (it is `Text` or a subclass that overrides nothing we rely on)."""
    known = _plain_types.get(cls)
    if known is None:
        known = _plain_types[cls] = (issubclass(cls, Text) and not hasattr(cls, "__rich__")
                                     and all(getattr(cls, name) is getattr(Text, name)
                                             for name in _TEXT_MEMBERS))  # fmt: skip
    return known


def _all_single_cell(plain: str) -> bool:
    """Whether every character of `plain` is one cell wide."""
    if _single_cells.issuperset(plain):
        return True
    for character in set(plain).difference(_single_cells):
        if cell_len(character) != 1:
            return False
        if len(_single_cells) < _MAX_SINGLE_CELLS:
            _single_cells.add(character)
    return True


def render_text_cell(text: Text, width: int, padding: int, pre_style: Style, post_style: Style,
                     get_style: Callable[..., Style], *, justify: str | None = None,
                     overflow: str | None = None) -> list[list[Segment]] | None:  # fmt: skip
    """The lines of `text` in a one-line table cell, as ``console.render_lines(Styled(Padding(text,
    (0, padding)), pre_style, post_style), options)`` makes them, or None when this cannot promise the same.

    `width` is the whole cell including `padding` on each side; the options are assumed to be one line high
    with no_wrap set (as `DataTable` sets them for a row of height 1), and `justify`/`overflow` are the
    options' own (None in Textual's console options). `get_style` is the console's, for styles given by
    name. None is returned for: empty text, text wider than the space inside the padding (truncation and
    ellipses), characters other than one cell wide (tabs, newlines, control codes, wide or combining
    characters), an `end` other than "" or "\\n", ``no_wrap=False``, overflow "ignore", unknown justify
    values, malformed spans, and `Text` subclasses that change how text renders.
    """
    content = width - 2 * padding
    if content < 1 or padding < 0 or not _is_plain_text(type(text)):
        return None
    # A Text's own settings win over the options' (Text.__rich_console__); the table sets no_wrap.
    if text.end not in ("", "\n") or (text.no_wrap is not None and not text.no_wrap):
        return None
    if (text.overflow or overflow or "fold") == "ignore":  # "ignore" skips justification altogether
        return None
    plain = text.plain
    length = len(plain)
    if not length or length > content or not _all_single_cell(plain):
        return None
    spans: Sequence[tuple[int, int, str | Style]] = text.spans  # (a Span is such a tuple; cut below)
    for start, end, _ in spans:
        if not 0 <= start <= end <= length:
            return None

    # Lines.justify on the single line (then Text.wrap's truncate, a no-op as the text fits).
    how = text.justify or justify or "default"
    shift = 0  # how far the spans move right
    if how in ("default", "full"):  # "full" leaves the last line, here the only one, as it is
        line = plain
    elif how == "left":
        line = plain + " " * (content - length)
    elif how in ("right", "center"):
        # rstrip goes through the `plain` setter, which trims spans to the shorter text.
        line = plain.rstrip()
        kept = len(line)
        if kept < length:
            spans = [(start, min(end, kept), style) for start, end, style in spans if start < kept]
        shift = content - kept if how == "right" else (content - kept) // 2
        line = " " * shift + line + " " * (content - kept - shift)
    else:
        return None

    # Padding pads the line to the content width with a null-styled run and adds `padding` blanks either
    # side (also null-styled); Styled then layers pre_style and post_style over every segment.
    blank = _layer(_NULL, pre_style, post_style)
    segments = [Segment(" " * padding, blank)] if padding else []
    segments.extend(Segment(run, _layer(style, pre_style, post_style))
                    for run, style in _runs(line, text.style, spans, shift, get_style))  # fmt: skip
    if len(line) < content:
        segments.append(Segment(" " * (content - len(line)), blank))
    if padding:
        segments.append(Segment(" " * padding, blank))
    return [segments]


#: (style, pre style, post style) -> `_layer`'s answer: a refresh layers the same few styles over every cell.
_LAYERED: dict[tuple[Style | None, Style, Style], Style | None] = {}
_LAYERED_SIZE = 4096
_UNSET = object()


def _layer(style: Style | None, pre_style: Style, post_style: Style) -> Style | None:
    """`Segment.apply_style(..., style=pre_style, post_style=post_style)` for one segment's style."""
    key = (style, pre_style, post_style)
    layered = _LAYERED.get(key, _UNSET)
    if layered is _UNSET:
        if len(_LAYERED) >= _LAYERED_SIZE:
            _LAYERED.clear()
        layered = _LAYERED[key] = _add_layers(style, pre_style, post_style)
    return layered  # type: ignore[return-value]  # (never the sentinel)


def _add_layers(style: Style | None, pre_style: Style, post_style: Style) -> Style | None:
    if pre_style:
        style = pre_style + style
    if post_style:
        style = style + post_style if style else post_style
    return style


def _runs(line: str, base: str | Style, spans: Iterable[tuple[int, int, str | Style]], shift: int,
          get_style: Callable[..., Style]) -> list[tuple[str, Style | None]]:  # fmt: skip
    """`Text("\\n").join([line]).render(console)` as (text, style) runs: the base style becomes a span over
    the whole line (when truthy), then one run per stretch between span boundaries, styled by the spans over
    it in order. Runs are not merged when alike, as Rich does not merge them."""
    styled = [(0, len(line), base)] if base else []
    styled.extend((start + shift, end + shift, style) for start, end, style in spans)
    if not styled:
        return [(line, None)]  # Text.render: no spans, no style at all (not even a null one)
    # Text.render resolves names through the console, with a null style for an unknown name; its own base
    # style (the joined text's "") is null and starts every combination.
    resolved = [(start, end, get_style(style, default=_NULL) if isinstance(style, str) else style)
                for start, end, style in styled]  # fmt: skip
    bounds = sorted({0, len(line), *(start for start, _, _ in resolved), *(end for _, end, _ in resolved)})
    runs: list[tuple[str, Style | None]] = []
    for begin, finish in pairwise(bounds):
        style = _NULL
        for start, end, span_style in resolved:
            if start <= begin < end:
                style = style + span_style
        runs.append((line[begin:finish], style))
    return runs
