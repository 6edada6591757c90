"""Producer SMS segments: over the demo producers (read at run time) and a realistic order mix,
the share of new-order alerts that fit one SMS segment, as rendered by the notifications service
(folded to GSM-7 unless the producer asked for diacritics, shortened to a one-segment budget),
against baselines rendered in the same run: the same alerts without shortening (no budget), and
naively (diacritics kept, no budget).

    .venv/bin/python bench/notifications_segments.py [--alerts 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.notifications.domain.messages import ProducerAlertLine, render_new_order_alert
from services.notifications.domain.templates import LATIN_SCRIPT, resolve_language
from services.notifications.domain.timezones import timezone_for_country

DEMO = Path(__file__).resolve().parent.parent / "services" / "catalog" / "demo"
# Order references as each channel shows them: Shopify "#1042", Shopee 14 characters,
# Lazada 15 digits, TikTok Shop 18 digits, Tiki 9 digits, a phone order "P-..." .
REFS = [
    (0.35, lambda r: f"#{r.randint(1001, 99999)}"),
    (0.25, lambda r: f"2411{r.randint(10, 30)}{''.join(r.choices('ABCDEFGHJKMNPQRSTUVWXY0123456789', k=8))}"),  # noqa: E501
    (0.15, lambda r: str(r.randint(10**14, 10**15 - 1))),
    (0.15, lambda r: str(r.randint(10**17, 10**18 - 1))),
    (0.05, lambda r: str(r.randint(10**8, 10**9 - 1))),
    (0.05, lambda r: f"P-{r.randint(100, 9999)}"),
]
LINES = [(1, 0.62), (2, 0.24), (3, 0.09), (4, 0.03), (6, 0.02)]  # lines per producer alert
QUANTITIES = [(1, 0.55), (2, 0.25), (3, 0.1), (5, 0.05), (12, 0.05)]


def pick(r: random.Random, table):
    return r.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def name_in(product: dict, language: str) -> str:
    # What the catalog puts in the event: the producer's language, else English.
    return product["names"].get(language) or product["names"]["en"]


def main(alerts: int, seed: int) -> None:
    producers = json.loads((DEMO / "producers.json").read_text())
    products = json.loads((DEMO / "products.json").read_text())
    by_producer: dict[str, list[dict]] = {}
    for product in products:
        by_producer.setdefault(product["producer_id"], []).append(product)
    sellers = [p for p in producers if by_producer.get(p["producer_id"])]
    r = random.Random(seed)
    ours, long, naive, gsm_ours, gsm_long = Counter(), Counter(), Counter(), Counter(), Counter()
    for _ in range(alerts):
        producer = r.choice(sellers)
        language = producer.get("sms_language", "vi")
        catalogue = by_producer[producer["producer_id"]]
        n = pick(r, LINES)
        lines = [ProducerAlertLine(name_in(r.choice(catalogue), language), pick(r, QUANTITIES))
                 for _ in range(n)]  # fmt: skip
        ref = r.choices([f for _, f in REFS], weights=[w for w, _ in REFS])[0](r)
        wave = datetime(2026, 11, 30, r.choice([1, 6]), 0, tzinfo=UTC)  # 08:00 or 13:00 Hanoi
        common = dict(order_ref=ref, lines=lines, pickup_start=wave,
                      pickup_end=wave + timedelta(hours=r.choice([2, 3, 4])), language=language,
                      tz=timezone_for_country(producer.get("country", "VN")))  # fmt: skip
        diacritics = producer.get("sms_diacritics", False)
        sms = render_new_order_alert(**common, diacritics=diacritics)
        unshortened = render_new_order_alert(**common, diacritics=diacritics, segment_budget=99)
        plain = render_new_order_alert(**common, diacritics=True, segment_budget=99)
        ours[(sms.encoding, sms.segments)] += 1
        long[(unshortened.encoding, unshortened.segments)] += 1
        naive[(plain.encoding, plain.segments)] += 1
        if resolve_language(language) in LATIN_SCRIPT and not diacritics:
            gsm_ours[sms.segments == 1 and sms.encoding == "GSM-7"] += 1
            gsm_long[unshortened.segments == 1 and unshortened.encoding == "GSM-7"] += 1

    def share(counter: Counter, test) -> float:
        return sum(v for k, v in counter.items() if test(k)) / max(1, sum(counter.values()))

    one_gsm = lambda k: k == ("GSM-7", 1)  # noqa: E731
    one_any = lambda k: k[1] == 1  # noqa: E731
    eligible = sum(gsm_ours.values())
    print(
        f"{alerts} new-order alerts over {len(sellers)} demo producers with products (seed "
        f"{seed}); {eligible} to producers wanting GSM-7 (Latin script, no diacritics)"
    )
    print(f"naive (diacritics kept, no budget): one GSM-7 segment {share(naive, one_gsm):6.1%}, "
          f"one segment of any kind {share(naive, one_any):6.1%}")  # fmt: skip
    print("ratios below are against the baseline: the same folding, without shortening")
    for label, value, base in [
        ("GSM-7-eligible alerts in one GSM-7 segment", gsm_ours[True] / max(1, eligible),
         gsm_long[True] / max(1, eligible)),
        ("all alerts in one GSM-7 segment", share(ours, one_gsm), share(long, one_gsm)),
        ("all alerts in one segment (any encoding)", share(ours, one_any), share(long, one_any)),
    ]:  # fmt: skip
        ratio = f"x{value / base:.2f}" if base else "x-"
        print(f"{label:<45} {value:6.1%}  (baseline {base:6.1%}, {ratio})")
    print("encoding, segments -> alerts:", dict(sorted(ours.items())))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    main(args.alerts, args.seed)
