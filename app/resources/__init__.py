"""Resource tables and detail views: cells per kind, paging over the API, safe YAML."""
