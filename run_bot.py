#!/usr/bin/env python3
"""工会福利问答机器人 entry point: `python run_bot.py --help`.

The Telegram bot is plugged in here (handlers depend on bot, never the other way);
it is imported only when `run` starts it, so the other commands stay quick.
"""
import sys

from bot.cli import main


def run_telegram(app) -> int:
    from handlers.application import run_telegram as run
    return run(app)


if __name__ == "__main__":
    sys.exit(main(run_telegram=run_telegram))
