"""The soak's verdict: every order in a status its input explains, the four services agreeing
about it, the money rule and the addresses in force, the stock ledger, the dead letters and the
figures each channel was told. Pure: it reads what state.py gathered."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from tests.soak.places import PROVINCES_IN_FORCE
from tests.soak.sales import SCARCE, Sale
from tests.soak.state import Stored

SCHEDULED_OR_BEYOND = {"PICKUP_SCHEDULED", "SHIPPED", "DELIVERED"}
NEW_ORDER, DIGEST = "producer.new_order", "producer.new_orders_digest"
PICKUP_CANCELLED = "producer.pickup_cancelled"
ONCE_PER_ORDER = {NEW_ORDER, PICKUP_CANCELLED, "buyer.order_confirmed", "buyer.order_cancelled"}


def e164(typed: str) -> str:
    """The number a buyer typed ("0912 345 678", "+66 81 234 5678") in E.164."""
    digits = "".join(c for c in typed if c.isdigit())
    return "+" + digits if typed.startswith("+") else "+84" + digits[1:]


@dataclass(frozen=True)
class Violation:
    check: str
    order_id: str
    what: str
    sale: str = ""  # the input, as Sale.describe() tells it


class Verdict:
    def __init__(self, sales: list[Sale], stored: Stored) -> None:
        self.sales = {s.order_id: s for s in sales}
        self.stored = stored
        self.found: list[Violation] = []
        self.checked: Counter = Counter()  # what the verdict looked at, so a PASS is not vacuous
        self.sms = defaultdict(list)  # (order, message type) -> messages
        for m in stored.sms:
            self.sms[(m["order_id"], m["message_type"])].append(m)

    def flag(self, check: str, order_id: str, what: str) -> None:
        sale = self.sales.get(order_id)
        self.found.append(Violation(check, order_id, what, sale.describe() if sale else ""))

    def run(
        self, channel_stock: dict[tuple[str, str, str], int | None], products: dict[str, Any]
    ) -> list[Violation]:
        for order_id, sale in self.sales.items():
            order = self.stored.orders.get(order_id)
            if sale.refusals:
                self.flag("intake", order_id, "refused: " + " | ".join(sale.refusals))
            if order is None:
                self.flag("intake", order_id, "accepted by its channel but never stored")
                continue
            canonical = order["canonical"]
            self.checked["orders"] += 1
            self.status(sale, order)
            self.buyer_told(sale, order)
            self.agreement(sale, order, canonical)
            self.money(sale, canonical)
            self.address(sale, canonical)
        for order_id in set(self.stored.orders) - set(self.sales):
            self.flag("intake", order_id, "stored, but no sale made it")
        self.no_sms_twice()
        self.ledger()
        self.low_stock(products)
        self.channels_told(channel_stock)
        for entry in self.stored.dead_letters:
            self.flag("dead letters", "-", entry)
        return self.found

    # --- the status, explained by the input ----------------------------------------------------

    def status(self, sale: Sale, order: dict[str, Any]) -> None:
        status, oid = order["status"], sale.order_id
        last = self.stored.history[oid][-1] if self.stored.history[oid] else {}
        story = f"{status} (last: {last.get('reason')!r} from {last.get('source')})"
        if sale.cancel:
            if status != "CANCELLED":
                self.flag("status", oid, f"cancelled on its channel, but {story}")
            return
        if sale.hold is not None:
            reason = order["hold_reason"] or ""
            exact = reason.startswith(sale.hold) if sale.misstated else reason == sale.hold
            if status != "ON_HOLD" or not exact:
                self.flag("status", oid, f"expected ON_HOLD {sale.hold!r}, got {status} {reason!r}")
            return
        if status == "ON_HOLD":
            self.flag("status", oid, f"held without a bad input: {order['hold_reason']!r}")
        elif status == "REJECTED":
            self.rejected(sale, order)
        elif status not in SCHEDULED_OR_BEYOND:
            self.flag("status", oid, f"stuck: {story}")

    def rejected(self, sale: Sale, order: dict[str, Any]) -> None:
        """Only a product that sold out explains a rejection, and its stock must say so."""
        oid = sale.order_id
        reason = order["canonical"].get("facts", {}).get("rejected") or ""
        sold_out = [
            ln
            for ln in sale.lines
            if ln.product.sku in SCARCE
            and f"insufficient_stock: {ln.product.sku}" in reason
            and self.stored.stock[ln.product.sku]["available"] < ln.quantity
        ]
        if not sold_out:
            left = {
                ln.product.sku: self.stored.stock[ln.product.sku]["available"] for ln in sale.lines
            }
            self.flag("status", oid, f"REJECTED {reason!r}, but the catalog has {left}")

    # --- the four services agree ----------------------------------------------------------------

    def agreement(self, sale: Sale, order: dict[str, Any], canonical: dict[str, Any]) -> None:
        oid, status = sale.order_id, order["status"]
        held = Counter()
        for sku, r in self.stored.reservations.get(oid, {}).items():
            if r["status"] == "RESERVED" and r["quantity"] > r["released"]:
                held[sku] = r["quantity"] - r["released"]
        wanted: dict[str, Counter] = defaultdict(Counter)  # producer -> SKU -> units still wanted
        for i, ln in enumerate(sale.lines):
            wanted[ln.product.producer_id][ln.product.sku] += sale.active(i)
        products = {ln.product.producer_id: ln.product for ln in sale.lines}
        units = {u["producer_id"]: u for u in canonical.get("fulfilment_units") or []}
        shipments: dict[str, list[dict]] = defaultdict(list)
        for row in self.stored.shipments.get(oid, []):
            shipments[row["producer_id"]].append(row)
        scheduled = status in SCHEDULED_OR_BEYOND
        if scheduled:
            want = sum(wanted.values(), Counter())
            self.checked["reservations"] += len(want)
            if held != +want:
                self.flag(
                    "catalog", oid, f"{status}, reservations {dict(held)} != lines {dict(+want)}"
                )
        elif held:
            self.flag("catalog", oid, f"{status} but still holds {dict(held)}")
        for producer, product in products.items():
            unit, rows = units.get(producer), shipments.get(producer, [])
            if scheduled and +wanted[producer]:
                self.live_unit(oid, product, +wanted[producer], unit, rows)
            else:
                self.gone_unit(oid, status, producer, unit, rows)
        for producer in set(units) - set(products):
            self.flag("orders", oid, f"a unit for {producer}, who sells nothing in it")

    def live_unit(
        self, oid: str, product, want: Counter, unit: dict | None, rows: list[dict]
    ) -> None:
        """A producer with units still wanted: one shipment, scheduled, carrying just those, the
        order's unit naming it, and the producer told once."""
        producer = product.producer_id
        self.checked["units, shipments and new-order SMS"] += 1
        if len(rows) != 1 or unit is None:
            self.flag(
                "logistics",
                oid,
                f"unit {producer}: {len(rows)} shipment(s), "
                f"unit {'present' if unit else 'missing'} in orders",
            )
            return
        ship = rows[0]
        if unit.get("shipment_id") != ship["shipment_id"]:
            self.flag(
                "logistics",
                oid,
                f"unit {producer} names shipment "
                f"{unit.get('shipment_id')}, logistics has {ship['shipment_id']}",
            )
        if unit.get("status") != "pickup_scheduled" or ship["status"] != "PICKUP_SCHEDULED":
            self.flag(
                "logistics",
                oid,
                f"unit {producer} {unit.get('status')} but shipment "
                f"{ship['status']} {ship['hold_reason'] or ''}",
            )
        carried = Counter({ln["sku"]: ln["quantity"] for ln in ship["lines"]})
        if carried != want:
            self.flag(
                "logistics",
                oid,
                f"shipment of {producer} carries {dict(carried)}, "
                f"the order still wants {dict(want)}",
            )
        listed = Counter({ln["sku"]: ln["quantity"] for ln in unit.get("lines") or []})
        if listed != want:
            self.flag(
                "orders",
                oid,
                f"unit {producer} lists {dict(listed)}, the order still wants {dict(want)}",
            )
        sms = self.sms[(oid, NEW_ORDER)] + self.sms[(oid, DIGEST)]
        to = [m["recipient"] for m in sms if m["producer_id"] == producer]
        if to != [product.producer_phone]:
            self.flag(
                "notifications",
                oid,
                f"unit {producer}: new-order SMS to {to}, want "
                f"exactly one to {product.producer_phone}",
            )

    def gone_unit(
        self, oid: str, status: str, producer: str, unit: dict | None, rows: list[dict]
    ) -> None:
        """A producer with nothing left to send: no live shipment, and told of the pickup's
        cancellation exactly when told of the pickup."""
        live = [r["status"] for r in rows if r["status"] != "CANCELLED"]
        if live:
            self.flag(
                "logistics",
                oid,
                f"{status}, nothing wanted of {producer}, but its shipment is {live}",
            )
        if unit is not None and unit.get("status") not in ("cancelled", "reserved", None):
            if status in SCHEDULED_OR_BEYOND:
                self.flag(
                    "orders",
                    oid,
                    f"unit {producer} is {unit.get('status')}, but nothing is wanted of it",
                )
        told = sum(m["producer_id"] == producer for m in self.sms[(oid, NEW_ORDER)])
        untold = sum(m["producer_id"] == producer for m in self.sms[(oid, PICKUP_CANCELLED)])
        if told != untold or told > 1:
            self.flag(
                "notifications",
                oid,
                f"{status}: {producer} got {told} new-order and {untold} pickup-cancelled SMS",
            )

    def no_sms_twice(self) -> None:
        for (oid, kind), messages in self.sms.items():
            if kind not in ONCE_PER_ORDER:
                continue
            seen = Counter((m["recipient"], m["producer_id"]) for m in messages)
            for (to, producer), n in seen.items():
                if n > 1:
                    self.flag("notifications", oid, f"{kind} to {to} ({producer}) {n} times")

    # --- money and addresses ---------------------------------------------------------------------

    def money(self, sale: Sale, c: dict[str, Any]) -> None:
        oid = sale.order_id
        lines = sum(ln["unit_price"] * ln["quantity"] - ln["discount"] for ln in c["lines"])
        tax = 0 if c.get("taxes_included") else c.get("tax_total", 0)
        computed = (
            c["subtotal"] - c["discount_total"] + c["shipping_fee"] + c.get("fee_total", 0) + tax
        )
        if sale.misstated:
            if c["total"] != sale.stated_total:
                self.flag("money", oid, f"stated total {sale.stated_total} stored as {c['total']}")
            return
        self.checked["totals"] += 1
        if c["subtotal"] != lines or c["total"] != computed:
            self.flag(
                "money",
                oid,
                f"subtotal {c['subtotal']} (lines {lines}), total {c['total']} (parts {computed})",
            )
        if c["total"] != sale.total:
            self.flag("money", oid, f"total {c['total']}, the buyer pays {sale.total}")
        cod = c["payment"]["cod_amount"]
        if cod != sale.total - sale.prepaid:
            self.flag(
                "money", oid, f"COD {cod}, the courier must collect {sale.total - sale.prepaid}"
            )

    def address(self, sale: Sale, c: dict[str, Any]) -> None:
        oid, place = sale.order_id, sale.place
        a = c.get("shipping_address") or {}
        phone = None if sale.masked_phone else e164(sale.buyer.phone)
        if a.get("phone") != phone:
            self.flag(
                "address", oid, f"recipient phone {a.get('phone')!r}, typed {sale.buyer.phone!r}"
            )
        if place.hold is not None:
            return
        self.checked["addresses"] += 1
        got = (a.get("province"), a.get("ward"))
        if got != (place.want_province, place.want_ward):
            self.flag(
                "address",
                oid,
                f"{place.label!r} became {got}, want {(place.want_province, place.want_ward)}",
            )
        if place.country != "VN":
            return
        if a.get("province") not in PROVINCES_IN_FORCE:
            self.flag("address", oid, f"province {a.get('province')!r} is not one in force")
        ward = a.get("ward")
        if ward and (ward in PROVINCES_IN_FORCE or ward == place.city or ward == place.province):
            self.flag("address", oid, f"the city or province {ward!r} stored as the ward")
        if a.get("district") is not None:
            self.flag("address", oid, f"district {a['district']!r} kept after 1 July 2025")

    def buyer_told(self, sale: Sale, order: dict[str, Any]) -> None:
        """A buyer with a phone hears once that the order is confirmed."""
        c = order["canonical"]
        phone = (c.get("buyer") or {}).get("phone") or (c.get("shipping_address") or {}).get(
            "phone"
        )
        if order["status"] not in SCHEDULED_OR_BEYOND or not phone:
            return
        self.checked["buyer confirmations"] += 1
        told = [m["recipient"] for m in self.sms[(sale.order_id, "buyer.order_confirmed")]]
        if told != [phone]:
            self.flag(
                "notifications",
                sale.order_id,
                f"buyer {phone} told of the confirmation {len(told)} times ({told})",
            )

    # --- stock -----------------------------------------------------------------------------------

    def low_stock(self, products: dict[str, Any]) -> None:
        """A scarce SKU that fell to its threshold told its producer once; the others never."""
        alerts = Counter(m["producer_id"] for m in self.stored.sms
                         if m["message_type"] == "producer.low_stock")  # fmt: skip
        for sku, product in products.items():
            threshold = self.stored.thresholds[sku]
            low = self.stored.stock[sku]["available"] <= threshold
            want = 1 if sku in SCARCE and low else 0
            self.checked["low-stock alerts"] += 1
            if alerts[product.producer_id] != want:
                self.flag(
                    "notifications",
                    "-",
                    f"{sku} ends at "
                    f"{self.stored.stock[sku]['available']} (threshold {threshold}): "
                    f"{alerts[product.producer_id]} low-stock SMS, want {want}",
                )

    def ledger(self) -> None:
        held: Counter = Counter()
        for rows in self.stored.reservations.values():
            for sku, r in rows.items():
                if r["status"] == "RESERVED":
                    held[sku] += r["quantity"] - r["released"]
        for (oid, sku), n in self.stored.reserve_rows.items():
            if n > 1:
                self.flag("catalog", oid, f"{sku} reserved {n} times in the ledger")
        for sku, item in self.stored.stock.items():
            self.checked["SKU ledgers"] += 1
            sums = self.stored.ledger.get(sku, {})
            if (item["on_hand"], item["reserved"]) != (sums.get("on_hand"), sums.get("reserved")):
                self.flag("catalog", "-", f"{sku}: stock {item} != ledger sums {sums}")
            if item["reserved"] != held[sku]:
                self.flag(
                    "catalog",
                    "-",
                    f"{sku}: {item['reserved']} reserved, reservations hold {held[sku]}",
                )
            if item["available"] < 0 or held[sku] > item["on_hand"]:
                self.flag("catalog", "-", f"{sku} oversold: {item}")

    def channels_told(self, channel_stock: dict[tuple[str, str, str], int | None]) -> None:
        """Each listing's platform was last told the catalog's figure."""
        for key, told in channel_stock.items():
            channel, account, channel_sku = key
            listing = next(
                (
                    x
                    for x in self.stored.listings
                    if (x["channel"], x["account"], x["channel_sku"]) == key
                ),
                None,
            )
            if listing is None:
                continue
            self.checked["channel listings"] += 1
            available = self.stored.stock[listing["sku"]]["available"]
            if told != available:
                self.flag(
                    "stock sync",
                    "-",
                    f"{channel}/{account} {channel_sku!r} was told "
                    f"{told}, the catalog has {available}",
                )
