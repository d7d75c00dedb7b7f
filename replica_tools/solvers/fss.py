"""Finite-size scaling of GAMP: eps(n) = eps_inf + a / n fitted over n, compared with state evolution.

At one alpha, GAMP runs over a geometric range of n with many seeds (as a sweep, so the runs are
resumable). The mean error at each n, with its standard error over seeds, is fitted by weighted
least squares to eps_inf + a / n. The fit's standard errors come from the weights alone
(1 / sem^2, as ``numpy.polyfit(..., cov="unscaled")``), and chi^2 per degree of freedom
shows whether the 1 / n form describes the data within those errors. eps_inf is then compared with
eps_Bayes of the state-evolution fixed point, the n -> infinity limit of GAMP's error.

The same runs give the per-iteration check: at each n, the seed means of m_t and q_t against the
state-evolution q_t from the same start q_0 = 0.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replica_tools.solvers.learning_curve import mean_and_sem, per_iteration_statistics
from replica_tools.solvers.state_evolution import solve_fixed_point, state_evolution_trajectory
from replica_tools.solvers.sweep import parse_definition, run_sweep

# Result-line field of each error measure.
ERROR_FIELDS = {"overlap": "overlap_error", "test": "test_error"}


@dataclass(frozen=True)
class FiniteSizeFit:
    """Weighted least-squares fit of eps(n) = eps_inf + a / n.

    ``eps_inf_error`` and ``slope_error`` are standard errors from the covariance
    (A^T W A)^-1 with W = diag(1 / sem^2), not rescaled by chi^2. ``dof`` is the number of n
    values minus 2.
    """

    eps_inf: float
    eps_inf_error: float
    slope: float
    slope_error: float
    chi2: float
    dof: int
    correlation: float

    def predict(self, n):
        """Return eps_inf + a / n."""
        return self.eps_inf + self.slope / np.asarray(n, dtype=float)


def fit_finite_size(n, mean, sem):
    """Fit ``mean`` = eps_inf + a / n with weights 1 / ``sem``^2 and return a ``FiniteSizeFit``.

    Needs at least two distinct n and a finite, positive standard error at each. Raises
    ValueError otherwise.
    """
    n = np.asarray(n, dtype=float)
    mean = np.asarray(mean, dtype=float)
    sem = np.asarray(sem, dtype=float)
    if np.unique(n).size < 2:
        raise ValueError(f"the fit needs at least 2 distinct n, got {n.tolist()}")
    bad = ~(np.isfinite(sem) & (sem > 0) & np.isfinite(mean))
    if bad.any():
        raise ValueError(f"n = {int(n[bad][0])} has mean {mean[bad][0]} and standard error {sem[bad][0]}: the fit "
                         "needs a finite mean and a positive standard error, so at least 2 runs that differ")

    design = np.column_stack([np.ones_like(n), 1.0 / n])
    weights = 1.0 / sem**2
    normal_matrix = design.T @ (weights[:, None] * design)
    covariance = np.linalg.inv(normal_matrix)
    parameters = covariance @ (design.T @ (weights * mean))
    residuals = (mean - design @ parameters) / sem
    errors = np.sqrt(np.diag(covariance))
    return FiniteSizeFit(
        eps_inf=float(parameters[0]), eps_inf_error=float(errors[0]),
        slope=float(parameters[1]), slope_error=float(errors[1]),
        chi2=float(residuals @ residuals), dof=int(n.size - 2),
        correlation=float(covariance[0, 1] / (errors[0] * errors[1])),
    )


@dataclass
class FiniteSizeStudy:
    """GAMP errors over n at one alpha, their fit, and the state-evolution references.

    ``n``, ``runs``, ``mean`` and ``sem`` have one entry per n (runs that did not diverge).
    ``trajectory`` maps each n to a dictionary of arrays over t = 0 .. steps: m_mean, m_sem,
    q_mean, q_sem; ``q_se`` is the state-evolution q_t over the same t.
    """

    alpha: float
    rho: float
    error: str
    n: np.ndarray
    runs: np.ndarray
    diverged: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    fit: FiniteSizeFit
    eps_se: float
    steps: int
    trajectory: dict
    q_se: np.ndarray
    records: list

    @property
    def deviation(self):
        """(eps_inf - eps_SE) in units of the fit's standard error of eps_inf."""
        return (self.fit.eps_inf - self.eps_se) / self.fit.eps_inf_error


