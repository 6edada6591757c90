"""CLI: `up` (foreground until SIGINT/SIGTERM), `exec -- CMD...`, `fetch` (warm the jar cache)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .kafka import fetch_jars
from .stack import DevStack


def _stack(args: argparse.Namespace) -> DevStack:
    return DevStack(
        Path(args.root),
        kafka_port=args.kafka_port,
        pg_port=args.pg_port,
        fresh=args.fresh,
        durable=args.durable,
    )


def _start(stack: DevStack) -> dict[str, str]:
    t0 = time.monotonic()
    env = stack.start()
    print(
        f"devstack: {env['DEVSTACK_KAFKA_KIND']} Kafka and PostgreSQL ready in "
        f"{time.monotonic() - t0:.1f}s (data in {stack.root})",
        file=sys.stderr,
        flush=True,
    )
    return env


def cmd_up(args: argparse.Namespace) -> int:
    stack = _stack(args)
    env = _start(stack)
    for key, value in env.items():
        print(f"{key}={value}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: done.set())
    try:
        while not done.wait(1.0):
            if dead := stack.dead():
                print(f"devstack: {', '.join(dead)} exited unexpectedly", file=sys.stderr)
                return 1
        return 0
    finally:
        stack.stop()


def cmd_exec(args: argparse.Namespace) -> int:
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        sys.exit("devstack exec: no command given (usage: exec [--fresh] -- CMD ARGS...)")
    stack = _stack(args)
    try:
        env = _start(stack)
        child = subprocess.Popen(cmd, env={**os.environ, **env})
        # Ctrl-C reaches the child from the terminal; let it finish, then stop the servers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda s, _f: child.send_signal(s))
        rc = child.wait()
    finally:
        stack.stop()
    return rc if rc >= 0 else 128 - rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, root in (("up", ".devstack/run"), ("exec", ".devstack/test")):
        p = sub.add_parser(name)
        p.add_argument("--root", default=root, help=f"data folder (default {root})")
        p.add_argument("--kafka-port", type=int)
        p.add_argument("--pg-port", type=int)
        p.add_argument("--fresh", action="store_true", help="wipe the data folder first")
        p.add_argument(
            "--durable",
            action="store_true",
            help="with --fresh, keep PostgreSQL's fsync and synchronous_commit on",
        )
    sub.choices["exec"].add_argument("cmd", nargs=argparse.REMAINDER)
    sub.add_parser("fetch", help="only download the Kafka jars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "fetch":
            print(fetch_jars())
            return 0
        return cmd_up(args) if args.command == "up" else cmd_exec(args)
    except RuntimeError as e:
        print(f"devstack: FAILED: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # servers were already stopped on the way out
        return 130


if __name__ == "__main__":
    sys.exit(main())
