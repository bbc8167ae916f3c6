"""opsflow's engine: deploy BPMN, run instances, route user tasks. Knows nothing of HTTP."""
