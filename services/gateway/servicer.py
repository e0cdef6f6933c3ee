"""The GatewayService RPCs: hand the authenticated caller (services/gateway/authentication.py)
and the request over to the process module."""

from __future__ import annotations

import grpc
from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc

from services.gateway.assistance import AssistanceGateway
from services.gateway.attendance import AttendanceGateway
from services.gateway.authentication import current_caller
from services.gateway.claims import ClaimGateway
from services.gateway.communication_logs import CommunicationLogGateway
from services.gateway.complaints import ComplaintGateway
from services.gateway.department_calendar import DepartmentCalendarGateway
from services.gateway.leave import LeaveGateway
from services.gateway.level_history import LevelHistoryGateway
from services.gateway.major_problems import MajorProblemGateway
from services.gateway.missed_calls import MissedCallGateway
from services.gateway.opportunities import OpportunityGateway
from services.gateway.pay import PayGateway
from services.gateway.penalties import PenaltyGateway
from services.gateway.pre_approvals import PreApprovalGateway
from services.gateway.rate_adjustments import RateAdjustmentGateway
from services.gateway.requirements import RequirementGateway
from services.gateway.salary_changes import SalaryChangeGateway
from services.gateway.sales_logs import SalesLogGateway
from services.gateway.service_work import ServiceWorkGateway
from services.gateway.spot_checks import SpotCheckGateway
from services.gateway.surveys import SurveyGateway


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """Typed RPCs per regulation process."""

    def __init__(
        self,
        assistance: AssistanceGateway,
        penalties: PenaltyGateway,
        leave: LeaveGateway,
        major_problems: MajorProblemGateway,
        requirements: RequirementGateway,
        department_calendar: DepartmentCalendarGateway,
        attendance: AttendanceGateway,
        spot_checks: SpotCheckGateway,
        claims: ClaimGateway,
        pre_approvals: PreApprovalGateway,
        missed_calls: MissedCallGateway,
        salary_changes: SalaryChangeGateway,
        rate_adjustments: RateAdjustmentGateway,
        communication_logs: CommunicationLogGateway,
        opportunities: OpportunityGateway,
        level_history: LevelHistoryGateway,
        complaints: ComplaintGateway,
        sales_logs: SalesLogGateway,
        surveys: SurveyGateway,
        service_work: ServiceWorkGateway,
        pay: PayGateway,
    ) -> None:
        self._assistance = assistance
        self._penalties = penalties
        self._leave = leave
        self._major_problems = major_problems
        self._requirements = requirements
        self._calendar = department_calendar
        self._attendance = attendance
        self._spot_checks = spot_checks
        self._claims = claims
        self._pre_approvals = pre_approvals
        self._missed_calls = missed_calls
        self._salary_changes = salary_changes
        self._rate_adjustments = rate_adjustments
        self._communication_logs = communication_logs
        self._opportunities = opportunities
        self._level_history = level_history
        self._complaints = complaints
        self._sales_logs = sales_logs
        self._surveys = surveys
        self._service_work = service_work
        self._pay = pay

    async def StartAssistance(
        self, request: gateway_pb2.StartAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._assistance.start(request, current_caller())

    async def AcceptAssistance(
        self, request: gateway_pb2.AcceptAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        return await self._assistance.accept(request, current_caller())

    async def HandOffAssistance(
        self, request: gateway_pb2.HandOffAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        return await self._assistance.hand_off(request, current_caller())

    async def CloseAssistance(
        self, request: gateway_pb2.CloseAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        return await self._assistance.close(request, current_caller())

    async def GetAssistance(
        self, request: gateway_pb2.GetAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        return await self._assistance.get(request, current_caller())

    async def ReportAssistanceBypass(
        self,
        request: gateway_pb2.ReportAssistanceBypassRequest,
        context: grpc.aio.ServicerContext,
    ) -> gateway_pb2.Penalty:
        caller = current_caller()
        return await self._penalties.report_assistance_bypass(request, caller)

    async def RequestLeave(
        self, request: gateway_pb2.RequestLeaveRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.LeaveRef:
        return await self._leave.request(request, current_caller())

    async def DecideLeave(
        self, request: gateway_pb2.DecideLeaveRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Leave:
        return await self._leave.decide(request, current_caller())

    async def CancelLeave(
        self, request: gateway_pb2.CancelLeaveRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Leave:
        return await self._leave.cancel(request, current_caller())

    async def GetLeave(
        self, request: gateway_pb2.GetLeaveRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Leave:
        return await self._leave.get(request, current_caller())

    async def ReportMajorProblem(
        self, request: gateway_pb2.ReportMajorProblemRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MajorProblemRef:
        return await self._major_problems.report(request, current_caller())

    async def AcknowledgeMajorProblem(
        self,
        request: gateway_pb2.AcknowledgeMajorProblemRequest,
        context: grpc.aio.ServicerContext,
    ) -> gateway_pb2.MajorProblem:
        caller = current_caller()
        return await self._major_problems.acknowledge(request, caller)

    async def UpdateMajorProblem(
        self, request: gateway_pb2.UpdateMajorProblemRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MajorProblem:
        return await self._major_problems.update(request, current_caller())

    async def ResolveMajorProblem(
        self, request: gateway_pb2.ResolveMajorProblemRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MajorProblem:
        return await self._major_problems.resolve(request, current_caller())

    async def GetMajorProblem(
        self, request: gateway_pb2.GetMajorProblemRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MajorProblem:
        return await self._major_problems.get(request, current_caller())

    async def ReportUnreportedMajorProblem(
        self,
        request: gateway_pb2.ReportUnreportedMajorProblemRequest,
        context: grpc.aio.ServicerContext,
    ) -> gateway_pb2.Penalty:
        caller = current_caller()
        return await self._penalties.report_unreported_major_problem(request, caller)

    async def SubmitRequirement(
        self, request: gateway_pb2.SubmitRequirementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.RequirementRef:
        caller = current_caller()
        return await self._requirements.submit(request, caller)

    async def FilterRequirement(
        self, request: gateway_pb2.FilterRequirementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.filter(request, caller)

    async def RecordSyncOutcome(
        self, request: gateway_pb2.RecordSyncOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.record_sync(request, caller)

    async def RegisterConfirmation(
        self, request: gateway_pb2.RegisterConfirmationRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.register_confirmation(request, caller)

    async def ReleaseRequirement(
        self, request: gateway_pb2.ReleaseRequirementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.release(request, caller)

    async def RecordRevisit(
        self, request: gateway_pb2.RecordRevisitRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.record_revisit(request, caller)

    async def CloseRequirement(
        self, request: gateway_pb2.CloseRequirementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.close(request, caller)

    async def GetRequirement(
        self, request: gateway_pb2.GetRequirementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.get(request, caller)

    async def ListRequirements(
        self, request: gateway_pb2.ListRequirementsRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ListRequirementsResponse:
        caller = current_caller()
        return await self._requirements.list(request, caller)

    async def ExportRequirements(
        self, request: gateway_pb2.ListRequirementsRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ExportRequirementsResponse:
        caller = current_caller()
        return await self._requirements.export(request, caller)

    async def ConfirmFeedbackReceipt(
        self,
        request: gateway_pb2.ConfirmFeedbackReceiptRequest,
        context: grpc.aio.ServicerContext,
    ) -> gateway_pb2.Requirement:
        caller = current_caller()
        return await self._requirements.confirm_receipt(request, caller)

    async def RecordMeetingMinutes(
        self, request: gateway_pb2.RecordMeetingMinutesRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Meeting:
        caller = current_caller()
        return await self._calendar.record_minutes(request, caller)

    async def GetMeeting(
        self, request: gateway_pb2.GetMeetingRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Meeting:
        caller = current_caller()
        return await self._calendar.get_meeting(request, caller)

    async def SubmitWeeklyReport(
        self, request: gateway_pb2.SubmitWeeklyReportRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WeeklyReport:
        caller = current_caller()
        return await self._calendar.submit_weekly_report(request, caller)

    async def GetWeeklyReport(
        self, request: gateway_pb2.GetWeeklyReportRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WeeklyReport:
        caller = current_caller()
        return await self._calendar.get_weekly_report(request, caller)

    async def ReportAttendance(
        self, request: gateway_pb2.ReportAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.AttendanceDay:
        return await self._attendance.report(request, current_caller())

    async def ImportAttendance(
        self, request: gateway_pb2.ImportAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ImportAttendanceResponse:
        return await self._attendance.import_days(request, current_caller())

    async def GetAttendanceSheet(
        self, request: gateway_pb2.GetAttendanceSheetRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.AttendanceSheet:
        return await self._attendance.sheet(request, current_caller())

    async def RecordSpotCheck(
        self, request: gateway_pb2.RecordSpotCheckRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SpotCheck:
        return await self._spot_checks.record(request, current_caller())

    async def DecideDismissal(
        self, request: gateway_pb2.DecideDismissalRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Dismissal:
        return await self._spot_checks.decide(request, current_caller())

    async def GetDismissal(
        self, request: gateway_pb2.GetDismissalRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Dismissal:
        return await self._spot_checks.get(request, current_caller())

    async def SubmitClaim(
        self, request: gateway_pb2.SubmitClaimRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._claims.submit(request, current_caller())

    async def ReviewClaim(
        self, request: gateway_pb2.ReviewClaimRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Claim:
        return await self._claims.review(request, current_caller())

    async def GetClaim(
        self, request: gateway_pb2.GetClaimRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Claim:
        return await self._claims.get(request, current_caller())

    async def RequestPreApproval(
        self, request: gateway_pb2.RequestPreApprovalRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._pre_approvals.request(request, current_caller())

    async def DecidePreApproval(
        self, request: gateway_pb2.DecidePreApprovalRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.PreApproval:
        return await self._pre_approvals.decide(request, current_caller())

    async def GetPreApproval(
        self, request: gateway_pb2.GetPreApprovalRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.PreApproval:
        return await self._pre_approvals.get(request, current_caller())

    async def RecordMissedCall(
        self, request: gateway_pb2.RecordMissedCallRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._missed_calls.record(request, current_caller())

    async def VerifyMissedCall(
        self, request: gateway_pb2.VerifyMissedCallRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MissedCall:
        return await self._missed_calls.verify(request, current_caller())

    async def GetMissedCall(
        self, request: gateway_pb2.GetMissedCallRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.MissedCall:
        return await self._missed_calls.get(request, current_caller())

    async def ProposeSalaryChange(
        self, request: gateway_pb2.ProposeSalaryChangeRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._salary_changes.propose(request, current_caller())

    async def DecideSalaryChange(
        self, request: gateway_pb2.DecideSalaryChangeRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SalaryChange:
        return await self._salary_changes.decide(request, current_caller())

    async def GetSalaryChange(
        self, request: gateway_pb2.GetSalaryChangeRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SalaryChange:
        return await self._salary_changes.get(request, current_caller())

    async def RequestRateAdjustment(
        self, request: gateway_pb2.RequestRateAdjustmentRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._rate_adjustments.request(request, current_caller())

    async def DecideRateAdjustment(
        self, request: gateway_pb2.DecideRateAdjustmentRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.RateAdjustment:
        return await self._rate_adjustments.decide(request, current_caller())

    async def GetRateAdjustment(
        self, request: gateway_pb2.GetRateAdjustmentRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.RateAdjustment:
        return await self._rate_adjustments.get(request, current_caller())

    async def AppendCommunicationLog(
        self, request: gateway_pb2.AppendCommunicationLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CommunicationLogEntry:
        return await self._communication_logs.append(request, current_caller())

    async def GetCommunicationLog(
        self, request: gateway_pb2.GetCommunicationLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CommunicationLog:
        return await self._communication_logs.read(request, current_caller())

    async def RegisterOpportunity(
        self, request: gateway_pb2.RegisterOpportunityRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._opportunities.register(request, current_caller())

    async def ConfirmOpportunity(
        self, request: gateway_pb2.ConfirmOpportunityRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Opportunity:
        return await self._opportunities.confirm(request, current_caller())

    async def CloseOpportunity(
        self, request: gateway_pb2.CloseOpportunityRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Opportunity:
        return await self._opportunities.close(request, current_caller())

    async def GetOpportunity(
        self, request: gateway_pb2.GetOpportunityRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Opportunity:
        return await self._opportunities.get(request, current_caller())

    async def ListOpportunities(
        self, request: gateway_pb2.ListOpportunitiesRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ListOpportunitiesResponse:
        return await self._opportunities.list(request, current_caller())

    async def GetLevelHistory(
        self, request: gateway_pb2.GetLevelHistoryRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.LevelHistory:
        return await self._level_history.read(request, current_caller())

    async def RegisterComplaint(
        self, request: gateway_pb2.RegisterComplaintRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._complaints.register(request, current_caller())

    async def AssignComplaint(
        self, request: gateway_pb2.AssignComplaintRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Complaint:
        return await self._complaints.assign(request, current_caller())

    async def CloseComplaint(
        self, request: gateway_pb2.CloseComplaintRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Complaint:
        return await self._complaints.close(request, current_caller())

    async def GetComplaint(
        self, request: gateway_pb2.GetComplaintRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Complaint:
        return await self._complaints.get(request, current_caller())

    async def SendSalesLog(
        self, request: gateway_pb2.SendSalesLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._sales_logs.send(request, current_caller())

    async def PassOnSalesLog(
        self, request: gateway_pb2.PassOnSalesLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SalesLog:
        return await self._sales_logs.pass_on(request, current_caller())

    async def CompleteSalesLog(
        self, request: gateway_pb2.CompleteSalesLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SalesLog:
        return await self._sales_logs.complete(request, current_caller())

    async def GetSalesLog(
        self, request: gateway_pb2.GetSalesLogRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SalesLog:
        return await self._sales_logs.get(request, current_caller())

    async def RecordSurveyResult(
        self, request: gateway_pb2.RecordSurveyResultRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Survey:
        return await self._surveys.record_result(request, current_caller())

    async def RecordSurveyFollowUp(
        self, request: gateway_pb2.RecordSurveyFollowUpRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Survey:
        return await self._surveys.record_follow_up(request, current_caller())

    async def ListSurveys(
        self, request: gateway_pb2.ListSurveysRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ListSurveysResponse:
        return await self._surveys.list(request, current_caller())

    async def PlanServiceVisits(
        self, request: gateway_pb2.PlanServiceVisitsRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._service_work.plan(request, current_caller())

    async def RecordServiceVisit(
        self, request: gateway_pb2.RecordServiceVisitRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ServicePlan:
        return await self._service_work.record_visit(request, current_caller())

    async def GetServicePlan(
        self, request: gateway_pb2.GetServicePlanRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ServicePlan:
        return await self._service_work.get_plan(request, current_caller())

    async def OpenHandover(
        self, request: gateway_pb2.OpenHandoverRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.WorkflowRef:
        return await self._service_work.open_handover(request, current_caller())

    async def SignHandover(
        self, request: gateway_pb2.SignHandoverRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Handover:
        return await self._service_work.sign_handover(request, current_caller())

    async def GetHandover(
        self, request: gateway_pb2.GetHandoverRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Handover:
        return await self._service_work.get_handover(request, current_caller())

    async def RecordPerformancePay(
        self, request: gateway_pb2.RecordPerformancePayRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.PerformancePay:
        return await self._pay.record_performance_pay(request, current_caller())

    async def GetPayStatement(
        self, request: gateway_pb2.GetPayStatementRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.PayStatement:
        return await self._pay.statement(request, current_caller())
