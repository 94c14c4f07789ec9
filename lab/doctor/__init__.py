"""`lab doctor`: what a learner's machine needs to run the lab, each finding with its fix.

The checks (`checks.py`) read the machine through `Machine` (`machine.py`): the Docker
engine, compose, the host's ports, disk and clock. Nothing here starts or changes anything.
"""
