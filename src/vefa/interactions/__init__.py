"""The contact history (every touch point) and activities: tasks, calls, meetings, time."""
