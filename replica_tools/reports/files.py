"""Atomic output files and JSON encoding for results.

A run writes every file of its output folder to a temporary name in that folder first, and
renames them into place only after all of them were written, so a failed run leaves no partial
file behind.
"""

import json
import logging
import math
import os
import secrets
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def write_atomic(path, data):
    """Write ``data`` (str or bytes) to ``path`` through a temporary file and ``os.replace``.

    Readers see either the old file or the complete new one. The temporary file is removed if
    writing fails or an exception such as ``KeyboardInterrupt`` interrupts it.
    """
    path = Path(path)
    pending = {}
    try:
        temporary = _write_temporary(path, data, on_create=lambda candidate: pending.update(path=candidate))
        os.replace(temporary, path)
    except BaseException:
        if "path" in pending:
            _remove_quietly(pending["path"])
        raise


def _write_temporary(path, data, on_create=None):
    """Write ``data`` to a new hidden file beside ``path`` and return the file's path.

    ``on_create(temporary)``, if given, is called with the file's path just before the file is
    created, and again with a new path if that name is taken. A caller that records the last
    path can remove the file after an exception that arrives before this function returns,
    for example one raised by a signal handler.

    The file is created with mode 0o666 less the umask, like a file that ``open`` creates, so
    the final file gets the usual permissions (``tempfile.mkstemp`` would make it 0o600).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    for _ in range(100):
        # The prefix is cut so that a name near the file system's limit (255 bytes) still has
        # room for the 15 bytes added here.
        temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(4)}.tmp")
        if on_create is not None:
            on_create(temporary)
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"could not create a unique temporary file beside {path}")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        _remove_quietly(temporary)
        raise
    return temporary


def _remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class OutputFolder:
    """A folder that receives a set of files all at once, or none of them.

    Use as a context manager. ``add(name, data)`` writes a temporary file at once. On a normal
    exit the temporary files are renamed to their names. On an exception they are removed, and
    so are the folder and its parent folders that this object created. Files that were already
    in the folder are replaced only on a normal exit.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.created = []
        self._staged = {}

    def __enter__(self):
        missing = []
        folder = self.path.absolute()
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self.created.append(folder)
        except BaseException:
            self._discard()
            raise
        return self

    def add(self, name, data):
        """Stage ``data`` (str or bytes) under the file name ``name`` inside the folder."""
        if name in self._staged:
            raise ValueError(f"file name {name!r} was added twice to {self.path}")
        # The path is staged before the file exists, so that an exception raised by a signal
        # handler (Ctrl-C, or SIGTERM in the CLI) at any point leaves nothing for _discard to miss.

        def stage(temporary):
            self._staged[name] = temporary

        _write_temporary(self.path / name, data, on_create=stage)

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self._commit()
        else:
            self._discard()
        return False

    def _commit(self):
        # A rename that fails midway leaves some files renamed. The new ones among them are
        # removed again. A file that replaced an older one stays, because the older one is gone.
        added = []
        try:
            for name in list(self._staged):
                target = self.path / name
                existed = target.exists()
                os.replace(self._staged[name], target)
                del self._staged[name]
                if not existed:
                    added.append(target)
        except BaseException:
            for target in added:
                _remove_quietly(target)
            self._discard()
            raise

    def _discard(self):
        for temporary in self._staged.values():
            _remove_quietly(temporary)
        self._staged.clear()
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError as error:
                logger.warning("could not remove the output folder %s: %s", folder, error)
                break
        self.created.clear()


def to_jsonable(value):
    """Convert NumPy arrays and scalars to lists and floats, and NaN or infinities to None.

    JSON has no NaN, so a missing number (for example the GAMP mean at an alpha where every
    seed diverged) becomes ``null``.
    """
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps_json(value):
    """Encode ``value`` as indented JSON, after ``to_jsonable``, with a final newline."""
    return json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n"
