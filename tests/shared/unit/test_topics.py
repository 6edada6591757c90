import re

from shared.contracts.events import EVENTS
from shared.contracts.topics import TOPICS, all_topic_specs

TOPIC_NAME = re.compile(r"^[a-z]+\.[a-z]+\.v[0-9]+$")


def test_every_topic_is_named_domain_entity_version_and_has_a_dead_letter_topic() -> None:
    for topic in TOPICS:
        assert TOPIC_NAME.match(topic.name), topic.name
        assert topic.dlq == f"{topic.name}.dlq"
        assert topic.partitions >= 1
    names = [name for name, _, _ in all_topic_specs()]
    assert sorted(names) == sorted([t.name for t in TOPICS] + [t.dlq for t in TOPICS])


def test_every_event_travels_on_a_registered_topic_and_is_named_in_the_past_tense() -> None:
    registered = {t.name for t in TOPICS}
    for event in EVENTS:
        assert event.topic in registered, event.event_type
        words = re.findall(r"[A-Z][a-z]*", event.event_type)
        assert any(w.endswith("ed") for w in words), event.event_type
