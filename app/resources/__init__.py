"""Resource tables and detail views: cells per kind, paging over the API, safe YAML.

Nothing here imports Flask: the views (app.blueprints.resources) and the per-app row cache
(app.web.current) tie it to requests.
"""
