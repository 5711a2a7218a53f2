"""GPU workload (issue 15): skbp on CUDA against skbp on numpy and plain PyTorch.

What it measures
----------------
One classification fit, timed three ways on the same data:

1. ``skbp_cuda``: :class:`skbp.BPClassifier` given torch tensors on the
   device (``torch.asarray(X, device="cuda")``, int64 labels), fitted inside
   ``sklearn.config_context(array_api_dispatch=True)``, so that it trains in
   torch on the GPU; its ``predict`` must return a tensor on the device;
2. ``skbp_cpu_numpy``: the same estimator and parameters on the same data as
   numpy float32 arrays, on the CPU (BLAS at its default thread count
   unless ``--blas-threads`` says otherwise);
3. ``torch_loop``: hand-written PyTorch on the device: ``nn.Sequential`` of
   the same layers, ``torch.optim.Adam(lr=1e-3, betas=(0.9, 0.999),
   eps=1e-8, weight_decay=alpha)``, cross-entropy, mini-batches drawn from
   ``torch.randperm`` every epoch, float32.

Data: ``make_classification`` (256 features, 64 informative, 10 classes,
``random_state=0``): ``--n-samples`` training rows (200,000) and a tenth as
many held out, stratified, for the test accuracy; standardized on the
training rows; float32. Network: hidden ``(1024, 1024)`` relu, adam,
``learning_rate_init=1e-3``, ``alpha=1e-4``, batches of 1024 shuffled every
epoch, 3 epochs, every one run (``tol=0``, ``n_iter_no_change`` huge).

Each time is wall clock, from the data in place (already on the device for
the torch competitors) to the fitted model, with ``torch.cuda.synchronize()``
before the clock stops. Every competitor is first fitted once, untimed, on a
small slice (CUDA context, cuBLAS handles, allocator pools, imports). With
``--repeats`` > 1 the competitors take turns repeat by repeat and the table
gives medians of the times and of the paired ratios (``bench.measure``). A
competitor that fails (the skbp torch fit, while array-API support is being
built) is reported as ``failed: ...``; the others are still timed.

Goals
-----
- ``skbp_cuda / skbp_cpu_numpy <= 0.05``: the GPU fit at least 20 times as
  fast as the numpy one (speedup ``cpu / cuda >= 20``);
- ``skbp_cuda / torch_loop <= 1.3``: at most 30 % slower than hand-written
  PyTorch.

Reproduce, from the repository root on a CUDA machine (figures need one)::

    python benchmarks/gpu.py                   # the full workload
    python benchmarks/gpu.py --cpu-epochs 1    # numpy fit timed on 1 epoch, x3
    python benchmarks/gpu.py --quick           # 20,000 rows, (256, 256), 1 epoch
    python benchmarks/gpu.py --device cpu --quick  # no GPU: checks the script

See ``benchmarks/README.md`` ("GPU workload").
"""

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from importlib import metadata

# Before anything imports scipy: scikit-learn's array-API dispatch needs it.
import bench.scipy_array_api  # noqa: F401
import numpy as np
import sklearn
from bench.cli import positive, positive_ints
from bench.environment import (
    blas_limit,
    blas_threads_now,
    environment,
    print_environment,
)
from bench.measure import interleaved, median_ratio
from bench.report import fmt_list, fmt_value, format_columns
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

try:
    import torch
except ImportError:  # pragma: no cover - the script needs PyTorch
    sys.exit("benchmarks/gpu.py needs PyTorch (pip install torch).")

#: The issue's workload, and ``--quick``'s changes to it.
FULL = {
    "n_samples": 200_000,
    "n_features": 256,
    "hidden": (1024, 1024),
    "epochs": 3,
    "batch_size": 1024,
}
QUICK = {**FULL, "n_samples": 20_000, "hidden": (256, 256), "epochs": 1}
N_CLASSES = 10
ALPHA = 1e-4
LEARNING_RATE = 1e-3
WARM_UP_BATCHES = 4  # rows of the untimed warm-up fit, in batches
SEED = 0

