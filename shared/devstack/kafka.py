"""A real single-node KRaft Apache Kafka broker, assembled from Maven Central jars."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ._proc import Server, ensure_port_free, free_port, log_tail, run_coro

# 4.1.1 is verified with aiokafka 0.14 (admin, idempotent acks=all producer, group commit and
# resume across a broker restart) and FastStream 0.7; see tests/devstack.
KAFKA_VERSION = "4.1.1"
KIND = f"apache-kafka-{KAFKA_VERSION}"
_PKG = Path(__file__).resolve().parent
# pinned: Maven 3.8.7 would otherwise bind the old 2.8 plugin
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_JVM_OPTS = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]


def cache_dir() -> Path:
    """Where jars are kept: $DEVSTACK_CACHE, else <repo>/.devstack, else ~/.cache."""
    if env := os.environ.get("DEVSTACK_CACHE"):
        return Path(env)
    repo = _PKG.parents[1]
    if os.access(repo, os.W_OK):
        return repo / ".devstack"
    return Path.home() / ".cache" / "ovop-devstack"


def libs_dir() -> Path:
    return cache_dir() / "kafka-libs" / KAFKA_VERSION


def fetch_jars() -> Path:
    """Copy kafka_2.13 and its runtime deps into libs_dir() once (marker file = done)."""
    libs = libs_dir()
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise RuntimeError("devstack: Maven (mvn) is needed to fetch the Apache Kafka jars")
    _java()
    libs.parent.mkdir(parents=True, exist_ok=True)
    with open(libs.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test runs fetch only once
        if marker.exists():
            return libs
        tmp = Path(tempfile.mkdtemp(prefix=f".{KAFKA_VERSION}-", dir=libs.parent))
        goal = f"{_DEPENDENCY_PLUGIN}:copy-dependencies"
        props = [f"-DoutputDirectory={tmp}", f"-Dkafka.version={KAFKA_VERSION}"]
        cmd = [mvn, "-B", "-q", "-f", str(_PKG / "pom.xml"), goal, "-DincludeScope=runtime", *props]
        try:  # a stalled download must not hang CI
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"devstack: Maven fetch of Kafka jars timed out: {e}") from None
        if res.returncode != 0 or not any(tmp.glob("kafka_2.13-*.jar")):
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"devstack: fetching Kafka jars failed:\n{res.stdout}{res.stderr}")
        shutil.rmtree(libs, ignore_errors=True)
        tmp.rename(libs)
        marker.touch()
    return libs


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        raise RuntimeError(f"devstack: no java (JAVA_HOME={home!r}); Kafka needs Java 17+")
    return java


class LocalKafka:
    """Combined broker+controller; data and cluster id live in <root>/kafka across restarts."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.data = root / "kafka"
        self.server = Server("kafka", root / "kafka.out")
        self.log = root / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        ensure_port_free(self.port, "Kafka")
        libs = fetch_jars()
        controller = free_port()
        self.data.mkdir(parents=True, exist_ok=True)
        props = self.root / "server.properties"
        props.write_text(_server_properties(self.port, controller, self.data / "logs"))
        cp = f"{libs}/*"
        logging = [
            f"-Dkafka.logs.dir={self.root}",
            f"-Dlog4j2.configurationFile={_PKG / 'log4j2.properties'}",
        ]
        if not (self.data / "logs" / "meta.properties").exists():
            self._format(cp, logging, props)
        self.log.write_text("")  # log4j appends (see log4j2.properties): start each run clean
        cmd = [_java(), *_JVM_OPTS, *logging, "-cp", cp, "kafka.Kafka", str(props)]
        self.server.spawn(cmd, deathsig="TERM", cwd=self.root)

    def _format(self, cp: str, logging: list[str], props: Path) -> None:
        id_file = self.data / "cluster.id"  # persisted so a re-format stays consistent
        if not id_file.exists():
            id_file.write_text(_cluster_id())
        cluster_id = id_file.read_text().strip()
        tool = [_java(), *logging, "-cp", cp, "kafka.tools.StorageTool"]
        args = ["format", "-t", cluster_id, "-c", str(props), "--ignore-formatted"]
        res = subprocess.run([*tool, *args], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"devstack: Kafka storage format failed:\n{res.stdout}{res.stderr}")

    def wait_ready(self, timeout: float = 90.0) -> None:
        try:
            wait_kafka(self.bootstrap, timeout, self.server.alive)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n{log_tail(self.log, self.server.log)}") from None

    def stop(self) -> None:
        self.server.stop()  # SIGTERM = controlled shutdown; the group is SIGKILLed after 20s


def _server_properties(port: int, controller: int, logs: Path) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={logs}
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
"""


def wait_kafka(bootstrap: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Ready = an admin list_topics() answers (a bare open port is not enough)."""
    run_coro(_wait_kafka(bootstrap, timeout, alive))


async def _wait_kafka(bootstrap: str, timeout: float, alive: Callable[[], bool]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("devstack: Kafka exited during startup")
        try:  # cheap probe first: aiokafka logs an ERROR for every refused connection
            _, w = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1)
            w.close()
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            await admin.start()
            try:
                await admin.list_topics()
                return
            finally:
                await admin.close()
        except Exception as e:  # not up yet
            last = e
        await asyncio.sleep(0.25)
    raise RuntimeError(f"devstack: Kafka at {bootstrap} not ready after {timeout:.0f}s ({last!r})")


def _cluster_id() -> str:
    """A Kafka cluster id. Like Kafka's own Uuid.randomUuid, never one starting with "-", which
    the storage tool would read as an option (1 id in 64 otherwise)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid
