"""The cluster benchmark script, ``benchmarks/cluster.py``, at toy sizes.

The figures need a machine of its own (``python benchmarks/cluster.py``);
this checks that the script runs end to end on local clusters whose workers
are threads of this process (``--in-process``: no worker processes to
start), that the L-BFGS fits ran on the workers and agree with each other
and with the fit in memory, that the report and ``--json`` carry the ratios,
the per-step breakdown and the projection, and that the arithmetic of the
breakdown and of the model is right on a made-up task stream.

The script is loaded by its path (``benchmarks/`` is not a package on the
test path), with ``benchmarks/`` on ``sys.path`` for its ``bench`` package;
the ``PYTHONPATH`` it sets for worker processes is put back afterwards.
"""

import contextlib
import importlib.util
import io
import json
import math
import uuid
from pathlib import Path

import numpy as np
import pytest
from dask_clusters import local_cluster

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
da = pytest.importorskip("dask.array")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# 800 rows of 6 features in 4 chunks, an 8-unit network: milliseconds a fit.
TOY = [
    "--in-process",
    "--workers",
    "1,2",
    "--n-samples",
    "800",
    "--n-features",
    "6",
    "--chunks",
    "4",
    "--lbfgs-hidden",
    "8",
    "--lbfgs-iter",
    "3",
    "--adam-hidden",
    "8",
    "--adam-epochs",
    "1",
    "--adam-batch",
    "200",
    "--repeats",
    "2",
]


