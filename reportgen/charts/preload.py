"""What every chart process needs loaded, imported once by the forkserver the chart processes fork from."""

import matplotlib.backends.backend_agg
import matplotlib.figure  # noqa: F401
import pandas  # noqa: F401
import seaborn  # noqa: F401
from sklearn.decomposition import PCA  # noqa: F401

from . import draw_charts  # noqa: F401
from .style import chart_style, new_figure, to_png

with chart_style():  # the fonts and the Agg canvas, ready for the first chart
    _figure = new_figure(1.0, 0.6)
    _figure.add_subplot().set_title("warm-up")
    to_png(_figure)
