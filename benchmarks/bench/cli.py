"""Argument types shared by the benchmark scripts' command lines."""

import argparse

__all__ = ["positive", "positive_ints"]


def positive(text):
    """An integer of at least 1 (argparse ``type=``)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def positive_ints(text):
    """A comma-separated list of integers of at least 1, as a tuple
    (argparse ``type=``): layer sizes, worker counts."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"not a list of positive integers: {text!r}")
    return values
