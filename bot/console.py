"""An interactive chat in the terminal over the same engine (no Telegram needed)."""
from __future__ import annotations

import sys

from knowledge.districts import DISTRICTS, canonical_district

from .conversations import Session
from .setup import App

HELP = ("直接输入问题即可，例如：临平免费体检名额；可以接着问，例如“那富阳呢”。\n"
        "/district 临平  设置所在区县（/district 清除）   /start 重新开始   /help 帮助   /quit 退出")


def run_console(app: App, stdin=sys.stdin, stdout=sys.stdout) -> None:
    """One conversation: a follow-up ("那富阳呢") is read against the earlier questions; /start begins anew."""
    district: str | None = None
    session = Session()
    names = "、".join(d.short for d in DISTRICTS)
    print(f"工会福利问答机器人（控制台模式，未设置 TELEGRAM_BOT_TOKEN）。可回答{names}的工会福利问题。", file=stdout)
    print(HELP, file=stdout)
    while True:
        print("\n您的问题> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if text in {"/quit", "/exit", "quit", "exit"}:
            break
        if text in {"/help", "/start"}:
            if text == "/start":
                session.clear()
            print(HELP, file=stdout)
            continue
        if text.startswith("/district"):
            arg = text[len("/district"):].strip()
            if not arg:
                district = None
                print("已清除区县设置。", file=stdout)
            elif canonical_district(arg):
                district = canonical_district(arg)
                print(f"已设置区县：{district}", file=stdout)
            else:
                print(f"不认识的区县：{arg}。可选：{names}", file=stdout)
            continue
        answer = app.knowledge.engine.answer(text, district, session.history())
        session.add(text, answer)
        if answer.continued:
            print(f"（接着您问的「{answer.continued}」）", file=stdout)
        print(answer.as_text(), file=stdout)
