"""Local Kafka (real Apache Kafka in KRaft mode, from Maven Central jars) and PostgreSQL for
`make run`, `make test` and CI: `DevStack(root).start()` or `python -m shared.devstack --help`.

Environment: KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL (use these, start nothing of that kind),
DEVSTACK_DOCKER=0 (never use Docker), DEVSTACK_CACHE (jar cache folder, default <repo>/.devstack).
Logs: <root>/kafka.log, <root>/kafka.out (JVM stdout/stderr), <root>/postgres.log.
"""

from .kafka import KAFKA_VERSION
from .stack import DevStack

__all__ = ["DevStack", "KAFKA_VERSION"]
