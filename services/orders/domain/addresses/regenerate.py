"""Rebuild `vn_units.json.gz` from the National Statistics Office data packaged in
`vietnam-provinces` (see README.md beside this file).

    .venv/bin/python -m services.orders.domain.addresses.regenerate [--version 2026.9.0]

The wheel needs Python 3.12 to install, so pip downloads it and it is unpacked, not installed:
the modules read here are plain tables and import on 3.11. A developer tool: the service never
runs it.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "vn_units.json.gz"
PACKAGE = "vietnam-provinces"


def _unpacked(version: str, into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", "--dest", str(into), f"{PACKAGE}=={version}"],
        check=True,
    )  # fmt: skip
    [wheel] = into.glob("vietnam_provinces-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(into / "src")
    return into / "src"


def _name(text: str) -> str:
    # A few official names start with a lower-case type ("xã ..."): written as the others are.
    return text[:1].upper() + text[1:]


def build(src: Path) -> dict[str, Any]:
    sys.path.insert(0, str(src))
    package = importlib.import_module("vietnam_provinces")
    legacy = importlib.import_module("vietnam_provinces.legacy._lookup")
    conversion = importlib.import_module("vietnam_provinces._ward_conversion_2025")
    nested = json.loads((src / "vietnam_provinces/data/nested-divisions.json").read_text("utf-8"))
    provinces = [[p["code"], _name(p["name"])] for p in nested]
    wards = [[w["code"], _name(w["name"]), p["code"]] for p in nested for w in p["wards"]]
    known = {code for code, _, _ in wards}
    old_wards = []
    for code, ward in sorted(legacy.WARD_MAPPING.items()):
        entry = conversion.OLD_TO_NEW.get(code)
        successors = sorted({n.code for n in entry.new_wards}) if entry else []
        if not set(successors) <= known:
            raise SystemExit(f"old ward {code} maps to a ward missing from the 2025 list")
        old_wards.append([code, _name(ward.name), int(ward.district_code), successors])
    return {
        "source": f"{PACKAGE} {package.__version__}",
        "data_version": package.__data_version__,
        "conversion_table": conversion.SOURCE,
        "schemes": {"current": "vn-nso-2025", "old": "vn-nso-pre-2025"},
        "provinces": provinces,
        "wards": wards,
        "old_provinces": [[c, _name(p.name)] for c, p in sorted(legacy.PROVINCE_MAPPING.items())],
        "old_districts": [
            [c, _name(d.name), int(d.province_code)]
            for c, d in sorted(legacy.DISTRICT_MAPPING.items())
        ],
        "old_wards": old_wards,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="2026.9.0", help=f"the {PACKAGE} release to read")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = build(_unpacked(args.version, Path(tmp)))
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # mtime=0: the same data gives the same bytes, so a regeneration shows in git only when it
    # changed something.
    OUTPUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(
        f"{OUTPUT.name}: {len(data['provinces'])} provinces, {len(data['wards'])} wards; "
        f"before 2025: {len(data['old_provinces'])} provinces, {len(data['old_districts'])} "
        f"districts, {len(data['old_wards'])} wards; {OUTPUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
