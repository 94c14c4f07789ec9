"""`lab drill`: break the app on purpose and time its alert from fault to notification.

- `runner`: the drills and the timed run of one;
- `command`: the subcommand.
"""
