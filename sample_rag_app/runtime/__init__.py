"""The small runtime kit the app and the services beside it share: JSON logging, request
bodies read within a limit, the correlation header.

It imports nothing of the app or of a service, so each service depends on it alone.
"""
