"""The API addresses workers post to, named once: the routes in `api/routes/` serve these very
constants, so a worker and the API cannot disagree about where a report goes."""

STATUS_REPORTS = "/update_task_status_api/"  # progress and results of jobs (STATUS_API_TOKEN)
WORKER_HEARTBEAT = "/api/workers/heartbeat"  # "I am alive" for the workers panel (STATUS_API_TOKEN)
SWEEP = "/api/maintenance/sweep"  # the celery_beat schedule asks for a sweep of LOST jobs (STATUS_API_TOKEN)
