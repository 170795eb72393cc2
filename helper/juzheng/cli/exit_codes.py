"""Exit codes of every ``juzheng`` command: one meaning each, so scripts can branch on them."""

from __future__ import annotations

OK = 0
FAILED = 1  # the command ran and found a problem: rule files with errors, an undo that could not put every file back
USAGE = 2  # bad input: an unknown option, ID or time (argparse uses 2 as well)
ALREADY_RUNNING = 3  # juzheng serve: another helper already uses this state directory
NO_SECRET_STORE = 4  # no OS keyring for the pairing secret (and no --insecure-file-secret)
PORT_TAKEN = 5  # juzheng serve: the port is in use by another program
NOT_RUNNING = 6  # juzheng pair: no helper runs on this state directory
STATE_DIR = 7  # juzheng serve: the state directory cannot be written (read-only, full, not a folder)
NO_OCR = 8  # juzheng read: the optional image reading (pip extra "ocr") is not installed
