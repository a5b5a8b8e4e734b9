"""``python -m botrygt_eval.cli``: the same as the ``botrygt-eval`` command."""

from botrygt_eval.cli import main

main()
