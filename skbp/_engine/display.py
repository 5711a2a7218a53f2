"""A text progress display for watching a network train.

:class:`ProgressDisplay` shows, after each epoch (or L-BFGS iteration), how
many are done out of the total, the training loss, the validation score when
there is one, the time elapsed and an estimate of the time left::

    epoch  37/200 [####..............]  18% loss 0.084213 val 0.9611 0:03<0:14

The unit is named as the solver counts: ``iteration 37/200 ...`` for L-BFGS.

On a terminal it redraws that one line in place (``\\r``). When the output is
not a terminal (a log file, CI, a notebook's captured output) it degrades to
plain lines, at most ``max_lines`` of them for the whole fit, then one final
summary line from :meth:`ProgressDisplay.close`.

No dependency beyond the standard library.
"""

import io
import math
import os
import sys
import time

__all__ = ["ProgressDisplay", "format_duration"]


def format_duration(seconds):
    """``seconds`` as ``m:ss`` (or ``h:mm:ss`` from an hour on).

    Negative, NaN and infinite durations give ``"?"``.

    >>> format_duration(5.4), format_duration(75), format_duration(3725)
    ('0:05', '1:15', '1:02:05')
    """
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


_BAR = 20  # characters of the bar between [ and ]


def _terminal_columns(stream, default=80):
    """Width of the terminal ``stream`` writes to (``default`` if unknown)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return default


def _is_tty(stream):
    """Whether ``stream`` is an interactive terminal (False if it cannot say)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):  # e.g. a closed file
        return False


