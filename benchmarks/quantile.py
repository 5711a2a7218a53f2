"""Prediction intervals: one skbp network for three quantiles, against
scikit-learn's quantile models.

Run from the repository root::

    python benchmarks/quantile.py                # 4,000 training rows, best of 3: ~7 s
    python benchmarks/quantile.py --quick        # 1,000 rows, one fit each: ~2 s
    python benchmarks/quantile.py --repeats 5 --json quantile.json
    python benchmarks/quantile.py --qr-rows 1000 # QuantileRegressor on a subsample

The data are heteroscedastic (``tests/test_quantile.py``'s): ``x ~ U(0, 1)``,
``y = 2 sin(2 pi x) + (0.2 + 1.5 x) e`` with ``e ~ N(0, 1)``, so the noise
grows with ``x``; the training rows are drawn with ``--seed``, the test rows
with the next seed. The levels are 0.05, 0.5 and 0.95, the outer two a 90 %
band. The competitors:

- ``skbp``: ONE :class:`skbp.BPRegressor` with ``loss="quantile"`` and
  ``quantile=[0.05, 0.5, 0.95]`` (hidden ``(32, 32)`` tanh, adam,
  ``max_iter=300``), whose predictions are sorted in each row so that they
  never cross;
- ``HGBT``: one ``HistGradientBoostingRegressor(loss="quantile",
  quantile=q)`` per level (its defaults: 100 trees, no early stopping below
  10,000 rows);
- ``QuantileRegressor``: one linear ``QuantileRegressor(quantile=q,
  alpha=0, solver="highs")`` per level, on ``x`` itself (it cannot follow
  the sine: it shows what a linear model gives), on every training row
  unless ``--qr-rows`` says otherwise (the report says which);
- ``truth``: the true conditional quantiles, ``2 sin(2 pi x) + (0.2 +
  1.5 x) Phi^-1(q)``: the floor of the pinball loss.

For each: the empirical coverage of each level on the test rows (the share
of rows with ``y <= prediction``; the goal is the level itself), the share
inside the 90 % band, the band's mean width, the share of rows whose
predicted quantiles cross (the level-per-model competitors can cross; skbp
cannot), ``sklearn.metrics.mean_pinball_loss`` of each level and its ratio
to the truth's, and the total fit time of the three levels (best of
``--repeats``, the competitors taking turns) with its ratio to skbp's.

BLAS and OpenMP (HGBT's threads) are limited to one thread by default
(``--blas-threads 1``, threadpoolctl), for every competitor; ``0`` leaves
the libraries' defaults. The header prints what each pool ended up with.
It benchmarks the working tree (``bench`` puts the repository root first on
``sys.path``). See ``benchmarks/README.md`` ("Quantile regression").
"""

import argparse
import json
import shlex
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from bench.cli import positive
from bench.environment import (
    blas_limit,
    blas_threads_now,
    environment,
    print_environment,
)
from bench.measure import interleaved
from bench.report import format_columns
from scipy.stats import norm
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import QuantileRegressor
from sklearn.metrics import mean_pinball_loss

from skbp import BPRegressor

LEVELS = (0.05, 0.5, 0.95)
FULL = {"n_train": 4000, "n_test": 20000, "repeats": 3}
QUICK = {"n_train": 1000, "n_test": 5000, "repeats": 1}
SKBP_PARAMS = {
    "loss": "quantile",
    "quantile": list(LEVELS),
    "hidden_layer_sizes": (32, 32),
    "activation": "tanh",
    "max_iter": 300,
}


