"""The quantile benchmark script, ``benchmarks/quantile.py``, at toy size.

It checks that the script runs end to end (500 training rows, one fit of
each competitor: well under a second of fitting), that its report has the
environment, the command that reproduces it and the three tables, that
``--qr-rows`` fits QuantileRegressor on a subsample and says so, and that
the figures are sane: skbp's quantiles never cross, and the truth's pinball
loss is the floor (a ratio of 1).

The script runs in this process, once for the module: ``benchmarks/`` is not
a package on the test path, so the file is loaded by its path, with
``benchmarks/`` on ``sys.path`` for its ``bench`` package.
"""

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
TOY = ["--n-train", "500", "--n-test", "2000", "--repeats", "1", "--qr-rows", "200"]


@pytest.fixture(scope="module")
def quantile_benchmark():
    """The script's module, loaded from its path."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(
            "quantile_benchmark", BENCHMARKS / "quantile.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def toy_run(quantile_benchmark, tmp_path_factory):
    """Exit code, printed report and ``--json`` figures of one toy run."""
    path = tmp_path_factory.mktemp("quantile_benchmark") / "figures.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = quantile_benchmark.main([*TOY, "--json", str(path)])
    return code, out.getvalue(), json.loads(path.read_text())


def test_report_has_environment_command_and_tables(toy_run):
    code, report, figures = toy_run
    assert code == 0
    assert "blas_threads_requested   1" in report
    assert "reproduce with           python benchmarks/quantile.py " in report
    assert " ".join(TOY) in report
    for title in ("cover 0.05", "in 90% band", "pinball 0.95", "/ truth 0.5"):
        assert title in report
    for name in ("skbp", "HGBT", "QuantileRegressor", "truth"):
        assert name in figures["results"]
    assert figures["sizes"] == {"n_train": 500, "n_test": 2000, "repeats": 1}


def test_quantile_regressor_subsample_is_reported(toy_run):
    _, report, figures = toy_run
    assert figures["results"]["QuantileRegressor"]["rows"] == 200
    assert figures["results"]["skbp"]["rows"] == 500
    assert "QuantileRegressor was fitted on a subsample: the first 200" in report


def test_figures_are_sane(toy_run):
    _, _, figures = toy_run
    results = figures["results"]
    assert results["skbp"]["crossed"] == 0.0
    assert results["skbp"]["ratio"] == 1.0
    assert results["truth"]["pinball_ratio"] == [1.0, 1.0, 1.0]
    for name in ("skbp", "HGBT", "QuantileRegressor"):
        result = results[name]
        assert len(result["times"]) == 1 and result["best"] > 0
        # Nobody beats the true quantiles by much on 2,000 test rows.
        assert min(result["pinball_ratio"]) > 0.95
    # Even at 500 rows the one network learns the levels roughly.
    for got, level in zip(results["skbp"]["coverage"], (0.05, 0.5, 0.95)):
        assert abs(got - level) < 0.08


def test_command_line(quantile_benchmark):
    args = quantile_benchmark.parse_args(["--quick", "--repeats", "2"])
    assert args.quick and args.repeats == 2
    with pytest.raises(SystemExit):
        with contextlib.redirect_stderr(io.StringIO()):
            quantile_benchmark.parse_args(["--n-train", "0"])
