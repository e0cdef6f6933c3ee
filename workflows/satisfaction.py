"""A satisfaction survey of one hospital (CS-2, G-4): "satisfaction surveys and revisits per a
separate procedure: schedule, collect, report". The procedure itself is not in the source; this
is the department's until it is.

Each quarter the cadence `cs2-satisfaction-survey` (the company calendar) has the planner start
one survey per hospital project under maintenance (workflow id `cs2-<project>-<day>`). On its
day the assistant is asked to collect it; the score (1 to 5) and comments are recorded (an
Update) on the SLA clock; a score at or under the rule's threshold opens a follow-up by the
region's customer service manager, on a clock of its own. The Web UI and the gateway's
ListSurveys report them per region and month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import Contact
    from workflows import regulation
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import after_working_time, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "satisfaction"
SCHEDULED, COLLECTING, SATISFIED, FOLLOW_UP, FOLLOWED_UP = (
    "scheduled",
    "collecting",
    "satisfied",
    "follow_up",
    "followed_up",
)
COLLECTORS, FOLLOWERS = "department_assistant", "customer_service_manager"
COVERS = "technical_service_manager"
SCORES = range(1, 6)


def workflow_id(project_code: str, day: str) -> str:
    return f"cs2-{project_code}-{day}"


@dataclass
class SurveyInput:
    project_code: str
    hospital: str
    region_code: str
    at: str  # RFC 3339: when it is collected
    rule_version: str


@dataclass
class ResultInput:
    actor_id: str
    score: int
    comments: str = ""


@dataclass
class FollowUpInput:
    actor_id: str
    action: str


@dataclass
class SurveyStatus(CaseRecord):
    project_code: str
    hospital: str
    region_code: str
    at: str
    rule_version: str
    collectors: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)
    score: int = 0
    comments: str = ""
    collected_by: str = ""
    action: str = ""
    followed_up_by: str = ""
    stage: str = SCHEDULED


def may_read(status: SurveyStatus, reader: Reader) -> bool:
    return (
        reader.id in status.collectors
        or reader.id in status.followers
        or reader.role == "department_manager"
        or (reader.region_code == status.region_code and reader.role == FOLLOWERS)
    )


@workflow.defn
class SatisfactionSurveyWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[SurveyStatus] | None = None

    @workflow.run
    async def run(self, input: SurveyInput) -> SurveyStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            at = dates.instant(input.at, "at")
        status = SurveyStatus(
            input.project_code, input.hospital, input.region_code, input.at, input.rule_version
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=f"{input.project_code}-{input.at[:10]}",
            summary=f"CS-2 satisfaction survey of {input.hospital} ({input.at[:10]})",
            subject=lambda what: f"[CS-2 {input.hospital} {input.at[:10]}] {what}",
            words=lambda stage: {
                SCHEDULED: f"Surveyed from {input.at}.",
                COLLECTING: "The assistant collects the score and comments.",
                SATISFIED: f"Scored {status.score} of 5 by {status.collected_by}.",
                FOLLOW_UP: f"Scored {status.score} of 5: the region's customer service manager "
                "follows up.",
                FOLLOWED_UP: f"Scored {status.score} of 5; followed up by "
                f"{status.followed_up_by}: {status.action}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        if at > workflow.now():
            await workflow.sleep(at - workflow.now())
        collectors = await people_in_role(COLLECTORS)
        # A region without a customer service manager has its technical service manager cover.
        followers = await people_in_role(FOLLOWERS, input.region_code) or await people_in_role(
            COVERS, input.region_code
        )
        status.followers = [f.id for f in followers]
        status.collectors = [c.id for c in collectors]
        case.move_to(COLLECTING)
        await case.email(
            "collect",
            Mail(
                to=collectors,
                what="A satisfaction survey to collect",
                body=(
                    f"Survey {input.hospital}'s satisfaction this quarter (CS-2): a score of 1 "
                    "to 5 and the comments, recorded through csd-ops."
                ),
            ),
        )
        started = workflow.now()
        budget = rules.satisfaction_collect_within
        collect_by = await after_working_time(started, budget)
        collection = case.clock(
            "collection",
            promise=f"a satisfaction survey is collected within "
            f"{budget.total_seconds() / 3600:g} working hours (CS-2)",
            started_at=started,
            warn_at=collect_by,
            breach_at=collect_by,
            breach_to=collectors,
        )
        await collection.wait(lambda: status.score > 0)
        if status.score > rules.satisfaction_dissatisfied_at:
            case.move_to(SATISFIED)
            await case.email(
                "collected",
                Mail(
                    to=followers,
                    what=f"Satisfaction {status.score} of 5",
                    body=f"{input.hospital} scored {status.score} of 5. {status.comments}",
                ),
            )
            return status
        case.move_to(FOLLOW_UP)
        await self._follow_up(case, followers, rules)
        return status

    async def _follow_up(
        self, case: CaseFile[SurveyStatus], followers: list[Contact], rules: regulation.RuleSet
    ) -> None:
        status = case.status
        managers = await people_in_role("department_manager")
        await case.email(
            "follow-up",
            Mail(
                to=followers,
                cc=managers,
                what=f"A dissatisfied hospital to follow up ({status.score} of 5)",
                body=f"{status.hospital} scored {status.score} of 5: {status.comments}\n\n"
                "Follow up with the hospital and record what was done (CS-2).",
            ),
        )
        started = workflow.now()
        budget = rules.satisfaction_follow_up_within
        due = await after_working_time(started, budget)
        clock = case.clock(
            "follow-up",
            promise=f"a dissatisfied hospital is followed up within "
            f"{budget.total_seconds() / 3600:g} working hours (CS-2)",
            started_at=started,
            warn_at=due,
            breach_at=due,
            breach_to=[*followers, *managers],
        )
        await clock.wait(lambda: status.stage == FOLLOWED_UP)

    @workflow.update
    def record_result(self, input: ResultInput) -> SurveyStatus:
        case, status = self._cases()
        status.score, status.comments = input.score, input.comments.strip()
        status.collected_by = input.actor_id
        case.record(input.actor_id, "collected", f"{input.score} of 5. {status.comments}".strip())
        return status

    @record_result.validator
    def _validate_result(self, input: ResultInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if status.stage != COLLECTING or status.score:
                raise NotNow(
                    f"the survey is {status.stage.replace('_', ' ')}: nothing to collect now"
                )
            if input.actor_id not in status.collectors:
                raise NotAllowed(f"{input.actor_id} may not record it: the assistant does (CS-2)")
            if type(input.score) is not int or input.score not in SCORES:
                raise InvalidInput("score is a whole number from 1 to 5")
            texts.bounded(input.comments, "comments")

    @workflow.update
    def record_follow_up(self, input: FollowUpInput) -> SurveyStatus:
        case, status = self._cases()
        status.action, status.followed_up_by = input.action.strip(), input.actor_id
        case.record(input.actor_id, FOLLOWED_UP, status.action)
        case.move_to(FOLLOWED_UP)
        return status

    @record_follow_up.validator
    def _validate_follow_up(self, input: FollowUpInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if status.stage != FOLLOW_UP:
                raise NotNow("no follow-up is open: the survey was not a dissatisfied one")
            if input.actor_id not in status.followers:
                raise NotAllowed(
                    f"{input.actor_id} may not record it: the region's customer service "
                    "manager (or, where there is none, its technical service manager) follows up "
                    "(CS-2)"
                )
            texts.required(input.action, "action", why="say what was done with the hospital")

    @workflow.query
    def status(self) -> SurveyStatus:
        return opened(self._case, "the survey").status

    def _cases(self) -> tuple[CaseFile[SurveyStatus], SurveyStatus]:
        case = opened(self._case, "the survey")
        return case, case.status
