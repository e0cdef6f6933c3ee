"""What every process's part of the gateway holds."""

from __future__ import annotations

from datetime import timedelta

from csd.staff.v1 import staff_pb2_grpc
from temporalio.client import Client

from services.gateway.workflow_errors import TEMPORAL_TIMEOUT
from workflows import task_queues


class ProcessGateway:
    """Temporal, the staff directory, the task queue work goes to, and how long a caller waits."""

    def __init__(
        self,
        client: Client,
        staff: staff_pb2_grpc.StaffServiceStub,
        *,
        task_queue: str = task_queues.MAIN,
        temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
    ) -> None:
        self._client = client
        self._staff = staff
        self._task_queue = task_queue
        self._timeout = temporal_timeout
