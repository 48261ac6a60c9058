"""Every URL the web app serves, one blueprint per audience (each module's `bp`):

    page            GET /                                    the page students open
    tasks           /api/tasks, /api/events, /api/summary     what the page sends and watches
    results         /api/tasks/<n>/celery-result, …/reply,    a job's result read back, both ways
                    /api/results/unread                       (the results lesson)
    status_reports  what workers send (STATUS_API_TOKEN): job reports, heartbeats, the sweep
    classroom       GET /api/workers, /api/queues,            who is working, what waits, health,
                    /api/routing, /healthz                    and the exchanges' bindings
    instructor      POST /api/reset, `flask --app api reset`  the class reset; who may use class-wide
                    GET /api/class-controls                   controls (CLASS_CONTROLS)
    fault_lab       /api/experiments/...                      the experiments and their controls
    race            POST /api/race                            one batch by both queue methods at once
"""
from flask import Flask

from api.routes import classroom, fault_lab, instructor, page, race, results, status_reports, tasks


def register_routes(app: Flask) -> None:
    for module in (page, tasks, results, status_reports, classroom, instructor, fault_lab, race):
        app.register_blueprint(module.bp)
