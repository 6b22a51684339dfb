"""`python -m emulator`: serve the SageMaker emulator (and moto's S3, SNS, CloudWatch, Cost Explorer)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from emulator.catalogue import DEFAULT_CATALOGUE
from emulator.process import start


def main(argv: list[str] | None = None) -> None:
    """Parse the flags, start the emulator and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=4599, help="port on 127.0.0.1 (default 4599)")
    parser.add_argument("--data-dir", default=None, help="folder that keeps the state across restarts")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each state transition takes")
    parser.add_argument(
        "--catalogue", default=str(DEFAULT_CATALOGUE), help="pricing catalogue (instance types)"
    )
    parser.add_argument("--cold-start", type=float, default=1.0, help="serverless cold start, seconds")
    parser.add_argument(
        "--serverless-idle", type=float, default=300.0, help="idle seconds before a cold start"
    )
    parser.add_argument(
        "--accelerated-delay-factor",
        type=float,
        default=1.0,
        help="GPU/Inferentia endpoints take this many times --delay (they are slower to create on AWS)",
    )
    parser.add_argument("--mme-budget-mb", type=int, default=256, help="multi-model cache budget, MB")
    parser.add_argument(
        "--model-load-budget-ms",
        type=float,
        default=None,
        help="a multi-model cold load or serverless cold start longer than this answers "
        "ModelNotReadyException while it carries on (default: off, calls wait for it)",
    )
    parser.add_argument(
        "--archive-max-unpacked-mb",
        type=int,
        default=1024,
        help="a model.tar.gz unpacking to more fails its endpoint or job (a bomb must not take the memory)",
    )
    parser.add_argument(
        "--archive-max-members",
        type=int,
        default=1000,
        help="a model.tar.gz holding more files fails likewise",
    )
    parser.add_argument(
        "--transform-seconds-per-object",
        type=float,
        default=0.0,
        help="how long a transform job works on each input object (to watch or stop a job half-way)",
    )
    parser.add_argument(
        "--transform-paced-jobs",
        default="*",
        help="shell pattern of the job names that pace applies to (default: every job)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    handle = start(
        port=args.port,
        data_dir=args.data_dir,
        delays=args.delay,
        catalogue=args.catalogue,
        verbose=args.verbose,
        cold_start_seconds=args.cold_start,
        serverless_idle_seconds=args.serverless_idle,
        mme_budget_bytes=args.mme_budget_mb * 1024 * 1024,
        archive_max_unpacked_bytes=args.archive_max_unpacked_mb * 1024 * 1024,
        archive_max_members=args.archive_max_members,
        accelerated_delay_factor=args.accelerated_delay_factor,
        transform_seconds_per_object=args.transform_seconds_per_object,
        transform_paced_jobs=args.transform_paced_jobs,
        model_load_budget_seconds=None
        if args.model_load_budget_ms is None
        else args.model_load_budget_ms / 1000,
    )
    logging.getLogger("emulator").info("SageMaker emulator listening on %s", handle.url)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    done.wait()
    handle.stop()


if __name__ == "__main__":
    main()
