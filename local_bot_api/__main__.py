"""``python -m local_bot_api --port 0 --token T``: serve until SIGTERM/SIGINT.

Why a process mode: the bot's e2e test starts the real ``run_bot.py`` pointed at
this server (TELEGRAM_API_BASE_URL=<printed url>) and drives it through
``{url}/_control/...``.  The URL is the first stdout line so a parent can read it
even when port 0 picked a free port.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import DEFAULT_TOKEN, LocalBotApi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_bot_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--token", action="append", help="bot token to host (repeatable)")
    parser.add_argument("--bot-username", default=None, help="username of the first bot")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    api = LocalBotApi(args.token or [DEFAULT_TOKEN], host=args.host, port=args.port,
                      bot_username=args.bot_username, verbose=args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    api.start()
    print(api.url, flush=True)
    print(f"local_bot_api serving {len(api.tokens)} bot(s) at {api.url}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(1.0):  # idle main thread; the timeout keeps signals responsive
            pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
