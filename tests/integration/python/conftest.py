"""pytest fixtures: a fresh gateway and mock upstream per test (tests/integration/python/stack.py).

A missing SDK is a broken checkout, never a reason to skip: collection fails and says how to fix it.
"""

import importlib
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from stack import Stack  # noqa: E402

for _module in ("openai", "anthropic", "google.genai"):
    try:
        importlib.import_module(_module)
    except ImportError as error:
        raise pytest.UsageError(
            f"the Python package for {_module} is not installed in {sys.prefix}: run "
            "scripts/setup.sh (it creates tests/integration/python/.venv from requirements.txt)"
        ) from error


@pytest.fixture
def stack():
    running = Stack.start()
    yield running
    problems = running.close()
    assert problems == [], "the gateway and the mock exit cleanly on SIGTERM"
