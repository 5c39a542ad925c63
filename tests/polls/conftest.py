from __future__ import annotations

import pytest

from polls import imports


@pytest.fixture
def reads(monkeypatch):
    """The files the import pages read (uploaded or staged), one name per reading."""
    calls = []
    original = imports.importers.read_survey

    def counting(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(imports.importers, "read_survey", counting)
    return calls
