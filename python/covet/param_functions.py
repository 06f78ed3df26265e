"""FastAPI's module for the parameter functions (`from fastapi.param_functions import Query`):
the same functions as `covet.params`, importable from the path FastAPI code uses."""

from covet.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]
