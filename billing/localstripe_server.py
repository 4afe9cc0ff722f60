"""Run localstripe (a Stripe-compatible fake) on a loopback address, for the local demo and the tests.

`python -m billing.localstripe_server --port 8420` binds 127.0.0.1 only: localstripe's own
launcher listens on every interface, and it pickles its store to a fixed /tmp file that parallel
instances would share. Here the store lives in memory, or in the file given with --state.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import pickle
from pathlib import Path


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", default="", help="file that keeps the fake Stripe's data across restarts")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("localstripe holds fake card data: it listens on a loopback address only.")

    from aiohttp import web
    from localstripe import resources, server

    state = Path(args.state) if args.state else None

    def load() -> None:
        if state and state.exists():
            with state.open("rb") as handle:
                resources.store.update(pickle.load(handle))  # noqa: S301 - our own file, written below

    def dump(self) -> None:
        if state:
            tmp = state.with_suffix(".tmp")
            with tmp.open("wb") as handle:
                pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(state)

    resources.Store.dump_to_disk = dump
    load()
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
