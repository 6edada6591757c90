"""Each platform's signing as its own documentation describes it, for the fakes to check our
clients' calls and for the tests to sign pushes with. Written from the documents cited beside each
function, apart from the production signers (services/orders/adapters/platforms and the domain's
signatures module, which this file must never import): a wrong production signer then fails the
fakes' checks instead of agreeing with itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping


def _hmac_sha256(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


# Shopee Open Platform v2, "API calls" (Signature calculation):
# https://open.shopee.com/developer-guide/16 — a shop API's base string is partner_id, api path,
# timestamp, access_token and shop_id concatenated in that order; the sign is the HMAC-SHA256 of it
# under the partner key, hex encoded (all lower case: developer-guide/20).
def shopee_api_base_string(
    partner_id: str, api_path: str, timestamp: str, access_token: str, shop_id: str
) -> str:
    return f"{partner_id}{api_path}{timestamp}{access_token}{shop_id}"


def shopee_api_sign(
    partner_key: str,
    partner_id: str,
    api_path: str,
    timestamp: str,
    access_token: str,
    shop_id: str,
) -> str:
    base = shopee_api_base_string(partner_id, api_path, timestamp, access_token, shop_id)
    return _hmac_sha256(partner_key, base.encode("utf-8")).hex()


# Shopee "Push Mechanism" (Push Authorization): https://open.shopee.com/developer-guide/18 — the
# base string is the callback URL, "|", and the raw body; the `Authorization` header is its
# HMAC-SHA256 under the partner key, hex encoded.
def shopee_push_authorization(partner_key: str, callback_url: str, body: bytes) -> str:
    return _hmac_sha256(partner_key, callback_url.encode("utf-8") + b"|" + body).hex()


# Lazada Open Platform, "Signature algorithm" and "HTTP request sample" (docIds 108068, 108069,
# read at https://open.alitrip.com/docs/doc.htm?articleId=108068&docType=1&treeId=499): sort every
# parameter but `sign` by name in ASCII order, concatenate name and value (the Java sample skips
# empty ones), put the API name in front and a raw body (if any) at the end, HMAC-SHA256 under the
# app secret, upper-case hex.
def lazada_api_sign(
    app_secret: str, api_path: str, params: Mapping[str, str], body: bytes | None = None
) -> str:
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k])
    message = (api_path + pairs).encode("utf-8") + (body or b"")
    return _hmac_sha256(app_secret, message).hex().upper()


# Lazada Push Mechanism (docId 120168,
# https://open.alitrip.com/docs/doc.htm?articleId=120168&docType=1&treeId=499): `Authorization` is
# HEX_ENCODE(HMAC-SHA256(app_key + the message body received, app secret)); the samples are lower
# case.
def lazada_push_authorization(app_key: str, app_secret: str, body: bytes) -> str:
    return _hmac_sha256(app_secret, app_key.encode("utf-8") + body).hex()


# TikTok Shop Partner API, "Sign your API request":
# https://partner.tiktokshop.com/docv2/page/sign-your-api-request — the query parameters but
# `sign` and `access_token`, keys in alphabetical order, as {key}{value}; the request path in front;
# the exact body bytes after unless the content type is multipart/form-data; the app secret
# wrapped around all of it; HMAC-SHA256 under the app secret, lower-case hex.
def tiktok_api_base_string(
    path: str, query: Mapping[str, str], body: bytes = b"", content_type: str = ""
) -> bytes:
    keys = sorted(k for k in query if k not in ("sign", "access_token"))
    base = (path + "".join(f"{k}{query[k]}" for k in keys)).encode("utf-8")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        base += body
    return base


def tiktok_api_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes = b"",
    content_type: str = "application/json",
) -> str:
    wrapped = (
        app_secret.encode("utf-8")
        + tiktok_api_base_string(path, query, body, content_type)
        + app_secret.encode("utf-8")
    )
    return _hmac_sha256(app_secret, wrapped).hex()


# TikTok Shop webhooks overview: https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview
# — `Authorization` (no scheme) is the HMAC-SHA256 of {app key}{webhook payload} under the app
# secret, hex.
def tiktok_webhook_authorization(app_key: str, app_secret: str, body: bytes) -> str:
    return _hmac_sha256(app_secret, app_key.encode("utf-8") + body).hex()


# Tiki Open API, OAuth 2.0 client credentials:
# https://open.tiki.vn/docs/docs/current/oauth-2-0/auth-flows/client-credentials/ — POST
# /sc/oauth2/token with grant_type=client_credentials, the client id and secret in a basic header.
def tiki_basic_authorization(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


# Shopify, "Verify webhooks": https://shopify.dev/docs/apps/build/webhooks/subscribe/https —
# `X-Shopify-Hmac-SHA256` is the base64 HMAC-SHA256 of the raw body under the app's client secret.
def shopify_webhook_hmac(client_secret: str, body: bytes) -> str:
    return base64.b64encode(_hmac_sha256(client_secret, body)).decode("ascii")


# WooCommerce webhooks: https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks —
# `X-WC-Webhook-Signature` is a base64 HMAC-SHA256 of the payload. WC_Webhook::generate_signature
# keys it with wp_specialchars_decode($secret, ENT_QUOTES): only &, <, >, " and ' entities are
# decoded (developer.wordpress.org/reference/functions/wp_specialchars_decode/).
_WP_ENTITIES = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#039;": "'",
    "&#x27;": "'",
    "&#034;": '"',
    "&#x22;": '"',
    "&#060;": "<",
    "&#062;": ">",
    "&#038;": "&",
    "&#x26;": "&",
}
_WP_NUMERIC = [
    (re.compile(r"&#0*39;"), "&#039;"),
    (re.compile(r"&#x0*27;", re.I), "&#x27;"),
    (re.compile(r"&#0*34;"), "&#034;"),
    (re.compile(r"&#x0*22;", re.I), "&#x22;"),
    (re.compile(r"&#0*60;"), "&#060;"),
    (re.compile(r"&#0*62;"), "&#062;"),
    (re.compile(r"&#0*38;"), "&#038;"),
    (re.compile(r"&#x0*26;", re.I), "&#x26;"),
]
_WP_ANY = re.compile("|".join(re.escape(k) for k in _WP_ENTITIES))


def wp_specialchars_decode(text: str) -> str:
    """WordPress's decoding with ENT_QUOTES: numeric forms normalised, then one case-sensitive
    pass (strtr) over the five special characters' entities; nothing else is touched."""
    if "&" not in text:
        return text
    for pattern, canonical in _WP_NUMERIC:
        text = pattern.sub(canonical, text)
    return _WP_ANY.sub(lambda m: _WP_ENTITIES[m.group(0)], text)


def woocommerce_webhook_signature(stored_secret: str, body: bytes) -> str:
    return base64.b64encode(_hmac_sha256(wp_specialchars_decode(stored_secret), body)).decode()
