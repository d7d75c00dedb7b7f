"""GAMP over a grid of alphas and seeds, and the per-alpha statistics of its errors."""

import logging
import math
from dataclasses import dataclass

import numpy as np

from replica_tools.solvers.gamp import DEFAULT_VARIANT, GampDivergenceError, instance_memory_bytes, run_gamp

logger = logging.getLogger(__name__)


@dataclass
class GampRun:
    """One GAMP run at one (alpha, seed). ``status`` is converged, not_converged or diverged."""

    alpha: float
    seed: int
    status: str
    iterations: int = None
    test_error: float = math.nan
    overlap_error: float = math.nan
    message: str = None

    @property
    def used(self):
        """Whether the run enters the mean: every run that did not diverge."""
        return self.status != "diverged"


def run_gamp_grid(nm, gamp_alpha, seeds, *, n, damping=0.0, max_iter=200, progress=None,
                  variant=DEFAULT_VARIANT, dtype="float64"):
    """Run GAMP at every alpha of ``gamp_alpha`` and every seed, and return the list of ``GampRun``.

    A diverged run is recorded with status diverged, and reported through ``progress`` if given,
    otherwise as a logged warning. A run that reaches ``max_iter`` still enters the mean, with
    status not_converged. ``progress`` has ``start(alpha, seed)``, which returns the per-iteration
    callback or None, and ``finish(gamp_run)``.
    """
    runs = []
    for alpha in gamp_alpha:
        for seed in seeds:
            callback = None if progress is None else progress.start(alpha, seed)
            try:
                result = run_gamp(nm, float(alpha), n, seed, damping=damping, max_iter=max_iter, progress=callback,
                                  variant=variant, dtype=dtype)
            except GampDivergenceError as error:
                gamp_run = GampRun(float(alpha), seed, "diverged", message=str(error))
                if progress is None:
                    logger.warning("GAMP at alpha = %g, seed %d diverged and is left out of the mean: %s",
                                   alpha, seed, error)
            else:
                status = "converged" if result.converged else "not_converged"
                gamp_run = GampRun(float(alpha), seed, status, iterations=result.iterations,
                                   test_error=float(result.test_error),
                                   overlap_error=float(result.overlap_error))
            runs.append(gamp_run)
            if progress is not None:
                progress.finish(gamp_run)
    return runs


def summarize_gamp(gamp_alpha, runs):
    """Return per-alpha mean and standard error of the GAMP errors over the runs that did not diverge.

    The result maps eps_mean, eps_sem, overlap_eps_mean, overlap_eps_sem, runs_used,
    runs_diverged and runs_not_converged to arrays with one entry per alpha. Runs that did not
    converge are among the runs used. The standard error is the sample standard deviation
    (ddof=1) over sqrt(count), NaN for fewer than two runs. The mean is NaN where every run
    diverged.
    """
    summary = {key: [] for key in ("eps_mean", "eps_sem", "overlap_eps_mean", "overlap_eps_sem",
                                   "runs_used", "runs_diverged", "runs_not_converged")}
    for alpha in gamp_alpha:
        at_alpha = [gamp_run for gamp_run in runs if gamp_run.alpha == float(alpha)]
        used = [gamp_run for gamp_run in at_alpha if gamp_run.used]
        errors = {
            "eps": [gamp_run.test_error for gamp_run in used],
            "overlap_eps": [gamp_run.overlap_error for gamp_run in used],
        }
        for prefix, values in errors.items():
            mean, sem = mean_and_sem(values)
            summary[f"{prefix}_mean"].append(mean)
            summary[f"{prefix}_sem"].append(sem)
        summary["runs_used"].append(len(used))
        summary["runs_diverged"].append(len(at_alpha) - len(used))
        summary["runs_not_converged"].append(sum(gamp_run.status == "not_converged" for gamp_run in used))
    return {key: np.array(values) for key, values in summary.items()}


def mean_and_sem(values):
    """Return the mean and its standard error; NaN where there are too few values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    return mean, float(values.std(ddof=1) / math.sqrt(values.size))


def gamp_memory_bytes(alpha, n, dtype="float64"):
    """Estimate the peak memory in bytes of one ``run_gamp`` call at ``alpha`` and dimension ``n``.

    This is ``replica_tools.solvers.gamp.instance_memory_bytes`` with m = round(alpha n): one
    copy of X in ``dtype``, one block of at most max(2^21, n) float64 entries, and the vectors
    of length m and n.
    """
    return instance_memory_bytes(round(alpha * n), n, dtype)


def per_iteration_statistics(histories):
    """Return the mean and standard error over runs of an overlap at each iteration t.

    ``histories`` holds one sequence per run (m_t or q_t for t = 0, 1, ...). Runs that stopped
    early are cut to the shortest, so every t has the same runs. The standard error is
    std(ddof=1) / sqrt(runs), NaN for a single run.
    """
    steps = min(len(history) for history in histories)
    values = np.array([np.asarray(history[:steps], dtype=float) for history in histories])
    mean = values.mean(axis=0)
    if values.shape[0] < 2:
        return mean, np.full(steps, math.nan)
    return mean, values.std(axis=0, ddof=1) / math.sqrt(values.shape[0])


def largest_gamp_dimension(alpha, memory_bytes, upper=10**12):
    """Return the largest n <= ``upper`` with ``gamp_memory_bytes(alpha, n) <= memory_bytes``, or 0.

    The estimate grows with n, so a bisection over the integers finds that n.
    """
    if gamp_memory_bytes(alpha, 1) > memory_bytes:
        return 0
    low, high = 1, upper
    if gamp_memory_bytes(alpha, high) <= memory_bytes:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if gamp_memory_bytes(alpha, middle) <= memory_bytes:
            low = middle
        else:
            high = middle
    return low
