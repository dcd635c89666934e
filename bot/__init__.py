"""Application wiring: settings, storage, the CLI, the console and the Telegram bot."""
