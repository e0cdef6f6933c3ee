"""The worker's metrics (issue 15): the Temporal SDK's own, from its Rust core, served for
Prometheus at CSD_METRICS_ADDRESS by temporalio's `PrometheusConfig`, and the department's case
gauges (services/worker/case_gauges.py) recorded through the same runtime, so one worker
process has one /metrics endpoint.

Names follow Prometheus conventions: counters end in `_total`, durations are histograms in
seconds ending in `_seconds` (`temporal_workflow_endtoend_latency_seconds_bucket`, ...).
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

# Scheduling delays and activity times: from a warm poll (a few ms) to a slow SMTP relay.
LATENCY_BUCKETS_SECONDS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


def metrics_runtime(metrics_address: str) -> Runtime | None:
    """A Temporal runtime serving its metrics on `metrics_address` (host:port); None when the
    address is empty (the SDK's default runtime, which keeps none)."""
    if not metrics_address:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=metrics_address,
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides={
                    name: LATENCY_BUCKETS_SECONDS
                    for name in (
                        "temporal_workflow_endtoend_latency",
                        "temporal_activity_execution_latency",
                        "temporal_workflow_task_schedule_to_start_latency",
                        "temporal_activity_schedule_to_start_latency",
                    )
                },
            )
        )
    )
