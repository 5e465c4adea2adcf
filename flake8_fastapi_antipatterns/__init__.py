"""flake8-fastapi-antipatterns: catch FastAPI production mistakes, statically and at runtime.

This package is kept free of flake8 and astroid imports at import time: the
runtime guard (``runtime_guard``) uses its catalogue, diagnostics and sinks.
"""

__version__ = "0.1.0"
