"""Time the thresholds of the Rademacher perceptron and 100-point learning curves of each prior.

Run as ``python benchmarks/bench_thresholds.py [--repeats N]``. Derivation and compilation are
timed apart, once per model; the thresholds and the curves are timed after them, best of the
repeats. Also prints the thresholds by both routes and their differences.
"""

import argparse
import time

import numpy as np

from replica_tools.cli.curve import _solve_branch_theory
from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.state_evolution import maps_for
from replica_tools.solvers.thresholds import locate_thresholds
from replica_tools.symbolic.catalog import build_model

MODELS = {
    "gaussian": {},
    "rademacher": {},
    "binary": {"p": 0.3},
    "gauss-bernoulli": {"rho": 0.3},
}


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    compiled = {}
    for name, parameters in MODELS.items():
        start = time.perf_counter()
        model = build_model(name, prior_parameters=parameters)
        compiled[name] = NumpyModel(model, float(model.rho))
        maps_for(compiled[name])
        print(f"{name}: derive and compile {time.perf_counter() - start:.2f} s")

    rademacher = compiled["rademacher"]
    seconds, thresholds = best_time(lambda: locate_thresholds(rademacher), args.repeats)
    print(f"rademacher: alpha_alg = {thresholds.alpha_alg:.12f}, alpha_IT = {thresholds.alpha_it:.12f}, "
          f"both in {seconds:.2f} s (best of {args.repeats})")
    seconds, checked = best_time(lambda: locate_thresholds(rademacher, check=True), 1)
    print(f"rademacher with the second routes: {seconds:.2f} s; alpha_alg by bisection "
          f"{checked.alpha_alg_check:.12f} (difference {abs(checked.alpha_alg - checked.alpha_alg_check):.1e}), "
          f"alpha_IT by integration {checked.alpha_it_check:.12f} "
          f"(difference {abs(checked.alpha_it - checked.alpha_it_check):.1e})")

    alpha = np.geomspace(0.25, 10, 100)
    for name, nm in compiled.items():
        # The curve command locates the thresholds once and names the branches with them.
        seconds, _ = best_time(lambda: _solve_branch_theory(nm, alpha, locate_thresholds(nm)), args.repeats)
        print(f"{name}: 100-point curve (both branches, free entropy, thresholds) in [0.25, 10]: {seconds:.3f} s")


if __name__ == "__main__":
    main()
