"""The split writers: a split's digest, computed beside the writes."""

from __future__ import annotations

import hashlib
import random
import threading
from pathlib import Path

from exports.formats.spec import ExportSpec
from exports.formats.writers import _DIGEST_BATCH, SplitWriter, _BackgroundDigest


def _digest_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("export-digest")]


def test_a_splits_digest_is_the_sha256_of_its_bytes_in_order_however_they_arrive() -> None:
    # given pieces from one byte to more than a batch, several batches' worth in all
    rng = random.Random(7)
    pieces = [rng.randbytes(rng.choice([1, 100, 3000, 70_000, _DIGEST_BATCH + 5])) for _ in range(60)]
    assert sum(map(len, pieces)) > 5 * _DIGEST_BATCH
    # when they are hashed in the background
    digest = _BackgroundDigest()
    for piece in pieces:
        digest.update(piece)
    # then the digest is that of the bytes in order, and no hashing thread is left
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert _digest_threads() == []


def test_an_aborted_split_leaves_no_hashing_thread_and_no_file(tmp_path: Path) -> None:
    # given a split writer that has written several batches' worth of rows
    writer = SplitWriter(str(tmp_path), "train", ExportSpec(format="reward", files=("jsonl",), shard_rows=1000))
    line = b'{"prompt":"' + b"x" * 5000 + b'"}\n'
    for _ in range(3):
        writer.write_lines(line * 1000, 1000)
    assert _digest_threads()
    # when the export fails and aborts it, then its thread is stopped and its temporary files removed
    writer.abort()
    assert _digest_threads() == []
    assert list((tmp_path / "data").iterdir()) == []
