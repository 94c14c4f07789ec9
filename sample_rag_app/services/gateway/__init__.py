"""The lab's front door: one published port in front of every replica of the app."""
