"""Deterministic synthetic population and agency feeds for tests and benchmarks."""

from .generate import generate

__all__ = ["generate"]
