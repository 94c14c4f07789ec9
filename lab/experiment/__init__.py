"""`lab experiment`: the course's before/after, measured instead of remembered.

The same seeded traffic and fault profile run twice against one app, resilience off
then on (switched through the admin API, no restart), and each arm is recorded like a
baseline. `profiles` names the conditions, `traffic` the questions and arrivals,
`runner` drives a `Target` on a `Clock` (the live lab on the wall clock, or the app
in-process on a virtual clock), `report` turns the arms into JSON, Markdown and a PNG
with the verdict on the course's target (< 0.1 % errors); `command` is the subcommand.
"""
