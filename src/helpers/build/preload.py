"""What the build's fork server imports once, before it forks the pool's workers.

The local pool starts its workers with multiprocessing's "forkserver" method and this module
as the server's preload (:class:`helpers.build.pool._Pool`): the server imports what a worker
needs (papermill, nbformat, nbconvert and the compiled page templates) and what its kernels
need (:func:`helpers.build.zygote.warm`: IPython, ipykernel, pandas, matplotlib, seaborn,
pandera, ``helpers``) once, and every worker — and, through the zygote each worker forks at
its start (:func:`helpers.build.zygote.fork`), every kernel — begins with them imported
instead of importing them again (about 1.3 s of CPU per worker and 2 s per kernel).

It also renders a one-cell notebook (:func:`warm_render`): a page's first rendering in a process
compiles nbconvert's templates, the page templates and soupsieve's selectors (about 0.28 s of
CPU), which every worker would otherwise pay for its first chapter.

A failure here must not take the fork server down (multiprocessing ignores only an
ImportError of a preload): it is printed, and the workers import what they need themselves,
failing their chapters with the error where it really is.
"""

from __future__ import annotations


def warm_render() -> None:
    """Render a one-cell notebook as a chapter page, so that what a first rendering compiles
    (nbconvert's and the page's Jinja templates, soupsieve's selectors) is compiled here."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from helpers.report import render

    output = new_output("display_data", data={"text/html": "<p>预热</p>", "text/plain": ""})
    nb = new_notebook(
        cells=[new_markdown_cell("# 预热\n\n正文"), new_code_cell("", outputs=[output])]
    )
    render.render_chapter(nb, title="预热")


def _preload() -> None:
    import gc

    from helpers.build.execute import prepare_process

    prepare_process(quiet_logs=False)  # first: it keeps jsonschema from building a grammar

    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    from helpers.build.batch import engine
    from helpers.build.zygote import warm
    from helpers.report import render

    engine()
    render._exporter(render.template_name())
    warm()
    warm_render()  # last: should it fail, the kernels' modules are imported all the same
    gc.collect()
    gc.freeze()  # shared by every process forked from here, never scanned by their collections


try:
    _preload()
except Exception:
    import traceback

    traceback.print_exc()
