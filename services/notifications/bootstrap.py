"""The notifications service's composition root: settings, providers, the bus around the unit
of work, and the service that runs its consumers, jobs, dispatcher and callbacks.

    Kafka consumers, digest and reminder jobs, dispatcher, HTTP callbacks
        ->  bus.handle(command)  ->  handlers  ->  unit of work (messages, pickups, buyers)

HTTP routes and the dispatcher reach the bus as `service.bus`."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import asyncpg

from services.notifications.adapters.email import SmtpSender
from services.notifications.adapters.providers import (
    DevProvider,
    EsmsProvider,
    SmsProvider,
    SpeedSmsProvider,
    TwilioProvider,
)
from services.notifications.adapters.uow import (
    NotificationsUnitOfWork,
    PostgresNotificationsUnitOfWork,
)
from services.notifications.commands import (
    AlertLowStock,
    AnnouncePickup,
    AnnouncePickupCancellation,
    AnnouncePickupChange,
    RememberBuyer,
    TellBuyerCancelled,
    TellBuyerConfirmed,
    TellBuyerShipment,
)
from services.notifications.dispatcher import Dispatcher
from services.notifications.entrypoints.http import routes_for
from services.notifications.handlers import Handlers
from services.notifications.jobs import digest_job, reminder_job
from services.notifications.notifier import Notifier
from services.notifications.settings import NotificationSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    ORDERS,
    PICKUPS,
    SHIPMENTS,
    STOCK,
    LowStockDetected,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PickupCancelled,
    PickupRescheduled,
    PickupScheduled,
)
from shared.contracts.logistics import (
    ShipmentDelivered,
    ShipmentDispatchedForDelivery,
    ShipmentPickedUp,
)
from shared.messaging.bus import MessageBus, consumer_handler
from shared.messaging.consumer import Handler, Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.notifications") / "migrations"
Bus = MessageBus[NotificationsUnitOfWork]
Database = Callable[[], asyncpg.Pool | asyncpg.Connection | None]


def sms_providers(n: NotificationSettings) -> list[SmsProvider]:
    """The fallback chain named by NOTIFICATIONS_SMS_PROVIDERS, in order."""
    token = n.callback_token.get_secret_value() if n.callback_token else None
    base = n.public_url.rstrip("/")
    made: dict[str, SmsProvider] = {}
    for name in n.chain():
        if name == "dev":
            made[name] = DevProvider()
        elif name == "twilio":
            made[name] = TwilioProvider(
                base_url=n.twilio_base_url,
                account_sid=n.secret("twilio_account_sid"),
                auth_token=n.secret("twilio_auth_token"),
                sender=n.secret("twilio_from"),
                callback_base=base,
                timeout_s=n.http_timeout_s,
            )
        elif name == "esms":
            made[name] = EsmsProvider(
                base_url=n.esms_base_url,
                api_key=n.secret("esms_api_key"),
                secret_key=n.secret("esms_secret_key"),
                brandname=n.esms_brandname,
                callback_base=base,
                callback_token=token,
                sandbox=n.esms_sandbox,
                timeout_s=n.http_timeout_s,
            )
        elif name == "speedsms":
            made[name] = SpeedSmsProvider(
                base_url=n.speedsms_base_url,
                token=n.secret("speedsms_token"),
                sender=n.speedsms_sender,
                timeout_s=n.http_timeout_s,
            )
        else:
            raise ValueError(f"unknown SMS provider {name!r} in NOTIFICATIONS_SMS_PROVIDERS")
    return list(made.values())


def build(
    settings: ServiceSettings | None = None,
    provider: SmsProvider | None = None,
    *,
    notification_settings: NotificationSettings | None = None,
    providers: list[SmsProvider] | None = None,
) -> Service:
    n = notification_settings or NotificationSettings()
    chain = providers or ([provider] if provider else sms_providers(n))
    email = None
    if n.smtp_host:
        email = SmtpSender(
            n.smtp_host,
            n.smtp_port,
            n.smtp_from,
            user=n.smtp_user,
            password=n.smtp_password.get_secret_value() if n.smtp_password else None,
            starttls=n.smtp_starttls,
            timeout_s=n.http_timeout_s,
        )
    dispatcher = Dispatcher(n, chain, email)
    notifier = Notifier(n, provider=chain[0].name)
    settings = settings or load_settings("notifications")
    # The pool exists once the service has started; each unit of work takes it then.
    bus = message_bus(lambda: service.pool, notifier, producer=settings.service)
    service = Service(
        settings=settings,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(bus, producer=settings.service),
        routes=routes_for(n),
        background=[
            dispatcher.run,
            digest_job(bus, n.jobs_interval_s),
            reminder_job(bus, n.jobs_interval_s),
        ],
        bus=bus,
    )
    return service


def message_bus(database: Database, notifier: Notifier, *, producer: str = "notifications") -> Bus:
    """The notifications bus on a database: a pool, or one connection."""
    return MessageBus(
        lambda: PostgresNotificationsUnitOfWork(database(), producer=producer),
        commands=Handlers(notifier).commands,
    )


# Each consumed event, made into the command it asks for.
COMMANDS: dict[type[Event], Callable[[Envelope, Any], object]] = {
    PickupScheduled: AnnouncePickup.of,
    PickupRescheduled: AnnouncePickupChange.of,
    PickupCancelled: AnnouncePickupCancellation.of,
    LowStockDetected: AlertLowStock.of,
    OrderPlaced: RememberBuyer.of,
    OrderConfirmed: TellBuyerConfirmed.of,
    OrderCancelled: TellBuyerCancelled.of,
    ShipmentPickedUp: TellBuyerShipment.of,
    ShipmentDispatchedForDelivery: TellBuyerShipment.of,
    ShipmentDelivered: TellBuyerShipment.of,
}


def consumers(bus: Bus, *, producer: str = "notifications") -> dict[type[Event], Handler]:
    """Per consumed event, the consumer's handler: the event's command to `bus`, in a unit of
    work joined to the consumer's transaction (which holds the inbox claim)."""

    def join(conn: asyncpg.Connection) -> NotificationsUnitOfWork:
        return PostgresNotificationsUnitOfWork(conn, producer=producer, joined=True)

    return {event: consumer_handler(bus, join, make) for event, make in COMMANDS.items()}


def subscriptions(bus: Bus, *, producer: str = "notifications") -> list[Subscription]:
    on = consumers(bus, producer=producer)

    def of(*events: type[Event]) -> dict[type[Event], Handler]:
        return {event: on[event] for event in events}

    return [
        Subscription(PICKUPS, of(PickupScheduled, PickupRescheduled, PickupCancelled)),
        Subscription(STOCK, of(LowStockDetected)),
        Subscription(ORDERS, of(OrderPlaced, OrderConfirmed, OrderCancelled)),
        Subscription(
            SHIPMENTS, of(ShipmentPickedUp, ShipmentDispatchedForDelivery, ShipmentDelivered)
        ),
    ]
