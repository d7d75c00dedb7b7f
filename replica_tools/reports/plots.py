"""Learning-curve figures rendered with Matplotlib's Agg backend.

The figures are built on ``matplotlib.figure.Figure`` with an Agg canvas, not through pyplot, so
no global backend is selected and no window opens.
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

THEORY_STYLE = {"color": "C0", "linewidth": 1.8}
GAMP_STYLE = {"color": "C3", "marker": "o", "markersize": 4, "linestyle": "none", "capsize": 3}
ASYMPTOTE_STYLE = {"color": "0.3", "linestyle": "--", "linewidth": 1.2}
GAMP_BRANCH_STYLE = {"color": "C1", "linestyle": "-.", "linewidth": 1.5}
TRANSITION_STYLES = ({"color": "C2", "linestyle": ":", "linewidth": 1.2},
                     {"color": "C4", "linestyle": ":", "linewidth": 1.2})


def plot_learning_curve(theory_alpha, theory_eps, *, gamp_alpha=None, gamp_mean=None, gamp_sem=None,
                        asymptote_constant=None, title=None, dpi=120, gamp_branch_eps=None, transitions=None):
    """Render eps(alpha) in two panels, linear axes and log-log axes, and return PNG bytes.

    Each panel shows the theory curve and, if given, GAMP means with standard-error bars and the
    large-alpha asymptote ``asymptote_constant / alpha`` as a dashed line. GAMP points with a NaN
    mean (every seed diverged) are left out. ``gamp_branch_eps`` is eps of the branch GAMP follows
    from a random start, drawn where it is not NaN (where it differs from the equilibrium), and
    ``transitions`` maps a label to an alpha marked by a vertical line.
    """
    theory_alpha = np.asarray(theory_alpha, dtype=float)
    theory_eps = np.asarray(theory_eps, dtype=float)

    figure = Figure(figsize=(10, 4.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    linear_axes, loglog_axes = figure.subplots(1, 2)
    for axes in (linear_axes, loglog_axes):
        _draw_panel(axes, theory_alpha, theory_eps, gamp_alpha, gamp_mean, gamp_sem, asymptote_constant)
        _draw_branches(axes, theory_alpha, gamp_branch_eps, transitions)

    linear_axes.set_ylim(0.0, 0.55)
    alpha_max = theory_alpha.max()
    if gamp_alpha is not None and len(gamp_alpha):
        alpha_max = max(alpha_max, float(np.max(gamp_alpha)))
    linear_axes.set_xlim(0.0, alpha_max * 1.03)
    linear_axes.set_title("linear axes")
    loglog_axes.set_xscale("log")
    loglog_axes.set_yscale("log")
    # Ticks at 1, 2, 5 per decade with plain labels (0.05, 0.1) read better on the one or two
    # decades shown than 10^-1 notation.
    for axis in (loglog_axes.xaxis, loglog_axes.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
    positive_eps = theory_eps[theory_eps > 0]
    if gamp_branch_eps is not None:
        branch = np.asarray(gamp_branch_eps, dtype=float)
        positive_eps = np.concatenate([positive_eps, branch[np.isfinite(branch) & (branch > 0)]])
    if positive_eps.size:
        loglog_axes.set_ylim(positive_eps.min() / 1.5, 0.7)
    loglog_axes.set_title("log-log axes")
    linear_axes.legend(loc="upper right", fontsize="small")
    if title:
        figure.suptitle(title)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_panel(axes, theory_alpha, theory_eps, gamp_alpha, gamp_mean, gamp_sem, asymptote_constant):
    axes.plot(theory_alpha, theory_eps, label=r"theory $\varepsilon_\mathrm{Bayes}$ (state evolution)", **THEORY_STYLE)

    if gamp_alpha is not None and len(gamp_alpha):
        gamp_alpha = np.asarray(gamp_alpha, dtype=float)
        gamp_mean = np.asarray(gamp_mean, dtype=float)
        # A single seed has no standard error, so its bar is drawn with zero length.
        gamp_sem = np.nan_to_num(np.asarray(gamp_sem, dtype=float), nan=0.0)
        shown = np.isfinite(gamp_mean)
        axes.errorbar(gamp_alpha[shown], gamp_mean[shown], yerr=gamp_sem[shown],
                      label="GAMP (mean ± s.e.)", **GAMP_STYLE)

    if asymptote_constant is not None:
        asymptote_alpha = np.geomspace(theory_alpha.min(), theory_alpha.max(), 200)
        axes.plot(asymptote_alpha, asymptote_constant / asymptote_alpha,
                  label=rf"${asymptote_constant:.4f}/\alpha$", **ASYMPTOTE_STYLE)

    axes.set_xlabel(r"$\alpha = m/n$")
    axes.set_ylabel(r"generalization error $\varepsilon$")
    axes.grid(True, which="major", alpha=0.3)


def _draw_branches(axes, theory_alpha, gamp_branch_eps, transitions):
    if gamp_branch_eps is not None:
        axes.plot(theory_alpha, np.asarray(gamp_branch_eps, dtype=float),
                  label=r"GAMP branch $\varepsilon_\mathrm{Bayes}$ (from $q = 0$)", **GAMP_BRANCH_STYLE)
    for (label, alpha), style in zip((transitions or {}).items(), TRANSITION_STYLES):
        axes.axvline(alpha, label=f"{label} = {alpha:.4f}", **style)
