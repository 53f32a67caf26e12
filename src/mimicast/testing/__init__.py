"""Test support: a real mimicast server on loopback with a fresh store, and tenants in it.

Used by this project's own tests and usable by integrators' tests (`from mimicast.testing
import LiveServer`)."""

from mimicast.testing.harness import Harness, Keys, LiveServer, Tenant, fresh_database

__all__ = ["Harness", "Keys", "LiveServer", "Tenant", "fresh_database"]
