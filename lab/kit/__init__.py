"""The shared kit every feature of `lab` builds on: where the services are (`settings`),
their clients (`clients`, `context`), waiting (`polling`), printing figures (`formatting`),
statistics (`confidence`), exit codes, the checkout and its lab-owned files.

Nothing here knows a feature: the kit imports only `lab.spec`, and every feature package
(`lab.check`, `lab.baseline`, `lab.drill`, ...) imports the kit, never the other way.
"""
