"""``python -m canvasfill.cli``: the ``canvasfill`` script, where it is not installed."""

from canvasfill.cli import main

main()
