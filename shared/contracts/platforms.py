"""The sales platforms, each under the one name that events, databases, CLIs, CSV files and
webhook URLs use (`channel` in events, `platform` in the orders service's tables)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BeforeValidator

Platform = Literal["shopify", "woocommerce", "shopee", "lazada", "tiktok-shop", "tiki", "manual"]
PLATFORMS: Final[tuple[Platform, ...]] = get_args(Platform)

# Other names operators type, compared after folding case and separators: "TikTok Shop",
# "tiktok_shop" and "TIKTOK-SHOP" already fold to "tiktok-shop".
PLATFORM_ALIASES: Final[Mapping[str, Platform]] = {
    "tiktok": "tiktok-shop",
    "tiktokshop": "tiktok-shop",
    "tik-tok": "tiktok-shop",
    "tik-tok-shop": "tiktok-shop",
    "woo": "woocommerce",
    "woo-commerce": "woocommerce",
}
_SEPARATORS: Final = re.compile(r"[\s_.-]+")


def platform_named(name: str) -> Platform:
    """The platform an operator means by `name` (its name or an alias, in any case); raises
    ValueError listing the platforms otherwise."""
    key = _SEPARATORS.sub("-", unicodedata.normalize("NFKC", name).strip().casefold())
    for platform in PLATFORMS:
        if key == platform:
            return platform
    if key in PLATFORM_ALIASES:
        return PLATFORM_ALIASES[key]
    raise ValueError(f"unknown platform {name!r}: one of {', '.join(PLATFORMS)}")


def _named(value: Any) -> Any:
    return platform_named(value) if isinstance(value, str) else value


# For what operators type (CLI, CSV, admin API): an alias becomes the platform's name. Events
# and stored rows use `Platform`, which takes the name only.
PlatformInput = Annotated[Platform, BeforeValidator(_named)]
