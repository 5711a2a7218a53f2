"""The training engine: one loop of steps, and the listeners that watch it.

Every fit runs through an :class:`Engine`: the stochastic solvers' epochs
(in memory, on a device, on Dask chunks) and L-BFGS's iterations alike.
After each step the engine tells its listeners, in order, each one concern
written once in a module of its own:

- :class:`LossCurve` (``counters``): ``n_iter_``, ``t_``, ``loss_``,
  ``loss_curve_``;
- :class:`Verbose` (``verbose``): the ``verbose`` output;
- :class:`NoImprovement` (``stopping``): validation loss, early stopping
  and best weights of the stochastic solvers; :class:`BestIterate`, their
  L-BFGS counterpart;
- :class:`Checkpoint` (``checkpoint``): the last completed step, put back
  on ``KeyboardInterrupt``;
- :class:`Progress` (``progress``): the progress display;
- :class:`Callbacks` (``callbacks``): scikit-learn's callbacks' tasks;
- :class:`ConvergenceCheck` (``convergence``): the ``ConvergenceWarning``.

A new concern is a new :class:`Listener`, not an edit in each solver.
"""

from .callbacks import Callbacks
from .checkpoint import Checkpoint
from .convergence import ConvergenceCheck
from .counters import LossCurve
from .engine import Engine, Listener, Outcome, Step
from .progress import Progress
from .stopping import BestIterate, NoImprovement
from .verbose import Verbose

__all__ = [
    "Engine",
    "Listener",
    "Outcome",
    "Step",
    "LossCurve",
    "Verbose",
    "NoImprovement",
    "BestIterate",
    "Checkpoint",
    "Progress",
    "Callbacks",
    "ConvergenceCheck",
]
