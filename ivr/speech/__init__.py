"""Speech: turning what callers say into menu choices and numbers."""