CPU_NAME = "skbp_cpu_numpy"
TORCH_NAME = "torch_loop"
#: (numerator or None for skbp's torch fit, denominator, target on the ratio).
GOALS = ((None, CPU_NAME, 0.05), (None, TORCH_NAME, 1.3))


@dataclass
class Config:
    """The sizes and options of one run (all in the JSON output)."""

    device: str
    n_samples: int
    n_test: int
    n_features: int
    hidden: tuple
    epochs: int
    batch_size: int
    repeats: int
    cpu_epochs: int | None  # None: the numpy fit is skipped
    blas_threads: int
    quick: bool


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------
def parse_args(argv=None):
    """The command line (``argv`` None: ``sys.argv[1:]``) as a namespace."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See benchmarks/README.md, section 'GPU workload'.",
    )
    parser.add_argument(
        "--device",
        default="cuda",
        help="torch device of the skbp-on-torch fit and the torch loop "
        "(default cuda; cpu runs everything on the CPU, to test the script)",
    )
    parser.add_argument("--n-samples", type=positive, help="training rows (200000)")
    parser.add_argument("--n-features", type=positive, help="features (256)")
    parser.add_argument("--epochs", type=positive, help="epochs of every fit (3)")
    parser.add_argument(
        "--hidden", type=positive_ints, help="hidden layer sizes (1024,1024)"
    )
    parser.add_argument("--batch-size", type=positive, help="batch size (1024)")
    parser.add_argument(
        "--repeats",
        type=positive,
        default=1,
        help="timed fits of each competitor, interleaved (default 1)",
    )
    parser.add_argument(
        "--skip-cpu",
        action="store_true",
        help="no numpy CPU fit (or, with --cpu-epochs, only that short one)",
    )
    parser.add_argument(
        "--cpu-epochs",
        type=positive,
        help="time the numpy CPU fit on this many epochs and extrapolate its "
        "time to --epochs (an estimate, marked in the report); default: all",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        metavar="T",
        help="limit BLAS to T threads (default 0: the library default, "
        "normally every core). Needs threadpoolctl.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20,000 rows, hidden 256,256, 1 epoch (explicit sizes win)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    return parser.parse_args(argv)


def make_config(args):
    """The :class:`Config` of parsed ``args``: ``--quick`` or full sizes,
    overridden by the sizes given explicitly.

    Raises
    ------
    ValueError
        When ``--cpu-epochs`` exceeds the epochs of the run.
    """
    base = QUICK if args.quick else FULL
    sizes = {
        key: base[key] if getattr(args, key) is None else getattr(args, key)
        for key in base
    }
    if args.cpu_epochs is not None and args.cpu_epochs > sizes["epochs"]:
        raise ValueError(
            f"--cpu-epochs {args.cpu_epochs} is more than the {sizes['epochs']} "
            "epochs of the run"
        )
    if args.skip_cpu and args.cpu_epochs is None:
        cpu_epochs = None
    else:
        cpu_epochs = args.cpu_epochs or sizes["epochs"]
    return Config(
        device=args.device,
        n_test=max(sizes["n_samples"] // 10, N_CLASSES * 10),
        repeats=args.repeats,
        cpu_epochs=cpu_epochs,
        blas_threads=args.blas_threads,
        quick=args.quick,
        **sizes,
    )


def device_problem(device):
    """Why ``device`` cannot be used, as a message (None: it can)."""
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError) as exc:
        return f"--device {device!r} is not a torch device: {exc}"
    if kind not in ("cuda", "cpu"):
        return f"--device {device!r}: only cuda and cpu devices are supported"
    if kind == "cuda" and not torch.cuda.is_available():
        return (
            f"--device {device}: CUDA is not available here (torch "
            f"{torch.__version__}, CUDA build {torch.version.cuda}). The figures "
            "need a CUDA machine; --device cpu runs the script on the CPU, "
            "for testing only."
        )
    return None


# ---------------------------------------------------------------------------
# Data and the three ways of fitting
# ---------------------------------------------------------------------------
def make_data(config):
    """Standardized float32 train and test splits, as numpy and on the device.

    Parameters
    ----------
    config : Config

    Returns
    -------
    data : dict
        ``X_train``, ``X_test`` (float32) and ``y_train``, ``y_test`` (int64)
        as numpy arrays, and the same with a ``_t`` suffix as torch tensors
        on ``config.device``.
    """
    X, y = make_classification(
        n_samples=config.n_samples + config.n_test,
        n_features=config.n_features,
        n_informative=max(5, config.n_features // 4),
        n_classes=N_CLASSES,
        random_state=SEED,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.n_test, stratify=y, random_state=SEED
    )
    scaler = StandardScaler().fit(X_train)
    data = {
        "X_train": scaler.transform(X_train).astype(np.float32),
        "X_test": scaler.transform(X_test).astype(np.float32),
        "y_train": y_train.astype(np.int64),
        "y_test": y_test.astype(np.int64),
    }
    for key in list(data):
        data[f"{key}_t"] = torch.asarray(data[key], device=config.device)
    sync(config.device)
    return data


def sync(device):
    """Wait for the work queued on ``device`` (CUDA only; the CPU is in step)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def skbp_params(config, epochs):
    """:class:`skbp.BPClassifier`'s parameters for ``epochs`` epochs."""
    return {
        "hidden_layer_sizes": config.hidden,
        "activation": "relu",
        "solver": "adam",
        "batch_size": config.batch_size,
        "learning_rate_init": LEARNING_RATE,
        "alpha": ALPHA,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": 10**9,  # every epoch runs
        "shuffle": True,
        "random_state": SEED,
    }


