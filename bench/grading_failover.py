"""Grading across hosts: throughput with one and two grading hosts, and kill -9 failover.

    .venv/bin/python bench/grading_failover.py [--kills 50] [--burst 40] [--lease 6] [--sweep 2] [--clean]

Run as root (it starts two private Docker engines). A "grading host" here is a dockerd of its own (own
socket, data root, exec root, pidfile; no bridge; the sandbox image copied in with docker save | docker
load) with one Celery worker beside it (-Q grading, one submission at a time), exactly as a separate
machine of the fleet would run; beat and a default-queue worker (the lease sweeper) run once. The path
is the real one: submission service → Redis → a host's worker → its engine's sandbox → PostgreSQL.

1. Throughput: a burst of --burst submissions with host a alone, then with hosts a and b.
2. Failover: submissions keep coming while a worker that holds a lease is killed with kill -9, --kills
   times in a row (it is restarted each time, as a supervisor would). Then, from the database: every
   submission graded exactly once, none lost, and for each kill the time until the sweeper took the
   lease back, against the bound lease + one sweep interval.

Uses its own database (mooc_bench_failover on the PostgreSQL server of DATABASE_URL) and Redis database
12 of REDIS_URL's server; stops every process and engine it started, by PID. The engines' data roots
(/var/tmp/mooc-fleet, with the image) are kept for the next run unless --clean.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fleet
from bench import grading as grading_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--burst", type=int, default=40, help="submissions per throughput burst (0: skip)")
    parser.add_argument("--lease", type=int, default=6, help="GRADING_LEASE_SECONDS")
    parser.add_argument("--sweep", type=float, default=2.0, help="GRADING_SWEEP_SECONDS (beat interval)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clean", action="store_true", help="remove the engines' data roots afterwards")
    parser.add_argument("--json", type=Path, help="also write the failover report here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: it starts two private Docker engines")

    os.environ["ORIGINAL_DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    env = grading_bench.bench_env("mooc_bench_failover")
    if not os.environ.get("BENCH_REDIS_URL"):
        broker = urlsplit(env["CELERY_BROKER_URL"])
        env["CELERY_BROKER_URL"] = env["REDIS_URL"] = urlunsplit(broker._replace(path="/12"))
    os.environ.update(env)
    grading_bench.reset_database()
    assignment, learner = grading_bench.setup_assignment()  # django.setup() + publish (self-check)
    from grading import runner, services

    image = runner.image_tag()
    data = json.dumps(grading_bench.notebook(grading_bench.CELLS)).encode()

    def submit() -> int:
        return services.submission_create(assignment=assignment, learner=learner, data=data).pk

    log_dir = Path(tempfile.mkdtemp(prefix="grading-failover-"))
    worker_env = fleet.fleet_env(dict(os.environ), lease_s=args.lease, renew_s=args.lease / 3, sweep_s=args.sweep)
    engines = [fleet.PrivateEngine("a"), fleet.PrivateEngine("b")]
    loads = {}
    try:
        for engine in engines:
            engine.start()
            loads[engine.name] = engine.load_image(image)
        fleet.purge_broker(os.environ["CELERY_BROKER_URL"])
        rates = {}
        if args.burst:
            for hosts in (engines[:1], engines):
                load_before = fleet.load_average()
                rate, elapsed = fleet.throughput(
                    engines=hosts, env=worker_env, log_dir=log_dir, submit=submit, n=args.burst
                )
                rates[len(hosts)] = (rate, elapsed, load_before, fleet.load_average())
        load_before = fleet.load_average()
        report = fleet.run_failover(
            engines=engines, env=worker_env, log_dir=log_dir, submit=submit, kills=args.kills,
            min_submissions=args.kills + 10, lease_s=args.lease, sweep_s=args.sweep, seed=args.seed,
            timeout_s=3600, progress=lambda line: print(line, flush=True),
        )  # fmt: skip
        load_after = fleet.load_average()
    finally:
        for engine in engines:
            engine.stop()
            if args.clean:
                engine.remove_data()
        fleet.purge_broker(os.environ["CELERY_BROKER_URL"])

    print(f"\ngrading across hosts · image {image} · 5-cell numpy notebook, 4 tests · {os.cpu_count()} CPUs")
    print("  image copied into the private engines (docker save | docker load): "
          + ", ".join(f"{name} {secs:.0f} s" for name, secs in loads.items()))  # fmt: skip
    for hosts, (rate, elapsed, before, after) in rates.items():
        print(
            f"  throughput  {args.burst} submissions, {hosts} grading host{'s' if hosts > 1 else ''} "
            f"(one worker each): {rate:6.1f} notebooks/min ({elapsed:5.1f} s; load {before} → {after})"
        )
    print(f"  failover  lease {args.lease} s, renewed every {args.lease / 3:.0f} s, sweep every {args.sweep:g} s "
          f"(load {load_before} → {load_after})")  # fmt: skip
    print(report.summary())
    print(f"  verdict: {'every submission graded exactly once, none lost' if report.ok else 'FAILED'}")
    print(f"  worker logs: {log_dir}")
    if args.json:
        args.json.write_text(fleet.as_json(report))
    if not report.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
