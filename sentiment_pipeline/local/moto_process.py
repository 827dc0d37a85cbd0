"""The program of the local stack's moto child: ``python -m sentiment_pipeline.local.moto_process``.

Run by :class:`sentiment_pipeline.local.moto.MotoServer`, never imported by it. It
binds a free loopback port itself (so no other process can take the port between a
probe and the bind), prints ``{"port": N}`` as its first line, and serves until
SIGTERM or SIGINT, or until its stdin reaches end-of-file: the parent holds the
other end, so when the parent dies in any way (even SIGKILL) the server goes too
instead of being left behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading


def main() -> None:
    stop = threading.Event()

    def parent_gone() -> None:
        sys.stdin.buffer.read()  # returns at end-of-file: the parent closed it or died
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=parent_gone, name="parent-watch", daemon=True).start()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    os.environ["MOTO_PORT"] = str(port)  # what moto uses for URLs it builds itself
    print(json.dumps({"port": port}), flush=True)
    while not stop.wait(0.5):  # a timed wait: signal handlers run between the waits
        pass
    sys.stdout.flush()
    os._exit(0)  # the process ends here: no need to wait for the server's threads


if __name__ == "__main__":
    main()
