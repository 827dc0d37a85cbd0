"""The exact PyPI files the corpus is built from: name and the sha256 PyPI publishes.

About 176 MB in all, downloaded once per machine (see :mod:`tests.support.pypi_wheels`).
"""

from __future__ import annotations

from tests.support.pypi_wheels import PinnedWheel

__all__ = ["PINNED", "wheel"]

PINNED: dict[str, PinnedWheel] = {
    w.filename: w
    for w in (
        PinnedWheel(
            "annotated_types-0.8.0-py3-none-any.whl",
            "f072f4d804ea359e4eaf198b1af7a8b0943881a87f31bb764f8bf219bb9419e0",
        ),
        PinnedWheel(
            "certifi-2024.8.30-py3-none-any.whl",
            "922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8",
        ),
        PinnedWheel(
            "cffi-1.17.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "610faea79c43e44c71e1ec53a554553fa22321b65fae24889706c0a84d4ad86d",
        ),
        PinnedWheel(
            "charset_normalizer-3.4.0-py3-none-any.whl",
            "fe9f97feb71aa9896b81973a7bbada8c49501dc73e58a10fcef6663af95e5079",
        ),
        PinnedWheel(
            "cryptography-43.0.3-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "0f996e7268af62598f2fc1204afa98a3b5712313a55c4c9d434aef49cadc91d4",
        ),
        PinnedWheel(
            "cryptography-43.0.3-cp39-abi3-manylinux_2_28_x86_64.whl",
            "c2e6fc39c4ab499049df3bdf567f768a723a5e8464816e8f009f121a5a9f4405",
        ),
        PinnedWheel(
            "idna-3.10-py3-none-any.whl",
            "946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3",
        ),
        PinnedWheel(
            "numpy-1.26.4-cp311-cp311-macosx_11_0_arm64.whl",
            "edd8b5fe47dab091176d21bb6de568acdd906d1887a4584a15a9a96a1dca06ef",
        ),
        PinnedWheel(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "7ab55401287bfec946ced39700c053796e7cc0e3acbef09993a9ad2adba6ca6e",
        ),
        PinnedWheel(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "666dbfb6ec68962c033a450943ded891bed2d54e6755e35e5835d63f4f6931d5",
        ),
        PinnedWheel(
            "opencv_python-4.10.0.84-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "9ace140fc6d647fbe1c692bcb2abce768973491222c067c131d80957c595b71f",
        ),
        PinnedWheel(
            "opencv_python_headless-4.10.0.84-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "377d08a7e48a1405b5e84afcbe4798464ce7ee17081c1c23619c8b398ff18295",
        ),
        PinnedWheel(
            "psycopg-3.2.3-py3-none-any.whl",
            "644d3973fe26908c73d4be746074f6e5224b03c1101d302d9a53bf565ad64907",
        ),
        PinnedWheel(
            "psycopg_binary-3.2.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "7d784f614e4d53050cbe8abf2ae9d1aaacf8ed31ce57b42ce3bf2a48a66c3a5c",
        ),
        PinnedWheel(
            "pycparser-2.22-py3-none-any.whl",
            "c3702b6d3dd8c7abc1afa565d7e63d53a1d0bd86cdc24edd75470f4de499cfcc",
        ),
        PinnedWheel(
            "pydantic-2.12.4-py3-none-any.whl",
            "92d3d202a745d46f9be6df459ac5a064fdaa3c1c4cd8adcfa332ccf3c05f871e",
        ),
        PinnedWheel(
            "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "378bec5c66998815d224c9ca994f1e14c0c21cb95d2f52b6021cc0b2a58f2a5a",
        ),
        PinnedWheel(
            "pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "f31d95a179f8d64d90f6831d71fa93290893a33148d890ba15de25642c5d075b",
        ),
        PinnedWheel(
            "pydantic_core-2.41.5-cp311-cp311-musllinux_1_1_x86_64.whl",
            "c9e19dd6e28fdcaa5a1de679aec4141f691023916427ef9bae8584f9c2fb3b0e",
        ),
        PinnedWheel(
            "pydantic_core-2.41.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "eceb81a8d74f9267ef4081e246ffd6d129da5d87e37a77c9bde550cb04870c1c",
        ),
        PinnedWheel(
            "requests-2.31.0-py3-none-any.whl",
            "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
        ),
        PinnedWheel(
            "requests-2.32.3-py3-none-any.whl",
            "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
        ),
        PinnedWheel(
            "typing_extensions-4.16.0-py3-none-any.whl",
            "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8",
        ),
        PinnedWheel(
            "typing_inspection-0.4.5-py3-none-any.whl",
            "bc210535442b39e1bf2805e0c7a17dfd6a4ace760c84c7f7d16245d23a6b1c39",
        ),
        PinnedWheel(
            "urllib3-2.2.3-py3-none-any.whl",
            "ca899ca043dcb1bafa3e262d73aa25c465bfb49e0bd9dd5d59f1d0acba2f8fac",
        ),
    )
}


def wheel(prefix: str) -> PinnedWheel:
    """The one pinned wheel whose file name starts with ``prefix``."""
    found = [w for name, w in PINNED.items() if name.startswith(prefix)]
    if len(found) != 1:
        raise KeyError(f"{prefix!r} names {len(found)} pinned wheels, not one")
    return found[0]