def _dispatch(array_api):
    """scikit-learn's array-API dispatch on (``array_api``), or nothing."""
    if array_api:
        return sklearn.config_context(array_api_dispatch=True)
    return nullcontext()


def fit_skbp(config, X, y, array_api):
    """A ``fit(rows, epochs)`` training skbp on the first ``rows`` of ``X``.

    Parameters
    ----------
    config : Config
    X, y : ndarray or torch.Tensor
        Training data, numpy or tensors on the device.
    array_api : bool
        Fit inside ``config_context(array_api_dispatch=True)``.

    Returns
    -------
    fit : callable
        ``fit(rows, epochs)`` returns the fitted estimator; ``rows`` None
        means every row.
    """

    def fit(rows, epochs):
        part = slice(None) if rows is None else slice(0, rows)
        with _dispatch(array_api):
            return BPClassifier(**skbp_params(config, epochs)).fit(X[part], y[part])

    return fit


def predict_skbp(X_test, array_api, device):
    """A ``predict(model)`` returning skbp's test predictions as numpy.

    With ``array_api`` the predictions must be a torch tensor on ``device``
    (else the fit did not run in torch, and a ``TypeError`` says so).
    """

    def predict(model):
        with _dispatch(array_api):
            labels = model.predict(X_test)
        if not array_api:
            return np.asarray(labels)
        if not isinstance(labels, torch.Tensor) or not same_device(
            labels.device, device
        ):
            where = getattr(labels, "device", "the host")
            raise TypeError(
                f"predict returned {type(labels).__module__}."
                f"{type(labels).__name__} on {where}, not a torch tensor on "
                f"{device}: the estimator did not compute in torch"
            )
        return labels.cpu().numpy()

    return predict


def same_device(actual, wanted):
    """Whether torch device ``actual`` is ``wanted`` (``"cuda"``: any GPU)."""
    wanted = torch.device(wanted)
    return actual.type == wanted.type and wanted.index in (None, actual.index)


