"""The raw consumer, written like RabbitMQ's work-queue tutorial: connect, declare, qos, consume.

    python -m consumer        (RABBITMQ_URL, RAW_QUEUE, CONSUMER_PREFETCH, CONSUMER_HEARTBEAT,
                               CONSUMER_MODE=threaded|naive, CONSUMER_BINDS="direct:email topic:*.long")

What to look for, one line each below: the durable queues, `basic_qos(prefetch_count=1)` for fair
dispatch, manual ack only after the job (never auto_ack), the job in its own thread so heartbeats
flow, reconnecting with backoff, and a clean stop on Ctrl-C/SIGTERM. CONSUMER_MODE=naive runs the
job inside the callback instead — the heartbeat-starvation trap the fault lab demonstrates. The
instructor's rate limit arrives on a fanout exchange of its own (queue_lab/rate_limit.py). With
CONSUMER_BINDS it works on a queue of its own, which it binds to the direct and topic exchanges
(RabbitMQ tutorials 4 and 5: queue_lab/routing.py).
"""
from __future__ import annotations

import logging
import signal
import time

import pika
import pika.exceptions

from consumer.job_thread import JobThread
from queue_lab.broker_connection import connection_parameters
from queue_lab.queues import declare_topology
from queue_lab.rate_limit import NotALimit, RateLimit, declare_control
from queue_lab.routing import bind_queue, declare_exchanges
from queue_lab.settings import Settings, worker_id
from queue_lab.status_reporter import StatusReporter
from queue_lab.worker_heartbeat import WorkerHeartbeat

MAX_BACKOFF_S = 30.0


def shown(body: bytes, most: int = 200) -> str:
    """A message body for the terminal: anyone may have published it, so it is cut short."""
    text = body[:most].decode(errors="replace")
    return text if len(body) <= most else f"{text}… ({len(body)} bytes)"


# [rate-limits: begin]
def listen_for_limits(channel, settings: Settings, apply) -> None:
    """RabbitMQ tutorial 3 (publish/subscribe): our own exclusive queue on the control exchange, so
    the instructor's rate limit reaches every consumer; first, the latest setting, kept for us in
    Q.control.last (read, then given back for the next consumer to start)."""
    layout = settings.queues
    declare_control(channel, layout.control, layout.control_last)
    mine = channel.queue_declare("", exclusive=True).method.queue  # server-named, gone when we are
    channel.queue_bind(mine, layout.control)
    method, _, body = channel.basic_get(layout.control_last)
    if method is not None:
        apply(body)
        channel.basic_nack(method.delivery_tag, requeue=True)
    channel.basic_consume(mine, lambda ch, method, properties, body: apply(body), auto_ack=True)


def count_consumers(channel, queue: str, jobs: JobThread) -> None:
    """A limit for the class is shared: each consumer's part is the limit ÷ the consumers the broker
    counts on the queue now (a passive declare answers it), asked as each job arrives."""
    if jobs.limiter.limit.scope == "class" and jobs.limiter.limit.per_minute:
        jobs.limiter.consumers = channel.queue_declare(queue, passive=True).method.consumer_count
# [rate-limits: end]


def applier(jobs: JobThread, heartbeat: WorkerHeartbeat):
    """A control message → the limit this consumer keeps, and the workers panel told; one that breaks
    the contract (anyone may publish to the exchange) is refused with the reason, never applied."""
    def apply(body: bytes) -> None:
        try:
            limit = RateLimit.from_body(body)
        except NotALimit as exc:
            print(f" [!] Refused a control message ({exc.message}): not applied", flush=True)
            return
        jobs.limiter.set(limit)
        heartbeat.profile = {**heartbeat.profile, **limit.facts()}
        share = {"worker": "on this consumer", "class": "for the class, shared"}[limit.scope]
        print(f" [*] rate limit: {limit.per_minute}/min {share}" if limit.per_minute else " [*] rate limit: none",
              flush=True)
    return apply


