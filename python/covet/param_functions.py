"""FastAPI's `param_functions` module name: the declaration functions, defined in `covet.params`."""

from covet.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]
