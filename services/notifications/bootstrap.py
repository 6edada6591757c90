"""The notifications service's composition root: settings, providers, handlers, jobs, routes."""

from __future__ import annotations

from importlib import resources

from services.notifications.adapters.email import SmtpSender
from services.notifications.adapters.providers import (
    DevProvider,
    EsmsProvider,
    SmsProvider,
    SpeedSmsProvider,
    TwilioProvider,
)
from services.notifications.dispatcher import Dispatcher
from services.notifications.entrypoints.http import routes_for
from services.notifications.handlers import Handlers
from services.notifications.jobs import digest_job, reminder_job
from services.notifications.notifier import Notifier
from services.notifications.settings import NotificationSettings
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
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.notifications") / "migrations"


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
    h = Handlers(notifier)
    return Service(
        settings=settings or load_settings("notifications"),
        migrations=MIGRATIONS,
        subscriptions=[
            Subscription(
                PICKUPS,
                {
                    PickupScheduled: h.pickup_scheduled,
                    PickupRescheduled: h.pickup_rescheduled,
                    PickupCancelled: h.pickup_cancelled,
                },
            ),
            Subscription(STOCK, {LowStockDetected: h.low_stock}),
            Subscription(
                ORDERS,
                {
                    OrderPlaced: h.order_placed,
                    OrderConfirmed: h.order_confirmed,
                    OrderCancelled: h.order_cancelled,
                },
            ),
            Subscription(
                SHIPMENTS,
                {
                    ShipmentPickedUp: h.shipment,
                    ShipmentDispatchedForDelivery: h.shipment,
                    ShipmentDelivered: h.shipment,
                },
            ),
        ],
        routes=routes_for(n),
        background=[dispatcher.run, digest_job(notifier), reminder_job(notifier)],
    )
