"""The GPU benchmark script, ``benchmarks/gpu.py``, run on the CPU at toy sizes.

The figures need a CUDA machine; this only checks that the script runs end
to end with ``--device cpu`` (torch tensors on the CPU), that its plain torch
loop and skbp's numpy fit learn something, that a failing competitor (the
skbp-on-torch fit, while array-API support is being built) is reported
rather than stopping the others, and that the report has its ratio lines.

The script runs in this process, once for the module (about a second):
``benchmarks/`` is not a package on the test path, so the file is loaded by
its path, with ``benchmarks/`` on ``sys.path`` for its ``bench`` package and
``SCIPY_ARRAY_API=1`` in the environment (scikit-learn requires it for
array-API dispatch; the script sets it itself when run as a program).
"""

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# 2,000 rows of 32 features (8 informative, 10 classes), a (32, 32) network,
# 5 epochs of 31 batches: enough to learn well above chance, in milliseconds.
TOY = [
    "--device",
    "cpu",
    "--n-samples",
    "2000",
    "--n-features",
    "32",
    "--hidden",
    "32,32",
    "--epochs",
    "5",
    "--batch-size",
    "64",
]
CHANCE = 0.1  # 10 balanced classes
SKBP_TORCH = "skbp_torch_cpu"


@pytest.fixture(scope="module")
def gpu():
    """The script's module, loaded from its path."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIPY_ARRAY_API", "1")
        mp.syspath_prepend(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(
            "gpu_benchmark", BENCHMARKS / "gpu.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def toy_run(gpu, tmp_path_factory):
    """Exit code, printed report and ``--json`` figures of one toy run."""
    path = tmp_path_factory.mktemp("gpu_benchmark") / "figures.json"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIPY_ARRAY_API", "1")
        with contextlib.redirect_stdout(out):
            code = gpu.main([*TOY, "--json", str(path)])
    figures = json.loads(path.read_text()) if path.exists() else None
    return code, out.getvalue(), figures


def _result(figures, name):
    (result,) = [r for r in figures["results"] if r["name"] == name]
    return result


def test_report_has_the_ratio_lines_and_environment(toy_run):
    code, report, figures = toy_run
    assert code == 0, report
    for ratio in (f"{SKBP_TORCH} / skbp_cpu_numpy", f"{SKBP_TORCH} / torch_loop"):
        assert ratio in report
        assert ratio in [r["name"] for r in figures["ratios"]]
    for header in ("torch ", "float32_matmul_precision", "skbp_path", "threadpool"):
        assert header in report
    assert [r["name"] for r in figures["results"]] == [
        SKBP_TORCH,
        "skbp_cpu_numpy",
        "torch_loop",
    ]


@pytest.mark.parametrize("name", ["skbp_cpu_numpy", "torch_loop"])
def test_numpy_fit_and_torch_loop_learn(toy_run, name):
    code, report, figures = toy_run
    result = _result(figures, name)
    assert result["error"] is None, result["error"]
    assert result["time"] > 0 and len(result["times"]) == 1
    assert not result["estimated"]
    assert result["accuracy"] > 2 * CHANCE, report


def test_skbp_torch_fit_succeeds_or_is_reported_failed(toy_run):
    code, report, figures = toy_run
    result = _result(figures, SKBP_TORCH)
    (line,) = [x for x in report.splitlines() if x.split()[:2] == [SKBP_TORCH, "cpu"]]
    ratios = [r for r in figures["ratios"] if r["name"].startswith(SKBP_TORCH)]
    if result["error"] is None:
        assert result["accuracy"] > 2 * CHANCE
        assert all(r["value"] > 0 and r["met"] in ("yes", "NO") for r in ratios)
    else:
        assert "failed: " in line
        assert result["time"] is None and result["accuracy"] is None
        assert all(r["value"] is None and "failed" in r["note"] for r in ratios)


def test_skbp_torch_fit_succeeds(toy_run):
    code, report, figures = toy_run
    result = _result(figures, SKBP_TORCH)
    assert result["error"] is None, result["error"]
    assert result["accuracy"] > 2 * CHANCE
    assert all(r["value"] is not None for r in figures["ratios"])


def test_options(gpu):
    def config(*argv):
        return gpu.make_config(gpu.parse_args(list(argv)))

    full = config()
    assert (full.n_samples, full.n_features, full.hidden) == (
        200_000,
        256,
        (1024, 1024),
    )
    assert (full.epochs, full.batch_size, full.cpu_epochs) == (3, 1024, 3)
    assert full.device == "cuda"
    quick = config("--quick", "--epochs", "2")
    assert (quick.n_samples, quick.hidden, quick.epochs) == (20_000, (256, 256), 2)
    assert config("--skip-cpu").cpu_epochs is None
    assert config("--cpu-epochs", "1").cpu_epochs == 1
    assert config("--skip-cpu", "--cpu-epochs", "1").cpu_epochs == 1
    with pytest.raises(ValueError, match="cpu-epochs"):
        config("--cpu-epochs", "4")


def test_no_cuda_is_a_clear_exit(gpu, capsys):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert gpu.main(["--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
