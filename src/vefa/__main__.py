"""``python -m vefa`` runs the ``vefa`` command."""

from vefa.cli import main

if __name__ == "__main__":
    main()
