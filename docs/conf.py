"""Sphinx configuration of the trio-otp documentation (``make docs``).

The build is strict (``-W --keep-going -n``, see the Makefile and
``tests/test_docs.py``): a warning, an unresolved cross-reference included,
fails it. The pages are Markdown (MyST); the API reference is generated from
the docstrings, which are reStructuredText.
"""

import os
import sys

# The packages are imported from this checkout, whether or not it is installed.
sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

import otp  # noqa: E402  (after the path is set)

project = "trio-otp"
author = "the trio-otp authors"
copyright = "the trio-otp authors, MIT licence"
release = otp.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings' Google-style Args/Returns/Raises
    "sphinx.ext.viewcode",
    "myst_parser",
    "public_api",  # docs/_ext/public_api.py: each public name documented once, references by identity
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # so pages can link to one another's sections by title

html_theme = "furo"
html_title = f"trio-otp {release}"

# The public modules: one page each in api/, named after the module
# (tests/test_docs.py checks they are the modules tests/test_exports.py holds
# to their __all__). public_api.py documents each name once, in the deepest
# of these modules that exports it.
_API = os.path.join(os.path.dirname(__file__), "api")
public_modules = sorted(name.removesuffix(".rst") for name in os.listdir(_API) if name.endswith(".rst"))

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# A build must not need the network, so there is no intersphinx: names from
# the standard library and the dependencies stay unlinked, and nitpicky mode
# must not count them as broken references. Ours must each name something
# (docs/_ext/public_api.py links them, or leaves a private helper as text).
_OTHERS = sorted(sys.stdlib_module_names) + [
    "trio", "attrs", "attr", "h11", "wsproto", "orjson", "markupsafe", "itsdangerous", "hiredis",
    "prometheus_client", "selectolax", "cloudpickle", "pytest", "sortedcontainers",
]
nitpick_ignore_regex = [(r"py:.*", rf"({'|'.join(_OTHERS)})(\..+)?")]
