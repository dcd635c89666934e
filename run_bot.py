#!/usr/bin/env python3
"""工会福利问答机器人 entry point: `python run_bot.py --help`."""
import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
