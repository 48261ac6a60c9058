"""Queue Lab's hand-written RabbitMQ consumer (pika). Run it with `python -m consumer`."""
