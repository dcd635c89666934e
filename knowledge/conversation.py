"""The conversation so far, as the engine sees it: the last few turns of one chat.

The engine stays a pure function of (question, user context, recent turns); keeping the
turns (per chat, per user in groups, stored so a restart or a second worker keeps them,
expired after a quiet period, cleared by /start) is the bot's job. A turn records only
what follow-up resolution needs: what was asked and which entry, district and topic
answered it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .answer import Answer

MAX_TURNS = 4              # follow-ups refer to the last turn or two; older ones are dropped
QUIET_SECONDS = 30 * 60    # after half an hour of silence a message starts a new conversation


@dataclass(frozen=True)
class Turn:
    question: str              # what the user wrote
    district: str | None       # the district the reply was for
    faq_id: str | None         # the entry that answered, if one did
    category: str | None
    kind: str                  # the reply's kind (faq, passage, choices, …)
    topic: str = ""            # the question as resolved (a follow-up's full reading)
    at: float = 0.0            # when (seconds since the epoch)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Turn:
        fields = {k: data.get(k) for k in ("question", "district", "faq_id", "category", "kind")}
        return cls(**fields, topic=data.get("topic") or "", at=float(data.get("at") or 0.0))


def recent(turns: list[Turn] | tuple[Turn, ...], now: float, quiet: float = QUIET_SECONDS) -> tuple[Turn, ...]:
    """The turns still in the conversation at `now`: the last MAX_TURNS, none after a quiet period."""
    if not turns or now - turns[-1].at > quiet:
        return ()
    return tuple(turns[-MAX_TURNS:])


def append(turns: list[Turn] | tuple[Turn, ...], turn: Turn) -> tuple[Turn, ...]:
    return (*tuple(turns)[-(MAX_TURNS - 1):], turn)


def turn_of(question: str, answer: Answer, at: float) -> Turn:
    """What to remember of one exchange."""
    return Turn(question, answer.district, answer.faq_id, answer.category, answer.kind,
                answer.resolved or question, at)
