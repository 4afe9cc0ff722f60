"""Notebook grading. Where each part runs, and which module holds it:

The web side (requests; never touches Docker)
    views.py, urls.py, templates/   assignment page, upload, in-browser editor, feedback, hints
    services.py / selectors.py      submissions, runs, grader versions, regrades / the pages' reads
    rules.py                        the submission rules a learner sees (attempts, cooldown, pass mark)
    notebooks.py                    validating and storing an uploaded notebook (before a submission exists)
    rendering.py                    notebooks as HTML for learners
    spec.py, importers/, pack.py    what a grader is (TestSpec, AssignmentBundle) and where it comes from
    api.py                          the door other apps use

The worker side (Celery, queue "grading")
    tasks.py                        thin tasks: grade, regrade, publish (self-check), sweeps
    runner.py                       one warm pool per worker process; takes a container, runs the pipeline
    pipeline.py                     grading one notebook: the learner phase, then the hidden phase

Inside the sandbox container (the learner's notebook; untrusted)
    sandbox/                        container launch, limits and the kernel protocol (driver.py: where
                                    containers run; session.py: one container and its kernel)
    compat.py                       the Otter shim injected into the learner's kernel (feedback only)

In the worker process, outside the container (trusted; staff-written tests)
    engine.py                       runs a test here against the learner's kernel, with plain data only,
                                    guarded arrays and bounded memory and CPU (ADR 0001)
"""
