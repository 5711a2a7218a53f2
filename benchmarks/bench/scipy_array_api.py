"""Turn scipy's array-API support on, before scipy is first imported.

scikit-learn refuses ``config_context(array_api_dispatch=True)`` unless the
environment has ``SCIPY_ARRAY_API=1``, and scipy reads that variable once,
when it is first imported. ``benchmarks/gpu.py`` imports this module before
anything that imports scipy. A value already in the environment is kept
(``SCIPY_ARRAY_API=0`` makes the array-API fit fail, and the table says why).
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
