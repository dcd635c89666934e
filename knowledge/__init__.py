"""The knowledge base and the answer engine: plain, synchronous, no I/O of Telegram."""
import os

# One BLAS thread: the engine's products are small (one question against the index), and on a busy 2-core
# server two OpenBLAS threads wait on each other: at 100,000 entries a question took 4x longer under load.
# Must be set before numpy loads (the engine is what loads it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
