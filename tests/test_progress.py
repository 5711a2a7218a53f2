"""skbp._engine.display.ProgressDisplay: what it writes on a terminal and off one."""

import doctest
import io
import math

import pytest
from sklearn.datasets import load_iris

from skbp import BPClassifier
from skbp._engine import display as _progress
from skbp._engine.display import ProgressDisplay, format_duration


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now

    def tick(self, seconds):
        self.now += seconds


class FakeTTY(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self):
        return True


def _run(display, clock, n_epochs, seconds_per_epoch=1.0, validation=False):
    for epoch in range(1, n_epochs + 1):
        clock.tick(seconds_per_epoch)
        score = 0.5 + epoch / (2 * n_epochs) if validation else None
        display.update(epoch, loss=1.0 / epoch, validation_score=score)
    display.close()


# -- format_duration -----------------------------------------------------
@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "0:00"),
        (5.4, "0:05"),
        (59.6, "1:00"),
        (75, "1:15"),
        (3599, "59:59"),
        (3725, "1:02:05"),
        (-1, "?"),
        (math.nan, "?"),
        (math.inf, "?"),
    ],
)
def test_format_duration(seconds, expected):
    assert format_duration(seconds) == expected


def test_docstring_examples():
    result = doctest.testmod(_progress, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


# -- not a terminal: plain lines -----------------------------------------
def test_plain_lines_at_most_max_lines_plus_final():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(200, stream=stream, clock=clock)
    _run(display, clock, 200)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 21  # 20 progress lines + the final one
    assert "\r" not in stream.getvalue()
    assert lines[0].startswith("epoch  10/200")
    assert lines[19].startswith("epoch 200/200 100%")
    assert lines[-1].startswith("done: 200/200 epochs in 3:20")
    assert "stopped early" not in lines[-1]


@pytest.mark.parametrize("total", [1, 3, 19, 20, 21, 39, 40, 41, 199, 1000, 12345])
def test_plain_line_count_is_bounded(total):
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(total, stream=stream, clock=clock)
    _run(display, clock, total, seconds_per_epoch=0.01)
    lines = stream.getvalue().splitlines()
    assert len(lines) == min(total, 20) + 1  # progress lines, then the final one
    # The last progress line is the last epoch: the reader sees it finish.
    assert lines[-2].startswith(f"epoch {total}/{total}")


def test_plain_lines_are_evenly_spread():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(30, stream=stream, max_lines=4, clock=clock)
    _run(display, clock, 30)
    epochs = [line.split()[1] for line in stream.getvalue().splitlines()[:-1]]
    assert epochs == ["8/30", "15/30", "23/30", "30/30"]


def test_plain_lines_custom_max_lines():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(10, stream=stream, max_lines=5, clock=clock)
    _run(display, clock, 10)
    epochs = [line.split()[1] for line in stream.getvalue().splitlines()[:-1]]
    assert epochs == ["2/10", "4/10", "6/10", "8/10", "10/10"]


def test_plain_line_contents():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(20, stream=stream, clock=clock)
    clock.tick(4.0)
    display.update(1, loss=0.123456789, validation_score=0.87654)
    line = stream.getvalue().splitlines()[0]
    # 4 s for 1 epoch: 19 epochs left take about 76 s.
    assert line == "epoch  1/20   5% loss 0.123457 val 0.8765 0:04<1:16"


def test_early_stop_is_reported():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(200, stream=stream, clock=clock)
    _run(display, clock, 37, validation=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # epochs 10, 20, 30, then the final line
    assert lines[-1] == (
        "done: 37/200 epochs (stopped early) in 0:37, loss 0.027027, "
        "validation score 1.0000"
    )


def test_epoch_jumps_do_not_repeat_lines():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(100, stream=stream, clock=clock)
    for epoch in (3, 35, 36, 100):
        display.update(epoch, loss=1.0)
    epochs = [line.split()[1] for line in stream.getvalue().splitlines()]
    assert epochs == ["35/100", "100/100"]


def test_epochs_beyond_total_are_clamped():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(2, stream=stream, clock=clock)
    clock.tick(1.0)
    display.update(3, loss=0.5)
    assert "150%" not in display.line()
    assert " 100% " in display.line()
    assert display.remaining() == 0


# -- a terminal: one line redrawn ----------------------------------------
def test_tty_redraws_one_line():
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(50, stream=stream, clock=clock)
    _run(display, clock, 50, validation=True)
    text = stream.getvalue()
    # One redraw per epoch (epochs are 1 s apart, min_interval 0.1 s).
    assert text.count("\r") == 51  # 50 epochs, then the final redraw
    # Only two lines end: the progress line, then the summary.
    progress_line, summary, empty = text.split("\n")
    assert empty == ""
    assert progress_line.rsplit("\r", 1)[1].startswith(
        "epoch 50/50 [####################] 100% loss 0.02 val 1.0000 0:50<0:00"
    )
    assert summary.startswith("done: 50/50 epochs in 0:50")


def test_tty_bar_fills():
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(4, stream=stream, clock=clock)
    clock.tick(1.0)
    display.update(1, loss=2.0)
    assert "[#####...............]  25%" in display.line()


def test_tty_throttles_redraws_but_draws_the_last_epoch():
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(1000, stream=stream, clock=clock)
    _run(display, clock, 1000, seconds_per_epoch=0.001)
    text = stream.getvalue()
    # 1 s in all, at most one redraw per 0.1 s, plus the first, last and final.
    assert text.count("\r") <= 14
    last_drawn = text.split("\n")[0].rsplit("\r", 1)[1]
    assert last_drawn.startswith("epoch 1000/1000")


def test_tty_shorter_line_wipes_longer_one():
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(3, stream=stream, min_interval=0, clock=clock)
    display.update(1, loss=1.0, validation_score=0.5)
    first = stream.getvalue()[1:]
    display.update(2, loss=1.0)  # no validation score: a shorter line
    second = stream.getvalue()[1 + len(first) :]
    assert second.startswith("\r")
    assert len(second) - 1 == len(first)
    assert second.endswith(" ")


def test_tty_line_fits_the_terminal(monkeypatch):
    # A wrapped line cannot be redrawn with "\r": drop the bar, then cut.
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(200, stream=stream, clock=clock)
    clock.tick(1.0)
    display.update(37, loss=0.0842131, validation_score=0.96112)
    assert len(display.line()) <= 79  # no terminal behind StringIO: 80 columns
    assert "[###" in display.line()
    monkeypatch.setattr(_progress, "_terminal_columns", lambda stream: 60)
    assert len(display.line()) <= 59
    assert "[" not in display.line()
    assert display.line().startswith("epoch  37/200  18% loss 0.0842131")
    monkeypatch.setattr(_progress, "_terminal_columns", lambda stream: 20)
    assert display.line() == "epoch  37/200  18% "


def test_terminal_columns_fallback():
    assert _progress._terminal_columns(io.StringIO()) == 80
    assert _progress._terminal_columns(object(), default=42) == 42


def test_isatty_failure_means_plain_lines():
    class Closed(io.StringIO):
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    display = ProgressDisplay(5, stream=Closed())
    display.update(1, loss=1.0)
    assert "\r" not in display.stream.getvalue()


# -- lifecycle and defaults ----------------------------------------------
def test_close_is_idempotent_and_update_after_close_fails():
    stream = io.StringIO()
    display = ProgressDisplay(5, stream=stream)
    display.update(1, loss=1.0)
    display.close()
    display.close()
    assert stream.getvalue().count("done:") == 1
    with pytest.raises(RuntimeError, match="closed"):
        display.update(2, loss=1.0)


def test_close_before_any_epoch():
    stream = FakeTTY()
    ProgressDisplay(5, stream=stream).close()
    assert stream.getvalue() == "done: 0/5 epochs (stopped early) in 0:00\n"


def test_context_manager_closes():
    stream = io.StringIO()
    with ProgressDisplay(2, stream=stream) as display:
        display.update(1, loss=1.0)
    assert stream.getvalue().splitlines()[-1].startswith("done: 1/2")


def test_default_stream_is_stdout(capsys):
    display = ProgressDisplay(1)
    display.update(1, loss=0.25)
    display.close()
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "done: 1/1" in out


def test_remaining_before_first_epoch_is_unknown():
    display = ProgressDisplay(10, stream=io.StringIO())
    assert math.isnan(display.remaining())
    assert display.line().endswith("<?")


def test_non_finite_loss_is_shown():
    stream = io.StringIO()
    display = ProgressDisplay(1, stream=stream)
    display.update(1, loss=math.nan)
    assert "loss nan" in stream.getvalue()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"total_epochs": 0}, "total_epochs"),
        ({"total_epochs": 5, "max_lines": 0}, "max_lines"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProgressDisplay(stream=io.StringIO(), **kwargs)


# -- the unit: epochs, or L-BFGS iterations --------------------------------
def test_unit_names_the_lines_and_the_summary():
    stream, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(200, stream=stream, unit="iteration", clock=clock)
    _run(display, clock, 37)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("iteration  10/200 ")
    assert lines[-1].startswith("done: 37/200 iterations (stopped early) in ")
    assert "epoch" not in stream.getvalue()


def test_unit_names_the_terminal_line():
    stream, clock = FakeTTY(), FakeClock()
    display = ProgressDisplay(5, stream=stream, unit="iteration", clock=clock)
    _run(display, clock, 5)
    assert "\riteration 5/5 [####################] 100%" in stream.getvalue()
    assert "epoch" not in stream.getvalue()


def _fit_progress(capsys, solver):
    """What a 15-iteration fit with ``progress=True`` prints."""
    X, y = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=(5,), max_iter=15, random_state=0)
    BPClassifier(solver=solver, progress=True, **params).fit(X, y)
    shown = capsys.readouterr()
    return shown.out + shown.err


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lbfgs_fit_counts_iterations(capsys):
    text = _fit_progress(capsys, "lbfgs")
    assert "iteration 15/15" in text and "done: 15/15 iterations" in text
    assert "epoch" not in text


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adam_fit_counts_epochs(capsys):
    text = _fit_progress(capsys, "adam")
    assert "epoch 15/15" in text and "done: 15/15 epochs" in text
    assert "iteration" not in text
