"""Fixtures for the server tests (a pytest plugin loaded by conftest)."""
