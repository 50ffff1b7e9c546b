"""Letters out by e-mail: `casebook send` (SPEC 9).

`route` decides which addresses a letter goes between, or why it cannot go as a message at
all; `message` builds the message, byte for byte the same for the same letter and day; `smtp`
reads the server's URL and submits the message. None of them reads the clock, the environment
or a case file: the command in `casebook.cli.send` passes them what they need.
"""
