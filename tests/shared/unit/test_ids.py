"""The fast name-based UUIDs equal the standard library's."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.ids import uuid5_hex, uuid5_str

NAMESPACES = st.sampled_from([uuid.NAMESPACE_URL, uuid.NAMESPACE_DNS, uuid.uuid4()])


@given(NAMESPACES, st.text())
def test_uuid5_text_equals_the_standard_librarys(namespace, name):
    assert uuid5_hex(namespace, name) == uuid.uuid5(namespace, name).hex
    assert uuid5_str(namespace, name) == str(uuid.uuid5(namespace, name))
