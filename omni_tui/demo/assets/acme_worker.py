"""acme-shop's background worker (part of the omni-tui demo): works through a job queue
and checks the orders API now and then, printing one line per event."""

import itertools
import os
import random
import signal
import sys
import time
import urllib.error
import urllib.request

JOBS = (
    "send order confirmation e-mail",
    "resize product images",
    "sync stock levels from the warehouse",
    "charge card for order",
    "render invoice PDF",
    "expire abandoned carts",
)


def _stop(signum: int, frame: object) -> None:
    print(f"received {signal.Signals(signum).name}: finishing the current job and exiting", flush=True)
    sys.exit(0)


def check_api(url: str) -> str:
    try:
        with urllib.request.urlopen(url + "healthz", timeout=2) as answer:
            return f"api health check: {answer.status} {answer.read().decode().strip()}"
    except (urllib.error.URLError, OSError) as err:
        return f"api health check failed: {err}"


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = os.environ.get("ACME_API_URL", "http://127.0.0.1:8000/")
    rng = random.Random()
    print(f"worker started (pid {os.getpid()}), api at {url}", flush=True)
    for job_id in itertools.count(1001):
        took = rng.uniform(0.05, 0.4)
        time.sleep(took)
        print(f"job #{job_id} {rng.choice(JOBS)}: done in {took * 1000:.0f} ms", flush=True)
        if job_id % 5 == 0:
            print(check_api(url), flush=True)
        time.sleep(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
