"""The platforms' published signing examples, met both by the implementation the fakes check with
(tests/orders/platform_signing.py) and by the production signers and verifiers. Where a document
prints its inputs but not the key, the test pins the documented base string instead."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.orders.adapters.platforms.lazada.client import lazada_sign
from services.orders.adapters.platforms.registry import Account, verify
from services.orders.adapters.platforms.shopee.client import shopee_sign
from services.orders.adapters.platforms.tiktok_shop.client import tiktok_sign
from tests.orders import platform_signing as doc


def test_lazada_signs_the_documented_get_order_example():
    # https://open.alitrip.com/docs/doc.htm?articleId=108069&docType=1&treeId=499 (Lazada docId
    # 108069, "HTTP request sample"): app secret "helloworld".
    params = {
        "app_key": "123456",
        "access_token": "test",
        "timestamp": "1517820392000",
        "sign_method": "sha256",
        "order_id": "1234",
    }
    expected = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    assert doc.lazada_api_sign("helloworld", "/order/get", params) == expected
    assert lazada_sign("helloworld", "/order/get", params) == expected


def test_tiktok_signs_the_documented_get_authorized_shops_example():
    # https://partner.tiktokshop.com/docv2/page/sign-your-api-request, steps 1 to 6.
    query = {"app_key": "29a39d", "timestamp": "1623812664"}
    expected = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    assert doc.tiktok_api_sign("e59af819cc", "/authorization/202309/shops", query) == expected
    assert tiktok_sign("e59af819cc", "/authorization/202309/shops", query) == expected
    # sign and access_token are never signed.
    with_token = query | {"access_token": "TTP_pwSm2AAAAABmmtFz", "sign": expected}
    assert tiktok_sign("e59af819cc", "/authorization/202309/shops", with_token) == expected


def test_tiktok_signs_a_body_as_the_documented_update_shop_webhook_base_string():
    # The same page prints this call's base string (query, then the exact body) but no digest:
    # step 5 wraps it in the app secret, step 6 takes the HMAC-SHA256.
    body = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    query = {
        "app_key": "68xu9ks5p4i8",
        "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK",
        "timestamp": "1696909648",
    }
    documented = (
        b"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
        b"timestamp1696909648" + body
    )
    assert doc.tiktok_api_base_string("/event/202309/webhooks", query, body) == documented
    secret = b"e59af819cc"
    expected = hmac.new(secret, secret + documented + secret, hashlib.sha256).hexdigest()
    assert doc.tiktok_api_sign("e59af819cc", "/event/202309/webhooks", query, body) == expected
    assert tiktok_sign("e59af819cc", "/event/202309/webhooks", query, body) == expected


def test_tiktok_webhook_verifies_the_documented_example():
    # https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview: app key "abcdef", app
    # secret "123".
    body = (
        b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
        b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
        b'"order_status":"UNPAID","update_time":1718305585}}'
    )
    expected = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    assert doc.tiktok_webhook_authorization("abcdef", "123", body) == expected
    account = Account("tiktok-shop", "tt", ["123"], {"app_key": "abcdef"})
    assert verify(account, body, {"authorization": expected})
    assert not verify(account, body + b" ", {"authorization": expected})


def test_shopee_signs_the_documented_shop_api_base_string():
    # https://open.shopee.com/developer-guide/16 prints the base string of its get_shop_info
    # example but not the partner key it signed with.
    documented = (
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    )
    inputs = ("2001887", "/api/v2/shop/get_shop_info", "1655714431")
    token, shop = "59777174636562737266615546704c6d", "14701711"
    assert doc.shopee_api_base_string(*inputs, token, shop) == documented
    key = "4e7766654b516c73526e794545696a466d46525942784e44566977525050766b"
    expected = hmac.new(key.encode(), documented.encode(), hashlib.sha256).hexdigest()
    assert doc.shopee_api_sign(key, *inputs, token, shop) == expected
    assert shopee_sign(key, inputs[0], inputs[1], int(inputs[2]), token, shop) == expected


def test_tiki_basic_header_matches_the_documented_client_credentials_request():
    # https://open.tiki.vn/docs/docs/current/oauth-2-0/auth-flows/client-credentials/ shows the
    # header of client id 7590139168389961 cut after the secret's first characters.
    header = doc.tiki_basic_authorization("7590139168389961", "tfSl0c6-and-the-rest")
    assert header.startswith("Basic NzU5MDEzOTE2ODM4OTk2MTp0ZlNsMGM2")


@pytest.mark.parametrize(
    ("stored", "signing_key"),
    [
        ("s3cr&amp;t", "s3cr&t"),
        ("q&#039;x&quot;y&lt;z&gt;", "q'x\"y<z>"),
        ("k&copy9&reg;x", "k&copy9&reg;x"),  # not one of the five: WordPress leaves it
        ("a&amp;lt;b", "a&lt;b"),  # one pass only
    ],
)
def test_woocommerce_secrets_are_decoded_as_wordpress_does_before_signing(stored, signing_key):
    # WC_Webhook::generate_signature keys the HMAC with wp_specialchars_decode($secret,
    # ENT_QUOTES), which decodes the entities of &, <, >, " and ' and nothing else.
    assert doc.wp_specialchars_decode(stored) == signing_key
    body = b'{"id":727,"status":"processing"}'
    header = doc.woocommerce_webhook_signature(stored, body)
    assert verify(Account("woocommerce", "w", [stored]), body, {"x-wc-webhook-signature": header})