def torch_network(n_features, hidden, n_classes, device):
    """``nn.Sequential`` of Linear/ReLU layers, ``n_classes`` logits, on device."""
    layers = []
    for fan_in, fan_out in zip((n_features, *hidden), hidden):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(hidden[-1], n_classes))
    return torch.nn.Sequential(*layers).to(device)


def fit_torch_loop(config, X, y):
    """A ``fit(rows, epochs)`` running the plain PyTorch training loop.

    Adam with the estimators' settings (``weight_decay=alpha``), mean
    cross-entropy, mini-batches of ``config.batch_size`` from a fresh
    ``torch.randperm`` every epoch, seeded.

    Parameters
    ----------
    config : Config
    X, y : torch.Tensor
        Training data on ``config.device`` (float32, int64).

    Returns
    -------
    fit : callable
        ``fit(rows, epochs)`` returns the trained ``nn.Sequential``.
    """
    device = config.device

    def fit(rows, epochs):
        Xp, yp = (X, y) if rows is None else (X[:rows], y[:rows])
        torch.manual_seed(SEED)
        model = torch_network(Xp.shape[1], config.hidden, N_CLASSES, device)
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=LEARNING_RATE,
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=ALPHA,
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator(device=device).manual_seed(SEED)
        n = Xp.shape[0]
        for _ in range(epochs):
            order = torch.randperm(n, device=device, generator=generator)
            for start in range(0, n, config.batch_size):
                batch = order[start : start + config.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(Xp[batch]), yp[batch]).backward()
                optimizer.step()
        return model

    return fit


def predict_torch_loop(X_test):
    """A ``predict(model)`` returning the network's test predictions as numpy."""

    def predict(model):
        model.eval()
        with torch.no_grad():
            return model(X_test).argmax(dim=1).cpu().numpy()

    return predict


# ---------------------------------------------------------------------------
# Competitors: warm-up, timing, scoring, each failure kept to itself
# ---------------------------------------------------------------------------
class Competitor:
    """One way of fitting, and what became of it.

    Parameters
    ----------
    name, device, arrays : str
        Its name in the table, the device it computes on, and its arrays'
        library (``"torch"`` or ``"numpy"``).
    fit : callable
        ``fit(rows, epochs)`` returns a fitted model (``rows`` None: all).
    predict : callable
        ``predict(model)`` returns the test predictions as a numpy array.
    epochs : int
        Epochs of the run, the ones reported.
    epochs_run : int, default=None
        Epochs actually fitted when timed (None: ``epochs``); fewer make the
        reported time an estimate, the measured one times
        ``epochs / epochs_run``.
    """

    def __init__(self, name, device, arrays, fit, predict, epochs, epochs_run=None):
        self.name, self.device, self.arrays = name, device, arrays
        self.fit, self.predict = fit, predict
        self.epochs = epochs
        self.epochs_run = epochs if epochs_run is None else epochs_run
        self.times = []  # seconds per repeat, scaled to ``epochs``
        self.model = None
        self.accuracy = None
        self.error = None
        self.error_trace = None  # the failure's traceback, as text
        self.notes = []

    @property
    def estimated(self):
        """Whether the reported time is extrapolated from fewer epochs."""
        return self.epochs_run != self.epochs

    def _attempt(self, stage, step):
        """Run ``step()``; an exception fails the competitor, with its message."""
        try:
            return step()
        except Exception as exc:  # a failing competitor must not stop the others
            self.error = f"{stage}: {type(exc).__name__}: {exc}"
            self.error_trace = "".join(traceback.format_exception(exc))
            self.notes.append(f"raised {where_raised(exc)}")
            return None

    def warm_up(self, rows):
        """Fit once on the first ``rows``, for 1 epoch, untimed."""

        def step():
            self.fit(rows, 1)
            sync(self.device)

        self._attempt("warm-up", step)

    def timed_fit(self):
        """The callable to time: one whole fit, synchronized (nothing once failed)."""

        def run():
            if self.error is None:

                def step():
                    self.model = self.fit(None, self.epochs_run)
                    sync(self.device)

                self._attempt("fit", step)

        return run

    def score(self, y_test):
        """Test accuracy of the fitted model (a failure is recorded)."""
        if self.error is None:
            labels = self._attempt("predict", lambda: self.predict(self.model))
            if self.error is None:
                self.accuracy = float(np.mean(labels == y_test))

    def median(self):
        """Median reported time (None when failed or not run)."""
        if self.error is not None or not self.times:
            return None
        return float(np.median(self.times))

    def result(self):
        """The figures, as a JSON-ready dict."""
        median = self.median()
        return {
            "name": self.name,
            "device": self.device,
            "arrays": self.arrays,
            "epochs": self.epochs,
            "epochs_run": self.epochs_run,
            "estimated": self.estimated,
            "times": [] if self.error else self.times,
            "time": median,
            "time_per_epoch": None if median is None else median / self.epochs,
            "accuracy": self.accuracy,
            "error": self.error,
            "traceback": self.error_trace,
            "notes": self.notes,
        }


