"""helper.check: the verdict a student gets on an exercise. One behaviour per test."""

import math

import numpy as np
import pytest
import torch

from helper import STRICT_ENV, Verdict, WrongAnswer, check


@pytest.fixture(autouse=True)
def learner_mode(monkeypatch):
    """These tests are about the verdict a learner reads: strict mode off."""
    monkeypatch.delenv(STRICT_ENV, raising=False)


# -- an unanswered exercise is never right -----------------------------------------

@pytest.mark.parametrize("placeholder", [None, ..., NotImplemented])
def test_placeholder_answer_is_never_correct(placeholder):
    verdict = check(placeholder, 12, name="multiplications")
    assert not verdict
    assert "not answered" in verdict.message


@pytest.mark.parametrize("placeholder", [None, ...])
def test_placeholder_is_not_correct_even_when_expected_is_the_same_placeholder(placeholder):
    assert not check(placeholder, placeholder)


def test_placeholder_is_not_correct_for_a_non_numeric_question():
    assert not check(None, "tanh", name="activation")


# -- right answers --------------------------------------------------------------------

def test_exact_number_is_correct():
    verdict = check(12, 12, name="multiplications")
    assert verdict.ok
    assert verdict.message == "multiplications: correct"


def test_answer_within_tolerance_is_correct():
    assert check(1.0 + 1e-7, 1.0)
    assert check([0.1 + 0.2, 1.0], [0.3, 1.0])


def test_answer_just_outside_tolerance_is_wrong():
    assert not check(1.001, 1.0)


def test_tolerance_arguments_are_used():
    assert check(1.001, 1.0, rtol=1e-2)
    assert not check(1.001, 1.0, rtol=1e-5)


# -- tensors, arrays, lists -----------------------------------------------------------

def test_tensor_answer_is_compared_with_an_array():
    assert check(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]))


def test_array_answer_is_compared_with_a_tensor():
    assert check(np.array([[1.0], [2.0]]), torch.tensor([[1.0], [2.0]], dtype=torch.float64))


def test_tensor_that_requires_grad_is_accepted():
    weights = torch.ones(2, 3, requires_grad=True)
    assert check(weights * 2, np.full((2, 3), 2.0))


def test_list_answer_is_compared_with_a_tensor():
    assert check([0.5, 0.25], torch.tensor([0.5, 0.25]))


def test_float32_answer_is_compared_with_float64_expectation_up_to_tolerance():
    assert check(torch.tensor([1 / 3]), np.array([1 / 3]))


def test_shape_tuple_answer_is_compared_with_torch_size():
    assert check((2, 3), torch.zeros(2, 3).shape)


# -- wrong answers get a reason ------------------------------------------------------

def test_wrong_shape_is_reported_with_both_shapes():
    verdict = check(np.zeros((3, 2)), np.zeros((2, 3)), name="W_x")
    assert not verdict
    assert "shape" in verdict.message and "(2, 3)" in verdict.message and "(3, 2)" in verdict.message


def test_transposed_matrix_is_a_wrong_shape():
    W = np.arange(6.0).reshape(2, 3)
    assert "shape" in check(W.T, W).message


def test_scalar_answer_to_a_vector_question_is_a_wrong_shape():
    assert "shape" in check(1.0, [1.0]).message


def test_sign_flip_is_reported():
    verdict = check([1.0, -2.0], [-1.0, 2.0], name="gradient")
    assert not verdict
    assert "sign" in verdict.message


def test_sign_flip_of_a_scalar_is_reported():
    assert "sign" in check(-3.0, 3.0).message


def test_factor_off_is_reported_with_the_factor():
    verdict = check([2.0, 4.0], [1.0, 2.0], name="dE/dW")
    assert not verdict
    assert "factor of 2" in verdict.message


def test_half_convention_is_reported_as_a_factor():
    assert "factor of 0.5" in check(np.array([0.5, 1.5]), np.array([1.0, 3.0])).message


def test_scalar_off_by_a_whole_factor_is_reported():
    assert "factor of 2" in check(24, 12).message


