"""The build side: everything that turns a manifest into verified Lambda artifacts.

Never shipped inside a Lambda (this repository's ``lambdas.toml`` excludes it), and
never imported by the pipeline's runtime modules.
"""