def where_raised(exc):
    """The innermost frame of ``exc``'s traceback in skbp (else the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "(no traceback)"
    ours = [f for f in frames if "/skbp/" in f.filename.replace("\\", "/")]
    frame = (ours or frames)[-1]
    return f"in {frame.name} at {frame.filename}:{frame.lineno}"


def skbp_torch_name(device):
    """``skbp_cuda`` on a GPU, ``skbp_torch_cpu`` when testing on the CPU."""
    kind = torch.device(device).type
    return "skbp_cuda" if kind == "cuda" else f"skbp_torch_{kind}"


def make_competitors(config, data):
    """The competitors of ``config``: skbp on torch, skbp on numpy (unless
    skipped) and the torch loop, in that order."""
    device = config.device
    competitors = [
        Competitor(
            skbp_torch_name(device),
            device,
            "torch",
            fit_skbp(config, data["X_train_t"], data["y_train_t"], array_api=True),
            predict_skbp(data["X_test_t"], True, device),
            config.epochs,
        )
    ]
    if config.cpu_epochs is not None:
        competitors.append(
            Competitor(
                CPU_NAME,
                "cpu",
                "numpy",
                fit_skbp(config, data["X_train"], data["y_train"], array_api=False),
                predict_skbp(data["X_test"], False, "cpu"),
                config.epochs,
                config.cpu_epochs,
            )
        )
    competitors.append(
        Competitor(
            TORCH_NAME,
            device,
            "torch",
            fit_torch_loop(config, data["X_train_t"], data["y_train_t"]),
            predict_torch_loop(data["X_test_t"]),
            config.epochs,
        )
    )
    return competitors


def measure(competitors, config):
    """Warm every competitor up, then time the survivors, interleaved.

    Fills each competitor's ``times`` (scaled to the run's epochs), ``model``
    and ``error``, and adds the model's facts to its ``notes``.
    """
    rows = min(config.n_samples, WARM_UP_BATCHES * config.batch_size)
    for c in competitors:
        print(f"warming up {c.name} on {rows} rows ...", flush=True)
        c.warm_up(rows)
    alive = [c for c in competitors if c.error is None]
    print(
        f"timing {', '.join(c.name for c in alive) or 'nothing'}, "
        f"{config.repeats} repeat(s) ...",
        flush=True,
    )
    started = time.perf_counter()
    times = interleaved({c.name: c.timed_fit() for c in alive}, config.repeats)
    print(f"timed in {time.perf_counter() - started:.1f} s", flush=True)
    for c in alive:
        scale = c.epochs / c.epochs_run
        c.times = [t * scale for t in times[c.name]]
        if c.error is None:
            c.notes.extend(model_facts(c.model))
        if c.estimated:
            c.notes.append(
                f"time ESTIMATED: measured on {c.epochs_run} of {c.epochs} "
                f"epoch(s), x{scale:.3g}; accuracy after {c.epochs_run} epoch(s)"
            )
        if len(c.times) > 1:
            c.notes.append(f"per-repeat {fmt_list(c.times)}")


def model_facts(model):
    """What a fitted model is: epochs run, weights' type, dtype and device."""
    if isinstance(model, torch.nn.Module):
        weight = next(model.parameters())
        return [f"weights torch {weight.dtype} on {weight.device}"]
    facts = [f"n_iter_ {getattr(model, 'n_iter_', '?')}"]
    coefs = getattr(model, "coefs_", None)
    if coefs:
        first = coefs[0]
        facts.append(
            f"coefs_ {type(first).__module__}.{type(first).__name__} "
            f"{first.dtype} on {getattr(first, 'device', 'cpu')}"
        )
    return facts


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------
RESULT_HEADER = (
    "competitor",
    "device",
    "arrays",
    "epochs",
    "time",
    "per epoch",
    "test acc",
    "note",
)
RATIO_HEADER = ("ratio", "value", "speedup", "target", "met", "note")
_MESSAGE_WIDTH = 100


