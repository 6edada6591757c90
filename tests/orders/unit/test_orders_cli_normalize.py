"""`ovop orders normalize`: a platform payload (and its fetched detail) in, the canonical JSON
out, with no database and no network."""

from __future__ import annotations

import json

from click.testing import CliRunner

from services.orders.entrypoints.cli import orders
from tests.orders import samples

CONTRACT = {
    "order_id",
    "channel",
    "account",
    "external_id",
    "status",
    "channel_status",
    "placed_at",
    "updated_at",
    "currency",
    "lines",
    "subtotal",
    "shipping_fee",
    "discount_total",
    "total",
    "payment",
    "buyer",
    "shipping_address",
}


def run(tmp_path, platform: str, payload: dict, *extra: str, detail: dict | None = None):
    (tmp_path / "push.json").write_text(json.dumps(payload))
    args = ["normalize", platform, str(tmp_path / "push.json"), *extra]
    if detail is not None:
        (tmp_path / "detail.json").write_text(json.dumps(detail))
        args += ["--detail", str(tmp_path / "detail.json")]
    return CliRunner().invoke(orders, args, env={"DATABASE_URL": "postgresql://nowhere:1/x"})


def test_a_thin_push_with_its_detail_prints_the_canonical_contract(tmp_path):
    result = run(
        tmp_path,
        "lazada",
        samples.lazada_push(),
        "--header",
        "Authorization: x",
        detail=samples.lazada_detail(units=2),
    )
    assert result.exit_code == 0, result.output
    order = json.loads(result.output)
    assert CONTRACT <= set(order)
    assert order["lines"][0]["quantity"] == 2
    assert set(order["lines"][0]) >= {
        "sku",
        "channel_sku",
        "name",
        "quantity",
        "unit_price",
        "discount",
    }
    assert set(order["payment"]) >= {"method", "cod", "cod_amount", "paid"}
    assert set(order["shipping_address"]) >= {
        "recipient",
        "phone",
        "line1",
        "line2",
        "ward",
        "district",
        "province",
        "country",
        "postal_code",
    }
    assert order["placed_at"].endswith("Z") and isinstance(order["total"], int)
    assert order["external_id"] == "260422900198362"


def test_unknown_fields_are_ignored_and_a_missing_detail_is_a_clear_error(tmp_path):
    woo = samples.woo_order() | {"a_plugin_field": {"deep": [1, 2]}}
    assert run(tmp_path, "woocommerce", woo).exit_code == 0
    missing = run(tmp_path, "tiktok-shop", samples.tiktok_push())
    assert missing.exit_code != 0 and "--detail" in missing.output
    garbage = run(tmp_path, "woocommerce", {"id": "x"})
    assert garbage.exit_code != 0 and "cannot normalize" in garbage.output
