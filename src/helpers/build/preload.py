"""What the build's fork server imports once, before it forks the pool's workers.

The local pool starts its workers with multiprocessing's "forkserver" method and this module
as the server's preload (:class:`helpers.build.pool._Pool`): the server imports what a worker
needs (papermill, nbformat, nbconvert and the compiled page templates) and what its kernels
need (:func:`helpers.build.zygote.warm`: IPython, ipykernel, pandas, matplotlib, seaborn,
pandera, ``helpers``) once, and every worker — and, through the zygote each worker forks at
its start (:func:`helpers.build.zygote.fork`), every kernel — begins with them imported
instead of importing them again (about 1.3 s of CPU per worker and 2 s per kernel).
"""

from __future__ import annotations

import gc

from helpers.build.execute import prepare_process
from helpers.build.zygote import warm

prepare_process(quiet_logs=False)


def _worker_modules() -> None:
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    from helpers.build.batch import engine
    from helpers.report import render

    engine()
    render._exporter(render.template_name())


_worker_modules()
warm()
gc.collect()
gc.freeze()  # shared by every process forked from here, never scanned by their collections
