"""``verbose=True``: a line per step, as scikit-learn's MLP prints it."""

from .engine import Listener

__all__ = ["Verbose"]


class Verbose(Listener):
    def step_ends(self, estimator, step):
        print(f"Iteration {estimator.n_iter_}, loss = {step.loss:.8f}")
        return False
