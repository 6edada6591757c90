"""The deploy files, parsed once: docker-compose.yml as written (not interpolated) and the
Dockerfile's stages."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.deployfiles import ROOT, Stage, parse_dockerfile


class StrictLoader(yaml.SafeLoader):
    """Rejects duplicate keys, as Compose does; PyYAML would silently keep the last one."""

    def construct_mapping(self, node, deep=False):
        keys = [k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
        if dupes := {k for k in keys if keys.count(k) > 1}:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {dupes}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.load((ROOT / "docker-compose.yml").read_text(), Loader=StrictLoader)


@pytest.fixture(scope="session")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="session")
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())
