"""Plans as a feature (issue 5): run lifecycle, limits, live context as the user, and the SSE stream.

The pure pieces (prompts, redaction, rendering, the model client) live in ``app.plans.core``;
this package ties them to the database, the access policy and the cluster gateway.
"""
