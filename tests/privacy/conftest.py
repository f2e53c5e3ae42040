"""Fixtures shared by the personal-data tests: exports and erasure write and delete stored files, so every
test has an upload folder of its own; ``firm`` is firm A in context, speaking English."""

import pytest

from renocrm.tenancy.context import tenant_context


@pytest.fixture
def firm(firm_a):
    # The README and the erased names are written in the firm's language; these tests read them in English.
    firm_a.language = "en"
    firm_a.save()
    with tenant_context(firm_a):
        yield firm_a
