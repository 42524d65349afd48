"""Voice messages, from the beep to the agents' queue: recording one (record.py), its words for
people (words.py), its search document (search.py) and telling the team (notify.py). The domain's:
nothing here imports Flask or a channel; the phone (ivr/voice/, ivr/flows/voicemail.py), the
worker and the agents' desk use it."""
