"""Time the theory curve: the state-evolution fixed point at 200 alpha values to 1e-10.

Run as ``python benchmarks/bench_state_evolution.py``. Reports the one-time cost of deriving and
compiling the model separately from the solve, median over repeats.
"""

import statistics
import time

import numpy as np

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.state_evolution import maps_for, solve_fixed_point
from replica_tools.symbolic import perceptron

REPEATS = 20


def main():
    start = time.perf_counter()
    numpy_model = NumpyModel(perceptron(), 1.0)
    maps_for(numpy_model)
    setup = time.perf_counter() - start

    timings = {}
    for name, alpha in {
        "200 alpha in [0.25, 10]": np.linspace(0.25, 10, 200),
        "200 alpha in [0.01, 1e4] (log-spaced)": np.geomspace(0.01, 1e4, 200),
    }.items():
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fixed_point = solve_fixed_point(numpy_model, alpha)
            runs.append(time.perf_counter() - start)
        timings[name] = (statistics.median(runs), fixed_point.iterations)

    print(f"derive and compile the model (once per process): {setup:.2f} s")
    for name, (seconds, iterations) in timings.items():
        print(f"solve {name}: {seconds * 1e3:.1f} ms median of {REPEATS}, {iterations} accelerated iterations")


if __name__ == "__main__":
    main()
