"""The developer commands of the `covet` CLI besides `run`: `routes`, `shell` and `new`, and
the app's own commands (`@app.cli.command()`, app_commands.py).

Each command lives in its own module with an `add_parser` (its arguments) and a `main` (what it
does), so `covet.cli` only wires them up and a command's imports cost nothing until it is used.
"""
