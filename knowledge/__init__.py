"""The knowledge base and the answer engine: plain, synchronous, no I/O of Telegram."""
