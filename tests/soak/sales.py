"""The soak's sales: who sells what on which channel, under which of the channel's own SKUs,
what the buyer pays, and what happens to the order on the way (a redelivery, an update before
the create, a cancellation). Generated from one seeded RNG, so a seed replays a run."""

from __future__ import annotations

import json
import random
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Final

from services.orders.domain.model import order_id_for
from tests.soak.places import PLACES, Place

CHANNELS: Final = {  # platform -> (account as its operator named it, share of the traffic)
    "shopify": ("mat-ong-meo-vac.myshopify.com", 24),
    "woocommerce": ("chợ-quê.vn", 14),
    "shopee": ("Cửa hàng Mèo Vạc/1", 16),
    "lazada": ("tra-thainguyen", 12),
    "tiktok-shop": ("caphe-daklak", 13),
    "tiki": ("mexung-hue", 11),
    "manual": ("điện thoại", 10),
}
# Channels whose order states the total the buyer pays (the others' is made of its parts).
STATED_TOTAL: Final = frozenset({"shopify", "woocommerce", "tiktok-shop", "tiki", "manual"})
THIN: Final = frozenset({"shopee", "lazada", "tiktok-shop", "tiki"})
# Channels whose orders can lose some units and keep the rest (Tiki: whole items only).
PARTIAL: Final = frozenset({"shopify", "lazada", "tiktok-shop", "tiki", "manual"})

# Demo products from several producers, light enough for any vehicle, and each one's name as
# sellers type it; the channel SKUs are made from these, never the catalogue's own SKU.
PRODUCTS: Final = {
    "HG-HONEY-500": ("mật ong bạc hà 500g", "hg.honey_500"),
    "HG-SHANRED-100": ("chè shan tuyết đỏ 100g", "hg.shanred_100"),
    "PQ-FISHSAUCE-500": ("nước mắm phú quốc 500ml", "pq.fishsauce_500"),
    "TN-GREENTEA-200": ("trà tân cương 200g", "tn.greentea_200"),
    "BT-COCOCANDY-400": ("kẹo dừa bến tre 400g", "bt.cococandy_400"),
    "DL-COFFEE-500": ("cà phê robusta 500g", "dl.coffee_500"),
    "HU-MEXUNG-400": ("mè xửng huế 400g", "hu.mexung_400"),
    "VP-SILKSCARF-1": ("khăn lụa vạn phúc", "vp.silkscarf_1"),
    "LD-ARTICHOKE-100": ("trà atiso đà lạt 100g", "ld.artichoke_100"),
    "GL-PEPPER-200": ("hạt tiêu gia lai 200g", "gl.pepper_200"),
    "SL-OOLONG-200": ("trà ô long mộc châu 200g", "sl.oolong_200"),
    "HD-MUNGCAKE-250": ("bánh đậu xanh 250g", "hd.mungcake_250"),
    "YB-CINNAMON-250": ("quế yên bái 250g", "yb.cinnamon_250"),
}
# Left at their demo stock, so that they sell out during the run; every other SKU is topped up.
SCARCE: Final = frozenset({"HG-HONEY-500", "VP-SILKSCARF-1"})

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ")
_GIVEN = (
    ("Văn", "An"), ("Thị", "Hoa"), ("Minh", "Tuấn"), ("Thu", "Hà"), ("Quốc", "Bảo"),
    ("Ngọc", "Lan"), ("Đức", "Thắng"), ("Thị", "Hằng"), ("Hữu", "Phước"), ("Thanh", "Hương"),
)  # fmt: skip
_STREETS = ("phố Hàng Bạc", "đường Lê Lợi", "ngõ 12 đường Trần Phú", "đường Nguyễn Huệ", "thôn 3")
_MOBILE = ("090", "091", "093", "094", "096", "097", "098", "086", "032", "070", "085")


@dataclass(frozen=True)
class Product:
    sku: str
    producer_id: str
    producer_phone: str
    name: str
    price: int
    slug: str


def channel_sku(channel: str, product: Product) -> str:
    """How the channel's seller named the product: lower case, spaces, dots, Vietnamese."""
    return {
        "shopify": product.name,
        "woocommerce": product.name.replace(" ", "-"),
        "shopee": product.slug,
        "lazada": product.name.title(),
        "tiktok-shop": product.slug.replace(".", " ").replace("_", " "),
        "tiki": product.slug.replace("_", "."),
        "manual": product.sku,  # the operator types our own SKU
    }[channel]


def catalogue() -> dict[str, Product]:
    demo = resources.files("services.catalog.demo")
    products = {p["sku"]: p for p in json.loads((demo / "products.json").read_text())}
    producers = {p["producer_id"]: p for p in json.loads((demo / "producers.json").read_text())}
    out = {}
    for sku, (name, slug) in PRODUCTS.items():
        row = products[sku]
        phone = producers[row["producer_id"]]["phone"]
        out[sku] = Product(sku, row["producer_id"], phone, name, row["price"], slug)
    return out


