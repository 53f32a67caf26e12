"""mimicast: a self-hostable, wire-compatible Mimecast API 1.0."""

__version__ = "0.1.0"
