"""Plans for K8sGPT findings: prompts, live context, redaction, the model client and rendering.

Nothing here imports Flask; the plans blueprint wires these pieces to requests and SSE.
"""
