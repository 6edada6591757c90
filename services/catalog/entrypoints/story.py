"""The public story page of a product (`/p/{sku}`) and its QR code (`/p/{sku}/qr.svg`).

The page speaks the buyer's language (`?lang=`, else Accept-Language, else Vietnamese), carries
schema.org Product JSON-LD for search engines, and links the village on OpenStreetMap (a link
only: the page loads nothing from elsewhere). The QR code encodes the page's public URL, from
CATALOG_PUBLIC_BASE_URL, for parcel labels and packaging. The SKU is one percent-encoded path
segment, whatever characters it holds (entrypoints/paths.py).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from importlib import resources
from typing import Any

import segno
from jinja2 import Environment, FunctionLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from services.catalog.adapters import postgres as db
from services.catalog.domain import Producer, Product
from services.catalog.domain.intake import MINOR_UNITS
from services.catalog.entrypoints.deps import CatalogHttp
from services.catalog.entrypoints.paths import path_ids, path_segment
from shared.contracts.identifiers import identifier
from shared.http import route

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "price": "Giá", "weight": "Khối lượng", "shelf_life": "Hạn dùng", "days": "ngày",
        "availability": "Tình trạng", "in_stock": "Còn hàng", "sold_out": "Hết hàng",
        "origin": "Nguồn gốc", "materials": "Nguyên liệu", "process": "Quy trình làm ra",
        "producer": "Người làm ra sản phẩm", "certifications": "Chứng nhận",
        "map": "Xem trên bản đồ", "stars_label": "{n} sao", "not_found": "Không tìm thấy sản phẩm",
    },
    "en": {
        "price": "Price", "weight": "Weight", "shelf_life": "Shelf life", "days": "days",
        "availability": "Availability", "in_stock": "In stock", "sold_out": "Sold out",
        "origin": "Origin", "materials": "Materials", "process": "How it is made",
        "producer": "Who makes it", "certifications": "Certifications",
        "map": "See on the map", "stars_label": "{n} stars", "not_found": "Product not found",
    },
}  # fmt: skip

_TEMPLATES = resources.files("services.catalog.entrypoints.templates")
_ENV = Environment(
    loader=FunctionLoader(lambda name: _TEMPLATES.joinpath(name).read_text(encoding="utf-8")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def negotiate_language(query: str | None, accept_language: str | None) -> str:
    """`?lang=` when we speak it, else the best Accept-Language we speak, else Vietnamese."""
    if query and query.lower() in LANGUAGES:
        return query.lower()
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def format_price(amount: int, currency: str, lang: str) -> str:
    exponent = MINOR_UNITS.get(currency, 2)
    major = Decimal(amount).scaleb(-exponent)
    text = f"{major:,.{exponent}f}"
    if lang == "vi":  # 450.000 and 12,50: Vietnamese swaps the separators
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text} {currency}"


def page_url(base_url: str, sku: str) -> str:
    return f"{base_url.rstrip('/')}/p/{path_segment(sku)}"


def map_url(lat: float, lon: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=14/{lat:.5f}/{lon:.5f}"
    )


def json_ld(product: Product, producer: Producer, lang: str, url: str, available: int) -> str:
    exponent = MINOR_UNITS.get(product.currency, 2)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.names.in_language(lang),
        "sku": product.sku,
        "url": url,
        "brand": {"@type": "Brand", "name": producer.name},
        "manufacturer": {
            "@type": "Organization",
            "name": producer.name,
            "address": {
                "@type": "PostalAddress",
                "addressLocality": producer.village,
                "addressRegion": producer.province,
                "addressCountry": producer.country,
            },
            "location": {
                "@type": "Place",
                "geo": {
                    "@type": "GeoCoordinates",
                    "latitude": producer.lat,
                    "longitude": producer.lon,
                },
            },
        },
        "countryOfOrigin": {"@type": "Country", "name": producer.country},
        "weight": {"@type": "QuantitativeValue", "value": product.weight_g, "unitCode": "GRM"},
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": f"{Decimal(product.price).scaleb(-exponent):.{exponent}f}",
            "priceCurrency": product.currency,
            "availability": "https://schema.org/" + ("InStock" if available > 0 else "OutOfStock"),
        },
    }
    if product.descriptions:
        data["description"] = product.descriptions.in_language(lang)
    if product.story and product.story.photos:
        data["image"] = list(product.story.photos)
    if producer.programme and producer.stars:
        data["award"] = f"{producer.programme} {producer.stars}★"
    # "</script>" inside a string must not close the script element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def render_story(
    product: Product, producer: Producer, lang: str, base_url: str, available: int
) -> str:
    url = page_url(base_url, product.sku)
    place = ", ".join(
        part
        for part in (producer.village, producer.ward, producer.district, producer.province)
        if part
    )
    return _ENV.get_template("story.html.j2").render(
        lang=lang,
        languages=LANGUAGES,
        t=TEXTS[lang],
        product=product,
        producer=producer,
        name=product.names.in_language(lang),
        description=product.descriptions.in_language(lang) if product.descriptions else None,
        story=product.story,
        photos=product.story.photos if product.story else (),
        producer_story=producer.story.in_language(lang) if producer.story else None,
        price=format_price(product.price, product.currency, lang),
        in_stock=available > 0,
        place=f"{place} ({producer.country})",
        map_url=map_url(producer.lat, producer.lon),
        page_url=url,
        json_ld=json_ld(product, producer, lang, url, available),
    )


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2)
    return out.getvalue()


async def story(request: Request, deps: CatalogHttp) -> Response:
    match path_ids(request, 1):
        case [segment]:
            return await page(request, deps, _sku(segment))
        case [segment, "qr.svg"]:
            return await qr(deps, _sku(segment))
    return Response("not found", 404, media_type="text/plain")


async def page(request: Request, deps: CatalogHttp, sku: str | None) -> Response:
    lang = negotiate_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    headers = {"Content-Language": lang, "Vary": "Accept-Language"}
    product = producer = level = None
    if sku is not None:
        async with deps.pool.acquire() as conn:
            product = (await db.get_products(conn, [sku])).get(sku)
            producer = (await db.get_producers_for_skus(conn, [sku])).get(sku)
            level = await db.stock_level(conn, sku)
    if product is None or producer is None:
        return HTMLResponse(f"<h1>{TEXTS[lang]['not_found']}</h1>", 404, headers=headers)
    base_url = deps.options.public_base_url
    html = render_story(product, producer, lang, base_url, level.available if level else 0)
    return HTMLResponse(html, headers=headers)


async def qr(deps: CatalogHttp, sku: str | None) -> Response:
    known = False
    if sku is not None:
        async with deps.pool.acquire() as conn:
            known = bool(await db.existing_skus(conn, [sku]))
    if sku is None or not known:
        return Response("unknown SKU", 404, media_type="text/plain")
    return Response(
        qr_svg(page_url(deps.options.public_base_url, sku)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def story_routes(deps: CatalogHttp) -> list[Route]:
    return [route("/p/{sku_and_more:path}", story, deps, methods=["GET"])]


def _sku(segment: str) -> str | None:
    """The SKU as stored, or None when the segment cannot be one (no product has that page)."""
    try:
        return identifier(segment)
    except ValueError:
        return None