class ProgressDisplay:
    """Epochs done, loss, validation score, elapsed and remaining time.

    Call :meth:`update` after each epoch and :meth:`close` once training
    ends (or use the display as a context manager, which closes it).

    Parameters
    ----------
    total_epochs : int
        Most epochs (or iterations) the fit may run: ``max_iter``. Training
        may stop earlier (convergence, early stopping); :meth:`close` then
        says so.
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stdout`` at construction time.
        If ``stream.isatty()`` is true, one line is redrawn in place;
        otherwise plain lines are written.
    unit : str, default="epoch"
        What one :meth:`update` counts, as the lines name it (``"iteration"``
        for L-BFGS): ``iteration 37/200 ...``, then ``done: 37/200
        iterations ...``.
    max_lines : int, default=20
        Most progress lines written when ``stream`` is not a terminal,
        evenly spread over ``total_epochs`` (the final line from
        :meth:`close` comes on top).
    min_interval : float, default=0.1
        On a terminal, least number of seconds between two redraws, so fast
        epochs do not spend their time printing. The first and the last
        epoch are always drawn.
    clock : callable, default=time.perf_counter
        Returns the current time in seconds (for tests).

    Attributes
    ----------
    epoch : int
        Last epoch passed to :meth:`update` (0 before the first).
    loss : float or None
        Last loss passed to :meth:`update`.
    validation_score : float or None
        Last validation score passed to :meth:`update`.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()  # not a terminal: plain lines
    >>> with ProgressDisplay(4, stream=stream, max_lines=2) as progress:
    ...     for epoch in range(1, 5):
    ...         progress.update(epoch, loss=1.0 / epoch)
    >>> len(stream.getvalue().splitlines())  # 2 progress lines, 1 final line
    3
    """

    def __init__(
        self,
        total_epochs,
        stream=None,
        *,
        unit="epoch",
        max_lines=20,
        min_interval=0.1,
        clock=time.perf_counter,
    ):
        total_epochs = int(total_epochs)
        if total_epochs < 1:
            raise ValueError(f"total_epochs must be at least 1, got {total_epochs}.")
        if int(max_lines) < 1:
            raise ValueError(f"max_lines must be at least 1, got {max_lines}.")
        self.total_epochs = total_epochs
        self.stream = sys.stdout if stream is None else stream
        self.unit = unit
        self.max_lines = int(max_lines)
        self.min_interval = float(min_interval)
        self._clock = clock
        self._tty = _is_tty(self.stream)
        # Plain lines: `_n_lines` of them, at epochs evenly spread up to the
        # last one (tick k at ceil(k * total / n_lines)).
        self._n_lines = min(self.max_lines, total_epochs)
        self._tick = 1
        self._start = clock()
        self._last_draw = None
        self._drawn_width = 0  # length of the line on screen (terminal)
        self._closed = False
        self.epoch = 0
        self.loss = None
        self.validation_score = None

    # ------------------------------------------------------------------
    def update(self, epoch, loss, validation_score=None):
        """Record that ``epoch`` has ended with ``loss`` (and a score).

        Parameters
        ----------
        epoch : int
            Epochs (or iterations) done so far, counting from 1.
        loss : float
            Training loss after this epoch.
        validation_score : float, default=None
            Score on the held-out validation set, when early stopping.
        """
        if self._closed:
            raise RuntimeError("update() called on a closed ProgressDisplay.")
        self.epoch = int(epoch)
        self.loss = float(loss)
        self.validation_score = (
            None if validation_score is None else float(validation_score)
        )
        now = self._clock()
        if self._tty:
            last = self.epoch >= self.total_epochs
            due = self._last_draw is None or now - self._last_draw >= self.min_interval
            if last or due:
                self._redraw(self.line(now))
                self._last_draw = now
        elif self.epoch >= self._tick_epoch():
            self._write(self.line(now) + "\n")
            # Skip every tick this epoch reached (epochs may jump).
            while self._tick <= self._n_lines and self._tick_epoch() <= self.epoch:
                self._tick += 1

    def close(self):
        """Finish the display with a summary line; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        now = self._clock()
        if self._tty and self.epoch > 0:
            # The last epoch may not have been drawn (min_interval): draw it.
            self._redraw(self.line(now))
            self._write("\n")
        self._write(self.summary(now) + "\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------
    def elapsed(self, now=None):
        """Seconds since the display was created."""
        return (self._clock() if now is None else now) - self._start

    def remaining(self, now=None):
        """Estimated seconds left: mean time per epoch so far times epochs left.

        ``nan`` before the first epoch.
        """
        if self.epoch <= 0:
            return math.nan
        per_epoch = self.elapsed(now) / self.epoch
        return per_epoch * max(self.total_epochs - self.epoch, 0)

    def line(self, now=None):
        """The progress line for the current state, without line ending."""
        now = self._clock() if now is None else now
        width = len(str(self.total_epochs))
        fraction = min(self.epoch / self.total_epochs, 1.0)
        parts = [f"{self.unit} {self.epoch:>{width}}/{self.total_epochs}"]
        parts.append(f"{100 * fraction:3.0f}%")
        if self.loss is not None:
            parts.append(f"loss {self.loss:.6g}")
        if self.validation_score is not None:
            parts.append(f"val {self.validation_score:.4f}")
        elapsed = format_duration(self.elapsed(now))
        parts.append(f"{elapsed}<{format_duration(self.remaining(now))}")
        if not self._tty:
            return " ".join(parts)
        # A line longer than the terminal wraps, and "\r" then redraws only
        # its last row: the bar goes first, then the line is cut to fit.
        filled = int(_BAR * fraction)
        bar = "[" + "#" * filled + "." * (_BAR - filled) + "]"
        columns = _terminal_columns(self.stream) - 1
        if len(" ".join(parts)) + len(bar) + 1 <= columns:
            parts.insert(1, bar)
        return " ".join(parts)[:columns]

    def summary(self, now=None):
        """The final line: epochs run, time taken, last loss and score."""
        now = self._clock() if now is None else now
        stopped = "" if self.epoch >= self.total_epochs else " (stopped early)"
        text = (
            f"done: {self.epoch}/{self.total_epochs} {self.unit}s{stopped} in "
            f"{format_duration(self.elapsed(now))}"
        )
        if self.loss is not None:
            text += f", loss {self.loss:.6g}"
        if self.validation_score is not None:
            text += f", validation score {self.validation_score:.4f}"
        return text

    # ------------------------------------------------------------------
    def _tick_epoch(self):
        """Epoch at which the next plain line is due (never, past the last)."""
        if self._tick > self._n_lines:
            return math.inf
        return -(-self._tick * self.total_epochs // self._n_lines)  # ceil, exact

    def _redraw(self, text):
        # Pad with spaces so a shorter line wipes out the end of a longer one.
        padding = " " * max(self._drawn_width - len(text), 0)
        self._write("\r" + text + padding)
        self._drawn_width = len(text)

    def _write(self, text):
        self.stream.write(text)
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()
