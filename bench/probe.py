"""The rows the bench drives by hand: jobs no worker will take while the bench runs (they wait an
hour in the delay queue, SCHEDULED), so only the bench's own reports move them."""

PROBE_JOB = {"method": "rabbitmq", "seconds": 0, "delay_s": 3600}
