"""The notifications unit of work: its repositories (the messages and what the use cases
remember), the inbox and the outbox, in one transaction. Notifications publishes no event: its
outbox stays empty, and a message is sent by the dispatcher once its row is committed."""

from __future__ import annotations

import asyncpg

from services.notifications.adapters.postgres import PostgresMessages
from services.notifications.adapters.repository import (
    NotificationsRepository,
    PostgresNotifications,
)
from services.notifications.notifier import Messages
from shared.db.uow import PostgresUnitOfWork, UnitOfWork

SERVICE = "notifications"


class NotificationsUnitOfWork(UnitOfWork):
    messages: Messages
    notifications: NotificationsRepository


class PostgresNotificationsUnitOfWork(PostgresUnitOfWork, NotificationsUnitOfWork):
    service = SERVICE

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.messages = PostgresMessages(conn)
        self.notifications = PostgresNotifications(conn)
