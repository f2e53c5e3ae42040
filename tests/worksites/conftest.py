"""Fixtures shared by the worksites tests."""

import pytest


@pytest.fixture
def api(client, partner):
    """A client sending firm A's all-scope partner key with every request, asking for English messages."""
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client
