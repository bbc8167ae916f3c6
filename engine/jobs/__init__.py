"""Background work: jobs in the database, run by a worker loop inside `opsflow serve` or alone as
`opsflow worker`."""
