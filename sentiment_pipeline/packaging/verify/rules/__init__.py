"""The verifier's rule families: each module checks one kind of fact and reports into
:class:`~sentiment_pipeline.packaging.verify.findings.Findings`.

- :mod:`.listing`: what names and sizes alone show (unsafe paths, size limits,
  bytecode for another Python);
- :mod:`.extensions`: extension modules' file names (platform, architecture, ABI);
- :mod:`.wheeltags`: installed distributions' wheel tags and where a layer put them;
- :mod:`.records`: every file in ``RECORD`` present and unchanged;
- :mod:`.binaries`: native files' format, architecture, glibc and libraries;
- :mod:`.shadowing`: one distribution at two versions on Lambda's import path.
"""
