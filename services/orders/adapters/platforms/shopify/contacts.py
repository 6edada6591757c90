"""Shopify buyer and address mapping, including how Vietnamese addresses fit Shopify's fields."""

from __future__ import annotations

from services.orders.adapters.platforms.payload import Json, object_field
from services.orders.domain import addresses
from services.orders.domain.contacts import clean, full_name, normalise_phone
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Address, Buyer


def first_country(*addresses: Json) -> str | None:
    """The first country_code among `addresses`: it decides how to read national phone numbers
    and in which order to write names."""
    for address in addresses:
        if country := clean(address.get("country_code")):
            return country.upper()
    return None


def shopify_buyer(payload: Json, billing: Json, country: str | None) -> Buyer:
    """The buyer from the order's customer, falling back to the billing address."""
    customer = object_field(payload, "customer")
    given = clean(customer.get("first_name")) or clean(billing.get("first_name"))
    family = clean(customer.get("last_name")) or clean(billing.get("last_name"))
    phone = (
        clean(payload.get("phone")) or clean(customer.get("phone")) or clean(billing.get("phone"))
    )
    return Buyer(
        name=full_name(given, family, country, fallback=clean(billing.get("name"))),
        given_name=given,
        family_name=family,
        phone=normalise_phone(phone, country),
        email=clean(payload.get("email"))
        or clean(customer.get("email"))
        or clean(payload.get("contact_email")),
    )


def shopify_address(raw: Json) -> Address:
    """A Shopify MailingAddress as our Address; its country_code is required."""
    country = clean(raw.get("country_code"))
    if country is None:
        raise InvalidOrderPayload("shipping_address.country_code is missing")
    country = country.upper()
    given, family = clean(raw.get("first_name")), clean(raw.get("last_name"))
    # Shopify has no Vietnamese zones: `province` is often empty and `city` holds the province
    # ("Hà Nội"), the ward, or on old addresses "ward, district". The resolver reads it there;
    # `city` stays as it came, and a province in it never becomes a ward.
    address = Address(
        recipient=full_name(given, family, country, fallback=clean(raw.get("name"))),
        recipient_given_name=given,
        recipient_family_name=family,
        phone=normalise_phone(clean(raw.get("phone")), country),
        line1=clean(raw.get("address1")),
        line2=clean(raw.get("address2")),
        city=clean(raw.get("city")),
        province=clean(raw.get("province")) or clean(raw.get("province_code")),
        country=country,
        postal_code=clean(raw.get("zip")),
    )
    return addresses.resolved(address)
