"""One decision on a case, taken by one of the people a rule names: PAY-1's executive team, the
vice-president in charge of a disputed rate (PAY-3), a department manager on a pre-approval.

A process names the decision once (`DecisionRule`: the stage it waits in, the stages it ends in,
who decides and under which rule) and keeps the deciders, the decider and the note on its status
(`Decided`). The Update's validator calls `check`, the Update `take`, the run `awaited`; the
refusals are the same words in every process: nobody decides before the request has reached
the deciders, nobody outside them (and nobody their own case), nobody twice, and no refusal
without a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case_file import CaseFile, CaseStatus
    from workflows.regulation import NotAllowed, NotNow, texts


@dataclass
class DecisionInput:
    actor_id: str
    approve: bool
    note: str = ""


class Decided(CaseStatus, Protocol):
    deciders: list[str]
    decided_by: str
    note: str


D = TypeVar("D", bound=Decided)


@dataclass(frozen=True)
class DecisionRule:
    awaiting: str  # the stage the case waits in
    approved: str
    refused: str
    who: str  # who decides, in words: "the executive team"
    rule: str

    def check(self, status: Decided, input: DecisionInput) -> None:
        """Refuse a decision that may not be taken now, by this person, in these words."""
        if not status.deciders and status.stage == self.awaiting:
            raise NotNow("the request is still being sent; try again in a moment")
        if input.actor_id not in status.deciders:
            raise NotAllowed(
                f"{input.actor_id} may not decide this: {self.who} does, and nobody their own "
                f"case ({self.rule})"
            )
        if status.stage != self.awaiting:
            raise NotNow(f"already {status.stage.replace('_', ' ')} by {status.decided_by}")
        if not input.approve:
            texts.required(input.note, "note", why="say why it is refused")
        texts.bounded(input.note, "note")

    def take(self, case: CaseFile[D], input: DecisionInput, note: str = "") -> str:
        """Record the decision (with `note` in the history, the decider's own by default) and
        move the case to its stage."""
        status = case.status
        status.decided_by, status.note = input.actor_id, input.note.strip()
        stage = self.approved if input.approve else self.refused
        case.record(input.actor_id, stage, note or status.note)
        case.move_to(stage)
        return stage

    async def awaited(self, status: Decided) -> None:
        await workflow.wait_condition(lambda: status.stage != self.awaiting)
