import uuid
from datetime import timedelta

import pytest

from shared.db.retention import check_inbox_retention, prune

pytestmark = pytest.mark.integration


async def _outbox_row(conn, created_days_ago: float, sent_days_ago: float | None) -> uuid.UUID:
    event_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO outbox (event_id, topic, key, event_type, body, created_at, sent_at)
           VALUES ($1, 'test.prune.v1', 'k', 'Ping', '\\x00',
                   now() - make_interval(days => $2),
                   now() - make_interval(days => $3))""",
        event_id,
        int(created_days_ago),
        None if sent_days_ago is None else int(sent_days_ago),
    )
    return event_id


async def test_pruning_deletes_old_sent_rows_and_old_inbox_keys_but_never_unsent_rows(db_pool):
    async with db_pool.acquire() as conn:
        old_sent = await _outbox_row(conn, 11, 10)
        fresh_sent = await _outbox_row(conn, 1, 1)
        old_unsent = await _outbox_row(conn, 11, None)
        for days, event_id in ((50, uuid.uuid4()), (1, uuid.uuid4())):
            await conn.execute(
                """INSERT INTO processed_messages (consumer, event_id, topic, processed_at)
                   VALUES ('c', $1, 't', now() - make_interval(days => $2))""",
                event_id,
                days,
            )
        deleted = await prune(conn, outbox_keep=timedelta(days=7), inbox_keep=timedelta(days=45))
        left = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM outbox")}
        keys = await conn.fetchval("SELECT count(*) FROM processed_messages")
    assert deleted == (1, 1)
    assert left == {fresh_sent, old_unsent} and old_sent not in left
    assert keys == 1


def test_an_inbox_kept_shorter_than_the_topics_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="must exceed the longest topic retention"):
        check_inbox_retention(timedelta(days=20))
    check_inbox_retention(timedelta(days=45))
