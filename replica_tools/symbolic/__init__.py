"""Symbolic layer: model declarations and the expressions SymPy derives from them."""

from replica_tools.symbolic.channel import Channel, OutputFunctions, derive_output_functions
from replica_tools.symbolic.prior import Prior, InputFunctions, derive_input_functions
from replica_tools.symbolic.models import Model, gaussian_prior, sign_channel, perceptron

__all__ = [
    "Channel",
    "OutputFunctions",
    "derive_output_functions",
    "Prior",
    "InputFunctions",
    "derive_input_functions",
    "Model",
    "gaussian_prior",
    "sign_channel",
    "perceptron",
]
