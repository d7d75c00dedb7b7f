"""Time one GAMP step against the four matrix-vector products it performs.

A step computes X @ w_hat, X.T @ g, X**2 @ v and (X**2).T @ dg, which cost O(m n), plus
O(m + n) work for f_out, d_omega f_out, f_w and the variance. The products should dominate, so
the ratio of the two medians should stay close to 1. The target is at most 1.3 at n = 2000,
alpha = 5.

Usage: python benchmarks/bench_gamp.py [--n 2000] [--alpha 5] [--repeats 50]
"""

import argparse
import math
import statistics
import time

import numpy as np

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.gamp import GampState, gamp_step, make_instance
from replica_tools.symbolic import perceptron


def time_call(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="input dimension n")
    parser.add_argument("--alpha", type=float, default=5.0, help="sample ratio alpha = m / n")
    parser.add_argument("--rho", type=float, default=1.0, help="teacher second moment rho")
    parser.add_argument("--repeats", type=int, default=50, help="timed repeats of each measurement")
    parser.add_argument("--seed", type=int, default=0, help="seed of the instance")
    args = parser.parse_args()

    nm = NumpyModel(perceptron(), args.rho)
    instance = make_instance(args.alpha, args.n, args.rho, args.seed)
    X, y = instance.X, instance.y
    X_squared = np.square(X)
    m, n = X.shape

    # Start the timing from a state a few steps in, where f_out and f_w see typical arguments.
    state = GampState(w_hat=np.zeros(n), v=np.full(n, args.rho), g=np.zeros(m))
    for iteration in range(1, 6):
        state = gamp_step(nm, X, X_squared, y, state, iteration)
    dg = nm.df_out(y, X @ state.w_hat / math.sqrt(n), X_squared @ state.v / n)

    def step():
        gamp_step(nm, X, X_squared, y, state, 6)

    def products():
        X @ state.w_hat
        X.T @ state.g
        X_squared @ state.v
        X_squared.T @ dg

    # Alternate the two measurements so that drift in machine load affects both alike.
    step_times, product_times = [], []
    for _ in range(args.repeats):
        step_times.append(time_call(step))
        product_times.append(time_call(products))

    step_median = statistics.median(step_times)
    product_median = statistics.median(product_times)
    print(f"n = {n}, m = {m}, alpha = {args.alpha:g}, repeats = {args.repeats}")
    print(f"one GAMP step (median):           {step_median * 1e3:8.2f} ms")
    print(f"its four matrix-vector products:  {product_median * 1e3:8.2f} ms")
    print(f"ratio step / products:            {step_median / product_median:8.3f}")


if __name__ == "__main__":
    main()