@dataclass(frozen=True)
class Line:
    product: Product
    channel_sku: str  # as this order spells it (sometimes decomposed, or with a trailing space)
    quantity: int
    unit_discount: int  # a promotion or a voucher the platform spreads over the items

    @property
    def net(self) -> int:
        return (self.product.price - self.unit_discount) * self.quantity


@dataclass(frozen=True)
class Buyer:
    given: str
    family: str
    phone: str  # as the buyer typed it
    email: str
    street: str

    @property
    def name(self) -> str:
        return f"{self.family} {self.given}"


@dataclass
class Sale:
    n: int
    channel: str
    account: str
    external_id: str
    lines: list[Line]
    place: Place
    buyer: Buyer
    placed_at: datetime
    shipping: int = 0  # what the buyer pays for shipping, after its discount
    shipping_discount: int = 0
    order_discount: int = 0  # taken off the whole order, not off any line
    fee: int = 0  # charged to the buyer besides shipping (a COD fee, a small-order fee)
    prepaid: int = 0  # Tiki Xu paid beforehand: the courier collects the rest
    misstated: int = 0  # the stated total is off by this much
    duplicate: bool = False
    update_first: bool = False
    cancel: str | None = None  # "mid": after the create; "first": before it
    partial: tuple[int, int] | None = None  # (line, units) cancelled on the channel mid-flight
    masked_phone: bool = False
    # What happened on the way, filled in by the driver.
    posted_at: float | None = None  # the first push (or queued event) of the order
    accepted: bool = False
    refusals: list[str] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return order_id_for(self.channel, self.account, self.external_id)

    @property
    def subtotal(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def total(self) -> int:
        """What the buyer pays, by the rule every channel states its figures in."""
        return self.subtotal - self.order_discount + self.shipping + self.fee

    @property
    def stated_total(self) -> int:
        return self.total + self.misstated

    @property
    def hold(self) -> str | None:
        """The precise reason this order must be held for, when its input is bad on purpose."""
        if self.misstated:
            return (
                f"amounts_inconsistent: total {self.stated_total} VND stated, "
                f"{self.total} VND computed"
            )
        return self.place.hold

    def active(self, index: int) -> int:
        """The units of line `index` still wanted once the partial cancellation is in."""
        line, (where, units) = self.lines[index], self.partial or (-1, 0)
        return line.quantity - (units if where == index else 0)

    @property
    def scarce(self) -> bool:
        return any(line.product.sku in SCARCE for line in self.lines)

    def describe(self) -> str:
        lines = ", ".join(f"{ln.quantity} x {ln.channel_sku!r}" for ln in self.lines)
        flags = [
            f
            for f, on in (
                ("duplicate", self.duplicate),
                ("update-before-create", self.update_first),
                (f"cancel-{self.cancel}", self.cancel),
                (f"partial cancel {self.partial}", self.partial),
                (f"misstated {self.misstated:+d}", self.misstated),
            )
            if on
        ]
        return (
            f"#{self.n} {self.channel}/{self.account} {self.external_id}: {lines}; "
            f"{self.place.label}; total {self.total}" + (f"; {', '.join(flags)}" if flags else "")
        )


class Generator:
    def __init__(self, seed: int, products: dict[str, Product]) -> None:
        self.rng = random.Random(seed)
        self.products = products
        self.used: dict[str, set[str]] = {c: set() for c in CHANNELS}
        self.woo_next = self.rng.randrange(100, 900)
        self.now = datetime.now(UTC).replace(microsecond=0)

    def sales(self, count: int) -> list[Sale]:
        names = list(CHANNELS)
        weights = [CHANNELS[c][1] for c in names]
        return [self.sale(n, self.rng.choices(names, weights)[0]) for n in range(1, count + 1)]

    def sale(self, n: int, channel: str) -> Sale:
        rng = self.rng
        places = [p for p in PLACES if p.fits(channel)]
        place = rng.choices(places, [p.weight for p in places])[0]
        sale = Sale(
            n=n,
            channel=channel,
            account=CHANNELS[channel][0],
            external_id=self.external_id(channel),
            lines=self.lines(channel),
            place=place,
            buyer=self.buyer(n, place),
            placed_at=self.now - timedelta(seconds=rng.randrange(60, 3600)),
        )
        self.amounts(sale)
        bad = sale.place.hold is not None
        if not bad and channel in STATED_TOTAL and rng.random() < 0.02:
            sale.misstated = rng.choice((1, -1)) * rng.randrange(1, 50) * 1000
        sale.duplicate = rng.random() < 0.05
        sale.update_first = channel != "manual" and rng.random() < 0.04
        if not bad and not sale.misstated and not sale.scarce and rng.random() < 0.06:
            # Never an order of a scarce SKU: its stock must only fall, so that a rejection
            # can be checked against what is left.
            sale.cancel = "first" if rng.random() < 0.2 and channel != "manual" else "mid"
        quiet = not (bad or sale.misstated or sale.scarce or sale.cancel)
        if quiet and channel in PARTIAL and rng.random() < 0.06:
            sale.partial = self.partial(sale)
        sale.masked_phone = channel in ("shopee", "tiktok-shop") and rng.random() < 0.1
        return sale

    def partial(self, sale: Sale) -> tuple[int, int] | None:
        """A whole line of a two-line order, or some units of a line: never the whole order."""
        rng, lines = self.rng, sale.lines
        if len(lines) == 2 and (sale.channel == "tiki" or rng.random() < 0.5):
            index = rng.randrange(2)
            return index, lines[index].quantity
        several = [i for i, ln in enumerate(lines) if ln.quantity > 1]
        if sale.channel == "tiki" or not several:
            return None
        index = rng.choice(several)
        return index, rng.randint(1, lines[index].quantity - 1)

    def external_id(self, channel: str) -> str:
        """An id in the platform's own shape, new in this run."""
        rng = self.rng
        while True:
            if channel == "shopify":
                value = str(rng.randrange(10**12, 10**13))
            elif channel == "shopee":
                alnum = string.ascii_uppercase + string.digits
                value = f"{self.now:%y%m%d}" + "".join(rng.choices(alnum, k=8))
            elif channel == "lazada":
                value = str(rng.randrange(10**14, 10**15))
            elif channel == "tiktok-shop":
                value = str(rng.randrange(10**17, 10**18))
            elif channel == "tiki":
                value = str(rng.randrange(10**8, 10**9))
            elif channel == "woocommerce":
                self.woo_next += rng.randrange(1, 4)
                value = str(self.woo_next)
            else:
                value = f"ĐT-{self.now:%y%m}-{rng.randrange(10**5):05d}"
            if value not in self.used[channel]:
                self.used[channel].add(value)
                return value

    def lines(self, channel: str) -> list[Line]:
        rng = self.rng
        skus = list(self.products)
        weights = [1 if s in SCARCE else 3 for s in skus]
        chosen: list[str] = []
        while len(chosen) < (2 if rng.random() < 0.3 else 1):
            sku = rng.choices(skus, weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        lines = []
        for sku in chosen:
            product = self.products[sku]
            spelled = channel_sku(channel, product)
            if channel in ("shopify", "woocommerce") and rng.random() < 0.1:
                spelled = unicodedata.normalize("NFD", spelled)  # typed on a Mac
            elif channel == "shopify" and rng.random() < 0.05:
                spelled += " "  # sellers type trailing spaces
            discount = 0
            if rng.random() < 0.3:
                discount = min(product.price // 2, rng.randrange(1, 7) * 5000)
            lines.append(Line(product, spelled, rng.randint(1, 3), discount))
        return lines

    def amounts(self, sale: Sale) -> None:
        """Shipping, vouchers and fees in the shapes each platform can state them."""
        rng, channel = self.rng, sale.channel
        sale.shipping = rng.choice((0, 15000, 20000, 25000, 30000, 35000))
        if channel == "shopify" and sale.shipping and rng.random() < 0.2:
            sale.shipping_discount = min(sale.shipping, 15000)
            sale.shipping -= sale.shipping_discount
        if channel in ("woocommerce", "shopee", "lazada", "tiki", "manual") and rng.random() < 0.2:
            sale.order_discount = min(sale.subtotal // 3, rng.randrange(1, 6) * 10000)
        if channel in ("woocommerce", "tiktok-shop", "tiki") and rng.random() < 0.1:
            sale.fee = 5000
        if channel == "tiki" and rng.random() < 0.2:
            sale.prepaid = min(sale.total // 2, rng.randrange(1, 5) * 10000)

    def buyer(self, n: int, place: Place) -> Buyer:
        rng = self.rng
        family = rng.choice(_FAMILY)
        middle, given = rng.choice(_GIVEN)
        digits = f"{rng.choice(_MOBILE)}{rng.randrange(10**7):07d}"
        phone = (
            f"{digits[:4]} {digits[4:7]} {digits[7:]}"
            if place.country == "VN"
            else FOREIGN_PHONES[place.country]
        )
        email = f"khach{n}@example.vn"
        street = f"Số {rng.randrange(1, 300)} {rng.choice(_STREETS)}"
        return Buyer(given, f"{family} {middle}", phone, email, street)


FOREIGN_PHONES: Final = {"TH": "+66 81 234 5678", "JP": "+81 90-1234-5678"}


def mix(sales: list[Sale]) -> str:
    """One line on what the run sends."""
    channels = Counter(s.channel for s in sales)
    held = sum(s.hold is not None for s in sales)
    return (
        ", ".join(f"{c} {k}" for c, k in channels.most_common())
        + f"; {sum(s.duplicate for s in sales)} redelivered, "
        f"{sum(s.update_first for s in sales)} updated before created, "
        f"{sum(bool(s.cancel) for s in sales)} cancelled, "
        f"{sum(bool(s.partial) for s in sales)} partly cancelled, {held} held on purpose"
    )
