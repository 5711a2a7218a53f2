"""The result table: one :class:`Row` per line, formatted and printed."""

import statistics
from dataclasses import dataclass

from .measure import median_ratio

HEADER = (
    "#",
    "case",
    "skbp",
    "sklearn",
    "bare",
    "skbp/bare",
    "skbp/skl",
    "target",
    "met",
)
_LEFT = {1, 7, 8}  # text columns, left-aligned; figures are right-aligned


@dataclass
class Row:
    """One line of the table.

    Ratios are skbp's figure over the other's, medians of paired repeats:
    below 1 means skbp is faster (or smaller). A goal is ``(target,
    acceptable)`` on such a ratio; ``acceptable`` may be None.
    """

    workload: int
    case: str
    unit: str  # "s", "MiB" or "" (a score: accuracy, loss)
    skbp: float
    sklearn: float | None = None
    bare: float | None = None
    skbp_over_bare: float | None = None
    skbp_over_sklearn: float | None = None
    bare_goal: tuple | None = None
    sklearn_goal: tuple | None = None
    note: str = ""

    def target(self):
        """The goals as text, e.g. ``bare<=1.3 (1.6), skl<=0.5``."""
        parts = []
        for name, goal in (("bare", self.bare_goal), ("skl", self.sklearn_goal)):
            if goal is not None:
                target, acceptable = goal
                extra = "" if acceptable is None else f" ({acceptable:.2g})"
                parts.append(f"{name}<={target:.2g}{extra}")
        if self.unit == "" and self.sklearn is not None:
            parts.append("~sklearn")
        return ", ".join(parts)

    def met(self):
        """One verdict per goal (``yes``, ``ok`` or ``NO``), joined by ``/``."""
        verdicts = []
        for ratio, goal in (
            (self.skbp_over_bare, self.bare_goal),
            (self.skbp_over_sklearn, self.sklearn_goal),
        ):
            if goal is not None and ratio is not None:
                target, acceptable = goal
                if ratio <= target:
                    verdicts.append("yes")
                elif acceptable is not None and ratio <= acceptable:
                    verdicts.append("ok")
                else:
                    verdicts.append("NO")
        if self.unit == "" and self.sklearn is not None:
            close = abs(self.skbp - self.sklearn) <= 0.01 * max(1.0, abs(self.sklearn))
            verdicts.append("yes" if close else "NO")
        return "/".join(verdicts)


def fmt_value(value, unit):
    """``value`` in ``unit`` (``"s"``, ``"MiB"`` or ``""``) as text; None is ``-``."""
    if value is None:
        return "-"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.1f} us"
        if value < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.3f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.4f}"


def _fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}"


def fmt_list(times):
    """Per-repeat seconds as ``[1.234, 1.301]``, for the notes."""
    return "[" + ", ".join(f"{t:.3f}" for t in times) + "]"


def timed_row(workload, case, times, bare_goal=None, sklearn_goal=None, note=""):
    """A row from ``{"skbp": [...], "sklearn": [...], "bare": [...]}``.

    Parameters
    ----------
    workload : int
    case : str
        The ``case`` column.
    times : dict of str to list of float
        As :func:`bench.measure.interleaved` returns; ``sklearn`` and
        ``bare`` may be missing.
    bare_goal, sklearn_goal : tuple or None, default=None
        ``(target, acceptable)`` on ``skbp / bare`` and ``skbp / sklearn``.
    note : str, default=""
        Printed under the table.

    Returns
    -------
    row : Row
        Median times and medians of the paired ratios.
    """

    def med(name):
        return statistics.median(times[name]) if name in times else None

    def ratio(name):
        return median_ratio(times["skbp"], times[name]) if name in times else None

    return Row(
        workload,
        case,
        "s",
        med("skbp"),
        med("sklearn"),
        med("bare"),
        ratio("bare"),
        ratio("sklearn"),
        bare_goal,
        sklearn_goal,
        note,
    )


def _cells(row):
    return (
        str(row.workload),
        row.case,
        fmt_value(row.skbp, row.unit),
        fmt_value(row.sklearn, row.unit),
        fmt_value(row.bare, row.unit),
        _fmt_ratio(row.skbp_over_bare),
        _fmt_ratio(row.skbp_over_sklearn),
        row.target(),
        row.met(),
    )


def format_columns(header, lines, left=()):
    """Align text cells in columns two spaces apart, under a header and a rule.

    Parameters
    ----------
    header : sequence of str
        The column titles.
    lines : list of sequence of str
        One sequence of cells per line, as many as ``header``.
    left : container of int, default=()
        Indices of the columns aligned left (text); the others are aligned
        right (figures).

    Returns
    -------
    text : list of str
        The header, the rule, then one string per line.
    """
    widths = [max(len(x) for x in column) for column in zip(header, *lines)]

    def fmt(cells):
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [fmt(header), rule, *(fmt(cells) for cells in lines)]


def print_table(rows):
    """Print the table, a blank line between workloads, then the notes.

    Parameters
    ----------
    rows : list of Row
    """
    header, rule, *lines = format_columns(HEADER, [_cells(r) for r in rows], _LEFT)
    print(header)
    print(rule)
    previous = None
    for row, line in zip(rows, lines):
        if previous is not None and row.workload != previous:
            print()
        previous = row.workload
        print(line)
    notes = [(r.workload, r.case, r.note) for r in rows if r.note]
    if notes:
        print()
        for workload, case, note in notes:
            print(f"  [{workload}] {case}: {note}")
