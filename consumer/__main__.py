"""The raw consumer, written like RabbitMQ's work-queue tutorial: connect, declare, qos, consume.

    python -m consumer        (RABBITMQ_URL, RAW_QUEUE, CONSUMER_PREFETCH, CONSUMER_HEARTBEAT)

What to look for, one line each below: the durable queue, `basic_qos(prefetch_count=1)` for fair
dispatch, manual ack only after the job (never auto_ack), the job in its own thread so heartbeats
flow, reconnecting with backoff, and a clean stop on Ctrl-C/SIGTERM.
"""
from __future__ import annotations

import logging
import signal
import time

import pika
import pika.exceptions

from api.raw_publisher import connection_parameters, declare_work_queue
from api.settings import Settings, worker_id
from api.status_reporter import StatusReporter
from api.worker_heartbeat import WorkerHeartbeat
from consumer.job_thread import JobThread

MAX_BACKOFF_S = 30.0


def consume(settings: Settings, jobs: JobThread, stop: dict) -> None:
    """One connection's life: returns when asked to stop, raises when the connection is lost."""
    connection = pika.BlockingConnection(
        connection_parameters(settings, heartbeat=settings.consumer_heartbeat,
                              name=f"queue-lab consumer {worker_id()}"))
    channel = connection.channel()
    declare_work_queue(channel, settings.raw_queue)  # durable: the queue survives a broker restart
    channel.basic_qos(prefetch_count=settings.consumer_prefetch)  # fair dispatch: N unacked at most

    def on_message(ch, method, properties, body):
        print(f" [x] Received {body.decode(errors='replace')}", flush=True)
        jobs.submit(connection, ch, method.delivery_tag, body)  # the ack comes later, from the job

    channel.basic_consume(queue=settings.raw_queue, on_message_callback=on_message)  # manual ack
    stop["connection"], stop["channel"] = connection, channel
    if stop["requested"]:  # the signal came while we were connecting
        connection.close()
        return
    print(f" [*] {worker_id()} waiting for messages on {settings.raw_queue!r}. "
          "To exit press CTRL+C", flush=True)
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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)  # keep the tutorial-style lines readable
    settings = Settings.from_env()
    reporter = StatusReporter(settings, worker_id())
    jobs = JobThread(reporter)
    heartbeat = WorkerHeartbeat(reporter, "consumer", settings.raw_queue, settings.worker_heartbeat_s)
    heartbeat.start()  # the workers panel: "I am alive" every few seconds
    stop = {"requested": False}
    install_stop_handlers(jobs, stop)
    backoff = 1.0
    while not stop["requested"]:
        started = time.monotonic()
        try:
            consume(settings, jobs, stop)
        except pika.exceptions.AMQPError as exc:
            if stop["requested"]:
                break
            if time.monotonic() - started > MAX_BACKOFF_S:
                backoff = 1.0  # it had been working: retry quickly
            print(f" [!] lost or could not open the connection ({type(exc).__name__}); retrying in "
                  f"{backoff:g} s. If this repeats: {settings.broker_hint}", flush=True)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
    heartbeat.stop()  # says goodbye: the page shows this worker offline at once
    print(" [*] stopped", flush=True)


if __name__ == "__main__":
    main()