def consume(settings: Settings, jobs: JobThread, stop: dict, apply_limit) -> None:
    """One connection's life: returns when asked to stop, raises when the connection is lost."""
    connection = pika.BlockingConnection(
        connection_parameters(settings, heartbeat=settings.consumer_heartbeat,
                              name=f"queue-lab consumer {worker_id()}"))
    channel = connection.channel()
    queues = settings.consumer_queues
    declare_topology(channel, queues, settings.retry_delay_s,  # durable: they survive a broker restart
                     settings.quorum_delivery_limit)
    # [exchanges: begin]
    if settings.consumer_binds:  # the routing lesson: our own queue gets what our keys match
        layout = settings.queues
        declare_exchanges(channel, layout.exchanges)
        bind_queue(channel, queues.work, settings.consumer_binds, layout.exchanges)
    # [exchanges: end]
    channel.basic_qos(prefetch_count=settings.consumer_prefetch)  # fair dispatch: N unacked at most
    channel.confirm_delivery()  # a job moved to the dead-letter queue is confirmed before its ack
    listen_for_limits(channel, settings, apply_limit)

    def on_message(ch, method, properties, body):
        print(f" [x] Received {shown(body)}", flush=True)
        count_consumers(ch, queues.work, jobs)
        jobs.submit(connection, ch, method.delivery_tag, properties, body)  # acked later, by the job

    def on_message_naive(ch, method, properties, body):
        # The trap: the job runs right here, inside pika's callback. Until it returns, pika sends
        # no heartbeats; past 2 heartbeats the broker closes the connection, the ack below fails,
        # and RabbitMQ redelivers the job — which starts again, and again.
        print(f" [x] Received {shown(body)} (naive: running it in the callback)",
              flush=True)
        count_consumers(ch, queues.work, jobs)
        settle = jobs.run_one(ch, method.delivery_tag, properties, body)
        if settle is not None:
            settle()

    naive = settings.consumer_mode == "naive"
    channel.basic_consume(queue=queues.work, on_message_callback=on_message_naive if naive else on_message)
    if jobs.quorum:  # past its delivery limit the quorum queue dead-letters a message: say so on its row
        channel.basic_consume(queue=queues.dead, on_message_callback=lambda ch, method, properties, body:
                              jobs.dead_lettered(ch, method.delivery_tag, properties, body))
    stop["connection"], stop["channel"] = connection, channel
    if stop["requested"]:  # the signal came while we were connecting
        connection.close()
        return
    print(f" [*] {worker_id()} waiting for messages on {queues.work!r}. To exit press CTRL+C", flush=True)
    channel.start_consuming()  # returns after stop_consuming (our signal handler)

    finish_running_job(connection, jobs)
    connection.close()


def finish_running_job(connection, jobs: JobThread) -> None:
    """Graceful stop: messages not started go back to the queue; the running job finishes and is
    acked — pika keeps serving heartbeats and acks meanwhile. A second signal abandons it."""
    dropped = jobs.drop_waiting()
    if dropped:
        print(f" [*] returning {dropped} prefetched message(s) to the queue", flush=True)
    while not jobs.idle():
        connection.process_data_events(time_limit=0.2)
    connection.process_data_events(time_limit=0)  # send the last ack


def install_stop_handlers(jobs: JobThread, stop: dict) -> None:
    def on_signal(signum, frame):
        if stop["requested"]:
            print(" [*] second signal: abandoning the running job (it will be redelivered)", flush=True)
            jobs.abandon.set()
            return
        stop["requested"] = True
        print(f" [*] {signal.Signals(signum).name}: no new messages; finishing the running job",
              flush=True)
        connection, channel = stop.get("connection"), stop.get("channel")
        if connection is not None and connection.is_open:
            connection.add_callback_threadsafe(channel.stop_consuming)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def profile(settings: Settings) -> dict:
    """What the workers panel shows about this consumer's settings (api/validation.py: PROFILE_FACTS)."""
    facts = {"mode": settings.consumer_mode, "prefetch": settings.consumer_prefetch,
             "heartbeat_s": settings.consumer_heartbeat}
    if settings.consumer_queue_type == "quorum":
        facts.update(queue_type="quorum", delivery_limit=settings.quorum_delivery_limit)
    if settings.consumer_binds:
        facts["binds"] = " ".join(map(str, settings.consumer_binds))
    return facts


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)  # keep the tutorial-style lines readable
    settings = Settings.from_env()
    reporter = StatusReporter(settings, worker_id())  # the job never waits on HTTP
    jobs = JobThread(reporter, settings)
    heartbeat = WorkerHeartbeat(reporter, "consumer", settings.consumer_queues.work,
                                settings.worker_heartbeat_s, profile(settings), prefetch=settings.consumer_prefetch)
    heartbeat.start()  # the workers panel: "I am alive" every few seconds
    stop = {"requested": False}
    install_stop_handlers(jobs, stop)
    backoff = 1.0
    while not stop["requested"]:
        started = time.monotonic()
        try:
            consume(settings, jobs, stop, applier(jobs, heartbeat))
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 406:  # PRECONDITION_FAILED: the queue exists with other arguments
                work = settings.consumer_queues.work
                print(f" [!] {exc.reply_text}\n [!] An older Queue Lab declared {work!r} differently:"
                      f" delete it (`rabbitmqctl delete_queue {work}` or the management UI) and start"
                      " again.", flush=True)
                raise SystemExit(2) from exc
            raise
        except pika.exceptions.AMQPError as exc:
            if stop["requested"]:
                break
            if time.monotonic() - started > MAX_BACKOFF_S:
                backoff = 1.0  # it had been working: retry quickly
            print(f" [!] lost or could not open the connection ({type(exc).__name__}); retrying in "
                  f"{backoff:g} s. If this repeats: {settings.broker_hint}", flush=True)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
    reporter.flush()  # the last reports leave before we do
    heartbeat.stop()  # says goodbye: the page shows this worker offline at once
    print(" [*] stopped", flush=True)


if __name__ == "__main__":
    main()