def finite_size_scaling(nm, alpha, n_values, seed_count, results_folder, *, first_seed=0, error="overlap",
                        steps=10, jobs=1, dask_address=None, progress=None, **settings):
    """Run GAMP at ``alpha`` for every n and ``seed_count`` seeds, fit eps(n) and compare with SE.

    The k-th n (in increasing order) runs the seeds first_seed + k seed_count, ...,
    first_seed + (k + 1) seed_count - 1. Instances from one seed share the start of the random
    stream: w* at n is the first n entries of w* at 2n, and rows of X overlap. The same seeds
    at every n would therefore correlate the means across n, which the fit assumes independent.

    Each n is a sweep with the GAMP ``settings`` (rho is ``nm.rho``; variant, dtype, damping,
    max_iter, tol, n_test), stored in and resumed from ``results_folder/n{n}.jsonl``. ``error``
    is ``overlap`` (the expected test error arccos(m / sqrt(rho_hat q)) / pi, without sampling
    noise) or ``test`` (fresh test samples). ``steps`` iterations of each run enter the
    per-iteration comparison; runs that converged earlier are cut to the shortest.
    ``progress(done, total, record)`` counts the runs of all n together. Returns a
    ``FiniteSizeStudy``.
    """
    if error not in ERROR_FIELDS:
        raise ValueError(f"error = {error!r} is invalid: expected one of {', '.join(ERROR_FIELDS)}")
    n_values = sorted(set(n_values))
    results_folder = Path(results_folder)
    results_folder.mkdir(parents=True, exist_ok=True)
    total = len(n_values) * seed_count
    records = []
    for index, n in enumerate(n_values):
        start = first_seed + index * seed_count
        definition = parse_definition({"alpha": [float(alpha)], "n": [n], "seeds": seed_count,
                                       "first_seed": start, "rho": nm.rho, **settings})
        offset = index * seed_count

        def report(done, count, record, offset=offset):
            if progress is not None:
                progress(offset + done, total, record)

        records += run_sweep(definition, results_folder / f"n{n}.jsonl", jobs=jobs, dask_address=dask_address,
                             progress=report)
    return study_from_records(nm, float(alpha), n_values, records, error=error, steps=steps)


def study_from_records(nm, alpha, n_values, records, *, error="overlap", steps=10):
    """Build the ``FiniteSizeStudy`` of sweep result lines at one alpha."""
    field = ERROR_FIELDS[error]
    rows = {"runs": [], "diverged": [], "mean": [], "sem": []}
    trajectory = {}
    for n in n_values:
        at_n = [record for record in records if int(record["n"]) == n]
        used = [record for record in at_n if record["status"] != "diverged"]
        mean, sem = mean_and_sem([record[field] for record in used])
        rows["runs"].append(len(used))
        rows["diverged"].append(len(at_n) - len(used))
        rows["mean"].append(mean)
        rows["sem"].append(sem)
        if used:
            m_mean, m_sem = per_iteration_statistics([record["m_history"][:steps + 1] for record in used])
            q_mean, q_sem = per_iteration_statistics([record["q_history"][:steps + 1] for record in used])
            trajectory[n] = {"m_mean": m_mean, "m_sem": m_sem, "q_mean": q_mean, "q_sem": q_sem}

    n_array = np.asarray(n_values, dtype=int)
    fit = fit_finite_size(n_array, rows["mean"], rows["sem"])
    eps_se = float(np.squeeze(solve_fixed_point(nm, alpha).eps_bayes))
    q_se = state_evolution_trajectory(nm, alpha, steps, q0=0.0)
    return FiniteSizeStudy(
        alpha=alpha, rho=nm.rho, error=error, n=n_array, runs=np.array(rows["runs"]),
        diverged=np.array(rows["diverged"]), mean=np.array(rows["mean"]), sem=np.array(rows["sem"]),
        fit=fit, eps_se=eps_se, steps=steps, trajectory=trajectory, q_se=q_se, records=records,
    )


def geometric_dimensions(start, stop, count):
    """Return ``count`` integers spaced geometrically from ``start`` to ``stop``, duplicates dropped."""
    if count == 1:
        return [int(start)]
    ratio = (stop / start) ** (1.0 / (count - 1))
    return sorted({round(start * ratio**index) for index in range(count - 1)} | {int(stop)})


def within_error_bar(study, factor=1.0):
    """Return whether |eps_inf - eps_SE| < ``factor`` times the fit's standard error of eps_inf."""
    return math.isfinite(study.deviation) and abs(study.deviation) < factor