@pytest.fixture(scope="module")
def cluster_benchmark():
    """The script's module, loaded from its path."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PYTHONPATH", raising=False)  # the script sets it
        mp.syspath_prepend(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(
            "cluster_benchmark", BENCHMARKS / "cluster.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def toy_run(cluster_benchmark, tmp_path_factory):
    """Exit code, printed report and ``--json`` figures of one toy run."""
    path = tmp_path_factory.mktemp("cluster_benchmark") / "figures.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cluster_benchmark.main([*TOY, "--json", str(path)])
    figures = json.loads(path.read_text()) if path.exists() else None
    return code, out.getvalue(), figures


def _workload(figures, name):
    (result,) = [w for w in figures["workloads"] if w["workload"] == name]
    return result


def test_lbfgs_trains_on_the_workers_and_agrees(toy_run):
    code, report, figures = toy_run
    assert code == 0, report
    lbfgs = _workload(figures, "lbfgs")
    assert lbfgs["data_parallel"]
    steps = {k: b["steps"] for k, b in lbfgs["breakdowns"].items()}
    assert steps["1"] == steps["2"] == lbfgs["passes"] >= 4  # 3 iterations
    models = lbfgs["models"]
    assert models["same_on_every_cluster"]
    assert models["in_memory_largest_relative_difference"] < 1e-8
    accuracy = models["accuracy"]
    assert accuracy["cluster, 1 worker"] == accuracy["skbp in memory"] > 0.1
    assert len(lbfgs["times"]["cluster, 2 workers"]) == 2  # the repeats


def test_report_has_ratios_breakdown_and_projection(toy_run):
    code, report, figures = toy_run
    lbfgs = _workload(figures, "lbfgs")
    names = [r["name"] for r in lbfgs["ratios"]]
    assert names == [
        "throughput, 2 workers / 1",
        "time, skbp 1 worker / in memory",
        "time, skbp in memory / sklearn",
        "per pass, cluster, 1 worker / bare",
        "per pass, skbp in memory / bare",
    ]
    assert lbfgs["ratios"][0]["goal"] == 1.6
    assert set(lbfgs["projection"]) == {"1", "2", "4", "8", "32"}
    assert lbfgs["projection"]["1"]["speedup"] == pytest.approx(1.0)
    for line in (
        "per step (one tree of tasks)",
        "model T(k) = C/k + a + b log2 k",
        "MLlib",
        "goals:",
        "worker_blas",
        "skbp_path",
    ):
        assert line in report
    # The workers are threads here: no memory check, and it says so.
    assert figures["memory"] is None
    assert "[client memory] not measured: the workers are threads" in report


def test_adam_says_whether_it_was_data_parallel(toy_run):
    code, report, figures = toy_run
    adam = _workload(figures, "adam")
    section = report.split("[adam]")[1]
    if adam["data_parallel"]:
        assert "data-parallel on the workers: yes" in section
        assert adam["projection"] is not None
    else:
        assert "data-parallel on the workers: NO" in section
        assert adam["projection"] is None
        assert "(not data-parallel)" in report.split("goals:")[1]
    assert adam["passes"] == 1  # one epoch


def test_client_memory_measures_both_sizes(cluster_benchmark):
    """The mechanics only: with workers in this process the figures count
    the workers' memory too."""
    config = cluster_benchmark.make_config(
        cluster_benchmark.parse_args([*TOY, "--workers", "2"])
    )
    with (
        local_cluster(processes=False) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        memory = cluster_benchmark.client_memory(client, config, "lbfgs")
    assert memory["10x"]["rows"] == 10 * memory["1x"]["rows"] == 800
    assert memory["10x"]["data"] == 10 * memory["1x"]["data"]
    assert memory["1x"]["traced"] > 0 and memory["10x"]["traced"] > 0
    assert isinstance(memory["flat"], bool)


# ----------------------------------------------------------------------
# The arithmetic, on made-up task streams
# ----------------------------------------------------------------------
def _task(name, worker, start, seconds, key_kind="uuid"):
    token = str(uuid.uuid4()) if key_kind == "uuid" else uuid.uuid4().hex
    return {
        "key": f"{name}-{token}",
        "worker": worker,
        "startstops": [
            {"action": "transfer", "start": start - 0.01, "stop": start},
            {"action": "compute", "start": start, "stop": start + seconds},
        ],
    }


def test_step_breakdown(cluster_benchmark):
    """2 steps of 4 chunks on 2 workers (3 chunks on one), 0.1 s a chunk."""
    stream = [
        _task("chunk_sums", "w1" if chunk < 3 else "w2", 10.0 + step, 0.1)
        for step in range(2)
        for chunk in range(4)
    ]
    stream += [_task("_add", "w1", 10.5 + step, 0.001) for step in range(2)]
    stream.append({"key": ("_checked_rows-" + "0" * 32, 0, 0), "worker": "w1"})
    run = cluster_benchmark.Run(seconds=2.5, model=None, stream=stream, started=9.5)
    b = cluster_benchmark.step_breakdown(run, n_chunks=4)
    assert b["steps"] == 2
    assert b["setup"] == pytest.approx(0.49)  # to the first transfer
    assert b["wall"] == pytest.approx((2.5 - 0.49) / 2)
    assert b["compute"] == pytest.approx(0.4)
    assert b["busiest"] == pytest.approx(0.3)
    assert b["overhead"] == pytest.approx(b["wall"] - 0.3)
    assert b["chunks_per_worker"] == [1.0, 3.0]
    assert b["tasks"] == {"chunk_sums": 8, "_add": 2, "_checked_rows": 1}


def test_no_training_task_means_no_steps(cluster_benchmark):
    stream = [{"key": ("array-" + "a" * 32, 0, 0), "worker": "w1", "startstops": []}]
    run = cluster_benchmark.Run(seconds=1.0, model=None, stream=stream, started=0.0)
    assert cluster_benchmark.step_breakdown(run, n_chunks=4)["steps"] == 0
    assert cluster_benchmark.fit_model({1: {"steps": 0}}) is None


def test_task_names(cluster_benchmark):
    name = cluster_benchmark.task_name
    assert name(f"chunk_sums-{uuid.uuid4()}") == "chunk_sums"
    assert name(f"batch_sums-{uuid.uuid4().hex}") == "batch_sums"
    assert name(("_checked_rows-" + "f" * 32, 3, 0)) == "_checked_rows"
    assert name(("concatenate-from-value-" + "0" * 32, 1)) == "concatenate-from-value"


def test_model_and_projection(cluster_benchmark):
    """C from the fewest workers, a + b log2 k through the overheads."""
    breakdowns = {
        1: {"steps": 5, "compute": 1.0, "overhead": 0.05},
        2: {"steps": 5, "compute": 1.2, "overhead": 0.07},
        4: {"steps": 5, "compute": 1.4, "overhead": 0.09},
    }
    model = cluster_benchmark.fit_model(breakdowns)
    assert model["C"] == 1.0
    assert model["a"] == pytest.approx(0.05) and model["b"] == pytest.approx(0.02)
    projected = cluster_benchmark.projection(model, (1, 8, 32))
    assert projected[1]["speedup"] == pytest.approx(1.0)
    for k in (8, 32):
        step = 1.0 / k + 0.05 + 0.02 * math.log2(k)
        assert projected[k]["step"] == pytest.approx(step)
        assert projected[k]["speedup"] == pytest.approx(1.05 / step)
    one = cluster_benchmark.fit_model({2: breakdowns[2]})
    assert (one["a"], one["b"]) == (0.07, 0.0)


def test_the_data_in_memory_are_the_chunks(cluster_benchmark):
    X, y = cluster_benchmark.in_memory_data(103, 5, 4)
    sizes = cluster_benchmark.chunk_sizes(103, 4)
    assert sizes == [26, 26, 26, 25]
    assert X.shape == (103, 5) and y.shape == (103,)
    np.testing.assert_array_equal(X[26:52], cluster_benchmark.make_chunk(1, 26, 5, "X"))
    assert len(np.unique(y)) > 3  # the teacher uses several classes


def test_options(cluster_benchmark, capsys):
    def config(*argv):
        return cluster_benchmark.make_config(cluster_benchmark.parse_args(list(argv)))

    full = config()
    assert (full.n_samples, full.n_features, full.n_chunks) == (100_000, 128, 8)
    assert (full.lbfgs_hidden, full.adam_hidden) == ((512,), (2048,))
    assert full.workers == (1, 2) and full.workloads == ("lbfgs", "adam")
    quick = config("--quick", "--workers", "2,1,2", "--workload", "adam")
    assert (quick.n_samples, quick.repeats, quick.workers) == (16_000, 1, (1, 2))
    assert quick.workloads == ("adam",)
    assert config("--lbfgs-hidden", "64,32").lbfgs_hidden == (64, 32)
    assert cluster_benchmark.main(["--workload", "sgd"]) == 2
    assert "lbfgs and/or adam" in capsys.readouterr().err
