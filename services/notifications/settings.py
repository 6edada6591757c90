"""The notifications service's own settings, from `NOTIFICATIONS_*` environment variables.
Secrets (provider keys, the callback token, SMTP password) come from the environment only."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    sms_providers: str = "dev"  # the fallback chain, in order: dev, twilio, esms, speedsms
    public_url: str = "http://127.0.0.1:8004"  # how providers reach our callbacks
    callback_token: SecretStr | None = None  # in the eSMS/SpeedSMS callback and inbound URLs
    digest_window_s: float = 0.0  # 0: every new order alerts at once
    reminder_lead_s: float = 3600.0  # a pickup reminder this long before the window opens
    jobs_interval_s: float = 1.0  # digest flush and reminder polling
    dispatch_poll_s: float = 1.0  # the sender also wakes on NOTIFY
    dispatch_concurrency: int = 8
    send_lease_s: float = 60.0  # a SENDING row older than this is an interrupted send
    send_attempts: int = 3  # tries per provider and round, with backoff and jitter
    send_rounds: int = 5  # rounds through the chain before a message fails
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    round_delay_s: float = 30.0  # between rounds, doubled each time
    http_timeout_s: float = 10.0
    producer_sms_budget: int = 1
    buyer_sms_budget: int = 2
    delivered_promo: str | None = None  # a promotional line: makes "delivered" advertising
    ad_sender: str = "OVOP"

    twilio_base_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    esms_base_url: str = "https://rest.esms.vn"
    esms_api_key: SecretStr | None = None
    esms_secret_key: SecretStr | None = None
    esms_brandname: str = "OVOP"
    esms_sandbox: bool = False
    speedsms_base_url: str = "https://api.speedsms.vn"
    speedsms_token: SecretStr | None = None
    speedsms_sender: str = "OVOP"

    smtp_host: str | None = None  # no host: buyers without a phone get nothing by email
    smtp_port: int = 25
    smtp_from: str = "OVOP <no-reply@ovop.invalid>"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    def chain(self) -> list[str]:
        return [name.strip() for name in self.sms_providers.split(",") if name.strip()]

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"NOTIFICATIONS_{name.upper()} is required by the providers chosen")
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)
