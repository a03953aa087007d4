"""``python -m diffcli``: the same command line as the ``diffcli`` script."""

from diffcli.cli import main

if __name__ == "__main__":
    main(prog_name="diffcli")
