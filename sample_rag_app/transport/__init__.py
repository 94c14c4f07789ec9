"""HTTP transport: routes, middleware and error handlers around the pipeline."""
