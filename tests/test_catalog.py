"""The catalog of named priors and channels, and the model flags of the command line."""

import pytest
import sympy as sp

from replica_tools.cli.arguments import ArgumentParser, UsageError, add_model_arguments, model_from_args
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.catalog import CHANNELS, PRIORS, UnknownNameError, build_model
from replica_tools.symbolic.identities import ndtr


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_prior_normalized_with_second_moment(name):
    prior = PRIORS[name].make("prior")
    assert sp.simplify(prior.expectation(sp.Integer(1))) == 1
    assert sp.simplify(prior.expectation(s.w**2) - prior.second_moment) == 0


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_channel_is_normalized_at_every_z(name):
    channel = CHANNELS[name].make("channel")
    if channel.continuous:
        total = sp.Integral(channel.p_out, (s.y, -sp.oo, sp.oo))
    else:
        total = sp.Add(*(channel.p_out_at(label) for label in channel.labels))
    # The toolkit's own ndtr has no evalf: write it through erf for SymPy's evaluation.
    total = total.replace(ndtr, lambda x: (1 + sp.erf(x / sp.sqrt(2))) / 2)
    for z in (-1.3, 0.2, 2.5):
        assert abs(float(total.subs(s.z, z).evalf(30)) - 1) < 1e-12


def test_parameter_values_reach_the_declaration_as_exact_rationals():
    model = build_model(prior_parameters={"rho": 0.1})
    assert model.rho == sp.Rational(1, 10)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="known ones are .*gaussian"):
        build_model(prior="no-such-prior")


@pytest.mark.parametrize("argv, message", [
    (["--prior", "no-such-prior"], "unknown prior 'no-such-prior'"),
    (["--channel", "no-such-channel"], "unknown channel 'no-such-channel'"),
    (["--rho", "0"], r"rho = 0 is invalid for prior gaussian: .* \[1e-06, 1e\+06\]"),
    (["--rho", "nan"], r"rho = nan is invalid"),
])
def test_model_flags_reject_bad_input_in_one_line(argv, message):
    parser = ArgumentParser(prog="replica-tools test")
    add_model_arguments(parser)
    with pytest.raises(UsageError, match=message) as caught:
        model_from_args(parser.parse_args(argv))
    assert "\n" not in str(caught.value)


def test_model_flags_build_the_named_model():
    parser = ArgumentParser(prog="replica-tools test")
    add_model_arguments(parser)
    model = model_from_args(parser.parse_args(["--rho", "2"]))
    assert model.channel.name == "sign"
    assert model.rho == 2
