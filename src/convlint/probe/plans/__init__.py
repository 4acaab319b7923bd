"""Probe planners, one module per rule family; importing them registers them."""

from . import api, groups, layout, padding, weights  # noqa: F401
