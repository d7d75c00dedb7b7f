"""Time GAMP steps of both variants and dtypes against the matrix-vector products alone.

A scalar-variance step computes X @ w_hat and X.T @ g, which cost O(m n), plus O(m + n) work for
f_out, d_omega f_out, f_w and the variance. A per-component step also squares every row block of
X and multiplies the squares with v and dg. The reference time is that of the two plain products
X @ w and X.T @ g in the same dtype, so the ratio is 1 plus the share of everything else. Target:
at most 1.2 for the scalar variant at n = 2000 and 8000, alpha = 5.

Usage:
    python benchmarks/bench_gamp.py [steps] [--n 2000,8000] [--alpha 5] [--repeats 20]
    python benchmarks/bench_gamp.py memory [--n 8000] [--alpha 5]
    python benchmarks/bench_gamp.py curve

``memory`` runs one ``run_gamp`` per variant and dtype in a fresh subprocess and reports the
peak of NumPy's allocations during the run (tracemalloc) and the process's peak resident set
(ru_maxrss), next to the size of X. ``curve`` times the GAMP part of ``replica-tools curve`` with
its defaults (10 alphas in [0.25, 10], 4 seeds, n = 1000).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.gamp import VARIANTS, GampState, InputProducts, gamp_step, make_instance
from replica_tools.symbolic import perceptron

DTYPES = ("float64", "float32")


def time_call(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bench_steps(args):
    nm = NumpyModel(perceptron(), 1.0)
    for n in args.n:
        instance = make_instance(args.alpha, n, 1.0, args.seed)
        m = instance.X.shape[0]
        for dtype in DTYPES:
            X = instance.X if dtype == "float64" else instance.X.astype(np.float32)
            for variant in VARIANTS:
                products = InputProducts(X, variant)
                # Start the timing a few steps in, where f_out and f_w see typical arguments.
                state = GampState(w_hat=np.zeros(n), v=np.full(n, 1.0), g=np.zeros(m))
                for iteration in range(1, 6):
                    state = gamp_step(nm, products, instance.y, state, iteration)
                w_hat = state.w_hat.astype(dtype)
                g = state.g.astype(dtype)

                def step():
                    gamp_step(nm, products, instance.y, state, 6)

                def plain_products():
                    X @ w_hat
                    X.T @ g

                # Alternate the two measurements so that drift in machine load affects both alike.
                step_times, product_times = [], []
                for _ in range(args.repeats):
                    step_times.append(time_call(step))
                    product_times.append(time_call(plain_products))
                step_median = statistics.median(step_times)
                product_median = statistics.median(product_times)
                print(f"n = {n:5d}, m = {m:6d}, {dtype}, {variant:13s}: step {step_median * 1e3:8.2f} ms, "
                      f"X @ w and X.T @ g {product_median * 1e3:8.2f} ms, ratio {step_median / product_median:5.2f}",
                      flush=True)


MEMORY_SCRIPT = """
import json, resource, sys, time, tracemalloc
from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.gamp import run_gamp
from replica_tools.symbolic import perceptron

alpha, n, variant, dtype = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
nm = NumpyModel(perceptron(), 1.0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
start = time.perf_counter()
result = run_gamp(nm, alpha, n, 0, variant=variant, dtype=dtype, n_test=10000)
seconds = time.perf_counter() - start
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"traced_peak": traced_peak, "rss_before": before, "rss_peak": peak, "seconds": seconds,
                  "iterations": result.iterations}))
"""


def bench_memory(args):
    for n in args.n:
        m = round(args.alpha * n)
        for dtype in DTYPES:
            x_bytes = m * n * np.dtype(dtype).itemsize
            for variant in VARIANTS:
                output = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(args.alpha), str(n), variant, dtype],
                                        check=True, capture_output=True, text=True).stdout
                figures = json.loads(output.splitlines()[-1])
                print(f"n = {n}, m = {m}, {dtype}, {variant:13s}: X {x_bytes / 1e9:.3f} GB, traced peak "
                      f"{figures['traced_peak'] / 1e9:.3f} GB ({figures['traced_peak'] / x_bytes:.3f} X), "
                      f"peak RSS {figures['rss_peak'] / 1e9:.3f} GB (before the run "
                      f"{figures['rss_before'] / 1e9:.3f} GB), {figures['iterations']} iterations in "
                      f"{figures['seconds']:.1f} s", flush=True)


def bench_curve(args):
    from replica_tools.cli.curve import DEFAULT_ALPHA_SPEC, DEFAULT_GAMP_POINTS, _spread
    from replica_tools.cli.arguments import alpha_spec
    from replica_tools.solvers.learning_curve import run_gamp_grid

    nm = NumpyModel(perceptron(), 1.0)
    gamp_alpha = _spread(alpha_spec(DEFAULT_ALPHA_SPEC).values, DEFAULT_GAMP_POINTS)
    for dtype in DTYPES:
        for variant in VARIANTS:
            start = time.perf_counter()
            runs = run_gamp_grid(nm, gamp_alpha, range(4), n=1000, variant=variant, dtype=dtype)
            seconds = time.perf_counter() - start
            iterations = sum(gamp_run.iterations or 0 for gamp_run in runs)
            print(f"curve GAMP part, {dtype}, {variant:13s}: {len(runs)} runs, {iterations} iterations, "
                  f"{seconds:.2f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="steps", choices=("steps", "memory", "curve"),
                        help="what to measure (default steps)")
    parser.add_argument("--n", default=None, help="comma-separated input dimensions")
    parser.add_argument("--alpha", type=float, default=5.0, help="sample ratio alpha = m / n")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of each measurement")
    parser.add_argument("--seed", type=int, default=0, help="seed of the instance")
    args = parser.parse_args()
    default_n = {"steps": "2000,8000", "memory": "8000", "curve": "1000"}[args.what]
    args.n = [int(item) for item in (args.n or default_n).split(",")]
    print(f"load average before: {', '.join(f'{value:.2f}' for value in os.getloadavg())}; "
          f"NumPy {np.__version__}", flush=True)
    {"steps": bench_steps, "memory": bench_memory, "curve": bench_curve}[args.what](args)
    print(f"load average after: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
