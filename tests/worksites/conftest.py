"""Fixtures shared by the worksites tests."""

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores uploads in its own folder, so a test can see exactly which files were written."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def api(client, partner):
    """A client sending firm A's all-scope partner key with every request, asking for English messages."""
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client
