"""A second program that calls the jobs by name: it knows a queue, a task's name and its arguments
(or the raw path's message), and nothing of the code that runs them."""
