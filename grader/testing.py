"""Helpers for exercise authors writing hidden and public tests.

Values from the candidate arrive as plain data (exact ``torch.Tensor``, ``float``...) or as an
opaque :class:`~grader.channel.client.Handle`. These assertions check the *type* first, so a
handle or a subclass never passes, then the value. By default messages say what differs without
revealing expected values (hidden tests); pass ``reveal=True`` in public tests.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from grader.channel.client import Handle, fetch, is_handle, keep

__all__ = ["assert_close", "assert_float", "assert_int", "describe", "fetch", "is_handle", "keep", "Handle"]


def describe(value: Any) -> str:
    """A short description of a value's type (and shape) for failure messages."""
    if is_handle(value):
        return f"an object of type {value.remote_type} (expected plain data)"
    if type(value) is torch.Tensor:
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__module__}.{type(value).__qualname__}".replace("builtins.", "")


def assert_float(value: Any, what: str = "the result") -> float:
    """``value`` must be a Python float (not a numpy scalar, tensor or subclass)."""
    assert type(value) is float, f"{what} should be a Python float, got {describe(value)}"
    return value


def assert_int(value: Any, what: str = "the result") -> int:
    assert type(value) is int, f"{what} should be a Python int, got {describe(value)}"
    return value


def assert_close(actual: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-6, what: str = "the result",
                 check_dtype: bool = True, reveal: bool = False) -> None:
    """Strict, recursive comparison of a candidate's value with the expected one.

    Tensors must be exact ``torch.Tensor`` with the same shape (and dtype unless
    ``check_dtype=False``), NaN where expected NaN, and close elsewhere. Floats must be Python
    floats, ints Python ints, sequences and dicts of the same type and length/keys.
    """
    if type(expected) is torch.Tensor:
        assert type(actual) is torch.Tensor, f"{what} should be a torch.Tensor, got {describe(actual)}"
        assert actual.shape == expected.shape, (
            f"{what} has shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
        if check_dtype:
            assert actual.dtype == expected.dtype, f"{what} has dtype {actual.dtype}, expected {expected.dtype}"
        if expected.dtype == torch.bool or not (expected.is_floating_point() or expected.is_complex()):
            same = torch.equal(actual.to(expected.dtype), expected)
            detail = "" if same else f"{int((actual.to(expected.dtype) != expected).sum())} of {expected.numel()} entries differ"
        else:
            a = actual.to(torch.promote_types(actual.dtype, expected.dtype))
            e = expected.to(a.dtype)
            nan_e, nan_a = torch.isnan(e), torch.isnan(a)
            if not torch.equal(nan_e, nan_a):
                raise AssertionError(f"{what}: NaN in {int((nan_a & ~nan_e).sum())} entries where a number was "
                                     f"expected, numbers in {int((nan_e & ~nan_a).sum())} where NaN was expected"
                                     + (f"\n got: {actual}\n expected: {expected}" if reveal else ""))
            close = torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
            same = bool(close.all())
            if same:
                detail = ""
            else:
                diff = (a - e).abs()[~close]
                finite = diff[torch.isfinite(diff)]
                worst = f"{float(finite.max()):.3g}" if finite.numel() else "inf"
                detail = f"{int((~close).sum())} of {e.numel()} entries differ (largest difference {worst})"
        if not same:
            msg = f"{what}: {detail}"
            if reveal:
                msg += f"\n got: {actual}\n expected: {expected}"
            raise AssertionError(msg)
        return
    if type(expected) is float:
        assert type(actual) is float, f"{what} should be a Python float, got {describe(actual)}"
        if math.isnan(expected):
            assert math.isnan(actual), f"{what} should be nan" + (f", got {actual!r}" if reveal else "")
            return
        ok = math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol) or actual == expected
        assert ok, f"{what} is off by {abs(actual - expected):.3g}" + (f": got {actual!r}, expected {expected!r}" if reveal else "")
        return
    if type(expected) in (int, bool, str, type(None)):
        assert type(actual) is type(expected), f"{what} should be a {type(expected).__name__}, got {describe(actual)}"
        assert actual == expected, f"{what} is wrong" + (f": got {actual!r}, expected {expected!r}" if reveal else "")
        return
    if type(expected) in (list, tuple):
        assert type(actual) is type(expected), f"{what} should be a {type(expected).__name__}, got {describe(actual)}"
        assert len(actual) == len(expected), f"{what} has {len(actual)} items, expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, rtol=rtol, atol=atol, what=f"{what}[{i}]", check_dtype=check_dtype, reveal=reveal)
        return
    if type(expected) is dict:
        assert type(actual) is dict, f"{what} should be a dict, got {describe(actual)}"
        assert set(actual) == set(expected), (
            f"{what} has keys {sorted(map(str, actual))}, expected {sorted(map(str, expected))}")
        for k in expected:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, what=f"{what}[{k!r}]", check_dtype=check_dtype,
                         reveal=reveal)
        return
    raise TypeError(f"assert_close cannot compare expected values of type {type(expected).__name__}")
