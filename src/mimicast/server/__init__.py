"""The ASGI server: the request chain (pipeline.py), login, credentials, rate limits."""
