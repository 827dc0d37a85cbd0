"""Run the built Lambdas on this machine: moto, a Function URL emulator, the artifact runner.

``sentiment-pipeline serve`` (:mod:`.serve`) builds the pipeline's Lambdas and
starts a :class:`~.stack.Stack`: a moto server on 127.0.0.1 with the table,
topic and secrets; each *built artifact* in its own isolated interpreter
(:mod:`.runner`); the dashboard on a local Function URL (:mod:`.functionurl`);
SNS delivered to the analysis (:mod:`.delivery`), the schedule's ingestions
(:mod:`.schedule`), the table kept across restarts (:mod:`.snapshots`).
Any other manifest's Lambdas are served by themselves (:mod:`.functions`), each
Function URL on its own port; ``serve --watch`` rebuilds and swaps a changed
Lambda (:mod:`.watch`, :mod:`.reload`, :mod:`.swap`, :mod:`.relink`).
This package is build-side: Lambda artifacts never carry it.
"""
