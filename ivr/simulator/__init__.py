"""A local call simulator that plays whole calls against the app as Twilio would."""
