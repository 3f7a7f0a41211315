"""PyInstaller runtime hook: runs in the packaged app before any app code.

matplotlib is left out of the bundle (packaging/bundle_data.py). mediapipe's `vision` package imports
`matplotlib.pyplot` at import time for its landmark-plotting helper, which the trainer never calls. This
hook answers that one import with a module that raises a clear error if anything does try to plot, instead
of carrying matplotlib, Pillow and fontTools (about 85 MB installed) for nothing. Any other matplotlib
import still fails as usual.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class _PlotUnavailable(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ModuleNotFoundError(
            f"matplotlib.pyplot.{name}: plotting is not part of the packaged trainer "
            "(matplotlib is left out of the bundle; see packaging/bundle_data.py)")


class _PyplotFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    NAMES = ("matplotlib", "matplotlib.pyplot")

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.NAMES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=(fullname == "matplotlib"))
        return None

    def create_module(self, spec):
        module = _PlotUnavailable(spec.name)
        if spec.name == "matplotlib":
            module.__path__ = []
        return module

    def exec_module(self, module):
        pass


# Appended, so a real matplotlib (should one ever be bundled) still wins.
sys.meta_path.append(_PyplotFinder())