def heteroscedastic(n, seed):
    """``n`` rows of the data, and their true quantiles at ``LEVELS``.

    Returns
    -------
    X : ndarray of shape (n, 1)
    y : ndarray of shape (n,)
    truth : ndarray of shape (n, 3)
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    scale = 0.2 + 1.5 * x
    y = 2 * np.sin(2 * np.pi * x) + scale * rng.standard_normal(n)
    truth = 2 * np.sin(2 * np.pi * x)[:, None] + scale[:, None] * norm.ppf(LEVELS)
    return x[:, None], y, truth


class PerLevel:
    """One model per level, fitted in turn; ``predict`` gives a column each."""

    def __init__(self, make):
        self.make = make

    def fit(self, X, y):
        self.models_ = [self.make(q).fit(X, y) for q in LEVELS]
        return self

    def predict(self, X):
        return np.column_stack([m.predict(X) for m in self.models_])


def competitors(seed):
    """``{name: (description, unfitted model)}``, skbp first."""
    return {
        "skbp": (
            "one network, (32, 32) tanh, adam",
            BPRegressor(**SKBP_PARAMS, random_state=seed),
        ),
        "HGBT": (
            "HistGradientBoostingRegressor x3",
            PerLevel(
                lambda q: HistGradientBoostingRegressor(
                    loss="quantile", quantile=q, random_state=seed
                )
            ),
        ),
        "QuantileRegressor": (
            "linear in x, highs, x3",
            PerLevel(
                lambda q: QuantileRegressor(quantile=q, alpha=0.0, solver="highs")
            ),
        ),
    }


def figures(P, y, x):
    """Coverage, band, crossings and pinball losses of predictions ``P``.

    Parameters
    ----------
    P : ndarray of shape (n, 3)
        The predicted (or true) quantiles at ``LEVELS``, in that order.
    y : ndarray of shape (n,)
    x : ndarray of shape (n,)
        The feature: the band's coverage is also given where the noise is
        small (``x < 0.25``) and large (``x > 0.75``).

    Returns
    -------
    dict
    """
    inside = (P[:, 0] <= y) & (y <= P[:, -1])
    return {
        "coverage": [float(c) for c in (y[:, None] <= P).mean(axis=0)],
        "in_band": float(np.mean(inside)),
        "in_band_low_x": float(np.mean(inside[x < 0.25])),
        "in_band_high_x": float(np.mean(inside[x > 0.75])),
        "width": float(np.mean(P[:, -1] - P[:, 0])),
        "crossed": float(np.mean(np.any(np.diff(P, axis=1) < 0, axis=1))),
        "pinball": [
            float(mean_pinball_loss(y, P[:, j], alpha=q)) for j, q in enumerate(LEVELS)
        ],
    }


def run(sizes, seed, qr_rows):
    """Fit and time every competitor; return ``{name: result}``."""
    X, y, _ = heteroscedastic(sizes["n_train"], seed)
    X_test, y_test, truth = heteroscedastic(sizes["n_test"], seed + 1)
    n_qr = min(qr_rows or len(y), len(y))
    models = competitors(seed)
    fitted = {}

    def fit(name):
        _, model = models[name]
        rows = slice(n_qr) if name == "QuantileRegressor" else slice(None)

        def call():
            fitted[name] = model.fit(X[rows], y[rows])

        return call

    times = interleaved({name: fit(name) for name in models}, sizes["repeats"])
    results = {}
    for name, (description, _) in models.items():
        rows = n_qr if name == "QuantileRegressor" else len(y)
        results[name] = {
            "description": description,
            "rows": rows,
            "times": times[name],
            "best": min(times[name]),
            **figures(fitted[name].predict(X_test), y_test, X_test[:, 0]),
        }
    results["skbp"]["n_iter"] = fitted["skbp"].n_iter_
    results["truth"] = {
        "description": "2 sin(2 pi x) + (0.2 + 1.5 x) ppf(q)",
        **figures(truth, y_test, X_test[:, 0]),
    }
    best = results["skbp"]["best"]
    for result in results.values():
        if "best" in result:
            result["ratio"] = result["best"] / best
        result["pinball_ratio"] = [
            p / t for p, t in zip(result["pinball"], results["truth"]["pinball"])
        ]
    return results


def report(results, sizes):
    """Print the three tables and the notes under them."""
    levels = [f"{q:g}" for q in LEVELS]
    tables = [
        (
            ["model", "fit s", "/ skbp", *(f"cover {q}" for q in levels), "crossed"],
            lambda r: [
                f"{r['best']:.3f}" if "best" in r else "-",
                f"{r['ratio']:.2f}" if "ratio" in r else "-",
                *(f"{c:.3f}" for c in r["coverage"]),
                f"{r['crossed']:.1%}",
            ],
        ),
        (
            ["model", "in 90% band", "where x < 0.25", "x > 0.75", "mean width"],
            lambda r: [
                f"{r['in_band']:.3f}",
                f"{r['in_band_low_x']:.3f}",
                f"{r['in_band_high_x']:.3f}",
                f"{r['width']:.3f}",
            ],
        ),
        (
            [
                "model",
                *(f"pinball {q}" for q in levels),
                *(f"/ truth {q}" for q in levels),
            ],
            lambda r: [
                *(f"{p:.4f}" for p in r["pinball"]),
                *(f"{p:.3f}" for p in r["pinball_ratio"]),
            ],
        ),
    ]
    for header, cells in tables:
        lines = [[name, *cells(r)] for name, r in results.items()]
        print("\n".join(format_columns(header, lines, left={0})))
        print()
    print("Notes:")
    for name, r in results.items():
        rows = f", {r['rows']:,} training rows" if "rows" in r else ""
        print(f"  {name}: {r['description']}{rows}")
        if "times" in r:
            each = ", ".join(f"{t:.3f}" for t in r["times"])
            print(f"    fit times (s, {len(r['times'])} repeats): {each}")
    print(
        f"  skbp ran {results['skbp']['n_iter']} epochs "
        f"(max_iter={SKBP_PARAMS['max_iter']}; fewer: stopped by tol)"
    )
    qr = results["QuantileRegressor"]["rows"]
    if qr < sizes["n_train"]:
        print(
            f"  QuantileRegressor was fitted on a subsample: the first {qr:,} of "
            f"{sizes['n_train']:,} training rows (--qr-rows); its fit time is "
            "for that subsample"
        )
    print(
        f"  {sizes['n_test']:,} test rows. 'cover q': the share of rows with "
        "y <= the predicted\n  q-quantile (the goal: q). 'crossed': the share "
        "of rows whose predicted quantiles\n  are out of order. 'fit s': the "
        "three levels together, best of the repeats."
    )


def parse_args(argv):
    """The command line (``argv`` None: ``sys.argv[1:]``) as a namespace."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See benchmarks/README.md for the workload and the tables.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1,000 training rows, one fit each"
    )
    parser.add_argument("--n-train", type=positive, help="training rows (4,000)")
    parser.add_argument("--n-test", type=positive, help="test rows (20,000)")
    parser.add_argument(
        "--repeats", type=positive, help="fits of each competitor; the best counts (3)"
    )
    parser.add_argument(
        "--qr-rows",
        type=positive,
        metavar="N",
        help="fit QuantileRegressor on the first N training rows only",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="training data (test: seed + 1)"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        metavar="T",
        help="limit BLAS and OpenMP to T threads (default 1; 0 = the libraries' "
        "defaults). Needs threadpoolctl.",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the comparison; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in sizes:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    warnings.simplefilter("ignore", ConvergenceWarning)
    default_threads = blas_threads_now()
    limit = blas_limit(args.blas_threads) if args.blas_threads else nullcontext()
    with limit:
        info = environment(args.blas_threads, default_threads)
        print_environment(
            info,
            "Quantile regression: skbp's one network against one model per level "
            f"({sizes['n_train']:,} training rows, {sizes['n_test']:,} test rows)",
        )
        command = shlex.join(["python", "benchmarks/quantile.py", *argv])
        print(f"  {'reproduce with':24s} {command}")
        print()
        results = run(sizes, args.seed, args.qr_rows)
    report(results, sizes)
    if args.json:
        payload = {"environment": info, "sizes": sizes, "results": results}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
