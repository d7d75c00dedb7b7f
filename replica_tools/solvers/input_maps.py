"""The input side of the Bayes-optimal state evolution: V(qhat) = rho - q(qhat) and Psi_w(qhat).

The student observes each teacher weight through a Gaussian channel of signal-to-noise ratio qhat: the field
gamma = qhat w* + sqrt(qhat) xi, with w* ~ P_0 and xi ~ N(0, 1), and Lambda = qhat. Under this
teacher measure

    V(qhat) = rho - q(qhat) = E[(w* - f_w)^2] = E[variance(gamma, qhat)]   (Nishimori),
    Psi_w(qhat) = E[log Z_w(gamma, qhat)].

The variance form has no difference of close numbers as q -> rho, where rho - E[f_w^2] would
keep only the digits of q beyond its leading ones. For a Gaussian prior SymPy finds V(qhat) in
closed form. For a mixture prior (point masses, possibly with a Gaussian density) it does not, and
the expectation is computed here by quadrature: each component of the teacher law is Gaussian
(a point mass has variance zero), so gamma is Gaussian within a component, and the trapezoidal
rule on a uniform grid in the standardized gamma converges geometrically for these analytic
integrands.
"""

import logging

import numpy as np

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.prior import gaussian_parameters

logger = logging.getLogger(__name__)

# Half width of the grid in standard deviations of gamma. The Gaussian weight beyond it is below
# exp(-13^2 / 2) ~ 5e-37 of the total, so V keeps its relative precision while V / rho > 1e-30.
HALF_WIDTH = 13.0
# Grid step in gamma as a fraction of the scale on which the tilted prior changes (see _feature_scale).
STEP_FRACTION = 0.25
# Upper bound on the grid size per expectation, which bounds memory and time. Beyond it the step
# exceeds STEP_FRACTION of the feature scale: for a Rademacher teacher from qhat ~ 1.5e3, for the
# Gauss-Bernoulli one from qhat ~ 400 (still within 1e-13 of mpmath at qhat = 3e3, rho = 0.3).
MAX_NODES = 8001


class InputMap:
    """V(qhat), q(qhat) and Psi_w(qhat) of a compiled model, vectorized over qhat.

    ``numeric`` is True where V(qhat) comes from quadrature and False where it comes from SymPy's
    closed form (``closed_form_V``, a compiled function of qhat).
    """

    def __init__(self, numpy_model, closed_form_V=None):
        prior = numpy_model.model.prior
        self.rho = numpy_model.rho
        self._log_Z_w = numpy_model.log_Z_w
        self._variance = numpy_model.variance_replica
        self._closed_form_V = closed_form_V
        self.numeric = closed_form_V is None

        if numpy_model.components is not None:
            mixture = numpy_model.components
            self.weights = mixture.weights
            self.teacher_means = mixture.teacher_means
            self.teacher_variances = mixture.teacher_variances
            values = self.teacher_means[self.teacher_variances == 0]
            self._point_gap = float(np.ptp(values)) if values.size > 1 else 0.0
            self._has_density = bool(np.any(self.teacher_variances > 0))
        else:
            parameters = [float(value.subs(s.rho, self.rho)) for value in gaussian_parameters(prior.density)]
            self.weights, self.teacher_means, self.teacher_variances = (np.array([value]) for value in parameters)
            self._point_gap = 0.0
            self._has_density = True

        self.mean = float(np.sum(self.weights * self.teacher_means))
        # At qhat = 0 the student has only the prior: q = E[w]^2 and V = Var(w).
        self.V_uninformative = self.rho - self.mean**2

    def _feature_scale(self, qhat):
        """Return the scale in gamma on which log Z_w and the variance change.

        Point masses a, b switch their posterior weight over a change of gamma of about
        1 / |a - b|. A Gaussian density against a point mass switches at |gamma| of order
        sqrt(1 + qhat), over a width of at least sqrt(1 + qhat) / 4 for the sparsities in the
        catalog.
        """
        scale = np.full(np.shape(qhat), np.inf)
        if self._point_gap > 0:
            scale = np.minimum(scale, 1.0 / self._point_gap)
        if self._has_density:
            scale = np.minimum(scale, np.sqrt(1.0 + qhat) / 4)
        return scale

    def teacher_expectation(self, function, qhat):
        """Return E[function(gamma, qhat)] under the teacher measure, for an array of qhat > 0."""
        qhat = np.asarray(qhat, dtype=float)
        flat = qhat.reshape(-1)
        total = np.zeros_like(flat)
        if flat.size == 0:
            return total.reshape(qhat.shape)
        scale = self._feature_scale(flat)
        for weight, teacher_mean, teacher_variance in zip(self.weights, self.teacher_means, self.teacher_variances):
            if weight == 0:
                continue
            center = flat * teacher_mean
            spread = np.sqrt(flat + flat**2 * teacher_variance)
            step = np.minimum(STEP_FRACTION, STEP_FRACTION * scale / spread)
            nodes = int(min(MAX_NODES, 2 * np.ceil(HALF_WIDTH / step.min()) + 1))
            zeta = np.linspace(-HALF_WIDTH, HALF_WIDTH, nodes)[:, None]
            gamma = center + spread * zeta
            density = np.exp(-zeta**2 / 2) / np.sqrt(2 * np.pi)
            values = function(gamma, np.broadcast_to(flat, gamma.shape))
            total += weight * np.sum(density * values, axis=0) * (zeta[1, 0] - zeta[0, 0])
        return total.reshape(qhat.shape)

    def V_of(self, qhat):
        """Return V = rho - q(qhat), with V = Var(w) at qhat = 0."""
        qhat = np.asarray(qhat, dtype=float)
        if self._closed_form_V is not None:
            return self._closed_form_V(qhat)
        inside = (qhat > 0) & np.isfinite(qhat)
        values = self.teacher_expectation(self._variance, np.where(inside, qhat, 1.0))
        # qhat = inf is the perfect fixed point, V = 0.
        return np.where(inside, values, np.where(qhat > 0, 0.0, self.V_uninformative))

    def q_of(self, qhat):
        """Return q(qhat) = rho - V(qhat)."""
        return self.rho - self.V_of(qhat)

    def Psi_w(self, qhat):
        """Return Psi_w(qhat) = E[log Z_w(gamma, qhat)], with Psi_w(0) = 0."""
        qhat = np.asarray(qhat, dtype=float)
        positive = np.where(qhat > 0, qhat, 1.0)
        return np.where(qhat > 0, self.teacher_expectation(self._log_Z_w, positive), 0.0)
