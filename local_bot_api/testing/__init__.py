"""What tests call on a LocalBotApi, by what they do.

- pushing.py: send the bot updates as a user would (push_message, push_callback_query ...).
- recorder.py: every call the bot made, and waiting for one (calls, wait_for, wait_for_async ...).
- controls.py: make calls fail, block users, set chat members, read back chats and webhooks.
"""
