"""mimicast: a self-hostable, wire-compatible Mimecast API 1.0."""

from functools import cache


@cache
def _installed_version() -> str:
    # Imported here: importlib.metadata costs every command's start-up, and few need it.
    from importlib.metadata import version

    return version("mimicast")


def __getattr__(name: str) -> str:
    """`mimicast.__version__`: the installed package's version (pyproject.toml's)."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'mimicast' has no attribute {name!r}")
