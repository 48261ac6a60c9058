"""The one management-API client (queue_lab/management_api.py): which vhost it asks for, how each
way of failing is told apart, and a class on a vhost of its own, end to end on the real broker."""
import pytest

from ops.stack import free_port, wait_until
from queue_lab.management_api import ManagementAPI, ManagementError, amqp_vhost


@pytest.mark.parametrize("url, vhost, path", [
    ("amqp://guest:guest@127.0.0.1:5672", "/", "%2F"), ("amqp://guest:guest@127.0.0.1:5672/", "/", "%2F"),
    ("amqp://guest:guest@127.0.0.1:5672/%2F", "/", "%2F"),  # the AMQP spelling of "/": once sent as %252F (404)
    ("amqp://guest:guest@127.0.0.1:5672/class-1", "class-1", "class-1"),
    ("amqp://u:p@h/a%2Fb", "a/b", "a%2Fb")])
def test_the_vhost_is_the_one_the_amqp_url_names(url, vhost, path):
    assert amqp_vhost(url) == vhost
    assert ManagementAPI("http://h:15672", "u", "p", amqp_vhost(url)).vhost_path == path


def failure(api: ManagementAPI, ask) -> ManagementError:
    with pytest.raises(ManagementError) as raised:
        ask(api)
    return raised.value


@pytest.mark.broker
def test_each_way_of_failing_is_told_apart(management_api):
    nobody = ManagementAPI(f"http://127.0.0.1:{free_port()}", "guest", "guest")
    assert not nobody.answers()
    assert failure(nobody, ManagementAPI.overview).kind == "unreachable"

    intruder = ManagementAPI(management_api, "guest", "not-the-password")
    assert intruder.answers()  # something answers: the plugin is on; the account is the problem
    refused = failure(intruder, ManagementAPI.queues)
    assert (refused.kind, refused.status, refused.user) == ("refused", 401, "guest")
    assert "refused user 'guest'" in str(refused)

    nowhere = ManagementAPI(management_api, "guest", "guest", vhost="ql-no-such-vhost")
    missing = failure(nowhere, ManagementAPI.queues)
    assert (missing.kind, missing.status) == ("status", 404)
    assert not nowhere.close_connection("no such connection", "test")  # already gone: not an error


@pytest.mark.broker
def test_the_queues_panel_names_a_vhost_that_does_not_exist(make_app, management_api):
    app = make_app(rabbitmq_url="amqp://guest:guest@127.0.0.1:5672/ql-no-such-vhost",
                   management_url=management_api)
    rows = app.test_client().get("/api/queues").json["queues"]
    rabbitmq_rows = [row for row in rows if row["family"] != "redis"]
    assert rabbitmq_rows and all("no vhost 'ql-no-such-vhost' (404)" in row["error"] for row in rabbitmq_rows)


@pytest.mark.broker
def test_a_class_on_its_own_vhost_sees_its_own_queues_resets_them_and_runs_its_jobs(
        private_vhost, management_api, stack, queues):
    """Everything Queue Lab does on a vhost other than "/": the API publishes there, the queues
    panel counts what waits there (and "/" does not hold those queues), the reset purges it, and
    both paths' workers consume there."""
    vhost, url = private_vhost
    stack.env.update(RABBITMQ_URL=url, RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_api()
    raw_queue = queues["RAW_QUEUE"]
    waiting = stack.submit("rabbitmq", seconds=0).json()["task_nums"][0]

    def raw_row():  # the broker refreshes its counts every 5 s
        rows = stack.session.get(stack.base_url + "/api/queues", timeout=5).json()["queues"]
        row = next(row for row in rows if row["name"] == raw_queue)
        return row if row["messages_ready"] == 1 else None
    assert wait_until(raw_row, 20, 0.5, what="the panel to count the waiting job")["error"] is None
    assert raw_queue in {row["name"] for row in ManagementAPI(management_api, "guest", "guest", vhost).queues()}
    assert raw_queue not in {row["name"] for row in ManagementAPI(management_api, "guest", "guest", "/").queues()}

    reset = stack.post("/api/reset")
    assert reset.status_code == 200, reset.text
    assert reset.json()["purged"][raw_queue] == 1
    assert waiting not in stack.tasks([waiting])

    stack.start_consumer()
    stack.start_celery_worker()
    nums = [stack.submit(method, seconds=0.2).json()["task_nums"][0] for method in ("rabbitmq", "celery")]
    rows = stack.wait_finished(nums, 60)
    assert {row["task_status"] for row in rows.values()} == {"DONE"}, rows

    def consumed():
        listed = stack.session.get(stack.base_url + "/api/queues", timeout=5).json()["queues"]
        work = {row["path"]: row for row in listed if row["path"] in ("rabbitmq", "celery")}
        return work if all((row["consumers"] or 0) >= 1 for row in work.values()) else None
    work = wait_until(consumed, 20, 0.5, what="the panel to show a consumer on each work queue")
    assert {row["error"] for row in work.values()} == {None}
