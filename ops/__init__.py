"""The scripts that start things: `make run`'s checks (preflight), the restart wrapper
(keep_running), compose's token writer (make_token), and the real-process stack that the tests and
the bench both bring up (stack)."""
