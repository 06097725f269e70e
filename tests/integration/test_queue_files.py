"""kombu over SQLite: processes that open a new queue file at the same moment all start.

``hotline up`` and the ``unit listen`` of several units started together race to
create kombu's tables and the shared dead-letter queue's row; before
``amqp.declare`` survived that, about one start in thirty failed here.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPEN_AT = """
import sys, time
from hotline.shared.messaging.amqp import UnitQueueConsumer
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
UnitQueueConsumer("sqla+sqlite:///" + sys.argv[1], "race", "unit-" + sys.argv[3]).close()
print("opened")
"""


def test_processes_opening_a_new_queue_file_together_all_start(tmp_path: Path) -> None:
    failures = []
    for round_ in range(3):
        file = tmp_path / f"queues-{round_}.sqlite"
        start_at = str(time.time() + 4)  # after every interpreter has imported kombu
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT, str(file), start_at, str(k)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for k in range(6)
        ]
        for proc in procs:
            out, _ = proc.communicate(timeout=60)
            if proc.returncode != 0 or "opened" not in out:
                failures.append(out[-1500:])
    assert not failures, failures[0]
