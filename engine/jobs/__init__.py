"""Background work: jobs in the database, run by a worker loop inside `opsflow serve` or alone as
`opsflow worker`. Each kind of job has one module here holding when its jobs are scheduled and what
its handler does (registry.py lists them all); queue.py is how jobs get into the table, executor.py
claims and runs them, worker.py is the loop."""
