"""`iris` on a clock of the test's choosing: it starts at IRIS_TEST_FROZEN_AT and runs on from there.

Test tooling only. Writing an ISO time to the file IRIS_TEST_CLOCK_FILE moves the clock there; the
time then appears in IRIS_TEST_CLOCK_FILE + ".moved" once it has. It lets the brief's day (Thursday
12 December 2024) be lived again through the real server, a rehearsal's seconds ticking as usual.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from freezegun import freeze_time


def _follow(clock, path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = ""
    while True:
        wanted = path.read_text().strip() if path.exists() else ""
        if wanted and wanted != seen:
            clock.move_to(datetime.fromisoformat(wanted))
            seen = wanted
            Path(f"{path}.moved").write_text(wanted)
        time.sleep(0.05)


if __name__ == "__main__":
    # The asyncio event loop keeps real time (the server must not see its timers jump); the rest of
    # IRIS, APScheduler included, reads the moved clock.
    clock = freeze_time(os.environ["IRIS_TEST_FROZEN_AT"], tick=True, real_asyncio=True).start()
    watcher = threading.Thread(
        target=_follow, args=(clock, Path(os.environ["IRIS_TEST_CLOCK_FILE"])), daemon=True
    )
    watcher.start()
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
