"""What every chart process needs loaded, imported once by the forkserver the chart processes are forked from.

Nothing here may fail the server: a module that cannot be imported is imported again (and its error reported) by
the chart that needs it, and the warm-up drawing is only a head start.
"""

import contextlib

with contextlib.suppress(Exception):
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401
    import pandas  # noqa: F401
    import seaborn  # noqa: F401
    from sklearn.decomposition import PCA  # noqa: F401

    from . import draw_charts  # noqa: F401
    from .style import chart_style, new_figure, to_png

    with chart_style():  # the fonts and the Agg canvas, ready for the first chart
        figure = new_figure(1.0, 0.6)
        figure.add_subplot().set_title("warm-up")
        to_png(figure)