def ratios(results, skbp_name):
    """The goals' ratios, medians of the paired repeats.

    Parameters
    ----------
    results : list of dict
        :meth:`Competitor.result` of every competitor.
    skbp_name : str
        The skbp-on-torch competitor, the numerator.

    Returns
    -------
    ratios : list of dict
        ``name``, ``value`` (None when a side failed or was skipped),
        ``target``, ``met`` (``yes``, ``NO`` or ``-``) and ``note``.
    """
    by_name = {r["name"]: r for r in results}
    out = []
    for numerator, denominator, target in GOALS:
        numerator = numerator or skbp_name
        entry = {"name": f"{numerator} / {denominator}", "target": target}
        missing = [
            f"{name} {'failed' if by_name[name]['error'] else 'not timed'}"
            if name in by_name
            else f"{name} skipped"
            for name in (numerator, denominator)
            if name not in by_name or by_name[name]["time"] is None
        ]
        if missing:
            entry.update(value=None, met="-", note=", ".join(missing))
        else:
            value = median_ratio(
                by_name[numerator]["times"], by_name[denominator]["times"]
            )
            estimated = any(by_name[n]["estimated"] for n in (numerator, denominator))
            entry.update(
                value=value,
                met="yes" if value <= target else "NO",
                note="from an estimated time" if estimated else "",
            )
        out.append(entry)
    return out


def _short(message):
    first = message.splitlines()[0] if message else ""
    if len(first) > _MESSAGE_WIDTH:
        first = first[: _MESSAGE_WIDTH - 3] + "..."
    return first


def result_cells(result):
    """One line of the competitors' table."""
    if result["error"]:
        note = f"failed: {_short(result['error'])}"
    elif result["estimated"]:
        note = f"estimated from {result['epochs_run']} epoch(s)"
    else:
        note = ""
    accuracy = result["accuracy"]
    return (
        result["name"],
        result["device"],
        result["arrays"],
        str(result["epochs"]) + ("*" if result["estimated"] else ""),
        fmt_value(result["time"], "s"),
        fmt_value(result["time_per_epoch"], "s"),
        "-" if accuracy is None else f"{accuracy:.4f}",
        note,
    )


def ratio_cells(ratio):
    """One line of the ratios' table."""
    value = ratio["value"]
    return (
        ratio["name"],
        "-" if value is None else f"{value:.3f}",
        "-" if value is None else f"{1 / value:.1f}x",
        f"<= {ratio['target']:g}"
        + (f" (speedup >= {1 / ratio['target']:g}x)" if ratio["target"] < 1 else ""),
        ratio["met"],
        ratio["note"],
    )


