"""Producers and their products: what the catalog knows before any order arrives."""

from __future__ import annotations

from typing import Literal, Self

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.contracts.identifiers import Identifier

ProducerKind = Literal["cooperative", "household", "enterprise"]
Programme = Literal["OCOP", "OVOP", "OTOP"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(BaseModel):
    """Text in Vietnamese and English, which every screen needs, plus any other languages."""

    model_config = ConfigDict(frozen=True, extra="allow")

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def in_language(self, language: str) -> str:
        """The text in `language`, else English (every text has both vi and en)."""
        extra = self.model_extra or {}
        text = getattr(self, language, None) if language in ("vi", "en") else extra.get(language)
        return text if isinstance(text, str) and text else self.en

    @model_validator(mode="after")
    def _extras_are_languages(self) -> Self:
        for code, text in (self.model_extra or {}).items():
            if not (code.isascii() and code.isalpha() and code.islower() and 2 <= len(code) <= 3):
                raise ValueError(f"{code!r} is not an ISO 639 language code")
            if not isinstance(text, str) or not text:
                raise ValueError(f"text in {code!r} must be a non-empty string")
        return self


class ProductStory(_Frozen):
    origin: str = Field(min_length=1)
    materials: tuple[str, ...] = Field(min_length=1)
    process: tuple[str, ...] = Field(min_length=1, description="Production steps, in order.")
    photos: tuple[str, ...] = Field(default=(), description="Absolute http(s) URLs.")

    @field_validator("photos")
    @classmethod
    def _photos_are_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return value


class Producer(_Frozen):
    producer_id: Identifier
    name: str = Field(min_length=1)
    kind: ProducerKind
    village: str = Field(min_length=1)
    ward: str | None = Field(default=None, description="Commune, ward or special zone.")
    # Vietnam abolished districts on 1 July 2025, so for Vietnamese producers this is None.
    district: str | None = None
    province: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    pickup_notes: str = ""
    phone: str = Field(description="E.164, e.g. +84912000101.")
    languages: tuple[str, ...] = Field(min_length=1)
    sms_language: str = Field(min_length=2)
    # Unicode SMS holds 70 characters instead of 160: send unaccented Vietnamese unless asked.
    sms_diacritics: bool = False
    programme: Programme | None = Field(default=None, description="None: not (yet) certified.")
    stars: int | None = Field(
        default=None, validate_default=True, description="Highest rating of its products."
    )
    certifications: tuple[str, ...] = Field(
        default=(), description='E.g. "VietGAP", "EU PDO", "GI No. 00018", "JAS organic".'
    )
    story: LocalizedText | None = None

    @field_validator("phone")
    @classmethod
    def _phone_is_e164(cls, value: str) -> str:
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"not an E.164 phone number: {value!r}") from exc
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if e164 != value or not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"not a valid E.164 phone number: {value!r}")
        return value

    @field_validator("stars")
    @classmethod
    def _stars_match_programme(cls, stars: int | None, info: ValidationInfo) -> int | None:
        # OCOP certifies 3 to 5 stars; OTOP ranks 1 to 5; Ōita's OVOP has no star scale.
        if "programme" not in info.data:  # the programme itself is invalid: reported there
            return stars
        programme = info.data["programme"]
        if programme is None:
            if stars is not None:
                raise ValueError("stars need the programme that awarded them")
            return stars
        allowed = {"OCOP": range(3, 6), "OTOP": range(1, 6), "OVOP": range(0)}[programme]
        if stars is None and programme == "OCOP":
            raise ValueError("an OCOP producer needs its star rating (3-5)")
        if stars is not None and stars not in allowed:
            raise ValueError(f"{stars} stars is not a {programme} rating")
        return stars


class Product(_Frozen):
    sku: Identifier
    producer_id: Identifier
    names: LocalizedText
    descriptions: LocalizedText | None = None
    price: int = Field(ge=0, description="Integer minor units of `currency` (VND has none).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217.")
    weight_g: int = Field(gt=0, description="Shipping weight, packaging included.")
    volume_ml: int | None = Field(default=None, gt=0)
    perishable: bool = False
    shelf_life_days: int | None = Field(default=None, gt=0)
    low_stock_threshold: int | None = Field(
        default=None, ge=0, description="Alert the producer at or below this; else the default."
    )
    story: ProductStory | None = None