def test_wrong_array_says_where_not_by_how_much():
    verdict = check([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert not verdict
    assert "1 of 3 values are wrong, the first at index 2" in verdict.message
    zeros = check(np.zeros((2, 2)), [[1.5, 0.0], [2.5, 3.5]])
    assert "3 of 4" in zeros.message and "(0, 0)" in zeros.message
    assert "1.5" not in zeros.message and "3.5" not in zeros.message


def test_zero_answer_is_wrong_not_a_factor():
    verdict = check(np.zeros(3), np.ones(3))
    assert not verdict
    assert "factor" not in verdict.message


def test_nan_answer_is_reported():
    verdict = check([1.0, math.nan], [1.0, 2.0], name="loss")
    assert not verdict
    assert "NaN" in verdict.message


def test_infinite_answer_is_reported():
    assert "infinity" in check(math.inf, 1.0).message


def test_nan_answer_is_wrong_even_against_nan():
    assert not check(math.nan, math.nan)


# -- non-numeric answers ----------------------------------------------------------------

def test_text_answer_to_a_numeric_question_is_wrong_with_a_message():
    verdict = check("twelve", 12, name="count")
    assert not verdict
    assert "expected a number" in verdict.message


def test_ragged_list_is_wrong_with_a_message():
    assert not check([[1.0], [1.0, 2.0]], [1.0, 2.0])


def test_non_numeric_expectation_is_compared_with_equality():
    assert check("tanh", "tanh", name="activation")
    verdict = check("relu", "tanh", name="activation")
    assert not verdict
    assert "'tanh'" in verdict.message and "'relu'" in verdict.message


def test_tensor_answer_to_a_text_question_is_wrong_with_a_message():
    assert not check(torch.tensor([1, 2]), "tanh")


# Bugs found while writing these tests, now fixed in helper.check.


def test_wrong_scalar_is_not_reported_as_a_factor_that_gives_the_answer_away():
    # Every wrong scalar is some multiple of the answer: "off by a factor of 0.9167"
    # for 11 instead of 12 lets a student divide their way to the answer.
    verdict = check(11, 12, name="count")
    assert not verdict
    assert "factor" not in verdict.message


def test_numeric_text_is_not_a_number():
    assert not check("12", 12)


def test_complex_answer_is_not_accepted_for_a_real_question():
    assert not check(1 + 1j, 1.0)


def test_array_answer_to_a_text_question_gives_a_verdict_not_a_traceback():
    assert not check(np.array([1, 2]), "tanh")


def test_bfloat16_tensors_are_compared():
    assert check(torch.tensor([1.0], dtype=torch.bfloat16), [1.0])
    assert check([1.0], torch.tensor([1.0], dtype=torch.bfloat16))


def test_huge_integer_gives_a_verdict_not_a_traceback():
    assert not check(10**400, 1)


# -- the name argument and the verdict ---------------------------------------------------

@pytest.mark.parametrize("bad_name", [3, None, ["W"]])
def test_non_string_name_raises_type_error_naming_the_argument(bad_name):
    with pytest.raises(TypeError, match="name"):
        check(1, 1, name=bad_name)


def test_message_starts_with_the_name():
    assert check(1, 2, name="s_1").message.startswith("s_1: ")


def test_verdict_is_truthy_only_when_correct():
    assert isinstance(check(1, 1), Verdict)
    assert bool(check(1, 1)) is True
    assert bool(check(1, 2)) is False


def test_verdict_shows_a_different_mark_before_the_message_in_a_notebook():
    right, wrong = check(1, 1)._repr_markdown_(), check(1, 2)._repr_markdown_()
    assert right.endswith("answer: correct") and wrong.endswith(check(1, 2).message)
    assert right.split()[0] != wrong.split()[0]  # a mark, not the same for both


def test_verdict_repr_is_the_message():
    assert repr(check(1, 1, name="x")) == "x: correct"


# -- issue 10: every answer gets a verdict, never a traceback ---------------------------

def test_an_answer_orthogonal_to_the_expected_one_gets_a_verdict():
    verdict = check([0.0, 1.0], [1.0, 0.0])
    assert not verdict and "wrong" in verdict.message


@pytest.mark.parametrize("expected", [math.nan, math.inf, -math.inf])
def test_a_non_finite_expected_value_gets_a_verdict(expected):
    assert not check(1.0, expected)


def test_a_none_inside_the_expected_value_is_a_clear_error():
    with pytest.raises(TypeError, match="expected must hold numbers"):
        check([1, 2], [1, None])


def test_a_none_inside_the_answer_gets_a_verdict():
    verdict = check([1, None], [1, 2])
    assert not verdict and "number" in verdict.message


def test_numbers_too_large_for_a_float_get_a_verdict():
    assert not check(1, 10**400)
    assert not check(10**400, 1)
    assert check(10**400, 10**400)
    assert not check(1.0, 10**400)


def test_a_complex_expected_value_is_not_matched_by_its_real_part():
    assert not check(1, 1 + 5j)
    assert check(1 + 5j, 1 + 5j)


@pytest.mark.parametrize("kwargs, match", [
    ({"rtol": -1}, "rtol"), ({"atol": -1e-9}, "atol"), ({"rtol": math.nan}, "rtol"),
    ({"rtol": "1e-5"}, "rtol"), ({"strict": "yes"}, "strict"),
])
def test_bad_tolerances_are_refused_by_name(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check(1.0, 1.0, **kwargs)


def test_dtype_and_device_are_checked_where_asked():
    assert check(torch.ones(2), [1.0, 1.0], dtype=torch.float32, device="cpu")
    verdict = check(torch.ones(2, dtype=torch.float64), [1.0, 1.0], dtype=torch.float32)
    assert not verdict and "dtype" in verdict.message
    verdict = check(np.ones(2), [1.0, 1.0], dtype=torch.float32)
    assert not verdict and "tensor" in verdict.message


# -- strict mode: a wrong published solution fails the build ---------------------------

def test_strict_mode_raises_with_the_verdict():
    with pytest.raises(WrongAnswer, match="off by a factor of 2"):
        check(2.0, 1.0, strict=True)
    assert check(1.0, 1.0, strict=True)


def test_strict_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(WrongAnswer):
        check(None, 1.0)
    assert not check(None, 1.0, strict=False)  # an explicit argument wins
    monkeypatch.setenv(STRICT_ENV, "0")
    assert not check(None, 1.0)