def print_report(results, ratio_list):
    """Print the competitors, the ratios against the goals, then the notes."""
    for line in format_columns(
        RESULT_HEADER, [result_cells(r) for r in results], left={0, 1, 2, 7}
    ):
        print(line)
    print()
    for line in format_columns(
        RATIO_HEADER, [ratio_cells(r) for r in ratio_list], left={0, 3, 4, 5}
    ):
        print(line)
    print(
        "\n  speedup = the other's time / skbp's; times are medians of the "
        "repeats, ratios medians of the paired ratios; * = estimated time"
    )
    for r in results:
        if r["error"]:
            print(f"  {r['name']}: FAILED in {r['error']}")
        for note in r["notes"]:
            print(f"  {r['name']}: {note}")


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def gpu_environment(config, default_threads):
    """:func:`bench.environment.environment`, plus torch, the GPU and the config."""
    info = environment(config.blas_threads, default_threads)
    cuda = torch.device(config.device).type == "cuda"
    info.update(
        torch=torch.__version__,
        torch_cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version() if cuda else None,
        gpu=torch.cuda.get_device_name(config.device) if cuda else None,
        torch_threads=torch.get_num_threads(),
        float32_matmul_precision=torch.get_float32_matmul_precision(),
        array_api_compat=_version("array-api-compat"),
        scipy_array_api=os.environ.get("SCIPY_ARRAY_API"),
    )
    return info


_EXTRA_PRINTED = (
    "torch",
    "torch_cuda",
    "cudnn",
    "gpu",
    "torch_threads",
    "float32_matmul_precision",
    "array_api_compat",
    "scipy_array_api",
)


def sizes_name(config):
    """``full`` or ``quick`` when the sizes are those, else ``custom sizes``."""
    sizes = {key: getattr(config, key) for key in FULL}
    for name, preset in (("full", FULL), ("quick", QUICK)):
        if sizes == preset:
            return name
    return "custom sizes"


def print_header(info, config):
    """Print the environment (``bench``'s lines, then torch's) and the sizes."""
    print_environment(
        info,
        f"skbp GPU workload, issue 15 ({sizes_name(config)}; device {config.device})",
    )
    for key in _EXTRA_PRINTED:
        print(f"  {key:24s} {info[key]}")
    cpu = (
        "skipped"
        if config.cpu_epochs is None
        else f"{config.cpu_epochs} epoch(s)"
        + (" (time extrapolated)" if config.cpu_epochs != config.epochs else "")
    )
    print(
        f"  {'workload':24s} {config.n_samples}x{config.n_features} float32 "
        f"(+{config.n_test} test rows), {N_CLASSES} classes; hidden "
        f"{config.hidden} relu, adam, batch {config.batch_size}, "
        f"{config.epochs} epoch(s); {config.repeats} repeat(s); numpy fit {cpu}"
    )


# ---------------------------------------------------------------------------
def run(config):
    """Build the data, time and score every competitor, print the report.

    Returns
    -------
    payload : dict
        ``environment``, ``config``, ``results`` and ``ratios`` (what
        ``--json`` writes).
    """
    default_threads = blas_threads_now()
    with blas_limit(config.blas_threads), warnings.catch_warnings():
        # max_iter is reached on purpose: every epoch runs.
        warnings.simplefilter("ignore", ConvergenceWarning)
        info = gpu_environment(config, default_threads)
        print_header(info, config)
        print()
        data = make_data(config)
        competitors = make_competitors(config, data)
        measure(competitors, config)
        for c in competitors:
            c.score(data["y_test"])
    results = [c.result() for c in competitors]
    ratio_list = ratios(results, skbp_torch_name(config.device))
    print()
    print_report(results, ratio_list)
    return {
        "environment": info,
        "config": asdict(config),
        "results": results,
        "ratios": ratio_list,
    }


def main(argv=None):
    """Run the GPU workload; return the exit code (2: bad options or no CUDA)."""
    args = parse_args(argv)
    try:
        config = make_config(args)
    except ValueError as exc:
        print(f"benchmarks/gpu.py: {exc}", file=sys.stderr)
        return 2
    problem = device_problem(config.device)
    if problem:
        print(f"benchmarks/gpu.py: {problem}", file=sys.stderr)
        return 2
    payload = run(config)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
