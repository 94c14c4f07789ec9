"""The stack's services beside the app, in the same runtime image: the alert sink
Alertmanager delivers to, the load generator. (In front of the replicas is HAProxy, the
compose service `gateway`, configured by `lab generate`: haproxy/haproxy.cfg.)

Each imports only itself and `sample_rag_app.runtime`, never the app's pipeline,
transport or telemetry, and never the `lab` toolkit that inspects them.
"""
