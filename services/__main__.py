"""``python -m hotline``: the console script, for processes that start their own kind."""

from hotline.cli.main import main

main()
