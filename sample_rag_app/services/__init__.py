"""The stack's services beside the app, in the same runtime image: the gateway in front of
the app's replicas, the alert sink Alertmanager delivers to, the load generator.

Each imports only itself and `sample_rag_app.runtime`, never the app's pipeline,
transport or telemetry, and never the `lab` toolkit that inspects them.
"""
