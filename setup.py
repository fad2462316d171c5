"""Build the optional C accelerator of the XES scanner (metadata lives in pyproject.toml).

``optional=True``: without a C compiler the install still succeeds and
``safar.journeys.xes_scan`` runs its numpy version of the same loops.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "safar.journeys._xesfast",
            ["src/safar/journeys/_xesfast.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
            optional=True,
        )
    ]
)
