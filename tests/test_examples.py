"""Every example in examples/ runs to completion (figures drawn off screen)."""

import importlib.util
import re
import runpy
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def test_examples_found():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    if path.name == "plot_callbacks.py":
        pytest.importorskip("sklearn.callback", reason="callbacks: scikit-learn 1.9")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    namespace = runpy.run_path(str(path), run_name="__main__")
    plt.close("all")
    out = capsys.readouterr().out
    assert out.strip(), f"{path.name} printed nothing"
    # The seed examples state their result; check it holds.
    if path.name == "plot_linear_map.py":
        assert "W == W_true: True" in out and "b == b_true: True" in out
    if path.name == "plot_sine_fit.py":
        assert namespace["reg"].score(namespace["x"], namespace["y"]) > 0.99
    if path.name == "plot_quantile_regression.py":
        # MAPIE is optional: without it the example says so and skips CQR
        # (tests/test_mapie.py runs it that way on purpose).
        band = re.search(r"^conformalized 90% band: covers (\S+) ", out, re.M)
        if importlib.util.find_spec("mapie") is None:
            assert "conformalization skipped" in out
        else:
            assert band and float(band[1]) >= 0.88, out


def test_python_m_skbp_fits_the_example_setup(monkeypatch, capsys):
    # python -m skbp's sine demo and examples/plot_sine_fit.py fit the same
    # setup (skbp.demo.seed_sine_setup): the same error, to every digit printed.
    import matplotlib.pyplot as plt

    from skbp.__main__ import main

    main([])
    demo = capsys.readouterr().out
    match = re.search(r"-> 4000 iterations in .* s, mean squared error (\S+), ", demo)
    assert match, demo
    assert "2) BPClassifier on scikit-learn's digits" in demo

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    path = next(p for p in EXAMPLES if p.name == "plot_sine_fit.py")
    runpy.run_path(str(path), run_name="__main__")
    plt.close("all")
    example = capsys.readouterr().out
    assert f"mean squared error after 4000 iterations: {match[1]}" in example
