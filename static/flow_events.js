// Which real event each change of a job's row is, for the flow diagram. A row only says where a job
// is now, and the feed may skip states that came and went between two updates (PENDING → DONE in one
// step for a quick job): the events in between are implied, so N jobs always count N deliveries and
// N acks, however fast they ran.
//
//   a new row                     published (and delayed, when it is SCHEDULED for later)
//   attempt 1 starts              delivered
//   attempt n + 1 starts          redelivered + delivered (a retry, or a message back from a dead worker)
//   → RETRYING                    retrying (the raw path: nack into the .wait queue)
//   → DONE                        acked
//   → ERROR                       failed, or dead (moved to a dead-letter queue: out of attempts, or
//                                 past a quorum queue's delivery limit)
//   → LOST                        lost

export const EVENT_KINDS = ["published", "delayed", "delivered", "redelivered", "retrying", "acked", "failed",
  "dead", "lost"];

// The method a worker serves: the raw consumers RabbitMQ direct; a Celery worker Celery on RabbitMQ,
// or on Redis — its heartbeat's `broker` field says which.
export function methodOfWorker(worker) {
  if (worker.kind === "consumer") return "rabbitmq";
  return worker.broker === "redis" ? "celery_redis" : "celery";
}

// The lane of the flow diagram a worker belongs to (Celery's sweeper, on its own queue, in none).
export function laneOf(worker) {
  if (worker.kind !== "consumer" && worker.kind !== "celery") return null;
  return String(worker.queue ?? "").endsWith(".maintenance") ? null : methodOfWorker(worker);
}

export function eventsOf(before, task) {
  const events = [];
  let previous = before;
  if (!previous) {
    events.push("published");
    if (task.due_at != null && task.attempt === 0) events.push("delayed");
    previous = { task_status: "PENDING", attempt: 0 };
  }
  const attempt = Number(task.attempt) || 0, was = Number(previous.attempt) || 0;
  for (let next = was + 1; next <= attempt; next += 1) {
    if (next > 1) events.push("redelivered");
    events.push("delivered");
  }
  const status = task.task_status, changed = status !== previous.task_status || attempt !== was;
  if (!changed) return events;
  if (status === "DONE" && previous.task_status !== "DONE") events.push("acked");
  else if (status === "ERROR" && previous.task_status !== "ERROR") events.push(task.dead_lettered ? "dead" : "failed");
  else if (status === "RETRYING") events.push("retrying");
  else if (status === "LOST" && previous.task_status !== "LOST") events.push("lost");
  return events;
}
