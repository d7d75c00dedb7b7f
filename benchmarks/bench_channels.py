"""Time a 100-point learning curve of every built-in channel with the Gaussian prior.

Run as ``python benchmarks/bench_channels.py [--repeats N]``. For each channel of
``replica_tools.symbolic.catalog.CHANNELS`` at its default parameter, it reports the one-time
derivation and compilation (SymPy, then NumPy) and the median time of the state-evolution fixed
point at 100 log-spaced alpha in [0.25, 10], tolerance 1e-14 on log V.
"""

import argparse
import statistics
import time

import numpy as np

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.state_evolution import maps_for, solve_fixed_point
from replica_tools.symbolic.catalog import CHANNELS, build_model

ALPHA = np.geomspace(0.25, 10, 100)


def time_channel(name, repeats):
    start = time.perf_counter()
    model = build_model(channel=name)
    model.output
    derived = time.perf_counter() - start

    numpy_model = NumpyModel(model, 1.0)
    maps_for(numpy_model)
    compiled = time.perf_counter() - start - derived

    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fixed_point = solve_fixed_point(numpy_model, ALPHA)
        runs.append(time.perf_counter() - start)
    return derived, compiled, statistics.median(runs), fixed_point.iterations


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="solves per channel; the median is reported")
    repeats = parser.parse_args().repeats

    print("| channel | derive Z_out, f_out (SymPy) | SE equations and compile | 100-point curve | iterations |")
    print("| --- | --- | --- | --- | --- |")
    for name, entry in CHANNELS.items():
        parameters = ", ".join(f"{p.name} = {p.default:g}" for p in entry.parameters)
        derived, compiled, solve, iterations = time_channel(name, repeats)
        label = f"{name} ({parameters})" if parameters else name
        print(f"| {label} | {derived:.2f} s | {compiled:.2f} s | {solve * 1e3:.0f} ms | {iterations} |", flush=True)


if __name__ == "__main__":
    main()
