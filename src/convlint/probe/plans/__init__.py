"""Probe planners, one module per rule family; importing them registers them."""

from . import groups  # noqa: F401
from . import layout  # noqa: F401
from . import padding  # noqa: F401
