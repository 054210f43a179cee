"""Build: plan (content hashes), execute chapter notebooks (papermill, warm kernels), write
pages atomically, manifest and PDF."""
